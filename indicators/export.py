"""PNG/SVG export: the briefing template (title, finding, target, sources footer) and the render server.

What belongs here: the export rules (sizes, scale, fonts, the footer with sources and dates) and turning a
figure into image bytes. The charts themselves come from ``figures``; the numbers from ``progress``.

Rendering uses kaleido 1.x with Debian's Chromium. One ``RenderServer`` per process drives one browser from one
worker thread (an asyncio event loop owning a ``kaleido.Kaleido``, started on first use). Callers wait for it,
never without a limit: at most ``MAX_WAITING`` wait beyond the one rendering (more are refused at once with
``ExportBusy``), a turn is waited for at most ``WAIT_TIMEOUT``, and a render, starting the browser included,
takes at most ``RENDER_TIMEOUT``. A render that fails, times out or finds its browser gone throws the worker
away, killing the browser's processes, and raises ``ExportFailed``; the next render starts a new browser.
kaleido's own sync server is not used: it waits without a timeout, and its thread cannot be abandoned when the
browser hangs. MathJax is off, and plotly.js is loaded from the installed plotly package, so no network is needed.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go

from indicators.figures import FONT_FAMILY
from indicators.i18n import BilingualError, Text

SCALE = 2
RENDER_TIMEOUT = 30.0  # seconds for one render, starting the browser included; longer counts as a hung browser
WAIT_TIMEOUT = 30.0  # seconds a caller waits for its turn before it is told to come back later
MAX_WAITING = 4  # callers waiting beyond the one rendering; kept well below the server's 8 threads
RETRY_AFTER = 5  # seconds a refused caller is asked to wait (a render takes well under one)
CHECK_EVERY = 0.2  # seconds between checks that the browser still runs while a caller waits for a render
ORDERLY_CLOSE = 2.0  # seconds for a browser that answers to close itself before it is killed
CLEANUP_TIMEOUT = 10.0  # seconds for closing a discarded kaleido (temporary files, pipes, its event loop)

log = logging.getLogger("innovation_monitor.export")


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int


SIZES = {
    "slide": Size("slide", 1280, 720),  # 16:9, 2560 x 1440 pixels at 2x
    "page": Size("page", 960, 600),  # a document page's text width, 1920 x 1200 pixels at 2x
}


NO_BROWSER = Text(
    "无法导出图片:未找到 Chromium 浏览器。请安装:apt-get install -y chromium fonts-noto-cjk",
    "Cannot export images: Chromium was not found. Install it: apt-get install -y chromium fonts-noto-cjk",
)
BUSY = Text("图表导出繁忙,请 {seconds} 秒后重试", "Chart export is busy; try again in {seconds} s")
FAILED = Text("图表导出失败:渲染用的浏览器无响应,正在重启,请 {seconds} 秒后重试",
              "Chart export failed: the rendering browser stopped answering and is restarting; "
              "try again in {seconds} s")


class ExportError(BilingualError):
    """Why no image was made; ``retry_after`` is set (seconds) when the same request may work later."""

    retry_after: int | None = None


class ExportUnavailable(ExportError):
    """No browser to render with; the text says what to install."""

    def __init__(self, detail: str = ""):
        super().__init__(NO_BROWSER, detail)


class ExportBusy(ExportError):
    """Too many renders are waiting, or this one's turn did not come within ``WAIT_TIMEOUT``."""

    def __init__(self, retry_after: int = RETRY_AFTER):
        super().__init__(BUSY.format(seconds=retry_after))
        self.retry_after = retry_after


class ExportFailed(ExportError):
    """The browser died, hung or failed during a render; it has been thrown away and the next render starts anew."""

    def __init__(self, detail: str = "", retry_after: int = RETRY_AFTER):
        super().__init__(FAILED.format(seconds=retry_after), detail)
        self.retry_after = retry_after


