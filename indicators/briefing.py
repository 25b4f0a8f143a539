"""Briefing output: a single indicator chart as a ready-to-paste image, and a whole briefing pack (zip).

What belongs here: choosing what goes in a briefing and packing it (one PNG per indicator, the overview
scorecard as a PNG, the status table as an Excel-friendly CSV, an index in Markdown and HTML listing each
chart with its finding and sources). Charts come from ``views``/``figures``, image rules from ``export``.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from indicators import export, flags, progress, tables, views
from indicators.figures import FONT_FAMILY, status_style
from indicators.i18n import fmt_value, rate_unit_words
from indicators.snapshot import Snapshot

STATUS_COLUMNS = [
    "indicator", "region", "milestone_year", "target", "qualifier", "baseline_year", "baseline_value",
    "latest_year", "latest_value", "gap", "progress_share", "actual_rate", "required_rate",
    "required_rate_from_latest", "ratio", "status", "expected_at_target", "attainment_year", "stale",
    "method_disagreement", "baseline_basis", "baseline_confidence", "latest_confidence", "latest_flags",
    "series_breaks", "caveats",
]


@dataclass
class Chart:
    indicator: str
    title: str
    finding: str
    sources: list[str]
    figure: go.Figure
    caveats: list[str] = field(default_factory=list)  # what the status rests on, as sentences
    disclosure: str = ""  # who sponsored the source (GIHI, Nature Index supplements), where that bears on it


def data_as_of(snap: Snapshot) -> str:
    if snap.as_of is not None:
        return snap.as_of.isoformat()
    if len(snap.batches):
        return pd.Timestamp(snap.batches["created_at"].max()).strftime("%Y-%m-%d")
    return "–"


def indicator_chart(snap: Snapshot, indicator: str, *, lang: str, regions: list[str] | None = None,
                    size: str = "slide", years: tuple[int, int] | None = None, vintages: bool = False) -> Chart:
    """The trend chart of one indicator in the briefing template: the trend page's view (regions, years,
    earlier vintages) as the page draws it."""
    view = views.trend_view(snap, indicator, lang=lang, regions=regions, years=years, vintages=vintages)
    sentence = views.finding(snap, indicator, lang)
    sources = snap.citations(view.series, lang)
    notes = caveat_sentences(view.assessment, lang)
    disclosure = sponsorship(snap, indicator, lang)
    fig = export.briefing_template(view.figure, title=view.title, subtitle=sentence, sources=sources,
                                   data_as_of=data_as_of(snap), lang=lang, size=size, notes=notes,
                                   disclosure=disclosure)
    return Chart(indicator=indicator, title=view.title, finding=sentence, sources=sources, figure=fig, caveats=notes,
                 disclosure=disclosure)


def sponsorship(snap: Snapshot, indicator: str, lang: str) -> str:
    """The indicator's sponsorship disclosure, first sentence, prefixed ("资助说明:…"); "" when it has none."""
    text = snap.catalog.indicators[indicator].sponsorship
    if text is None:
        return ""
    words = text.pick(lang)
    first = words.split("。")[0] + "。" if lang == "zh" else words.split("; ")[0].split(". ")[0].rstrip(".") + "."
    return ("资助说明:" if lang == "zh" else "Sponsorship: ") + first


def caveat_sentences(rows: pd.DataFrame, lang: str) -> list[str]:
    """The caveats of an indicator's assessment rows, each sentence once (several milestones share them)."""
    sentences = [s for _, row in rows.iterrows() for s in progress.caveat_sentences(row, lang)]
    return list(dict.fromkeys(sentences))


