"""The published progress methods of ``METHODS.md``, vectorised: every row of an assessment judged at once.

What belongs here: :func:`assess` and its stages on whole columns: the observed pace, what the plan requires
(the Eurostat / Statistics Canada (Open SDG) ratio R), the distance to the target and to the required path,
the UN expected-value outlook, the verdict (status, Open SDG score, UN status), the guards, and when the
target was or would be met. Each stage is a function returning a typed record of numpy arrays that the next
stages read. What does not: choosing the rows and their data points (``rows``), the words of a status
(``wording``), trajectories for charts (``paths``), counts by status (``statuses``), or any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from indicators.catalog import Catalog, Methods
from indicators.progress.caveats import caveats, crossed_breaks
from indicators.progress.paths import path_value
from indicators.progress.rows import BAND, NO_TARGET, QUALITATIVE, RANK_TARGET, THRESHOLD, rows_to_assess
from indicators.progress.statuses import EXPECTED_STATUS_ORDER, status_ranks

# Open SDG replaces a base or target of exactly zero by this small number (sdg-build ProgressMeasure).
EPSILON = 0.001
# Slack at a target or band edge: 17 * 0.05 is 0.8500000000000001 in binary, and a value published as 16.15
# must count as on the edge. Relative to the target's size; far below any published precision.
EDGE_SLACK = 1e-9
# A projected attainment later than this is reported as "not at the current pace".
ATTAINMENT_HORIZON = 2100
# Stale when today's year minus the latest year exceeds this: annual statistics for year Y appear during
# Y+1, so in 2026 an annual series whose latest year is 2024 is current and one ending in 2023 is stale.
STALE_AFTER_YEARS = {"annual": 2, "quarterly": 1, "monthly": 1}
SCORE_MAX = 5.0

ASSESSMENT_COLUMNS = [
    # what is assessed
    "indicator", "region", "plan", "plans", "pillar", "kind", "unit", "direction", "growth", "qualifier",
    "milestone_year", "target", "target_text", "target_text_en", "wording", "wording_en", "tolerance",
    "band_low", "band_high", "maintain", "period_average", "evidence",
    # the data
    "plan_base_year", "baseline_year", "baseline_value", "baseline_source", "baseline_basis", "latest_year",
    "latest_value", "n_points", "period_mean", "stale",
    # what the status rests on
    "baseline_confidence", "baseline_flags", "latest_confidence", "latest_flags", "series_breaks", "caveats",
    # distance
    "gap", "gap_relative", "progress_share", "path_value_latest", "gap_to_path",
    # pace (ratio method)
    "actual_rate", "annual_growth_pct", "required_rate", "required_rate_from_latest", "rate_unit", "ratio",
    "ratio_status",
    # the verdict
    "status", "status_rank", "score", "guard",
    # UN expected-value method and projection
    "expected_at_target", "expected_score", "expected_status", "method_disagreement", "attainment_year",
    # ranks
    "rank_change", "edition_breaks",
]
GUARDS = ("no_data", "one_point", "sign_change", "target_sign", "zero_base", "zero_target", "partial_period",
          "no_direction")

# Each method's reading in three classes (on track / progress / away), to flag when the two disagree.
_RATIO_CLASS = {"on_track": "on", "moderate": "progress", "insufficient": "progress", "moving_away": "away"}
_UN_CLASS = {"on_track": "on", "acceleration_needed": "progress", "stagnation_or_regression": "away"}


def assess(
    observations: pd.DataFrame,
    catalog: Catalog,
    *,
    today: date | None = None,
    plan: str | None = None,
    region: str | None = None,
) -> pd.DataFrame:
    """Every indicator x region x milestone against its target, and every other series by its trend.

    See the package docstring for the rows and :data:`ASSESSMENT_COLUMNS` for the columns. ``today`` sets the
    staleness check (default: the current date); ``plan`` and ``region`` (codes) filter the rows.
    """
    today = today or date.today()
    if plan is not None and plan not in catalog.plans:
        raise ValueError(f"unknown plan {plan!r}")
    rows, points = rows_to_assess(observations, catalog, plan=plan, region=region)
    if rows.empty:
        return _empty_assessment()
    evaluation = _evaluate(Inputs.of(rows), catalog.methods)
    rows = _with_results(rows, evaluation, today)
    rows["attainment_year"] = _attainment_year(rows, points, evaluation)
    rows = _edition_breaks(rows, catalog)
    rows = _rests_on(rows, catalog)
    return _finish(rows)


# The stages' records: one element per row in every array, in the order of the rows.


@dataclass(frozen=True)
class Inputs:
    """The rows as aligned arrays (numbers as float, NaN where absent), in METHODS.md's notation."""

    y0: np.ndarray  # baseline value, at year t0
    t0: np.ndarray
    yt: np.ndarray  # latest value, at year t
    t: np.ndarray
    target: np.ndarray  # yT, at the milestone year ty
    ty: np.ndarray
    low: np.ndarray  # the band of an "about X" target
    high: np.ndarray
    family: np.ndarray  # how the row is assessed (rows.THRESHOLD, BAND, ...)
    qualifier: np.ndarray
    direction: np.ndarray
    compound: np.ndarray  # compound growth, else linear
    is_rank: np.ndarray
    period: np.ndarray  # the target is an average over a period
    n: np.ndarray  # number of data points
    has_data: np.ndarray
    two: np.ndarray  # two points or more: a pace can be measured
    period_years: np.ndarray  # length of the averaging period (to flag a provisional average), else 0
    d: np.ndarray  # +1 higher is better (or a band), -1 lower is better
    favourable: np.ndarray  # +1 higher is better, -1 lower is better, 0 no favourable side
    value: np.ndarray  # the value judged against the target: the latest, or the period's mean
    slack: np.ndarray  # EDGE_SLACK relative to the target's size

    @classmethod
    def of(cls, rows: pd.DataFrame) -> Inputs:
        def number(col: str) -> np.ndarray:
            return rows[col].to_numpy(dtype=float)

        period = (rows["period_average"] != "").to_numpy()
        direction = rows["direction"].to_numpy()
        n = rows["n_points"].to_numpy()
        yt, target = number("latest_value"), number("target")
        return cls(
            y0=number("baseline_value"), t0=number("baseline_year"), yt=yt, t=number("latest_year"),
            target=target, ty=number("milestone_year"), low=number("band_low"), high=number("band_high"),
            family=rows["family"].to_numpy(), qualifier=rows["qualifier"].to_numpy(), direction=direction,
            compound=(rows["growth"] == "compound").to_numpy(), is_rank=(rows["kind"] == "rank").to_numpy(),
            period=period, n=n, has_data=n > 0, two=n >= 2,
            period_years=np.where(period, number("win_end") - rows["win_start"] + 1, 0.0),
            d=np.where(direction == "lower", -1.0, 1.0),
            favourable=np.select([direction == "higher", direction == "lower"], [1.0, -1.0], 0.0),
            value=np.where(period, number("period_mean"), yt),
            slack=EDGE_SLACK * np.maximum(1.0, np.abs(target)),
        )


