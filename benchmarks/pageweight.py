"""Benchmark: a cold visit to /trend, uncompressed (before) and compressed (after), at 10 Mbit/s.

Starts ``innovation-monitor serve`` twice on a fresh SQLite database with the shipped data, once with
``INNOVATION_MONITOR_COMPRESS=0`` (as the app was served before) and once as it is served now. For each, a
fresh headless Chromium (no cache) is throttled through the DevTools protocol to 10 Mbit/s down, 5 Mbit/s up
and 40 ms latency, opens ``/trend`` and waits for the chart. Prints the bytes transferred (what arrived over
the wire, headers included), the number of requests and the time to the first drawn chart, median of the runs,
and the ratios; then the server's CPU time per request of the plotly.js the page loaded, asked for as Chromium
does once the server is warm (what each further viewer with an empty cache costs it). Both servers send
plotly.js's basic bundle (``assets/plotly-basic-*.min.js``): "before" is only the compression switched off.

Goals (issue 16): a cold visit transfers under 2 MB; the first chart appears in under 2.5 s.
Run: ``.venv/bin/python benchmarks/pageweight.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.screenshots import CHROMIUM_ARGS, free_port, start_server  # noqa: E402

ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends
CPU_REQUESTS = 20
WARM_SECONDS = 15
THROTTLE = {"offline": False, "latency": 40, "downloadThroughput": 10_000_000 / 8, "uploadThroughput": 5_000_000 / 8}


def cold_visit(browser, base: str) -> tuple[int, float, list[str]]:
    """Bytes over the wire, seconds until the trend chart is drawn and the URLs requested, in a fresh context
    (empty cache)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    received: list[float] = []
    urls: list[str] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    cdp.on("Network.requestWillBeSent", lambda event: urls.append(event["request"]["url"]))
    start = time.perf_counter()
    page.goto(base + "/trend?lang=zh")
    page.wait_for_selector("#trend-graph .main-svg .scatterlayer .trace", timeout=120_000)
    elapsed = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    context.close()
    return int(sum(received)), elapsed, urls


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its descendants (gunicorn's workers; Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # its own and its waited-for children's user and system time
    children = {int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in children)


def plotly_cpu(pid: int, url: str) -> float:
    """The server's CPU seconds per request of plotly.js once it is warm (every worker has served it and had
    WARM_SECONDS for work it does once), the mean of CPU_REQUESTS requests one after another."""

    def fetch(count: int) -> None:
        for _ in range(count):
            request = urllib.request.Request(url, headers={"Accept-Encoding": ACCEPT_ENCODING})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()

    fetch(CPU_REQUESTS)
    time.sleep(WARM_SECONDS)
    before = cpu_seconds(pid)
    fetch(CPU_REQUESTS)
    return (cpu_seconds(pid) - before) / CPU_REQUESTS


def measure(compress: bool, runs: int, database: str) -> tuple[list[int], list[float], list[int], float]:
    env = {**os.environ, "DATABASE_URL": database, "INNOVATION_MONITOR_COMPRESS": "1" if compress else "0"}
    port = free_port()
    server = start_server(port, env)
    sizes, times, counts = [], [], []
    try:
        with sync_playwright() as pw:
            for _ in range(runs):
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                size, seconds, urls = cold_visit(browser, f"http://127.0.0.1:{port}")
                browser.close()
                sizes.append(size)
                times.append(seconds)
                counts.append(len(urls))
        plotly = next(u for u in urls if "plotly" in u.split("?")[0].rsplit("/", 1)[-1])
        cpu = plotly_cpu(server.pid, plotly)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return sizes, times, counts, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        subprocess.run([sys.executable, "-m", "indicators", "init"], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": database})
        before = measure(False, args.runs, database)
        after = measure(True, args.runs, database)
    print(f"cold visit to /trend at 10 Mbit/s, 40 ms; {args.runs} runs each, median; python "
          f"{platform.python_version()}, {platform.machine()}, load average {os.getloadavg()[0]:.2f}")
    for name, (sizes, times, counts, cpu) in (("uncompressed (before)", before), ("compressed (after)", after)):
        print(f"  {name:24s} {statistics.median(sizes) / 1e6:6.2f} MB in {statistics.median(counts):3.0f} requests"
              f"   first chart {statistics.median(times):5.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})"
              f"   server CPU per plotly.js request {cpu * 1000:5.1f} ms")
    print(f"  ratio after/before: bytes {statistics.median(after[0]) / statistics.median(before[0]):.2f}, "
          f"time {statistics.median(after[1]) / statistics.median(before[1]):.2f}")


if __name__ == "__main__":
    main()
