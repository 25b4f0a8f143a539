"""Reading the database. Every SELECT of the application belongs here; every write is in ``store``.

Reads that a write needs inside its own transaction (the stored values a batch is compared with, the
catalog rows ``init`` brings up to date) stay beside that write in ``store``: they are part of it.

``observations`` answers both "what is the current value" and "what was known on date D" (``as_of``): a
version is visible on D when it had been published by D (or, with no recorded publication date, loaded by
D) and was not retracted by a revert; of the visible versions of a value the one loaded last wins.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, case, func, literal, select, union_all

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
from indicators.store import as_of_cutoff

OBS = table_of(Observation)
HIST = table_of(ObservationHistory)

OBSERVATION_OUTPUT = [
    "indicator", "region", "year", "value", "unit", "flags", "confidence", "published_on", "publisher",
    "publication", "publication_id", "source", "note", "batch", "version", "status",
]


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
        result = conn.execute(statement)
        columns = list(result.keys())
        frame = pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns)
    for col in ("known_from", "created_at"):
        if col in frame and len(frame) and not pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    return frame


def _decorate(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    """Rename to the public column names, add the unit and the publication's publisher and title, and sort."""
    units = _read(engine, select(Indicator.code.label("indicator_code"), Indicator.unit_en.label("unit")))
    frame = frame.merge(units, on="indicator_code", how="left")
    pubs = _read(engine, select(Publication.id.label("publication_id"), Publication.publisher_zh.label("publisher"),
                                Publication.title_zh.label("publication")))
    frame = frame.merge(pubs, on="publication_id", how="left")
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
    """(id, name, role) of the account, or None (also when it is disabled and ``active`` is asked)."""
    statement = select(User.id, User.name, User.role).where(User.id == user_id)
    if active:
        statement = statement.where(User.active.is_(True))
    with engine.connect() as conn:
        return conn.execute(statement).first()


def credentials(engine: Engine, name: str):
    """(id, name, role, password_hash) of the active account called ``name``, or None."""
    with engine.connect() as conn:
        return conn.execute(select(User.id, User.name, User.role, User.password_hash)
                            .where(User.name == name, User.active.is_(True))).first()


def uploaded_regions(conn: Connection) -> list[dict]:
    """The regions that earlier uploads created (every column), read on the caller's connection: an upload
    is checked against them, in the transaction that may load it."""
    table = table_of(Region)
    return [dict(row) for row in conn.execute(select(table).where(table.c.from_upload.is_(True))).mappings()]
