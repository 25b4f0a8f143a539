"""The release calendar ("联合多方监测"): per owner, the data overdue and the data to come, with the rule each
release follows, filtered by owner.

The table is ``indicators.calendar.calendar`` of the current observations; this page only groups it by owner
and words it. ``?today=YYYY-MM-DD`` computes the calendar for another day (to look ahead, or back at what
was overdue then; tests use it); anything that is not such a date means today.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards._common import (
    current,
    dropdown_labels,
    empty_state,
    nav_href,
    page_frame,
    query_value,
    sync_url,
)
from dashboards._metadata_link import metadata_link
from indicators import calendar as releases
from indicators.i18n import normalise_lang, t

dash.register_page(__name__, path="/calendar", order=4.5, nav_key="nav.calendar", nav_group="cycle", title="发布日历 Calendar")

PAGE = "calendar"
ALL_VALUE = "all"
NO_OWNER = "none"
OVERDUE_COLOUR, UPCOMING_COLOUR = "#c62828", "#5f6673"
# the share of the width each column takes from the small breakpoint up, the same in every owner's table
WIDTHS = ["26%", "13%", "11%", "12%", "18%", "20%"]
HEADS = ["common.indicator", "calendar.latest_year", "calendar.next", "calendar.next_release", "calendar.state",
         "calendar.rule"]
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # a "today" outside these names no day a plan knows


def parse_today(value) -> date:
    """The day the calendar is computed for: ``value`` if it is a date written YYYY-MM-DD in a plausible range,
    else today."""
    text = query_value(value)
    if text is not None and len(text) == 10 and text.isascii():
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None and EARLIEST <= day <= LATEST:
            return day
    return date.today()


def layout(owner: str | None = None, today: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    day = parse_today(today)
    options = owner_options(current().catalog, lang)
    owner = query_value(owner)
    return page_frame(
        PAGE, lang, t("calendar.title", lang),
        html.P(t("calendar.subtitle", lang, today=day.isoformat()), className="text-muted", id=f"{PAGE}-subtitle"),
        dcc.Store(id=f"{PAGE}-today", data=day.isoformat() if today is not None and day != date.today() else None),
        dbc.Row(dbc.Col([dbc.Label(t("calendar.owner", lang), html_for=f"{PAGE}-owner"),
                         dcc.Dropdown(id=f"{PAGE}-owner", options=options, clearable=False,
                                      value=owner if owner in {o["value"] for o in options} else ALL_VALUE,
                                      labels=dropdown_labels(lang))], md=6), className="g-3 mb-3"),
        dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
    )


def owner_options(catalog, lang: str) -> list[dict]:
    """Every owner that owns an indicator, then "no owner named" if some indicator has none."""
    owners = [ind.owner for ind in catalog.ordered_indicators()]
    options = [{"label": t("common.all", lang), "value": ALL_VALUE}]
    options += [{"label": catalog.agencies[code].name.pick(lang), "value": code} for code in dict.fromkeys(owners)
                if code and code in catalog.agencies]
    if any(not code for code in owners):
        options.append({"label": t("calendar.no_owner", lang), "value": NO_OWNER})
    return options


@callback(Output(f"{PAGE}-body", "children"), Input(f"{PAGE}-owner", "value"), State(f"{PAGE}-today", "data"),
          State(f"{PAGE}-lang", "data"))
def update(owner, today, lang):
    return render(current(), owner, parse_today(today), normalise_lang(lang))


def calendar_rows(snap, owner, today: date, lang: str) -> pd.DataFrame:
    """The calendar for ``today``, only ``owner``'s indicators when it names an owner."""
    frame = releases.calendar(snap.home_observations, snap.catalog, today, lang=lang)
    if owner == NO_OWNER:
        return frame[frame["owner"] == ""]
    if isinstance(owner, str) and owner in snap.catalog.agencies:
        return frame[frame["owner"] == owner]
    return frame


def render(snap, owner, today: date, lang: str):
    """One section per owner (those with overdue data first, as the calendar orders them)."""
    frame = calendar_rows(snap, owner, today, lang)
    if frame.empty:
        return empty_state(t("empty.no_rows", lang))
    sections = []
    for code in dict.fromkeys(frame["owner"]):
        rows = frame[frame["owner"] == code]
        name = rows["owner_name"].iloc[0] or t("calendar.no_owner", lang)
        overdue = int(rows["overdue"].sum())
        upcoming = int((~rows["overdue"] & rows["next_release"].notna()).sum())
        sections.append(html.Section([
            html.H2([name, html.Span(t("calendar.counts", lang, overdue=overdue, upcoming=upcoming),
                                     className="small text-muted fw-normal ms-2")], className="h6 fw-semibold mt-3"),
            _table(rows, lang, code or NO_OWNER),
        ], id=f"{PAGE}-owner-{code or NO_OWNER}"))
    return sections


def state_badge(row: dict, lang: str) -> html.Span:
    """Overdue (how long, and how many years missing) in red; upcoming or without a rule in grey; outlined."""
    if row["overdue"]:
        words = t("calendar.overdue_days", lang, days=row["days_overdue"])
        if row["years_overdue"] > 1:
            words += " · " + t("calendar.overdue_years", lang, n=row["years_overdue"])
        colour = OVERDUE_COLOUR
    else:
        words = t("calendar.upcoming" if row["next_release"] is not None else "calendar.no_rule", lang)
        colour = UPCOMING_COLOUR
    return html.Span(words, className="im-badge", style={"background": "#fff", "color": colour,
                                                          "border": f"2px solid {colour}"})


def _year(value, lang: str) -> str:
    return "–" if value is None or pd.isna(value) else t("calendar.year_of", lang, year=int(value))


def _table(rows: pd.DataFrame, lang: str, owner: str) -> html.Div:
    heads = [t(k, lang) for k in HEADS]
    body = []
    for row in rows.to_dict("records"):
        due = row["next_release"]
        cells = [
            [dcc.Link(row["name"], href=nav_href("/trend", lang, indicator=row["indicator"])), " ",
             metadata_link(row["indicator"], lang, compact=True)],
            _year(row["latest_year"], lang),
            _year(row["next_year"], lang),
            due.isoformat() if due is not None else "–",
            state_badge(row, lang),
            row["rule"],
        ]
        body.append(html.Tr([html.Td(c, **{"data-label": h}) for h, c in zip(heads, cells, strict=True)],
                            id=f"{PAGE}-row-{row['indicator']}", className="table-danger" if row["overdue"] else None,
                            **{"data-overdue": "1" if row["overdue"] else "0"}))
    head = html.Thead(html.Tr([html.Th(h, style={"width": w}) for h, w in zip(heads, WIDTHS, strict=True)]))
    table = dbc.Table([head, html.Tbody(body)], size="sm", className="mb-0 bg-white im-reflow")
    return html.Div(table, className="im-table-frame", id=f"{PAGE}-table-{owner}")


sync_url(PAGE, [("owner", f"{PAGE}-owner", "value")])
