"""Take screenshots of every page in both languages at a laptop and a phone size (run by `make screenshots`).

Starts the app on a free port against the database configured in the environment (default: the instance
SQLite file; run `innovation-monitor init` first), opens each page in headless Chromium and writes
docs/screenshots/<page>-<lang>-<width>.png.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "overview": "/",
    "trend": "/trend?indicator=RD_GDP_RATIO&regions=beijing,china,shanghai",
    "gaps": "/gaps",
    "compare": "/compare?indicator=GIHI_RANK",
    "data": "/data?indicators=RD_GDP_RATIO",
    "methodology": "/methodology",
    "briefing": "/briefing",
    "batches": "/batches",
    "metadata": "/metadata?indicator=GIHI_RANK",
    "tasks": "/tasks",
    "calendar": "/calendar",
    "changes": "/changes",
    "upload": "/upload",
}
# A flagged value's hover (R&D intensity 2024, flagged b: the GDP-census revision), at the laptop size.
HOVER = ("trend-hover", "/trend?indicator=RD_GDP_RATIO&regions=beijing")
SIZES = [(1366, 768), (390, 844)]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict | None = None, *args: str) -> subprocess.Popen:
    """``innovation-monitor serve`` (two worker processes unless ``args`` say otherwise) once it answers."""
    command = [sys.executable, "-m", "indicators", "serve", "--port", str(port), *(args or ("--workers", "2"))]
    proc = subprocess.Popen(command, cwd=ROOT,
                            env=env or dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the app did not start within 60 s")


def wait_rendered(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('._dash-loading') && "
                           "!document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=30_000)
    page.wait_for_timeout(600)


def hover_shot(page, port: int, lang: str, out: Path) -> Path:
    """The trend chart with the pointer on the home region's latest point: its value, flags, publication."""
    name, address = HOVER
    page.goto(f"http://127.0.0.1:{port}{address}&lang={lang}")
    wait_rendered(page)
    box = page.locator("#trend-graph .scatterlayer .trace").first.locator("path.point").last.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # plotly hovers on mouse moves
    page.wait_for_selector("#trend-graph .hoverlayer .hovertext", timeout=10_000)
    path = out / f"{name}-{lang}-1366.png"
    page.locator("#trend-graph").screenshot(path=str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for width, height in SIZES:
                context = browser.new_context(viewport={"width": width, "height": height},
                                              device_scale_factor=1, locale="zh-CN")
                page = context.new_page()
                for name in args.pages:
                    for lang in ("zh", "en"):
                        sep = "&" if "?" in PAGES[name] else "?"
                        page.goto(f"http://127.0.0.1:{port}{PAGES[name]}{sep}lang={lang}")
                        wait_rendered(page)
                        path = args.out / f"{name}-{lang}-{width}.png"
                        page.screenshot(path=str(path), full_page=width < 800 or name in ("overview", "gaps"))
                        print(path)
                if width > 800:
                    for lang in ("zh", "en"):
                        print(hover_shot(page, port, lang, args.out))
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
