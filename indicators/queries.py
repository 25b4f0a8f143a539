"""Reading the database. Every SELECT of the application belongs here; every write is in ``store``.

Reads that a write needs inside its own transaction (the stored values a batch is compared with, the
catalog rows ``init`` brings up to date) stay beside that write in ``store``: they are part of it.

``observations`` answers both "what is the current value" and "what was known on date D" (``as_of``): a
version is visible on D when it had been published by D (or, with no recorded publication date, loaded by
D) and was not retracted by a revert; of the visible versions of a value the one loaded last wins.
``observation_changes`` reads, in one transaction, what the batches after a data version did to the
current observations: the keys they touched and the current rows of those keys (``snapshot`` applies them
to the observations it holds instead of reading every one again).

``table_page``, ``table_count`` and ``table_chunks`` read the data table a page shows: one page of it, its
size, or all of it in chunks for a streamed download, filtered and sorted in the database. A
:class:`TableView` names the columns and the comparisons it may use; values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from indicators.models import (
    Batch,
    Indicator,
    Observation,
    ObservationHistory,
    Publication,
    Region,
    User,
    table_of,
)
from indicators.store import KEY, as_of_cutoff

OBS = table_of(Observation)
HIST = table_of(ObservationHistory)

OBSERVATION_OUTPUT = [
    "indicator", "region", "year", "value", "unit", "flags", "confidence", "published_on", "publisher",
    "publication", "publication_id", "source", "note", "batch", "version", "status",
]


TABLE_COLUMNS = [
    "indicator", "indicator_name", "region", "region_name", "year", "value", "flags", "unit", "publisher",
    "publication", "published_on", "source", "confidence", "publication_id", "batch", "note",
]
TABLE_HISTORY_COLUMNS = ["version", "status"]
TABLE_NUMERIC = {"year", "value", "batch", "version"}
TABLE_OPERATORS = {"=", "!=", "<", "<=", ">", ">=", "contains", "startswith", "blank"}
TABLE_ORDER = ["indicator", "region", "year", "version"]  # the default order, and the tie-break of any other
MAX_TABLE_CODES = 1_000  # indicators or regions chosen at once: more than exist, far fewer than a driver binds
CHANGE_CHUNK = 300  # ids or keys per IN list when reading changes: 900 bound values, within every driver's limit


def _version_columns(table, id_column):
    return [
        id_column.label("version"), table.c.indicator_code, table.c.region_code, table.c.year,
        table.c.value, table.c.source, table.c.confidence, table.c.note, table.c.flag.label("flags"),
        table.c.publication_id, table.c.published_on, table.c.known_from, table.c.batch_id,
    ]


def observations(
    engine: Engine,
    *,
    indicator: str | list[str] | None = None,
    region: str | list[str] | None = None,
    as_of: date | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Observations with their unit, source, confidence and batch, sorted by indicator, region, year.

    ``history=True`` returns every version (current, superseded and retracted) with a ``status`` column
    instead of one value per key.
    """
    current = select(*_version_columns(OBS, OBS.c.id), literal("current").label("status"))
    older = select(
        *_version_columns(HIST, HIST.c.observation_id),
        case((HIST.c.retracted, literal("retracted")), else_=literal("superseded")).label("status"),
    )
    if not history or as_of is not None:
        older = older.where(HIST.c.retracted.is_(False))
    if indicator is not None:
        codes = [indicator] if isinstance(indicator, str) else list(indicator)
        current = current.where(OBS.c.indicator_code.in_(codes))
        older = older.where(HIST.c.indicator_code.in_(codes))
    if region is not None:
        regs = [region] if isinstance(region, str) else list(region)
        current = current.where(OBS.c.region_code.in_(regs))
        older = older.where(HIST.c.region_code.in_(regs))

    if as_of is not None:
        cut = as_of_cutoff(as_of)
        frame = _read(engine, union_all(current.where(OBS.c.known_from <= cut), older.where(HIST.c.known_from <= cut)))
        frame = frame.sort_values("version").drop_duplicates(["indicator_code", "region_code", "year"], keep="last")
        frame["status"] = "current"
    elif history:
        frame = _read(engine, union_all(current, older))
    else:
        frame = _read(engine, current)
    return _decorate(engine, frame)


def _read(engine: Engine, statement) -> pd.DataFrame:
    """Rows straight from the driver's cursor into columns: SQLAlchemy's Row objects cost seconds per
    million rows. Date-times arrive as text from SQLite and are parsed here, the same on every database."""
    with engine.connect() as conn:
        return _read_on(conn, statement)