def gaps_chart(snap: Snapshot, *, lang: str, pillar: str | None = None, milestone: int | None = None,
               size: str = "slide") -> Chart:
    """The progress bullet chart of the target-gap page in the briefing template."""
    rows = views.gap_rows(snap, pillar, milestone)
    fig, _ = views.gap_figures(snap, rows, lang)
    counts = rows["status"].value_counts()
    parts = [f"{progress.status_label(s, lang)} {n}" for s, n in counts.items()]
    title = ("目标差距" if lang == "zh" else "Gap to target") + (f" · {milestone}" if milestone else "")
    sources = [plan_citation(snap, tg.plan, lang) for code in rows["indicator"]
               for tg in snap.catalog.indicators[code].targets if tg.qualifier != "none"]
    fig = export.briefing_template(fig, title=title, subtitle=("; " if lang == "en" else ";").join(parts),
                                   sources=sources, data_as_of=data_as_of(snap), lang=lang, size=size)
    return Chart(indicator="gaps", title=title, finding="; ".join(parts), sources=list(dict.fromkeys(sources)), figure=fig)


def compare_chart(snap: Snapshot, indicator: str, *, lang: str, regions: list[str] | None = None,
                  size: str = "slide") -> Chart:
    """The compare page's chart over time (bump chart for ranks) in the briefing template."""
    drawn = views.compare_figures(snap, indicator, regions, lang)
    if drawn is None:
        return indicator_chart(snap, indicator, lang=lang, regions=regions, size=size)
    over_time, _, series = drawn
    title = views.chart_title(snap, indicator, lang)
    sentence = views.finding(snap, indicator, lang)
    sources = snap.citations(series, lang)
    home = snap.catalog.programme.home_region
    a = snap.assessment
    notes = caveat_sentences(a[(a["indicator"] == indicator) & (a["region"] == home)], lang)
    disclosure = sponsorship(snap, indicator, lang)
    fig = export.briefing_template(over_time, title=title, subtitle=sentence, sources=sources,
                                   data_as_of=data_as_of(snap), lang=lang, size=size, notes=notes,
                                   disclosure=disclosure)
    return Chart(indicator=indicator, title=title, finding=sentence, sources=sources, figure=fig, caveats=notes,
                 disclosure=disclosure)


def plan_citation(snap: Snapshot, plan: str, lang: str) -> str:
    """A plan as its citation: issuer《name》, date published."""
    p = snap.catalog.plans[plan]
    if lang == "en":
        return f"{p.issuer.en}, “{p.name.en}”, {p.published}"
    return f"{p.issuer.zh}《{p.name.zh.strip('《》')}》,{p.published}"


def scorecard(snap: Snapshot, *, lang: str, pillar: str | None = None, indicators: list[str] | None = None) -> go.Figure:
    """The scorecard a commission can hand over: every indicator of the selection (those without data too),
    by pillar and, within a pillar, worst status first; latest value with its flags, target, status (⚠ when
    tentative); titled, dated and sourced. Its height follows its rows (``scorecard_height``)."""
    catalog = snap.catalog
    cells = scorecard_cells(snap, scorecard_rows(snap, pillar=pillar, indicators=indicators), lang)
    header = (["领域", "指标", "最新值", "目标", "状态"] if lang == "zh"
              else ["Pillar", "Indicator", "Latest", "Target", "Status"])
    white = ["#ffffff"] * len(cells)
    fig = go.Figure(go.Table(
        columnwidth=[2, 3, 2.2, 3.2, 2.4],
        header={"values": [f"<b>{h}</b>" for h in header], "fill_color": "#123b63",
                "font": {"color": "white", "size": 15}, "align": "left", "height": 34},
        cells={"values": [cells[c].tolist() for c in SCORECARD_CELLS], "align": "left", "height": 30,
               "fill_color": [white, white, white, white, [_tint(c) for c in cells["colour"]]], "font": {"size": 13}},
    ))
    title = catalog.programme.name.pick(lang) + (" · 目标进展记分卡" if lang == "zh" else " · Scorecard")
    sub = (f"数据截至 {data_as_of(snap)} · 导出于 {date.today():%Y-%m-%d} · 来源:各指标出处文献(见简报索引)· "
           "⚠ 暂定:状态依据较弱" if lang == "zh" else
           f"Data as of {data_as_of(snap)} · exported {date.today():%Y-%m-%d} · sources: each indicator's "
           "publications (see the pack index) · ⚠ tentative: the status rests on a weak basis")
    fig.update_layout(font={"family": FONT_FAMILY},
                      title={"text": f"<b>{title}</b><br><span style='font-size:0.7em;color:#444'>{sub}</span>",
                             "x": 0.015, "xanchor": "left", "font": {"size": 20}},
                      margin={"l": 20, "r": 20, "t": 90, "b": 20})
    return fig


