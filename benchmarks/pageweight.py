"""Benchmark: a cold visit to /trend, uncompressed (before) and compressed (after), at 10 Mbit/s.

Starts ``innovation-monitor serve`` twice on a fresh SQLite database with the shipped data, once with
``INNOVATION_MONITOR_COMPRESS=0`` (as the app was served before) and once as it is served now. For each, a
fresh headless Chromium (no cache) is throttled through the DevTools protocol to 10 Mbit/s down, 5 Mbit/s up
and 40 ms latency, opens ``/trend`` and waits for the chart. Prints the bytes transferred (what arrived over
the wire, headers included) and the time to the first drawn chart, median of the runs, and the ratios.

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
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.screenshots import CHROMIUM_ARGS, free_port, start_server  # noqa: E402

THROTTLE = {"offline": False, "latency": 40, "downloadThroughput": 10_000_000 / 8, "uploadThroughput": 5_000_000 / 8}


def cold_visit(browser, base: str) -> tuple[int, float]:
    """Bytes over the wire and seconds until the trend chart is drawn, in a fresh context (empty cache)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    received: list[float] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    start = time.perf_counter()
    page.goto(base + "/trend?lang=zh")
    page.wait_for_selector("#trend-graph .main-svg .scatterlayer .trace", timeout=120_000)
    elapsed = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    context.close()
    return int(sum(received)), elapsed


def measure(compress: bool, runs: int, database: str) -> tuple[list[int], list[float]]:
    env = {**os.environ, "DATABASE_URL": database, "INNOVATION_MONITOR_COMPRESS": "1" if compress else "0"}
    port = free_port()
    server = start_server(port, env)
    sizes, times = [], []
    try:
        with sync_playwright() as pw:
            for _ in range(runs):
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                size, seconds = cold_visit(browser, f"http://127.0.0.1:{port}")
                browser.close()
                sizes.append(size)
                times.append(seconds)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return sizes, times


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
    for name, (sizes, times) in (("uncompressed (before)", before), ("compressed (after)", after)):
        print(f"  {name:24s} {statistics.median(sizes) / 1e6:6.2f} MB   first chart {statistics.median(times):5.2f} s")
    print(f"  ratio after/before: bytes {statistics.median(after[0]) / statistics.median(before[0]):.2f}, "
          f"time {statistics.median(after[1]) / statistics.median(before[1]):.2f}")


if __name__ == "__main__":
    main()
