"""Every write to the database: batches of observations with full history, reverts, catalog rows, accounts.

What belongs here: the writes to ``observations``, ``observation_history`` and ``batches`` (apply a batch,
revert one), to the catalog tables (``write_catalog_rows``, from what ``seed`` builds out of the YAML catalog)
and to ``users``, with the reads that a write makes inside its own transaction to be exact (the stored
values a batch is compared with, the rows ``init`` compares with the catalog). Each public function works
inside the caller's transaction (a SQLAlchemy ``Connection``), so a caller that fails half-way rolls
everything back: no half-applied batch, also when the process is killed.

Not here: parsing and validating files (``ingest``), reading for display or analysis (``queries``),
deciding what the catalog rows are (``seed``), password hashing and roles (``users``).
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, CursorResult, Float, Integer, delete, func, insert, literal, select, update

from indicators.i18n import BilingualError, Text
from indicators.models import (
    OBSERVATION_COLUMNS,
    Agency,
    Batch,
    Indicator,
    Milestone,
    Observation,
    ObservationHistory,
    Pillar,
    Plan,
    Publication,
    Region,
    Target,
    Task,
    TaskStatus,
    User,
    table_of,
)

KEY = ["indicator_code", "region_code", "year"]
PAYLOAD = ["value", "source", "confidence", "note", "flag", "publication_id", "published_on"]
CHUNK = 500
# SQLite binds at most 32,766 parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_MAX_PARAMETERS = 32_766
# Rows per multi-row INSERT: statements of a few thousand rows compile slowly; 1,000 was fastest here.
SQLITE_ROWS_PER_STATEMENT = 1_000
FETCH_ROWS = 100_000
MAX_BATCH_ID = 2**31  # batches.id is INTEGER: 32 bits on PostgreSQL; a larger number names no batch
TASK_BATCH_KIND = "task_status"  # a batch of task statuses (``record_task_statuses``), not of observations
NUMERIC_TYPES = {"current_id": np.int64, "year": np.int64, "value": np.float64}

OBS = table_of(Observation)
HIST = table_of(ObservationHistory)
BATCHES = table_of(Batch)


@dataclass
class BatchResult:
    """What a batch did. ``revised`` holds old -> new for every changed value."""

    batch_id: int | None
    n_new: int = 0
    n_revised: int = 0
    n_unchanged: int = 0
    n_skipped: int = 0
    n_rejected: int = 0
    already_loaded_as: int | None = None
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)


class RevertRefused(BilingualError):
    """A batch cannot be reverted exactly (unknown, already reverted, or revised by a later batch)."""


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite has no time zones)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def file_checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def known_from(published_on: str | None, loaded_at: datetime) -> datetime:
    """When a value became knowable: its publication date if recorded, else when it was loaded.

    A month ('2017-06') counts from the month's last day, a year from 31 December: the value was known
    by then at the latest.
    """
    if not published_on or (isinstance(published_on, float) and np.isnan(published_on)):
        return loaded_at
    parts = [int(p) for p in str(published_on).split("-")]
    if len(parts) == 1:
        return datetime(parts[0], 12, 31)
    if len(parts) == 2:
        return datetime(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return datetime(parts[0], parts[1], parts[2])


def latest_batch_id(conn: Connection) -> int | None:
    """The newest batch. Every change to the observations is a batch, so an unchanged latest batch id
    means unchanged observations."""
    return conn.execute(select(func.max(BATCHES.c.id))).scalar()


def find_loaded_batch(conn: Connection, checksum: str) -> int | None:
    """The batch that already loaded a file with this checksum and was not reverted, if any."""
    return conn.execute(
        select(BATCHES.c.id).where(
            BATCHES.c.checksum == checksum,
            BATCHES.c.kind.in_(["seed", "upload"]),
            BATCHES.c.reverted_by_batch_id.is_(None),
        ).order_by(BATCHES.c.id.desc())
    ).scalar()


class StoredKeys:
    """Where each key of the current values is: built once, looked up for every part of a big file."""

    def __init__(self, current: pd.DataFrame):
        self.current = current
        self._parts = [pd.Index(pd.unique(current[c])) for c in KEY]
        self._index = pd.Index(self._combine([current[c] for c in KEY]))

    def _combine(self, columns: list[pd.Series]) -> np.ndarray:
        """One integer per key (-1 when a part of it is not among the stored ones)."""
        combined = np.zeros(len(columns[0]), dtype=np.int64)
        absent = np.zeros(len(columns[0]), dtype=bool)
        for values, part in zip(columns, self._parts, strict=True):
            codes = part.get_indexer(values)
            absent |= codes < 0
            combined = combined * (len(part) + 1) + codes + 1
        return np.where(absent, -1, combined)

    def positions(self, frame: pd.DataFrame) -> np.ndarray:
        """Row of ``current`` holding each key of ``frame``; -1 for a new key."""
        keys = self._combine([frame[c] for c in KEY])
        found = self._index.get_indexer(keys)
        return np.where(keys < 0, -1, found)


def diff_against_current(
    conn: Connection, frame: pd.DataFrame, current: pd.DataFrame | None = None,
    keys: StoredKeys | None = None, keep: Collection[str] = (),
) -> pd.DataFrame:
    """Classify each incoming row as new, revised or unchanged against the current values.

    Returns the incoming rows with ``status``, ``current_id`` and ``old_value`` columns. ``current`` (from
    :func:`current_values`, read in the same transaction) saves reading the stored values again; ``keys``
    (its :class:`StoredKeys`) saves indexing them again. ``keep``: payload columns the incoming rows say
    nothing about (an upload without a flag column, say: ``ingest.diff``); a row that gives a stored key again with the same value
    and source takes the stored ones (in the diff returned, and so in what is written).
    """
    if keys is not None:
        current = keys.current
    if current is None:
        current = current_values(conn, frame["indicator_code"].unique().tolist())
    current_id = np.full(len(frame), np.nan)
    old_value = np.full(len(frame), np.nan)
    status = np.full(len(frame), "new", dtype=object)
    diff = frame.copy()
    if len(current) and len(frame):
        found = (keys or StoredKeys(current)).positions(frame)
        matched = found >= 0
        new_at, old_at = np.flatnonzero(matched), found[matched]
        if keep:
            frame = diff = _keep_stored(diff, current, new_at, old_at, keep)
        same = np.ones(len(new_at), dtype=bool)
        for col in PAYLOAD:
            new, old = frame[col].iloc[new_at], current[col].iloc[old_at]
            if col == "value":
                same &= new.astype(float).to_numpy() == old.astype(float).to_numpy()
            else:
                same &= as_text(new).to_numpy() == as_text(old).to_numpy()
        current_id[new_at] = current["current_id"].to_numpy()[old_at]
        old_value[new_at] = current["value"].astype(float).to_numpy()[old_at]
        status[new_at] = np.where(same, "unchanged", "revised")
    diff["current_id"] = current_id
    diff["old_value"] = old_value
    diff["status"] = status
    return diff


def _keep_stored(
    frame: pd.DataFrame, current: pd.DataFrame, new_at: np.ndarray, old_at: np.ndarray, columns: Collection[str]
) -> pd.DataFrame:
    """``frame`` with the stored ``columns`` on each row at ``new_at`` whose value and source equal those of
    the stored row at ``old_at`` (changed in place: ``frame`` is the diff's own copy)."""
    new, old = frame.iloc[new_at], current.iloc[old_at]
    same = new["value"].astype(float).to_numpy() == old["value"].astype(float).to_numpy()
    same &= as_text(new["source"]).to_numpy() == as_text(old["source"]).to_numpy()
    if not same.any():
        return frame
    for col in columns:
        values = np.array(frame[col].astype(object), dtype=object)
        values[new_at[same]] = old[col].astype(object).to_numpy()[same]
        frame[col] = pd.Categorical(values) if isinstance(frame[col].dtype, pd.CategoricalDtype) else values
    return frame


def as_text(column: pd.Series) -> pd.Series:
    """Text for comparison: missing is the empty string, so NULL and '' compare equal."""
    return column.astype(object).where(column.notna(), "").astype(str)


def current_values(conn: Connection, indicator_codes: list[str]) -> pd.DataFrame:
    """The current observations of these indicators: ``current_id``, KEY and PAYLOAD columns.

    Read through the DBAPI cursor: for a million rows, SQLAlchemy's Row objects cost more than the query.
    """
    columns = ["current_id", *KEY, *PAYLOAD]
    codes = sorted(indicator_codes)
    parts = []
    for i in range(0, len(codes), CHUNK):
        statement = select(OBS.c.id, *[OBS.c[c] for c in KEY + PAYLOAD]).where(
            OBS.c.indicator_code.in_(codes[i:i + CHUNK]))
        parts.extend(_fetch_frames(conn, statement, columns))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("current_id", "year") else object)
                             for c in columns})
    return pd.concat(parts, ignore_index=True)


