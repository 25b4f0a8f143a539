"""Compare page: the home region against peers, in the global rankings and in the statistics.

For a ranking (GIHI, Nature Index science cities, startup ecosystems) a bump chart of rank over time and the
latest ranks; for a statistic, the series of the home region, the national average and other provinces
or cities, and the latest-year bars. Indicator and regions live in the URL.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards._common import (
    GRAPH_CONFIG,
    current,
    dropdown_labels,
    empty_state,
    export_links,
    page_frame,
    query_value,
    split_param,
    sync_url,
)
from dashboards._metadata_link import metadata_link
from dashboards._phone import is_phone, register, screen_store, tap_panel
from indicators import figures, views
from indicators.i18n import fmt_number, fmt_value, normalise_lang, t

dash.register_page(__name__, path="/compare", order=3, nav_key="nav.compare", title="对标比较 Compare")

PAGE = "compare"


def comparable(snap) -> list[str]:
    """Indicators with data for at least two regions, rankings first."""
    counts = snap.observations.groupby("indicator")["region"].nunique()
    codes = [c for c in snap.catalog.indicators if counts.get(c, 0) >= 2]
    return sorted(codes, key=lambda c: (snap.catalog.indicators[c].kind != "rank", list(snap.catalog.indicators).index(c)))


def layout(indicator: str | None = None, regions: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    indicator = query_value(indicator)
    snap = current()
    codes = comparable(snap)
    if indicator not in codes:
        indicator = codes[0] if codes else None
    options = [{"label": snap.catalog.indicators[c].short_name.pick(lang), "value": c} for c in codes]
    return page_frame(
        PAGE, lang, t("compare.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.indicator", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-indicator", options=options, value=indicator, clearable=False)], md=5),
            dbc.Col([dbc.Label(t("common.regions", lang)),
                     # none chosen: every region with data is drawn, and the box says so
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-regions", multi=True, value=_known_regions(snap, regions),
                                  placeholder=t("compare.all_regions", lang),
                                  options=_region_options(snap, indicator, lang) if indicator else [])], md=7),
        ], className="g-3 mb-3"),
        html.Div(metadata(indicator, lang), id=f"{PAGE}-metadata", className="small mb-2"),
        screen_store(PAGE),
        dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
    )


def _known_regions(snap, regions) -> list[str]:
    """The regions a query string names that exist, each once."""
    known = set(snap.regions["code"])
    return list(dict.fromkeys(r for r in split_param(regions) if r in known))


def _region_options(snap, indicator: str, lang: str) -> list[dict]:
    return [{"label": snap.region_name(c, lang), "value": c} for c in snap.regions_with_data(indicator)]


@callback(Output(f"{PAGE}-regions", "options"), Input(f"{PAGE}-indicator", "value"), State(f"{PAGE}-lang", "data"))
def region_options(indicator: str, lang: str):
    return _region_options(current(), indicator, lang)


@callback(Output(f"{PAGE}-body", "children"), Input(f"{PAGE}-indicator", "value"), Input(f"{PAGE}-regions", "value"),
          Input(f"{PAGE}-screen", "data"), State(f"{PAGE}-lang", "data"))
def update(indicator: str | None, regions: list[str] | None, screen: str | None, lang: str):
    return render(current(), indicator, regions or [], normalise_lang(lang), phone=is_phone(screen))


def render(snap, indicator: str | None, regions: list[str], lang: str, *, phone: bool = False):
    """The charts of a view; ``phone``: drawn for a screen about 390 px wide (``figures.for_phone``)."""
    if indicator is None:
        return empty_state(t("empty.no_rows", lang))
    drawn = views.compare_figures(snap, indicator, regions, lang)
    if drawn is None:
        return empty_state(t("empty.no_data", lang))
    over_time, bars, _ = drawn
    if phone:
        over_time, bars = figures.for_phone(over_time), figures.for_phone(bars)
    return [export_links("compare", lang, indicator=indicator, regions=",".join(regions) or None),
            dcc.Graph(id=f"{PAGE}-over-time", figure=over_time, config=GRAPH_CONFIG),
            tap_panel(f"{PAGE}-over-time", lang),
            dcc.Graph(id=f"{PAGE}-latest", figure=bars, config=GRAPH_CONFIG),
            tap_panel(f"{PAGE}-latest", lang), _parts(snap, indicator, lang)]


def _parts(snap, indicator: str, lang: str):
    """The home region's zones and districts side by side, with each part's share of the whole for an
    additive indicator, and a warning when the parts add up to more than the whole. None without data."""
    frame, warning = views.breakdown(snap, indicator, lang=lang)
    if frame.empty:
        return None
    ind = snap.catalog.indicators[indicator]
    unit = snap.catalog.units[ind.unit].name.pick(lang)
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("common.region", "common.year", "common.value")]
                              + [html.Th(t("compare.share", lang))]))
    body = html.Tbody([html.Tr([
        html.Td(r.name), html.Td(r.year), html.Td(fmt_value(r.value, ind.unit, unit, lang), className="text-nowrap"),
        html.Td("–" if pd.isna(r.share) else f"{fmt_number(r.share, decimals=1)}%"),
    ]) for r in frame.itertuples(index=False)])
    title = t("compare.parts", lang, region=snap.region_name(snap.catalog.programme.home_region, lang))
    return html.Div([html.H2(title, className="h6 mt-3"),
                     dbc.Alert(warning, color="warning", id=f"{PAGE}-parts-warning") if warning else None,
                     html.Div(dbc.Table([head, body], size="sm", striped=True, className="mb-0"),
                              className="im-table-frame")], id=f"{PAGE}-parts")


@callback(Output(f"{PAGE}-metadata", "children"), Input(f"{PAGE}-indicator", "value"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def metadata(indicator: str | None, lang: str):
    """Under the choice of indicator: its definition, sources and processing."""
    return metadata_link(indicator, normalise_lang(lang), link_id=f"{PAGE}-metadata-link") if indicator else None


register(PAGE, [f"{PAGE}-over-time", f"{PAGE}-latest"])
sync_url(PAGE, [("indicator", f"{PAGE}-indicator", "value"), ("regions", f"{PAGE}-regions", "value")])
