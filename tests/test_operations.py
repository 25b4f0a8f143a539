"""Operating the app: file permissions, odd database URLs, accounts from the command line, and failures
that are nobody's input error (read-only, unreachable, locked, full) told in both languages with exit 3."""

from __future__ import annotations

import errno
import shutil
import sqlite3
import stat
import threading

import pytest
from sqlalchemy import exc as sa_exc

from indicators import backup, db, failures, store, users

from .support import batch_frame, database_dump, invoke, run_command

ONE_VALUE = "indicator,region,year,value,source,confidence\nRD_GDP_RATIO,beijing,2024,7.1,a test source,low\n"


def env_for(url: str, tmp_path) -> dict:
    return {"DATABASE_URL": url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "new.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert db.readable_by_others(db.make_engine(f"sqlite:///{path}")) is None
    path.chmod(0o644)
    assert db.readable_by_others(db.make_engine(f"sqlite:///{path}")) == str(path)


def test_init_works_with_a_percent_sign_in_the_database_path(tmp_path):
    folder = tmp_path / "data-50%"
    folder.mkdir()
    result = invoke("init", env=env_for(f"sqlite:///{folder / 'monitor.db'}", tmp_path))
    assert result.returncode == 0, result.stderr
    assert "loaded as batch 2" in result.stdout


def test_passwords_come_from_stdin_or_a_prompt_never_from_an_argument(tmp_path, seeded_url):
    env = env_for(seeded_url, tmp_path)
    refused = invoke("users", "add", "wang", "--password", "a-long-password", env=env)
    assert refused.returncode == 2  # no such option: a password never stands on the command line
    added = invoke("users", "add", "wang", "--role", "editor", "--password-stdin", env=env, input="a-long-password\n")
    assert added.returncode == 0, added.stderr
    engine = db.make_engine(seeded_url)
    assert users.authenticate(engine, "wang", "a-long-password") is not None
    assert invoke("users", "disable", "wang", env=env).returncode == 0
    assert users.authenticate(engine, "wang", "a-long-password") is None
    assert invoke("users", "enable", "wang", env=env).returncode == 0
    assert users.authenticate(engine, "wang", "a-long-password") is not None
    engine.dispose()


def test_a_read_only_database_is_a_bilingual_message_and_exit_3_not_a_traceback(tmp_path, seeded_sqlite):
    csv = tmp_path / "one.csv"
    csv.write_text(ONE_VALUE, encoding="utf-8")
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(seeded_sqlite, copy)
    url = f"sqlite:///file:{copy}?mode=ro&uri=true"
    result = run_command("ingest", str(csv), env=env_for(url, tmp_path))
    assert result.returncode == 3, result.stderr
    assert "只读" in result.stderr and "read-only" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    debug = run_command("--debug", "ingest", str(csv), env=env_for(url, tmp_path))
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_an_unreachable_database_is_a_bilingual_message_and_exit_3(tmp_path):
    result = run_command("batches", env=env_for("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    assert result.returncode == 3
    assert "无法连接数据库" in result.stderr and "Cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("error", "expected"), [
    (sa_exc.OperationalError("INSERT", {}, Exception("database is locked")), failures.LOCKED),
    (sa_exc.OperationalError("INSERT", {}, Exception("database or disk is full")), failures.FULL),
    (OSError(errno.ENOSPC, "No space left on device"), failures.FULL),
    (OSError(errno.EROFS, "Read-only file system"), failures.READ_ONLY),
    (MemoryError(), failures.NO_MEMORY),
])
def test_failures_are_described_by_kind(error, expected):
    assert failures.describe(error) == expected


def test_an_unknown_failure_names_its_type_and_points_to_debug():
    text = failures.describe(KeyError("x"))
    assert "KeyError" in text.zh and "KeyError" in text.en and "--debug" in text.en


def test_backup_while_writing_and_restore_give_back_exactly_the_state_backed_up(tmp_path, seeded_url):
    env = env_for(seeded_url, tmp_path)
    engine = db.make_engine(seeded_url)
    saved = database_dump(engine)
    backup_file = tmp_path / "monitor.backup"
    assert invoke("backup", "-o", str(backup_file), env=env).returncode == 0
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    csv = tmp_path / "one.csv"
    csv.write_text(ONE_VALUE, encoding="utf-8")
    assert invoke("ingest", str(csv), env=env).returncode == 0
    assert database_dump(engine) != saved
    engine.dispose()
    restored = invoke("restore", "--yes", str(backup_file), env=env)
    assert restored.returncode == 0, restored.stderr
    engine = db.make_engine(seeded_url)
    assert database_dump(engine) == saved
    engine.dispose()


def test_a_sqlite_backup_taken_while_batches_are_written_is_consistent(tmp_path, seeded_sqlite):
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(seeded_sqlite, path)
    engine = db.make_engine(f"sqlite:///{path}")
    stop = threading.Event()

    def write() -> None:
        year = 1950
        while not stop.is_set() and year < 2000:
            rows = batch_frame(f"indicator_code,region_code,year,value,source,confidence\n"
                               f"RD_GDP_RATIO,beijing,{year},1.0,synthetic test value,low\n")
            with db.writing(engine) as conn:
                store.apply_batch(conn, rows, kind="upload", user="t", file_name=f"{year}.csv", checksum=str(year))
            year += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = []
        for n in range(3):
            target = tmp_path / f"copy{n}.sqlite3"
            backup.backup(engine, target)
            copies.append(target)
    finally:
        stop.set()
        writer.join(timeout=60)
    for target in copies:
        conn = sqlite3.connect(target)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            batches = conn.execute("SELECT count(*) FROM batches").fetchone()[0]
            uploaded = conn.execute("SELECT count(*) FROM batches WHERE kind = 'upload'").fetchone()[0]
            values = conn.execute("SELECT count(*) FROM observations WHERE source = 'synthetic test value'").fetchone()[0]
        finally:
            conn.close()
        assert uploaded == values and batches == uploaded + 2  # every batch copied with its value, or neither
    engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(tmp_path, seeded_url):
    env = env_for(seeded_url, tmp_path)
    engine = db.make_engine(seeded_url)
    saved = database_dump(engine)
    bogus = tmp_path / "not-a-backup.csv"
    bogus.write_text(ONE_VALUE, encoding="utf-8")
    result = invoke("restore", "--yes", str(bogus), env=env)
    assert result.returncode == 1
    assert "未做任何更改" in result.stderr and "nothing was changed" in result.stderr
    assert database_dump(engine) == saved
    engine.dispose()
