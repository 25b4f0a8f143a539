"""What a status rests on: series breaks crossed, weak or provisional values, and the caveats they give.

What belongs here: finding the series breaks between each row's baseline and latest value, turning a break
that makes the two values different quantities into the status ``not_comparable`` (no rate, no ratio), and
the caveat codes of every row with their sentences in Chinese and English. What does not: deciding the
other statuses (``method``), reading the database, or laying the sentences out on a page.

A caveat never changes a status except ``not_comparable``: it tells the reader what the status rests on.

=================  ==================================================================================
caveat             when
=================  ==================================================================================
low_confidence     the baseline or the latest value has confidence "low" or the flag ``u``
single_point       a target or trend row with exactly one value: no pace can be measured
crosses_break      a series break (or a ranking's new edition) lies after the baseline, up to the latest
provisional        the latest value is flagged ``p``
estimated          the latest value is flagged ``e``
definition_differs the baseline or the latest value is flagged ``d``
partial_period     a period average rests on part of the period
stale              the latest value is older than the indicator's release rhythm allows
=================  ==================================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.catalog import NOT_COMPARABLE_BREAKS, Catalog
from indicators.flags import codes
from indicators.i18n import Text

CAVEATS: dict[str, Text] = {
    "low_confidence": Text("所依据的基期值或最新值可信度低,状态仅供参考。",
                           "The baseline or the latest value is of low confidence: read this status as indicative."),
    "single_point": Text("只有一个数据点,无法测算变化速度。", "Only one data point: no pace can be measured."),
    "crosses_break": Text("基期与最新值之间有序列断点({years}),前后数值不完全可比。",
                          "A series break lies between the baseline and the latest value ({years}): "
                          "the values either side are not fully comparable."),
    "provisional": Text("最新值为初步数,可能修订。", "The latest value is provisional and may be revised."),
    "estimated": Text("最新值为估计数。", "The latest value is an estimate."),
    "definition_differs": Text("数值口径与指标定义不同。", "A value's definition differs from the indicator's."),
    "partial_period": Text("期间平均只依据期间的部分年份。", "The period average rests on part of the period only."),
    "stale": Text("最新数据较旧(最新年份{year}年)。", "The latest data are old (latest year {year})."),
}
# Caveats that make a status tentative: it is drawn as such (a dashed outline and a mark), never as a firm one.
# Low confidence always does. One value or a break crossed matter only where the status compares the latest
# value with the baseline (a pace, a rank change); a status judged on the latest value alone (met, in or
# out of a band) does not rest on that comparison.
TENTATIVE = ("low_confidence", "single_point", "crosses_break")
JUDGED_ON_LEVEL = ("achieved", "within_band", "above_band", "below_band", "insufficient_data", "not_comparable",
                   "qualitative")


def crossed_breaks(rows: pd.DataFrame, catalog: Catalog) -> tuple[pd.Series, pd.Series]:
    """Per row: the years of the series breaks after its baseline up to its latest value ("2021;2024"), and
    whether one of them makes the values not comparable (a change of scope).

    Breaks are the indicator's catalog ``breaks``, a ranking's editions (each may change the field;
    ``edition_breaks`` lists them separately as before) and values flagged ``b`` (``flagged_breaks``).
    Vectorised over the rows: one pass per distinct break year in the catalog (a handful).
    """
    found: dict[int, dict[str, bool]] = {}  # year -> indicator -> severs
    for ind in catalog.indicators.values():
        for b in ind.breaks:
            found.setdefault(b.year, {})[ind.code] = found.get(b.year, {}).get(ind.code, False) or (
                b.kind in NOT_COMPARABLE_BREAKS)
        for e in ind.editions:
            found.setdefault(e.year, {}).setdefault(ind.code, False)
    flagged = rows["flagged_breaks"].to_numpy(dtype=object) if "flagged_breaks" in rows else np.full(len(rows), "")
    years = np.full(len(rows), "", dtype=object)
    severs = np.zeros(len(rows), bool)
    base = rows["baseline_year"].astype("float64").to_numpy()
    latest = rows["latest_year"].astype("float64").to_numpy()
    indicator = rows["indicator"]
    for year in sorted(set(found) | {int(y) for f in flagged if f for y in str(f).split(";")}):
        per_indicator = found.get(year, {})
        hit = indicator.isin(list(per_indicator)).to_numpy() & (base < year) & (year <= latest)
        hit |= np.array([str(year) in str(f).split(";") if f else False for f in flagged], dtype=bool)
        cutting = [code for code, cut in per_indicator.items() if cut]
        cuts = indicator.isin(cutting).to_numpy() & hit
        years = np.where(hit, np.where(years == "", str(year), years + ";" + str(year)), years)
        severs |= cuts
    return pd.Series(years, index=rows.index, dtype=object), pd.Series(severs, index=rows.index)


def caveats(rows: pd.DataFrame) -> np.ndarray:
    """The caveat codes of every row, ";"-joined in the order of :data:`CAVEATS` ("" for none).

    ``rows`` needs the assessment's columns family/status, n_points, guard, stale, series_breaks and the
    baseline's and latest value's confidence and flags.
    """
    def flagged(col: str, code: str) -> np.ndarray:
        values = rows[col].astype(object)
        has = {text: code in codes(text) for text in pd.unique(values)}  # a few distinct flag texts
        return values.map(has).to_numpy(dtype=bool)

    scored = (rows["status"] != "qualitative").to_numpy()
    low = (rows["baseline_confidence"] == "low").to_numpy() | (rows["latest_confidence"] == "low").to_numpy()
    low |= flagged("baseline_flags", "u") | flagged("latest_flags", "u")
    conditions = {
        "low_confidence": low,
        "single_point": (rows["n_points"] == 1).to_numpy(),
        "crosses_break": (rows["series_breaks"] != "").to_numpy(),
        "provisional": flagged("latest_flags", "p"),
        "estimated": flagged("latest_flags", "e"),
        "definition_differs": flagged("baseline_flags", "d") | flagged("latest_flags", "d"),
        "partial_period": (rows["guard"] == "partial_period").to_numpy(),
        "stale": rows["stale"].to_numpy(dtype=bool) & (rows["n_points"] > 0).to_numpy(),
    }
    out = np.full(len(rows), "", dtype=object)
    for code, hit in conditions.items():
        hit = hit & scored
        out = np.where(hit, np.where(out == "", code, out + ";" + code), out)
    return out


def caveat_codes(value: object) -> list[str]:
    """The caveat codes of one row's ``caveats`` text."""
    return [c for c in str(value or "").split(";") if c in CAVEATS]


def caveat_sentences(row: dict | pd.Series, lang: str) -> list[str]:
    """One sentence per caveat of a row, in Chinese or English, with the row's break years and latest year."""
    params = {"years": ", ".join(str(row.get("series_breaks") or "").split(";")),
              "year": _year(row.get("latest_year"))}
    return [CAVEATS[c].pick(lang).format(**params) for c in caveat_codes(row.get("caveats"))]


def tentative_codes(value: object, status: object = None) -> list[str]:
    """The caveats of a row (its ``caveats`` text) that make its status tentative; see :data:`TENTATIVE`."""
    weak = ("low_confidence",) if status in JUDGED_ON_LEVEL else TENTATIVE
    return [c for c in caveat_codes(value) if c in weak]


def tentative(value: object, status: object = None) -> bool:
    """Whether a row's caveats make its status tentative (drawn as such, never as a firm status)."""
    return bool(tentative_codes(value, status))


def _year(value: object) -> str:
    try:
        return str(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "?"