SCORECARD_CELLS = ["pillar", "name", "latest", "target", "status"]


def scorecard_cells(snap: Snapshot, rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The scorecard's words for its rows (``scorecard_rows``), one text column per :data:`SCORECARD_CELLS`
    (the latest value with its flags and year, "no data" where there is none; the target with its milestone;
    the status with its icon, ⚠ when tentative) and the status ``colour``: the scorecard image and the work
    report's tables say the same."""
    catalog = snap.catalog
    pillars = {p.code: p.name.pick(lang) for p in catalog.programme.pillars}
    out: dict[str, list[str]] = {k: [] for k in [*SCORECARD_CELLS, "colour"]}
    for r in rows.itertuples(index=False):
        ind = catalog.indicators[r.indicator]
        unit = catalog.units[ind.unit].name.pick(lang)
        out["pillar"].append(pillars.get(ind.pillar, ind.pillar))
        out["name"].append(ind.short_name.pick(lang))
        if pd.notna(r.latest_year):
            value = flags.with_flags(fmt_value(r.latest_value, ind.unit, unit, lang), r.latest_flags)
            out["latest"].append(f"{value} ({int(r.latest_year)})")
        else:
            out["latest"].append("无数据" if lang == "zh" else "no data")
        if r.qualifier == "none" or pd.isna(r.qualifier):
            out["target"].append("–")
        else:
            out["target"].append(views.target_wording(ind, r.plan, lang)
                                 + (f" ({int(r.milestone_year)})" if pd.notna(r.milestone_year) else ""))
        colour, icon, _ = status_style(r.status)
        weak = f" ⚠ {'暂定' if lang == 'zh' else 'tentative'}" if progress.tentative(r.caveats, r.status) else ""
        out["status"].append(f"{icon} {progress.status_label(r.status, lang)}{weak}")
        out["colour"].append(colour)
    return pd.DataFrame(out, index=rows.index, dtype=object)


def scorecard_height(n_rows: int) -> int:
    """The scorecard image's height for its rows: title, header and 30 px a row, nothing cut off."""
    return 90 + 34 + 31 * max(n_rows, 1) + 40


def scorecard_rows(snap: Snapshot, *, pillar: str | None = None, indicators: list[str] | None = None) -> pd.DataFrame:
    """One assessment row per indicator of the selection (the 2025 milestone where there is one), those
    without data included, ordered by pillar, then worst status first."""
    catalog = snap.catalog
    codes = [ind.code for ind in catalog.ordered_indicators() if ind.kind != "qualitative"
             and (not pillar or ind.pillar == pillar) and (not indicators or ind.code in set(indicators))]
    a = snap.assessment
    rows = a[(a["region"] == catalog.programme.home_region) & a["indicator"].isin(codes)]
    rows = rows.assign(_next=rows["milestone_year"].fillna(9999).sub(2025).abs())
    rows = rows.sort_values(["indicator", "_next"]).drop_duplicates("indicator")
    pillar_order = {p.code: n for n, p in enumerate(catalog.programme.pillars)}
    rows = rows.assign(_pillar=rows["pillar"].map(pillar_order), _worst=-rows["status_rank"].astype(float))
    return rows.sort_values(["_pillar", "_worst", "indicator"]).drop(columns=["_next", "_pillar", "_worst"])


def _tint(colour: str) -> str:
    """A light version of a status colour, so black text stays readable on it."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(c + (255 - c) * 0.55):02x}" for c in (r, g, b))


def charted_indicators(snap: Snapshot, pillar: str | None = None, indicators: list[str] | None = None) -> list[str]:
    """The indicators a pack draws: numeric ones with data for the home region, in catalog order."""
    catalog = snap.catalog
    codes = [ind.code for ind in catalog.ordered_indicators() if ind.kind != "qualitative"]
    if pillar:
        codes = [c for c in codes if catalog.indicators[c].pillar == pillar]
    if indicators:
        codes = [c for c in codes if c in set(indicators)]
    home = catalog.programme.home_region
    with_data = set(snap.observations.loc[snap.observations["region"] == home, "indicator"])
    return [c for c in codes if c in with_data]


def build_pack(snap: Snapshot, *, lang: str, pillar: str | None = None, indicators: list[str] | None = None,
               regions: list[str] | None = None, size: str = "slide",
               on_progress: Callable[[int, int, str], None] | None = None) -> bytes:
    """A zip: one PNG per indicator, scorecard.png, status.csv (UTF-8 with BOM), index.md and index.html."""
    codes = charted_indicators(snap, pillar, indicators)
    total = len(codes) + 2
    buffer = io.BytesIO()
    entries = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, code in enumerate(codes, start=1):
            if on_progress:
                on_progress(n, total, code)
            chart = indicator_chart(snap, code, lang=lang, regions=regions, size=size)
            name = f"{n:02d}-{code}.png"
            zf.writestr(name, export.to_image(chart.figure, size=size))
            entries.append((name, chart))
        if on_progress:
            on_progress(total - 1, total, "scorecard")
        card = scorecard(snap, lang=lang, pillar=pillar, indicators=indicators)
        height = scorecard_height(len(scorecard_rows(snap, pillar=pillar, indicators=indicators)))
        card.update_layout(height=height, width=1280)
        zf.writestr("scorecard.png", export.SERVER.render(card, fmt="png", width=1280, height=height, scale=2))
        zf.writestr("status.csv", tables.csv_bytes(status_table(snap, codes, lang)))
        zf.writestr("index.md", index_markdown(snap, entries, lang))
        zf.writestr("index.html", index_html(snap, entries, lang))
        if on_progress:
            on_progress(total, total, "done")
    return buffer.getvalue()


# The pack's status table: column -> (Chinese header, English header, decimals; None: text as it is).
STATUS_TABLE: dict[str, tuple[str, str, int | None]] = {
    "indicator": ("指标代码", "Indicator code", None), "indicator_name": ("指标", "Indicator", None),
    "region": ("地区代码", "Region code", None), "milestone_year": ("目标年份", "Milestone", 0),
    "target": ("目标值", "Target", 2), "qualifier": ("目标类型", "Target kind", None),
    "baseline_year": ("基期年份", "Baseline year", 0), "baseline_value": ("基期值", "Baseline", 2),
    "baseline_label": ("基期说明", "Baseline basis", None), "latest_year": ("最新年份", "Latest year", 0),
    "latest_value": ("最新值", "Latest value", 2), "latest_flags": ("标记", "Flags", None),
    "latest_confidence": ("可信度", "Confidence", None), "gap": ("差距", "Gap", 2),
    "progress_share": ("完成进度(%)", "Progress (%)", 0), "actual_rate": ("实际年均变化", "Actual annual change", 2),
    "required_rate": ("所需年均变化", "Required annual change", 2), "rate_unit": ("变化单位", "Rate unit", None),
    "ratio": ("实际/所需(R)", "Actual / required (R)", 2), "status_label": ("状态", "Status", None),
    "status": ("状态代码", "Status code", None), "attainment_year": ("预计达标年份", "Year reached", 0),
    "series_breaks": ("序列断点", "Series breaks", None), "caveat_text": ("提示", "Caveats", None),
}


def status_table(snap: Snapshot, codes: list[str], lang: str) -> pd.DataFrame:
    """The status of every indicator of the pack, headed in the pack's language, numbers rounded as people
    write them (2 decimals; years and the progress share whole)."""
    home = snap.catalog.programme.home_region
    a = snap.assessment
    rows = a[a["indicator"].isin(codes) & (a["region"] == home)].copy()
    rows["indicator_name"] = rows["indicator"].map(lambda c: snap.catalog.indicators[c].name.pick(lang))
    rows["status_label"] = rows["status"].map(lambda s: progress.status_label(s, lang))
    rows["baseline_label"] = [progress.baseline_label(r, lang) for _, r in rows.iterrows()]
    rows["caveat_text"] = [" ".join(progress.caveat_sentences(r, lang)) for _, r in rows.iterrows()]
    rows["progress_share"] = rows["progress_share"].astype(float) * 100
    rows["rate_unit"] = rows["rate_unit"].map(lambda u: rate_unit_words(u, lang))
    out = pd.DataFrame(index=rows.index)
    for col, (zh, en, decimals) in STATUS_TABLE.items():
        values = rows[col]
        if decimals is not None:
            values = pd.to_numeric(values, errors="coerce").astype(float).round(decimals)
            values = values.astype("Int64") if decimals == 0 else values
        out[zh if lang == "zh" else en] = values
    return out.reset_index(drop=True)


def index_markdown(snap: Snapshot, entries: list[tuple[str, Chart]], lang: str) -> str:
    title = snap.catalog.programme.name.pick(lang)
    head = "简报图表" if lang == "zh" else "Briefing charts"
    lines = [f"# {title} · {head}", "", f"{'数据截至' if lang == 'zh' else 'Data as of'}: {data_as_of(snap)} · "
             f"{'导出于' if lang == 'zh' else 'Exported'}: {date.today():%Y-%m-%d}", "",
             "![scorecard](scorecard.png)", ""]
    for name, chart in entries:
        lines += [f"## {chart.title}", "", chart.finding, "", f"![{chart.indicator}]({name})", ""]
        if chart.disclosure:
            lines += [f"> {_md_text(chart.disclosure)}", ""]
        if chart.caveats:
            lines += [("提示:" if lang == "zh" else "Caveats:")] + [f"- ⚠ {_md_text(c)}" for c in chart.caveats] + [""]
        lines += [("来源:" if lang == "zh" else "Sources:")]
        lines += [f"- {_md_text(s)}" for s in chart.sources] + [""]
    return "\n".join(lines)


def _md_text(text: str) -> str:
    """Source text from uploads, safe in Markdown viewers that render HTML."""
    return html.escape(str(text), quote=False).replace("[", "\\[").replace("]", "\\]")


def index_html(snap: Snapshot, entries: list[tuple[str, Chart]], lang: str) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><meta charset='utf-8'>",
             f"<title>{esc(snap.catalog.programme.name.pick(lang))}</title>",
             "<body style='font-family: \"Noto Sans CJK SC\", sans-serif; max-width: 1000px; margin: auto'>",
             f"<h1>{esc(snap.catalog.programme.name.pick(lang))}</h1>",
             f"<p>{'数据截至' if lang == 'zh' else 'Data as of'}: {esc(data_as_of(snap))}</p>",
             "<img src='scorecard.png' style='width:100%'>"]
    for name, chart in entries:
        parts += [f"<h2>{esc(chart.title)}</h2><p>{esc(chart.finding)}</p>",
                  f"<img src='{esc(name)}' style='width:100%'>",
                  f"<p><b>{esc(chart.disclosure)}</b></p>" if chart.disclosure else "",
                  "".join(f"<p style='color:#6b4e00'>⚠ {esc(c)}</p>" for c in chart.caveats),
                  "<ul>" + "".join(f"<li>{esc(s)}</li>" for s in chart.sources) + "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)
