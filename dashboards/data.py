"""Data page: the observations behind any view, with source, confidence, batch and revision history.

Filters (indicators, regions, history) live in the URL; the table filters and sorts in the browser, and the
download buttons write exactly the rows visible after those filters: CSV as UTF-8 with a byte-order mark
(so Excel opens Chinese correctly) and Excel, both with formula-like text neutralised.
"""

from __future__ import annotations

import io

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboards._common import TABLE_FONT, current, page_frame, split_param, sync_url
from dashboards._metadata_link import ICON, metadata_href
from indicators import queries, tables
from indicators.i18n import normalise_lang, t

dash.register_page(__name__, path="/data", order=4, nav_key="nav.data", title="数据 Data")

PAGE = "data"
COLUMNS = ["indicator", "indicator_name", "region", "region_name", "year", "value", "flags", "unit", "publisher",
           "publication", "published_on", "source", "confidence", "publication_id", "batch", "note"]
HISTORY_COLUMNS = ["version", "status"]


def layout(indicators: str | None = None, regions: str | None = None, history: str | None = None,
           lang: str | None = None, **_):
    lang = normalise_lang(lang)
    snap = current()
    catalog = snap.catalog
    ind_options = [{"label": f"{i.short_name.pick(lang)} ({i.code})", "value": i.code}
                   for i in catalog.indicators.values() if i.kind != "qualitative"]
    reg_options = [{"label": snap.region_name(c, lang), "value": c} for c in sorted(snap.regions["code"])]
    return page_frame(
        PAGE, lang, t("data.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.indicator", lang)),
                     dcc.Dropdown(id=f"{PAGE}-indicators", options=ind_options, multi=True,
                                  value=[c for c in split_param(indicators) if c in catalog.indicators])], md=5),
            dbc.Col([dbc.Label(t("common.regions", lang)),
                     dcc.Dropdown(id=f"{PAGE}-regions", options=reg_options, multi=True,
                                  value=split_param(regions))], md=4),
            dbc.Col([dbc.Checklist(id=f"{PAGE}-history", options=[{"label": t("data.history", lang), "value": "1"}],
                                   value=["1"] if history == "1" else [], switch=True, className="mt-4")], md=3),
        ], className="g-3 mb-2"),
        html.Div([
            dbc.Button(t("common.download_csv", lang), id=f"{PAGE}-csv", color="primary", size="sm", className="me-2"),
            dbc.Button(t("common.download_xlsx", lang), id=f"{PAGE}-xlsx", color="secondary", size="sm"),
            html.Span(id=f"{PAGE}-count", className="ms-3 small text-muted"),
            dcc.Download(id=f"{PAGE}-download"),
        ], className="mb-2"),
        html.Div(_metadata_links(catalog, [c for c in split_param(indicators) if c in catalog.indicators], lang),
                 id=f"{PAGE}-metadata", className="small mb-2"),
        dcc.Loading(dash_table.DataTable(
            id=f"{PAGE}-table", page_size=25, sort_action="native", filter_action="native",
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "whiteSpace": "normal",
                                                           "height": "auto", "maxWidth": "360px", "fontSize": "13px"},
            style_header={"fontWeight": "600", "backgroundColor": "#eef1f5"},
        ), type="dot"),
    )


def table_frame(snap, indicators: list[str], regions: list[str], history: bool, lang: str) -> pd.DataFrame:
    """The rows of the table (a plain function, used by the callback and the tests)."""
    if history:
        frame = queries.observations(snap.engine, indicator=indicators or None, region=regions or None, history=True)
    else:
        frame = snap.observations
        if indicators:
            frame = frame[frame["indicator"].isin(indicators)]
        if regions:
            frame = frame[frame["region"].isin(regions)]
    catalog = snap.catalog
    frame = frame.assign(
        indicator_name=frame["indicator"].map(lambda c: catalog.indicators[c].short_name.pick(lang)),
        region_name=frame["region"].map(lambda c: snap.region_name(c, lang)),
        unit=frame["indicator"].map(lambda c: catalog.units[catalog.indicators[c].unit].name.pick(lang)),
        confidence=frame["confidence"].map(lambda c: t(f"confidence.{c}", lang)),
        flags=frame["flags"].fillna("") if "flags" in frame else "",
    )
    # The publication cited, in the page's language (the mirror where it was read stays in ``source``);
    # with its id, so that a downloaded table uploads again unchanged.
    pubs = snap.publications.set_index("id") if len(snap.publications) else None
    for column, field in (("publisher", "publisher"), ("publication", "title")):
        names = {} if pubs is None else pubs[f"{field}_{'en' if lang == 'en' else 'zh'}"].to_dict()
        frame[column] = frame["publication_id"].map(names).astype(object).where(frame["publication_id"].notna(), "")
    return frame[COLUMNS + (HISTORY_COLUMNS if history else [])].reset_index(drop=True)


