"""Shared fixtures: a real PostgreSQL 15 server started for the session, and fresh databases per test.

``database_url`` is parametrised over ``sqlite`` and ``postgresql``: a test that asks for it (or for
``engine`` / ``seeded_engine``) runs against both in the same run. The PostgreSQL server is started from
the installed binaries (``/usr/lib/postgresql/15/bin``) in a temporary folder on a free port; as root it runs
as the ``postgres`` system user, as PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from indicators import db
from indicators.catalog import load_catalog

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PROJECT = Path(__file__).resolve().parent.parent
CATALOG_DIR = PROJECT / "data" / "catalog"
SHIPPED_DIR = PROJECT / "data" / "observations"
TEST_DATA = Path(__file__).resolve().parent / "data"
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throw-away PostgreSQL cluster: initdb, pg_ctl start, and stop + delete at the end."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="im-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            pw = pwd.getpwnam(self.as_user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o755)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off " \
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "start")

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}: run `make setup` (installs postgresql-15)")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """An empty database of each kind: a SQLite file, and a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def engine(database_url):
    eng = db.make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(CATALOG_DIR)


@pytest.fixture
def seeded_engine(engine, catalog):
    """A database after `init` with the shipped catalog and data."""
    from indicators.seed import run_init

    run_init(engine, catalog, SHIPPED_DIR)
    return engine


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one for the whole run (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    from tools.screenshots import CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make setup` (apt-get install chromium)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def settle(page) -> None:
    """Wait until the page has loaded and no Dash callback is running."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=30_000)


@pytest.fixture
def wait_for():
    def _wait(predicate, timeout=10.0, interval=0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()

    return _wait
