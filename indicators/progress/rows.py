"""What an assessment is made of: its rows (one per target milestone, goal or untargeted series) and their points.

What belongs here: turning the catalog's targets and the observed series into the rows to assess, the data
points of each row (its window of observations, the plan's base value first), and each row's baseline,
latest value, number of points and period mean. What does not: the methods that judge a row (``method``),
their words (``wording``), or reading the database (``queries``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.catalog import Catalog

# Families of rows: how a row is assessed.
THRESHOLD, BAND, RANK_TARGET, NO_TARGET, QUALITATIVE = "threshold", "band", "rank_target", "none", "goal"
# What a value rests on, carried from the observations to the baseline and latest value of each row.
QUALITY = ("confidence", "flags")
PLAN_QUALITY = -1  # the quality code of a base value the plan states (no observation behind it)
# Columns that only some kinds of row set (a target's band, a goal's text), with the value the others get.
_FILL = {
    "milestone_year": np.nan, "target": np.nan, "tolerance": np.nan, "band_low": np.nan, "band_high": np.nan,
    "period_average": "", "evidence": "", "plan": None, "plans": "", "target_text": None,
    "target_text_en": None, "wording": None, "wording_en": None, "base_confidence": "",
}


def rows_to_assess(observations: pd.DataFrame, catalog: Catalog, *, plan: str | None,
                   region: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows to assess, each with its baseline, latest value and number of points; and their points.

    Rows carry ``row_id`` (their position), ``family``, the indicator's metadata and the window
    ``win_start``-``win_end``; points are (row_id, year, value). No rows: both frames are empty.
    """
    meta = _indicator_frame(catalog)
    obs = _Observations(observations, meta, region)
    rows = _target_rows(catalog, plan=plan, region=region)
    if plan is None:
        rows = pd.concat([rows, _untargeted_rows(catalog, meta, obs.series)], ignore_index=True)
    if rows.empty:
        return rows, pd.DataFrame(columns=["row_id", "year", "value"])
    rows = _fill_defaults(rows)
    rows = rows.merge(meta, on="indicator", how="left", validate="many_to_one")
    rows["row_id"] = np.arange(len(rows))
    rows["key"] = obs.key_of(rows["indicator"], rows["region"])
    points = _points(obs.frame, rows)
    return _summarise(rows, points, obs.quality), points


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
        obs = observations.loc[:, [c for c in ["indicator", "region", "year", "value", *QUALITY] if c in observations]]
        if region is not None:
            obs = obs[obs["region"] == region]
        ind, self.indicators = pd.factorize(obs["indicator"], sort=True)
        reg, self.regions = pd.factorize(obs["region"], sort=True)
        known = np.asarray(self.indicators.isin(meta["indicator"]))
        keep = obs["value"].notna().to_numpy() & known[ind] if len(obs) else np.zeros(0, bool)
        key = ind[keep].astype("int64") * max(len(self.regions), 1) + reg[keep]
        year = obs["year"].to_numpy()[keep].astype("int64")
        value = obs["value"].to_numpy()[keep].astype("float64")
        # What each value rests on (confidence, flags) as one small integer per value: a code into
        # ``self.quality``, so the joins below carry an integer rather than two text columns.
        qcode, self.quality = _quality(obs, keep)
        # One value per indicator x region x year, the last given (a stable sort keeps the given order).
        order = np.lexsort((year, key)) if not _sorted(key, year) else np.arange(len(key))
        key, year, value, qcode = key[order], year[order], value[order], qcode[order]
        last = np.ones(len(key), bool)
        last[:-1] = (key[1:] != key[:-1]) | (year[1:] != year[:-1])
        self.frame = pd.DataFrame({"key": key[last], "year": year[last], "value": value[last],
                                   "quality": qcode[last].astype("int64")})
        unique = np.unique(key)
        n = max(len(self.regions), 1)
        self.series = pd.DataFrame({"indicator": np.asarray(self.indicators)[unique // n],
                                    "region": np.asarray(self.regions)[unique % n]})

    def key_of(self, indicator: pd.Series, region: pd.Series) -> np.ndarray:
        """The series key of each (indicator, region) pair; -1 for a pair with no observations."""
        ind = self.indicators.get_indexer(indicator)
        reg = self.regions.get_indexer(region)
        return np.where((ind >= 0) & (reg >= 0), ind.astype("int64") * max(len(self.regions), 1) + reg, -1)


def _quality(obs: pd.DataFrame, keep: np.ndarray) -> tuple[np.ndarray, pd.MultiIndex]:
    """Each kept value's (confidence, flags) as a code into a small table of the pairs that occur.

    A column the frame lacks (frames built by hand) reads as "" everywhere, without touching every row.
    """
    n = int(keep.sum())
    codes, levels = [], []
    for col in QUALITY:
        if col in obs:
            code, uniques = pd.factorize(obs[col].to_numpy(dtype=object)[keep], use_na_sentinel=False)
            codes.append(code.astype("int64"))
            levels.append(["" if pd.isna(u) else str(u) for u in uniques])
        else:
            codes.append(np.zeros(n, "int64"))
            levels.append([""])
    width = len(levels[1])
    table = pd.MultiIndex.from_product(levels)  # every pair: a few dozen at most
    return codes[0] * width + codes[1], table


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
            "base_confidence": (t.base.confidence or "") if t.base else "", "win_start": base_year,
        }
        if t.qualifier == "none":
            records.append({**common, "family": NO_TARGET, "win_end": np.inf})
            continue
        for m in t.milestones:
            rec = {**common, "milestone_year": m.year, "win_end": m.year,
                   "target": m.value if m.value is not None else np.nan,
                   "target_text": m.text.zh if m.text else t.wording.zh,
                   "target_text_en": m.text.en if m.text else t.wording.en}
            if t.qualifier == "qualitative":
                rec["family"] = QUALITATIVE
            elif t.qualifier == "about":
                centre = np.nan if m.value is None else m.value  # the catalog requires a value for "about"
                tol = t.tolerance if t.tolerance is not None else rel_tolerance * abs(centre)
                rec.update(family=BAND, tolerance=tol, band_low=centre - tol, band_high=centre + tol)
                if t.period_average:
                    start, end = t.period_average
                    rec.update(period_average=f"{start}-{end}", win_start=start, win_end=min(end, m.year),
                               base_value=np.nan)
            else:
                rec["family"] = RANK_TARGET if ind.kind == "rank" else THRESHOLD
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
    return series.assign(family=NO_TARGET, qualifier="none", plan_base_year=base_year, base_value=np.nan,
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
    pts = pts.loc[keep, ["row_id", "year", "value", "quality"]]
    base = rows.loc[rows["base_value"].notna(), ["row_id", "plan_base_year", "base_value"]]
    base = base.rename(columns={"plan_base_year": "year", "base_value": "value"}, errors="raise")
    base["quality"] = PLAN_QUALITY
    # Base points go first: groupby keeps the order of appearance within a group, so first/last in
    # _summarise are the earliest and latest points without sorting the observations again.
    pts = pd.concat([base, pts], ignore_index=True)
    return pts.astype({"year": "int64", "quality": "int64"})


def _with_quality(rows: pd.DataFrame, points: pd.DataFrame, quality: pd.MultiIndex) -> pd.DataFrame:
    """The confidence and flags of each row's baseline and latest value (a plan's base: its catalog confidence)."""
    ends = points.groupby("row_id", sort=False)["quality"].agg(["first", "last"])
    conf = np.append(quality.get_level_values(0).to_numpy(dtype=object), "")
    flags = np.append(quality.get_level_values(1).to_numpy(dtype=object), "")

    def pick(table: np.ndarray, which: str) -> np.ndarray:
        code = rows["row_id"].map(ends[which]).fillna(-1).to_numpy(dtype="int64")
        return table[np.where(code < 0, len(table) - 1, code)]

    base_conf = pick(conf, "first")
    from_plan = rows["base_value"].notna().to_numpy()
    # Values flagged as a break in series ("b") after the baseline: breaks the catalog may not list.
    broken = np.array(["b" in f.split() for f in flags], dtype=bool)
    later = points["row_id"].duplicated().to_numpy()  # not the baseline (a row's points start with it)
    marked = points.loc[later & broken[points["quality"].to_numpy()], ["row_id", "year"]]
    flagged_breaks = marked.astype({"year": str}).groupby("row_id")["year"].agg(";".join)
    return rows.assign(
        flagged_breaks=rows["row_id"].map(flagged_breaks).astype(object).fillna(""),
        baseline_confidence=np.where(from_plan, rows["base_confidence"].to_numpy(dtype=object), base_conf),
        baseline_flags=pick(flags, "first"), latest_confidence=pick(conf, "last"), latest_flags=pick(flags, "last"))


def _summarise(rows: pd.DataFrame, points: pd.DataFrame, quality: pd.MultiIndex) -> pd.DataFrame:
    """Baseline (first point), latest (last point), number of points and, for period averages, the mean."""
    summary = points.groupby("row_id", sort=False).agg(
        baseline_year=("year", "first"), baseline_value=("value", "first"),
        latest_year=("year", "last"), latest_value=("value", "last"), n_points=("year", "size"),
    )
    rows = rows.join(summary, on="row_id")
    rows["n_points"] = rows["n_points"].fillna(0).astype("int64")
    from_plan = rows["base_value"].notna()
    observed = rows["n_points"] > 0
    rows["baseline_source"] = np.where(from_plan, "plan", np.where(observed, "observed", ""))
    # Which observation the baseline is: the plan's base year's, or the first one after it (none that year).
    # (a period average's window starts with the period, not at the base year)
    at_base = rows["baseline_year"].to_numpy(dtype=float) == rows["win_start"].to_numpy(dtype=float)
    rows["baseline_basis"] = np.where(from_plan, "plan", np.where(
        observed, np.where(at_base, "observed_base_year", "first_observation"), ""))
    rows = _with_quality(rows, points, quality)
    rows["period_mean"] = np.nan
    averaged = rows.loc[rows["period_average"] != "", "row_id"]
    if len(averaged):
        # "Average annual growth" over a period is the geometric mean of the yearly growth rates.
        sub = points[points["row_id"].isin(averaged)]
        logs = pd.Series(np.log1p(sub["value"].to_numpy() / 100.0), index=sub["row_id"].to_numpy())
        rows["period_mean"] = rows["row_id"].map(np.expm1(logs.groupby(level=0).mean()) * 100.0)
    return rows
