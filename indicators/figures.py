"""Figure builders: pure functions from DataFrames (and options) to ``plotly.graph_objects.Figure``.

What belongs here: every chart the app shows, drawn the same way for the pages, the PNG export and the
CLI, plus the status palette. Not here: data access (callers pass frames in) and export sizes or footers
(``export`` owns those). The status colours are the Okabe-Ito colour-blind-safe palette; every status is
also drawn with an icon and a word, so nothing depends on colour alone.

The trend chart, redrawn on every change of the trend page, is built as plotly's JSON form first
(:func:`trend_spec`, plain dicts and lists: no property validation, tens of milliseconds less per chart);
:func:`trend` is the same figure as a validated ``go.Figure``, and a test keeps the two equal.
"""

from __future__ import annotations

import copy
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from indicators import flags
from indicators.i18n import fmt_number, fmt_value, t
from indicators.progress.caveats import tentative as is_tentative

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
HOME_COLOUR = "#0072B2"
PEER_COLOURS = ["#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999", "#8C6D31"]
TARGET_COLOUR = "#D55E00"
PATH_COLOUR = "#555555"
# Phones: a region name longer than this wraps onto lines of about this many characters (CJK count double).
LABEL_WIDTH = 18
PHONE_TITLE_WIDTH = 34  # a phone's chart title wraps here (CJK: half)
HOVER_COLUMNS = ("flags", "confidence", "citation", "source")  # besides year and value, what a hover says

# status code -> (colour, icon, text colour on the colour)
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "achieved": ("#0072B2", "✔", "#ffffff"),
    "on_track": ("#009E73", "▲", "#ffffff"),
    "within_band": ("#009E73", "◎", "#ffffff"),
    "moderate": ("#F0E442", "◐", "#000000"),
    "insufficient": ("#E69F00", "▼", "#000000"),
    "moving_away": ("#D55E00", "✖", "#ffffff"),
    "above_band": ("#56B4E9", "⬆", "#000000"),
    "below_band": ("#E69F00", "⬇", "#000000"),
    "significant_progress": ("#009E73", "▲", "#ffffff"),
    "moderate_progress": ("#F0E442", "◐", "#000000"),
    "moderate_away": ("#E69F00", "▽", "#000000"),
    "significant_away": ("#D55E00", "✖", "#ffffff"),
    "rank_improved": ("#009E73", "↑", "#ffffff"),
    "rank_unchanged": ("#CCCCCC", "＝", "#000000"),
    "rank_worsened": ("#E69F00", "↓", "#000000"),
    "acceleration_needed": ("#F0E442", "◐", "#000000"),
    "stagnation_or_regression": ("#D55E00", "✖", "#ffffff"),
    "insufficient_data": ("#BBBBBB", "…", "#000000"),
    "not_comparable": ("#D9D9D9", "≠", "#000000"),
    "qualitative": ("#DDDDDD", "ⓘ", "#000000"),
}
DEFAULT_STYLE = ("#BBBBBB", "?", "#000000")

# A small template instead of "plotly_white": assigning a template copies it, and the built-in ones carry
# defaults for every trace type (tens of milliseconds per figure).
TEMPLATE_LAYOUT = {
    "paper_bgcolor": "white", "plot_bgcolor": "white", "colorway": [HOME_COLOUR, *PEER_COLOURS],
    "xaxis": {"gridcolor": "#EBEEF2", "linecolor": "#C9CED6", "ticks": "", "zeroline": False},
    "yaxis": {"gridcolor": "#EBEEF2", "linecolor": "#C9CED6", "ticks": "", "zeroline": False},
    "hovermode": "closest",
}
TEMPLATE = go.layout.Template(layout=TEMPLATE_LAYOUT)


def status_style(status: str) -> tuple[str, str, str]:
    return STATUS_STYLE.get(status, DEFAULT_STYLE)


def _base_layout(title: str | None) -> dict:
    return {
        "font": {"family": FONT_FAMILY, "size": 13, "color": "#222222"},
        "title": {"text": title, "x": 0.01, "xanchor": "left"} if title else None,
        "margin": {"l": 60, "r": 30, "t": 60 if title else 20, "b": 50},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        "hoverlabel": {"font": {"family": FONT_FAMILY}, "align": "left"},  # lines of a source read from the left
        "separators": ".,",
    }