class _FreshBrowserFailed(Exception):
    """The first render of a browser just started failed inside kaleido (not a timeout): worth one retry."""

    def __init__(self, error: ExportFailed):
        super().__init__(str(error))
        self.error = error


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _log_briefly(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # what a given-up render or a killed browser leaves behind on its loop: one line, not a traceback
    log.info("render loop: %s %r", context.get("message"), context.get("exception"))


class _Browser:
    """One kaleido (one Chromium, one tab) on an event loop in a thread of its own, thrown away whole on trouble.

    Every call takes a deadline; while waiting, it checks that the browser process still runs, so a killed
    browser is noticed at once and a hung one at the deadline.
    """

    def __init__(self, render_timeout: float):
        self._render_timeout = render_timeout
        self._kaleido: Any = None  # the kaleido.Kaleido, made on the loop by open()
        self._crashed = False  # the tab's renderer process died (the browser itself may live on)
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(_log_briefly)
        self._thread = threading.Thread(target=self._run, name="im-render", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def open(self, deadline: float) -> None:
        self._call(self._open(), deadline)

    async def _open(self) -> None:
        import kaleido

        self._kaleido = kaleido.Kaleido(n=1, timeout=self._render_timeout, mathjax=False)
        await self._kaleido.open()
        for tab in self._kaleido.tabs.values():
            # without this, a render in a crashed tab would wait for the deadline
            tab.get_session().subscribe("Inspector.targetCrashed", self._on_crash)

    async def _on_crash(self, _event: object) -> None:
        self._crashed = True

    def render(self, fig: go.Figure, opts: dict[str, Any], deadline: float) -> bytes:
        return self._call(self._kaleido.calc_fig(fig, opts=opts), deadline)

    def _process(self) -> subprocess.Popen | None:
        # choreographer starts the browser (behind a small wrapper) as the leader of a new session
        return getattr(self._kaleido, "subprocess", None)

    def gone(self) -> bool:
        """Whether the browser process exited or the tab's renderer crashed."""
        process = self._process()
        return self._crashed or (process is not None and process.poll() is not None)

    def _call(self, work: Coroutine[Any, Any, Any], deadline: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        while not future.done():
            left = deadline - time.monotonic()
            if left <= 0 or self.gone():
                future.cancel()
                raise ExportFailed("no answer in time" if left <= 0 else "the browser or its tab died")
            concurrent.futures.wait([future], timeout=min(CHECK_EVERY, left))
        return future.result()

    def shut_down(self) -> None:
        """Close the browser in order (a fraction of a second when it answers), then kill whatever is left.

        Killing first would make kaleido wait seconds for a browser that can no longer answer.
        """
        if not self.gone():
            with contextlib.suppress(Exception):  # no answer in time, or it died meanwhile: killed below
                self._call(self._close(), time.monotonic() + ORDERLY_CLOSE)
        self.discard(wait=True)

    def discard(self, *, wait: bool = False) -> None:
        """Kill the browser's processes now; close kaleido and stop the loop after (in the background)."""
        process = self._process()
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                # the whole process group: the wrapper, the browser, and its zygotes and renderers, orphans too
                os.killpg(process.pid, signal.SIGKILL)
        if wait:
            self._clean_up()
        else:
            threading.Thread(target=self._clean_up, name="im-render-cleanup", daemon=True).start()

    def _clean_up(self) -> None:
        process = self._process()
        with contextlib.suppress(RuntimeError):  # the loop already stopped
            future = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
            concurrent.futures.wait([future], timeout=CLEANUP_TIMEOUT)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLEANUP_TIMEOUT)  # a loop stuck in a blocking call stays behind, as a daemon thread
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(CLEANUP_TIMEOUT)  # reap the killed wrapper: no zombie left

    async def _close(self) -> None:
        if self._kaleido is not None:
            with contextlib.suppress(Exception):  # the browser is dead already: this removes temporary files
                await asyncio.wait_for(self._kaleido.close(), CLEANUP_TIMEOUT / 2)
            self._kaleido = None  # closed: nothing to close again
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1)


class RenderServer:
    """Renders figures in one browser, one at a time, for any number of threads, with a bounded queue.

    ``render`` waits at most ``wait_timeout`` for its turn and ``render_timeout`` for the render; with
    ``max_waiting`` callers already waiting beyond the one rendering, it raises ``ExportBusy`` at once.
    """

    def __init__(self, *, render_timeout: float = RENDER_TIMEOUT, wait_timeout: float = WAIT_TIMEOUT,
                 max_waiting: int = MAX_WAITING):
        self.render_timeout = render_timeout
        self.wait_timeout = wait_timeout
        self.max_waiting = max_waiting
        self._turn = threading.Lock()  # held by the caller whose render runs
        self._state = threading.Lock()  # guards the two fields below
        self._queued = 0  # callers inside render(): the one rendering and those waiting
        self._browser: _Browser | None = None
        atexit.register(self.close)

    @property
    def rendering(self) -> bool:
        """Whether a caller's render is running now."""
        return self._turn.locked()

    def render(self, fig: go.Figure, *, fmt: str, width: int, height: int, scale: float) -> bytes:
        opts = {"format": fmt, "width": width, "height": height, "scale": scale}
        with self._state:
            if self._queued > self.max_waiting:
                raise ExportBusy()
            self._queued += 1
        try:
            if not self._turn.acquire(timeout=self.wait_timeout):
                raise ExportBusy()
            try:
                return self._render_now(fig, opts)
            finally:
                self._turn.release()
        finally:
            with self._state:
                self._queued -= 1

    def _render_now(self, fig: go.Figure, opts: dict[str, Any]) -> bytes:
        deadline = time.monotonic() + self.render_timeout
        try:
            return self._render_once(fig, opts, deadline)
        except _FreshBrowserFailed as failure:
            # A browser just started may fail its first render before kaleido's page has loaded
            # ("kaleido_scopes is not defined"): one more browser, within the same deadline.
            if time.monotonic() >= deadline:
                raise failure.error from failure
            return self._render_once(fig, opts, deadline, retry=False)

    def _render_once(self, fig: go.Figure, opts: dict[str, Any], deadline: float, *, retry: bool = True) -> bytes:
        browser = self._browser
        if browser is not None and browser.gone():  # killed or crashed since the last render: start afresh
            log.warning("the browser died between renders; starting a new one")
            self._discard(browser)
            browser = None
        if browser is None and find_browser() is None:
            raise ExportUnavailable()
        fresh = browser is None
        try:
            if browser is None:
                browser = _Browser(self.render_timeout)
                with self._state:
                    self._browser = browser
                browser.open(deadline)
            return browser.render(fig, opts, deadline)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, this browser is not trusted again
            log.warning("render failed, the browser is killed and replaced: %s",
                        exc.detail if isinstance(exc, ExportFailed) else repr(exc))
            if browser is not None:
                self._discard(browser)
            if find_browser() is None:
                raise ExportUnavailable(str(exc)) from exc
            error = exc if isinstance(exc, ExportFailed) else ExportFailed(f"{type(exc).__name__}: {exc}")
            if retry and fresh and not isinstance(exc, ExportFailed):
                raise _FreshBrowserFailed(error) from exc
            raise error from exc

    def _forget(self, browser: _Browser) -> None:
        with self._state:
            if self._browser is browser:
                self._browser = None

    def _discard(self, browser: _Browser, *, wait: bool = False) -> None:
        self._forget(browser)
        browser.discard(wait=wait)

    def close(self) -> None:
        """Stop the browser in order (at exit, in tests and benchmarks); the next render starts a new one."""
        browser = self._browser
        if browser is not None:
            self._forget(browser)
            browser.shut_down()


SERVER = RenderServer()


def to_image(fig: go.Figure, *, size: str = "slide", fmt: str = "png", scale: float = SCALE) -> bytes:
    """Image bytes of a figure at one of the export sizes (PNG at 2x by default, or SVG)."""
    spec = SIZES[size]
    return SERVER.render(fig, fmt=fmt, width=spec.width, height=spec.height, scale=scale if fmt == "png" else 1)


def briefing_template(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str,
    sources: list[str],
    data_as_of: str,
    lang: str,
    size: str = "slide",
    exported: date | None = None,
    notes: list[str] = (),  # type: ignore[assignment]
    disclosure: str = "",
) -> go.Figure:
    """A copy of ``fig`` dressed for a briefing: big title, one-line finding, footer with the source's
    sponsorship (ⓘ), the caveats of the status (⚠, at most two lines), the publications cited, and dates."""
    exported = exported or date.today()
    out = go.Figure(fig)
    spec = SIZES[size]
    src_label, asof_label, exp_label = (("来源", "数据截至", "导出于") if lang == "zh" else
                                        ("Source", "Data as of", "Exported"))
    width = FOOTER_WIDTH[size]
    caveat = [f"ⓘ {_clip(disclosure, width - 4)}"] if disclosure else []
    caveat += [f"⚠ {_clip(n, width - 4)}" for n in list(dict.fromkeys(notes))[:2]]
    cited = _source_lines(list(dict.fromkeys(s for s in sources if s)), f"{src_label}: ", width, lang)
    lines = [*caveat, *cited, f"{asof_label}: {data_as_of} · {exp_label}: {exported:%Y-%m-%d} · innovation-monitor"]
    # Top: the title and the finding, then the legend; bottom: the year ticks, then the footer lines.
    title_size = 24 if size == "slide" else 20
    top = 40 + int(title_size * 1.25) + 26 + 34
    out.update_layout(
        title={"text": f"<b>{title}</b><br><span style='font-size:0.8em;color:#444'>{subtitle}</span>",
               "x": 0.02, "xanchor": "left", "y": 1 - 40 / spec.height, "yref": "container",
               "yanchor": "top", "font": {"size": title_size}},
        font={"family": FONT_FAMILY, "size": 15 if size == "slide" else 13},
        margin={"l": 80, "r": 40, "t": top, "b": 56 + FOOTER_LINE * len(lines) + 14},
        width=spec.width, height=spec.height, paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0, "font": {"size": 13}},
    )
    out.update_xaxes(title=None)  # the ticks are years: the footer needs the room more than "年份" does
    out.add_annotation(text="<br>".join(lines), xref="paper", yref="paper", x=0, y=0, yshift=-50,
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font={"size": 11, "color": "#555555"})
    return out


