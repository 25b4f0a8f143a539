"""The indicator metadata page: the publications table as data (no browser), and the page in headless Chromium.

The shipped catalog records no series break yet, so the browser tests serve the app with a copy of the shipped
catalog that gives one indicator a break, a release rhythm and a sponsorship note (marked as test data); the
database is the session's seeded one, as everywhere.
"""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
import yaml
from playwright.sync_api import Page, expect

from indicators import queries
from indicators import snapshot as snapshots
from indicators.metadata import PUBLICATION_COLUMNS, date_text, publication_rows, publications_behind, year_ranges

from .conftest import serving
from .support import CATALOG_DIR, settle

CODE = "RD_GDP_RATIO"
BREAK = {"year": 2019, "kind": "gdp_census_revision", "source": "test fixture - not a catalog entry",
         "text": {"zh": "测试断点:第四次全国经济普查后地区生产总值修订", "en": "Test break: regional GDP revised after the fourth economic census"}}
SPONSORSHIP = {"zh": "测试说明:此处记录资助或委托来源", "en": "Test note: who commissioned the source goes here"}
RELEASE = {"zh": "测试:每年9月,统计公报", "en": "Test: each September, in the communiqué"}

# The publications behind R&D intensity, in date order (the shipped data: data/observations, publications.yaml).
RD_PUBLICATIONS = """publication_id,date_basis,date,years,regions,values
nbs-rd-communique-2010,stated,2011-09-28,2010,全国,1
nbs-rd-communique-2014,stated,2015-11-23,2014,全国,1
nbs-rd-prelim-2017,stated,2018-02-13,2017,全国,1
nbs-rd-communique-2018,stated,2019-08-30,2018,北京,1
nbs-rd-communique-2019,stated,2020-08-27,2019,北京、全国、上海,3
nbs-rd-communique-2020,stated,2021-09-22,2020,北京、全国、广东、上海,4
bjrb-2022-09-rd2021,repost_bound,不晚于2022-09-10,2021,北京,1
nbs-rd-communique-2022,stated,2023-09-18,2022,北京、全国、广东、上海,4
nbs-rd-communique-2023,stated,2024-10-02,2023,北京、全国、广东、上海,4
gd-rd-communique-2023,repost_bound,不晚于2024-11-14,2023,深圳,1
chinaorgcn-2025-01-06-jjj-innovation,stated,2025-01-06,2013,北京,1
nbs-jjj-index-2024,stated,2025-12-25,2024,北京,1
paper-kjcx-bj-xdhjjtx,unknown,发布日期不详,"2010, 2016",北京,2
"""


# The publications table as data, on a seeded SQLite database.


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_publications_behind_rd_intensity(snap):
    frame = publications_behind(snap, CODE, "zh")
    assert list(frame.columns) == PUBLICATION_COLUMNS
    expected = pd.read_csv(StringIO(RD_PUBLICATIONS), dtype=str).astype({"values": "int64"})
    # the rows of these publications, in this order (the curators may add others beside them)
    got = frame[frame["publication_id"].isin(expected["publication_id"])][expected.columns].reset_index(drop=True)
    got = got.astype({"values": "int64"})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # every current value is counted once, under the publication it cites
    assert frame["values"].sum() == len(snap.series(CODE))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_publication_row_carries_its_addresses_in_the_language_asked(snap):
    zh = publications_behind(snap, CODE, "zh").set_index("publication_id")
    en = publications_behind(snap, CODE, "en").set_index("publication_id")
    row = zh.loc["nbs-rd-communique-2018"]
    assert row["title"] == "2018年全国科技经费投入统计公报"
    assert row["publisher"] == "国家统计局;科学技术部;财政部"
    assert row["kind"] == "statistical_communique"
    assert row["read_at"][0] == "https://cernet.edu.cn/rd/gao_xiao_cheng_guo/tjzl/201909/t20190902_1681071.shtml"
    assert row["cited_as"] == ["https://window-to-china.eu/2019/10/23/beijings-rd-spending-is-at-6-17-of-gdp/"]
    assert en.loc["nbs-rd-communique-2018", "title"].startswith("Statistical Communiqué on National Expenditures")
    assert en.loc["nbs-rd-communique-2020", "supplies"] == "Beijing, China, Guangdong, Shanghai: 2020"
    assert en.loc["bjrb-2022-09-rd2021", "date"] == "not after 2022-09-10"
    # several values cite the 2019 communiqué with different source texts: each text is kept, once
    values = snap.series(CODE)
    texts = values.loc[values["publication_id"] == "nbs-rd-communique-2019", "source"]
    assert len(texts) == 3 and texts.nunique() > 1
    assert sorted(zh.loc["nbs-rd-communique-2019", "cited_as"]) == sorted(set(texts))


