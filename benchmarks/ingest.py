"""Ingestion speed: a million synthetic observations through ``innovation-monitor ingest``, compared with the
SQLite shell's ``.import`` of the same file (the practical floor) and pandas ``to_sql`` with its defaults
(what a naive script does).

    .venv/bin/python benchmarks/ingest.py            # 1,000,000 rows
    .venv/bin/python benchmarks/ingest.py --rows 200000 --keep /tmp/bench

Every contender runs as its own process on a fresh SQLite file and is timed from start to exit, so each
pays for its own start-up (for Python: the interpreter and its imports, shown separately). ``.import`` and
the ingest command run ``--repeat`` times each, alternating, and the medians are compared. Peak memory is
the maximum resident set size of a process (the ingest command is two: the loading process and the
writing process it forks; both are reported). Also timed, inside one fresh process: the whole-file path
(parse + validate, then load with history) and the path the command takes for one big file (loading while
reading), and a re-ingest of the same file with 1 % of the values changed.

The data are synthetic: every row's source says so, the regions are called "合成地区" (synthetic region)
with codes ``synthetic_0001`` ..., and the values are random. Nothing here is a statistic. This is a
benchmark, not a test: it prints timings and never asserts them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators.catalog import load_catalog  # noqa: E402

YEARS = range(2000, 2025)  # 25 years
SOURCE = "synthetic benchmark data (not statistics)"
CHANGED_SHARE = 0.01
MAX_SIZE_MB = 512  # the file is larger than the default 50 MB upload limit; the limit is an option
COLUMNS = ["indicator", "region_code", "region_name", "year", "value", "source", "confidence"]
IMPORT_SQL = """CREATE TABLE observations (indicator TEXT, region_code TEXT, region_name TEXT, year INTEGER,
    value REAL, source TEXT, confidence TEXT, PRIMARY KEY (indicator, region_code, year));
.import --csv --skip 1 {path} observations
"""
TO_SQL_SCRIPT = (
    "import pandas as pd, sqlalchemy, sys; "
    "pd.read_csv(sys.argv[1]).to_sql('observations', sqlalchemy.create_engine(sys.argv[2]))"
)


# Runs a command and records its wall time, CPU time (its own and its children's) and peak memory: the
# largest resident set of any one process (getrusage), and, when asked ("pss"), the peak of the
# proportional set size summed over the command's process tree (sampled from /proc every 50 ms), which
# counts memory that processes share once. Sampling costs CPU that the two busy processes of an ingest
# would miss, so timed runs do not sample: memory is measured in runs of its own. A process forked from
# this benchmark (which holds the generated rows) would inherit its memory high-water mark; forked from
# this small wrapper, the child's peak is its own.
MEASURE = """
import json, os, resource, subprocess, sys, time

def tree(pid):
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                for child in fh.read().split():
                    pids += tree(int(child))
    except OSError:
        pass
    return pids

def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except OSError:
        return 0

start = time.perf_counter()
proc = subprocess.Popen(sys.argv[3:], stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
peak_pss = 0
while sys.argv[2] == "pss" and proc.poll() is None:
    peak_pss = max(peak_pss, sum(pss_kb(p) for p in tree(proc.pid)))
    time.sleep(0.05)
proc.wait()
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss,
               "pss_kb": peak_pss}, fh)