FOOTER_LINE = 16  # px per footer line at 11 px
FOOTER_WIDTH = {"slide": 200, "page": 150}  # in half-width characters (a CJK character counts two)
FOOTER_SOURCE_LINES = 4


def _width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _clip(text: str, width: int) -> str:
    """``text`` on one footer line of ``width`` half-width characters, "…" where cut."""
    lead = "\u2003" if str(text).startswith("\u2003") else ""  # a continuation line's indent
    text = lead + " ".join(str(text).split())
    if _width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += 2 if ord(ch) >= 0x2E80 else 1
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def _source_lines(sources: list[str], label: str, width: int, lang: str) -> list[str]:
    """Every source, "; "-separated, filling up to :data:`FOOTER_SOURCE_LINES` lines; what does not fit is
    counted ("+3 more"), never silently dropped."""
    lines: list[str] = []
    current = label
    shown = 0
    for n, source in enumerate(sources):
        piece = _clip(source, width - _width(label))
        joined = current + ("; " if current != label else "") + piece
        if _width(joined) <= width:
            current = joined
            shown = n + 1
            continue
        lines.append(current)
        if len(lines) == FOOTER_SOURCE_LINES:
            current = ""
            break
        current = "\u2003" + piece
        shown = n + 1
    if current:
        lines.append(current)
    rest = len(sources) - shown
    if rest > 0:
        lines[-1] = _clip(lines[-1], width - 12) + (f" 等另{rest}项" if lang == "zh" else f" +{rest} more")
    return lines[:FOOTER_SOURCE_LINES]


def file_name(subject: str, *, lang: str, size: str, fmt: str, regions: list[str] | None = None,
              years: tuple[int, int] | None = None, day: date | None = None) -> str:
    """A download's file name that says what it holds: "RD_GDP_RATIO_beijing-china_2015-2024_zh_slide_2026-12-01.png"
    (regions and years only where the view chose them; codes only, so every system can save it)."""
    parts = [subject]
    if regions:
        parts.append("-".join(regions[:6]) + ("-etc" if len(regions) > 6 else ""))
    if years:
        parts.append(f"{years[0]}-{years[1]}")
    parts += [lang, size, f"{day or date.today():%Y-%m-%d}"]
    return "_".join(parts) + f".{fmt}"


def parse_years(text: object) -> tuple[int, int] | None:
    """"2015,2024" as (2015, 2024); anything else (not two four-digit years in order) as None."""
    found = re.fullmatch(r"\s*(\d{4})\s*[,-]\s*(\d{4})\s*", str(text or ""))
    if not found:
        return None
    start, end = int(found[1]), int(found[2])
    return (start, end) if start <= end else None