@dataclass(frozen=True)
class Pace:
    """Observed annual change from the baseline."""

    base: np.ndarray  # y0, a zero replaced by ±EPSILON (Open SDG)
    sign: np.ndarray  # -1 where compound growth starts from a negative base, else +1
    sign_change: np.ndarray  # compound growth across zero: not computed
    ok: np.ndarray  # a pace is computed
    rate: np.ndarray  # per year: a fraction (compound) or units (linear)
    actual: np.ndarray  # as reported: %/yr (compound) or units/yr (linear)
    growth_pct: np.ndarray  # %/yr, a linear change relative to the baseline's size (no-target classification)


@dataclass(frozen=True)
class Requirement:
    """What the plan requires from the baseline and from the latest year, and the ratio R."""

    maintain: np.ndarray  # "about X" with the baseline already in the band: nothing to grow towards
    applies: np.ndarray  # the ratio method applies to the row
    target_sign: np.ndarray  # compound growth cannot cross zero to the target
    ok: np.ndarray  # a required rate and a ratio are computed
    rate: np.ndarray  # required per year, as Pace.rate
    required: np.ndarray  # as reported, as Pace.actual
    moving: np.ndarray  # the pace in the desired direction
    ratio: np.ndarray  # R
    from_latest: np.ndarray  # required from the latest year, as reported


