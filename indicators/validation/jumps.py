"""Implausible jumps against the stored series: a value far from the stored one of the same key, or of the
nearest stored year (a unit or decimal-point slip). A warning, never an error.

What belongs here: the thresholds, the check and the message of its code. What does not: reading the
stored values (``store.current_values``, called by ``indicators.ingest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from indicators.i18n import Text
from indicators.store import KEY
from indicators.validation.messages import Message, register
from indicators.validation.report import Report, format_number

# A stored neighbour within this many years is the reference for the jump check.
JUMP_MAX_YEAR_GAP = 5
# Levels and counts: a value more than this many times (or less than 1/this of) the reference.
JUMP_RATIO = 3.0
# Shares and growth rates: a change of more than this many percentage points.
JUMP_POINTS = {"share": 10.0, "growth_rate": 20.0}
POINTS = Text("{points:+.3g} 个百分点", "{points:+.3g} percentage points")

PROBLEMS = register({
    "VALUE_JUMP": Message(
        "warning",
        "row",
        Text(
            "数值 {value} 与已存的 {ref_year} 年数值 {ref_value} 相比变化过大({change_zh}),请核对单位和小数点。",
            "Value {value} is far from the stored {ref_year} value {ref_value} ({change_en}); check the unit and "
            "the decimal point.",
        ),
    ),
})


@dataclass
class JumpReference:
    """Stored values an upload is compared with: the same key's current value, and its neighbours."""

    stored: pd.DataFrame  # indicator_code, region_code, year, value
    kinds: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def regions(self) -> np.ndarray:
        """The regions with a stored value (worked out once, however many parts of a file are checked)."""
        return self.stored["region_code"].unique()


def check_jumps(frame: pd.DataFrame, reference: JumpReference, report: Report) -> None:
    """Warn where a value is implausibly far from the stored series (a unit or decimal-point slip).

    The reference is the stored value of the same key when there is one (a revision), otherwise the
    nearest stored year of the same indicator and region within :data:`JUMP_MAX_YEAR_GAP` years. Levels and
    counts are compared as a ratio, shares and growth rates in percentage points; ranks are not compared.

    ``frame``: KEY, ``value``, ``row``, ``column``, and ``old_value`` (the same key's stored value, from the
    diff; NaN for a new key).
    """
    stored = reference.stored
    if frame.empty or stored.empty:
        return
    # Only series with something stored can jump: skip the (often many) rows of new regions at once.
    stored_series = frame["region_code"].isin(reference.regions).to_numpy()
    if not stored_series.any():
        return
    kind = frame["indicator_code"].map(reference.kinds)
    candidates = frame[kind.isin(["level", "count", *JUMP_POINTS]).to_numpy() & stored_series]
    if candidates.empty:
        return
    matched = candidates[candidates["old_value"].notna()].rename(columns={"old_value": "ref_value"})
    matched["ref_year"] = matched["year"]
    rest = candidates[candidates["old_value"].isna()].drop(columns="old_value")
    if len(rest):
        by = {"indicator_code": object, "region_code": object}
        near = pd.merge_asof(
            rest.reset_index().astype({"year": "int64", **by}).sort_values("year"),
            stored[KEY + ["value"]]
            .rename(columns={"year": "ref_year", "value": "ref_value"})
            .astype(by)
            .assign(year=lambda d: d["ref_year"].astype("int64"))
            .sort_values("year"),
            on="year",
            by=["indicator_code", "region_code"],
            direction="nearest",
            tolerance=JUMP_MAX_YEAR_GAP,
            allow_exact_matches=False,
        ).set_index("index")
        matched = pd.concat([matched, near[near["ref_value"].notna()]])
    if matched.empty:
        return
    _report_jumps(matched, matched["indicator_code"].map(reference.kinds), report)


def _report_jumps(matched: pd.DataFrame, kind: pd.Series, report: Report) -> None:
    new, ref = matched["value"].astype(float), matched["ref_value"].astype(float)
    is_ratio = kind.isin(["level", "count"])
    positive = (new > 0) & (ref > 0)
    ratio = np.where(positive, new / ref.where(positive, 1.0), 1.0)
    ratio_jump = is_ratio & positive & ((ratio > JUMP_RATIO) | (ratio < 1 / JUMP_RATIO))
    limit = kind.map(JUMP_POINTS).astype(float)
    point_jump = ~is_ratio & ((new - ref).abs() > limit)
    jumps = matched[(ratio_jump | point_jump).to_numpy()]
    if jumps.empty:
        return
    changes = []
    for n, r, by_ratio in zip(
        jumps["value"], jumps["ref_value"], is_ratio[ratio_jump | point_jump], strict=True
    ):
        if by_ratio:
            factor = n / r
            text = f"×{factor:.3g}" if factor >= 1 else f"÷{1 / factor:.3g}"
            changes.append(Text(text, text))
        else:
            changes.append(POINTS.format(points=n - r))
    report.add_rows(
        "VALUE_JUMP",
        pd.DataFrame(
            {
                "row": jumps["row"].to_numpy(),
                "column": jumps["column"].to_numpy(),
                "value": [format_number(float(v)) for v in jumps["value"]],
                "ref_year": jumps["ref_year"].astype("int64").to_numpy(),
                "ref_value": [format_number(float(v)) for v in jumps["ref_value"]],
                "change_zh": [c.zh for c in changes],
                "change_en": [c.en for c in changes],
            }
        ),
    )