def _fetch_frames(conn: Connection, statement, columns: list[str]) -> list[pd.DataFrame]:
    """A SELECT of plain columns as frames of object columns, through the DBAPI cursor in slices.

    The driver makes one string object per cell; within each slice, repeated texts (codes, sources) are
    replaced by one shared object, so a million stored rows take tens, not hundreds, of megabytes.
    """
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    frames = []
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            table = np.array(rows, dtype=object)
            del rows
            frame = {}
            for n, column in enumerate(columns):
                values = table[:, n]
                if column in NUMERIC_TYPES:
                    frame[column] = values.astype(NUMERIC_TYPES[column])
                    continue
                codes, uniques = pd.factorize(values)
                shared = np.empty(len(uniques) + 1, dtype=object)
                shared[:-1] = list(uniques)
                frame[column] = pd.Series(shared[codes], dtype=object)  # code -1 (NULL) takes the last: None
            frames.append(pd.DataFrame(frame))
    finally:
        cursor.close()
    return frames


def apply_batch(
    conn: Connection,
    frame: pd.DataFrame,
    *,
    kind: str,
    user: str,
    file_name: str | None = None,
    checksum: str | None = None,
    note: str | None = None,
    n_skipped: int = 0,
    n_rejected: int = 0,
    current: pd.DataFrame | None = None,
    diff: pd.DataFrame | None = None,
    keep: Collection[str] = (),
) -> BatchResult:
    """Record ``frame`` (columns KEY + PAYLOAD, one row per key) as a new batch.

    New keys are inserted; changed values replace the current row, which moves to the history tied to the
    batch that brought it; identical rows are counted and left alone. Returns the counts and the diff.
    ``current`` (from :func:`current_values`) may be passed when the caller knows the stored values have not
    changed since it read them (see :func:`latest_batch_id`); so may ``diff``, the result of
    :func:`diff_against_current` of this ``frame`` against that ``current`` (and ``keep``, the payload
    columns ``frame`` says nothing about: see :func:`diff_against_current`).
    """
    if frame.duplicated(KEY).any():
        raise ValueError("a batch holds at most one value per indicator, region and year")
    if diff is None or current is None or len(diff) != len(frame):
        diff = diff_against_current(conn, frame, current=current, keep=keep)
    counts = diff_counts(diff)
    batch_id, now = open_batch(
        conn, kind=kind, user=user, file_name=file_name, checksum=checksum, note=note,
        counts={**counts, "skipped": n_skipped, "rejected": n_rejected},
    )
    write_changes(conn, batch_id, now, diff)

    return BatchResult(
        batch_id=batch_id,
        n_new=counts["new"],
        n_revised=counts["revised"],
        n_unchanged=counts["unchanged"],
        n_skipped=n_skipped,
        n_rejected=n_rejected,
        diff=diff,
    )