@dataclass(frozen=True)
class Distance:
    """Shortfalls in the desired direction: to the target, and to the required path at the latest year."""

    gap: np.ndarray
    gap_relative: np.ndarray
    progress_share: np.ndarray  # of the distance from the baseline to the target
    path: np.ndarray  # the required path's value at the latest year
    gap_to_path: np.ndarray


@dataclass(frozen=True)
class Outlook:
    """UN expected-value method: the value expected at the milestone year at the current pace, and its score."""

    expected: np.ndarray
    score: np.ndarray


@dataclass(frozen=True)
class Verdict:
    """The statuses of every family, the Open SDG score, the UN status and whether the two methods disagree."""

    ratio_status: np.ndarray
    achieved: np.ndarray
    status: np.ndarray
    met: np.ndarray  # achieved, within the band, or beyond it on the favourable side
    score: np.ndarray
    expected_status: np.ndarray
    disagree: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    """Every stage's record for the same rows."""

    inputs: Inputs
    pace: Pace
    requirement: Requirement
    distance: Distance
    outlook: Outlook
    verdict: Verdict


# The stages.


def _evaluate(x: Inputs, methods: Methods) -> Evaluation:
    """The methods on whole columns at once: pace, requirement, distance, outlook, verdict."""
    with np.errstate(all="ignore"):
        pace = _pace(x)
        requirement = _requirement(x, pace)
        distance = _distance(x, requirement)
        outlook = _outlook(x, pace, requirement)
    verdict = _verdict(x, pace, requirement, outlook, methods)
    return Evaluation(x, pace, requirement, distance, outlook, verdict)


def _pace(x: Inputs) -> Pace:
    """Observed annual change from the baseline: compound (CAGR) or linear, with Open SDG's guards."""
    # A zero base becomes ±epsilon with the sign of the latest value (else of the target), so a mirrored
    # series is treated mirrored; a value that did not change grew by 0, not by -100 %.
    ref = np.where(x.yt != 0, x.yt, np.where(np.isfinite(x.target) & (x.target != 0), x.target, 1.0))
    base = np.where(x.y0 == 0, EPSILON * np.where(ref < 0, -1.0, 1.0), x.y0)
    sign_change = x.compound & x.two & (base * x.yt < 0)
    ok = x.two & ~sign_change & ~x.is_rank & ~x.period
    span = x.t - x.t0
    cagr = np.where(x.yt == x.y0, 0.0, np.power(x.yt / base, 1.0 / span) - 1.0)
    slope = (x.yt - x.y0) / span
    rate = np.where(ok, np.where(x.compound, cagr, slope), np.nan)
    return Pace(
        base=base, sign=np.where(x.compound & (base < 0), -1.0, 1.0), sign_change=sign_change, ok=ok, rate=rate,
        actual=np.where(x.compound, rate * 100.0, rate),
        growth_pct=np.where(ok, np.where(x.compound, cagr, slope / np.abs(base)) * 100.0, np.nan),
    )


