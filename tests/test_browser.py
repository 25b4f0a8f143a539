"""The dashboard in real headless Chromium, as a user drives it (Playwright with Debian's chromium).

The app runs as ``innovation-monitor serve`` in a subprocess on a seeded SQLite database (the session's
``app_server``, which these tests only read); nothing is mocked. These tests run in CI; a missing browser is
a failure, not a skip.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .support import settle, wait_for_chart

pytestmark = pytest.mark.browser


@pytest.fixture
def app_url(app_server) -> str:
    return app_server.base


def chart_title(page: Page, title_id: str = "trend-title") -> str:
    """The chart's title as shown above the chart, once the chart is drawn."""
    wait_for_chart(page, "trend-graph")
    locator = page.locator(f"#{title_id}")
    expect(locator).not_to_be_empty(timeout=15_000)
    return locator.text_content()


def pick(page: Page, dropdown_id: str, text: str) -> None:
    """Choose an option of a dcc.Dropdown by typing part of its label, as a user does."""
    page.locator(f"#{dropdown_id}").click()
    page.keyboard.insert_text(text.split(" · ")[-1])  # what a user types: the distinctive part of the name
    option = page.get_by_role("option", name=text, exact=True)
    expect(option.first).to_be_visible(timeout=15_000)
    option.first.click()
    page.keyboard.press("Escape")


@pytest.mark.parametrize(("path", "heading"), [
    ("/", "规划目标总览"), ("/trend", "指标趋势"), ("/gaps", "目标差距"), ("/compare", "对标比较"),
    ("/data", "数据明细"), ("/methodology", "方法说明"), ("/briefing", "简报导出"), ("/metadata", "指标元数据"),
])
def test_every_page_opens_in_chinese(page, app_url, path, heading):
    page.goto(app_url + path)
    settle(page)
    expect(page.locator("h1").first).to_contain_text(heading)
    expect(page.locator("#navbar")).to_contain_text("总览")


def test_language_switch_is_remembered(page, app_url):
    page.goto(app_url + "/trend?indicator=TECH_CONTRACT_TURNOVER")
    settle(page)
    assert chart_title(page).startswith("技术合同成交额")
    page.locator("#lang-switch").click()
    page.wait_for_url("**lang=en**")
    settle(page)
    expect(page.locator("h1")).to_have_text("Indicator trend")
    assert chart_title(page).startswith("Technology contract turnover")
    assert "indicator=TECH_CONTRACT_TURNOVER" in page.url
    page.goto(app_url + "/gaps")  # no lang in the link: the remembered choice applies
    page.wait_for_url("**lang=en**")
    settle(page)
    expect(page.locator("h1")).to_have_text("Gap to target")


def test_trend_controls_change_chart_and_url_and_reload_reproduces(page, app_url):
    page.goto(app_url + "/trend?lang=zh")
    settle(page)
    assert chart_title(page).startswith("全社会研发经费支出占地区生产总值比重")
    pick(page, "trend-indicator", "世界主要科学中心 · 基础研究占比")
    page.wait_for_function("() => document.querySelector('#trend-title')?.textContent.startsWith('基础研究经费占研发经费比重')")
    pick(page, "trend-regions", "全国")
    page.wait_for_function("() => [...document.querySelectorAll('#trend-graph .legendtext')].some(e => e.textContent === '全国')")
    assert "indicator=BASIC_RESEARCH_SHARE" in page.url and "regions=beijing%2Cchina" in page.url.replace(",", "%2C")
    why = page.locator("#trend-why").inner_text()
    assert "处于目标区间" in why  # 16.6 % in 2022 against "about 17 %" (16.15-17.85)
    assert "首个观测值 2021年(无2020年数值)" in why and "数据可能已过时" in why  # what the status rests on
    copied = page.url
    page.goto("about:blank")
    page.goto(copied)
    settle(page)
    assert chart_title(page).startswith("基础研究经费占研发经费比重")
    legend = [e.text_content() for e in page.locator("#trend-graph .legendtext").all()]
    assert "北京" in legend and "全国" in legend


def test_year_range_from_the_url_limits_the_chart(page, app_url):
    page.goto(app_url + "/trend?indicator=TECH_CONTRACT_TURNOVER&years=2015,2020&lang=en")
    settle(page)
    wait_for_chart(page, "trend-graph")
    years = page.evaluate("() => Array.from(document.querySelector('#trend-graph .js-plotly-plot')._fullData[0].x)"
                          ".map(Number)")
    assert min(years) >= 2015 and max(years) <= 2020 and 2015 in years


def test_sources_table_lists_every_point_with_confidence(page, app_url):
    page.goto(app_url + "/trend?indicator=RD_GDP_RATIO&lang=zh")
    settle(page)
    rows = page.locator("#trend-sources tbody tr")
    expect(rows).to_have_count(10)
    assert "国家统计局 2025-12-25" in page.locator("#trend-sources").inner_text()


def test_overview_card_leads_to_its_trend_page(page, app_url):
    page.goto(app_url + "/?lang=zh")
    settle(page)
    expect(page.locator("#card-TECH_CONTRACT_TURNOVER")).to_contain_text("8,536.9亿元")
    page.locator("#card-TECH_CONTRACT_TURNOVER").click()
    page.wait_for_url("**/trend?**indicator=TECH_CONTRACT_TURNOVER**")
    settle(page)
    assert chart_title(page).startswith("技术合同成交额")


