"""Engine and session set-up, and schema migration. No queries belong here (see ``queries`` and ``store``).

SQLite is opened in WAL mode with foreign keys on and a busy timeout, so readers never block the writer
and a second writer waits instead of failing. The schema is created and upgraded only by Alembic
migrations (``indicators/migrations``), never by ``create_all``.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url

from indicators import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PAGE_SIZE = 16_384


def make_engine(url: str | None = None) -> Engine:
    url = url or settings.database_url()
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, open transactions, so a writer can BEGIN IMMEDIATE (see `writing`).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _create_private(path: str | None) -> None:
    """Create a new SQLite database file readable by its owner only (0600): it holds the password hashes.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions. An existing file is left
    as it is (``init`` says when it is readable by others).
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # a missing folder or a read-only file system: SQLite itself says so when it opens the file


def readable_by_others(engine: Engine) -> str | None:
    """The path of a SQLite database file that others than its owner may read, else None."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or not os.path.exists(path):
        return None
    return path if os.stat(path).st_mode & 0o077 else None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; transactions begin in the 'begin' hook
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # takes effect only in a new, empty database
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
def writing(engine: Engine, *, bulk: bool = False, lock: int = WRITE_LOCK_KEY):
    """A write transaction that runs alone: batches and reverts are applied one after another.

    SQLite: BEGIN IMMEDIATE takes the write lock up front, so a second writer waits (busy timeout) instead of
    failing with "database is locked" when it upgrades a read lock. PostgreSQL: a transaction-scoped
    advisory lock, so two batches never compute their diff against the same state. Readers never wait.

    ``lock`` (PostgreSQL): the advisory lock taken; work that must run alone among its own kind but need not
    wait for a batch (sign-in reservations, job admission) takes a key of its own.

    ``bulk`` (SQLite): SQLite does not check foreign keys in this transaction; the caller checks the parent
    keys of everything it inserts, once per distinct key (see ``store.check_parents``) instead of once per
    row, which is a third of the cost of loading a million rows. The setting is restored afterwards.
    """
    with engine.connect() as conn:
        unchecked = bulk and engine.dialect.name == "sqlite"
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        if unchecked:  # a no-op inside a transaction: set before BEGIN, on the driver connection
            _driver_execute(conn, "PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(lock)})")
                yield conn
        finally:
            if unchecked and not conn.closed and not conn.invalidated:
                _driver_execute(conn, "PRAGMA foreign_keys=ON")


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(url: str) -> Engine:
    """One engine per URL per process (the web app and the CLI share this)."""
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = make_engine(url)
        return _ENGINES[url]


def dispose_engines() -> None:
    """Close every pooled connection of the engines made by :func:`engine_for` (SQLite then folds its
    write-ahead log into the database file and removes it)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()


def default_engine() -> Engine:
    return engine_for(settings.database_url())


# Alembic is imported where it is used: loading it costs ~0.4 s, which every CLI command would pay.
def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser reads '%' as interpolation: a percent-encoded password or socket path needs '%%'
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: an empty database). Read from Alembic's own table without
    importing Alembic, which every CLI command would pay for (~0.2 s)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        revisions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    if len(revisions) > 1:
        raise RuntimeError(f"the database has several migration heads: {', '.join(revisions)}")
    return revisions[0] if revisions else None


def _driver_execute(conn: Connection, sql: str) -> None:
    """Run ``sql`` on the driver's connection itself: outside SQLAlchemy, so no transaction begins."""
    driver = conn.connection.dbapi_connection
    if driver is None:
        raise RuntimeError("the connection is closed")
    driver.execute(sql)


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade the schema to the newest migration; return (revision before, revision after)."""
    from alembic import command

    before = schema_revision(engine)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, schema_revision(engine)