def _requirement(x: Inputs, pace: Pace) -> Requirement:
    """Required growth from the baseline and from the latest year, and the ratio R of actual to required."""
    base_in_band = (x.y0 >= x.low - x.slack) & (x.y0 <= x.high + x.slack)
    # "Stay at about X" when the baseline is already in the band: nothing to grow towards, no ratio.
    maintain = (x.family == BAND) & ~x.period & x.has_data & base_in_band
    applies = (x.family == THRESHOLD) | ((x.family == BAND) & ~x.period & ~maintain)
    target = np.where(x.target == 0, EPSILON * np.where(pace.base < 0, -1.0, 1.0), x.target)
    target_sign = x.compound & (target * pace.base < 0)
    ok = applies & pace.ok & ~target_sign & (x.ty > x.t0)
    span = x.ty - x.t0
    rate = np.where(ok, np.where(x.compound, np.power(target / pace.base, 1.0 / span) - 1.0,
                                 (x.target - x.y0) / span), np.nan)
    moving = pace.sign * x.d * pace.rate

    left = x.ty - x.t
    reachable = applies & x.has_data & (left > 0) & ~(x.compound & (x.yt * target <= 0))
    from_latest = np.where(x.compound, (np.power(target / x.yt, 1.0 / left) - 1.0) * 100.0, (x.target - x.yt) / left)
    return Requirement(
        maintain=maintain, applies=applies, target_sign=target_sign, ok=ok, rate=rate,
        required=np.where(x.compound, rate * 100.0, rate), moving=moving,
        ratio=np.where(ok & (rate != 0), moving / np.abs(rate), np.nan),
        from_latest=np.where(reachable, from_latest, np.nan),
    )


def _distance(x: Inputs, requirement: Requirement) -> Distance:
    """The gap to the target (none for a goal), the share of the way covered, and the gap to the path."""
    gap = np.where(x.family != QUALITATIVE, x.d * (x.target - x.value), np.nan)
    moves = (x.family == THRESHOLD) | (x.family == RANK_TARGET)
    moves |= (x.family == BAND) & ~requirement.maintain & ~x.period
    share = (x.yt - x.y0) / (x.target - x.y0)
    path = path_value(x.t0, x.y0, x.ty, x.target, x.compound & ~x.is_rank, x.t)
    path = np.where(moves & x.has_data & (x.ty > x.t0), path, np.nan)
    return Distance(
        gap=gap, gap_relative=np.where(x.target != 0, gap / np.abs(x.target), np.nan),
        progress_share=np.where(moves & x.has_data & (x.target != x.y0), share, np.nan),
        path=path, gap_to_path=x.d * (path - x.yt),
    )


def _outlook(x: Inputs, pace: Pace, requirement: Requirement) -> Outlook:
    """UN expected-value method: the value expected at the target year at the current pace, and its score."""
    ahead = x.ty - x.t
    expected = np.where(x.compound, x.yt * np.power(1.0 + pace.rate, ahead), x.yt + pace.rate * ahead)
    targeted = (x.family != NO_TARGET) & (x.family != QUALITATIVE)
    expected = np.where(pace.ok & targeted & (ahead >= 0), expected, np.nan)
    score = (expected - x.y0) / (x.target - x.y0)
    return Outlook(expected=expected, score=np.where(requirement.ok & (x.target != x.y0), score, np.nan))