def diff_counts(diff: pd.DataFrame) -> dict[str, int]:
    status = diff["status"].to_numpy(dtype=object)
    return {s: int((status == s).sum()) for s in ("new", "revised", "unchanged")}


def open_batch(
    conn: Connection,
    *,
    kind: str,
    user: str,
    file_name: str | None = None,
    checksum: str | None = None,
    note: str | None = None,
    counts: dict[str, int] | None = None,
) -> tuple[int, datetime]:
    """Insert a ``batches`` row; return its id and its time (every value it brings is known from then)."""
    now = utcnow()
    counts = counts or {}
    batch_id = _new_id(conn.execute(
        insert(BATCHES).values(
            kind=kind, file_name=file_name, checksum=checksum, created_at=now, user=user, note=note,
            **{f"n_{c}": counts.get(c, 0) for c in ("new", "revised", "unchanged", "skipped", "rejected")},
        )
    ))
    return batch_id, now


def set_batch_counts(conn: Connection, batch_id: int, counts: dict[str, int]) -> None:
    """Record a batch's counts once they are known (a batch written part by part)."""
    conn.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(
        **{f"n_{c}": int(n) for c, n in counts.items()}))


def write_changes(conn: Connection, batch_id: int, now: datetime, diff: pd.DataFrame) -> None:
    """Write the new and revised rows of ``diff`` (see :func:`diff_against_current`) as part of a batch:
    each revised value's current row moves to the history first; unchanged rows are left alone."""
    status = diff["status"].to_numpy(dtype=object)
    revised_ids = diff["current_id"].to_numpy()[status == "revised"].astype("int64").tolist()
    _move_to_history(conn, revised_ids, superseded_by=batch_id, retracted=False)
    unchanged = status == "unchanged"
    to_write = diff[~unchanged] if unchanged.any() else diff
    if not len(to_write):
        return
    rows = to_write[KEY + PAYLOAD].astype({"year": "int64", "value": "float64"})
    codes, published = pd.factorize(rows["published_on"])  # few distinct dates: compute each once
    known = np.empty(len(published) + 1, dtype=object)
    known[:] = [known_from(p, now) for p in published] + [now]
    # Code -1 (no date) takes the last: the loading time. A categorical of the few distinct date-times
    # (binding formats each once, see _bound); object categories: no round trip via datetime64.
    known_codes, distinct_known = pd.factorize(known)
    rows["known_from"] = pd.Categorical.from_codes(
        known_codes[codes], categories=pd.Index(distinct_known, dtype=object)
    )
    rows["batch_id"] = batch_id
    check_parents(conn, rows)
    insert_rows(conn, OBS, rows)


def create_regions(conn: Connection, regions: pd.DataFrame) -> None:
    """Insert the regions an upload names that are not stored yet (any created meanwhile are skipped), marked
    ``from_upload``. ``regions``: code, name_zh, name_en, kind, iso3 (``ParsedFile.new_regions``)."""
    if regions.empty:
        return
    table = table_of(Region)
    existing = set(
        conn.execute(select(table.c.code).where(table.c.code.in_(regions["code"].tolist()))).scalars()
    )
    rows = [
        {
            "code": r["code"],
            "name_zh": r["name_zh"],
            "name_en": r["name_en"],
            "kind": r["kind"],
            "iso3": r["iso3"],
            "iso3166": None,
            "country": None,
            "note": None,
            "aliases": [],
            "from_upload": True,
        }
        for r in regions.to_dict("records")
        if r["code"] not in existing
    ]
    if rows:
        conn.execute(insert(table), rows)


def stored_publications(conn: Connection) -> list[dict]:
    """Every publication values may cite (the catalog's and those uploads created): id, publisher and title
    in both languages, kind and date. Read on the caller's connection: an upload is checked against them,
    in the transaction that may load it."""
    table = table_of(Publication)
    columns = ("id", "publisher_zh", "publisher_en", "title_zh", "title_en", "kind", "published_on")
    return [dict(row) for row in conn.execute(select(*[table.c[c] for c in columns])).mappings()]


