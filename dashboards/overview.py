"""Overview (home page): the plan at a glance, indicators grouped by pillar with status, gap and sparkline.

Rendered entirely by ``layout`` from the query string (lang) and the cached snapshot: no callbacks, so the
page is one server round trip. Each card links to the indicator's trend page, and beside that link to its
metadata page.
"""

from __future__ import annotations

import base64
from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboards._common import current, nav_href, page_header, query_int, query_value
from dashboards._metadata_link import metadata_link
from dashboards._status import caveat_notes, flag_mark, provisional_mark, status_badge, status_legend
from indicators import calendar, figures
from indicators.i18n import fmt_gap, fmt_value, normalise_lang, t
from indicators.progress import STATUS_ORDER, status_label

dash.register_page(__name__, path="/", order=0, nav_key="nav.overview", title="总览 Overview")

HEADLINE_YEAR = 2025


MILESTONES = (2025, 2035)  # the plan's horizon and its 2035 vision: the overview switches between them


def layout(lang: str | None = None, milestone: str | None = None, **_):
    lang = normalise_lang(query_value(lang))
    year = query_int(milestone)
    year = year if year in MILESTONES else HEADLINE_YEAR
    snap = current()
    return snap.memo(("overview", lang, year), lambda: render(snap, lang, year))


def render(snap, lang: str, year: int = HEADLINE_YEAR):
    """The whole page for a data version, language and milestone year (cached by the snapshot: it changes
    only with data)."""
    catalog = snap.catalog
    home = catalog.programme.home_region
    assessment = snap.assessment
    home_rows = assessment[assessment["region"] == home]
    headline = _headline_rows(home_rows, year).set_index("indicator")  # one row per indicator, computed once
    shown = sorted(set(headline["status"]), key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 99)
    sections = [_freshness(snap, lang), _overdue(snap, lang), _milestone_switch(lang, year),
                status_legend(shown, lang, id="overview-legend")]
    for pillar in catalog.programme.pillars:
        codes = [i.code for i in catalog.ordered_indicators() if i.pillar == pillar.code]
        if not codes:
            continue
        cards = [dbc.Col(_card(snap, catalog.indicators[c], headline, lang), xs=12, sm=6, lg=4, xl=3, className="mb-3")
                 for c in codes]
        counts = _counts(home_rows[home_rows["indicator"].isin(codes)], lang, year)
        sections.append(html.Section([
            html.Div([html.H2(pillar.name.pick(lang), className="me-3 mb-1"), counts],
                     className="d-flex flex-wrap align-items-center mb-2"),
            html.P(pillar.description.pick(lang), className="text-muted small mb-2"),
            dbc.Row(cards, className="g-2"),
        ], className="im-pillar", id=f"pillar-{pillar.code}"))
    programme = html.Div(catalog.programme.name.pick(lang), className="text-muted small fw-semibold")
    return html.Div([programme, page_header(t("overview.title", lang), t("overview.subtitle", lang)), *sections])


def _freshness(snap, lang: str) -> html.Div:
    batches = snap.batches
    last = batches.iloc[-1] if len(batches) else None
    years = snap.observations["year"]
    parts = []
    if last is not None:
        parts.append(f"{t('overview.latest_batch', lang)}: {pd.Timestamp(last['created_at']):%Y-%m-%d %H:%M} UTC "
                     f"({t('common.batch', lang)} {int(last['id'])})")
    if len(years):
        parts.append(f"{t('common.years', lang)}: {int(years.min())}–{int(years.max())}")
    parts.append(f"{len(snap.observations):,} {t('common.rows', lang)}")
    return html.Div([html.Strong(t("overview.freshness", lang) + ": "), " · ".join(parts),
                     html.Div(t("overview.demo_note", lang), className="small text-muted")],
                    className="im-panel small", id="freshness")


