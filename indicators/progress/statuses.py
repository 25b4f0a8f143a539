"""The status codes of the progress methods: their order from best to worst, and counts of them (roll-up).

What belongs here: the codes as stable machine values, :data:`STATUS_ORDER` and :data:`EXPECTED_STATUS_ORDER`,
ranking a status (one value or whole columns), the mirrored status, and the roll-up of an assessment into
counts by status per pillar. What does not: deciding a status (``method``), or its words in Chinese and
English (``wording``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

STATUS_ORDER = [
    "achieved", "within_band", "above_band", "on_track", "significant_progress", "moderate",
    "moderate_progress", "rank_improved", "insufficient", "rank_unchanged", "moderate_away", "below_band",
    "moving_away", "significant_away", "rank_worsened", "not_comparable", "insufficient_data", "qualitative",
]
EXPECTED_STATUS_ORDER = ["achieved", "on_track", "acceleration_needed", "stagnation_or_regression"]
ROLLUP_COLUMNS = ["level", "pillar", "n", *STATUS_ORDER, "n_scored", "mean_score"]


def status_rank(status: str, direction: str = "higher") -> int:
    """Position of a status from best (0) to worst, for sorting and "never worse" comparisons.

    Band codes are geometric (above / below the band), so their place depends on the indicator's direction:
    overshooting an "about X" target on the favourable side ranks with ``within_band``, the unfavourable side
    with ``below_band``; with no favourable side (direction ``band``) both rank with ``below_band``.
    """
    favourable = {"higher": "above_band", "lower": "below_band"}.get(direction)
    if status in ("above_band", "below_band"):
        return STATUS_ORDER.index("within_band" if status == favourable else "below_band")
    return STATUS_ORDER.index(status)


def status_ranks(status: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """:func:`status_rank` on whole columns."""
    rank = pd.Series(status, dtype=object).map({s: n for n, s in enumerate(STATUS_ORDER)}).to_numpy()
    band = (status == "above_band") | (status == "below_band")
    up = (status == "above_band") & (direction == "higher")
    up |= (status == "below_band") & (direction == "lower")
    rank = np.where(band, STATUS_ORDER.index("below_band"), rank)
    return np.where(up, STATUS_ORDER.index("within_band"), rank).astype("int64")


def mirror_status(status: str) -> str:
    """The status of the mirrored series (values negated, direction reversed): above and below swap."""
    return {"above_band": "below_band", "below_band": "above_band"}.get(status, status)


def rollup(assessment: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """Counts by status and the mean Open SDG score, per pillar and overall (``pillar == "all"``).

    Each indicator x region x plan counts once: a target with several milestones counts with its next one (the
    first in or after today's year; the last one once all have passed). Rows without a target count as they
    are. Filter the assessment by region first to roll up one region.
    """
    year = (today or date.today()).year
    frame = assessment.assign(_ms=assessment["milestone_year"].astype("float64"))
    frame["_past"] = frame["_ms"] < year  # NaN (no milestone) compares False: never past
    # Upcoming milestones first (earliest first), then past ones (latest first); keep the first per series.
    frame["_key"] = np.where(frame["_past"], -frame["_ms"], frame["_ms"])
    frame = frame.sort_values(["_past", "_key"], kind="stable", na_position="first")
    chosen = frame.drop_duplicates(["indicator", "region", "plan"], keep="first")
    parts = [_count(chosen[chosen["pillar"] == p], "pillar", p) for p in dict.fromkeys(assessment["pillar"])]
    parts.append(_count(chosen, "all", "all"))
    return pd.DataFrame(parts, columns=ROLLUP_COLUMNS)


def _count(frame: pd.DataFrame, level: str, pillar: str) -> dict:
    counts = frame["status"].value_counts()
    scored = frame["score"].dropna().astype(float)
    return {
        "level": level, "pillar": pillar, "n": len(frame), **{s: int(counts.get(s, 0)) for s in STATUS_ORDER},
        "n_scored": len(scored), "mean_score": float(scored.mean()) if len(scored) else np.nan,
    }