def _read_on(conn: Connection, statement) -> pd.DataFrame:
    """:func:`_read` on the caller's connection (in its transaction)."""
    result = conn.execute(statement)
    return _records(list(result.keys()), result.cursor.fetchall())


def _records(columns: list[str], rows: Sequence) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for col in ("known_from", "created_at"):
        if col in frame and len(frame) and not pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    return frame


@dataclass(frozen=True)
class ObservationLabels:
    """What :func:`observations` adds to the stored rows from other tables: each indicator's unit
    (``indicator_code``, ``unit``) and each publication's publisher and title (``publication_id``,
    ``publisher``, ``publication``)."""

    units: pd.DataFrame
    publications: pd.DataFrame

    def same_as(self, other: ObservationLabels) -> bool:
        return self.units.equals(other.units) and self.publications.equals(other.publications)


def observation_labels(engine: Engine) -> ObservationLabels:
    """The units, publishers and titles :func:`observations` adds to the stored rows."""
    with engine.connect() as conn:
        return _labels_on(conn)


def _labels_on(conn: Connection) -> ObservationLabels:
    units = _read_on(conn, select(Indicator.code.label("indicator_code"), Indicator.unit_en.label("unit"))
                     .order_by(Indicator.code))
    pubs = _read_on(conn, select(Publication.id.label("publication_id"), Publication.publisher_zh.label("publisher"),
                                 Publication.title_zh.label("publication")).order_by(Publication.id))
    return ObservationLabels(units, pubs)


def _decorate(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    """Rename to the public column names, add the unit and the publication's publisher and title, and sort."""
    return _labelled_rows(frame, observation_labels(engine))


def _labelled_rows(frame: pd.DataFrame, labels: ObservationLabels) -> pd.DataFrame:
    """:func:`_decorate` with the labels already read."""
    frame = frame.merge(labels.units, on="indicator_code", how="left")
    frame = frame.merge(labels.publications, on="publication_id", how="left")
    frame = frame.rename(
        columns={"indicator_code": "indicator", "region_code": "region", "batch_id": "batch"}, errors="raise"
    )
    if frame.empty:
        return pd.DataFrame(columns=OBSERVATION_OUTPUT + ["known_from"])
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    frame = frame.sort_values(["indicator", "region", "year", "version"], kind="stable").reset_index(drop=True)
    return frame[OBSERVATION_OUTPUT + ["known_from"]]


def batches(engine: Engine) -> pd.DataFrame:
    frame = _read(engine, select(table_of(Batch)).order_by(Batch.id))
    return frame


def indicators(engine: Engine) -> pd.DataFrame:
    return _read(engine, select(table_of(Indicator)).order_by(Indicator.position))


def publications(engine: Engine) -> pd.DataFrame:
    """Every publication values may cite (the catalog's and those uploads named), by id."""
    return _read(engine, select(table_of(Publication)).order_by(Publication.id))


def regions(engine: Engine) -> pd.DataFrame:
    return _read(engine, select(table_of(Region)).order_by(Region.code))


def table_dump(engine: Engine, table_name: str) -> list[tuple]:
    """Every row of a table in primary-key order, for exact before/after comparisons."""
    from indicators.models import Base

    table = Base.metadata.tables[table_name]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).all()]


def data_version(engine: Engine) -> tuple[int, int]:
    """(newest batch id, number of batches): changes whenever anything is loaded or reverted."""
    with engine.connect() as conn:
        row = conn.execute(select(func.max(Batch.id), func.count(Batch.id))).one()
    return (row[0] or 0, row[1] or 0)


@dataclass(frozen=True)
class ObservationChanges:
    """What the batches after a data version did to the current observations, read in one transaction.

    ``keys`` (indicator, region, year) holds every key whose current value those batches may have changed:
    the values they wrote (the current rows of those batches), the values they replaced or retracted (history
    rows superseded by them), and the keys of every history row of a batch they reverted. A value a revert
    restores is one the reverted batch had replaced; that batch's own value for the key is then either current
    (the revert retracts it: superseded by the revert) or already in the history (withdrawn earlier), so its
    key is listed either way. ``rows`` are the current observations of those keys, as :func:`observations`
    gives them. Every other key is as it was, except the values of the ``reverted`` batches: a revert removes
    them, and the history of a region it deletes goes too (``store._remove_created_regions``), so those cannot
    always be listed by key. ``keys`` and ``rows`` are None when there are more keys than the limit asked for.
    ``n_current`` and ``newest`` (the number of current observations, their highest id) let the caller check
    what it builds from these against the table.
    """

    version: tuple[int, int]
    batches: pd.DataFrame
    reverted: list[int]
    keys: pd.DataFrame | None
    rows: pd.DataFrame | None
    n_current: int  # how many current observations there are
    newest: int  # the highest id of a current observation (0: none)
    labels: ObservationLabels


