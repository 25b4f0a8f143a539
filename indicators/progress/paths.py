"""Trajectories for the trend chart: the path the plan requires, and the current pace carried forward.

What belongs here: yearly values of the required path (:func:`required_path`, and :func:`path_value` on
arrays, which the assessment reads at the latest year) and of the projection at the current pace
(:func:`projection`). What does not: the rates themselves (``method`` computes them), or drawing (``figures``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def required_path(baseline_year: int, baseline_value: float, milestone_year: int, target: float,
                  growth: str) -> pd.DataFrame:
    """Yearly values of the path the plan requires: compound (constant growth) or linear (constant change).

    A compound path needs a baseline and a target of the same sign; from or to zero, or across it, the path
    is a straight line.
    """
    if milestone_year < baseline_year:
        return _no_years()
    years = np.arange(int(baseline_year), int(milestone_year) + 1)
    if milestone_year == baseline_year:
        return pd.DataFrame({"year": years, "value": [float(target)]})
    full = np.ones(len(years))
    values = path_value(full * baseline_year, full * baseline_value, full * milestone_year, full * target,
                        full.astype(bool) & (growth == "compound"), years.astype(float))
    return pd.DataFrame({"year": years, "value": values})


def projection(latest_year: int, latest_value: float, until_year: int, actual_rate: float,
               growth: str) -> pd.DataFrame:
    """The current pace carried forward: ``actual_rate`` in %/yr (compound) or units per year (linear)."""
    if until_year < latest_year or actual_rate is None or not np.isfinite(actual_rate):
        return _no_years()
    years = np.arange(int(latest_year), int(until_year) + 1)
    steps = years - latest_year
    values: np.ndarray
    if growth == "compound":
        values = latest_value * np.power(1.0 + actual_rate / 100.0, steps)
    else:
        values = latest_value + actual_rate * steps
    return pd.DataFrame({"year": years, "value": values.astype(float)})


def path_value(t0: np.ndarray, y0: np.ndarray, ty: np.ndarray, target: np.ndarray, compound: np.ndarray,
               at: np.ndarray) -> np.ndarray:
    """The required path from (t0, y0) to (ty, target) at year ``at``, on arrays.

    Compound only between two values of the same sign; from or to zero, or across it, a straight line.
    """
    with np.errstate(all="ignore"):
        frac = (at - t0) / (ty - t0)
        geometric = compound & (y0 * target > 0)
        return np.where(geometric, y0 * np.power(target / y0, frac), y0 + (target - y0) * frac)


def _no_years() -> pd.DataFrame:
    return pd.DataFrame({"year": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
