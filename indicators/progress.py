"""Target-gap analytics: where each indicator stands against the plan's targets, and is the pace enough.

What belongs here: the published progress methods of ``METHODS.md`` as pure, vectorised pandas/numpy functions
of a DataFrame of observations and the catalog: the Eurostat / Statistics Canada (Open SDG) ratio of actual
to required growth, Eurostat's classification of indicators without a target, the UN expected-value method,
"about X" bands, "exceed X", ranks, qualitative goals, required trajectories, roll-ups, and the sentences that
explain a status. What does not: reading the database (``queries``), figures, Dash, or any I/O.
The methodology page (``indicators/methodology/methodology.{zh,en}.md``) explains the same rules to readers.

Contract (used by the dashboard, the PNG export and the CLI)
------------------------------------------------------------
``assess(observations, catalog, *, today=None, plan=None, region=None) -> DataFrame``
    ``observations`` needs the columns indicator, region, year, value (e.g. ``queries.observations(engine)``).
    Rows: one per indicator x region x milestone of every quantified target; one per qualitative goal
    milestone (status ``qualitative``, with its ``evidence``); one per indicator x region series without a
    target (Eurostat's no-target classification; with ``plan`` given, only that plan's context entries).
    Columns: :data:`ASSESSMENT_COLUMNS`. Rates are in %/yr for compound growth and in the indicator's unit per
    year for linear growth (``rate_unit``). ``gap`` and ``gap_to_path`` are shortfalls in the desired
    direction: positive = still short of the target (of the path), zero or negative = met or beyond.
    ``maintain`` marks "about X" targets whose baseline is already in the band (no required path or ratio).
``required_path(baseline_year, baseline_value, milestone_year, target, growth) -> DataFrame(year, value)``
    The trajectory the plan requires, for the trend chart.
``projection(latest_year, latest_value, until_year, actual_rate, growth) -> DataFrame(year, value)``
    The current pace (``actual_rate`` as in the assessment) carried forward from the latest year.
``explain(row, lang="zh", methods=None) -> list[str]``
    The numbers behind a row's status as sentences in Chinese or English ("why this status").
``rollup(assessment, today=None) -> DataFrame``
    Per pillar and overall (``pillar == "all"``): counts by status and the mean Open SDG score where defined.
``STATUS_ORDER``, ``STATUS_LABELS``, ``STATUS_DESCRIPTIONS``, ``EXPECTED_STATUS_ORDER``, :func:`status_rank`.

Status codes (stable machine codes; zh/en labels in :data:`STATUS_LABELS`)
    targets:    achieved, on_track, moderate, insufficient, moving_away, insufficient_data
    "about X":  within_band, above_band, below_band
    ranks:      rank_improved, rank_unchanged, rank_worsened (ranks get no growth rate)
    no target:  significant_progress, moderate_progress, moderate_away, significant_away (Eurostat)
    goals:      qualitative
    UN method (column ``expected_status``): achieved, on_track, acceleration_needed, stagnation_or_regression
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd

from indicators.catalog import Catalog, Methods

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

STATUS_ORDER = [
    "achieved", "within_band", "above_band", "on_track", "significant_progress", "moderate",
    "moderate_progress", "rank_improved", "insufficient", "rank_unchanged", "moderate_away", "below_band",
    "moving_away", "significant_away", "rank_worsened", "insufficient_data", "qualitative",
]
EXPECTED_STATUS_ORDER = ["achieved", "on_track", "acceleration_needed", "stagnation_or_regression"]

STATUS_LABELS: dict[str, dict[str, str]] = {
    "achieved": {"zh": "已实现", "en": "Achieved"},
    "on_track": {"zh": "按期推进", "en": "On track"},
    "moderate": {"zh": "进展中,需加快", "en": "Moderate progress – acceleration needed"},
    "insufficient": {"zh": "进展不足", "en": "Insufficient progress"},
    "moving_away": {"zh": "偏离目标", "en": "Moving away"},
    "insufficient_data": {"zh": "数据不足", "en": "Insufficient data"},
    "within_band": {"zh": "处于目标区间", "en": "Within the band"},
    "above_band": {"zh": "高于目标区间", "en": "Above the band"},
    "below_band": {"zh": "低于目标区间", "en": "Below the band"},
    "qualitative": {"zh": "定性目标", "en": "Qualitative goal"},
    "significant_progress": {"zh": "显著进展", "en": "Significant progress"},
    "moderate_progress": {"zh": "温和进展", "en": "Moderate progress"},
    "moderate_away": {"zh": "小幅偏离", "en": "Moderate movement away"},
    "significant_away": {"zh": "明显偏离", "en": "Significant movement away"},
    "rank_improved": {"zh": "排名上升", "en": "Rank improved"},
    "rank_unchanged": {"zh": "排名持平", "en": "Rank unchanged"},
    "rank_worsened": {"zh": "排名下降", "en": "Rank fell"},
    "acceleration_needed": {"zh": "有进展,需加快", "en": "Progress, acceleration needed"},
    "stagnation_or_regression": {"zh": "停滞或倒退", "en": "Stagnation or regression"},
}

STATUS_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "achieved": {
        "zh": "最新值已达到目标(“超过”须严格高于目标值)。",
        "en": "The latest value meets the target ('exceed' needs a value strictly beyond it).",
    },
    "on_track": {
        "zh": "实际年均增速不低于所需增速的95%(R ≥ 0.95)。",
        "en": "Actual annual growth is at least 95 % of the growth required (R ≥ 0.95).",
    },
    "moderate": {
        "zh": "实际增速为所需增速的60%至95%(0.60 ≤ R < 0.95),需要加快。",
        "en": "Actual growth is 60 % to 95 % of the growth required (0.60 ≤ R < 0.95): speed up.",
    },
    "insufficient": {
        "zh": "方向正确,但实际增速不到所需增速的60%(0 ≤ R < 0.60)。",
        "en": "Moving the right way at under 60 % of the growth required (0 ≤ R < 0.60).",
    },
    "moving_away": {
        "zh": "自基期以来向目标的反方向变化(R < 0)。",
        "en": "Moving in the opposite direction to the target since the baseline (R < 0).",
    },
    "insufficient_data": {
        "zh": "数据点不足两个,或基期与最新值符号不同,无法计算增速。",
        "en": "Fewer than two data points, or a sign change since the baseline: no pace computed.",
    },
    "within_band": {
        "zh": "“左右”目标:最新值处于目标值±容差的区间内(含边界)。",
        "en": "'About X' target: the latest value lies within X ± tolerance (edges included).",
    },
    "above_band": {
        "zh": "“左右”目标:最新值高于区间上限;越高越好的指标不视为差于区间内。",
        "en": "'About X' target: above the band; not worse than within it when higher is better.",
    },
    "below_band": {
        "zh": "“左右”目标:最新值低于区间下限。",
        "en": "'About X' target: the latest value is below the band.",
    },
    "qualitative": {
        "zh": "定性目标,不计算状态;列出证明其进展的指标。",
        "en": "A qualitative goal: no status is computed; the indicators that evidence it are listed.",
    },
    "significant_progress": {
        "zh": "无数值目标:期望方向上的年均增长不低于1%。",
        "en": "No target: annual growth in the desired direction of 1 % or more.",
    },
    "moderate_progress": {
        "zh": "无数值目标:期望方向上的年均增长为0至1%。",
        "en": "No target: annual growth in the desired direction from 0 % to under 1 %.",
    },
    "moderate_away": {
        "zh": "无数值目标:向不期望方向年均变化不到1%。",
        "en": "No target: moving the undesired way by less than 1 % a year.",
    },
    "significant_away": {
        "zh": "无数值目标:向不期望方向年均变化1%或以上。",
        "en": "No target: moving the undesired way by 1 % a year or more.",
    },
    "rank_improved": {
        "zh": "排名类指标:位次较基期上升(数字变小)。排名不计算增速。",
        "en": "Rank: a better position than at the baseline (a smaller number). No growth rate on ranks.",
    },
    "rank_unchanged": {
        "zh": "排名类指标:位次与基期相同。",
        "en": "Rank: the same position as at the baseline.",
    },
    "rank_worsened": {
        "zh": "排名类指标:位次较基期下降(数字变大)。",
        "en": "Rank: a worse position than at the baseline (a larger number).",
    },
    "acceleration_needed": {
        "zh": "联合国方法:按当前速度,到目标年份可完成距离的10%至95%。",
        "en": "UN method: at the current pace, 10 % to 95 % of the distance is covered by the target year.",
    },
    "stagnation_or_regression": {
        "zh": "联合国方法:按当前速度,到目标年份完成距离不到10%。",
        "en": "UN method: at the current pace, under 10 % of the distance is covered by the target year.",
    },
}

ASSESSMENT_COLUMNS = [
    # what is assessed
    "indicator", "region", "plan", "plans", "pillar", "kind", "unit", "direction", "growth", "qualifier",
    "milestone_year", "target", "target_text", "target_text_en", "wording", "wording_en", "tolerance",
    "band_low", "band_high", "maintain", "period_average", "evidence",
    # the data
    "plan_base_year", "baseline_year", "baseline_value", "baseline_source", "latest_year", "latest_value",
    "n_points", "period_mean", "stale",
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
ROLLUP_COLUMNS = ["level", "pillar", "n", *STATUS_ORDER, "n_scored", "mean_score"]
GUARDS = ("no_data", "one_point", "sign_change", "target_sign", "zero_base", "zero_target", "partial_period",
          "no_direction")

# Families of rows: how a row is assessed.
_THRESHOLD, _BAND, _RANK_TARGET, _NO_TARGET, _QUALITATIVE = "threshold", "band", "rank_target", "none", "goal"
# Each method's reading in three classes (on track / progress / away), to flag when the two disagree.
_RATIO_CLASS = {"on_track": "on", "moderate": "progress", "insufficient": "progress", "moving_away": "away"}
_UN_CLASS = {"on_track": "on", "acceleration_needed": "progress", "stagnation_or_regression": "away"}
_FILL = {
    "milestone_year": np.nan, "target": np.nan, "tolerance": np.nan, "band_low": np.nan, "band_high": np.nan,
    "period_average": "", "evidence": "", "plan": None, "plans": "", "target_text": None,
    "target_text_en": None, "wording": None, "wording_en": None,
}


# --------------------------------------------------------------------------------------------- assess


def assess(
    observations: pd.DataFrame,
    catalog: Catalog,
    *,
    today: date | None = None,
    plan: str | None = None,
    region: str | None = None,
) -> pd.DataFrame:
    """Every indicator x region x milestone against its target, and every other series by its trend.

    See the module docstring for the rows and :data:`ASSESSMENT_COLUMNS` for the columns. ``today`` sets the
    staleness check (default: the current date); ``plan`` and ``region`` (codes) filter the rows.
    """
    today = today or date.today()
    if plan is not None and plan not in catalog.plans:
        raise ValueError(f"unknown plan {plan!r}")
    meta = _indicator_frame(catalog)
    obs = _Observations(observations, meta, region)
    rows = _target_rows(catalog, plan=plan, region=region)
    if plan is None:
        rows = pd.concat([rows, _untargeted_rows(catalog, meta, obs.series)], ignore_index=True)
    if rows.empty:
        return _empty_assessment()
    rows = _fill_defaults(rows)
    rows = rows.merge(meta, on="indicator", how="left", validate="many_to_one")
    rows["row_id"] = np.arange(len(rows))
    rows["key"] = obs.key_of(rows["indicator"], rows["region"])
    points = _points(obs.frame, rows)
    rows = _summarise(rows, points)
    rows = _evaluate(rows, catalog.methods, today)
    rows = _first_year_met(rows, points)
    rows = _edition_breaks(rows, catalog)
    return _finish(rows)


def _fill_defaults(rows: pd.DataFrame) -> pd.DataFrame:
    """Columns that only some kinds of row set (a target's band, a goal's text) for every row."""
    for col, default in _FILL.items():
        if col not in rows:
            rows[col] = default
        elif default is not None:
            rows[col] = rows[col].fillna(default)
    return rows


def _indicator_frame(catalog: Catalog) -> pd.DataFrame:
    """One row per indicator with what the methods need, in catalog order. Ranks never grow compound."""
    return pd.DataFrame([
        {"indicator": ind.code, "order": n, "kind": ind.kind, "unit": ind.unit, "direction": ind.direction,
         "growth": "linear" if ind.kind == "rank" else ind.growth_model, "pillar": ind.pillar,
         "frequency": ind.frequency}
        for n, ind in enumerate(catalog.indicators.values())
    ])


class _Observations:
    """The observations as integer series keys (indicator x region), years and values, sorted by key and year.

    The indicator and region names are hashed once here; every later join, sort and grouping works on
    integers, which is what keeps a million rows well under a second.
    """

    def __init__(self, observations: pd.DataFrame, meta: pd.DataFrame, region: str | None):
        obs = observations.loc[:, ["indicator", "region", "year", "value"]]
        if region is not None:
            obs = obs[obs["region"] == region]
        ind, self.indicators = pd.factorize(obs["indicator"], sort=True)
        reg, self.regions = pd.factorize(obs["region"], sort=True)
        known = np.asarray(self.indicators.isin(meta["indicator"]))
        keep = obs["value"].notna().to_numpy() & known[ind] if len(obs) else np.zeros(0, bool)
        key = ind[keep].astype("int64") * max(len(self.regions), 1) + reg[keep]
        year = obs["year"].to_numpy()[keep].astype("int64")
        value = obs["value"].to_numpy()[keep].astype("float64")
        # One value per indicator x region x year, the last given (a stable sort keeps the given order).
        order = np.lexsort((year, key)) if not _sorted(key, year) else np.arange(len(key))
        key, year, value = key[order], year[order], value[order]
        last = np.ones(len(key), bool)
        last[:-1] = (key[1:] != key[:-1]) | (year[1:] != year[:-1])
        self.frame = pd.DataFrame({"key": key[last], "year": year[last], "value": value[last]})
        unique = np.unique(key)
        n = max(len(self.regions), 1)
        self.series = pd.DataFrame({"indicator": np.asarray(self.indicators)[unique // n],
                                    "region": np.asarray(self.regions)[unique % n]})

    def key_of(self, indicator: pd.Series, region: pd.Series) -> np.ndarray:
        """The series key of each (indicator, region) pair; -1 for a pair with no observations."""
        ind = self.indicators.get_indexer(indicator)
        reg = self.regions.get_indexer(region)
        return np.where((ind >= 0) & (reg >= 0), ind.astype("int64") * max(len(self.regions), 1) + reg, -1)


def _sorted(key: np.ndarray, year: np.ndarray) -> bool:
    """Already in (key, year) order, as queries.observations returns them."""
    if len(key) < 2:
        return True
    step = np.diff(key)
    return bool(((step > 0) | ((step == 0) & (np.diff(year) >= 0))).all())


def _target_rows(catalog: Catalog, *, plan: str | None, region: str | None) -> pd.DataFrame:
    """One row per target milestone (or context entry) in the catalog: a loop over metadata, not data."""
    rel_tolerance = catalog.methods.default_about_tolerance_relative
    records = []
    for ind, t in catalog.targets():
        plans = (t.plan, *t.also_in)
        if (region is not None and t.region != region) or (plan is not None and plan not in plans):
            continue
        # No base in the catalog: the year before the plan period, with the first value observed from then.
        base_year = t.base.year if t.base else catalog.plans[t.plan].period[0] - 1
        base_value = t.base.value if t.base and t.base.value is not None else np.nan
        common = {
            "indicator": ind.code, "region": t.region, "plan": t.plan, "plans": ";".join(plans),
            "qualifier": t.qualifier, "wording": t.wording.zh, "wording_en": t.wording.en,
            "evidence": ";".join(t.evidence), "plan_base_year": base_year, "base_value": base_value,
            "win_start": base_year,
        }
        if t.qualifier == "none":
            records.append({**common, "family": _NO_TARGET, "win_end": np.inf})
            continue
        for m in t.milestones:
            rec = {**common, "milestone_year": m.year, "win_end": m.year,
                   "target": m.value if m.value is not None else np.nan,
                   "target_text": m.text.zh if m.text else t.wording.zh,
                   "target_text_en": m.text.en if m.text else t.wording.en}
            if t.qualifier == "qualitative":
                rec["family"] = _QUALITATIVE
            elif t.qualifier == "about":
                tol = t.tolerance if t.tolerance is not None else rel_tolerance * abs(m.value)
                rec.update(family=_BAND, tolerance=tol, band_low=m.value - tol, band_high=m.value + tol)
                if t.period_average:
                    start, end = t.period_average
                    rec.update(period_average=f"{start}-{end}", win_start=start, win_end=min(end, m.year),
                               base_value=np.nan)
            else:
                rec["family"] = _RANK_TARGET if ind.kind == "rank" else _THRESHOLD
            records.append(rec)
    return pd.DataFrame.from_records(records)


def _untargeted_rows(catalog: Catalog, meta: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """One row per observed series with no target in any plan and no context entry in the catalog."""
    known = [(ind.code, t.region) for ind, t in catalog.targets()]
    if known:
        series = series[~pd.MultiIndex.from_frame(series).isin(known)]
    kinds = meta.set_index("indicator")["kind"]
    series = series[series["indicator"].map(kinds) != "qualitative"]
    base_year = min(p.period[0] for p in catalog.plans.values()) - 1
    return series.assign(family=_NO_TARGET, qualifier="none", plan_base_year=base_year, base_value=np.nan,
                         win_start=base_year, win_end=np.inf)


def _points(obs: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The data points of each row: observations in its window, the plan's base value first.

    A value the plan states for its base year replaces any observation of that year. Observations after a
    milestone's year do not count towards that milestone.
    """
    keyed = rows[["row_id", "key", "win_start", "win_end", "plan_base_year", "base_value"]]
    pts = obs.merge(keyed[keyed["key"] >= 0], on="key", how="inner", sort=False)
    year = pts["year"].to_numpy()
    keep = (year >= pts["win_start"].to_numpy()) & (year <= pts["win_end"].to_numpy())
    keep &= ~(pts["base_value"].notna().to_numpy() & (year <= pts["plan_base_year"].to_numpy()))
    pts = pts.loc[keep, ["row_id", "year", "value"]]
    base = rows.loc[rows["base_value"].notna(), ["row_id", "plan_base_year", "base_value"]]
    base = base.rename(columns={"plan_base_year": "year", "base_value": "value"}, errors="raise")
    # Base points go first: groupby keeps the order of appearance within a group, so first/last in
    # _summarise are the earliest and latest points without sorting the observations again.
    pts = pd.concat([base, pts], ignore_index=True)
    return pts.astype({"year": "int64"})