def test_values_without_a_publication_are_grouped_by_their_source():
    observations = pd.read_csv(StringIO("""indicator,region,year,publication_id,published_on,source
X,beijing,2020,,2021-03-01,upload A
X,beijing,2021,,,upload A
X,china,2021,,,upload B
X,beijing,2022,p1,,cited p1
Y,beijing,2022,p1,,not this indicator
"""), dtype={"publication_id": object, "published_on": object})
    publications = pd.DataFrame([{"id": "p1", "publisher_zh": "甲", "publisher_en": "A", "title_zh": "标题",
                                  "title_en": "Title", "kind": "yearbook", "published_on": None,
                                  "date_basis": "unknown", "official_url": None, "read_at": "[]", "notes": None}])
    frame = publication_rows(observations, publications, "X", "en", home="beijing")
    assert frame[["publication_id", "title", "date", "years", "values"]].to_dict("records") == [
        {"publication_id": None, "title": None, "date": "2021-03-01", "years": "2020–2021", "values": 2},
        {"publication_id": "p1", "title": "Title", "date": "date of publication unknown", "years": "2022", "values": 1},
        {"publication_id": None, "title": None, "date": "date of publication unknown", "years": "2021", "values": 1},
    ]
    assert frame["cited_as"].tolist() == [["upload A"], ["cited p1"], ["upload B"]]
    assert publication_rows(observations, publications, "Z", "zh").empty


@pytest.mark.parametrize(("years", "text"), [
    ([2010], "2010"), ([2013, 2014, 2015, 2016], "2013–2016"), ([2018, 2010, 2014, 2013], "2010, 2013–2014, 2018"),
    ([2020, 2020, 2021], "2020–2021"),
])
def test_year_ranges(years, text):
    assert year_ranges(years) == text


@pytest.mark.parametrize(("published_on", "basis", "lang", "text"), [
    ("2011-09-28", "stated", "zh", "2011-09-28"), ("2011-09-28", "from_address", "en", "2011-09-28"),
    ("2019-10-17", "repost_bound", "zh", "不晚于2019-10-17"), ("2019-10-17", "repost_bound", "en", "not after 2019-10-17"),
    (None, "unknown", "zh", "发布日期不详"), (None, "unknown", "en", "date of publication unknown"),
    (None, "stated", "en", "date of publication unknown"),
])
def test_date_text(published_on, basis, lang, text):
    assert date_text(published_on, basis, lang) == text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_shipped_publication_cited_by_a_value_is_a_publication_record(seeded_engine):
    """A title on the page for every cited publication: no value cites an id the publications table lacks."""
    cited = set(queries.observations(seeded_engine)["publication_id"].dropna())
    assert cited <= set(queries.publications(seeded_engine)["id"])


# The page in the browser.