def create_publications(conn: Connection, publications: list[dict]) -> None:
    """Insert the publications an upload names by publisher and title that are not stored yet (any created
    meanwhile are skipped), marked ``from_upload``. Each: id, publisher, title, kind, kind_assumed,
    published_on (the report's ``new_publications``). The texts are as the file gives them, in both
    languages' columns; the date's basis is 'stated' (by the uploader) when there is one."""
    if not publications:
        return
    table = table_of(Publication)
    ids = [p["id"] for p in publications]
    existing = set(conn.execute(select(table.c.id).where(table.c.id.in_(ids))).scalars())
    rows = [
        {
            "id": p["id"],
            "publisher_zh": p["publisher"],
            "publisher_en": p["publisher"],
            "title_zh": p["title"],
            "title_en": p["title"],
            "kind": p["kind"],
            "published_on": p["published_on"],
            "date_basis": "stated" if p["published_on"] else "unknown",
            "official_url": None,
            "read_at": [],
            "accessed_on": None,
            "notes": "kind not given in the upload: assumed" if p["kind_assumed"] else None,
            "from_upload": True,
        }
        for p in publications
        if p["id"] not in existing
    ]
    if rows:
        conn.execute(insert(table), rows)


class MissingParent(ValueError):
    """Rows name an indicator, region or publication that is not in the database (a foreign key would fail,
    or, for publications, which have none, the value would cite nothing)."""


def check_parents(conn: Connection, rows: pd.DataFrame) -> None:
    """Raise :class:`MissingParent` unless every indicator and region code (and publication id) of ``rows``
    is in the database.

    The foreign keys check the same, row by row; a bulk load (``db.writing(bulk=True)``) turns them off on
    SQLite and relies on this check, made once per distinct code, in the same transaction. Publications have
    no foreign key (see migration 0003): this check is theirs.
    """
    parents = (("indicator_code", table_of(Indicator).c.code), ("region_code", table_of(Region).c.code),
               ("publication_id", table_of(Publication).c.id))
    for column, key in parents:
        if column not in rows:
            continue
        codes = rows[column]
        if isinstance(codes.dtype, pd.CategoricalDtype):
            used = np.unique(codes.cat.codes.to_numpy())
            wanted = set(codes.cat.categories[used[used >= 0]].tolist())
        else:
            wanted = {c for c in pd.unique(codes.astype(object)) if not is_missing(c)}
        found: set = set()
        listed = sorted(wanted)
        for i in range(0, len(listed), CHUNK):
            found.update(conn.execute(select(key).where(key.in_(listed[i:i + CHUNK]))).scalars())
        if wanted - found:
            raise MissingParent(f"unknown {column}: {', '.join(sorted(wanted - found)[:10])}")


def insert_rows(conn: Connection, table, rows: pd.DataFrame) -> None:
    """Insert every row of ``rows`` (columns named as the table's) into ``table``.

    On SQLite, many rows go in one multi-row ``INSERT ... VALUES`` statement: executemany pays for one
    statement per row (and, with AUTOINCREMENT, one ``sqlite_sequence`` update per row), which makes a
    million-row batch about 2.5x slower. A column with one value in every row (a batch's id and loading
    time; in most files the source and confidence) is bound once per statement, as a numbered parameter
    that every row repeats. Columns that are missing in every row are left out (NULL by default). Other
    databases use SQLAlchemy's own multi-row insert.
    """
    if rows.empty:
        return
    if conn.dialect.name != "sqlite":
        bound = {c: _bound(conn, table.c[c], rows[c]) for c in rows.columns}
        columns = [c for c, values in bound.items() if values is not None]
        values = [bound[c] for c in columns]
        records = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
        conn.execute(insert(table), records)
        return
    for sql, params in _sqlite_statements(conn, table, rows):
        conn.exec_driver_sql(sql, params)


