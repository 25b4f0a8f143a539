"""Benchmark: one viewer changing the trend chart, over HTTP, on the shipped data (issue 16, item 4).

Creates a fresh SQLite database with the shipped data (``innovation-monitor init``) in a temporary folder,
starts ``innovation-monitor serve`` on it and posts, one after another, the requests the browser sends when a
viewer changes the trend page: its main update callback (``dashboards/trend.py``'s ``update``: figure,
status explanation, source table, export links, title) at ``/_dash-update-component``, with the indicator
and the regions varied as a viewer would (the indicator's whole year range, the home region mostly among
them). Keep-alive connection, ``Accept-Encoding`` as a browser sends it, ``Origin`` as the page sends it.

The baseline, in the same run: for each response, a plain plotly figure with the same traces and points
(x, y, names, hover texts) built with ``go.Figure`` and encoded with ``plotly.io.to_json``, timed in this
process. Prints the p50 and p95 of both and the ratio, the server's CPU time per request (all its processes,
from /proc on Linux: moved less than the wall time when other work shares the machine) and the commit.

Goal (issue 16): single-viewer p50 under 40 ms over HTTP.
Run: ``.venv/bin/python benchmarks/trendhttp.py [--requests 200] [--warmup 20]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.screenshots import free_port, start_server  # noqa: E402

PAGE = "trend"
OUTPUTS = [("graph", "figure"), ("why", "children"), ("sources", "children"), ("export-links", "children"),
           ("title", "children")]
SEED = 16


def callback_body(indicator: str, regions: list[str], years: list[int], lang: str) -> dict:
    """The body Dash's renderer posts for the trend page's update callback (as captured from Chromium)."""
    outputs = [{"id": f"{PAGE}-{cid}", "property": prop} for cid, prop in OUTPUTS]
    return {
        "output": "".join(f"..{o['id']}.{o['property']}.." for o in outputs).replace("....", "..."),
        "outputs": outputs,
        "inputs": [
            {"id": f"{PAGE}-indicator", "property": "value", "value": indicator},
            {"id": f"{PAGE}-regions", "property": "value", "value": regions},
            {"id": f"{PAGE}-years", "property": "value", "value": years},
            {"id": f"{PAGE}-vintages", "property": "value", "value": []},
            {"id": f"{PAGE}-screen", "property": "data", "value": "wide"},
        ],
        "changedPropIds": [f"{PAGE}-regions.value"],
        "parsedChangedPropsIds": [f"{PAGE}-regions.value"],
        "state": [{"id": f"{PAGE}-lang", "property": "data", "value": lang}],
    }


def viewer_requests(database: str, count: int) -> list[dict]:
    """``count`` callback bodies: a viewer picking indicators and regions (seeded, so every run asks the same)."""
    from indicators import db, snapshot, views

    snap = snapshot.snapshot(db.make_engine(database))
    home = snap.catalog.programme.home_region
    codes = [c for c, ind in snap.catalog.indicators.items() if ind.kind != "qualitative" and len(snap.series(c))]
    rng = random.Random(SEED)
    bodies = []
    for n in range(count):
        indicator = rng.choice(codes)
        others = [r for r in snap.regions_with_data(indicator) if r != home]
        regions = rng.sample(others, min(len(others), rng.randint(0, 3)))
        if rng.random() < 0.8 or not regions:
            regions = [home, *regions]
        lo, hi = views.year_bounds(snap, indicator)
        bodies.append(callback_body(indicator, regions, [lo, hi], "zh" if n % 3 else "en"))
    return bodies


def plain_values(values):
    """A trace's array as a list (plotly may send numbers base64-encoded: ``{"bdata": ..., "dtype": ...}``)."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return values


def plain_figure_seconds(figure: dict) -> float:
    """Seconds to build and encode a plain plotly figure with the same traces and points as ``figure``
    (x, y, names, modes, hover texts; the page's title)."""
    traces = [{k: plain_values(trace.get(k)) for k in ("x", "y", "name", "mode", "hovertext", "hoverinfo")}
              for trace in figure["data"]]
    start = time.perf_counter()
    fig = go.Figure()
    for trace in traces:
        fig.add_trace(go.Scatter(**trace))
    fig.update_layout(title=(figure["layout"].get("title") or {}).get("text"))
    pio.to_json(fig)
    return time.perf_counter() - start


def server_processes(pid: int) -> list[int]:
    """The server process and its worker processes (gunicorn's), as Linux's /proc tells; [] elsewhere."""
    try:
        return [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of some processes so far (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(base: str, bodies: list[dict], warmup: int, pids: list[int]) -> tuple[list[float], list[float], list[int], float]:
    """Seconds per request over HTTP, seconds of the baseline per response, bytes on the wire, and the
    server's CPU seconds per request (NaN where /proc is not there), after ``warmup`` requests."""
    session = requests.Session()
    headers = {"Origin": base, "Referer": f"{base}/trend", "Content-Type": "application/json",
               "Accept": "application/json", "Accept-Encoding": "gzip, deflate, br"}
    http, plain, sizes = [], [], []
    cpu_start = float("nan")
    for n, body in enumerate(bodies):
        if n == warmup and pids:
            cpu_start = cpu_seconds(pids)
        data = json.dumps(body)
        start = time.perf_counter()
        response = session.post(f"{base}/_dash-update-component", data=data, headers=headers, timeout=60)
        content = response.content
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        if n < warmup:
            continue
        http.append(elapsed)
        sizes.append(int(response.headers.get("Content-Length") or len(content)))
        figure = response.json()["response"][f"{PAGE}-graph"]["figure"]
        plain.append(plain_figure_seconds(figure))
    server_cpu = (cpu_seconds(pids) - cpu_start) / len(http) if pids else float("nan")
    return http, plain, sizes, server_cpu


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        env = {**os.environ, "DATABASE_URL": database, "INNOVATION_MONITOR_INSTANCE": tmp}
        env.pop("INNOVATION_MONITOR_REQUIRE_LOGIN", None)
        subprocess.run([sys.executable, "-m", "indicators", "init"], cwd=ROOT, check=True, capture_output=True, env=env)
        bodies = viewer_requests(database, args.warmup + args.requests)
        port = free_port()
        server = start_server(port, env)
        try:
            time.sleep(1)  # gunicorn's workers are up before its parent answers; count them all
            pids = server_processes(server.pid)
            http, plain, sizes, server_cpu = run(f"http://127.0.0.1:{port}", bodies, args.warmup, pids)
        finally:
            server.terminate()
            server.wait(timeout=20)
    served_by = f"{len(pids) - 1} worker processes" if len(pids) > 1 else "one server process"
    print(f"trend update over HTTP, one viewer, shipped data on SQLite ({served_by}); {len(http)} requests after "
          f"{args.warmup} warm-up; commit {commit()}; python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"  HTTP round trip (callback)   p50 {ms(http, 50):6.1f} ms   p95 {ms(http, 95):6.1f} ms   "
          f"(response {statistics.median(sizes) / 1000:.1f} kB on the wire, median)")
    print(f"  server CPU per request       mean {server_cpu * 1000:5.1f} ms   (all server processes; less moved by load)")
    print(f"  plain plotly figure + JSON   p50 {ms(plain, 50):6.1f} ms   p95 {ms(plain, 95):6.1f} ms   (baseline)")
    print(f"  ratio HTTP / baseline: p50 {ms(http, 50) / ms(plain, 50):.2f}, p95 {ms(http, 95) / ms(plain, 95):.2f}")
    print(f"  goal p50 < 40 ms: {'met' if ms(http, 50) < 40 else 'not met'}")


if __name__ == "__main__":
    main()