@contextmanager
def _one_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction whose statements all see the same state (PostgreSQL's default, READ COMMITTED,
    gives each statement its own; a SQLite transaction in WAL mode keeps one from its first read)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def observation_changes(engine: Engine, since: int, *, limit: int) -> ObservationChanges:
    """What the batches with an id above ``since`` did to the current observations (see
    :class:`ObservationChanges`); at most ``limit`` keys are read."""
    with _one_snapshot(engine) as conn:
        batches = _read_on(conn, select(table_of(Batch)).order_by(Batch.id))
        ids = batches["id"].to_numpy(dtype="int64") if len(batches) else np.zeros(0, dtype="int64")
        version = (int(ids.max()) if len(ids) else 0, len(ids))
        later = batches[ids > since]
        new = [int(i) for i in later["id"]]
        reverted = sorted({int(i) for i in later["reverts_batch_id"].dropna()})
        keys = _changed_keys(conn, [(OBS, OBS.c.batch_id, new), (HIST, HIST.c.superseded_by_batch_id, new),
                                    (HIST, HIST.c.batch_id, reverted)], limit)
        # count(*) and max(id) apart: SQLite counts a table's rows from its b-tree, and finds max(id) at its end
        n_current = conn.execute(select(func.count()).select_from(OBS)).scalar_one()
        newest = conn.execute(select(func.max(OBS.c.id))).scalar_one()
        labels = _labels_on(conn)
        rows = None if keys is None else _current_rows(conn, keys, labels)
    frame = None if keys is None else pd.DataFrame(keys, columns=["indicator", "region", "year"])
    return ObservationChanges(version=version, batches=batches, reverted=reverted, keys=frame, rows=rows,
                              n_current=int(n_current or 0), newest=int(newest or 0), labels=labels)


def _changed_keys(conn: Connection, sources: list[tuple], limit: int) -> list[tuple] | None:
    """The distinct keys of the rows of each (table, column, ids) source whose column is one of the ids;
    sorted; None when there are more than ``limit``."""
    found: set[tuple] = set()
    for table, column, ids in sources:
        for i in range(0, len(ids), CHANGE_CHUNK):
            statement = select(*[table.c[c] for c in KEY]).where(column.in_(ids[i:i + CHANGE_CHUNK])).distinct()
            found.update((code, region, int(year)) for code, region, year in conn.execute(statement))
            if len(found) > limit:
                return None
    return sorted(found)


def _current_rows(conn: Connection, keys: list[tuple], labels: ObservationLabels) -> pd.DataFrame:
    """The current observations of these keys, as :func:`observations` gives them."""
    columns: list[str] = []
    rows: list = []
    current = select(*_version_columns(OBS, OBS.c.id), literal("current").label("status"))
    for i in range(0, len(keys), CHANGE_CHUNK):
        result = conn.execute(current.where(_any_key(keys[i:i + CHANGE_CHUNK])))
        columns = list(result.keys())
        rows.extend(result.cursor.fetchall())
    if not rows:
        return pd.DataFrame(columns=OBSERVATION_OUTPUT + ["known_from"])
    return _labelled_rows(_records(columns, rows), labels)


def _any_key(keys: list[tuple]) -> ColumnElement:
    """``(indicator, region, year)`` is one of ``keys`` (sorted), as conditions on each indicator x region
    that look the keys up in the unique index: SQLite scans the whole index for a row value ``IN`` list."""
    pairs: dict[tuple, list[int]] = {}
    for code, region, year in keys:
        pairs.setdefault((code, region), []).append(year)
    return or_(*[and_(OBS.c.indicator_code == code, OBS.c.region_code == region, OBS.c.year.in_(years))
                 for (code, region), years in pairs.items()])


def batch_history(engine: Engine, batch_id: int) -> pd.DataFrame:
    """The values a batch brought that were revised or retracted since (from ``observation_history``)."""
    frame = _read(engine, select(
        HIST.c.indicator_code.label("indicator"), HIST.c.region_code.label("region"), HIST.c.year,
        HIST.c.value, HIST.c.source, HIST.c.retracted,
    ).where(HIST.c.batch_id == batch_id))
    return frame.astype({"retracted": bool})


