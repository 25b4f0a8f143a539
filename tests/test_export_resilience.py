"""No export can take the site down: a killed or hung Chromium is noticed, killed off and replaced, and renders
wait in a bounded queue, never without a limit.

The served tests attack a real server (``innovation-monitor serve`` with a database of the module's own): they
kill or freeze the browser processes the server started, the way an operator or the kernel's OOM killer would.
Timeouts here are safety nets, so that a hang fails the test instead of hanging the run; nothing asserts a speed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import pytest
import requests

from indicators import export

from .conftest import serving

EXPORT = "/export/chart?view=trend&indicator=RD_GDP_RATIO&format=png"
PNG = b"\x89PNG\r\n\x1a\n"
SAFETY = 90  # seconds: far above any bound the render server keeps, so only a hang reaches it


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    group: int
    state: str  # "Z": dead, not yet reaped
    name: str


def processes() -> list[Process]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                head, rest = (entry / "stat").read_text().rsplit(")", 1)
                state, parent, group = rest.split()[:3]
                found.append(Process(int(entry.name), int(parent), int(group), state, head.split("(", 1)[1]))
    return found


def browsers_under(root: int) -> list[Process]:
    """The live Chromium processes descending from ``root``."""
    everyone = processes()
    children = defaultdict(list)
    for p in everyone:
        children[p.parent].append(p)
    found, todo = [], [root]
    while todo:
        for child in children[todo.pop()]:
            found.append(child)
            todo.append(child.pid)
    return [p for p in found if p.name == "chromium" and p.state != "Z"]


def alive_in(groups: set[int]) -> list[Process]:
    return [p for p in processes() if p.group in groups and p.state != "Z"]


def signal_groups(groups: set[int], sig: int) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)


def server_pid(base: str) -> int:
    """The pid of the ``innovation-monitor serve`` this test run started on the port of ``base``."""
    port = base.rsplit(":", 1)[1]
    for p in processes():
        if p.parent == os.getpid():
            args = Path(f"/proc/{p.pid}/cmdline").read_bytes().split(b"\0")
            if b"serve" in args and port.encode() in args:
                return p.pid
    raise AssertionError(f"no server process on port {port}")


def export_chart(base: str) -> requests.Response:
    return requests.get(base + EXPORT, timeout=SAFETY)


def assert_image_or_retry_later(response: requests.Response) -> None:
    if response.status_code == 200:
        assert response.content.startswith(PNG)
        return
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "秒后重试" in response.text and "try again in" in response.text
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def server(tmp_path_factory, seeded_sqlite):
    """The module's own server of one worker process (these tests kill its browser and fill its render queue,
    which is per process), with the pid its browsers descend from."""
    with serving(tmp_path_factory.mktemp("exports"), seeded_sqlite, "--workers", "1") as own:
        yield own.base, server_pid(own.base)


def test_killing_chromium_during_exports_leaves_every_request_answered_and_the_next_export_working(server, wait_for):
    base, pid = server
    with ThreadPoolExecutor(max_workers=4) as pool:
        requests_ = [pool.submit(export_chart, base) for _ in range(4)]
        assert wait_for(lambda: browsers_under(pid), timeout=SAFETY)  # the first request is starting the browser
        time.sleep(1)  # about a second in: starting, or rendering the first charts
        killed = browsers_under(pid)
        for p in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
        assert killed
        for answered in requests_:
            assert_image_or_retry_later(answered.result(timeout=SAFETY))
    assert requests.get(base + "/", timeout=SAFETY).status_code == 200
    after = export_chart(base)
    assert after.status_code == 200 and after.content.startswith(PNG)
    assert wait_for(lambda: not alive_in({p.group for p in killed}), timeout=SAFETY)  # no leftovers, orphans too


def test_beyond_the_queue_renders_are_refused_at_once_and_pages_still_answer(server, wait_for):
    base, pid = server
    assert export_chart(base).status_code == 200  # a running browser, to freeze
    groups = {p.group for p in browsers_under(pid)}
    signal_groups(groups, signal.SIGSTOP)  # a hung browser: alive, answering nothing
    try:
        extra = 2
        with ThreadPoolExecutor(max_workers=1 + export.MAX_WAITING + extra) as pool:
            pending = {pool.submit(export_chart, base) for _ in range(1 + export.MAX_WAITING + extra)}
            refused = set()
            while len(refused) < extra:  # the queue holds the others until the browser is dealt with
                done, pending = wait(pending, timeout=SAFETY, return_when=FIRST_COMPLETED)
                assert done, "nobody was refused"
                refused |= done
            assert len(refused) == extra and len(pending) == 1 + export.MAX_WAITING
            for response in (f.result() for f in refused):
                assert response.status_code == 503 and response.headers["Retry-After"] == str(export.RETRY_AFTER)
                assert response.text == f"图表导出繁忙,请 {export.RETRY_AFTER} 秒后重试 / " \
                                        f"Chart export is busy; try again in {export.RETRY_AFTER} s"
            assert requests.get(base + "/", timeout=SAFETY).status_code == 200  # pages do not wait for renders
            assert requests.get(base + "/login", timeout=SAFETY).status_code == 200
            signal_groups(groups, signal.SIGKILL)
            for answered in pending:
                assert_image_or_retry_later(answered.result(timeout=SAFETY))
    finally:
        signal_groups(groups, signal.SIGKILL)
    assert wait_for(lambda: not alive_in(groups), timeout=SAFETY)
    after = export_chart(base)
    assert after.status_code == 200 and after.content.startswith(PNG)


def small_chart() -> go.Figure:
    return go.Figure(go.Scatter(x=[2020, 2021, 2022], y=[6.4, 6.5, 6.6]))


def test_a_hung_render_times_out_its_browser_is_killed_and_the_next_render_starts_a_new_one(wait_for):
    # Only the render meant to hang gets a short limit (well above wait_timeout, so the caller behind it is
    # refused first); the renders meant to succeed start a browser, which gets the safety net, not a deadline.
    server = export.RenderServer(render_timeout=SAFETY, wait_timeout=1)

    def render() -> bytes:
        return server.render(small_chart(), fmt="png", width=300, height=200, scale=1)

    before = {p.group for p in browsers_under(os.getpid())}
    try:
        assert render().startswith(PNG)
        groups = {p.group for p in browsers_under(os.getpid())} - before  # this server's browser
        assert len(groups) == 1
        signal_groups(groups, signal.SIGSTOP)
        server.render_timeout = 3
        with ThreadPoolExecutor(max_workers=1) as pool:
            stuck = pool.submit(render)
            assert wait_for(lambda: server.rendering, timeout=SAFETY)
            with pytest.raises(export.ExportBusy) as busy:  # its turn does not come within wait_timeout
                render()
            assert busy.value.retry_after == export.RETRY_AFTER
            with pytest.raises(export.ExportFailed) as failed:
                stuck.result(timeout=SAFETY)
        assert "秒后重试" in failed.value.message_zh and "try again in" in failed.value.message_en
        assert wait_for(lambda: not alive_in(groups), timeout=SAFETY)  # frozen processes die only if killed
        server.render_timeout = SAFETY
        assert render().startswith(PNG)
    finally:
        server.close()


def test_closing_the_render_server_ends_its_browser(wait_for):
    server = export.RenderServer()
    before = {p.group for p in browsers_under(os.getpid())}
    assert server.render(small_chart(), fmt="png", width=300, height=200, scale=1).startswith(PNG)
    groups = {p.group for p in browsers_under(os.getpid())} - before
    assert len(groups) == 1
    server.close()
    assert wait_for(lambda: not alive_in(groups), timeout=SAFETY)
    assert server.render(small_chart(), fmt="png", width=300, height=200, scale=1).startswith(PNG)  # a new one
    server.close()
