"""Backups: a consistent copy of the whole database in one file, and putting such a copy back.

What belongs here: ``backup`` and ``restore`` for both databases. SQLite goes through its online backup API,
so a copy taken while the server writes is consistent and a restore goes through SQLite itself, which keeps
the write-ahead log right (copying the file back by hand beside an old ``-wal`` silently loses the
restore). PostgreSQL goes through ``pg_dump``/``pg_restore`` (custom format, one transaction). A restore
checks first that the file is a backup of this application at a schema this version can read.

Not here: the schema itself (``db.migrate`` brings a restored older backup up to date), the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from indicators import db
from indicators.i18n import BilingualError, Text

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
NOT_A_BACKUP = Text("{file} 不是本系统的数据库备份(缺少 alembic_version 表),未做任何更改。",
                    "{file} is not a backup of this application's database (no alembic_version table); "
                    "nothing was changed.")
TOO_NEW = Text("备份的数据库结构({revision})比本程序新,请先升级程序。未做任何更改。",
               "The backup's schema ({revision}) is newer than this program; upgrade it first. Nothing was "
               "changed.")
TOOL_MISSING = Text("找不到 {tool}(PostgreSQL 客户端工具)。请安装 postgresql-client。",
                    "{tool} (a PostgreSQL client tool) was not found. Install postgresql-client.")
TOOL_FAILED = Text("{tool} 失败,未做任何更改:{detail}", "{tool} failed; nothing was changed: {detail}")


class BackupError(BilingualError):
    """A backup or restore that cannot be done; nothing was changed."""


def backup(engine: Engine, target: Path) -> None:
    """Write a consistent copy of the database to ``target`` (created readable by its owner only)."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), partial)
        else:
            _pg_tool("pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url=engine.url)
        os.replace(partial, target)  # a finished backup or none: never half a file under the name asked for
    finally:
        partial.unlink(missing_ok=True)


def restore(engine: Engine, source: Path) -> tuple[str | None, str | None]:
    """Replace the whole database by the backup ``source``; return (schema revision before, after).

    The backup is checked before anything changes; an older schema is migrated after the restore.
    """
    source = Path(source)
    if engine.dialect.name == "sqlite":
        _check_sqlite_backup(source, db.head_revision(engine))
        before = db.schema_revision(engine)
        engine.dispose()
        _sqlite_copy(source, _sqlite_path(engine))
    else:
        before = db.schema_revision(engine)
        _pg_tool("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                 f"--dbname={_libpq(engine.url)}", str(source), url=None)
    db.migrate(engine)
    return before, db.schema_revision(engine)


def _sqlite_path(engine: Engine) -> Path:
    return Path(engine.url.database or "")


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another through the backup API (both may be in use)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(source: Path, head: str | None) -> None:
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(NOT_A_BACKUP.format(file=source.name), str(exc)) from exc
    revision = rows[0][0] if rows else None
    if revision is None:
        raise BackupError(NOT_A_BACKUP.format(file=source.name))
    if head is not None and revision > head:  # revisions are numbered 0001_, 0002_, ...
        raise BackupError(TOO_NEW.format(revision=revision))


def _libpq(url: URL) -> str:
    """The SQLAlchemy URL as a libpq connection string (no driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(tool: str, *args: str, url: URL | None) -> None:
    path = shutil.which(tool) or next((str(Path(d) / tool) for d in PG_BIN_DIRS if (Path(d) / tool).exists()), None)
    if path is None:
        raise BackupError(TOOL_MISSING.format(tool=tool))
    command = [path, *args] + ([f"--dbname={_libpq(url)}"] if url is not None else [])
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=errors, check=False)
        if done.returncode != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip()[-500:]
            raise BackupError(TOOL_FAILED.format(tool=tool, detail=detail))