def users(engine: Engine) -> pd.DataFrame:
    """Every account (name, role, active, created_at), by name; never the password hashes."""
    frame = _read(engine, select(User.name, User.role, User.active, User.created_at).order_by(User.name))
    return frame.astype({"active": bool})


def user_by_id(engine: Engine, user_id: int, *, active: bool = True):
    """(id, name, role, session_version) of the account, or None (also when it is disabled and ``active`` is
    asked)."""
    statement = select(User.id, User.name, User.role, User.session_version).where(User.id == user_id)
    if active:
        statement = statement.where(User.active.is_(True))
    with engine.connect() as conn:
        return conn.execute(statement).first()


def credentials(engine: Engine, name: str):
    """(id, name, role, session_version, password_hash) of the active account called ``name``, or None."""
    with engine.connect() as conn:
        return conn.execute(select(User.id, User.name, User.role, User.session_version, User.password_hash)
                            .where(User.name == name, User.active.is_(True))).first()


def uploaded_regions(conn: Connection) -> list[dict]:
    """The regions that earlier uploads created (every column), read on the caller's connection: an upload
    is checked against them, in the transaction that may load it."""
    table = table_of(Region)
    return [dict(row) for row in conn.execute(select(table).where(table.c.from_upload.is_(True))).mappings()]


@dataclass(frozen=True)
class TableFilter:
    """One condition on a column of the data table: ``column op value`` (``blank``: empty or missing)."""

    column: str
    op: str
    value: str | float | None = None


class TableQueryError(ValueError):
    """A filter or sort names a column or comparison the data table does not have."""