def base_layout(fig: go.Figure, *, title: str | None = None, height: int | None = None) -> go.Figure:
    fig.update_layout(template=TEMPLATE, **_base_layout(title))
    if height:
        fig.update_layout(height=height)
    return fig


def base_layout_spec(*, title: str | None = None) -> dict:
    """:func:`base_layout` as plotly's JSON form of a layout (for a figure built as a dict)."""
    layout = {"template": {"layout": copy.deepcopy(TEMPLATE_LAYOUT)}, **_base_layout(title)}
    if layout["title"] is None:
        del layout["title"]
    return layout


def _phone(fig: go.Figure, *, layout: dict | None = None, traces: dict[int, dict] | None = None,
           annotations: dict[int, dict] | None = None) -> None:
    """Declare how the figure changes on a phone (applied by :func:`for_phone`): layout updates, and trace
    and annotation updates by index. Kept in ``layout.meta`` so a builder states its phone form beside its own."""
    fig.update_layout(meta=_phone_meta(fig.layout.meta, layout=layout, traces=traces, annotations=annotations))


def _phone_meta(meta: dict | None, *, layout: dict | None = None, traces: dict[int, dict] | None = None,
                annotations: dict[int, dict] | None = None) -> dict:
    """``layout.meta`` with the phone form's changes added (:func:`_phone`, for a figure built as a dict)."""
    meta = dict(meta or {})
    phone = dict(meta.get("phone", {}))
    if layout:
        phone["layout"] = {**phone.get("layout", {}), **layout}
    for key, changes in (("traces", traces), ("annotations", annotations)):
        if changes:
            phone[key] = {**phone.get(key, {}), **{str(i): v for i, v in changes.items()}}
    meta["phone"] = phone
    return meta


def for_phone(fig: go.Figure) -> go.Figure:
    """The same figure for a screen about 390 px wide (the page knows the width, the builders do not).

    Everywhere: narrow margins, a wrapped title, about six year ticks instead of one a year and no "year"
    axis title, no pan or zoom (a finger scrolls the page), and no hover labels — a phone has no pointer and
    a label wider than the chart is cut off at its edges: a tap on a point shows its details below the chart
    instead (``dashboards/_phone.py``). Then what the builder declared with :func:`_phone` (a bump chart's
    end labels become a legend, a progress bar's status moves under its name, long region names wrap).
    """
    title = fig.layout.title.text if fig.layout.title else None
    wrapped = _wrap(title, PHONE_TITLE_WIDTH // (2 if _is_cjk(title) else 1)) if title else None
    top = 20 + 18 * (wrapped.count("<br>") + 1) if wrapped else (fig.layout.margin.t or 20)
    fig.update_layout(title=None, margin={"l": 8, "r": 12, "t": top, "b": 36}, dragmode=False,
                      legend={"font": {"size": 11}}, font={"size": 12})
    fig.update_yaxes(automargin=True)
    for axis in fig.select_xaxes():
        if axis.tickformat == "d" and axis.dtick == 1:  # a year axis
            axis.update(dtick=None, nticks=6, title=None)
    for trace in fig.data:
        if trace.hoverinfo != "skip":
            trace.update(hoverinfo="none", hovertemplate=None)
    phone = (fig.layout.meta or {}).get("phone", {})
    if phone.get("layout"):
        fig.update_layout(phone["layout"])
    for index, changes in phone.get("traces", {}).items():
        fig.data[int(index)].update(changes)
    for index, changes in phone.get("annotations", {}).items():
        fig.layout.annotations[int(index)].update(changes)
    if wrapped:  # a title of several lines as an annotation: plotly anchors a multi-line title by its first line
        fig.add_annotation(text=wrapped, xref="paper", x=0, xanchor="left", yref="paper", y=1, yanchor="bottom",
                           yshift=10, align="left", showarrow=False, font={"size": 14})
    return fig


def _is_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E80 for ch in text)


def region_label(name: str, width: int = LABEL_WIDTH) -> str:
    """A region's full name on lines of about ``width`` characters (half as many CJK ones), broken after a
    space or a hyphen or before a bracket: "Guangdong-Hong Kong-Macao Greater Bay Area" in three lines, never
    cut short."""
    width = width // 2 if _is_cjk(name) else width
    if len(name) <= width:
        return name
    parts = re.findall(r"[(（]?[^\s\-(（]+-?\s*|\s+", name)
    if len(parts) == 1:  # nowhere to break (a CJK name): anywhere
        return "<br>".join(name[i:i + width] for i in range(0, len(name), width))
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += part
    lines.append(line.rstrip())
    return "<br>".join(lines)