def catalog_with_break(folder: Path) -> Path:
    """A copy of the shipped catalog in which R&D intensity has a series break, a release rhythm and a sponsor."""
    shutil.copytree(CATALOG_DIR, folder)
    path = folder / "indicators" / f"{CODE}.yaml"
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry["breaks"] = [*entry.get("breaks", []), BREAK]
    entry["release"] = RELEASE
    entry["sponsorship"] = SPONSORSHIP
    path.write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, seeded_sqlite):
    folder = tmp_path_factory.mktemp("metadata-app")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INNOVATION_MONITOR_CATALOG", str(catalog_with_break(folder / "catalog")))
        with serving(folder, seeded_sqlite) as server:
            yield server.base


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    settle(page)


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "name", "break_text", "title", "sponsor", "heading"), [
    ("zh", "全社会研发经费支出占地区生产总值比重", BREAK["text"]["zh"], "2020年全国科技经费投入统计公报",
     SPONSORSHIP["zh"], "数值所依据的出版物"),
    ("en", "Gross R&D expenditure as share of regional GDP", BREAK["text"]["en"],
     "Statistical Communiqué on National Expenditures on Science and Technology in 2020", SPONSORSHIP["en"],
     "Publications behind the values"),
])
def test_metadata_page_in_both_languages(page, app_url, lang, name, break_text, title, sponsor, heading):
    open_page(page, f"{app_url}/metadata?indicator={CODE}&lang={lang}")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#metadata-sponsorship")).to_contain_text(sponsor)
    expect(page.locator("#metadata-about-release")).to_have_text(RELEASE[lang])
    expect(page.locator("#metadata-breaks-table")).to_contain_text(break_text)
    expect(page.locator("#metadata-breaks-table")).to_contain_text("2019")
    expect(page.locator("#metadata-publications h2")).to_have_text(heading)
    row = page.locator("#metadata-publications-table .im-meta-row", has_text=title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2021-09-22")
    other = "Publication" if lang == "zh" else "出版物"  # the other language's words are not on the page
    expect(page.locator("#metadata-publications-table .im-meta-head")).not_to_contain_text(other)
    expect(page.locator("#navbar")).to_contain_text("总览" if lang == "zh" else "Overview")


@pytest.mark.browser
def test_a_bound_date_says_so(page, app_url):
    open_page(page, f"{app_url}/metadata?indicator={CODE}&lang=en")
    row = page.locator("#metadata-publications-table .im-meta-row", has_text="not after 2022-09-10")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("bound by the earliest repost or citation")
    expect(row).to_contain_text("Beijing: 2021")


@pytest.mark.browser
def test_overview_card_leads_to_the_metadata_page(page, app_url):
    open_page(page, f"{app_url}/?lang=en")
    page.locator(f"#meta-card-{CODE}").click()
    page.wait_for_url(f"**/metadata?**indicator={CODE}**")
    settle(page)
    assert "lang=en" in page.url
    expect(page.locator("h1")).to_have_text("Gross R&D expenditure as share of regional GDP")


@pytest.mark.browser
def test_gaps_row_leads_to_the_metadata_page(page, app_url):
    open_page(page, f"{app_url}/gaps?lang=zh")
    row = page.locator("table tr", has_text="研发投入强度")
    row.first.locator(".im-meta-link").click()
    page.wait_for_url(f"**/metadata?**indicator={CODE}**")
    settle(page)
    expect(page.locator("h1")).to_have_text("全社会研发经费支出占地区生产总值比重")


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "message"), [
    ("zh", "没有代码为“NO_SUCH_CODE”的指标"), ("en", "There is no indicator with the code 'NO_SUCH_CODE'"),
])
def test_unknown_code_says_so_and_lists_every_indicator(page, app_url, catalog, lang, message):
    open_page(page, f"{app_url}/metadata?indicator=NO_SUCH_CODE&lang={lang}")
    expect(page.locator("#metadata-unknown")).to_contain_text(message)
    links = page.locator("#metadata-index a")
    expect(links).to_have_count(len(catalog.indicators))
    page.locator(f"#metadata-index-{CODE}").click()
    page.wait_for_url(f"**indicator={CODE}**")
    settle(page)
    expect(page.locator("#metadata-breaks-table")).to_contain_text(BREAK["text"][lang])


@pytest.mark.browser
@pytest.mark.parametrize(("path", "link"), [
    ("/trend?indicator=GIHI_RANK", "#trend-metadata-link"), ("/compare?indicator=GIHI_RANK", "#compare-metadata-link"),
    ("/data?indicators=GIHI_RANK", "#data-metadata-GIHI_RANK"),
])
def test_trend_compare_and_data_pages_link_their_indicator(page, app_url, path, link):
    open_page(page, f"{app_url}{path}&lang=en")
    page.locator(link).click()
    page.wait_for_url("**/metadata?**indicator=GIHI_RANK**")
    settle(page)
    assert "lang=en" in page.url
    expect(page.locator("h1")).to_have_text("Global Innovation Hubs Index overall rank")
    expect(page.locator("#metadata-editions")).to_be_visible()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_goal_in_words_has_no_publications_section(snap):
    import app  # noqa: F401 - registers the pages, as when served
    from dashboards import metadata as metadata_page

    goal = str(metadata_page.render(snap, "GOAL_2035", "en"))
    assert "metadata-targets" in goal and "metadata-publications" not in goal
    assert "metadata-publications" in str(metadata_page.render(snap, CODE, "en"))