def _verdict(x: Inputs, pace: Pace, requirement: Requirement, outlook: Outlook, methods: Methods) -> Verdict:
    """Statuses of every family, the Open SDG score, the UN status and the disagreement flag."""
    th = methods.ratio_thresholds
    r = requirement.ratio
    ratio_status = np.select(
        [r >= th.on_track, r >= th.moderate, r >= th.insufficient, r < th.insufficient],
        ["on_track", "moderate", "insufficient", "moving_away"], default=None,  # type: ignore[call-overload]
    ).astype(object)  # numpy's stubs allow no None default, which an object array needs
    # Target equal to the baseline: no required growth to divide by; not met means it moved the wrong way.
    flat = requirement.ok & (requirement.rate == 0)
    ratio_status[flat] = np.where(requirement.moving[flat] < 0, "moving_away", "insufficient")

    yt, target, slack, qual, fam = x.yt, x.target, x.slack, x.qualifier, x.family
    achieved = np.select(
        [qual == "at_least", qual == "at_most", qual == "exceed", qual == "top_n"],
        [yt >= target - slack, yt <= target + slack, x.d * (yt - target) > slack, yt <= target + slack],
        default=False) & x.has_data & ((fam == THRESHOLD) | (fam == RANK_TARGET))

    in_band = (x.value >= x.low - slack) & (x.value <= x.high + slack)
    band = np.where(in_band, "within_band", np.where(x.value > x.high + slack, "above_band", "below_band"))
    rank_move = x.d * (x.yt - x.y0)
    rank = np.select([rank_move > 0, rank_move < 0], ["rank_improved", "rank_worsened"], "rank_unchanged")
    cut = methods.no_target_cutoffs
    desired = pace.sign * x.d * pace.growth_pct
    trend = np.select([desired >= cut.significant, desired >= cut.moderate, desired > cut.moderate_away],
                      ["significant_progress", "moderate_progress", "moderate_away"], "significant_away")
    status = np.select(
        [fam == QUALITATIVE, ~x.has_data, fam == BAND, achieved, (fam == RANK_TARGET) & x.two,
         (fam == THRESHOLD) & pd.notna(ratio_status), (fam == NO_TARGET) & x.is_rank & x.two,
         (fam == NO_TARGET) & pace.ok & (x.favourable != 0)],
        ["qualitative", "insufficient_data", band, "achieved", rank, ratio_status, rank, trend],
        default="insufficient_data").astype(object)

    fav = x.favourable
    overshoot = ((status == "above_band") & (fav > 0)) | ((status == "below_band") & (fav < 0))
    met = (status == "achieved") | (status == "within_band") | overshoot
    score = np.where(met, SCORE_MAX, np.where(requirement.applies, open_sdg_score(r), np.nan))

    ev = methods.expected_value_thresholds
    expected_status = np.select(
        [achieved, outlook.score >= ev.on_track, outlook.score >= ev.progress, outlook.score < ev.progress],
        EXPECTED_STATUS_ORDER, default=None,  # type: ignore[call-overload]
    ).astype(object)
    ratio_class = pd.Series(ratio_status, dtype=object).map(_RATIO_CLASS).to_numpy()
    un_class = pd.Series(expected_status, dtype=object).map(_UN_CLASS).to_numpy()
    disagree = pd.notna(ratio_class) & pd.notna(un_class) & (ratio_class != un_class) & ~achieved
    return Verdict(ratio_status=ratio_status, achieved=achieved, status=status, met=met, score=score,
                   expected_status=expected_status, disagree=disagree)


def open_sdg_score(ratio: np.ndarray) -> np.ndarray:
    """Open SDG's score of R: 7.1429 R - 4.2857 for R >= 0.6, else 4.1667 R - 2.5; capped to [-5, 5]."""
    with np.errstate(invalid="ignore"):
        return np.where(ratio >= 0.6, np.minimum(7.1429 * ratio - 4.2857, SCORE_MAX),
                        np.maximum(4.1667 * ratio - 2.5, -SCORE_MAX))


def _guard(x: Inputs, pace: Pace, requirement: Requirement) -> np.ndarray:
    """Why a figure is missing or was computed with a substitute (the first reason that applies)."""
    reasons = [
        ("", x.family == QUALITATIVE),
        ("no_data", ~x.has_data),
        ("partial_period", x.period & (x.n < x.period_years)),
        ("sign_change", pace.sign_change),
        ("target_sign", requirement.applies & x.two & requirement.target_sign),
        ("one_point", ~x.two & (x.family != BAND)),
        ("zero_base", x.compound & x.two & (x.y0 == 0)),
        ("zero_target", x.compound & requirement.ok & (x.target == 0)),
        ("no_direction", (x.family == NO_TARGET) & (x.favourable == 0) & ~x.is_rank),
    ]
    return np.select([cond for _, cond in reasons], [code for code, _ in reasons], default="")