def _hover(frame: pd.DataFrame, unit_code: str, unit_name: str, lang: str) -> list[str]:
    """Each value's hover: the number with its flags ("6.58 p") and their words, confidence, publication.

    The publication is the ``citation`` column where the caller added one (``Snapshot.with_citations``),
    else the value's source text.
    """
    none = [None] * len(frame)
    return _hover_texts(frame["year"].tolist(), frame["value"].tolist(),
                        frame["flags"].tolist() if "flags" in frame else none, frame["confidence"].tolist(),
                        frame["citation"].tolist() if "citation" in frame else none, frame["source"].tolist(),
                        unit_code, unit_name, lang)


def _hover_texts(years: list, values: list, flag_texts: list, confidences: list, cited: list, sources: list,
                 unit_code: str, unit_name: str, lang: str) -> list[str]:
    """:func:`_hover` of values given as columns (plain lists, one item per value)."""
    src, conf = t("common.source", lang), t("common.confidence", lang)
    width = 34 if lang == "zh" else 60
    texts = []
    for year, value, flag_text, confidence, citation, source in zip(years, values, flag_texts, confidences, cited,
                                                                     sources, strict=True):
        source = str(citation if citation else source)
        if len(source) > 160:  # keep the end: a citation ends with its date
            source = source[:130] + "…" + source[-26:]
        found = flags.codes(flag_text)
        words = "<br>" + ", ".join(f"{c} = {flags.FLAGS[c].pick(lang)}" for c in found) if found else ""
        texts.append(
            f"<b>{year}</b>: {flags.with_flags(fmt_value(value, unit_code, unit_name, lang), flag_text)}"
            f"{words}<br>{conf}: {t('confidence.' + str(confidence), lang)}<br>{src}: {_wrap(source, width)}"
        )
    return texts


def _wrap(text: str, width: int = 60) -> str:
    """Lines of at most ``width`` characters: at spaces where there are any (English), else anywhere (CJK)."""
    if " " in text:
        return "<br>".join(textwrap.wrap(text, width, break_long_words=True))
    return "<br>".join(text[i:i + width] for i in range(0, len(text), width))


def sparkline(series: pd.DataFrame, *, target: float | None = None, target_year: int | None = None,
              rank: bool = False, colour: str = HOME_COLOUR, width: int = 240, height: int = 56) -> str:
    """A small line of one series with its target marked, as SVG text (no axes, for cards).

    Plain SVG rather than a plotly figure: a page shows twenty of them, and an image draws at once where a
    plotly chart costs a script run each.
    """
    series = series.sort_values("year")
    xs, ys = series["year"].astype(float).tolist(), series["value"].astype(float).tolist()
    if target is not None and target_year is not None:
        all_x, all_y = [*xs, float(target_year)], [*ys, float(target)]
    else:
        all_x, all_y = xs, ys
    pad = 6
    x0, x1 = min(all_x), max(all_x)
    y0, y1 = min(all_y), max(all_y)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1

    def px(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def py(y: float) -> float:
        share = (y - y0) / (y1 - y0)
        return pad + (share if rank else 1 - share) * (height - 2 * pad)  # ranks: 1 at the top

    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">',
             f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
             'stroke-linejoin="round" stroke-linecap="round"/>']
    if xs:
        parts.append(f'<circle cx="{px(xs[-1]):.1f}" cy="{py(ys[-1]):.1f}" r="3" fill="{colour}"/>')
    if target is not None and target_year is not None:
        tx, ty = px(float(target_year)), py(float(target))
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{TARGET_COLOUR}" '
                     'stroke-width="1" stroke-dasharray="3,3" opacity="0.7"/>')
        parts.append(f'<path d="M{tx:.1f},{ty - 6:.1f} L{tx + 5:.1f},{ty:.1f} L{tx:.1f},{ty + 6:.1f} '
                     f'L{tx - 5:.1f},{ty:.1f} Z" fill="{TARGET_COLOUR}"/>')
    parts.append("</svg>")
    return "".join(parts)


def trend(series: pd.DataFrame, **options: Any) -> go.Figure:
    """The trend chart as a plotly figure (export, CLI, the compare page): :func:`trend_spec`, validated once."""
    return go.Figure(trend_spec(series, **options))