def _sqlite_statements(conn: Connection, table, rows: pd.DataFrame):
    """(sql, parameters) of multi-row INSERTs for ``rows``, made block by block (bound values of a block at a
    time, not of every row at once)."""
    present = [c for c in rows.columns if not _all_missing(rows[c])]
    single = [c for c in present if _one_value(rows[c])]
    varying = [c for c in present if c not in single]
    columns = tuple(single + varying)
    quote = conn.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
    constants = tuple((_bound(conn, table.c[c], rows[c].iloc[:1]) or [None])[0] for c in single)
    per_statement = min(SQLITE_ROWS_PER_STATEMENT,
                        max(1, (SQLITE_MAX_PARAMETERS - len(single)) // max(1, len(varying))))
    block = per_statement * 50
    for block_start in range(0, len(rows), block):
        part = rows.iloc[block_start:block_start + block]
        values = [_bound(conn, table.c[c], part[c]) or [None] * len(part) for c in varying]
        for start in range(0, len(part), per_statement):
            n = min(per_statement, len(part) - start)
            chunk = [column[start:start + n] for column in values]
            params = constants + tuple(chain.from_iterable(zip(*chunk, strict=True))) if chunk else constants
            yield head + _row_placeholders(columns, len(single), n), params


@lru_cache(maxsize=8)
def _row_placeholders(columns: tuple, n_single: int, n: int) -> str:
    """``(?1, ?2, ?3), (?1, ?4, ?5), ...`` for ``n`` rows: the first ``n_single`` columns take parameters
    1, 2, ... in every row; the others take the next numbers, row after row."""
    fixed = [f"?{i}" for i in range(1, n_single + 1)]
    width = len(columns) - n_single
    return ", ".join(
        "(" + ", ".join(fixed + [f"?{n_single + 1 + r * width + i}" for i in range(width)]) + ")"
        for r in range(n)
    )


def _all_missing(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return bool((column.cat.codes.to_numpy() < 0).all())
    if len(column) and not is_missing(column.iloc[0]):  # a value in the first row: no need to look further
        return False
    return bool(column.isna().all())


def _one_value(column: pd.Series) -> bool:
    """Whether every row holds the same value (none missing): such a column is bound once per statement."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        return len(codes) > 0 and codes[0] >= 0 and bool((codes == codes[0]).all())
    if column.empty or is_missing(column.iloc[0]):
        return False
    values = column.to_numpy()
    first = values[0]
    if not (values[:: max(1, len(values) // 64)] == first).all():  # most columns that vary show it soon
        return False
    return bool((values == first).all())  # equal to a value everywhere: nothing missing


def is_missing(value) -> bool:
    """None, NaN, NA or NaT: a cell without a value (the empty string is a value)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _new_id(result: CursorResult) -> int:
    """The primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT reported no primary key")
    return int(key[0])


def _bound(conn: Connection, column, values: pd.Series) -> list | None:
    """Python values for one column as SQLAlchemy would bind them (None for missing, SQLite date-times as
    text); None when every value is missing."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if isinstance(values.dtype, pd.CategoricalDtype):  # few distinct values: convert each once
        codes = values.cat.codes.to_numpy()
        if (codes < 0).all():
            return None
        categories = values.cat.categories.to_numpy(dtype=object)
        bound = np.empty(len(categories) + 1, dtype=object)
        sqlite = process is not None and conn.dialect.name == "sqlite"  # elsewhere SQLAlchemy converts
        bound[:-1] = [process(c) for c in categories] if sqlite else categories
        return bound[codes].tolist()  # code -1 (missing) takes the last: None
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf" and (
        process is None or isinstance(column.type, Float)
    ):  # plain numbers: tolist() makes the Python ints and floats the driver takes (Float: to_float)
        array = values.to_numpy(dtype=np.float64 if isinstance(column.type, Float) else None)
        missing = np.isnan(array) if array.dtype.kind == "f" else None
        if missing is None or not missing.any():
            return array.tolist()
        if missing.all():
            return None
        out = array.astype(object)
        out[missing] = None
        return out.tolist()
    array = values.to_numpy(dtype=object)
    if values.hasnans:
        missing = pd.isna(array)
        if missing.all():
            return None
        array = array.copy()
        array[missing] = None
    if process is not None and conn.dialect.name == "sqlite":
        codes, uniques = pd.factorize(array)  # few distinct date-times per batch: format each once
        processed = np.empty(len(uniques) + 1, dtype=object)
        processed[:] = [process(u) for u in uniques] + [None]
        array = processed[codes]
    return array.tolist()


def _move_to_history(conn: Connection, ids: list[int], *, superseded_by: int, retracted: bool) -> None:
    """Copy current rows into the history (keeping their ids) and delete them from ``observations``."""
    data_cols = [c for c in OBSERVATION_COLUMNS if c != "id"]
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        conn.execute(
            insert(HIST).from_select(
                ["observation_id", *data_cols, "superseded_by_batch_id", "retracted"],
                select(
                    OBS.c.id, *[OBS.c[c] for c in data_cols],
                    literal(superseded_by, Integer).label("superseded_by_batch_id"),
                    literal(retracted, Boolean).label("retracted"),
                ).where(OBS.c.id.in_(chunk)),
            )
        )
        conn.execute(delete(OBS).where(OBS.c.id.in_(chunk)))


def withdraw_values(conn: Connection, keep: pd.DataFrame, *, batch_kind: str, user: str, note: str) -> int:
    """Retract the current values brought by batches of ``batch_kind`` whose key is not in ``keep`` (a frame
    of KEY columns): a value withdrawn from the shipped data leaves the current data, kept in the history as
    retracted by a batch of its own. Returns how many were withdrawn (0: no batch is written)."""
    current = pd.DataFrame(conn.execute(
        select(OBS.c.id, *[OBS.c[c] for c in KEY]).join(BATCHES, BATCHES.c.id == OBS.c.batch_id)
        .where(BATCHES.c.kind == batch_kind)).all(), columns=["id", *KEY])
    if current.empty:
        return 0
    kept = pd.MultiIndex.from_frame(keep[KEY].astype({"year": "int64"}))
    gone = current[~pd.MultiIndex.from_frame(current[KEY].astype({"year": "int64"})).isin(kept)]
    if gone.empty:
        return 0
    batch_id, _ = open_batch(conn, kind=batch_kind, user=user, note=f"{note}: {len(gone)} values withdrawn")
    _move_to_history(conn, gone["id"].astype("int64").tolist(), superseded_by=batch_id, retracted=True)
    return len(gone)


def _refuse_if_reverted(batch) -> None:
    """A batch that a revert already undid cannot be reverted again (values or task statuses alike)."""
    if batch["reverted_by_batch_id"] is not None:
        raise RevertRefused(Text(
            f"批次 {batch['id']} 已被批次 {batch['reverted_by_batch_id']} 撤销",
            f"batch {batch['id']} was already reverted by batch {batch['reverted_by_batch_id']}",
        ))


def revert_batch(conn: Connection, batch_id: int, *, user: str, note: str | None = None) -> BatchResult:
    """Restore exactly the state before ``batch_id``: its values are retracted, the ones it replaced return.

    The regions it created that nothing else uses go too (:func:`_remove_created_regions`). Refused when
    a later batch revised one of its values (revert that one first), or when it is itself a revert or
    already reverted, or unknown (also an id no batch can have: ids are 32-bit integers on every database).
    """
    if not (isinstance(batch_id, int) and 0 < batch_id < MAX_BATCH_ID):
        raise RevertRefused(Text("这不是一个批次编号", "that is not a batch number"))
    batch = conn.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).mappings().first()
    if batch is None:
        raise RevertRefused(Text(f"批次 {batch_id} 不存在", f"no batch {batch_id}"))
    if batch["kind"] == TASK_BATCH_KIND:  # statuses, not values: their own revert
        return revert_task_batch(conn, batch_id, user=user, note=note)
    if batch["kind"] == "revert":
        raise RevertRefused(Text(
            f"批次 {batch_id} 本身是一次撤销;如需恢复,请重新导入数据",
            f"batch {batch_id} is itself a revert; load the data again instead",
        ))
    _refuse_if_reverted(batch)
    later = conn.execute(
        select(HIST.c.superseded_by_batch_id).distinct().where(
            HIST.c.batch_id == batch_id, HIST.c.retracted.is_(False)
        )
    ).scalars().all()
    if later:
        names = ", ".join(str(b) for b in sorted(later))
        raise RevertRefused(Text(
            f"批次 {batch_id} 的数值已被后续批次 {names} 修订;请先撤销这些批次",
            f"values of batch {batch_id} were revised later by batch(es) {names}; revert those first",
        ))

    now = utcnow()
    removed_ids = conn.execute(select(OBS.c.id).where(OBS.c.batch_id == batch_id)).scalars().all()
    restored = conn.execute(
        select(HIST).where(HIST.c.superseded_by_batch_id == batch_id, HIST.c.retracted.is_(False))
    ).mappings().all()
    summary = f"revert of batch {batch_id}: {len(removed_ids)} values removed, {len(restored)} restored"
    revert_id = _new_id(conn.execute(
        insert(BATCHES).values(
            kind="revert", file_name=batch["file_name"], checksum=None, created_at=now, user=user,
            note="; ".join(x for x in (summary, note) if x), n_new=0, n_revised=len(restored),
            n_unchanged=0, n_skipped=0, n_rejected=0, reverts_batch_id=batch_id,
        )
    ))
    _move_to_history(conn, list(removed_ids), superseded_by=revert_id, retracted=True)
    if restored:
        insert_rows(conn, OBS, pd.DataFrame(
            [{"id": r["observation_id"], **{c: r[c] for c in OBSERVATION_COLUMNS if c != "id"}}
             for r in restored],
            columns=OBSERVATION_COLUMNS, dtype=object,
        ))
        hist_ids = [r["id"] for r in restored]
        for i in range(0, len(hist_ids), CHUNK):
            conn.execute(delete(HIST).where(HIST.c.id.in_(hist_ids[i:i + CHUNK])))
    conn.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(reverted_by_batch_id=revert_id))
    removed = _remove_created_regions(conn, batch_id)
    if removed:
        conn.execute(update(BATCHES).where(BATCHES.c.id == revert_id).values(
            note="; ".join(x for x in (summary, _regions_removed(removed), note) if x)))
    return BatchResult(batch_id=revert_id, n_revised=len(restored), n_new=0, n_unchanged=0)