# From the records to the assessment's columns.


def _with_results(rows: pd.DataFrame, evaluation: Evaluation, today: date) -> pd.DataFrame:
    """The rows with the stages' results as columns, the staleness check and the unit of the rates."""
    x, pace, requirement, distance = evaluation.inputs, evaluation.pace, evaluation.requirement, evaluation.distance
    outlook, verdict = evaluation.outlook, evaluation.verdict
    lag = rows["frequency"].map(STALE_AFTER_YEARS).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        stale = ~np.isnan(lag) & (~x.has_data | (today.year - x.t > lag)) & (x.family != QUALITATIVE)
    no_rates = np.isnan(pace.actual) & np.isnan(requirement.required)
    rate_unit = np.where(x.compound, "%/yr", rows["unit"].map(_per_year).to_numpy())
    return rows.assign(
        maintain=requirement.maintain, actual_rate=pace.actual, annual_growth_pct=pace.growth_pct,
        required_rate=requirement.required, required_rate_from_latest=requirement.from_latest,
        ratio=requirement.ratio, ratio_status=verdict.ratio_status, status=verdict.status, score=verdict.score,
        expected_at_target=outlook.expected, expected_score=outlook.score, expected_status=verdict.expected_status,
        method_disagreement=verdict.disagree, gap=distance.gap, gap_relative=distance.gap_relative,
        progress_share=distance.progress_share, path_value_latest=distance.path, gap_to_path=distance.gap_to_path,
        stale=stale.astype(bool), guard=_guard(x, pace, requirement),
        rank_change=np.where(x.is_rank & x.two, x.yt - x.y0, np.nan),
        rate_unit=np.where(no_rates, "", rate_unit), status_rank=status_ranks(verdict.status, x.direction),
    )


def _per_year(unit: str) -> str:
    return "pp/yr" if unit == "percent" else f"{unit}/yr"


def _attainment_year(rows: pd.DataFrame, points: pd.DataFrame, evaluation: Evaluation) -> pd.Series:
    """A met target: the year it was first met; any other: the year it would be met at the current pace."""
    projected = pd.Series(_projected_attainment(evaluation), index=rows.index).astype("Int64")
    first = _first_year_met(rows, points, evaluation)
    return projected if first is None else projected.where(~evaluation.verdict.met, first)


def _projected_attainment(evaluation: Evaluation) -> np.ndarray:
    """The year the target (a band: its near edge) is reached at the current pace; NaN if never or > 2100."""
    x, rate = evaluation.inputs, evaluation.pace.rate
    edge = np.where(x.value < x.low, x.low, x.high)
    goal = np.where(x.family == BAND, edge, x.target)
    applies = ((x.family == THRESHOLD) | (x.family == BAND)) & ~evaluation.verdict.met & np.isfinite(rate)
    with np.errstate(all="ignore"):
        years = np.where(x.compound, np.log(goal / x.yt) / np.log1p(rate), (goal - x.yt) / rate)
        moment = np.round(x.t + years, 9)
        # "At least" is met in the first whole year at or after the moment; "exceed" in the first year after.
        when = np.where(x.qualifier == "exceed", np.floor(moment) + 1, np.ceil(moment))
    ok = applies & np.isfinite(when) & (years > 0) & (when <= ATTAINMENT_HORIZON)
    return np.where(ok, when, np.nan)


