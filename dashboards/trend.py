"""Trend page: one indicator over time for chosen regions, with its targets, path, projection and sources.

The view is a function of the query string (indicator, regions, start, end, vintages, lang); the controls
write their state back into the URL, so a copied link reproduces the view.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboards._common import (
    GRAPH_CONFIG,
    current,
    dropdown_labels,
    empty_state,
    export_links,
    nav_href,
    page_frame,
    query_int,
    query_value,
    split_param,
    sync_url,
)
from dashboards._metadata_link import metadata_link
from dashboards._phone import is_phone, register, screen_store, tap_panel
from dashboards._status import flag_mark, status_badge
from indicators import figures, progress, views
from indicators.i18n import fmt_number, fmt_value, normalise_lang, t

dash.register_page(__name__, path="/trend", order=1, nav_key="nav.trend", title="趋势 Trend")

PAGE = "trend"
SOURCE_COLUMNS = ("region", "year", "value", "flags", "citation", "source", "confidence")  # the source table's


def default_indicator(catalog) -> str:
    if catalog.programme.headline_indicator:
        return catalog.programme.headline_indicator
    for ind in catalog.ordered_indicators():
        if any(tg.qualifier not in ("qualitative", "none") for tg in ind.targets):
            return ind.code
    return next(iter(catalog.indicators))


def indicator_options(catalog, lang: str) -> list[dict]:
    options = []
    for pillar in catalog.programme.pillars:
        for ind in catalog.indicators.values():
            if ind.pillar == pillar.code and ind.kind != "qualitative":
                options.append({"label": f"{pillar.name.pick(lang)} · {ind.short_name.pick(lang)}", "value": ind.code})
    return options


def layout(indicator: str | None = None, regions: str | None = None, years: str | None = None,
           vintages: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    indicator, vintages = query_value(indicator), query_value(vintages)
    snap = current()
    catalog = snap.catalog
    home = catalog.programme.home_region
    if indicator not in catalog.indicators or catalog.indicators[indicator].kind == "qualitative":
        indicator = default_indicator(catalog)
    chosen = [r for r in split_param(regions) if r in set(snap.regions["code"])] or [home]
    bounds = views.year_bounds(snap, indicator)
    wanted = (query_value(years) or "").split(",")  # positions count: 'start,end'; one too long means nothing
    start_year = query_int(wanted[0] if wanted else None) or bounds[0]
    end_year = query_int(wanted[1] if len(wanted) > 1 else None) or bounds[1]
    # inside the slider's range and in order, whatever the address says (2100,1000 is the whole range)
    start_year, end_year = sorted(min(max(y, bounds[0]), bounds[1]) for y in (start_year, end_year))
    return page_frame(
        PAGE, lang, t("trend.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.indicator", lang), html_for=f"{PAGE}-indicator"),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-indicator", options=indicator_options(catalog, lang), value=indicator,
                                  clearable=False)], md=5),
            dbc.Col([dbc.Label(t("common.regions", lang), html_for=f"{PAGE}-regions"),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-regions", options=_region_options(snap, indicator, lang), value=chosen,
                                  multi=True)], md=4),
            dbc.Col([dbc.Label(t("common.years", lang)),
                     dcc.RangeSlider(id=f"{PAGE}-years", min=bounds[0], max=bounds[1], step=1,
                                     value=[start_year, end_year],
                                     marks=None, tooltip={"placement": "bottom", "always_visible": True},
                                     allowCross=False)], md=3, className="mb-4 mb-md-0"),
        ], className="g-3 mb-3"),
        dbc.Checklist(id=f"{PAGE}-vintages", options=[{"label": t("common.show_vintages", lang), "value": "1"}],
                      value=["1"] if vintages == "1" else [], switch=True, className="mb-2"),
        html.Div([html.H2(id=f"{PAGE}-title", className="h5 mb-0 me-2"),
                  html.Div(metadata(indicator, lang), id=f"{PAGE}-metadata", className="small")],
                 className="d-flex flex-wrap align-items-baseline mt-2 mb-1"),
        html.Div(id=f"{PAGE}-export-links"),
        screen_store(PAGE),
        dcc.Loading(dcc.Graph(id=f"{PAGE}-graph", config=GRAPH_CONFIG, className="im-chart-trend"), type="dot"),
        tap_panel(f"{PAGE}-graph", lang),
        dbc.Row([
            dbc.Col(html.Div(id=f"{PAGE}-why", className="im-panel im-why"), lg=5),
            dbc.Col(html.Div(id=f"{PAGE}-sources", className="im-panel"), lg=7),
        ], className="g-3 mt-1"),
    )


def _region_options(snap, indicator: str, lang: str) -> list[dict]:
    home = snap.catalog.programme.home_region
    codes = [home] + [r for r in snap.regions_with_data(indicator) if r != home]
    return [{"label": snap.region_name(c, lang), "value": c} for c in codes]


@callback(Output(f"{PAGE}-regions", "options"), Input(f"{PAGE}-indicator", "value"), State(f"{PAGE}-lang", "data"))
def region_options(indicator: str, lang: str):
    return _region_options(current(), indicator, lang)


@callback(Output(f"{PAGE}-years", "min"), Output(f"{PAGE}-years", "max"), Output(f"{PAGE}-years", "value"),
          Input(f"{PAGE}-indicator", "value"), prevent_initial_call=True)
def year_bounds(indicator: str):
    lo, hi = views.year_bounds(current(), indicator)
    return lo, hi, [lo, hi]


@callback(
    Output(f"{PAGE}-graph", "figure"),
    Output(f"{PAGE}-why", "children"),
    Output(f"{PAGE}-sources", "children"),
    Output(f"{PAGE}-export-links", "children"),
    Output(f"{PAGE}-title", "children"),
    Input(f"{PAGE}-indicator", "value"),
    Input(f"{PAGE}-regions", "value"),
    Input(f"{PAGE}-years", "value"),
    Input(f"{PAGE}-vintages", "value"),
    Input(f"{PAGE}-screen", "data"),
    State(f"{PAGE}-lang", "data"),
)
def update(indicator: str, regions: list[str] | None, years: list[int] | None, vintages: list[str] | None,
           screen: str | None, lang: str):
    lang = normalise_lang(lang)
    snap = current()
    links = export_links("trend", lang, indicator=indicator, regions=",".join(regions or []) or None,
                         years=",".join(str(y) for y in years) if years else None,
                         vintages="1" if vintages else None, citation=views.view_citation(snap, indicator, lang))
    view, why, sources = _render(snap, indicator, regions or [], years, bool(vintages), lang)
    # the figure goes out as the plain dict it was built as (no plotly objects on the way); the page shows the
    # title as a heading, which wraps on phones
    layout = dict(view.spec["layout"])
    title, layout["title"] = layout["title"]["text"], {}
    layout["margin"] = {**layout["margin"], "t": 20}
    fig = {**view.spec, "layout": layout}
    if is_phone(screen):
        fig = figures.for_phone(go.Figure(fig))
    return fig, why, sources, links, title


def render(snap, indicator: str, regions: list[str], years, show_vintages: bool, lang: str):
    """The figure, the status explanation and the source table (a plain function: tested directly)."""
    view, why, sources = _render(snap, indicator, regions, years, show_vintages, lang)
    return view.figure, why, sources


def _render(snap, indicator: str, regions: list[str], years, show_vintages: bool, lang: str):
    ind = snap.catalog.indicators[indicator]
    home = snap.catalog.programme.home_region
    view = views.trend_view(snap, indicator, lang=lang, regions=regions, years=years, vintages=show_vintages)
    unit = snap.catalog.units[ind.unit]
    show_targets = home in (regions or [home])
    # the explanation depends only on the indicator, the language and whether the home region is shown
    why = snap.memo((PAGE, "why", indicator, lang, show_targets), lambda: _why(view.assessment, lang, show_targets))
    return view, why, _sources(view.series, snap, ind, unit, lang)


def _why(rows: pd.DataFrame, lang: str, show_targets: bool):
    title = html.H2(t("trend.why", lang), className="h6")
    if rows.empty or not show_targets:
        return [title, html.P(t("overview.no_target", lang), className="text-muted mb-0")]
    blocks = [title]
    for _, row in rows.iterrows():
        heading = [status_badge(row["status"], lang, row, id=f"{PAGE}-status-{len(blocks)}")]
        if pd.notna(row.get("milestone_year")):
            heading.append(html.Span(f" {t('common.milestone', lang)} {int(row['milestone_year'])}", className="ms-2"))
        basis = progress.baseline_label(row, lang)
        if basis:
            heading.append(html.Span(f" · {t('common.baseline', lang)}: {basis}", className="ms-1 small text-muted"))
        if pd.notna(row.get("tolerance")):
            heading.append(html.Span(f" · {t('common.tolerance', lang)} ±{fmt_number(float(row['tolerance']))}",
                                     className="ms-1 small text-muted"))
        blocks.append(html.Div(heading, className="mb-1"))
        blocks.append(html.Ul([html.Li(s) for s in progress.explain(row, lang)], className="small"))
    return blocks


def _sources(series: pd.DataFrame, snap, ind, unit, lang: str):
    title = html.H2(t("trend.sources", lang), className="h6")
    if series.empty:
        return [title, empty_state(t("empty.no_data", lang), link=nav_href("/upload", lang), link_text=t("nav.upload", lang))]
    heads = [t(k, lang) for k in ("common.region", "common.year", "common.value", "common.publication",
                                  "common.source", "common.confidence")]
    header = html.Thead(html.Tr([html.Th(h) for h in heads]))

    def cell(n: int, children, **kw):  # on a phone the row is a card and each cell says what it is
        return html.Td(children, **{"data-label": heads[n]}, **kw)

    # plain lists, not a frame's rows: the table is built on every change of the view
    columns = {c: series[c].tolist() for c in SOURCE_COLUMNS}
    order = sorted(range(len(series)), key=lambda i: (columns["region"][i], columns["year"][i]))
    unit_name = unit.name.pick(lang)
    body = html.Tbody([
        html.Tr([
            cell(0, snap.region_name(region, lang)), cell(1, year),
            cell(2, [fmt_value(value, ind.unit, unit_name, lang), flag_mark(flags, lang)], className="text-nowrap"),
            cell(3, citation), cell(4, source, className="im-source"),
            cell(5, t(f"confidence.{confidence}", lang)),
        ]) for region, year, value, flags, citation, source, confidence
        in ([columns[c][i] for c in SOURCE_COLUMNS] for i in order)
    ])
    return [title, html.Div(dbc.Table([header, body], size="sm", striped=True, className="mb-0 im-reflow"),
                            className="im-table-frame", style={"maxHeight": "420px"})]


@callback(Output(f"{PAGE}-metadata", "children"), Input(f"{PAGE}-indicator", "value"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def metadata(indicator: str, lang: str):
    """Beside the chart's title: the chosen indicator's definition, sources and processing; and who sponsored
    its source, where the catalog says (GIHI, the Nature Index supplements), as the metadata page does."""
    lang = normalise_lang(lang)
    link = metadata_link(indicator, lang, link_id=f"{PAGE}-metadata-link")
    ind = current().catalog.indicators.get(indicator)
    if ind is None or ind.sponsorship is None:
        return link
    return [link, html.Div(["ⓘ ", html.Strong(t("meta.sponsorship", lang) + ": "), ind.sponsorship.pick(lang)],
                           className="small text-muted mt-1", id=f"{PAGE}-sponsorship")]


register(PAGE, [f"{PAGE}-graph"])
sync_url(PAGE, [("indicator", f"{PAGE}-indicator", "value"), ("regions", f"{PAGE}-regions", "value"),
                ("years", f"{PAGE}-years", "value"), ("vintages", f"{PAGE}-vintages", "value")])
