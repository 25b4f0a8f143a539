"""Phones are a first-class screen (issue 14): every page at 390 px (and the chart pages at 1366 px), in
both languages, as headless Chromium lays it out; and the figures' phone form, without a browser.

At 390 px no page is wider than the screen, no table cell with text is narrower than 36 px (a table may
scroll inside its own frame; its cells are measured there), no chart's plotting area is narrower than
150 px, and no label of a chart runs past the figure's edge (a bump chart's end labels, a bar's "25.6%").
A phone has no pointer: a tapped point's details show below its chart, and no hover label is cut off.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from indicators import figures

from .support import CHART_DRAWN, settle, wait_for_chart

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
# page -> the charts it draws (each waited for, then measured)
PAGES = {
    "/": [], "/trend": ["trend-graph"], "/gaps": ["gaps-progress", "gaps-pace"],
    "/compare": ["compare-over-time", "compare-latest"], "/data": [], "/methodology": [], "/briefing": [],
    "/upload": [], "/batches": [], "/metadata?indicator=GIHI_RANK": [], "/login": [],
}
CHART_PAGES = [p for p, charts in PAGES.items() if charts]
MIN_CELL, MIN_PLOT = 36, 150

# What a person would see as broken, measured in the page: its width against the screen's, table cells with
# text narrower than MIN_CELL, plotting areas narrower than MIN_PLOT, chart texts beyond their figure.
MEASURE = """([minCell]) => {
    const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const cells = [...document.querySelectorAll('td, th, .dash-cell, .dash-header')]
        .filter(c => visible(c) && c.innerText.trim())
        .map(c => [c.innerText.trim().slice(0, 24), Math.round(c.getBoundingClientRect().width)])
        .filter(([, w]) => w < minCell);
    const charts = [], clipped = [];
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const id = plot.closest('.dash-graph').id;
        charts.push([id, Math.round(plot._fullLayout._size.w), Math.round(plot._fullLayout._size.h)]);
        const box = plot.querySelector('.main-svg').getBoundingClientRect();
        for (const t of plot.querySelectorAll('.textpoint text, text.bartext, .ytick text, .legendtext, .annotation-text')) {
            const r = t.getBoundingClientRect();
            if (r.width && (r.left < box.left - 1 || r.right > box.right + 1)) { clipped.push([id, t.textContent]); }
        }
    }
    return {width: document.documentElement.scrollWidth, screen: window.innerWidth, cells, charts, clipped};
}"""


def _open(page, base: str, path: str, lang: str, viewport: dict) -> None:
    page.set_viewport_size(viewport)  # before loading: a page reads the screen's class once, on load
    page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
    if path == "/login":  # a plain form, not a Dash page
        page.wait_for_load_state()
        return
    settle(page)
    for chart in PAGES.get(path, PAGES.get(path.split("?")[0], [])):
        wait_for_chart(page, chart)


def _check(page, path: str) -> dict:
    seen = page.evaluate(MEASURE, [MIN_CELL])
    assert seen["width"] <= seen["screen"], f"{path}: the page is {seen['width']} px wide on a {seen['screen']} px screen"
    assert not seen["cells"], f"{path}: table cells narrower than {MIN_CELL} px: {seen['cells'][:8]}"
    assert sorted(c[0] for c in seen["charts"]) == sorted(PAGES[path])
    narrow = [c for c in seen["charts"] if c[1] < MIN_PLOT]
    assert not narrow, f"{path}: plotting areas narrower than {MIN_PLOT} px: {narrow}"
    assert not seen["clipped"], f"{path}: chart labels beyond the figure's edge: {seen['clipped'][:8]}"
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_is_usable_on_a_phone(page, app_server, path, lang):
    _open(page, app_server.base, path, lang, PHONE)
    _check(page, path)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", CHART_PAGES)
def test_chart_pages_on_a_laptop(page, app_server, path, lang):
    _open(page, app_server.base, path, lang, LAPTOP)
    _check(page, path)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bump_chart_has_room_on_a_phone_and_names_every_line(page, app_server, lang):
    """The reported case: 76 px of plotting area. On a phone the end labels give way to a legend."""
    _open(page, app_server.base, "/compare?indicator=GIHI_RANK", lang, PHONE)
    plot = "document.querySelector('#compare-over-time .js-plotly-plot')"
    width = page.evaluate(f"() => {plot}._fullLayout._size.w")
    assert width >= 280  # most of the 366 px the figure has
    assert page.locator("#compare-over-time .textpoint").count() == 0  # no end labels to squeeze the plot
    legend = page.locator("#compare-over-time .legendtext").all_text_contents()
    lines = page.evaluate(f"() => {plot}._fullData.filter(t => t.legendgroup !== 'bridge')"
                          ".map(t => t.name.replace(/<br>/g, ''))")  # a legend's lines are one text
    assert lines and set(lines) <= set(legend)
    _open(page, app_server.base, "/compare?indicator=GIHI_RANK", lang, LAPTOP)
    ends = page.locator("#compare-over-time .textpoint text").all_text_contents()
    assert "Beijing" in ends or "北京" in ends  # on a laptop the lines are named at their ends, in full


@pytest.fixture
def phone(browser, app_server):
    """A phone's tab: a touch screen without a pointer."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _tap_last_point(tab, graph: str) -> None:
    point = tab.locator(f"#{graph} .scatterlayer .trace").first.locator("path.point").last
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    tab.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "region", "source"), [("zh", "北京", "来源"), ("en", "Beijing", "Source")])
def test_a_tap_shows_the_points_source_below_the_chart(phone, app_server, lang, region, source):
    phone.goto(f"{app_server.base}/trend?indicator=RD_GDP_RATIO&lang={lang}")
    settle(phone)
    wait_for_chart(phone, "trend-graph")
    panel = phone.locator("#trend-graph-tap")
    hint = panel.inner_text()
    _tap_last_point(phone, "trend-graph")
    phone.wait_for_function("hint => document.querySelector('#trend-graph-tap').innerText !== hint", arg=hint)
    text = panel.inner_text()
    assert text.startswith(region) and "2024" in text and f"{source}:" in text  # the value's publication
    assert phone.locator("#trend-graph .hoverlayer .hovertext").count() == 0  # no label to be cut off
    assert panel.bounding_box()["width"] <= PHONE["width"]