sys.exit(proc.returncode)
"""


@dataclass
class Run:
    seconds: float
    cpu: float
    peak_mb: float  # the largest process
    tree_mb: float  # all processes of the command, shared pages counted once (PSS)
    output: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--repeat", type=int, default=5, help=".import and ingest runs (the median counts)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="im-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run_benchmark(work, args.rows, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run_benchmark(work: Path, n_rows: int, repeat: int) -> None:
    catalog = load_catalog(ROOT / "data" / "catalog")
    indicators = [i for i in catalog.indicators.values() if i.kind != "qualitative"]
    n_regions = math.ceil(n_rows / (len(indicators) * len(YEARS)))
    data = work / "synthetic-observations.csv"
    changed = work / "synthetic-observations-1pct-changed.csv"
    started = time.perf_counter()
    rows = generate(indicators, n_regions, n_rows)
    write_csv(data, rows)
    write_csv(changed, change_some(rows, indicators, CHANGED_SHARE))
    print_header(data, n_rows, len(indicators), n_regions, time.perf_counter() - started)

    shells, ingests = [], []
    for attempt in range(repeat):  # alternate the two, so both see the same machine
        target = work / f"import-{attempt}.sqlite3"
        shells.append(timed(["sqlite3", str(target)], stdin=IMPORT_SQL.format(path=data)))
        ingest_db = work / f"ingest-{attempt}.sqlite3"
        init_database(ingest_db)
        ingests.append(timed(ingest_command(data, "synthetic benchmark data"), env=database_env(ingest_db)))
    shell, ingest = median_run(shells), median_run(ingests)
    first = json.loads(ingest.output)[0]
    reingest = timed(ingest_command(changed, None), env=database_env(ingest_db))
    second = json.loads(reingest.output)[0]
    memory_db = work / "memory.sqlite3"  # memory in runs of their own (sampling would slow the timed ones)
    init_database(memory_db)
    ingest.tree_mb = timed(ingest_command(data, None), env=database_env(memory_db), pss=True).tree_mb
    reingest.tree_mb = timed(ingest_command(changed, None), env=database_env(memory_db), pss=True).tree_mb

    phases = in_process_phases(work, data)
    startup = timed([sys.executable, "-c", "import indicators.cli, indicators.ingest"])
    naive = timed([sys.executable, "-c", TO_SQL_SCRIPT, str(data), f"sqlite:///{work / 'to_sql.sqlite3'}"])
    check_counts(work, n_rows, repeat)

    print_results(ingest, first, reingest, second, phases, startup, shell, naive, shells, ingests)


def ingest_command(path: Path, note: str | None) -> list[str]:
    command = [sys.executable, "-m", "indicators", "ingest", str(path), "--user", "benchmark",
               "--max-size", str(MAX_SIZE_MB), "--format", "json"]
    return command + (["--note", note] if note else [])


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


# --- data ---------------------------------------------------------------------------------------------


def generate(indicators, n_regions: int, n_rows: int) -> list[list]:
    """Indicators x regions x 25 years, cut at ``n_rows``; values plausible for each kind, all random."""
    rng = random.Random(20260101)
    rows = []
    for r in range(1, n_regions + 1):
        code, name = f"synthetic_{r:04d}", f"合成地区{r:04d}"
        for ind in indicators:
            level = rng.uniform(10, 10_000)
            for year in YEARS:
                rows.append(
                    [ind.code, code, name, year, synthetic_value(rng, ind.kind, level), SOURCE, "low"]
                )
                if len(rows) == n_rows:
                    return rows
    return rows


def synthetic_value(rng: random.Random, kind: str, level: float) -> float | int:
    if kind == "share":
        return round(rng.uniform(0, 100), 2)
    if kind == "growth_rate":
        return round(rng.uniform(-5, 15), 2)
    if kind == "rank":
        return rng.randint(1, 500)
    if kind == "count":
        return int(level * rng.uniform(0.9, 1.1))
    return round(level * rng.uniform(0.9, 1.1), 2)


def change_some(rows: list[list], indicators, share: float) -> list[list]:
    """A copy with ``share`` of the values changed a little (still plausible: no jump warnings)."""
    kinds = {i.code: i.kind for i in indicators}
    rng = random.Random(7)
    out = [list(r) for r in rows]
    for i in rng.sample(range(len(out)), int(len(out) * share)):
        row = out[i]
        kind = kinds[row[0]]
        if kind == "rank":
            row[4] = row[4] + 1
        elif kind == "share":
            row[4] = round(min(100.0, row[4] + 0.5) if row[4] < 99.5 else row[4] - 0.5, 2)
        elif kind == "count":
            row[4] = row[4] + 1
        else:
            row[4] = round(row[4] + 0.01, 2)
    return out


def write_csv(path: Path, rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


# --- running ------------------------------------------------------------------------------------------


def database_env(path: Path) -> dict:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PYTHONPATH": str(ROOT)}


def init_database(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "indicators", "init"], env=database_env(path), check=True, capture_output=True
    )


def timed(command: list[str], env: dict | None = None, stdin: str | None = None, pss: bool = False) -> Run:
    """Wall time, CPU time and peak resident memory of one command, from start to exit; ``pss``: also the
    peak memory of its whole process tree (then the times are not comparable: see MEASURE). Files written
    before are flushed to disk first, so no run pays for the writing of the one before."""
    os.sync()
    with tempfile.TemporaryDirectory() as tmp:
        measured, out, err = Path(tmp) / "measure.json", Path(tmp) / "out", Path(tmp) / "err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.run(
                [sys.executable, "-c", MEASURE, str(measured), "pss" if pss else "time", *command],
                input=(stdin or "").encode(),
                stdout=stdout,
                stderr=stderr,
                env=env or {**os.environ, "PYTHONPATH": str(ROOT)},
                cwd=ROOT,
            )
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(command[:4])} … failed ({proc.returncode}):\n{err.read_text()[-3000:]}"
            )
        m = json.loads(measured.read_text())
        return Run(m["seconds"], m["cpu"], m["peak_kb"] / 1024, m["pss_kb"] / 1024, out.read_text())


# The ingest steps timed inside one fresh process: the whole-file path (parse_path, then commit) and the
# path the command takes (load_path: loading while reading, with a writing process). Peak memory of the
# loading process and of its writing process (reaped children) are read from getrusage.
PHASES = """
import json, resource, sys, time
from indicators import db, ingest
from indicators.catalog import load_catalog
from indicators.seed import run_init
from indicators import settings
catalog = load_catalog(settings.catalog_dir())
options = ingest.IngestOptions(max_bytes=int(sys.argv[3]) * 1024 * 1024)
out = {}
whole = db.make_engine(f"sqlite:///{sys.argv[1]}")
run_init(whole, catalog)
start, start_cpu = time.perf_counter(), time.process_time()
parsed = ingest.parse_path(sys.argv[4], catalog, whole, options)
parsed_at, parsed_cpu = time.perf_counter(), time.process_time()
ingest.commit(whole, parsed, user="benchmark")
done, done_cpu = time.perf_counter(), time.process_time()
out["whole-file path: parse + validate"] = (parsed_at - start, parsed_cpu - start_cpu)
out["whole-file path: load with history"] = (done - parsed_at, done_cpu - parsed_cpu)
out["whole-file path: total"] = (done - start, done_cpu - start_cpu)
whole.dispose()
del parsed
overlapped = db.make_engine(f"sqlite:///{sys.argv[2]}")
run_init(overlapped, catalog)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
ingest.load_path(overlapped, sys.argv[4], catalog, options, user="benchmark")
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
out["load while reading (load_path, both processes)"] = (seconds, None)
out["writer_cpu"] = cpu
out["writer_peak_mb"] = after.ru_maxrss / 1024
out["loader_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def in_process_phases(work: Path, data: Path) -> dict:
    """The ingest steps timed inside one fresh Python process (see PHASES)."""
    proc = subprocess.run(
        [sys.executable, "-c", PHASES, str(work / "phases-whole.sqlite3"), str(work / "phases-overlapped.sqlite3"),
         str(MAX_SIZE_MB), str(data)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"in-process phases failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_counts(work: Path, n_rows: int, repeat: int) -> None:
    names = [f"ingest-{a}" for a in range(repeat)] + [f"import-{a}" for a in range(repeat)]
    names += ["to_sql", "phases-whole", "phases-overlapped", "memory"]
    for name in names:
        with sqlite3.connect(work / f"{name}.sqlite3") as conn:
            count = conn.execute(
                "SELECT count(*) FROM observations WHERE source = ? OR ? = 'to_sql'", (SOURCE, name)
            ).fetchone()[0]
        if count != n_rows:
            raise SystemExit(f"{name}: expected {n_rows} rows, found {count}")


# --- printing -----------------------------------------------------------------------------------------


def print_header(data: Path, n_rows: int, n_indicators: int, n_regions: int, seconds: float) -> None:
    print(
        f"date: {date.today().isoformat()}; machine: {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM, "
        f"{platform.system()} {platform.machine()}"
    )
    print(
        f"Python {platform.python_version()}, pandas {__import__('pandas').__version__}, "
        f"SQLite {sqlite3.sqlite_version} (Python), {sqlite_shell_version()} (shell)"
    )
    print(
        f"file: {n_rows:,} rows = {n_indicators} indicators x {n_regions:,} synthetic regions x {len(YEARS)} "
        f"years (last region partial), {data.stat().st_size / 2**20:.1f} MB, UTF-8; "
        f"generated in {seconds:.1f} s"
    )


def print_results(ingest, first, reingest, second, phases, startup, shell, naive, shells, ingests) -> None:
    floor, floor_cpu = shell.seconds, shell.cpu
    print()
    ratios = sorted(i.seconds / s.seconds for s, i in zip(shells, ingests, strict=True))
    print(f"median of {len(shells)} runs each for `.import` and the ingest command, alternating; "
          f"all runs: .import {', '.join(f'{r.seconds:.2f}' for r in shells)} s; "
          f"ingest {', '.join(f'{r.seconds:.2f}' for r in ingests)} s; "
          f"ingest / .import run by run: {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(median {ratios[len(ratios) // 2]:.2f})")
    print()
    print("| step | wall s | x .import | CPU s | x .import (CPU) | peak memory MB (largest process) "
          "| peak memory MB (all processes, PSS) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| SQLite shell `.import` (same key) | {shell.seconds:.2f} | 1.00 | {shell.cpu:.2f} | 1.00 | "
        f"{shell.peak_mb:.0f} | |"
    )
    for label, run in (
        ("`innovation-monitor ingest` (whole command)", ingest),
        ("pandas `read_csv` + `to_sql` (defaults)", naive),
        ("re-ingest with 1 % of values changed", reingest),
    ):
        tree = f"{run.tree_mb:.0f}" if run.tree_mb else ""
        print(
            f"| {label} | {run.seconds:.2f} | {run.seconds / floor:.2f} | {run.cpu:.2f} | "
            f"{run.cpu / floor_cpu:.2f} | {run.peak_mb:.0f} | {tree} |"
        )
    print(
        f"| … Python start-up and imports (in every ingest) | {startup.seconds:.2f} | | "
        f"{startup.cpu:.2f} | | "
        f"{startup.peak_mb:.0f} | |"
    )
    for label, value in phases.items():
        if not isinstance(value, list):
            continue
        wall, cpu = value
        cpu_cells = "| |" if cpu is None else f"| {cpu:.2f} | {cpu / floor_cpu:.2f} |"
        print(f"| … in-process {label} | {wall:.2f} | {wall / floor:.2f} {cpu_cells} | |")
    print()
    print(f"ingest / to_sql: {ingest.seconds / naive.seconds:.2f} (wall), {ingest.cpu / naive.cpu:.2f} (CPU)")
    print(
        "the ingest command runs as two processes, the loading process and the writing process it forks "
        f"(in-process run: loader {phases['loader_peak_mb']:.0f} MB, writer {phases['writer_peak_mb']:.0f} MB "
        f"resident at most, writer CPU {phases['writer_cpu']:.2f} s); CPU s counts both"
    )
    for label, outcome in (("first ingest", first), ("re-ingest", second)):
        counts = outcome["batch_counts"]
        print(
            f"{label}: status {outcome['status']}, batch {outcome['batch']}, new {counts['new']:,}, "
            f"revised {counts['revised']:,}, unchanged {counts['unchanged']:,}, "
            f"new regions {len(outcome['report']['new_regions']):,}, "
            f"problems {outcome['report']['problem_codes'] or 'none'}"
        )
    print(
        f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the "
        "machine inflates wall times; CPU times are less affected)"
    )


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def sqlite_shell_version() -> str:
    if shutil.which("sqlite3") is None:
        raise SystemExit("the sqlite3 shell is missing: run `make setup` (tools/install-system-deps.sh)")
    return subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]


if __name__ == "__main__":
    main()