def test_data_page_downloads_the_visible_rows_as_csv(page, app_url):
    page.goto(app_url + "/data?indicators=RD_GDP_RATIO&regions=beijing&lang=zh")
    settle(page)
    expect(page.locator("#data-count")).to_have_text("10 行")
    with page.expect_download() as info:
        page.locator("#data-csv").click()
    content = Path(info.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese correctly
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 10
    # headed in the page's language, with the upload fields' names (so the file uploads again)
    assert {r["年份"]: r["数值"] for r in rows}["2024"] in ("6.58", "6.58\r")
    assert all(r["来源"] for r in rows)


def test_compare_page_draws_ranks_with_rank_one_on_top(page, app_url):
    page.goto(app_url + "/compare?indicator=GIHI_RANK&lang=en")
    settle(page)
    wait_for_chart(page, "compare-over-time")
    low, high = page.evaluate("() => document.querySelector('#compare-over-time .js-plotly-plot')._fullLayout.yaxis.range")
    assert low > high  # reversed: rank 1 at the top
    assert "Beijing" in page.locator("#compare-latest").inner_text()


def test_trend_chart_downloads_as_a_briefing_png(page, app_url):
    from PIL import Image

    page.goto(app_url + "/trend?indicator=TECH_CONTRACT_TURNOVER&lang=en")
    settle(page)
    with page.expect_download() as info:
        page.locator("#trend-export-slide-png").click()
    name = info.value.suggested_filename  # what the view shows: indicator, regions, years, language, size, date
    assert re.fullmatch(r"TECH_CONTRACT_TURNOVER_beijing_\d{4}-\d{4}_en_slide_\d{4}-\d{2}-\d{2}\.png", name), name
    with Image.open(info.value.path()) as image:
        assert image.size == (2560, 1440)


def test_briefing_page_builds_a_pack_with_progress(page, app_url):
    import zipfile

    page.goto(app_url + "/briefing?pillar=science&lang=zh")
    settle(page)
    page.locator("#brief-build").click()
    expect(page.locator("#brief-download")).to_be_visible(timeout=90_000)
    with page.expect_download() as info:
        page.locator("#brief-download").click()
    with zipfile.ZipFile(info.value.path()) as zf:
        names = zf.namelist()
    assert "index.md" in names and "scorecard.png" in names and any(n.endswith("RD_GDP_RATIO.png") for n in names)


def test_export_errors_are_plain_text(page, app_url):
    response = page.request.get(app_url + "/export/chart?view=trend&indicator=NOPE")
    assert response.status == 404 and "未知指标" in response.text()


def test_trend_offers_a_csv_of_its_view_and_a_citation_and_no_cloud_button(page, app_url):
    page.goto(app_url + "/trend?indicator=RD_GDP_RATIO&regions=beijing,china&years=2015,2024&lang=zh")
    settle(page)
    wait_for_chart(page, "trend-graph")
    link = page.locator("#trend-export-csv")
    expect(link).to_have_text("下载CSV(当前视图)")
    response = page.request.get(app_url + link.get_attribute("href"))
    assert response.ok and "RD_GDP_RATIO_beijing-china_2015-2024_zh" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body().decode("utf-8-sig"))))
    assert rows and {r["地区"] for r in rows} == {"北京", "全国"}
    assert all(2015 <= int(r["年份"]) <= 2024 for r in rows)  # exactly the years of the view
    assert all(r["出处文献"] for r in rows)  # each value's publication
    expect(page.locator("#trend-citation")).to_contain_text("数据截至")
    page.locator("#trend-graph").hover()  # the toolbar shows on hover
    expect(page.locator("#trend-graph .modebar-btn").first).to_be_attached()
    titles = page.locator("#trend-graph .modebar-btn").evaluate_all("els => els.map(e => e.dataset.title || '')")
    assert titles and not [t for t in titles if "Share" in t or "Cloud" in t or "Studio" in t], titles


def test_statuses_are_explained_where_they_are_shown(page, app_url):
    """A legend opens on a tap (touch has no hover); every badge carries its numbers; a class without a
    target is drawn as an outline, not like "on track"."""
    page.goto(app_url + "/gaps?lang=zh")
    settle(page)
    legend = page.locator("#gaps-legend")
    legend.locator("summary").click()
    expect(legend).to_contain_text("“左右”目标")  # the band statuses' descriptions
    expect(legend).to_contain_text("暂定")
    titles = page.locator("#gaps-body table .im-badge").evaluate_all("els => els.map(e => e.title)")
    assert any("R = " in t and "基期" in t and "目标" in t for t in titles), titles
    assert any("容差 ±1" in t for t in titles)  # R&D intensity's band
    page.goto(app_url + "/?lang=en")
    settle(page)
    untargeted = page.locator(".im-badge-untargeted").first
    expect(untargeted).to_contain_text("progress")
    assert untargeted.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    page.locator("#overview-legend summary").click()
    expect(page.locator("#overview-legend")).to_contain_text("No target")