@dataclass(frozen=True)
class TableView:
    """What the data table shows: the chosen indicators and regions (none: all), every version or only the
    current ones, the language of names, units and publications, the confidence labels, filters and order
    (``sort``: (column, descending) pairs)."""

    indicators: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    history: bool = False
    lang: str = "zh"
    confidence_labels: tuple[tuple[str, str], ...] = ()
    # (code, word) of each flag, in the order a stored flag text lists them, and the words' separator; (code,
    # word) of each version status: the table shows, filters and sorts the words
    flag_labels: tuple[tuple[str, str], ...] = ()
    flag_separator: str = ", "
    status_labels: tuple[tuple[str, str], ...] = ()
    filters: tuple[TableFilter, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()

    @property
    def columns(self) -> list[str]:
        return TABLE_COLUMNS + (TABLE_HISTORY_COLUMNS if self.history else [])


def _table_statement(view: TableView):
    """(the FROM clause, the table's columns as expressions, the WHERE conditions) of a view."""
    current = select(*_version_columns(OBS, OBS.c.id), literal("current").label("status"))
    older = select(
        *_version_columns(HIST, HIST.c.observation_id),
        case((HIST.c.retracted, literal("retracted")), else_=literal("superseded")).label("status"),
    )
    if len(view.indicators) > MAX_TABLE_CODES or len(view.regions) > MAX_TABLE_CODES:
        raise TableQueryError("too many indicators or regions chosen at once")
    if view.indicators:
        current = current.where(OBS.c.indicator_code.in_(view.indicators))
        older = older.where(HIST.c.indicator_code.in_(view.indicators))
    if view.regions:
        current = current.where(OBS.c.region_code.in_(view.regions))
        older = older.where(HIST.c.region_code.in_(view.regions))
    source = (union_all(current, older) if view.history else current).subquery("v")
    ind, reg, pub = table_of(Indicator), table_of(Region), table_of(Publication)
    lang = "en" if view.lang == "en" else "zh"
    confidence = _labelled(source.c.confidence, view.confidence_labels)
    status = _labelled(source.c.status, view.status_labels)
    columns: dict[str, ColumnElement] = {
        "indicator": source.c.indicator_code, "indicator_name": ind.c[f"short_name_{lang}"],
        "region": source.c.region_code, "region_name": func.coalesce(reg.c[f"name_{lang}"], source.c.region_code),
        "year": source.c.year, "value": source.c.value, "flags": _flag_words(source.c.flags, view),
        "unit": ind.c[f"unit_{lang}"], "publisher": func.coalesce(pub.c[f"publisher_{lang}"], ""),
        "publication": func.coalesce(pub.c[f"title_{lang}"], ""), "published_on": source.c.published_on,
        "source": source.c.source, "confidence": confidence, "publication_id": source.c.publication_id,
        "batch": source.c.batch_id, "note": source.c.note, "version": source.c.version, "status": status,
    }
    columns = {name: columns[name] for name in view.columns}
    joined = (source.join(ind, ind.c.code == source.c.indicator_code)
              .outerjoin(reg, reg.c.code == source.c.region_code)
              .outerjoin(pub, pub.c.id == source.c.publication_id))
    return joined, columns, [_condition(columns, f) for f in view.filters]


def _labelled(column: ColumnElement, labels: tuple[tuple[str, str], ...]) -> ColumnElement:
    """A column of codes as the words ``labels`` give them (a code without one as it is)."""
    if not labels:
        return column
    return case(*[(column == code, literal(label)) for code, label in labels], else_=column)


def _flag_words(flags: ColumnElement, view: TableView) -> ColumnElement:
    """A stored flag text ('p u') as the words of ``view.flag_labels`` joined by its separator; a text holding
    none of the codes as it is; no flag as ''."""
    if not view.flag_labels:
        return func.coalesce(flags, "")
    padded = literal(" ") + func.coalesce(flags, "") + literal(" ")
    words: ColumnElement | None = None
    for code, word in view.flag_labels:
        part = case((padded.like(f"% {code} %"), literal(word + view.flag_separator)), else_=literal(""))
        words = part if words is None else words + part
    joined = func.rtrim(words, view.flag_separator)
    return func.coalesce(func.nullif(joined, ""), func.coalesce(flags, ""))


def _condition(columns: dict[str, ColumnElement], f: TableFilter) -> ColumnElement:
    """A filter as SQL: the column and the comparison from fixed sets, the value a bound parameter."""
    if f.column not in columns or f.op not in TABLE_OPERATORS:
        raise TableQueryError(f"no column {f.column!r} or comparison {f.op!r}")
    column = columns[f.column]
    numeric = f.column in TABLE_NUMERIC
    if f.op == "blank":
        return column.is_(None) if numeric else or_(column.is_(None), column == "")
    if f.op in ("contains", "startswith"):
        text = func.lower(cast(column, String) if numeric else column)
        needle = str(f.value).lower()
        return text.contains(needle, autoescape=True) if f.op == "contains" else text.startswith(needle, autoescape=True)
    value = f.value
    if numeric and not isinstance(value, int | float):
        raise TableQueryError(f"{f.column} compares with numbers, not {value!r}")
    if not numeric:
        value = str(value)
    compare = {"=": column.__eq__, "!=": column.__ne__, "<": column.__lt__, "<=": column.__le__,
               ">": column.__gt__, ">=": column.__ge__}[f.op]
    return and_(column.is_not(None), compare(value))


def _ordered(view: TableView, columns: dict[str, ColumnElement]) -> list:
    order = []
    for name, descending in view.sort:
        if name not in columns:
            raise TableQueryError(f"no column {name!r} to sort by")
        order.append(columns[name].desc() if descending else columns[name].asc())
    return order + [columns[c] for c in TABLE_ORDER if c in columns]


def _table_select(view: TableView):
    joined, columns, conditions = _table_statement(view)
    statement = select(*[c.label(name) for name, c in columns.items()]).select_from(joined).where(*conditions)
    return statement.order_by(*_ordered(view, columns))


def _table_frame(rows: Sequence, view: TableView) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=view.columns)
    return frame.astype({"year": "int64", "value": "float64", "batch": "int64"} | (
        {"version": "int64"} if view.history else {}))


def table_count(engine: Engine, view: TableView) -> int:
    """How many rows the data table has for a view (after its filters)."""
    joined, _, conditions = _table_statement(view)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one())


def table_page(engine: Engine, view: TableView, *, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """Rows of the data table for a view, in its order: ``limit`` rows from ``offset`` (None: all of them)."""
    statement = _table_select(view).offset(max(0, offset))
    if limit is not None:
        statement = statement.limit(limit)
    with engine.connect() as conn:
        return _table_frame(conn.execute(statement).all(), view)


def table_chunks(engine: Engine, view: TableView, chunk_rows: int = 10_000) -> Iterator[pd.DataFrame]:
    """Every row of the data table for a view, ``chunk_rows`` at a time, read from one cursor (a server-side
    cursor on PostgreSQL): memory holds one chunk, however large the table. The connection closes when the
    iteration ends or is abandoned (a client that leaves a download)."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk_rows).execute(_table_select(view))
        for rows in result.partitions():
            yield _table_frame(rows, view)
