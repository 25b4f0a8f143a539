"""Target-gap page: every quantified target side by side, sorted by how far behind, with pace.

Filters (pillar, milestone) live in the URL. The table beneath gives the numbers behind each bar.
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
    nav_href,
    page_frame,
    query_int,
    query_value,
    sync_url,
)
from dashboards._metadata_link import metadata_link
from dashboards._phone import is_phone, register, screen_store, tap_panel
from dashboards._status import caveat_notes, flag_mark, provisional_mark, status_badge, status_legend
from indicators import figures, progress, views
from indicators.i18n import fmt_gap, fmt_number, fmt_value, normalise_lang, rate_unit_words, t

dash.register_page(__name__, path="/gaps", order=2, nav_key="nav.gaps", title="目标差距 Target gaps")

PAGE = "gaps"


def layout(pillar: str | None = None, milestone: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    pillar, milestone_year = query_value(pillar), query_int(milestone)
    snap = current()
    catalog = snap.catalog
    rows = views.gap_rows(snap)
    years = sorted({int(y) for y in rows["milestone_year"].dropna()})
    pillars = [{"label": t("common.all", lang), "value": "all"}] + [
        {"label": p.name.pick(lang), "value": p.code} for p in catalog.programme.pillars
        if p.code in set(rows["pillar"])]
    chosen_year = milestone_year if milestone_year in years else (
        2025 if 2025 in years else (years[0] if years else None))
    return page_frame(
        PAGE, lang, t("gaps.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.pillar", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-pillar", options=pillars,
                                  value=pillar if pillar in {p["value"] for p in pillars} else "all", clearable=False)], md=5),
            dbc.Col([dbc.Label(t("common.milestone", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-milestone", options=[{"label": str(y), "value": y} for y in years],
                                  value=chosen_year, clearable=False)], md=3),
        ], className="g-3 mb-3"),
        screen_store(PAGE),
        dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
    )


@callback(Output(f"{PAGE}-body", "children"), Input(f"{PAGE}-pillar", "value"), Input(f"{PAGE}-milestone", "value"),
          Input(f"{PAGE}-screen", "data"), State(f"{PAGE}-lang", "data"))
def update(pillar: str, milestone: int | None, screen: str | None, lang: str):
    return render(current(), pillar, milestone, normalise_lang(lang), phone=is_phone(screen))


def render(snap, pillar: str | None, milestone: int | None, lang: str, *, phone: bool = False):
    """The charts, legend and table of a view; ``phone``: charts drawn for a screen about 390 px wide."""
    rows = views.gap_rows(snap, pillar, milestone)
    if rows.empty:
        return empty_state(t("empty.no_rows", lang))
    progress_fig, pace_fig = views.gap_figures(snap, rows, lang)
    if phone:
        progress_fig = figures.for_phone(progress_fig)
        pace_fig = figures.for_phone(pace_fig) if pace_fig is not None else None
    children = [export_links("gaps", lang, pillar=pillar, milestone=milestone),
                dcc.Graph(id=f"{PAGE}-progress", figure=progress_fig, config=GRAPH_CONFIG),
                tap_panel(f"{PAGE}-progress", lang)]
    if pace_fig is not None:
        children += [dcc.Graph(id=f"{PAGE}-pace", config=GRAPH_CONFIG, figure=pace_fig), tap_panel(f"{PAGE}-pace", lang)]
    home = snap.catalog.programme.home_region
    year = f" · {t('common.target', lang)} {milestone}" if milestone else ""
    children.append(status_legend(sorted(set(rows["status"]), key=progress.STATUS_ORDER.index), lang,
                                  id=f"{PAGE}-legend"))
    children.append(html.H2(f"{snap.region_name(home, lang)}{year}", className="h6 mt-3 mb-0", id=f"{PAGE}-region"))
    children.append(_table(figures.progress_order(rows), snap, lang))  # the chart's order: most behind first
    return children


def _rate(value, unit, unit_name: str, lang: str) -> str:
    """An annual change with its unit in words: "%/年" for compound growth, "百分点/年" (or the indicator's
    unit a year) for linear."""
    if value is None or pd.isna(value):
        return "–"
    words = rate_unit_words(unit, lang) if unit in ("%/yr", "pp/yr") else (
        f"{unit_name}/年" if lang == "zh" else f"{unit_name} a year")
    return f"{float(value):+,.2f} {words}".strip()


def _table(rows: pd.DataFrame, snap, lang: str):
    catalog = snap.catalog
    heads = [t(k, lang) for k in ("common.indicator", "common.baseline", "common.latest", "common.target",
                                  "common.gap", "gaps.actual", "gaps.required", "gaps.ratio", "common.status")]
    head = html.Thead(html.Tr([html.Th(h) for h in heads]))
    body = []
    for r in rows.itertuples(index=False):
        ind = catalog.indicators[r.indicator]
        unit = catalog.units[ind.unit].name.pick(lang)
        target = next((tg for tg in ind.targets if tg.plan == r.plan), None)

        def val(v, ind=ind, unit=unit):
            return fmt_value(v, ind.unit, unit, lang) if pd.notna(v) else "–"

        cells = [
            [dcc.Link(ind.short_name.pick(lang), href=nav_href("/trend", lang, indicator=ind.code)), " ",
             metadata_link(ind.code, lang, compact=True)],
            [f"{val(r.baseline_value)} ({int(r.baseline_year)})", flag_mark(r.baseline_flags, lang),
             html.Div(progress.baseline_label(r._asdict(), lang), className="im-label")]
            if pd.notna(r.baseline_year) else "–",
            [f"{val(r.latest_value)} ({int(r.latest_year)})", flag_mark(r.latest_flags, lang)]
            if pd.notna(r.latest_year) else "–",
            [f"{target.wording.pick(lang) if target else val(r.target)} ({int(r.milestone_year)})",
             html.Div(f"{val(r.band_low)} – {val(r.band_high)} (±{fmt_number(r.tolerance)})",
                      className="im-label") if pd.notna(r.tolerance) else None],
            fmt_gap(r.gap, ind.unit, unit, lang, signed=True) + (f" · {fmt_number(r.progress_share * 100, decimals=0)}%"
                                                                if pd.notna(r.progress_share) and r.progress_share < 1
                                                                else ""),
            _rate(r.actual_rate, r.rate_unit, unit, lang),
            _rate(r.required_rate, r.rate_unit, unit, lang),
            fmt_number(r.ratio, decimals=2) if pd.notna(r.ratio) else "–",
            [status_badge(r.status, lang, r._asdict(), id=f"{PAGE}-status-{r.indicator}-{r.milestone_year}"),
             provisional_mark(r.guard, lang), caveat_notes(r._asdict(), lang)],
        ]
        # on a phone each row is a card (assets/10-style.css) and each cell says what it is
        body.append(html.Tr([html.Td(c, **{"data-label": h}) for h, c in zip(heads, cells, strict=True)]))
    # wider screens: one row per target, scrolling sideways inside its frame below 880 px
    return html.Div(dbc.Table([head, html.Tbody(body)], size="sm", striped=True, className="mb-0 bg-white im-reflow"),
                    className="im-table-frame im-gaps-table mt-3", id=f"{PAGE}-table")


register(PAGE, [f"{PAGE}-progress", f"{PAGE}-pace"])
sync_url(PAGE, [("pillar", f"{PAGE}-pillar", "value"), ("milestone", f"{PAGE}-milestone", "value")])
