"""Shared fixtures: a real PostgreSQL 15 server for the session, a fresh database per test, the served app.

The databases are parametrised over ``sqlite`` and ``postgresql`` (the ``backend`` fixture): a test that asks
for ``database_url`` / ``engine`` (an empty database, no tables) or ``seeded_url`` / ``seeded_engine`` (after
`init` with the shipped catalog and data) runs against both in the same run. The seeded database is built
once per session and backend, and every test gets a copy of its own: a copied file on SQLite, ``CREATE
DATABASE … TEMPLATE`` on PostgreSQL (``clone_database`` copies a test's database the same way). The
PostgreSQL server is started from the installed binaries (``/usr/lib/postgresql/15/bin``) in a temporary
folder (in memory, under /dev/shm, when there is room) on a free port, and a test's databases are dropped
after it; as root it runs as the ``postgres`` system user, as PostgreSQL refuses to run as root.

The browser tests drive the app as ``innovation-monitor serve`` runs it, in a subprocess on a copy of the
seeded SQLite database: ``app_server`` is one server for the whole run, for tests that only read;
``own_app_server`` is a server with a database of its own for a module whose tests change data.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from indicators import db
from indicators.catalog import load_catalog
from indicators.seed import run_init
from tools.screenshots import CHROMIUM_ARGS, free_port, start_server

from .support import CATALOG_DIR, SHIPPED_DIR, copy_sqlite, fold_wal

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CHROMIUM = "/usr/bin/chromium"
SEEDED_TEMPLATE = "seeded_template"
IN_MEMORY = Path("/dev/shm")
_counter = itertools.count()


def _cluster_parent() -> str | None:
    """Where the throw-away cluster lives: in memory when there is room (on a virtual disk a CREATE DATABASE takes
    about 0.3 s, in memory 15 ms, and every test makes one), else the temporary folder."""
    if IN_MEMORY.is_dir() and os.access(IN_MEMORY, os.W_OK) and shutil.disk_usage(IN_MEMORY).free > 2**31:
        return str(IN_MEMORY)
    return None


class PostgresServer:
    """A throw-away PostgreSQL cluster: initdb, pg_ctl start, and stop + delete at the end."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="im-pg-", dir=_cluster_parent()))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = None
        self._admin: Engine | None = None
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
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c max_wal_size=128MB"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "start")

    def stop(self) -> None:
        try:
            if self._admin is not None:
                self._admin.dispose()
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        """Run one statement on the maintenance database, outside a transaction (CREATE DATABASE needs that)."""
        if self._admin is None:
            self._admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(sql))

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        """A new database, empty or a copy of ``template`` (which must have no open connections); its URL.

        The files are copied (FILE_COPY), not written to the write-ahead log page by page: less to keep.
        """
        name = name or f"t{os.getpid()}_{next(_counter)}"
        self.admin(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test's database, closing what a test left connected to it."""
        self.admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}: run `make setup` (installs postgresql-15)")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


