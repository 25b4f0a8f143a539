"""What several test modules share: where the project and the test data are, and small helpers.

What belongs here: constants and plain functions that more than one test module uses (a test module never
imports another test module). Not here: fixtures (``conftest.py``), and anything only one module needs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from indicators import cli, db, queries
from indicators.catalog import Catalog, Indicator, Text
from indicators.store import KEY, PAYLOAD

PROJECT = Path(__file__).resolve().parent.parent
CATALOG_DIR = PROJECT / "data" / "catalog"
SHIPPED_DIR = PROJECT / "data" / "observations"
TEST_DATA = Path(__file__).resolve().parent / "data"
REFERENCE_DIR = TEST_DATA / "reference"  # copies of ../shared/reference-data (see its README)
INGEST_DATA = TEST_DATA / "ingest"
GOOD, BAD = INGEST_DATA / "good", INGEST_DATA / "bad"
YEARS = (1900, 2030)  # a fixed range of plausible years, so no test depends on today's date
DUMPED = ("observations", "observation_history", "batches", "regions")  # the tables an upload may touch


def database_dump(engine) -> dict[str, list[tuple]]:
    """Every row of the tables an upload may touch, for exact before/after comparisons."""
    return {table: queries.table_dump(engine, table) for table in DUMPED}


def batch_frame(rows: str) -> pd.DataFrame:
    """Observations written as CSV text, in the shape ``store.apply_batch`` takes (absent columns empty)."""
    frame = pd.read_csv(StringIO(rows), dtype={"published_on": str, "note": str, "flag": str, "publication_id": str})
    for col in ("note", "flag", "publication_id", "published_on"):
        if col not in frame:
            frame[col] = None
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame[KEY + PAYLOAD]


def fold_wal(path: Path) -> None:
    """Fold a closed SQLite database's write-ahead log into its file, so the one file holds everything."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()  # the last connection to close removes the -wal and -shm files


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database that has no open connections (a copy without its log would miss writes)."""
    fold_wal(source)
    shutil.copyfile(source, target)


@dataclass(frozen=True)
class CommandResult:
    """What a run of ``innovation-monitor`` gave, in the fields of ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, env: Mapping[str, str], input: str | None = None, check: bool = False) -> CommandResult:
    """Run an ``innovation-monitor`` command in this process, with ``env`` added to the environment for the run.

    A process would pay 0.7 s of interpreter start and imports per call. What only the process shows (exit
    code 3 and no traceback for a failure, ``--debug``: ``cli.run``) is tested with :func:`run_command`, so a
    failure that is not an exit is raised here. ``check``: a non-zero exit fails the test, with the output.
    """
    result = CliRunner().invoke(cli.main, list(args), env=dict(env), input=input)
    db.dispose_engines()  # as the process does on its way out: no connection left open on the test's database
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if check and result.exit_code != 0:
        raise AssertionError(f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return CommandResult(result.exit_code, result.stdout, result.stderr)


def run_command(*args: str, env: Mapping[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m indicators`` (the entry point of ``innovation-monitor``) in a process of its own."""
    return subprocess.run([sys.executable, "-m", "indicators", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=PROJECT, input=input, timeout=300)


# Dash's own record of its callbacks (what dash.testing waits for): the page has its layout and callbacks
# (HYDRATED), and none is requested, waiting or running. Cheaper than Playwright's "networkidle", which waits
# for 500 ms of silence after every page load.
DASH_IDLE = """() => {
    const state = window.store && window.store.getState();
    if (!state || state.appLifecycle !== 'HYDRATED') return false;
    const {stored, completed, ...pending} = state.callbacks;
    return Object.values(pending).every(list => list.length === 0)
        && !document.querySelector('[data-dash-is-loading="true"]');
}"""

# A dcc.Graph draws an empty plot until its callback gives it a figure; Plotly clears _replotting once it has
# drawn the traces, axes and legend.
CHART_DRAWN = """graph => {
    const plot = document.querySelector(`#${graph} .js-plotly-plot`);
    return plot?._fullData?.length > 0 && plot._fullLayout._replotting === false;
}"""


def settle(page) -> None:
    """Wait until the Dash page has loaded and no callback is pending or running."""
    page.wait_for_function(DASH_IDLE, timeout=30_000)


def wait_for_chart(page, graph: str) -> None:
    """Wait until the dcc.Graph with id ``graph`` has drawn a figure with data (no longer its empty plot)."""
    page.wait_for_function(CHART_DRAWN, arg=graph, timeout=30_000)


# A test catalog for the progress methods: small made-up indicators beside the shipped regions and units.


def text(s: str) -> Text:
    return Text(zh=s, en=s)


def make_indicator(code: str, *, kind: str = "level", direction: str = "higher", growth: str | None = None,
                   targets=(), editions=(), frequency: str = "annual", breaks=()) -> Indicator:
    unit = {"rank": "rank", "share": "percent", "growth_rate": "percent_per_year"}.get(kind, "cny_100m")
    return Indicator(code=code, name=text(code), short_name=text(code), unit=unit, kind=kind,
                     direction=direction, growth=growth, pillar="science", frequency=frequency,
                     description=text(code), measurement=text(code), publisher=text("test"),
                     editions=list(editions), breaks=list(breaks), targets=list(targets))


def make_catalog(shipped: Catalog, indicators: list[Indicator]) -> Catalog:
    """The shipped programme, plans, regions and units with the given indicators."""
    regions, units = list(shipped.regions.values()), list(shipped.units.values())
    return Catalog(shipped.root, shipped.programme, regions, units, indicators)


_WORK: dict[str, Callable] = {}


def submit_work(pool, work: Callable[[Callable[[int, int, str], None]], bytes], **options):
    """Submit ``work(report_progress)`` to a job pool as a job of the test-only kind "test" (jobs are a kind and
    plain parameters, so any process can run them; this kind finds the test's function by a key)."""
    from indicators import jobs

    jobs.KINDS.setdefault("test", lambda params, report: _WORK.pop(params["work"])(report))
    key = secrets.token_hex(8)
    _WORK[key] = work
    return pool.submit("test", {"work": key}, **options)


def start_worker(env: Mapping[str, str]) -> subprocess.Popen:
    """``innovation-monitor worker``: takes queued jobs from the Redis that ``env`` names."""
    return subprocess.Popen([sys.executable, "-m", "indicators", "worker"], cwd=PROJECT, env=dict(env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