def trend_spec(
    series: pd.DataFrame,
    *,
    lang: str,
    indicator_name: str,
    unit_code: str,
    unit_name: str,
    region_names: dict[str, str],
    home_region: str,
    milestones: Sequence[dict] = (),
    path: pd.DataFrame | None = None,
    projection: pd.DataFrame | None = None,
    vintages: pd.DataFrame | None = None,
    editions: Sequence[dict] = (),
    rank: bool = False,
    title: str | None = None,
) -> dict:
    """The trend chart as plotly's JSON form (``{"data": [...], "layout": {...}}``, plain Python values): one
    line per region, targets, required path, projection, vintages, edition breaks. What the trend page sends,
    without building and validating plotly objects on every change.

    ``milestones``: dicts with year, value, label and optional band_low / band_high.
    ``path`` / ``projection``: frames with year and value. ``vintages``: earlier versions (year, value,
    source, confidence). ``editions``: dicts with year and label, drawn as breaks on rank charts.
    """
    traces: list[dict] = []
    meta: dict = {}
    columns = _value_columns(series)
    present = set(columns["region"])
    regions = [home_region] + sorted(r for r in present if r != home_region)
    bridges = []
    for n, region in enumerate(r for r in regions if r in present):
        rows = sorted((i for i, r in enumerate(columns["region"]) if r == region), key=lambda i: columns["year"][i])
        years = [columns["year"][i] for i in rows]
        values = [columns["value"][i] for i in rows]
        picked = {c: [columns[c][i] for i in rows] for c in HOVER_COLUMNS}
        hovers = _hover_texts(years, values, picked["flags"], picked["confidence"], picked["citation"],
                              picked["source"], unit_code, unit_name, lang)
        colour = HOME_COLOUR if region == home_region else PEER_COLOURS[n % len(PEER_COLOURS)]
        xs, ys, texts = _gapped(years, values, hovers)
        traces.append({
            "type": "scatter", "x": xs, "y": ys, "name": region_names.get(region, region), "mode": "lines+markers",
            "line": {"color": colour, "width": 3 if region == home_region else 2}, "connectgaps": False,
            "marker": {"size": 8 if region == home_region else 6}, "hovertext": texts, "hoverinfo": "text",
        })
        bridges.append((years, values, colour))
    for years, values, colour in bridges:  # after the regions: the legend lists the regions first
        bridge = _bridge_spec(years, values, colour, lang,
                              named=any(tr.get("legendgroup") == "bridge" for tr in traces))
        if bridge:
            traces.append(bridge)
    if vintages is not None and len(vintages):
        traces.append({
            "type": "scatter", "x": _plain(vintages["year"]), "y": _plain(vintages["value"]),
            "name": t("common.earlier_vintage", lang), "mode": "markers",
            "marker": {"symbol": "circle-open", "size": 11, "color": HOME_COLOUR, "line": {"width": 2}},
            "hovertext": _hover(vintages, unit_code, unit_name, lang), "hoverinfo": "text",
        })
    if path is not None and len(path):
        traces.append({
            "type": "scatter", "x": _plain(path["year"]), "y": _plain(path["value"]),
            "name": t("common.required_path", lang), "mode": "lines",
            "line": {"color": PATH_COLOUR, "dash": "dot", "width": 1.5}, "hoverinfo": "skip",
        })
    if projection is not None and len(projection):
        traces.append({
            "type": "scatter", "x": _plain(projection["year"]), "y": _plain(projection["value"]),
            "name": t("common.projection", lang), "mode": "lines",
            "line": {"color": HOME_COLOUR, "dash": "dash", "width": 1.5}, "opacity": 0.7, "hoverinfo": "skip",
        })
    for m in milestones:
        low, high = m.get("band_low"), m.get("band_high")
        label = f"{t('common.target', lang)} {m['year']}: {m['label']}"
        trace = {
            "type": "scatter", "x": [m["year"]], "y": [m["value"]], "name": label,
            "mode": "markers+text", "text": [m["label"]], "textposition": "top left",  # the last year: text leftwards
            "textfont": {"color": TARGET_COLOUR},
            "marker": {"symbol": "star", "size": 14, "color": TARGET_COLOUR},
            "hovertext": [label], "hoverinfo": "text",
        }
        if low is not None and high is not None and not (math.isnan(low) or math.isnan(high)):
            trace["error_y"] = {"type": "data", "symmetric": False, "array": [high - m["value"]],
                                "arrayminus": [m["value"] - low], "color": TARGET_COLOUR, "thickness": 2, "width": 10}
        traces.append(trace)
        meta = _phone_meta(meta, traces={len(traces) - 1: {"mode": "markers"}})  # a phone: the legend names the target
    shapes, annotations, short = _edition_marks(editions, lang)
    if short:
        meta = _phone_meta(meta, annotations=short)
    layout = base_layout_spec(title=title or indicator_name)
    if shapes:
        layout["shapes"], layout["annotations"] = shapes, annotations
    if meta:
        layout["meta"] = meta
    layout["xaxis"], layout["yaxis"] = _trend_axes(columns["year"], columns["value"], rank=rank, unit_name=unit_name,
                                                   lang=lang)
    return {"data": traces, "layout": layout}