def _summarise(rows: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Baseline (first point), latest (last point), number of points and, for period averages, the mean."""
    summary = points.groupby("row_id", sort=False).agg(
        baseline_year=("year", "first"), baseline_value=("value", "first"),
        latest_year=("year", "last"), latest_value=("value", "last"), n_points=("year", "size"),
    )
    rows = rows.join(summary, on="row_id")
    rows["n_points"] = rows["n_points"].fillna(0).astype("int64")
    from_plan = rows["base_value"].notna()
    rows["baseline_source"] = np.where(from_plan, "plan", np.where(rows["n_points"] > 0, "observed", ""))
    rows["period_mean"] = np.nan
    averaged = rows.loc[rows["period_average"] != "", "row_id"]
    if len(averaged):
        # "Average annual growth" over a period is the geometric mean of the yearly growth rates.
        sub = points[points["row_id"].isin(averaged)]
        logs = pd.Series(np.log1p(sub["value"].to_numpy() / 100.0), index=sub["row_id"].to_numpy())
        rows["period_mean"] = rows["row_id"].map(np.expm1(logs.groupby(level=0).mean()) * 100.0)
    return rows


# --------------------------------------------------------------------------------------------- the methods


def _evaluate(rows: pd.DataFrame, methods: Methods, today: date) -> pd.DataFrame:
    """The methods on whole columns at once: pace, requirement, verdict, guards."""
    c = _columns(rows)
    with np.errstate(all="ignore"):
        _pace(c)
        _requirement(c)
        _outlook(c)
    _verdict(c, methods)
    lag = rows["frequency"].map(STALE_AFTER_YEARS).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        stale = ~np.isnan(lag) & (~c.has_data | (today.year - c.t > lag)) & (c.fam != _QUALITATIVE)
    no_rates = np.isnan(c.actual) & np.isnan(c.required)
    rate_unit = np.where(c.compound, "%/yr", rows["unit"].map(_per_year).to_numpy())
    not_goal = c.fam != _QUALITATIVE
    rows = rows.assign(
        maintain=c.maintain, actual_rate=c.actual, annual_growth_pct=c.growth_pct, required_rate=c.required,
        required_rate_from_latest=c.from_latest, ratio=c.ratio, ratio_status=c.ratio_status, status=c.status,
        score=c.score, expected_at_target=c.expected, expected_score=c.expected_score,
        expected_status=c.expected_status, method_disagreement=c.disagree,
        gap=np.where(not_goal, c.gap, np.nan), gap_relative=np.where(not_goal, c.gap_relative, np.nan),
        progress_share=c.progress_share, path_value_latest=c.path, gap_to_path=c.gap_to_path,
        stale=stale.astype(bool), guard=_guard(c),
        rank_change=np.where(c.is_rank & c.two, c.yt - c.y0, np.nan),
        rate_unit=np.where(no_rates, "", rate_unit), status_rank=_status_ranks(c.status, c.direction),
        _met=c.met, _favourable=c.favourable,
    )
    rows["attainment_year"] = _projected_attainment(c, rows.index)
    return rows


def _columns(rows: pd.DataFrame) -> SimpleNamespace:
    """The row frame as named numpy arrays (float for numbers), the working set of the methods."""
    num = {name: rows[col].to_numpy(dtype=float) for name, col in (
        ("y0", "baseline_value"), ("t0", "baseline_year"), ("yt", "latest_value"), ("t", "latest_year"),
        ("target", "target"), ("ty", "milestone_year"), ("low", "band_low"), ("high", "band_high"),
        ("period_mean", "period_mean"))}
    c = SimpleNamespace(**num)
    c.fam, c.qual = rows["family"].to_numpy(), rows["qualifier"].to_numpy()
    c.direction = rows["direction"].to_numpy()
    c.compound = (rows["growth"] == "compound").to_numpy()
    c.is_rank = (rows["kind"] == "rank").to_numpy()
    c.period = (rows["period_average"] != "").to_numpy()
    c.n = rows["n_points"].to_numpy()
    c.has_data, c.two = c.n > 0, c.n >= 2
    # Whole-period length of a period average (to flag a provisional average).
    c.period_years = np.where(c.period, rows["win_end"].to_numpy(dtype=float) - rows["win_start"] + 1, 0.0)
    c.d = np.where(c.direction == "lower", -1.0, 1.0)
    c.favourable = np.select([c.direction == "higher", c.direction == "lower"], [1.0, -1.0], 0.0)
    c.value = np.where(c.period, c.period_mean, c.yt)  # the value judged against the target
    c.slack = EDGE_SLACK * np.maximum(1.0, np.abs(c.target))
    return c


def _pace(c: SimpleNamespace) -> None:
    """Observed annual change from the baseline: compound (CAGR) or linear, with Open SDG's guards."""
    # A zero base becomes ±epsilon with the sign of the latest value (else of the target), so a mirrored
    # series is treated mirrored; a value that did not change grew by 0, not by -100 %.
    ref = np.where(c.yt != 0, c.yt, np.where(np.isfinite(c.target) & (c.target != 0), c.target, 1.0))
    c.y0z = np.where(c.y0 == 0, EPSILON * np.where(ref < 0, -1.0, 1.0), c.y0)
    c.sgn = np.where(c.compound & (c.y0z < 0), -1.0, 1.0)
    c.sign_change = c.compound & c.two & (c.y0z * c.yt < 0)
    c.pace_ok = c.two & ~c.sign_change & ~c.is_rank & ~c.period
    span = c.t - c.t0
    cagr = np.where(c.yt == c.y0, 0.0, np.power(c.yt / c.y0z, 1.0 / span) - 1.0)
    slope = (c.yt - c.y0) / span
    c.act_raw = np.where(c.pace_ok, np.where(c.compound, cagr, slope), np.nan)
    c.actual = np.where(c.compound, c.act_raw * 100.0, c.act_raw)
    # For the no-target classification: growth in %/yr (a linear change relative to the baseline's size).
    c.growth_pct = np.where(c.pace_ok, np.where(c.compound, cagr, slope / np.abs(c.y0z)) * 100.0, np.nan)


def _requirement(c: SimpleNamespace) -> None:
    """Required growth, the ratio R, the gaps and the required path."""
    c.in_band = (c.value >= c.low - c.slack) & (c.value <= c.high + c.slack)
    c.above = c.value > c.high + c.slack
    base_in_band = (c.y0 >= c.low - c.slack) & (c.y0 <= c.high + c.slack)
    # "Stay at about X" when the baseline is already in the band: nothing to grow towards, no ratio.
    c.maintain = (c.fam == _BAND) & ~c.period & c.has_data & base_in_band
    c.ratio_applies = (c.fam == _THRESHOLD) | ((c.fam == _BAND) & ~c.period & ~c.maintain)
    c.target_z = np.where(c.target == 0, EPSILON * np.where(c.y0z < 0, -1.0, 1.0), c.target)
    c.target_sign = c.compound & (c.target_z * c.y0z < 0)
    c.ratio_ok = c.ratio_applies & c.pace_ok & ~c.target_sign & (c.ty > c.t0)
    span = c.ty - c.t0
    req = np.where(c.compound, np.power(c.target_z / c.y0z, 1.0 / span) - 1.0, (c.target - c.y0) / span)
    c.req_raw = np.where(c.ratio_ok, req, np.nan)
    c.required = np.where(c.compound, c.req_raw * 100.0, c.req_raw)
    c.moving = c.sgn * c.d * c.act_raw
    c.ratio = np.where(c.ratio_ok & (c.req_raw != 0), c.moving / np.abs(c.req_raw), np.nan)

    left = c.ty - c.t
    ok = c.ratio_applies & c.has_data & (left > 0) & ~(c.compound & (c.yt * c.target_z <= 0))
    from_latest = np.where(c.compound, (np.power(c.target_z / c.yt, 1.0 / left) - 1.0) * 100.0,
                           (c.target - c.yt) / left)
    c.from_latest = np.where(ok, from_latest, np.nan)

    c.gap = c.d * (c.target - c.value)
    c.gap_relative = np.where(c.target != 0, c.gap / np.abs(c.target), np.nan)
    moves = (c.fam == _THRESHOLD) | (c.fam == _RANK_TARGET) | ((c.fam == _BAND) & ~c.maintain & ~c.period)
    share = (c.yt - c.y0) / (c.target - c.y0)
    c.progress_share = np.where(moves & c.has_data & (c.target != c.y0), share, np.nan)
    path = _path_value(c.t0, c.y0, c.ty, c.target, c.compound & ~c.is_rank, c.t)
    c.path = np.where(moves & c.has_data & (c.ty > c.t0), path, np.nan)
    c.gap_to_path = c.d * (c.path - c.yt)


def _outlook(c: SimpleNamespace) -> None:
    """UN expected-value method: the value expected at the target year at the current pace, and its score."""
    ahead = c.ty - c.t
    expected = np.where(c.compound, c.yt * np.power(1.0 + c.act_raw, ahead), c.yt + c.act_raw * ahead)
    targeted = (c.fam != _NO_TARGET) & (c.fam != _QUALITATIVE)
    c.expected = np.where(c.pace_ok & targeted & (ahead >= 0), expected, np.nan)
    score = (c.expected - c.y0) / (c.target - c.y0)
    c.expected_score = np.where(c.ratio_ok & (c.target != c.y0), score, np.nan)


def _verdict(c: SimpleNamespace, methods: Methods) -> None:
    """Statuses of every family, the Open SDG score, the UN status and the disagreement flag."""
    th = methods.ratio_thresholds
    r = c.ratio
    ratio_status = np.select(
        [r >= th.on_track, r >= th.moderate, r >= th.insufficient, r < th.insufficient],
        ["on_track", "moderate", "insufficient", "moving_away"], default=None).astype(object)
    # Target equal to the baseline: no required growth to divide by; not met means it moved the wrong way.
    flat = c.ratio_ok & (c.req_raw == 0)
    ratio_status[flat] = np.where(c.moving[flat] < 0, "moving_away", "insufficient")
    c.ratio_status = ratio_status

    yt, target, slack = c.yt, c.target, c.slack
    c.achieved = np.select(
        [c.qual == "at_least", c.qual == "at_most", c.qual == "exceed", c.qual == "top_n"],
        [yt >= target - slack, yt <= target + slack, c.d * (yt - target) > slack, yt <= target + slack],
        default=False) & c.has_data & ((c.fam == _THRESHOLD) | (c.fam == _RANK_TARGET))

    band = np.where(c.in_band, "within_band", np.where(c.above, "above_band", "below_band"))
    rank_move = c.d * (c.yt - c.y0)
    rank = np.select([rank_move > 0, rank_move < 0], ["rank_improved", "rank_worsened"], "rank_unchanged")
    cut = methods.no_target_cutoffs
    desired = c.sgn * c.d * c.growth_pct
    trend = np.select([desired >= cut.significant, desired >= cut.moderate, desired > cut.moderate_away],
                      ["significant_progress", "moderate_progress", "moderate_away"], "significant_away")
    fam = c.fam
    c.status = np.select(
        [fam == _QUALITATIVE, ~c.has_data, fam == _BAND, c.achieved, (fam == _RANK_TARGET) & c.two,
         (fam == _THRESHOLD) & pd.notna(ratio_status), (fam == _NO_TARGET) & c.is_rank & c.two,
         (fam == _NO_TARGET) & c.pace_ok & (c.favourable != 0)],
        ["qualitative", "insufficient_data", band, "achieved", rank, ratio_status, rank, trend],
        default="insufficient_data").astype(object)

    status = c.status
    fav = c.favourable
    overshoot = ((status == "above_band") & (fav > 0)) | ((status == "below_band") & (fav < 0))
    c.met = (status == "achieved") | (status == "within_band") | overshoot
    c.score = np.where(c.met, SCORE_MAX, np.where(c.ratio_applies, open_sdg_score(c.ratio), np.nan))

    ev = methods.expected_value_thresholds
    score = c.expected_score
    c.expected_status = np.select(
        [c.achieved, score >= ev.on_track, score >= ev.progress, score < ev.progress],
        EXPECTED_STATUS_ORDER, default=None).astype(object)
    ratio_class = pd.Series(ratio_status, dtype=object).map(_RATIO_CLASS).to_numpy()
    un_class = pd.Series(c.expected_status, dtype=object).map(_UN_CLASS).to_numpy()
    c.disagree = pd.notna(ratio_class) & pd.notna(un_class) & (ratio_class != un_class) & ~c.achieved


def _guard(c: SimpleNamespace) -> np.ndarray:
    """Why a figure is missing or was computed with a substitute (the first reason that applies)."""
    reasons = [
        ("", c.fam == _QUALITATIVE),
        ("no_data", ~c.has_data),
        ("partial_period", c.period & (c.n < c.period_years)),
        ("sign_change", c.sign_change),
        ("target_sign", c.ratio_applies & c.two & c.target_sign),
        ("one_point", ~c.two & (c.fam != _BAND)),
        ("zero_base", c.compound & c.two & (c.y0 == 0)),
        ("zero_target", c.compound & c.ratio_ok & (c.target == 0)),
        ("no_direction", (c.fam == _NO_TARGET) & (c.favourable == 0) & ~c.is_rank),
    ]
    return np.select([cond for _, cond in reasons], [code for code, _ in reasons], default="")


def open_sdg_score(ratio: np.ndarray) -> np.ndarray:
    """Open SDG's score of R: 7.1429 R - 4.2857 for R >= 0.6, else 4.1667 R - 2.5; capped to [-5, 5]."""
    with np.errstate(invalid="ignore"):
        return np.where(ratio >= 0.6, np.minimum(7.1429 * ratio - 4.2857, SCORE_MAX),
                        np.maximum(4.1667 * ratio - 2.5, -SCORE_MAX))


def _per_year(unit: str) -> str:
    return "pp/yr" if unit == "percent" else f"{unit}/yr"


def _path_value(t0, y0, ty, target, compound, at):
    """The required path from (t0, y0) to (ty, target) at year ``at``, on arrays.

    Compound only between two values of the same sign; from or to zero, or across it, a straight line.
    """
    with np.errstate(all="ignore"):
        frac = (at - t0) / (ty - t0)
        geometric = compound & (y0 * target > 0)
        return np.where(geometric, y0 * np.power(target / y0, frac), y0 + (target - y0) * frac)


def _projected_attainment(c: SimpleNamespace, index: pd.Index) -> pd.Series:
    """The year the target (a band: its near edge) is reached at the current pace; NA if never or > 2100."""
    edge = np.where(c.value < c.low, c.low, c.high)
    goal = np.where(c.fam == _BAND, edge, c.target)
    applies = ((c.fam == _THRESHOLD) | (c.fam == _BAND)) & ~c.met & np.isfinite(c.act_raw)
    with np.errstate(all="ignore"):
        years = np.where(c.compound, np.log(goal / c.yt) / np.log1p(c.act_raw), (goal - c.yt) / c.act_raw)
        moment = np.round(c.t + years, 9)
        # "At least" is met in the first whole year at or after the moment; "exceed" in the first year after.
        when = np.where(c.qual == "exceed", np.floor(moment) + 1, np.ceil(moment))
    ok = applies & np.isfinite(when) & (years > 0) & (when <= ATTAINMENT_HORIZON)
    return pd.Series(np.where(ok, when, np.nan), index=index).astype("Int64")


def _first_year_met(rows: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """For a met target, the first year of the unbroken run of points meeting it up to the latest year.

    Not for a period average: its yearly values are not the average the target is about.
    """
    cols = ["row_id", "qualifier", "target", "band_low", "band_high", "_favourable", "direction"]
    met = rows.loc[rows["_met"] & (rows["period_average"] == ""), cols]
    if met.empty:
        return rows
    pts = points.merge(met, on="row_id", how="inner", sort=False)
    v, target = pts["value"].to_numpy(), pts["target"].to_numpy(dtype=float)
    low, high = pts["band_low"].to_numpy(dtype=float), pts["band_high"].to_numpy(dtype=float)
    qual, fav = pts["qualifier"].to_numpy(), pts["_favourable"].to_numpy()
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
    first = rows["row_id"].map(run.groupby("row_id")["year"].min())
    rows["attainment_year"] = rows["attainment_year"].where(~rows["_met"], first.astype("Int64"))
    return rows


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


def _finish(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.sort_values(["order", "region", "milestone_year", "plan"], kind="stable", na_position="last")
    rows = rows.astype({"milestone_year": "Int64", "baseline_year": "Int64", "latest_year": "Int64",
                        "plan_base_year": "Int64"})
    return rows[ASSESSMENT_COLUMNS].reset_index(drop=True)


def _empty_assessment() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in ASSESSMENT_COLUMNS})


# --------------------------------------------------------------------------------------------- ordering


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


def _status_ranks(status: np.ndarray, direction: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------- trajectories


def required_path(baseline_year: int, baseline_value: float, milestone_year: int, target: float,
                  growth: str) -> pd.DataFrame:
    """Yearly values of the path the plan requires: compound (constant growth) or linear (constant change).

    A compound path needs a baseline and a target of the same sign; from or to zero, or across it, the path
    is a straight line.
    """
    if milestone_year < baseline_year:
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
    years = np.arange(int(baseline_year), int(milestone_year) + 1)
    if milestone_year == baseline_year:
        return pd.DataFrame({"year": years, "value": [float(target)]})
    full = np.ones(len(years))
    values = _path_value(full * baseline_year, full * baseline_value, full * milestone_year, full * target,
                         full.astype(bool) & (growth == "compound"), years.astype(float))
    return pd.DataFrame({"year": years, "value": values})


def projection(latest_year: int, latest_value: float, until_year: int, actual_rate: float,
               growth: str) -> pd.DataFrame:
    """The current pace carried forward: ``actual_rate`` in %/yr (compound) or units per year (linear)."""
    if until_year < latest_year or actual_rate is None or not np.isfinite(actual_rate):
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
    years = np.arange(int(latest_year), int(until_year) + 1)
    steps = years - latest_year
    if growth == "compound":
        values = latest_value * np.power(1.0 + actual_rate / 100.0, steps)
    else:
        values = latest_value + actual_rate * steps
    return pd.DataFrame({"year": years, "value": values.astype(float)})


# --------------------------------------------------------------------------------------------- roll-up


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


# --------------------------------------------------------------------------------------------- explanation

# Sentences of "why this status", one template per language; the numbers are filled in by :func:`explain`.
SENTENCES: dict[str, dict[str, str]] = {
    "status": {
        "en": "Status: {label}.",
        "zh": "状态:{label}。",
    },
    "goal": {
        "en": "Goal for {year}: {text}. Not computable; judged by the indicators that evidence it.",
        "zh": "{year}年目标:{text}。不可直接计算,以证据指标的进展说明。",
    },
    "evidence": {
        "en": "Evidence: {codes}.",
        "zh": "证据指标:{codes}。",
    },
    "no_target": {
        "en": "No quantified target: classified by the trend since the baseline (Eurostat).",
        "zh": "无数值目标:按基期以来的变化趋势分类(欧盟统计局方法)。",
    },
    "target_about": {
        "en": "Target ({plan}): about {target} by {year} ('{wording}').",
        "zh": "目标({plan}):{year}年{target}左右(“{wording}”)。",
    },
    "target_top_n": {
        "en": "Target ({plan}): top {target} by {year}.",
        "zh": "目标({plan}):{year}年进入前{target}位。",
    },
    "target_at_least": {
        "en": "Target ({plan}): at least {target} by {year} ('{wording}').",
        "zh": "目标({plan}):{year}年不低于{target}(“{wording}”)。",
    },
    "target_exceed": {
        "en": "Target ({plan}): more than {target} by {year} ('{wording}').",
        "zh": "目标({plan}):{year}年超过{target}(“{wording}”)。",
    },
    "target_at_most": {
        "en": "Target ({plan}): at most {target} by {year} ('{wording}').",
        "zh": "目标({plan}):{year}年不高于{target}(“{wording}”)。",
    },
    "period": {
        "en": (
            "The target is the average annual growth over {period}: the geometric mean of the yearly rates "
            "observed so far is compared with the band."),
        "zh": "该目标为{period}年的年均增速:用已有年份增速的几何平均值与目标区间比较。",
    },
    "base_plan": {
        "en": "Baseline: {value} in {year}, as stated in the plan.",
        "zh": "基期值:{year}年{value}(规划给出)。",
    },
    "base_observed": {
        "en": (
            "Baseline: {value} in {year}, the first observed value at or after the base year {base_year} "
            "(the plan states no base value)."),
        "zh": "基期值:{year}年{value}——规划未给出基期值,取{base_year}年及以后的首个观测值。",
    },
    "no_points": {
        "en": "No observation in the assessment window.",
        "zh": "评估区间内没有观测值。",
    },
    "latest": {
        "en": "Latest: {value} in {year} ({n} data point(s) in the window).",
        "zh": "最新值:{year}年{value}(区间内共{n}个数据点)。",
    },
    "latest_period": {
        "en": "Observed: {n} year(s) of the period, latest {value} in {year}; average so far {mean}.",
        "zh": "已观测该期间{n}个年份,最新为{year}年{value};目前平均为{mean}。",
    },
    "band_within_band": {
        "en": "Band: {low} to {high} (target ± {tol}, edges included); {value} is within it.",
        "zh": "目标区间:{low}至{high}(目标值±{tol},含边界);{value}处于区间内。",
    },
    "band_above_band": {
        "en": "Band: {low} to {high} (target ± {tol}, edges included); {value} is above it.",
        "zh": "目标区间:{low}至{high}(目标值±{tol},含边界);{value}高于区间。",
    },
    "band_below_band": {
        "en": "Band: {low} to {high} (target ± {tol}, edges included); {value} is below it.",
        "zh": "目标区间:{low}至{high}(目标值±{tol},含边界);{value}低于区间。",
    },
    "maintain": {
        "en": (
            "The baseline is already within the band: the plan asks to stay there, so no required growth and "
            "no ratio are computed."),
        "zh": "基期值已在区间内:规划要求保持,因此不计算所需增速和比值。",
    },
    "gap_short": {
        "en": "Gap: {gap} still to go ({rel}).",
        "zh": "差距:距目标还差{gap}({rel})。",
    },
    "gap_met": {
        "en": "Gap: the target is met or passed by {gap} ({rel}).",
        "zh": "差距:已达到或超过目标{gap}({rel})。",
    },
    "share": {
        "en": "{share} of the distance from the baseline to the target is covered.",
        "zh": "已完成从基期到目标距离的{share}。",
    },
    "path_behind": {
        "en": "Required path in {year}: {path}; the latest value is {gap} behind it.",
        "zh": "{year}年的所需路径值为{path},最新值落后路径{gap}。",
    },
    "path_ahead": {
        "en": "Required path in {year}: {path}; the latest value is {gap} ahead of it.",
        "zh": "{year}年的所需路径值为{path},最新值领先路径{gap}。",
    },
    "pace_compound": {
        "en": "Compound annual growth since {year}: {rate}.",
        "zh": "{year}年以来的复合年均增速:{rate}。",
    },
    "pace_linear": {
        "en": "Average annual change since {year} (linear): {rate}.",
        "zh": "{year}年以来的年均变化量(线性):{rate}。",
    },
    "no_target_growth": {
        "en": (
            "Annual growth in the desired direction {growth} %, against Eurostat's cut-offs {sig} % / {mod} "
            "% / {away} %."),
        "zh": "期望方向上的年均增长{growth}%,对照欧盟统计局分界点{sig}% / {mod}% / {away}%。",
    },
    "ratio": {
        "en": (
            "Required from the baseline: {rate}; ratio R = {ratio} → {label} (thresholds {on} / {mod} / {ins}"
            ")."),
        "zh": "自基期所需:{rate};比值R = {ratio} → {label}(阈值{on} / {mod} / {ins})。",
    },
    "from_latest": {
        "en": "Required from {year} to {milestone}: {rate}.",
        "zh": "从{year}年到{milestone}年所需:{rate}。",
    },
    "score": {
        "en": "Open SDG score: {score} (from -5 to 5).",
        "zh": "Open SDG得分:{score}(-5至5)。",
    },
    "rank": {
        "en": (
            "Rank {base} in {base_year} → {latest} in {year}: {moved}. No growth rate is computed on ranks."),
        "zh": "排名:{base_year}年第{base}位 → {year}年第{latest}位,{moved}。排名不计算增速。",
    },
    "rank_up": {
        "en": "up {n} place(s)",
        "zh": "上升{n}位",
    },
    "rank_down": {
        "en": "down {n} place(s)",
        "zh": "下降{n}位",
    },
    "rank_same": {
        "en": "unchanged",
        "zh": "不变",
    },
    "breaks": {
        "en": (
            "Edition breaks in the window (field or method changed): {years}; ranks are not fully "
            "comparable."),
        "zh": "区间内的版本变化(评价范围或方法调整):{years};排名不完全可比。",
    },
    "expected": {
        "en": "UN expected-value method: {value} expected in {year} at the current pace.",
        "zh": "联合国预期值方法:按当前速度,{year}年预期为{value}。",
    },
    "expected_score": {
        "en": (
            "UN expected-value method: {value} expected in {year} at the current pace, score {score} → {label"
            "}."),
        "zh": "联合国预期值方法:按当前速度,{year}年预期为{value},得分{score} → {label}。",
    },
    "disagree": {
        "en": "The ratio method and the UN method classify this differently.",
        "zh": "比值法与联合国预期值法的判断不一致。",
    },
    "met_since": {
        "en": "Met since {year}.",
        "zh": "自{year}年起已达到。",
    },
    "reach": {
        "en": "At the current pace the target would be reached in {year}.",
        "zh": "按当前速度,将于{year}年达到目标。",
    },
    "reach_band": {
        "en": "At the current pace the band would be reached in {year}.",
        "zh": "按当前速度,将于{year}年进入目标区间。",
    },
    "never": {
        "en": "Not reached at the current pace (before {horizon}).",
        "zh": "按当前速度,{horizon}年前无法达到。",
    },
    "stale": {
        "en": "The data may be out of date: the latest year is {year}.",
        "zh": "数据可能已过时:最新年份为{year}年。",
    },
    "no_data": {
        "en": "No data.",
        "zh": "没有数据。",
    },
    "one_point": {
        "en": "Only one data point: no pace can be computed.",
        "zh": "只有一个数据点,无法计算增速。",
    },
    "sign_change": {
        "en": "The baseline and the latest value have different signs: growth is not computed.",
        "zh": "基期值与最新值符号不同,不计算增速。",
    },
    "target_sign": {
        "en": "The baseline and the target have different signs: no compound growth can reach it.",
        "zh": "基期值与目标值符号不同,无法计算复合增速。",
    },
    "zero_base": {
        "en": "The baseline is 0: replaced by ±0.001 to compute growth (as Open SDG does).",
        "zh": "基期值为0,按Open SDG的做法以±0.001代替后计算增速。",
    },
    "zero_target": {
        "en": "The target is 0: replaced by ±0.001 to compute growth (as Open SDG does).",
        "zh": "目标值为0,按Open SDG的做法以±0.001代替后计算增速。",
    },
    "partial_period": {
        "en": "Not every year of the averaging period is observed yet: the average is provisional.",
        "zh": "平均期内尚有年份没有数据,平均值为初步结果。",
    },
    "no_direction": {
        "en": "The indicator has no desired direction: no trend classification.",
        "zh": "该指标无期望方向,不做趋势分类。",
    },
}


def explain(row: pd.Series | Mapping, lang: str = "zh", methods: Methods | None = None) -> list[str]:
    """The numbers behind a row's status, as sentences in Chinese (``zh``, default) or English (``en``).

    ``methods``: the catalog's thresholds (``catalog.methods``), quoted in the sentences; default Eurostat's.
    """
    r = dict(row)
    methods = methods or Methods()
    lang = "en" if lang == "en" else "zh"
    out: list[str] = []

    def say(key: str, **values) -> None:
        out.append(SENTENCES[key][lang].format(**values))

    say("status", label=_label(r.get("status"), lang))
    if r.get("status") == "qualitative":
        text = r.get("target_text_en" if lang == "en" else "target_text")
        say("goal", year=_i(r.get("milestone_year")), text=text)
        if r.get("evidence"):
            say("evidence", codes=", ".join(str(r["evidence"]).split(";")))
        return out
    _explain_target(r, say, lang)
    if _has(r.get("latest_value")):
        _explain_data(r, say, lang)
        _explain_pace(r, say, lang, methods)
        _explain_outlook(r, say, lang)
    else:
        say("no_points")
    if r.get("guard") in GUARDS:
        say(r["guard"])
    if r.get("stale") and _has(r.get("latest_year")):
        say("stale", year=_i(r["latest_year"]))
    return out


def _label(status, lang: str) -> str:
    return STATUS_LABELS.get(status, {}).get(lang, str(status))


def _explain_target(r: dict, say, lang: str) -> None:
    if _has(r.get("target")):
        wording = r.get("wording_en") if lang == "en" else r.get("wording")
        say(f"target_{r['qualifier']}", plan=r.get("plan"), target=_n(r["target"]),
            year=_i(r["milestone_year"]), wording=wording)
    else:
        say("no_target")
    if r.get("period_average"):
        say("period", period=r["period_average"])
    elif _has(r.get("baseline_value")):
        say("base_plan" if r.get("baseline_source") == "plan" else "base_observed",
            value=_n(r["baseline_value"], 6), year=_i(r.get("baseline_year")),
            base_year=_i(r.get("plan_base_year")))


def _explain_data(r: dict, say, lang: str) -> None:
    value, year = _n(r["latest_value"], 6), _i(r["latest_year"])
    if r.get("period_average") and _has(r.get("period_mean")):
        say("latest_period", n=_i(r.get("n_points")), value=value, year=year, mean=_n(r["period_mean"]))
    else:
        say("latest", value=value, year=year, n=_i(r.get("n_points")))
    if r.get("qualifier") == "about" and r.get("status") in ("within_band", "above_band", "below_band"):
        judged = r["period_mean"] if r.get("period_average") else r["latest_value"]
        say(f"band_{r['status']}", low=_n(r["band_low"]), high=_n(r["band_high"]), tol=_n(r["tolerance"]),
            value=_n(judged))
        if r.get("maintain"):
            say("maintain")
    if _has(r.get("gap")):
        gap = float(r["gap"])
        rel = f"{abs(float(r['gap_relative'])) * 100:.1f} %" if _has(r.get("gap_relative")) else "–"
        say("gap_short" if gap > 0 else "gap_met", gap=_n(abs(gap)), rel=rel)
    if _has(r.get("progress_share")):
        say("share", share=f"{float(r['progress_share']) * 100:.0f} %")
    if _has(r.get("gap_to_path")):
        g = float(r["gap_to_path"])
        path = _n(r["path_value_latest"])
        say("path_behind" if g > 0 else "path_ahead", year=year, path=path, gap=_n(abs(g)))
    if r.get("kind") == "rank" and _has(r.get("rank_change")):
        change = float(r["rank_change"])
        moved = "rank_up" if change < 0 else "rank_down" if change > 0 else "rank_same"
        say("rank", base=_n(r["baseline_value"]), base_year=_i(r["baseline_year"]),
            latest=_n(r["latest_value"]), year=year, moved=SENTENCES[moved][lang].format(n=_n(abs(change))))
    if r.get("edition_breaks"):
        say("breaks", years=", ".join(str(r["edition_breaks"]).split(";")))


def _explain_pace(r: dict, say, lang: str, methods: Methods) -> None:
    if not _has(r.get("actual_rate")):
        return
    say("pace_compound" if r.get("growth") == "compound" else "pace_linear", year=_i(r["baseline_year"]),
        rate=_rate(r, r["actual_rate"], lang))
    if r.get("qualifier") == "none" and _has(r.get("annual_growth_pct")):
        cut = methods.no_target_cutoffs
        desired = float(r["annual_growth_pct"]) * (-1 if r.get("direction") == "lower" else 1)
        say("no_target_growth", growth=f"{desired:+.2f}", sig=f"{cut.significant:g}", mod=f"{cut.moderate:g}",
            away=f"{cut.moderate_away:g}")
    if _has(r.get("required_rate")):
        th = methods.ratio_thresholds
        say("ratio", rate=_rate(r, r["required_rate"], lang), ratio=_n(r.get("ratio"), 3),
            label=_label(r.get("ratio_status"), lang), on=f"{th.on_track:g}", mod=f"{th.moderate:g}",
            ins=f"{th.insufficient:g}")
    if _has(r.get("required_rate_from_latest")):
        say("from_latest", year=_i(r["latest_year"]), milestone=_i(r["milestone_year"]),
            rate=_rate(r, r["required_rate_from_latest"], lang))
    if _has(r.get("score")) and float(r["score"]) < SCORE_MAX:
        say("score", score=f"{float(r['score']):.2f}")


def _explain_outlook(r: dict, say, lang: str) -> None:
    if _has(r.get("expected_at_target")):
        values = {"value": _n(r["expected_at_target"]), "year": _i(r["milestone_year"])}
        if _has(r.get("expected_score")) and r.get("expected_status") not in (None, "achieved"):
            label = _label(r["expected_status"], lang)
            say("expected_score", score=_n(r["expected_score"], 3), label=label, **values)
        else:
            say("expected", **values)
    if r.get("method_disagreement"):
        say("disagree")
    if r.get("qualifier") in (None, "none", "qualitative") or r.get("period_average"):
        return
    met = _has(r.get("score")) and float(r["score"]) == SCORE_MAX
    if _has(r.get("attainment_year")):
        year = _i(r["attainment_year"])
        say("met_since" if met else "reach_band" if r.get("qualifier") == "about" else "reach", year=year)
    elif _has(r.get("actual_rate")) and not met:
        say("never", horizon=ATTAINMENT_HORIZON)


def _has(x) -> bool:
    """A value is present: not None, NaN or NA."""
    if x is None or x is pd.NA:
        return False
    try:
        return not math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def _n(x, digits: int = 4) -> str:
    """A number for a sentence: ``digits`` significant digits, thousands separators for big values."""
    if not _has(x):
        return "–"
    x = float(x)
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _i(x) -> str:
    return str(int(x)) if _has(x) else "–"


def _rate(r: dict, x, lang: str) -> str:
    unit = r.get("rate_unit") or ""
    en = lang == "en"
    if unit == "%/yr":
        return f"{float(x):+.2f} %/yr" if en else f"{float(x):+.2f}%/年"
    if unit == "pp/yr":
        return f"{float(x):+.3g} pp/yr" if en else f"{float(x):+.3g}个百分点/年"
    plain = unit.removesuffix("/yr")
    return f"{float(x):+.4g} {plain}/yr" if en else f"{float(x):+.4g} {plain}/年"
