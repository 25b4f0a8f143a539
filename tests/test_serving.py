"""How the app is served to a browser: compressed responses, long cache lifetimes for fingerprinted files,
plotly.js as the vendored partial bundle, static files compressed once per process.

Through the test client where the response is enough; in real Chromium against ``innovation-monitor serve``
(the session's ``app_server``) for what a cold visit loads; against a server of its own for what a fresh
process does with its first requests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli
import plotly.offline
import pytest
import requests

from indicators import db
from tools.screenshots import free_port

from .support import copy_sqlite, settle, wait_for_chart

ROOT = Path(__file__).resolve().parent.parent
PLOTLY_BUNDLE = ROOT / "assets" / f"plotly-basic-{plotly.offline.get_plotlyjs_version()}.min.js"
BUNDLE_TRACES = {"scatter", "bar", "pie"}  # plotly.js's basic bundle
CHART_PAGES = {"/trend": ["trend-graph"], "/compare": ["compare-over-time", "compare-latest"],
               "/gaps": ["gaps-progress"]}
SCRIPTS = ["dash/deps/polyfill@7.12.1.min.js", "dash/deps/react@18.3.1.min.js", "dash/deps/react-dom@18.3.1.min.js",
           "dash/deps/prop-types@15.8.1.min.js", "dash/dcc/dash_core_components.js",
           "dash/dcc/dash_core_components-shared.js", "dash/html/dash_html_components.min.js",
           "dash/dash-renderer/build/dash_renderer.min.js", "dash/dcc/async-graph.js", "dash/dcc/async-dropdown.js"]
BROTLI_TIMEOUT = 60  # seconds for the background thread to compress a file (seconds of CPU, on a loaded machine)

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def client(seeded_url, tmp_path, monkeypatch):
    import app as shell

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("INNOVATION_MONITOR_INSTANCE", str(tmp_path / "instance"))
    yield shell.server.test_client()
    db.dispose_engines()


def test_the_vendored_plotly_bundle_is_the_version_plotly_py_writes_figures_for():
    """Figures come from plotly.py; the browser draws them with the basic bundle of the same plotly.js."""
    assert PLOTLY_BUNDLE.exists(), sorted(p.name for p in PLOTLY_BUNDLE.parent.glob("plotly-*"))
    head = PLOTLY_BUNDLE.read_text(encoding="utf-8")[:200]
    assert f"plotly.js (basic - minified) v{plotly.offline.get_plotlyjs_version()}" in head
    assert [p.name for p in PLOTLY_BUNDLE.parent.glob("plotly*.js")] == [PLOTLY_BUNDLE.name]


@sqlite_only
def test_a_static_file_is_compressed_once_with_brotli_and_cached_for_a_year(client):
    page = client.get("/trend")
    url = re.search(r'src="(/assets/plotly-basic[^"]+\?m=[^"]+)"', page.get_data(as_text=True)).group(1)
    deadline = time.monotonic() + BROTLI_TIMEOUT
    while (response := client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})).headers.get(
            "Content-Encoding") != "br":
        # until the background thread has it, Flask-Compress's fast level
        assert response.headers.get("Content-Encoding") in ("zstd", "gzip"), response.headers
        assert time.monotonic() < deadline, "plotly.js was never served from the brotli cache"
        time.sleep(0.2)
    assert brotli.decompress(response.data) == PLOTLY_BUNDLE.read_bytes()
    assert response.headers["ETag"].endswith(':br"')
    assert "Accept-Encoding" in response.headers["Vary"]
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 86_400, cache
    # a browser without brotli still gets it compressed, one without any encoding gets the file as it is
    assert client.get(url, headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == PLOTLY_BUNDLE.read_bytes()
    # an asset asked for without its modification time may change under the same address: revalidated
    assert "no-cache" in client.get("/assets/10-style.css").headers["Cache-Control"]


@pytest.mark.browser
def test_a_cold_visit_loads_the_small_plotly_bundle_compressed_and_cacheable(page, app_server):
    seen = {}
    page.on("response", lambda r: seen.setdefault(r.url, r))
    page.goto(app_server.base + "/trend?lang=zh")
    settle(page)
    wait_for_chart(page, "trend-graph")
    scripts = {url: r for url, r in seen.items() if re.search(r"/(_dash-component-suites|assets)/.*\.js(\?|$)", url)}
    plotly = [url for url in scripts if "plotly" in url]
    assert len(plotly) == 1 and "/assets/plotly-basic-" in plotly[0], plotly  # never the 4.8 MB full bundle
    for url, response in scripts.items():
        headers = response.all_headers()
        if int(headers.get("content-length", 1024)) >= 1024:
            assert headers.get("content-encoding") in ("zstd", "br", "gzip"), (url, headers.get("content-encoding"))
        age = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
        assert age and int(age.group(1)) >= 86_400, (url, headers.get("cache-control"))


@pytest.mark.browser
def test_every_chart_page_draws_only_traces_the_bundle_has(page, app_server):
    """The basic bundle has scatter, bar and pie: a trace of another type would silently not be drawn."""
    for path, graphs in CHART_PAGES.items():
        page.goto(f"{app_server.base}{path}?lang=en")
        settle(page)
        for graph in graphs:
            wait_for_chart(page, graph)
            types = page.evaluate("""id => {
                const gd = document.querySelector(`#${id} .js-plotly-plot`);
                return gd.data.map(trace => trace.type || 'scatter');
            }""", graph)
            assert types and set(types) <= BUNDLE_TRACES, (path, graph, types)
        assert set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")) == BUNDLE_TRACES


def test_a_fresh_server_answers_a_burst_of_script_requests_as_its_first_requests(tmp_path, seeded_sqlite):
    """Dash finishes its set-up on a process's first request; a worker whose first requests are a page's
    scripts, all at once, used to answer some of them from a half-made list of servable files (500)."""
    copy_sqlite(seeded_sqlite, tmp_path / "app.sqlite3")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}",
               INNOVATION_MONITOR_INSTANCE=str(tmp_path / "instance"))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "indicators", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc)  # no request yet: the scripts below are the first the app sees
        base = f"http://127.0.0.1:{port}/_dash-component-suites/"
        with ThreadPoolExecutor(len(SCRIPTS)) as pool:
            statuses = list(pool.map(lambda path: requests.get(base + path, timeout=60).status_code, SCRIPTS))
        assert statuses == [200] * len(SCRIPTS), dict(zip(SCRIPTS, statuses, strict=True))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.1)
    pytest.fail("the server did not listen within 60 s")