@pytest.mark.browser
def test_a_tap_on_a_bump_chart_names_the_line(phone, app_server):
    phone.goto(f"{app_server.base}/compare?indicator=GIHI_RANK&lang=en")
    settle(phone)
    phone.wait_for_function(CHART_DRAWN, arg="compare-over-time")
    _tap_last_point(phone, "compare-over-time")
    phone.wait_for_function("() => /·/.test(document.querySelector('#compare-over-time-tap').innerText)")
    assert re.fullmatch(r"Beijing · 20\d\d: \d+", phone.locator("#compare-over-time-tap").inner_text())


# The figures' phone form, without a browser.

RANKS = pd.DataFrame({
    "region": ["beijing"] * 3 + ["gba"] * 3 + ["nyc"] * 2,
    "year": [2021, 2022, 2023, 2021, 2022, 2023, 2022, 2023],
    "value": [4, 3, 3, 6, 7, 6, 2, 2],
})
NAMES = {"beijing": "Beijing", "gba": "Guangdong-Hong Kong-Macao Greater Bay Area", "nyc": "New York"}


@pytest.mark.parametrize(("name", "width", "lines"), [
    ("Guangdong-Hong Kong-Macao Greater Bay Area", 18, ["Guangdong-Hong", "Kong-Macao Greater", "Bay Area"]),
    ("San Francisco-San Jose", 24, ["San Francisco-San Jose"]),
    ("Baltimore-Washington (2024)", 16, ["Baltimore-", "Washington", "(2024)"]),
    ("粤港澳大湾区", 18, ["粤港澳大湾区"]),
    ("旧金山湾区-圣何塞都市区", 16, ["旧金山湾区-", "圣何塞都市区"]),
])
def test_region_labels_wrap_in_full(name, width, lines):
    assert figures.region_label(name, width).split("<br>") == lines


def test_bump_chart_on_a_phone_trades_end_labels_for_a_legend():
    wide = figures.bump(RANKS, lang="en", region_names=NAMES, home_region="beijing", title="GIHI · rank over time")
    assert wide.layout.margin.r >= 300 and not wide.layout.showlegend  # a laptop: room for the end labels
    phone = figures.for_phone(figures.bump(RANKS, lang="en", region_names=NAMES, home_region="beijing",
                                           title="GIHI · rank over time"))
    regions = [tr for tr in phone.data if tr.legendgroup != "bridge"]
    assert phone.layout.showlegend and phone.layout.margin.r <= 20
    assert all(tr.mode == "lines+markers" and tr.showlegend for tr in regions)
    assert "Guangdong-Hong Kong-<br>Macao Greater Bay Area" in [tr.name for tr in regions]  # full, on two lines
    assert phone.layout.yaxis.range == wide.layout.yaxis.range  # rank 1 on top, as on a laptop
    assert all(tr.hoverinfo in ("none", "skip") for tr in phone.data)  # a tap shows details below instead
    assert phone.layout.dragmode is False and phone.layout.title.text is None
    assert phone.layout.annotations[-1].text == "GIHI · rank over time"  # the title, anchored above the plot


def test_progress_bars_on_a_phone_keep_short_labels_inside_the_figure():
    rows = pd.DataFrame({"indicator": ["A", "B", "C"], "progress_share": [0.256, 1.2, None],
                         "status": ["insufficient", "achieved", "insufficient_data"]})
    labels = {"A": "R&D personnel density", "B": "Tech contract turnover", "C": "High-tech value added"}
    fig = figures.progress_bars(rows, lang="en", labels=labels, status_labels={"insufficient": "Insufficient"})
    assert "▼ Insufficient · 26%" in fig.data[1].text
    phone = figures.for_phone(fig)
    assert list(phone.data[1].text) == ["", "≥100%", "26%"]  # the share beside the bar; most behind on top
    first = phone.data[1].y[-1]  # the status in words under the indicator's name, where there is room
    assert first.startswith("R&D personnel<br>density<br><span") and first.endswith(">▼ Insufficient</span>")
    assert phone.data[0].y == phone.data[1].y
    assert phone.layout.xaxis.range == (0, 1.35)


def test_trend_chart_on_a_phone_has_a_few_year_ticks_and_short_break_labels():
    series = pd.DataFrame({"region": "beijing", "year": range(2010, 2025), "value": range(15), "flags": None,
                           "source": "NBS", "confidence": "high"})
    editions = [{"year": 2019, "label": "GDP census revision"}, {"year": 2024, "label": "GDP census revision"}]
    fig = figures.for_phone(figures.trend(series, lang="en", indicator_name="R&D", unit_code="percent",
                                          unit_name="%", region_names={"beijing": "Beijing"},
                                          home_region="beijing", editions=editions))
    assert fig.layout.xaxis.dtick is None and fig.layout.xaxis.nticks == 6 and fig.layout.xaxis.title.text is None
    breaks = [a for a in fig.layout.annotations if a.hovertext]
    assert [a.text for a in breaks] == ["break", "break"] and [a.yshift for a in breaks] == [0, -14]
    assert all(a.hovertext == "GDP census revision" for a in breaks)  # the full text is kept