def _overdue(snap, lang: str) -> html.Div | None:
    """Data expected and not loaded, by owner ("联合多方监测"): a line per owner, linked to the calendar."""
    late = calendar.calendar(snap.home_observations, snap.catalog, date.today(), lang=lang)
    late = late[late["overdue"].astype(bool)]
    if late.empty:
        return None
    owners = [f"{owner}: {'、'.join(part['name']) if lang == 'zh' else ', '.join(part['name'])}"
              for owner, part in late.groupby("owner_name", sort=False)]
    return html.Div([html.Strong(t("overview.overdue", lang, n=len(late)) + " "),
                     dcc.Link(t("nav.calendar", lang), href=nav_href("/calendar", lang)),
                     html.Ul([html.Li(o) for o in owners], className="small mb-0 mt-1")],
                    className="im-panel small mt-2", id="overview-overdue")


def _milestone_switch(lang: str, year: int) -> html.Div:
    """Links between the 2025 targets and the 2035 vision (the page has no callbacks: a link per year)."""
    return html.Div([html.Span(t("common.milestone", lang) + ": ", className="small me-1")] + [
        dcc.Link(str(y), href=nav_href("/", lang, milestone=y), id=f"overview-milestone-{y}",
                 className="btn btn-sm me-1 " + ("btn-primary" if y == year else "btn-outline-primary"))
        for y in MILESTONES], className="mb-2", id="overview-milestones")


def _counts(rows: pd.DataFrame, lang: str, year: int = HEADLINE_YEAR) -> html.Div:
    headline = _headline_rows(rows, year)
    counts = headline["status"].value_counts()
    return html.Div([html.Span([status_badge(s, lang), html.Span(f" ×{n}", className="me-2 small")])
                     for s, n in counts.items()], className="d-flex flex-wrap gap-1")


def _headline_rows(rows: pd.DataFrame, year: int = HEADLINE_YEAR) -> pd.DataFrame:
    """One row per indicator: the milestone of ``year`` where there is one, else the first row."""
    if rows.empty:
        return rows
    rows = rows.assign(_key=rows["milestone_year"].ne(year).fillna(True).astype(int))
    return rows.sort_values(["indicator", "_key"]).drop_duplicates("indicator").drop(columns="_key")


def _card(snap, ind, headline: pd.DataFrame, lang: str):
    catalog = snap.catalog
    home = catalog.programme.home_region
    unit = catalog.units[ind.unit]
    row = headline.loc[ind.code].copy() if ind.code in headline.index else None
    if row is not None:
        row["indicator"] = ind.code
    if ind.kind == "qualitative":
        return _goal_card(snap, ind, headline, lang)
    series = snap.series(ind.code, [home])
    latest = series.sort_values("year").iloc[-1] if len(series) else None
    body = [html.Div(ind.short_name.pick(lang), className="fw-semibold")]
    if latest is not None:
        body.append(html.Div([
            html.Span(fmt_value(latest["value"], ind.unit, unit.name.pick(lang), lang), className="im-value"),
            flag_mark(latest.get("flags"), lang),
            html.Span(f"  {int(latest['year'])}", className="im-label ms-1"),
        ]))
    else:
        body.append(html.Div(t("empty.no_data", lang), className="small text-muted"))
    target_text = _target_text(ind, row, lang)
    body.append(html.Div(target_text, className="im-label"))
    if row is not None:
        body.append(html.Div([status_badge(row["status"], lang, row, id=f"status-{ind.code}"),
                              provisional_mark(row.get("guard"), lang), _gap_text(row, ind, unit, lang)],
                             className="d-flex flex-wrap align-items-center gap-2 my-1"))
        body.append(caveat_notes(row, lang, id=f"caveats-{ind.code}"))
    if len(series) > 1:
        target = float(row["target"]) if row is not None and pd.notna(row.get("target")) else None
        year = int(row["milestone_year"]) if row is not None and pd.notna(row.get("milestone_year")) else None
        svg = figures.sparkline(series, target=target, target_year=year, rank=ind.kind == "rank")
        body.append(html.Img(src="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
                             className="im-spark", alt="", id=f"spark-{ind.code}"))
    if latest is not None:
        cited = snap.citations(series[series["year"] == latest["year"]], lang)
        cite = cited[0] if cited else str(latest["source"])
        body.append(html.Div(f"{t('common.source', lang)}: {_short(cite, 60)} · "
                             f"{t('common.confidence', lang)}: {t('confidence.' + latest['confidence'], lang)}",
                             className="im-source", title=f"{cite}\n{latest['source']}"))
    href = nav_href("/trend", lang, indicator=ind.code)
    return html.Div([dcc.Link(body, href=href, className="d-block p-3 pb-1", id=f"card-{ind.code}"),
                     _card_metadata_link(ind.code, lang)], className="im-card")


