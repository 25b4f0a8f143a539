"""The release calendar ("联合多方监测"): who owes each indicator, which reference year is held, when the next one
is expected, and whether it is overdue.

What belongs here: the date a release rule expects a year's value (:func:`expected_release`) and the calendar
table (:func:`calendar`), a pure function of observations, the catalog and today's date. Not here: reading
the observations (``queries.observations``), the rules themselves (each indicator's ``release_rule`` in the
catalog), pages and reports that show the table.

A value is *overdue* when the date its rule expects it has passed and the year is not held. The expected
date is the last day of the month the rule names, so a release "in October" is overdue from 1 November.
"""

from __future__ import annotations

import calendar as _months
from datetime import date

import pandas as pd

from indicators.catalog import Catalog, ReleaseRule
from indicators.i18n import Text

CALENDAR_COLUMNS = ["indicator", "name", "owner", "owner_name", "latest_year", "next_year", "next_release",
                    "overdue", "days_overdue", "years_overdue", "rule"]
OVERDUE = Text("逾期", "overdue")
NO_RULE = Text("无固定发布", "no regular release")


def expected_release(rule: ReleaseRule, year: int) -> date:
    """The last day by which ``rule`` expects the value of reference year ``year``."""
    if rule.kind == "after_year":
        months = (year + 1) * 12 + (rule.months or 0) - 1  # months 0: the end of the reference year itself
        y, m = divmod(months, 12)
        m += 1
    else:
        y, m = year + rule.year_offset, rule.month or 12
    return date(y, m, _months.monthrange(y, m)[1])


def rule_text(rule: ReleaseRule | None, lang: str = "zh") -> str:
    """A rule in words: "reference year + 10 months" / "ranking, each November"."""
    if rule is None:
        return NO_RULE.pick(lang)
    if rule.kind == "after_year":
        text = Text(f"参考年度结束后约{rule.months}个月", f"about {rule.months} months after the reference year")
    else:
        later = Text(f"(数据年份后第{rule.year_offset}年)" if rule.year_offset else "",
                     f" of the year +{rule.year_offset}" if rule.year_offset else "")
        text = Text(f"榜单,每年{rule.month}月{later.zh}", f"ranking, month {rule.month}{later.en}")
    return text.pick(lang)


def calendar(observations: pd.DataFrame, catalog: Catalog, today: date, *, region: str | None = None,
             lang: str = "zh") -> pd.DataFrame:
    """One row per indicator of the catalog: its owner, the latest reference year held for ``region`` (default:
    the home region), the next year expected and when, and whether it is overdue.

    ``observations``: columns ``indicator``, ``region``, ``year`` (as ``queries.observations`` returns; other
    columns are ignored). ``next_year``/``next_release``: the first year not held after the latest held one;
    with nothing held, the latest year already due (so it is overdue). ``years_overdue``: how
    many years after the latest held one are due and missing. Rows: overdue first (longest first), then the
    rest by expected date, indicators without a rule last. Columns: :data:`CALENDAR_COLUMNS`.
    """
    region = region or catalog.programme.home_region
    held = observations.loc[observations["region"] == region, ["indicator", "year"]]
    latest = held.groupby("indicator")["year"].max()
    rows = []
    for ind in catalog.ordered_indicators():
        owner = catalog.agencies.get(ind.owner) if ind.owner else None
        year = int(latest[ind.code]) if ind.code in latest.index else None
        row: dict[str, object] = {"indicator": ind.code, "name": ind.short_name.pick(lang), "owner": ind.owner or "",
               "owner_name": owner.name.pick(lang) if owner else "", "latest_year": year, "next_year": None,
               "next_release": None, "overdue": False, "days_overdue": 0, "years_overdue": 0,
               "rule": rule_text(ind.release_rule, lang)}
        rule = ind.release_rule
        if rule is not None:
            next_year = year + 1 if year is not None else _first_expected(rule, today)
            due = expected_release(rule, next_year)
            missing = 0
            while expected_release(rule, next_year + missing) < today:
                missing += 1
            row.update(next_year=next_year, next_release=due, overdue=due < today,
                       days_overdue=max(0, (today - due).days), years_overdue=missing)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=CALENDAR_COLUMNS)
    frame = frame.astype({"latest_year": "Int64", "next_year": "Int64", "overdue": bool, "days_overdue": "int64",
                          "years_overdue": "int64"})
    order = frame.assign(_none=frame["next_release"].isna(), _late=-frame["days_overdue"],
                         _due=frame["next_release"].map(lambda d: d or date.max))
    order = order.sort_values(["_none", "_late", "_due"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


def _first_expected(rule: ReleaseRule, today: date) -> int:
    """With nothing held: the latest reference year already due by ``today`` (rules expect a year within a
    few years of its end, so the search is short)."""
    year = today.year
    while expected_release(rule, year) >= today:
        year -= 1
    return year
