"""What changed between two dates ("what is new since the last report"): values that arrived, were revised or
retracted, and the target statuses, ranks and task statuses that moved (old → new).

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (each the end of that day; default: the last 90 days up to today). A date
that is not one falls back to its default; a start after the end is swapped, and said. The comparison is
``indicators.changes.changes``; this page only lays its four tables out in the page's language.
"""

from __future__ import annotations

from datetime import date, timedelta

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards._common import current, nav_href, page_frame, query_value, sync_url
from dashboards._metadata_link import metadata_link
from indicators import changes as diff
from indicators.i18n import fmt_number, normalise_lang, t

dash.register_page(__name__, path="/changes", order=4.6, nav_key="nav.changes", nav_group="cycle", title="近期变化 Changes")

PAGE = "changes"
DEFAULT_DAYS = 90
QUICK_RANGES = [("changes.last_30", 30), ("changes.last_90", 90), ("changes.last_365", 365)]
EARLIEST = date(2000, 1, 1)
SECTIONS = ["values", "statuses", "ranks", "tasks"]
# the columns each section shows, by the keys of its rows: (header key, row key); a pair of keys is one
# "old → new" cell (a phone shows each row as a card: the fewer cells, the shorter the card)
COLUMNS = {
    "values": [("common.indicator", "name"), ("common.region", "region_name"), ("common.year", "year"),
               ("changes.change", "change_label"), ("changes.move", ("old_value", "new_value"))],
    "statuses": [("common.indicator", "name"), ("common.region", "region"), ("common.milestone", "milestone_year"),
                 ("changes.move", ("old_label", "new_label"))],
    "ranks": [("common.indicator", "name"), ("common.region", "region_name"), ("changes.move", ("old", "new")),
              ("changes.places", "places")],
    "tasks": [("tasks.task", "title"), ("changes.move", ("old_label", "new_label")), ("tasks.date", "date"),
              ("tasks.note", "note")],
}


def parse_day(value, default: date) -> date:
    """A date written YYYY-MM-DD between 2000 and today, else ``default``."""
    text = query_value(value)
    if text is not None and len(text) == 10 and text.isascii():
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return default
        if EARLIEST <= day <= date.today():
            return day
    return default


def period(start, end) -> tuple[date, date, bool]:
    """The period asked (``start``, ``end``: query values or a picker's dates) with its defaults; whether the
    two were swapped."""
    today = date.today()
    end_day = parse_day(end, today)
    start_day = parse_day(start, end_day - timedelta(days=DEFAULT_DAYS))
    if start_day > end_day:
        return end_day, start_day, True
    return start_day, end_day, False


def layout(lang: str | None = None, **query):
    lang = normalise_lang(lang)
    start, end, _ = period(query.get("from"), query.get("to"))
    today = date.today()

    def picker(name: str, day: date):
        return dbc.Col([dbc.Label(t(f"changes.{name}", lang), html_for=f"{PAGE}-{name}", className="d-block"),
                        dcc.DatePickerSingle(id=f"{PAGE}-{name}", date=day.isoformat(), display_format="YYYY-MM-DD",
                                             min_date_allowed=EARLIEST.isoformat(), max_date_allowed=today.isoformat(),
                                             first_day_of_week=1, placeholder="YYYY-MM-DD")], xs=6, md=3)

    quick = [dcc.Link(t(key, lang), className="btn btn-outline-secondary btn-sm me-2 mb-1",
                      href=nav_href("/changes", lang, **{"from": (today - timedelta(days=days)).isoformat(),
                                                          "to": today.isoformat()}))
             for key, days in QUICK_RANGES]
    since = last_batch_day(current().batches)
    if since is not None:  # what the newest batch brought: from the end of the day before it
        quick.append(dcc.Link(t("changes.last_batch", lang), className="btn btn-outline-secondary btn-sm me-2 mb-1",
                              id=f"{PAGE}-since-batch",
                              href=nav_href("/changes", lang, **{"from": (since - timedelta(days=1)).isoformat(),
                                                                  "to": today.isoformat()})))
    return page_frame(
        PAGE, lang, t("changes.title", lang),
        html.P(t("changes.subtitle", lang), className="text-muted"),
        dbc.Row([picker("from", start), picker("to", end),
                 dbc.Col(html.Div(quick, className="d-flex flex-wrap"), md=6, className="align-self-end")],
                className="g-3 mb-3"),
        dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
    )