def _regions_removed(codes: list[str], shown: int = 20) -> str:
    listed = ", ".join(codes[:shown]) + (f" and {len(codes) - shown} more" if len(codes) > shown else "")
    return f"{len(codes)} regions it created removed: {listed}"


def _remove_created_regions(conn: Connection, batch_id: int) -> list[str]:
    """Delete the regions uploads created (``from_upload``) that the reverted batch named and nothing live
    uses any more: no current value, no value in the history of a batch that stands (not reverted), no
    target. What still names them is the record of retracted values of reverted batches (this one's, and
    those of a later upload reverted first); those rows go with the region: before the batch, neither
    existed. Regions of the catalog are never touched. Returns the codes removed, sorted."""
    regions = table_of(Region)
    targets = table_of(Target)
    named = select(HIST.c.region_code).where(HIST.c.batch_id == batch_id)
    codes = sorted(conn.execute(
        select(regions.c.code).where(regions.c.from_upload.is_(True), regions.c.code.in_(named))
    ).scalars())
    standing = select(BATCHES.c.id).where(BATCHES.c.reverted_by_batch_id.is_(None))
    used: set[str] = set()
    for i in range(0, len(codes), CHUNK):
        chunk = codes[i:i + CHUNK]
        for statement in (
            select(OBS.c.region_code).where(OBS.c.region_code.in_(chunk)),
            select(HIST.c.region_code).where(HIST.c.region_code.in_(chunk), HIST.c.batch_id.in_(standing)),
            select(targets.c.region_code).where(targets.c.region_code.in_(chunk)),
        ):
            used.update(conn.execute(statement.distinct()).scalars())
    orphans = [c for c in codes if c not in used]
    for i in range(0, len(orphans), CHUNK):
        chunk = orphans[i:i + CHUNK]
        conn.execute(delete(HIST).where(HIST.c.region_code.in_(chunk)))
        conn.execute(delete(regions).where(regions.c.code.in_(chunk), regions.c.from_upload.is_(True)))
    return orphans