def _header(column: str, lang: str) -> str:
    names = {"indicator": "common.indicator", "region": "common.region", "year": "common.year",
             "value": "common.value", "unit": "common.unit", "source": "common.source",
             "confidence": "common.confidence", "published_on": "common.published", "batch": "common.batch",
             "note": "common.note", "status": "common.status", "flags": "common.flags",
             "publication": "common.publication", "publisher": "common.publisher"}
    if column in names:
        return t(names[column], lang) + (" (code)" if column in ("indicator", "region") else "")
    return {"indicator_name": t("common.indicator", lang), "region_name": t("common.region", lang),
            "version": "version"}.get(column, column)


@callback(Output(f"{PAGE}-table", "data"), Output(f"{PAGE}-table", "columns"), Output(f"{PAGE}-count", "children"),
          Input(f"{PAGE}-indicators", "value"), Input(f"{PAGE}-regions", "value"), Input(f"{PAGE}-history", "value"),
          State(f"{PAGE}-lang", "data"))
def update(indicators, regions, history, lang):
    lang = normalise_lang(lang)
    frame = table_frame(current(), indicators or [], regions or [], bool(history), lang)
    columns = [{"name": _header(c, lang), "id": c, "type": "numeric" if c in ("year", "value", "batch") else "text"}
               for c in frame.columns]
    return frame.to_dict("records"), columns, f"{len(frame):,} {t('common.rows', lang)}"


@callback(Output(f"{PAGE}-download", "data"), Input(f"{PAGE}-csv", "n_clicks"), Input(f"{PAGE}-xlsx", "n_clicks"),
          State(f"{PAGE}-table", "derived_virtual_data"), State(f"{PAGE}-table", "columns"), prevent_initial_call=True)
def download(_csv, _xlsx, rows, columns):
    frame = pd.DataFrame(rows or [], columns=[c["id"] for c in columns or []])
    if dash.ctx.triggered_id == f"{PAGE}-xlsx":
        return dcc.send_bytes(to_excel(frame), "innovation-monitor-data.xlsx")
    return dcc.send_bytes(to_csv(frame), "innovation-monitor-data.csv")


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, CRLF line ends as Excel writes them, formula-like cells neutralised."""
    return tables.csv_bytes(frame)


def to_excel(frame: pd.DataFrame) -> bytes:
    from indicators.tables import csv_safe

    buffer = io.BytesIO()
    csv_safe(frame).to_excel(buffer, index=False, sheet_name="observations")
    return buffer.getvalue()


def _metadata_links(catalog, codes: list[str], lang: str) -> list:
    """A metadata link for each indicator chosen (with none chosen, the table holds them all: the index)."""
    links = [dcc.Link(f"{ICON} {catalog.indicators[c].short_name.pick(lang)}", href=metadata_href(c, lang),
                      id=f"{PAGE}-metadata-{c}", className="me-3 text-nowrap") for c in codes]
    return [html.Span(t("meta.links", lang), className="text-muted me-2"),
            *(links or [dcc.Link(f"{ICON} {t('meta.all', lang)}", href=metadata_href(None, lang), id=f"{PAGE}-metadata-all")])]


@callback(Output(f"{PAGE}-metadata", "children"), Input(f"{PAGE}-indicators", "value"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def metadata(indicators, lang):
    return _metadata_links(current().catalog, indicators or [], normalise_lang(lang))


sync_url(PAGE, [("indicators", f"{PAGE}-indicators", "value"), ("regions", f"{PAGE}-regions", "value"),
                ("history", f"{PAGE}-history", "value")])