def _trend_axes(years: list, values: list, *, rank: bool, unit_name: str, lang: str) -> tuple[dict, dict]:
    """The trend chart's x and y axes: a tick a year (every other over a long span), ranks from 1 at the top."""
    years = [y for y in years if y is not None]
    span = max(years) - min(years) if years else 0
    xaxis: dict = {"title": {"text": t("common.year", lang)}, "dtick": 1 if span <= 16 else 2, "tickformat": "d"}
    yaxis: dict = {"title": {"text": t("common.rank", lang) if rank else unit_name},
                   "autorange": "reversed" if rank else True, "rangemode": "normal", "zeroline": False}
    values = [v for v in values if v is not None]
    if rank and values:
        # rank 1 on top, never a rank 0 or 0.5 on the axis
        top, bottom = 0.5, float(max(values)) + 0.5  # from rank 1: third place is not drawn at the top
        yaxis.update(autorange=False, range=[bottom, top])
        if bottom <= 16:
            yaxis["dtick"] = 1
    elif len(set(values)) == 1:
        v = float(values[0])
        yaxis["range"] = [v * 0.8, v * 1.2] if v else [-1, 1]  # one value: no hair-splitting ticks
    return xaxis, yaxis


def _plain(column: pd.Series) -> list:
    """A column as a JSON-ready list: Python numbers, None for a missing value."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v for v in column.tolist()]


def _value_columns(series: pd.DataFrame) -> dict[str, list]:
    """The columns of ``series`` the trend chart reads, as lists (a missing flags or citation column: Nones)."""
    none = [None] * len(series)
    return {"region": series["region"].tolist(), "year": _plain(series["year"]), "value": _plain(series["value"]),
            **{c: series[c].tolist() if c in series else none for c in HOVER_COLUMNS}}


def _gapped(years: list, values: list, hovers: list) -> tuple[list, list, list]:
    """One region's points with an empty point for every missing year between its first and last, so a line
    breaks where there are no data instead of joining 2017 to 2022 as if the years between were known (an
    empty point has no hover: plotly draws and hovers nothing there)."""
    if len(years) < 2 or years[-1] - years[0] + 1 == len(years):
        return years, values, hovers
    xs: list = []
    ys: list = []
    texts: list = []
    for n, (year, value, hover) in enumerate(zip(years, values, hovers, strict=True)):
        if n and year - years[n - 1] > 1:
            gap = range(years[n - 1] + 1, year)
            xs += gap
            ys += [None] * len(gap)
            texts += [""] * len(gap)
        xs.append(year)
        ys.append(value)
        texts.append(hover)
    return xs, ys, texts


def _with_gaps(part: pd.DataFrame) -> pd.DataFrame:
    """One region's values with an empty row for every missing year between its first and last, so a line
    breaks where there are no data instead of joining 2017 to 2022 as if the years between were known."""
    years = part["year"].astype(int)
    if len(part) < 2 or years.max() - years.min() + 1 == len(part):
        return part
    missing = sorted(set(range(int(years.min()), int(years.max()) + 1)) - set(years))
    blanks = pd.DataFrame({"year": missing})
    return pd.concat([part, blanks], ignore_index=True).sort_values("year", kind="stable")


def _bridge(fig: go.Figure, part: pd.DataFrame, colour: str, lang: str) -> None:
    """A thin dotted line across each run of missing years, named once in the legend ("no data between")."""
    named = any(getattr(tr, "legendgroup", None) == "bridge" for tr in fig.data)
    bridge = _bridge_spec(_plain(part["year"].astype(int)), _plain(part["value"]), colour, lang, named=named)
    if bridge:
        fig.add_trace(bridge)


def _bridge_spec(years: list, values: list, colour: str, lang: str, *, named: bool) -> dict | None:
    """:func:`_bridge` as a trace dict (None without a missing year); ``named``: the legend names it already."""
    jumps = [(i - 1, i) for i in range(1, len(years)) if years[i] - years[i - 1] > 1]
    if not jumps:
        return None
    xs: list = []
    ys: list = []
    for a, b in jumps:
        xs += [years[a], years[b], None]
        ys += [values[a], values[b], None]
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": {"color": colour, "dash": "dot", "width": 1.2},
            "name": t("common.gap_bridge", lang), "legendgroup": "bridge", "showlegend": not named,
            "hoverinfo": "skip", "opacity": 0.8}


def _edition_lines(fig: go.Figure, editions: Sequence[dict], lang: str) -> None:
    """A dashed line before each series break (a ranking's new field, a GDP revision, a change of scope),
    with a short label; the break's full text in its hover."""
    shapes, annotations, short = _edition_marks(editions, lang, first=len(fig.layout.annotations))
    for shape in shapes:
        fig.add_shape(shape)
    for annotation in annotations:
        fig.add_annotation(annotation)
    if short:
        _phone(fig, annotations=short)


def _edition_marks(editions: Sequence[dict], lang: str, first: int = 0) -> tuple[list[dict], list[dict], dict]:
    """:func:`_edition_lines` as layout shapes, annotations and their phone form (by annotation index, the
    first at ``first``)."""
    prefix = "断点" if lang == "zh" else "break"
    shapes, annotations, short = [], [], {}
    for n, e in enumerate(editions):
        x = e["year"] - 0.5
        shapes.append({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                       "line": {"dash": "dash", "color": "#999999", "width": 1}})
        annotations.append({"x": x, "y": 1, "xref": "x", "yref": "paper", "yanchor": "top", "showarrow": False,
                            "bgcolor": "rgba(255,255,255,0.8)", "text": f"{prefix}: {e['label']}",
                            "font": {"size": 10, "color": "#666666"}, "hovertext": e.get("note", e["label"])})
        # a phone has about 17 px a year: the word alone, alternate breaks one line lower so they do not overlap
        short[first + n] = {"text": prefix, "yshift": -14 * (n % 2)}
    return shapes, annotations, short


def progress_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Target rows from the most behind to the furthest along, those without data last, with ``_share``
    (a met target or a value inside its band counts as 1): the order of the gaps chart and of its table."""
    met = rows["status"].isin(["achieved", "within_band", "above_band"])
    share = rows["progress_share"].where(~(met & rows["progress_share"].isna()), 1.0)
    return rows.assign(_share=share).sort_values("_share", ascending=True, na_position="last", kind="stable")


def progress_bars(rows: pd.DataFrame, *, lang: str, labels: dict[str, str], status_labels: dict[str, str],
                  title: str | None = None) -> go.Figure:
    """Progress share (0 = baseline, 1 = target) per indicator, as a bullet chart, most behind at the top.

    ``rows``: indicator, progress_share, status (one row per indicator and milestone). A target already met
    or a value inside its band draws as a full bar; a share beyond 100 % is drawn at 100 % and labelled.
    """
    rows = progress_order(rows).iloc[::-1]  # plotly draws the first bar at the bottom
    names = [labels.get(i, i) for i in rows["indicator"]]
    colours = [status_style(s)[0] for s in rows["status"]]
    drawn = rows["_share"].clip(lower=0, upper=1).fillna(0)
    # a phone has no room beside the bars for the status: its words go under the indicator's name, the bar keeps
    # the share
    texts, shares, phone_names = [], [], []
    caveats = rows["caveats"] if "caveats" in rows else pd.Series("", index=rows.index)
    tentative = [is_tentative(c, s) for c, s in zip(caveats, rows["status"], strict=True)]
    for name, value, status, weak in zip(names, rows["_share"], rows["status"], tentative, strict=True):
        label = f"{status_style(status)[1]} {status_labels.get(status, status)}"
        share = ""
        if pd.notna(value) and status not in ("within_band", "above_band"):
            share = f"{'≥100' if value >= 1 else fmt_number(value * 100, decimals=0)}%"
            label += f" · {share}"
        words = f"{status_style(status)[1]} {status_labels.get(status, status)}"
        if weak:  # a status on a weak basis is marked, never drawn like a firm one
            label += f" ⚠ {t('common.tentative', lang)}"
            words += f" ⚠ {t('common.tentative', lang)}"
        texts.append(label)
        shares.append(share)
        phone_names.append(f"{region_label(name, 16)}<br><span style=\"font-size:10px;color:#5a6270\">"
                           f"{region_label(words, 24)}</span>")
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=[1] * len(rows), orientation="h", marker={"color": "#EEEEEE"},
                         hoverinfo="skip", showlegend=False, width=0.8))
    fig.add_trace(go.Bar(
        y=names, x=drawn, orientation="h", width=0.45, showlegend=False,
        marker={"color": colours, "line": {"color": "#333333", "width": 0.5},
                # hatched: inside an "about" band, where a share of the distance is not defined
                "pattern": {"shape": ["/" if s in ("within_band", "above_band") else "." if weak else ""
                                      for s, weak in zip(rows["status"], tentative, strict=True)],
                            "fgcolor": "#ffffff", "solidity": 0.3}},
        text=texts, textposition="outside", cliponaxis=False, hoverinfo="text",
        hovertext=[f"{n}: {t}" for n, t in zip(names, texts, strict=True)],
    ))
    fig.add_vline(x=1, line={"color": TARGET_COLOUR, "width": 2})
    base_layout(fig, title=title, height=max(220, 48 * len(rows) + 90))
    fig.update_layout(barmode="overlay", margin={"l": 10, "r": 30})
    fig.update_xaxes(tickformat=".0%", range=[0, 1.6], tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_yaxes(automargin=True)
    lines = sum(n.count("<br>") + 1 for n in phone_names)
    _phone(fig, layout={"xaxis": {"range": [0, 1.35], "tickvals": [0, 0.5, 1]},
                        "height": max(220, 24 * len(rows) + 15 * lines + 110)},
           traces={0: {"y": phone_names}, 1: {"y": phone_names, "text": shares}})
    return fig


def pace_bars(rows: pd.DataFrame, *, lang: str, labels: dict[str, str], title: str | None = None) -> go.Figure:
    """Actual versus required annual growth per indicator, in % a year (compound-growth indicators)."""
    names = [labels.get(i, i) for i in rows["indicator"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=rows["actual_rate"], orientation="h", name=t("gaps.actual", lang),
                         marker={"color": HOME_COLOUR}, texttemplate="%{x:.1f}%", textposition="outside"))
    fig.add_trace(go.Bar(y=names, x=rows["required_rate"], orientation="h", name=t("gaps.required", lang),
                         marker={"color": "#BBBBBB", "pattern": {"shape": "/"}}, texttemplate="%{x:.1f}%",
                         textposition="outside"))
    base_layout(fig, title=title, height=max(260, 60 * len(rows) + 150))  # the legend below takes ~60 px
    fig.update_layout(barmode="group")
    rates = pd.concat([rows["actual_rate"], rows["required_rate"]]).dropna().astype(float)
    low, high = (min(0.0, float(rates.min())), max(0.0, float(rates.max()))) if len(rates) else (0.0, 1.0)
    pad = (high - low or 1.0) * 0.25  # the "12.3%" beside the longest bar stays inside the figure
    fig.update_xaxes(ticksuffix="%", range=[low - (pad if low < 0 else 0), high + pad])
    fig.update_yaxes(automargin=True)
    wrapped = [region_label(n, 16) for n in names]
    _phone(fig, traces={0: {"y": wrapped}, 1: {"y": wrapped}})
    return fig


def bump(series: pd.DataFrame, *, lang: str, region_names: dict[str, str], home_region: str,
         editions: Sequence[dict] = (), title: str | None = None, top: int = 10) -> go.Figure:
    """Rank over time (bump chart): rank 1 at the top, the home region highlighted, edition breaks marked."""
    fig = go.Figure()
    latest = series.sort_values("year").groupby("region").tail(1).sort_values("value")
    # every region of the view is drawn (as in the latest-year chart beside it), the home region first
    order = list(dict.fromkeys([home_region] + latest["region"].tolist()))
    bridges = []
    phone_traces = {}
    for n, region in enumerate(r for r in order if r in set(series["region"])):
        part = series[series["region"] == region].sort_values("year")
        home = region == home_region
        colour = HOME_COLOUR if home else PEER_COLOURS[n % len(PEER_COLOURS)]
        gapped = _with_gaps(part)
        name = region_names.get(region, region)
        fig.add_trace(go.Scatter(
            x=gapped["year"], y=gapped["value"], name=name, mode="lines+markers+text", connectgaps=False,
            line={"color": colour, "width": 4 if home else 1.5},
            marker={"size": 12 if home else 7}, opacity=1 if home else 0.75, cliponaxis=False,
            text=[name if y == part["year"].max() else "" for y in gapped["year"]],
            textposition="middle right", hovertemplate="%{x}: %{y}<extra>" + name + "</extra>",
        ))
        phone_traces[len(fig.data) - 1] = {"mode": "lines+markers", "name": region_label(name, 24), "showlegend": True}
        bridges.append((part, colour))
    for part, colour in bridges:
        _bridge(fig, part, colour, lang)
    _edition_lines(fig, editions, lang)
    base_layout(fig, title=title, height=460)
    worst = float(series["value"].max()) if len(series) else 1.0
    fig.update_yaxes(range=[worst + 0.5, 0.5], autorange=False, title=t("common.rank", lang),
                     dtick=1 if worst <= 20 else None)  # rank 1 on top, the axis always from 1
    fig.update_xaxes(tickformat="d", dtick=1, title=t("common.year", lang))
    longest = max((len(region_names.get(r, r)) for r in order), default=4)
    # room for the longest label at the lines' ends: CJK characters are about twice as wide
    wide = any(ord(ch) > 0x2E80 for r in order for ch in region_names.get(r, r))
    fig.update_layout(showlegend=False, margin={"r": min(60 + longest * (15 if wide else 8), 320)})
    # a phone has no room for end labels beside a plot worth the name: a legend below (two short names a row)
    rows = sum(1 if len(region_names.get(r, r)) > (6 if wide else 12) else 0.5 for r in order)
    _phone(fig, layout={"showlegend": True, "height": 440 + 22 * math.ceil(rows + 1),
                        "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}}, traces=phone_traces)
    return fig


def latest_bars(frame: pd.DataFrame, *, lang: str, region_names: dict[str, str], home_region: str,
                unit_code: str, unit_name: str, rank: bool = False, title: str | None = None) -> go.Figure:
    """Latest-year values of several regions as horizontal bars, the home region highlighted."""
    frame = frame.sort_values("value", ascending=not rank)
    names = [f"{region_names.get(r, r)} ({y})" for r, y in zip(frame["region"], frame["year"], strict=True)]
    colours = [HOME_COLOUR if r == home_region else "#9DB7CF" for r in frame["region"]]
    labels = [fmt_value(v, unit_code, unit_name, lang) for v in frame["value"]]
    hover = [f"<b>{region_names.get(r, r)}</b><br>{h}"
             for r, h in zip(frame["region"], _hover(frame, unit_code, unit_name, lang), strict=True)]
    if rank:  # a rank is a position, not a length: dots on a reversed axis, 1 at the left
        trace = go.Scatter(y=names, x=frame["value"], mode="markers+text", text=labels, textposition="middle right",
                           marker={"color": colours, "size": 14}, cliponaxis=False, hoverinfo="text",
                           hovertext=hover)
    else:
        trace = go.Bar(y=names, x=frame["value"], orientation="h", marker={"color": colours}, text=labels,
                       textposition="outside", cliponaxis=False, hoverinfo="text", hovertext=hover)
    fig = go.Figure(trace)
    base_layout(fig, title=title, height=max(240, 34 * len(frame) + 100))
    fig.update_xaxes(title=t("common.rank", lang) if rank else unit_name)
    if rank:
        fig.update_xaxes(range=[0.5, float(frame["value"].max()) + 1.5], dtick=1 if frame["value"].max() <= 20 else None)
    fig.update_yaxes(automargin=True)
    fig.update_layout(margin={"r": 90})
    wrapped = [region_label(n, 16) for n in names]  # a long name on lines, in full ("Guangdong-Hong / Kong-Macao …")
    lines = sum(w.count("<br>") + 1 for w in wrapped)
    # a value's label inside its bar where it fits: the longest bar's label has no room beyond it on a phone
    _phone(fig, layout={"margin": {"r": 64 if rank else 84}, "height": max(240, 22 * len(frame) + 16 * lines + 100),
                        "xaxis": {"dtick": None, "nticks": 6}},
           traces={0: {"y": wrapped} if rank else {"y": wrapped, "textposition": "auto"}})
    return fig
