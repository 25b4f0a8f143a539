"""Properties of the progress methods, on generated series (hypothesis; modest example counts).

- Raising the latest value of a higher-is-better indicator never makes its status worse.
- A mirrored series (values, base and target negated) under the reversed direction gets the mirrored status.
- A series exactly on the required path is on track.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.catalog import Base, Milestone, Target
from indicators.progress import assess, mirror_status, status_rank

from .support import make_catalog, make_indicator, text

TODAY = date(2026, 6, 1)
BASE_YEAR, MILESTONE = 2020, 2030
EXAMPLES = settings(max_examples=40, deadline=None)
MIRRORED = {"at_least": "at_most", "at_most": "at_least", "exceed": "exceed", "about": "about",
            "none": "none"}

values = st.floats(min_value=0.01, max_value=1000, allow_nan=False, allow_subnormal=False)
signed = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_subnormal=False)
years = st.lists(st.integers(BASE_YEAR + 1, MILESTONE - 1), min_size=1, max_size=6, unique=True).map(sorted)
growths = st.sampled_from(["compound", "linear"])
tolerances = st.one_of(st.none(), st.floats(min_value=0.01, max_value=50, allow_nan=False))


def target(qualifier: str, base: float, value: float, tolerance: float | None) -> Target:
    if qualifier == "none":
        return Target(plan="bj-14fyp-iscc", region="beijing", qualifier="none",
                      base=Base(year=BASE_YEAR, value=base), wording=text("context"), quote="test",
                      source="test", confidence="medium")
    return Target(plan="bj-14fyp-iscc", region="beijing", qualifier=qualifier,
                  base=Base(year=BASE_YEAR, value=base), milestones=[Milestone(year=MILESTONE, value=value)],
                  tolerance=tolerance if qualifier == "about" else None, wording=text(qualifier),
                  quote="test", source="test", confidence="medium")


def assess_one(catalog, *, direction, growth, qualifier, base, goal, tolerance, points) -> pd.Series:
    """The single row of a one-indicator catalog with this target and these (year, value) points."""
    goals = [target(qualifier, base, goal, tolerance)]
    ind = make_indicator("X", direction=direction, growth=growth, targets=goals)
    obs = pd.DataFrame([{"indicator": "X", "region": "beijing", "year": y, "value": v} for y, v in points])
    rows = assess(obs, make_catalog(catalog, [ind]), today=TODAY)
    assert len(rows) == 1
    return rows.iloc[0]


@EXAMPLES
@given(growth=growths, qualifier=st.sampled_from(["at_least", "exceed", "about", "none"]), base=values,
       goal=values, tolerance=tolerances, when=years, data=st.data(),
       raise_by=st.floats(min_value=1e-6, max_value=2000, allow_nan=False))
def test_raising_the_latest_value_never_makes_the_status_worse(catalog, growth, qualifier, base, goal,
                                                               tolerance, when, data, raise_by):
    series = [(y, data.draw(values)) for y in when]
    common = {"direction": "higher", "growth": growth, "qualifier": qualifier, "base": base, "goal": goal,
              "tolerance": tolerance}
    before = assess_one(catalog, points=series, **common)
    raised = series[:-1] + [(series[-1][0], series[-1][1] + raise_by)]
    after = assess_one(catalog, points=raised, **common)
    assert status_rank(after["status"], "higher") <= status_rank(before["status"], "higher"), (
        before["status"], after["status"])


@EXAMPLES
@given(growth=growths, qualifier=st.sampled_from(sorted(MIRRORED)), base=signed, goal=signed,
       tolerance=tolerances, when=years, data=st.data())
def test_mirrored_series_under_reversed_direction_gets_the_mirrored_status(catalog, growth, qualifier, base,
                                                                          goal, tolerance, when, data):
    series = [(y, data.draw(signed)) for y in when]
    original = assess_one(catalog, direction="higher", growth=growth, qualifier=qualifier, base=base,
                          goal=goal, tolerance=tolerance, points=series)
    mirrored = assess_one(catalog, direction="lower", growth=growth, qualifier=MIRRORED[qualifier],
                          base=-base, goal=-goal, tolerance=tolerance, points=[(y, -v) for y, v in series])
    assert mirrored["status"] == mirror_status(original["status"])
    assert status_rank(mirrored["status"], "lower") == status_rank(original["status"], "higher")
    assert mirrored["guard"] == original["guard"]
    for col in ("ratio", "score", "expected_score", "gap", "gap_to_path"):
        np.testing.assert_allclose(mirrored[col], original[col], rtol=1e-9, err_msg=col)


@EXAMPLES
@given(growth=growths, direction=st.sampled_from(["higher", "lower"]),
       qualifier=st.sampled_from(["at_least", "exceed", "about"]),
       base=st.floats(min_value=1, max_value=1000), factor=st.floats(min_value=1.2, max_value=5), when=years)
def test_a_series_exactly_on_the_required_path_is_on_track(catalog, growth, direction, qualifier, base,
                                                           factor, when):
    goal = base * factor if direction == "higher" else base / factor
    if qualifier == "at_least" and direction == "lower":
        qualifier = "at_most"
    share = [(y - BASE_YEAR) / (MILESTONE - BASE_YEAR) for y in when]
    if growth == "compound":
        series = [(y, base * (goal / base) ** s) for y, s in zip(when, share, strict=True)]
    else:
        series = [(y, base + (goal - base) * s) for y, s in zip(when, share, strict=True)]
    # a narrow band, so the baseline is outside it and the plan asks to move into it
    row = assess_one(catalog, direction=direction, growth=growth, qualifier=qualifier, base=base, goal=goal,
                     tolerance=abs(goal - base) / 20 if qualifier == "about" else None, points=series)
    np.testing.assert_allclose(row["ratio"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(row["gap_to_path"], 0.0, atol=1e-9 * max(base, goal))
    assert row["ratio_status"] == "on_track"
    if qualifier != "about":
        assert row["status"] == "on_track"
    else:
        assert not row["maintain"] and row["status"] in ("within_band", "below_band", "above_band")
