"""Engine and session set-up, and schema migration. No queries belong here (see ``queries`` and ``store``).

SQLite is opened in WAL mode with foreign keys on and a busy timeout, so readers never block the writer
and a second writer waits instead of failing. The schema is created and upgraded only by Alembic
migrations (``indicators/migrations``), never by ``create_all``.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from indicators import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str | None = None) -> Engine:
    url = url or settings.database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, open transactions, so a writer can BEGIN IMMEDIATE (see `writing`).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; transactions begin in the 'begin' hook
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


WRITE_LOCK_KEY = 7_411_202  # PostgreSQL advisory lock that serialises batches (any constant, the same everywhere)


@contextmanager
def writing(engine: Engine):
    """A write transaction that runs alone: batches and reverts are applied one after another.

    SQLite: BEGIN IMMEDIATE takes the write lock up front, so a second writer waits (busy timeout) instead of
    failing with "database is locked" when it upgrades a read lock. PostgreSQL: a transaction-scoped
    advisory lock, so two batches never compute their diff against the same state. Readers never wait.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            yield conn


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL per process (the web app and the CLI share this)."""
    return make_engine(url)


def default_engine() -> Engine:
    return engine_for(settings.database_url())


# Alembic is imported where it is used: loading it costs ~0.4 s, which every CLI command would pay.
def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the schema to the newest migration; return (revision before, revision after)."""
    from alembic import command

    before = schema_revision(engine)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, schema_revision(engine)