def write_catalog_rows(conn: Connection, rows: dict[str, list[dict]]) -> dict[str, int]:
    """Make the catalog tables equal to ``rows`` (``seed.catalog_rows``); the number of rows changed per table.

    Regions and publications that uploads created are kept: they are not the catalog's to remove.
    """
    changes = {}
    for model, key in ((Pillar, "code"), (Plan, "id"), (Region, "code"), (Publication, "id"), (Indicator, "code")):
        table = table_of(model)
        wanted = {r[key]: r for r in rows[table.name]}
        existing = {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}
        if "from_upload" in table.c:  # what uploads created is not the catalog's to remove
            existing = {k: v for k, v in existing.items() if not v["from_upload"] or k in wanted}
        changes[table.name] = _apply_rows(conn, table, key, wanted, existing)
    changes["targets"] = _sync_targets(conn, rows["targets"])
    return changes


def _apply_rows(conn: Connection, table, key: str, wanted: dict, existing: dict) -> int:
    n = 0
    for k, row in wanted.items():
        if k not in existing:
            conn.execute(insert(table).values(**row))
            n += 1
        elif any(existing[k].get(c) != v for c, v in row.items()):
            conn.execute(update(table).where(table.c[key] == k).values(**row))
            n += 1
    stale = [k for k in existing if k not in wanted]
    if stale:
        conn.execute(delete(table).where(table.c[key].in_(stale)))
    return n + len(stale)


def _sync_targets(conn: Connection, targets: list[dict]) -> int:
    ttab, mtab = table_of(Target), table_of(Milestone)
    natural = ("indicator_code", "region_code", "plan_id")
    existing = {tuple(r[c] for c in natural): dict(r) for r in conn.execute(select(ttab)).mappings()}
    stones: dict[int, list[dict]] = {}
    for r in conn.execute(select(mtab).order_by(mtab.c.year)).mappings():
        stones.setdefault(r["target_id"], []).append({c: r[c] for c in ("year", "value", "text_zh", "text_en")})
    n = 0
    seen = set()
    for t in targets:
        t = dict(t)
        milestones = t.pop("milestones")
        key = tuple(t[c] for c in natural)
        seen.add(key)
        old = existing.get(key)
        if old is None:
            target_id = _new_id(conn.execute(insert(ttab).values(**t)))
        elif any(old.get(c) != v for c, v in t.items()) or stones.get(old["id"], []) != milestones:
            target_id = old["id"]
            conn.execute(update(ttab).where(ttab.c.id == target_id).values(**t))
            conn.execute(delete(mtab).where(mtab.c.target_id == target_id))
        else:
            continue
        if milestones:
            conn.execute(insert(mtab), [{"target_id": target_id, **m} for m in milestones])
        n += 1
    for key, old in existing.items():
        if key not in seen:
            conn.execute(delete(mtab).where(mtab.c.target_id == old["id"]))
            conn.execute(delete(ttab).where(ttab.c.id == old["id"]))
            n += 1
    return n


def add_user(conn: Connection, name: str, password_hash: str, role: str) -> int | None:
    """A new active account; its id, or None if the name is taken."""
    users = table_of(User)
    if conn.execute(select(users.c.id).where(users.c.name == name)).first():
        return None
    return _new_id(conn.execute(insert(users).values(
        name=name, password_hash=password_hash, role=role, active=True, created_at=utcnow(),
    )))


def update_user(conn: Connection, name: str, **values) -> int:
    """Change an account's password hash, role or active flag; the number of accounts changed (0 or 1)."""
    users = table_of(User)
    return conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount


def write_register_rows(conn: Connection, rows: dict[str, list[dict]]) -> dict[str, int]:
    """Make the ``agencies`` and ``tasks`` tables equal to ``rows`` (``seed.register_rows``); rows changed per
    table. Task statuses are not touched: a task the catalog drops keeps its history."""
    changes = {}
    for model, key in ((Agency, "code"), (Task, "id")):
        table = table_of(model)
        wanted = {r[key]: r for r in rows[table.name]}
        existing = {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}
        changes[table.name] = _apply_rows(conn, table, key, wanted, existing)
    return changes