def _first_year_met(rows: pd.DataFrame, points: pd.DataFrame, evaluation: Evaluation) -> pd.Series | None:
    """For a met target, the first year of the unbroken run of points meeting it up to the latest year.

    Not for a period average: its yearly values are not the average the target is about. None: no row is met.
    """
    chosen = evaluation.verdict.met & (rows["period_average"] == "").to_numpy()
    if not chosen.any():
        return None
    met = rows.loc[chosen, ["row_id", "qualifier", "target", "band_low", "band_high", "direction"]]
    met = met.assign(favourable=evaluation.inputs.favourable[chosen])
    pts = points.merge(met, on="row_id", how="inner", sort=False)
    v, target = pts["value"].to_numpy(), pts["target"].to_numpy(dtype=float)
    low, high = pts["band_low"].to_numpy(dtype=float), pts["band_high"].to_numpy(dtype=float)
    qual, fav = pts["qualifier"].to_numpy(), pts["favourable"].to_numpy()
    d = np.where(pts["direction"].to_numpy() == "lower", -1.0, 1.0)
    slack = EDGE_SLACK * np.maximum(1.0, np.abs(target))
    about = qual == "about"
    ok = np.select(
        [qual == "at_least", qual == "at_most", qual == "exceed", qual == "top_n", about & (fav > 0),
         about & (fav < 0), about],
        [v >= target - slack, v <= target + slack, d * (v - target) > slack, v <= target + slack,
         v >= low - slack, v <= high + slack, (v >= low - slack) & (v <= high + slack)],
        default=False)
    last_miss = pts.loc[~ok].groupby("row_id")["year"].max()
    after = pts["row_id"].map(last_miss).fillna(-np.inf).to_numpy()
    run = pts.loc[ok & (pts["year"].to_numpy() > after)]
    return rows["row_id"].map(run.groupby("row_id")["year"].min()).astype("Int64")


def _edition_breaks(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Edition years of a ranking (field or method changes) after the baseline, up to the latest year."""
    rows["edition_breaks"] = ""
    editions = pd.DataFrame(
        [(ind.code, e.year) for ind in catalog.indicators.values() for e in ind.editions],
        columns=["indicator", "edition"])
    if editions.empty:
        return rows
    pairs = rows[["row_id", "indicator", "baseline_year", "latest_year"]].merge(editions, on="indicator")
    inside = (pairs["edition"] > pairs["baseline_year"]) & (pairs["edition"] <= pairs["latest_year"])
    pairs = pairs[inside.fillna(False).astype(bool)].sort_values(["row_id", "edition"])
    if not pairs.empty:
        joined = pairs.assign(text=pairs["edition"].astype(str)).groupby("row_id")["text"].agg(";".join)
        rows["edition_breaks"] = rows["row_id"].map(joined).fillna("")
    return rows


# Figures that compare the baseline with the latest value: meaningless across a change of scope.
_ACROSS = ("ratio", "score", "actual_rate", "annual_growth_pct", "required_rate", "required_rate_from_latest",
           "progress_share", "path_value_latest", "gap_to_path", "expected_at_target", "expected_score",
           "rank_change")


def _rests_on(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The series breaks each row crosses, ``not_comparable`` across a change of scope, and the caveats."""
    rows["series_breaks"], severs = crossed_breaks(rows, catalog)
    cut = severs.to_numpy() & (rows["status"] != "qualitative").to_numpy()
    if cut.any():
        rows.loc[cut, list(_ACROSS)] = np.nan
        rows.loc[cut, ["status", "ratio_status", "expected_status", "rate_unit"]] = ["not_comparable", "", "", ""]
        rows.loc[cut, "method_disagreement"] = False
        rows["attainment_year"] = rows["attainment_year"].mask(cut)
        rows["status_rank"] = status_ranks(rows["status"].to_numpy(), rows["direction"].to_numpy())
    rows["caveats"] = caveats(rows)
    return rows


def _finish(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.sort_values(["order", "region", "milestone_year", "plan"], kind="stable", na_position="last")
    rows = rows.astype({"milestone_year": "Int64", "baseline_year": "Int64", "latest_year": "Int64",
                        "plan_base_year": "Int64"})
    return rows[ASSESSMENT_COLUMNS].reset_index(drop=True)


def _empty_assessment() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in ASSESSMENT_COLUMNS})