def last_batch_day(batches: pd.DataFrame) -> date | None:
    """The day the newest batch was made (None: no batch), no later than today."""
    if batches.empty:
        return None
    newest = pd.to_datetime(batches["created_at"]).max()
    return None if pd.isna(newest) else min(newest.date(), date.today())


@callback(Output(f"{PAGE}-body", "children"), Input(f"{PAGE}-from", "date"), Input(f"{PAGE}-to", "date"),
          State(f"{PAGE}-lang", "data"))
def update(start, end, lang):
    return render(current(), start, end, normalise_lang(lang))


def render(snap, start, end, lang: str):
    """The four sections of the period's changes (a section with nothing says so)."""
    start_day, end_day, swapped = period(start if start else None, end if end else None)
    found = diff.changes(snap.engine, snap.catalog, start_day, end_day, lang=lang)
    children = [dbc.Alert(t("changes.swapped", lang), color="warning", id=f"{PAGE}-swapped")] if swapped else []
    children.append(html.P(f"{start_day.isoformat()} → {end_day.isoformat()}", className="fw-semibold mb-1",
                           id=f"{PAGE}-period"))
    flat = found.flat(lang)
    frames = {"values": found.values, "statuses": found.statuses,
              "ranks": _ranks(found.ranks, list(flat.loc[flat["section"] == "ranks", "detail"])), "tasks": found.tasks}
    if all(frame.empty for frame in frames.values()):
        children.append(html.P(t("changes.none", lang), className="text-muted", id=f"{PAGE}-none"))
    for section in SECTIONS:
        frame = frames[section]
        title = diff.SECTION_LABELS[section].pick(lang)
        title = title[:1].upper() + title[1:]  # a heading: "Values", not "values"
        children.append(html.Section([
            html.H2([title, html.Span(t("changes.count", lang, n=len(frame)), className="badge text-bg-light border ms-2")],
                    className="h6 mt-3"),
            _table(section, frame, snap, lang) if len(frame) else html.P(t("common.none", lang), className="text-muted small"),
        ], id=f"{PAGE}-{section}"))
    return children


def _ranks(frame: pd.DataFrame, places: list[str]) -> pd.DataFrame:
    """A rank and the year it is of, in one cell ("12 (2023)"), and the move in words (``places``: the
    ``detail`` of the ranks in ``Changes.flat``, row for row)."""
    if frame.empty:
        return frame

    def rank(value, year) -> str:
        return "–" if pd.isna(value) else f"{fmt_number(float(value))} ({int(year)})"

    return frame.assign(old=[rank(v, y) for v, y in zip(frame["old_rank"], frame["old_year"], strict=True)],
                        new=[rank(v, y) for v, y in zip(frame["new_rank"], frame["new_year"], strict=True)],
                        places=places)


def _cell(section: str, key, row: dict, snap, lang: str):
    if isinstance(key, tuple):
        old, new = (_cell(section, k, row, snap, lang) for k in key)
        unit = f" {row['unit']}" if section == "values" and row.get("unit") else ""
        return f"{old} → {new}{unit}"
    value = row.get(key)
    if key == "name" and row.get("indicator") in snap.catalog.indicators:
        return [dcc.Link(value, href=nav_href("/trend", lang, indicator=row["indicator"])), " ",
                metadata_link(row["indicator"], lang, compact=True)]
    if key == "title":
        return [html.Span(row["task"], className="text-muted small me-1"),
                dcc.Link(value, href=nav_href("/tasks", lang))]
    if key == "region" and section == "statuses":
        return snap.region_name(value, lang)
    if key in ("old_value", "new_value"):
        return "–" if value is None or pd.isna(value) else fmt_number(float(value))
    if key in ("year", "milestone_year"):
        return "–" if value is None or pd.isna(value) else str(int(value))
    return "–" if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" else str(value)


def _table(section: str, frame: pd.DataFrame, snap, lang: str) -> html.Div:
    columns = COLUMNS[section]
    heads = [t(k, lang) for k, _ in columns]
    body = [html.Tr([html.Td(_cell(section, key, row, snap, lang), **{"data-label": h})
                     for h, (_, key) in zip(heads, columns, strict=True)])
            for row in frame.to_dict("records")]
    table = dbc.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(body)], size="sm",
                      striped=True, className="mb-0 bg-white im-reflow")
    return html.Div(table, className="im-table-frame", id=f"{PAGE}-table-{section}")


sync_url(PAGE, [("from", f"{PAGE}-from", "date"), ("to", f"{PAGE}-to", "date")])
