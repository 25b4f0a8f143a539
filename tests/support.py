"""What several test modules share: where the project and the test data are, and small helpers.

What belongs here: constants and plain functions that more than one test module uses (a test module never
imports another test module). Not here: fixtures (``conftest.py``), and anything only one module needs.
"""

from __future__ import annotations

import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pandas as pd

from indicators import queries
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
    frame = pd.read_csv(StringIO(rows), dtype={"published_on": str, "note": str, "flag": str})
    for col in ("note", "flag", "published_on"):
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


def settle(page) -> None:
    """Wait until the page has loaded and no Dash callback is running."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=30_000)


# A test catalog for the progress methods: small made-up indicators beside the shipped regions and units.


def text(s: str) -> Text:
    return Text(zh=s, en=s)


def make_indicator(code: str, *, kind: str = "level", direction: str = "higher", growth: str | None = None,
                   targets=(), editions=(), frequency: str = "annual") -> Indicator:
    unit = {"rank": "rank", "share": "percent", "growth_rate": "percent_per_year"}.get(kind, "cny_100m")
    return Indicator(code=code, name=text(code), short_name=text(code), unit=unit, kind=kind,
                     direction=direction, growth=growth, pillar="science", frequency=frequency,
                     description=text(code), measurement=text(code), publisher=text("test"),
                     editions=list(editions), targets=list(targets))


def make_catalog(shipped: Catalog, indicators: list[Indicator]) -> Catalog:
    """The shipped programme, plans, regions and units with the given indicators."""
    regions, units = list(shipped.regions.values()), list(shipped.units.values())
    return Catalog(shipped.root, shipped.programme, regions, units, indicators)