REDIS_SERVER = "/usr/bin/redis-server"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A throw-away Redis server on a free port (Debian's redis-server; nothing written to disk): its URL."""
    if not Path(REDIS_SERVER).exists():
        pytest.fail(f"{REDIS_SERVER} not found: run `make setup` (installs redis-server)")
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(CATALOG_DIR)


@contextmanager
def _engine_on(url: str) -> Iterator[Engine]:
    engine = db.make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _seed(url: str, catalog) -> None:
    with _engine_on(url) as engine:  # closed after: a template is copied with no connection open
        run_init(engine, catalog, SHIPPED_DIR)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory, catalog) -> Path:
    """The seeded SQLite database file, built once; tests get copies of it."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.sqlite3"
    _seed(f"sqlite:///{path}", catalog)
    fold_wal(path)
    assert not path.with_name(path.name + "-wal").exists(), "a connection to the template is still open"
    return path


@pytest.fixture(scope="session")
def seeded_postgresql(postgres_server, catalog) -> str:
    """The name of the seeded PostgreSQL database, built once; tests get copies of it (CREATE DATABASE … TEMPLATE)."""
    _seed(postgres_server.create_database(name=SEEDED_TEMPLATE), catalog)
    # nobody may connect to it by mistake: a template with an open connection cannot be copied
    postgres_server.admin(f'ALTER DATABASE "{SEEDED_TEMPLATE}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
    return SEEDED_TEMPLATE


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """The kind of database a test runs on (a test can choose: ``parametrize("backend", …, indirect=True)``)."""
    return request.param


def _fresh_database(backend: str, request, tmp_path: Path, *, seeded: bool) -> Iterator[str]:
    """A database for one test: empty, or a copy of the session's seeded one; dropped after it on PostgreSQL."""
    if backend == "sqlite":
        path = tmp_path / ("seeded.sqlite3" if seeded else "test.sqlite3")
        if seeded:
            shutil.copyfile(request.getfixturevalue("seeded_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("seeded_postgresql") if seeded else None
    yield (url := server.create_database(template=template))
    server.drop_database(url)


@pytest.fixture
def database_url(backend, request, tmp_path) -> Iterator[str]:
    """An empty database (no tables): a new SQLite file, or a new database on the session's PostgreSQL."""
    yield from _fresh_database(backend, request, tmp_path, seeded=False)


@pytest.fixture
def seeded_url(backend, request, tmp_path) -> Iterator[str]:
    """A database of its own after `init` with the shipped catalog and data: a copy of the session's one."""
    yield from _fresh_database(backend, request, tmp_path, seeded=True)


def _engine_fixture(url_fixture: str, doc: str):
    """A fixture giving an engine on the database of ``url_fixture``, disposed after the test."""

    @pytest.fixture
    def fixture(backend, request):  # backend: named here so pytest parametrises the test over it
        with _engine_on(request.getfixturevalue(url_fixture)) as eng:
            yield eng

    fixture.__doc__ = doc
    return fixture


engine = _engine_fixture("database_url", "An engine on a fresh empty database (see ``database_url``).")
seeded_engine = _engine_fixture("seeded_url", "An engine on a fresh seeded database (see ``seeded_url``).")


@pytest.fixture
def clone_database(request, tmp_path):
    """Copy a test's database in its current state: ``clone_database(engine)`` returns an engine on the copy.

    The engine given is disposed first (a database is copied closed); it reconnects when used again.
    """
    clones: list[tuple[Engine, PostgresServer | None]] = []

    def clone(source: Engine) -> Engine:
        source.dispose()
        server = None
        if source.dialect.name == "sqlite":
            copy = tmp_path / f"clone-{len(clones)}.sqlite3"
            copy_sqlite(Path(source.url.database), copy)
            url = f"sqlite:///{copy}"
        else:
            server = request.getfixturevalue("postgres_server")
            url = server.create_database(template=source.url.database)
        clones.append((db.make_engine(url), server))
        return clones[-1][0]

    yield clone
    for eng, server in clones:
        eng.dispose()
        if server is not None:
            server.drop_database(eng.url.render_as_string(hide_password=False))


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


# The browser and the served app.


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one for the whole run (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make setup` (apt-get install chromium)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def _tab(browser):
    """One tab per test module, reused by its tests: opening a Dash page in a tab that has loaded one before
    takes less than half the processor time (scripts come compiled from the tab's cache), and the browser
    tests are most of the suite's time. ``page`` gives each test a clean state in it."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(_tab):
    """A browser tab of laptop size with no cookies or stored settings from other tests (the module's tab,
    cleaned: see ``_tab``); a JavaScript error on the page fails the test."""
    pg = _tab.pages[0] if _tab.pages else _tab.new_page()
    _tab.clear_cookies()
    errors: list[str] = []

    def on_error(exc) -> None:
        errors.append(str(exc))

    pg.on("pageerror", on_error)
    yield pg
    pg.remove_listener("pageerror", on_error)
    if pg.is_closed():
        return
    if pg.url.startswith("http"):  # what a test stored in the page's origin (the chosen language) goes with it
        pg.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    pg.goto("about:blank")  # nothing of this test's page keeps calling the server during the next test
    pg.set_viewport_size(LAPTOP)
    assert not errors, f"JavaScript errors: {errors}"


@dataclass(frozen=True)
class AppServer:
    base: str  # http://127.0.0.1:<port>
    database_url: str


@contextmanager
def serving(folder: Path, seeded: Path, *args: str) -> Iterator[AppServer]:
    """``innovation-monitor serve [args]`` on a free port, with its own instance folder and a copy of ``seeded``."""
    copy_sqlite(seeded, folder / "app.sqlite3")
    url = f"sqlite:///{folder / 'app.sqlite3'}"
    env = dict(os.environ, DATABASE_URL=url, INNOVATION_MONITOR_INSTANCE=str(folder / "instance"))
    port = free_port()
    proc = start_server(port, env, *args)
    try:
        yield AppServer(f"http://127.0.0.1:{port}", url)
    finally:
        proc.terminate()  # as a service manager stops it: the server leaves through its exit handlers
        assert proc.wait(timeout=10) == 0, proc.stderr.read().decode() if proc.stderr else ""


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, seeded_sqlite) -> Iterator[AppServer]:
    """The app on the seeded data, shared by the whole run: tests that use it must not change its data."""
    with serving(tmp_path_factory.mktemp("app"), seeded_sqlite) as server:
        yield server


@pytest.fixture(scope="module")
def own_app_server(tmp_path_factory, seeded_sqlite) -> Iterator[AppServer]:
    """The app on a seeded database of the module's own, for a module whose tests change data."""
    with serving(tmp_path_factory.mktemp("own-app"), seeded_sqlite) as server:
        yield server
