"""PNG/SVG export: the briefing template (title, finding, target, sources footer) and the render server.

What belongs here: the export rules (sizes, scale, fonts, the footer with sources and dates) and turning a
figure into image bytes. The charts themselves come from ``figures``; the numbers from ``progress``.

Rendering uses kaleido 1.x with Debian's Chromium: one persistent kaleido server per process, started on
first use, guarded by a lock (kaleido's sync server is not thread-safe), restarted once if it died.
MathJax is off, and plotly.js is loaded from the installed plotly package, so no network is needed.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go

from indicators.figures import FONT_FAMILY
from indicators.i18n import BilingualError, Text

SCALE = 2


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


class ExportUnavailable(BilingualError):
    """No browser to render with; the text says what to install."""

    def __init__(self, detail: str = ""):
        super().__init__(NO_BROWSER, detail)


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class RenderServer:
    """One kaleido server per process: lazy start, serialised calls, one restart if it died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._started = False

    def _start(self) -> None:
        import kaleido

        if find_browser() is None:
            raise ExportUnavailable()
        kaleido.start_sync_server(n=1, timeout=120, mathjax=False, silence_warnings=True)
        self._started = True

    def _stop(self) -> None:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
        self._started = False

    def render(self, fig: go.Figure, *, fmt: str, width: int, height: int, scale: float) -> bytes:
        import kaleido

        opts = {"format": fmt, "width": width, "height": height, "scale": scale}
        with self._lock:
            if not self._started:
                self._start()
            try:
                return kaleido.calc_fig_sync(fig, opts=opts)
            except ExportUnavailable:
                raise
            except Exception:  # noqa: BLE001 - the browser may have died: restart once, then give up
                self._stop()
                self._start()
                try:
                    return kaleido.calc_fig_sync(fig, opts=opts)
                except Exception as exc:
                    if find_browser() is None:
                        raise ExportUnavailable(str(exc)) from exc
                    raise

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._stop()


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
) -> go.Figure:
    """A copy of ``fig`` dressed for a briefing: big title, one-line finding, footer with sources and dates."""
    exported = exported or date.today()
    out = go.Figure(fig)
    spec = SIZES[size]
    src_label, asof_label, exp_label = (("来源", "数据截至", "导出于") if lang == "zh" else
                                        ("Source", "Data as of", "Exported"))
    unique_sources = list(dict.fromkeys(s for s in sources if s))
    per_line = 150 if size == "slide" else 110
    lines = [_shorten(s, per_line - 4) for s in unique_sources[:2]]
    more = f" (+{len(unique_sources) - 2})" if len(unique_sources) > 2 else ""
    shown = "<br>".join(f"{src_label}: {line}" for line in lines) + more
    footer = f"{shown}<br>{asof_label}: {data_as_of} · {exp_label}: {exported:%Y-%m-%d} · innovation-monitor"
    out.update_layout(
        title={"text": f"<b>{title}</b><br><span style='font-size:0.8em;color:#444'>{subtitle}</span>",
               "x": 0.02, "xanchor": "left", "y": 0.965, "yref": "container", "yanchor": "top",
               "font": {"size": 24 if size == "slide" else 20}},
        font={"family": FONT_FAMILY, "size": 15 if size == "slide" else 13},
        margin={"l": 80, "r": 40, "t": 130, "b": 165 if size == "slide" else 150},
        width=spec.width, height=spec.height, paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
    )
    out.add_annotation(text=footer, xref="paper", yref="paper", x=0, y=0, yshift=-(110 if size == "slide" else 100),
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font={"size": 11, "color": "#555555"})
    return out


def _shorten(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"