def _goal_card(snap, ind, headline: pd.DataFrame, lang: str):
    target = ind.targets[0] if ind.targets else None
    items = [html.Div(ind.short_name.pick(lang), className="fw-semibold"),
             html.Div(ind.name.pick(lang), className="small mb-1")]
    if target is not None:
        stone = target.milestones[0] if target.milestones else None
        if stone is not None and stone.text is not None:
            items.append(html.Div(f"{stone.year}: {stone.text.pick(lang)}", className="im-label"))
        items.append(status_badge("qualitative", lang))
        evidence = [snap.catalog.indicators[c] for c in target.evidence if c in snap.catalog.indicators]
        statuses = headline["status"]
        if evidence:
            items.append(html.Ul([
                html.Li([dcc.Link(e.short_name.pick(lang), href=nav_href("/trend", lang, indicator=e.code)), " ",
                         _status_icon(statuses.get(e.code), lang)])
                for e in evidence if e.kind != "qualitative"], className="small mb-0 mt-1 im-evidence"))
        items.append(html.Div(f"{t('common.source', lang)}: {_short(target.source)}", className="im-source"))
    return html.Div([html.Div(items, className="p-3 pb-1"), _card_metadata_link(ind.code, lang)],
                    className="im-card", id=f"card-{ind.code}")


def _card_metadata_link(code: str, lang: str) -> html.Div:
    """Beside the card's own link (links do not nest): definition, sources and processing."""
    return html.Div(metadata_link(code, lang, link_id=f"meta-card-{code}", class_name="small"), className="px-3 pb-2")


def _status_icon(status: str | None, lang: str):
    """A status as icon and word in the status colour, small enough for a list of evidence."""
    if not status:
        return None
    colour, icon, _ = figures.status_style(status)
    return html.Span(f"{icon} {status_label(status, lang)}", className="small",
                     style={"color": "#333", "borderBottom": f"3px solid {colour}"})


def _target_text(ind, row, lang: str) -> str:
    quantified = [tg for tg in ind.targets if tg.qualifier not in ("none",)]
    if not quantified:
        return t("overview.no_target", lang)
    if row is not None and pd.notna(row.get("milestone_year")):  # the milestone the card's status is about
        words = row.get("target_text_en" if lang == "en" else "target_text") or row.get(
            "wording_en" if lang == "en" else "wording")
        return f"{t('common.target', lang)} {int(row['milestone_year'])}: {words}"
    tg = quantified[0]
    year = tg.milestones[0].year if tg.milestones else ""
    return f"{t('common.target', lang)} {year}: {tg.wording.pick(lang)}"


def _gap_text(row, ind, unit, lang: str):
    gap = row.get("gap")
    if gap is None or pd.isna(gap) or row["status"] in ("achieved", "within_band", "qualitative"):
        return None
    text = fmt_gap(float(gap), ind.unit, unit.name.pick(lang), lang, signed=True)
    return html.Span(text, className="small")


def _short(source: str, n: int = 48) -> str:
    source = str(source)
    return source if len(source) <= n else source[: n - 1] + "…"
