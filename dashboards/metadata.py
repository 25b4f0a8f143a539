"""Indicator metadata page: what an indicator is, how it is measured, what its targets say, and where its
values come from (Open SDG's metadata tab, Our World in Data's "sources and processing").

The view is a function of the query string (``indicator``, ``lang``): no callbacks. With no indicator, or an
unknown one, the page lists every indicator (the metadata index). The catalog gives the definition, breaks,
editions and targets; the publications table is ``indicators.metadata.publications_behind``; this module
only lays them out. Not in the navigation: it is reached from every card, chart and table row.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboards._common import current, nav_href, page_header
from dashboards._metadata_link import metadata_href
from indicators.catalog import Indicator, Target
from indicators.i18n import fmt_value, normalise_lang, t
from indicators.metadata import publications_behind

dash.register_page(__name__, path="/metadata", title="元数据 Metadata")

PAGE = "metadata"
NEW_TAB = {"target": "_blank", "rel": "noopener noreferrer"}
# column widths of the tables from the medium breakpoint up (on a phone a row stacks: see _table)
BREAK_WIDTHS = ["col-4 col-md-1", "col-8 col-md-3", "col-12 col-md-5", "col-12 col-md-3"]
EDITION_WIDTHS = ["col-4 col-md-1", "col-8 col-md-2", "col-12 col-md-9"]
PUBLICATION_WIDTHS = ["col-12 col-md-4", "col-6 col-md-2", "col-6 col-md-2", "col-12 col-md-4"]


def layout(indicator: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    return render(current(), indicator, lang)


def render(snap, indicator: str | None, lang: str):
    """The page for a data version, an indicator (a code, or any name the catalog knows) and a language."""
    if isinstance(indicator, list):  # the parameter given twice
        indicator = indicator[0] if indicator else None
    if not indicator:
        return snap.memo((PAGE, None, lang), lambda: _index(snap, lang))
    code = indicator if indicator in snap.catalog.indicators else snap.catalog.find_indicator(indicator)
    if code is None:
        return html.Div([
            dbc.Alert(t("meta.unknown", lang, code=indicator[:80]), color="warning", id=f"{PAGE}-unknown"),
            _index(snap, lang),
        ])
    return snap.memo((PAGE, code, lang), lambda: _indicator_page(snap, snap.catalog.indicators[code], lang))


def _index(snap, lang: str) -> html.Div:
    """Every indicator by pillar, each linking to its metadata page."""
    catalog = snap.catalog
    sections = []
    for pillar in catalog.programme.pillars:
        items = [html.Li([
            dcc.Link(ind.name.pick(lang), href=metadata_href(ind.code, lang), id=f"{PAGE}-index-{ind.code}"),
            html.Span(f" · {ind.code}", className="small text-muted"),
        ], className="mb-1") for ind in catalog.ordered_indicators() if ind.pillar == pillar.code]
        if items:
            sections.append(html.Section([html.H2(pillar.name.pick(lang), className="h5"), html.Ul(items, className="mb-0")],
                                         className="im-panel mb-3"))
    return html.Div([page_header(t("meta.index_title", lang), t("meta.index_subtitle", lang)), *sections],
                    id=f"{PAGE}-index")


def _indicator_page(snap, ind: Indicator, lang: str) -> html.Div:
    catalog = snap.catalog
    pillar = catalog.pillars[ind.pillar].name.pick(lang)
    links = html.Div([
        dcc.Link("← " + t("meta.all", lang), href=metadata_href(None, lang), id=f"{PAGE}-all"),
        dcc.Link(t("meta.see_trend", lang), href=nav_href("/trend", lang, indicator=ind.code), id=f"{PAGE}-trend")
        if ind.kind != "qualitative" else None,
        dcc.Link(t("meta.see_data", lang), href=nav_href("/data", lang, indicators=ind.code), id=f"{PAGE}-data")
        if ind.kind != "qualitative" else None,
    ], className="d-flex flex-wrap gap-3 small mb-3")
    return html.Div([
        html.Div(f"{t('meta.title', lang)} · {pillar}", className="text-muted small fw-semibold"),
        page_header(ind.name.pick(lang), f"{ind.short_name.pick(lang)} · {t('meta.code', lang)} {ind.code}"),
        links,
        _sponsorship(ind, lang),
        dbc.Row([
            dbc.Col(_about(snap, ind, lang), lg=7, className="mb-3"),
            dbc.Col(_model(snap, ind, lang), lg=5, className="mb-3"),
        ], className="g-3"),
        _breaks(ind, lang),
        _editions(ind, lang),
        _targets(snap, ind, lang),
        _publications(snap, ind, lang),
    ], id=f"{PAGE}-page", **{"data-indicator": ind.code})


def _dl(pairs: list[tuple[str, object]], lang: str, prefix: str, *, wide: bool = False) -> html.Dl:
    """A definition list: the term above its text on a phone, beside it from the small breakpoint up."""
    term, text = ("col-sm-3", "col-sm-9") if wide else ("col-sm-5", "col-sm-7")
    children = []
    for key, value in pairs:
        children += [html.Dt(t(key, lang), className=term),
                     html.Dd(value, className=text, id=f"{prefix}-{key.split('.')[-1]}")]
    return html.Dl(children, className="row mb-0")


def _about(snap, ind: Indicator, lang: str) -> html.Section:
    unit = snap.catalog.units[ind.unit].name.pick(lang)
    missing = html.Span(t("meta.not_recorded", lang), className="text-muted")
    codes = ", ".join(f"{k}: {v}" for k, v in ind.external_codes.items())
    sep = "、" if lang == "zh" else "; "
    pairs = [
        ("meta.definition", ind.description.pick(lang)),
        ("common.unit", unit),
        ("meta.measurement", ind.measurement.pick(lang)),
        ("meta.publisher", ind.publisher.pick(lang)),
        ("meta.release", ind.release.pick(lang) if ind.release else missing),
        ("meta.aliases", sep.join(ind.aliases) if ind.aliases else missing),
    ]
    if codes:
        pairs.append(("meta.external_codes", codes))
    return html.Section([html.H2(t("meta.about", lang), className="h5"), _dl(pairs, lang, f"{PAGE}-about", wide=True)],
                        className="im-panel h-100")


def _model(snap, ind: Indicator, lang: str) -> html.Section:
    pairs = [
        ("common.pillar", snap.catalog.pillars[ind.pillar].name.pick(lang)),
        ("meta.frequency", t(f"meta.frequency.{ind.frequency}", lang)),
        ("meta.kind", t(f"meta.kind.{ind.kind}", lang)),
        ("meta.direction", t(f"meta.direction.{ind.direction}", lang)),
    ]
    if ind.kind not in ("rank", "qualitative"):  # no rates are computed on ranks or qualitative goals
        pairs.append(("meta.growth", t(f"meta.growth.{ind.growth_model}", lang)))
    return html.Section([html.H2(t("meta.model", lang), className="h5"), _dl(pairs, lang, f"{PAGE}-model")],
                        className="im-panel h-100")


def _sponsorship(ind: Indicator, lang: str):
    """Who commissioned or paid for the source: shown first, as a disclosure, when the catalog records it."""
    if ind.sponsorship is None:
        return None
    return dbc.Alert([html.Strong(t("meta.sponsorship", lang) + ": "), ind.sponsorship.pick(lang)],
                     color="warning", id=f"{PAGE}-sponsorship", className="mb-3")


def _table(head: list[str], rows: list[list], widths: list[str], table_id: str) -> html.Div:
    """A table on a laptop, a stack of blocks on a phone: each row is a grid row whose cells wrap below the
    medium breakpoint, where the header row hides and each cell after the first carries its own label."""
    header = html.Div([html.Div(h, className=w, role="columnheader") for h, w in zip(head, widths, strict=True)],
                      className="row gx-3 d-none d-md-flex fw-semibold border-bottom pb-1 im-meta-head", role="row")
    body = [html.Div([html.Div([html.Div(h, className="d-md-none small text-muted") if n else None, html.Div(cell)],
                               className=f"{w} mb-1", role="cell")
                      for n, (h, w, cell) in enumerate(zip(head, widths, row, strict=True))],
                     className="row gx-3 py-2 border-bottom im-meta-row" + (" bg-body-tertiary" if i % 2 == 0 else ""),
                     role="row")
            for i, row in enumerate(rows)]
    return html.Div([header, *body], id=table_id, role="table", className="mx-0")


def _section(title: str, body, section_id: str) -> html.Section:
    return html.Section([html.H2(title, className="h5"), body], className="im-panel mb-3", id=section_id)


def _breaks(ind: Indicator, lang: str) -> html.Section:
    if not ind.breaks:
        return _section(t("meta.breaks", lang), html.P(t("meta.breaks_none", lang), className="text-muted mb-0"),
                        f"{PAGE}-breaks")
    rows = [[b.year,
             [html.Div(t(f"meta.break_kind.{b.kind}", lang)),
              html.Div(t("meta.comparable" if b.comparable else "meta.not_comparable", lang),
                       className="small " + ("text-muted" if b.comparable else "text-danger"))],
             b.text.pick(lang), html.Span(b.source, className="im-source")]
            for b in sorted(ind.breaks, key=lambda b: b.year)]
    head = [t(k, lang) for k in ("common.year", "meta.break_kind", "common.note", "common.source")]
    return _section(t("meta.breaks", lang), _table(head, rows, BREAK_WIDTHS, f"{PAGE}-breaks-table"), f"{PAGE}-breaks")


def _editions(ind: Indicator, lang: str):
    if not ind.editions:
        return None
    rows = [[e.year, e.field if e.field is not None else "–", e.note.pick(lang)]
            for e in sorted(ind.editions, key=lambda e: e.year)]
    head = [t(k, lang) for k in ("common.year", "meta.field", "common.note")]
    return _section(t("meta.editions", lang), _table(head, rows, EDITION_WIDTHS, f"{PAGE}-editions-table"), f"{PAGE}-editions")


def _targets(snap, ind: Indicator, lang: str) -> html.Section:
    if not ind.targets:
        return _section(t("meta.targets", lang), html.P(t("meta.targets_none", lang), className="text-muted mb-0"),
                        f"{PAGE}-targets")
    return _section(t("meta.targets", lang), html.Div([_target(snap, ind, tg, lang) for tg in ind.targets]),
                    f"{PAGE}-targets")


def _target(snap, ind: Indicator, tg: Target, lang: str) -> html.Div:
    catalog = snap.catalog
    unit = catalog.units[ind.unit].name.pick(lang)
    plan = catalog.plans.get(tg.plan)
    plan_name = plan.name.pick(lang) if plan else tg.plan
    pairs: list[tuple[str, object]] = [("meta.wording", html.Strong(tg.wording.pick(lang)))]
    stones = [f"{m.year}: " + (fmt_value(m.value, ind.unit, unit, lang) if m.value is not None else "")
              + (m.text.pick(lang) if m.text is not None else "") for m in tg.milestones]
    if stones:
        pairs.append(("meta.milestones", "; ".join(stones)))
    if tg.base is not None:
        base = f"{tg.base.year}" + (f": {fmt_value(tg.base.value, ind.unit, unit, lang)}" if tg.base.value is not None else "")
        pairs.append(("common.baseline", base))
    if tg.also_in:
        pairs.append(("meta.also_in", "; ".join(catalog.plans[p].name.pick(lang) if p in catalog.plans else p
                                                for p in tg.also_in)))
    pairs += [("common.region", snap.region_name(tg.region, lang)),
              ("common.confidence", t(f"confidence.{tg.confidence}", lang)),
              ("meta.quote", html.Blockquote(tg.quote, className="mb-0 border-start ps-2 fst-italic")),
              ("common.source", html.Span(tg.source, className="im-source"))]
    heading = [plan_name, html.Span(f" ({plan.published})", className="text-muted small") if plan else None]
    return html.Div([html.H3(heading, className="h6"), _dl(pairs, lang, f"{PAGE}-target-{tg.plan}", wide=True)],
                    className="mb-3 pb-2 border-bottom im-meta-target")


def _publications(snap, ind: Indicator, lang: str) -> html.Section | None:
    if ind.kind == "qualitative":
        return None  # a goal in words: no values, no publications behind them
    frame = publications_behind(snap, ind.code, lang)
    title = t("meta.publications", lang)
    if frame.empty:
        return _section(title, html.P(t("meta.no_values", lang), className="text-muted mb-0"), f"{PAGE}-publications")
    head = [t(k, lang) for k in ("meta.publication", "meta.date", "meta.supplies", "meta.addresses")]
    rows = [_publication_row(r, lang) for r in frame.to_dict("records")]
    note = html.P(t("meta.publications_note", lang), className="small text-muted")
    return _section(title, html.Div([note, _table(head, rows, PUBLICATION_WIDTHS, f"{PAGE}-publications-table")]), f"{PAGE}-publications")


def _publication_row(r: dict, lang: str) -> list:
    if r["title"]:
        kind = t(f"meta.pubkind.{r['kind']}", lang) if r["kind"] else ""
        what = [html.Div(r["title"], className="fw-semibold"), html.Div(r["publisher"], className="small"),
                html.Div(kind, className="small text-muted")]
    else:
        what = [html.Div(t("meta.no_publication", lang), className="text-muted")]
    date = [html.Div(r["date"], className="text-nowrap")]
    if r["published_on"] and r["date_basis"] != "unknown":
        date.append(html.Div(t(f"meta.basis.{r['date_basis']}", lang), className="small text-muted"))
    count = t("meta.value_one", lang) if r["values"] == 1 else t("meta.values", lang, n=r["values"])
    supplies = [html.Div(r["supplies"]), html.Div(count, className="small text-muted")]
    return [what, date, supplies, _addresses(r, lang)]


def _addresses(r: dict, lang: str) -> list:
    """The official address, the pages where the text was read, and the source texts the values carry."""
    parts = []
    if r["official_url"]:
        parts.append(html.Div([html.Span(t("meta.official", lang) + ": ", className="small text-muted"),
                               html.A(r["official_url"], href=r["official_url"], className="im-source", **NEW_TAB)]))
    if r["read_at"]:
        parts.append(html.Div(t("meta.read_at", lang) + ":", className="small text-muted"))
        parts.append(html.Ul([html.Li(html.A(url, href=url, className="im-source", **NEW_TAB)) for url in r["read_at"]],
                             className="mb-1 ps-3"))
    cited = [html.Li(s, className="im-source") for s in r["cited_as"]]
    if r["notes"]:
        cited.append(html.Li(r["notes"], className="im-source fst-italic"))
    if cited:
        parts.append(html.Details([html.Summary(t("meta.cited_as", lang), className="small text-muted"),
                                   html.Ul(cited, className="mb-0 ps-3")]))
    return parts