def record_task_statuses(
    conn: Connection, rows: list[dict], *, user: str, file_name: str | None = None, checksum: str | None = None,
    note: str | None = None,
) -> BatchResult:
    """Record task statuses (dicts with ``task``, ``status``, ``date``, ``note``, ``evidence``; checked by the
    caller) as one batch of kind :data:`TASK_BATCH_KIND`. A row equal to its task's current status (same status,
    date, note and evidence) is counted unchanged and not written; when every row is, no batch is opened
    (``batch_id`` None)."""
    statuses = table_of(TaskStatus)
    current = _current_task_statuses(conn, [r["task"] for r in rows])
    fields = ("status", "date", "note", "evidence")
    changed = [r for r in rows if current.get(r["task"]) != tuple(r[f] for f in fields)]
    if not changed:
        return BatchResult(batch_id=None, n_unchanged=len(rows))
    batch_id, now = open_batch(conn, kind=TASK_BATCH_KIND, user=user, file_name=file_name, checksum=checksum,
                               note=note, counts={"new": len(changed), "unchanged": len(rows) - len(changed)})
    conn.execute(insert(statuses), [
        {"task_id": r["task"], "status": r["status"], "status_date": r["date"], "note": r["note"],
         "evidence": r["evidence"], "known_from": known_from(r["date"], now), "batch_id": batch_id}
        for r in changed
    ])
    return BatchResult(batch_id=batch_id, n_new=len(changed), n_unchanged=len(rows) - len(changed))


def _current_task_statuses(conn: Connection, task_ids: list[str]) -> dict[str, tuple]:
    """(status, date, note, evidence) of the newest standing status of each of these tasks."""
    statuses = table_of(TaskStatus)
    current: dict[str, tuple] = {}
    ids = sorted(set(task_ids))
    for i in range(0, len(ids), CHUNK):
        rows = conn.execute(
            select(statuses.c.task_id, statuses.c.status, statuses.c.status_date, statuses.c.note,
                   statuses.c.evidence)
            .where(statuses.c.task_id.in_(ids[i:i + CHUNK]), statuses.c.retracted_by_batch_id.is_(None))
            .order_by(statuses.c.known_from, statuses.c.id)
        ).all()
        current.update({r[0]: tuple(r[1:]) for r in rows})  # ordered: the newest of each task wins
    return current


def find_loaded_task_batch(conn: Connection, checksum: str) -> int | None:
    """The standing batch of task statuses that already loaded a file with this checksum, if any."""
    return conn.execute(
        select(BATCHES.c.id).where(BATCHES.c.checksum == checksum, BATCHES.c.kind == TASK_BATCH_KIND,
                                   BATCHES.c.reverted_by_batch_id.is_(None)).order_by(BATCHES.c.id.desc())
    ).scalar()


def revert_task_batch(conn: Connection, batch_id: int, *, user: str, note: str | None = None) -> BatchResult:
    """Retract the statuses a task batch set: each of its tasks returns to the status it had before.

    Refused when the batch is already reverted, or when a later standing batch set a status of one of its
    tasks (revert that one first), as for observations."""
    statuses = table_of(TaskStatus)
    batch = conn.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).mappings().first()
    if batch is None or batch["kind"] != TASK_BATCH_KIND:
        raise RevertRefused(Text(f"批次 {batch_id} 不是任务状态批次", f"batch {batch_id} is not a batch of task statuses"))
    _refuse_if_reverted(batch)
    tasks = select(statuses.c.task_id).where(statuses.c.batch_id == batch_id)
    later = conn.execute(
        select(statuses.c.batch_id).distinct().where(
            statuses.c.task_id.in_(tasks), statuses.c.batch_id > batch_id,
            statuses.c.retracted_by_batch_id.is_(None))
    ).scalars().all()
    if later:
        names = ", ".join(str(b) for b in sorted(later))
        raise RevertRefused(Text(
            f"批次 {batch_id} 的任务状态已被后续批次 {names} 更新;请先撤销这些批次",
            f"statuses of batch {batch_id} were updated later by batch(es) {names}; revert those first",
        ))
    n = len(conn.execute(select(statuses.c.id).where(statuses.c.batch_id == batch_id)).all())
    summary = f"revert of task-status batch {batch_id}: {n} statuses retracted"
    revert_id = _new_id(conn.execute(
        insert(BATCHES).values(
            kind="revert", file_name=batch["file_name"], checksum=None, created_at=utcnow(), user=user,
            note="; ".join(x for x in (summary, note) if x), n_new=0, n_revised=n, n_unchanged=0, n_skipped=0,
            n_rejected=0, reverts_batch_id=batch_id,
        )
    ))
    conn.execute(update(statuses).where(statuses.c.batch_id == batch_id).values(retracted_by_batch_id=revert_id))
    conn.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(reverted_by_batch_id=revert_id))
    return BatchResult(batch_id=revert_id, n_revised=n)


def as_of_cutoff(day: date) -> datetime:
    """An as-of date includes the whole day."""
    return datetime(day.year, day.month, day.day, 23, 59, 59)


__all__ = [
    "BatchResult", "RevertRefused", "apply_batch", "revert_batch", "find_loaded_batch", "file_checksum",
    "known_from", "diff_against_current", "current_values", "latest_batch_id", "as_of_cutoff", "utcnow",
    "insert_rows", "KEY", "PAYLOAD", "record_task_statuses", "revert_task_batch", "write_register_rows",
    "TASK_BATCH_KIND",
]
