"""Work report speed (issue 15: the work report). Not a test: run `.venv/bin/python benchmarks/report.py`.

In one run, on a fresh SQLite database with the shipped data, one persistent kaleido server, alternating:

- the baseline: the Chinese briefing pack of the shipped data (`briefing.build_pack`: a PNG per indicator and
  the scorecard, the status table and the index);
- the zh work report as Word (`report.build(..., fmt="docx")`: every chart at page size, the scorecard table,
  sources, data version) and as PowerPoint (`fmt="pptx"`: every chart at slide size).

The first pack starts the browser and is not counted; then ``--runs`` rounds of pack, docx, pptx. Goal: the zh
report under 10 s on this 2-core machine; the ratio report / pack is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    folder = Path(tempfile.mkdtemp(prefix="im-bench-report-"))
    os.environ["INNOVATION_MONITOR_INSTANCE"] = str(folder)
    import pandas as pd

    from indicators import briefing, db, export, report
    from indicators.catalog import load_catalog
    from indicators.seed import run_init
    from indicators.snapshot import snapshot

    engine = db.make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    catalog = load_catalog(ROOT / "data" / "catalog")
    run_init(engine, catalog, ROOT / "data" / "observations")
    snap = snapshot(engine, catalog)
    codes = briefing.charted_indicators(snap)
    spec = report.ReportSpec(lang="zh", period="2026Q4")

    started = time.perf_counter()
    briefing.build_pack(snap, lang="zh")
    cold = time.perf_counter() - started
    times: dict[str, list[float]] = {"pack": [], "docx": [], "pptx": []}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for name in times:
            started = time.perf_counter()
            data = (briefing.build_pack(snap, lang="zh") if name == "pack"
                    else report.build(snap, spec, fmt=name))
            times[name].append(time.perf_counter() - started)
            sizes[name] = len(data)
    export.SERVER.close()

    print(f"\n== work report benchmark: {len(codes)} charts, zh, {runs} runs ==")
    print(f"date {datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} cores; {platform.platform()}; Python "
          f"{platform.python_version()}; pandas {pd.__version__}; load average {os.getloadavg()[0]:.1f}")
    print(f"first pack (browser start included, not counted)  {cold:6.2f} s")
    pack = statistics.median(times["pack"])
    for name, label in (("pack", "briefing pack (baseline)"), ("docx", "report .docx"), ("pptx", "report .pptx")):
        median = statistics.median(times[name])
        runs_text = ", ".join(f"{t:.2f}" for t in times[name])
        goal = "" if name == "pack" else f"  ratio {median / pack:.2f}x  (goal < 10 s: {'met' if median < 10 else 'NOT met'})"
        print(f"{label:<26} median {median:6.2f} s  [{runs_text}]  {sizes[name] / 1e6:.1f} MB{goal}")


if __name__ == "__main__":
    main()
