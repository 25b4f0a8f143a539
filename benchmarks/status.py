"""Benchmark: the status of every indicator x region in 1,000,000 synthetic observations.

The data are SYNTHETIC (random walks, generated regions ``synthetic_000`` … plus ``beijing``): they measure
speed, not anything about the world. Two catalogs are timed:

- shipped: the shipped catalog, whose targets are Beijing's, so almost every series gets the no-target
  classification;
- every region targeted: each target of the shipped catalog copied to every generated region, so every
  series goes through the target methods (ratio, bands, UN expected value, paths, attainment).

Run: ``.venv/bin/python benchmarks/status.py`` (``--runs N``, ``--regions N``). Prints the median of the runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from indicators import settings
from indicators.catalog import Catalog, load_catalog
from indicators.progress import assess

TARGET_OBSERVATIONS = 1_000_000
LAST_YEAR = 2025
TODAY = date(2026, 6, 1)


def synthetic_observations(catalog: Catalog, n_regions: int, seed: int = 20260601) -> pd.DataFrame:
    """Random-walk series for every non-qualitative indicator x region, about a million rows in all."""
    rng = np.random.default_rng(seed)
    codes = [c for c, ind in catalog.indicators.items() if ind.kind != "qualitative"]
    regions = ["beijing"] + [f"synthetic_{n:03d}" for n in range(n_regions - 1)]
    n_years = TARGET_OBSERVATIONS // (len(codes) * len(regions))
    years = np.arange(LAST_YEAR - n_years + 1, LAST_YEAR + 1)
    n_series = len(codes) * len(regions)
    shape = (n_series, n_years)
    kinds = np.repeat([catalog.indicators[c].kind for c in codes], len(regions))
    start = np.where(kinds == "rank", rng.integers(1, 60, n_series), rng.uniform(5, 5000, n_series))
    steps = rng.normal(0.03, 0.05, shape)
    values = start[:, None] * np.exp(np.cumsum(steps, axis=1))
    ranks = np.clip(np.rint(start[:, None] + np.cumsum(rng.integers(-2, 3, shape), axis=1)), 1, 200)
    values = np.where((kinds == "rank")[:, None], ranks, values)
    return pd.DataFrame({
        "indicator": np.repeat(np.repeat(codes, len(regions)), n_years),
        "region": np.tile(np.repeat(regions, n_years), len(codes)),
        "year": np.tile(years, n_series),
        "value": values.ravel(),
        # what each value rests on, as queries.observations gives it: every 7th value provisional
        "confidence": np.where(np.arange(n_series * n_years) % 5 == 0, "low", "medium"),
        "flags": np.where(np.arange(n_series * n_years) % 7 == 0, "p", ""),
    })


def every_region_targeted(catalog: Catalog, regions: list[str]) -> Catalog:
    """The shipped catalog with each target copied to every region (a synthetic catalog)."""
    indicators = []
    for ind in catalog.indicators.values():
        targets = [t.model_copy(update={"region": r}) for t in ind.targets for r in regions]
        indicators.append(ind.model_copy(update={"targets": targets}))
    regions, units = list(catalog.regions.values()), list(catalog.units.values())
    return Catalog(catalog.root, catalog.programme, regions, units, indicators)


def timed(obs: pd.DataFrame, catalog: Catalog, runs: int) -> tuple[list[float], pd.DataFrame]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = assess(obs, catalog, today=TODAY)
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--regions", type=int, default=500)
    args = parser.parse_args()

    catalog = load_catalog(settings.catalog_dir())
    obs = synthetic_observations(catalog, args.regions)
    regions = sorted(obs["region"].unique())
    print(f"SYNTHETIC data: {len(obs):,} observations, {obs['indicator'].nunique()} indicators x "
          f"{len(regions)} regions x {obs['year'].nunique()} years ({obs['year'].min()}-{obs['year'].max()})")
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}, {args.runs} runs each")
    targeted = every_region_targeted(catalog, regions)
    scenarios = (("shipped catalog", catalog), ("every region targeted", targeted))
    for label, cat in scenarios:
        times, result = timed(obs, cat, args.runs)
        counts = result["status"].value_counts()
        with_milestone = int(result["milestone_year"].notna().sum())
        print(f"\n{label}: {len(result):,} rows ({with_milestone:,} with a milestone)")
        print(f"  assess: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
              f"max {max(times):.3f} s")
        print("  statuses: " + ", ".join(f"{s} {n:,}" for s, n in counts.items()))


if __name__ == "__main__":
    main()
