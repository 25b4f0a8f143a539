"""The app served by several processes, as a commission deploys it.

A shared deployment: two ``innovation-monitor serve`` processes (as on two hosts, each with its own instance
folder, one signing key) and an ``innovation-monitor worker`` against one PostgreSQL and one Redis started by
the tests. A pack started through one server is built by the worker and downloads through the other; an upload through one shows on the other at once; failed sign-ins through both count as
one. And ``serve --workers 2`` on the embedded SQLite runs two worker processes that share the same limits.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from playwright.sync_api import expect

from indicators import db, users
from tools.screenshots import free_port, start_server

from .support import TEST_DATA, copy_sqlite, settle, start_worker, wait_for_chart

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
UPLOADS = TEST_DATA / "upload"


def _start(env: dict, *args: str):
    port = free_port()
    return f"http://127.0.0.1:{port}", start_server(port, env, *args)


def _stop(proc) -> None:
    proc.terminate()
    assert proc.wait(timeout=20) == 0, proc.stderr.read().decode() if proc.stderr else ""


def _add_accounts(url: str) -> None:
    engine = db.make_engine(url)
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
        users.add_user(engine, "zhao", PASSWORD, "viewer")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, postgres_server, seeded_postgresql, redis_url) -> Iterator[list[str]]:
    """Two servers of one worker process each and a job worker, on one PostgreSQL database with the shipped
    data and one Redis queue."""
    url = postgres_server.create_database(template=seeded_postgresql)
    _add_accounts(url)
    shared = dict(os.environ, DATABASE_URL=url, INNOVATION_MONITOR_SECRET_KEY=secrets.token_hex(32),
                  INNOVATION_MONITOR_REDIS_URL=redis_url.rsplit("/", 1)[0] + "/1")
    worker = start_worker(dict(shared, INNOVATION_MONITOR_INSTANCE=str(tmp_path_factory.mktemp("worker"))))
    started = []
    try:
        for name in ("a", "b"):
            env = dict(shared, INNOVATION_MONITOR_INSTANCE=str(tmp_path_factory.mktemp(f"host-{name}")))
            started.append(_start(env, "--workers", "1"))
        yield [base for base, _ in started]
    finally:
        for _, proc in started:
            _stop(proc)
        worker.terminate()
        worker.wait(timeout=30)
        postgres_server.drop_database(url)


def _failed_sign_ins(bases: list[str], name: str, failures: int) -> list[tuple[int, int]]:
    """Wrong passwords for ``name`` from one address, through each server in turn, each on a new connection,
    until ``failures`` were checked and refused (401); a 429 is waited out as it says. Each attempt's
    (server, status)."""
    seen: list[tuple[int, int]] = []
    while sum(status == 401 for _, status in seen) < failures:
        assert len(seen) < 4 * failures, seen
        which = len(seen) % len(bases)
        response = _sign_in(bases[which], name, f"guess {len(seen)}")
        seen.append((which, response.status_code))
        if response.status_code == 429:
            time.sleep(int(re.search(r"try again in (\d+) s", response.text).group(1)))
        else:
            assert response.status_code == 401, response.text
    return seen


def _sign_in(base: str, name: str, password: str) -> requests.Response:
    with requests.Session() as browser:
        browser.headers["Connection"] = "close"  # a new connection each time: any worker process may take it
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{base}/login").text).group(1)
        return browser.post(f"{base}/login", data={"name": name, "password": password, "csrf_token": token},
                            headers={"Origin": base}, allow_redirects=False)


def _refused_everywhere(bases: list[str], name: str) -> None:
    """After eight failures the next attempt waits 8 s: every server refuses it, the right password too."""
    for base in bases:
        for password in ("another guess", PASSWORD):
            response = _sign_in(base, name, password)
            assert response.status_code == 429 and "尝试次数过多" in response.text, (base, response.status_code)


def test_failed_sign_ins_through_two_servers_count_as_one(hosts):
    seen = _failed_sign_ins(hosts, "zhao", failures=8)
    assert {which for which, status in seen if status == 401} == {0, 1}  # both servers checked passwords
    assert [status for _, status in seen[:5]] == [401] * 5  # the five free attempts, over both
    _refused_everywhere(hosts, "zhao")


def test_a_pack_started_through_one_server_downloads_through_the_other(page, hosts):
    first, second = hosts
    page.goto(first + "/briefing?indicators=RD_GDP_RATIO&lang=en")
    settle(page)
    page.locator("#brief-build").click()
    expect(page.locator("#brief-download")).to_be_visible(timeout=120_000)
    link = page.locator("#brief-download").get_attribute("href")
    response = requests.get(second + link, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert any(n.endswith("RD_GDP_RATIO.png") for n in zf.namelist())
    assert requests.get(second + "/export/brief/not-a-job.zip", timeout=30).status_code == 404


def _trend_values(page, base: str) -> dict[int, float]:
    page.goto(base + "/trend?indicator=RD_GDP_RATIO&regions=CN-BJ&lang=zh")
    settle(page)
    wait_for_chart(page, "trend-graph")
    pairs = page.evaluate("() => { const d = document.querySelector('#trend-graph .js-plotly-plot')._fullData[0];"
                          " return Array.from(d.x).map((x, i) => [Number(x), Number(d.y[i])]); }")
    return dict(pairs)


def test_an_upload_through_one_server_shows_on_the_other_at_once(page, hosts):
    first, second = hosts
    assert _trend_values(page, second).get(2025) != 6.61  # the other server has read the data already
    page.goto(f"{first}/login?next=/upload")
    page.fill("#name", "editor1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{first}/upload")
    settle(page)
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "gb18030-chinese-headers.csv"))
    expect(page.locator("#upload-diff-summary")).to_have_text("新增 1 · 修订 1 · 不变 0", timeout=20_000)
    page.click("#upload-commit")
    expect(page.locator("#upload-committed")).to_contain_text("新增 1,修订 1", timeout=20_000)
    assert _trend_values(page, second)[2025] == 6.61


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, seeded_sqlite) -> Iterator[tuple[str, psutil.Process]]:
    """``serve --workers 2`` on a copy of the shipped SQLite database."""
    folder: Path = tmp_path_factory.mktemp("two-workers")
    copy_sqlite(seeded_sqlite, folder / "app.sqlite3")
    url = f"sqlite:///{folder / 'app.sqlite3'}"
    _add_accounts(url)
    env = dict(os.environ, DATABASE_URL=url, INNOVATION_MONITOR_INSTANCE=str(folder / "instance"))
    base, proc = _start(env, "--workers", "2")
    try:
        yield base, psutil.Process(proc.pid)
    finally:
        _stop(proc)


def test_serve_with_two_workers_runs_two_processes_that_share_the_sign_in_limits(two_workers):
    base, master = two_workers
    workers = master.children()
    assert len(workers) == 2 and all("serve" in " ".join(w.cmdline()) for w in workers)
    _failed_sign_ins([base], "zhao", failures=8)
    _refused_everywhere([base, base], "zhao")
