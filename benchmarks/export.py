"""PNG export speed (issue: PNG export and briefing packs). Not a test: run `make benchmarks`.

In one run, on a fresh SQLite database with the shipped data:

- our path: the full briefing pack of the shipped data through `briefing.build_pack`: 19 indicator charts
  and the scorecard = 20 PNGs at 2x, plus the status table and the index; one persistent kaleido server;
  cold (server start included) and warm;
- the naive loop: the same 20 figures written with `fig.write_image(...)` one by one, which starts a
  browser for every chart;
- per-chart warm export through `export.to_image`.

Goals: the pack under 10 s on this 2-core machine; at least 5x faster than the naive loop; per-chart warm
export under 0.5 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="im-bench-export-"))
    os.environ["INNOVATION_MONITOR_INSTANCE"] = str(folder)
    from indicators import briefing, db, export
    from indicators.catalog import load_catalog
    from indicators.seed import run_init
    from indicators.snapshot import snapshot

    engine = db.make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    catalog = load_catalog(ROOT / "data" / "catalog")
    run_init(engine, catalog, ROOT / "data" / "observations")
    snap = snapshot(engine, catalog)
    codes = briefing.charted_indicators(snap)
    print(f"{len(codes)} indicator charts + the scorecard = {len(codes) + 1} PNGs")

    started = time.perf_counter()
    pack = briefing.build_pack(snap, lang="zh")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    briefing.build_pack(snap, lang="zh")
    warm = time.perf_counter() - started
    print(f"pack: {len(pack) / 1e6:.1f} MB")

    charts = [briefing.indicator_chart(snap, code, lang="zh").figure for code in codes]
    per_chart = []
    for fig in charts[:10]:
        t0 = time.perf_counter()
        export.to_image(fig, size="slide")
        per_chart.append(time.perf_counter() - t0)
    card = briefing.scorecard(snap, lang="zh")
    export.SERVER.close()  # the naive loop must not profit from our running server

    out = folder / "naive"
    out.mkdir()
    started = time.perf_counter()
    for n, fig in enumerate(charts):
        fig.write_image(str(out / f"{n:02d}.png"), width=1280, height=720, scale=2)
    card.write_image(str(out / "scorecard.png"), width=1280, height=36 * (len(codes) + 2), scale=2)
    naive = time.perf_counter() - started

    print(f"\n== export benchmark: {len(codes) + 1}-image briefing pack ==")
    print(f"our pack, cold (kaleido server start included)  {cold:6.2f} s  (goal < 10 s: {'met' if cold < 10 else 'NOT met'})")
    print(f"our pack, warm (server already running)         {warm:6.2f} s")
    print(f"naive loop, fig.write_image per chart           {naive:6.2f} s")
    print(f"speed-up naive / ours (cold)                    {naive / cold:6.1f}x  (goal >= 5x: "
          f"{'met' if naive / cold >= 5 else 'NOT met'})")
    print(f"speed-up naive / ours (warm)                    {naive / warm:6.1f}x")
    print(f"per-chart warm export: median {statistics.median(per_chart):.3f} s, max {max(per_chart):.3f} s "
          f"(goal < 0.5 s: {'met' if max(per_chart) < 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
