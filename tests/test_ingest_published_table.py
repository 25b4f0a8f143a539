"""Tables as communiqués and yearbooks print them (layout ``published``): a title with the year, one row per
region, one column per indicator with its unit in brackets, dashes for missing cells, notes at the bottom.

The tables are under data/ingest/published: the shape of the regional table of the NBS R&D communiqué, with
the values this project ships for China, Beijing, Shanghai and Guangdong (a dash where it ships none); the
rows no shipped value backs are marked as test data in the file's name and note. Loaded through the command
line on a real SQLite database (a copy of the seeded one) and through the upload page in Chromium.
"""

from __future__ import annotations

import json
from io import StringIO

import pandas as pd
import pytest
from playwright.sync_api import expect

from indicators import db, queries, users
from indicators.ingest import IngestOptions, parse_path

from .support import INGEST_DATA, YEARS, database_dump, invoke, settle

PUBLISHED = INGEST_DATA / "published"
BAD = PUBLISHED / "bad"
SOURCE = "国家统计局等《全国科技经费投入统计公报》地区表(测试 test)"
PASSWORD = "correct horse battery"
on_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

# file -> (encoding detected, values missing, the values it loads)
LOADED = {
    "rd-by-region-2022-utf8-bom.csv": ("utf-8-sig", 1, """indicator,region,year,value,unit
RD_EXPENDITURE,beijing,2022,2843.3,100 million yuan
RD_EXPENDITURE,china,2022,30782.9,100 million yuan
RD_EXPENDITURE,shanghai,2022,1981.6,100 million yuan
RD_GDP_RATIO,beijing,2022,6.83,%
RD_GDP_RATIO,china,2022,2.54,%
RD_GDP_RATIO,guangdong,2022,3.42,%
RD_GDP_RATIO,shanghai,2022,4.44,%
"""),
    "rd-by-region-2023-gb18030.csv": ("gb18030", 3, """indicator,region,year,value,unit
RD_EXPENDITURE,china,2023,33357.1,100 million yuan
RD_GDP_RATIO,beijing,2023,6.73,%
RD_GDP_RATIO,china,2023,2.65,%
RD_GDP_RATIO,guangdong,2023,3.54,%
RD_GDP_RATIO,shanghai,2023,4.34,%
"""),
    # billion yuan in the heading, converted to the catalog's 亿元
    "rd-by-region-2023-english-utf8.csv": ("utf-8", 2, """indicator,region,year,value,unit
RD_EXPENDITURE,china,2023,33357.1,100 million yuan
RD_GDP_RATIO,beijing,2023,6.73,%
RD_GDP_RATIO,china,2023,2.65,%
RD_GDP_RATIO,shanghai,2023,4.34,%
"""),
}

# bad file -> the problems it reports (severity, line, column, value, code) and words of the first message
REJECTED = {
    "no-year-in-title.csv": ("""severity,row,column,value,code
error,1,,各地区研究与试验发展(R&D)经费情况,TABLE_YEAR_MISSING
""", "没有(唯一的)年份", "names no single year"),
    "unknown-heading-test-data.csv": ("""severity,row,column,value,code
error,3,R&D研究人员(万人),R&D研究人员,INDICATOR_UNKNOWN
""", "未知指标“R&D研究人员”", "Unknown indicator 'R&D研究人员'"),
    "unit-contradicts.csv": ("""severity,row,column,value,code
error,3,R&D经费投入强度(件),2.65,UNIT_MISMATCH
error,4,R&D经费投入强度(件),4.34,UNIT_MISMATCH
""", "单位“件”与该指标的单位“%”不一致", "Unit '件' does not match the indicator's unit '%'"),
    "unknown-region-test-data.csv": ("""severity,row,column,value,code
error,5,地区,测试省(测试数据),REGION_UNKNOWN
""", "未知地区“测试省(测试数据)”", "Unknown region '测试省(测试数据)'"),
}


def _env(seeded_url: str, tmp_path) -> dict:
    return {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}


def _ingest(env: dict, path, *options: str) -> tuple[int, dict]:
    result = invoke("ingest", str(path), "--source", SOURCE, "--confidence", "high", *options, "--format", "json",
                    env=env)
    return result.returncode, json.loads(result.stdout)[0]


def _problems(report: dict) -> pd.DataFrame:
    frame = pd.DataFrame(report["problems"], columns=["severity", "row", "column", "value", "code"])
    return frame.astype(object).where(frame.notna(), "").astype(str)


@on_sqlite
@pytest.mark.parametrize("name", sorted(LOADED))
def test_cli_loads_the_table_as_published_with_year_unit_and_source(name, seeded_url, tmp_path):
    encoding, missing, expected = LOADED[name]
    code, outcome = _ingest(_env(seeded_url, tmp_path), PUBLISHED / name)
    assert code == 0 and outcome["status"] == "loaded", outcome["report"]["problems"]
    facts, counts = outcome["report"]["file"], outcome["report"]["counts"]
    assert (facts["encoding"], facts["layout"], facts["year"]) == (encoding, "published", int(name[13:17]))
    assert facts["notes"] and facts["notes"][0].lower().startswith(("注", "\"note", "note"))
    assert counts["missing"] == missing and counts["errors"] == 0  # dashes: skipped, neither zeros nor errors
    engine = db.make_engine(seeded_url)
    try:
        stored = queries.observations(engine)
    finally:
        engine.dispose()
    loaded = stored[stored["batch"] == outcome["batch"]]
    assert (loaded["source"] == SOURCE).all() and (loaded["confidence"] == "high").all()
    pd.testing.assert_frame_equal(
        loaded[["indicator", "region", "year", "value", "unit"]].reset_index(drop=True),
        pd.read_csv(StringIO(expected)),
    )


@on_sqlite
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_a_bad_table_is_rejected_naming_line_column_and_reason(name, seeded_url, tmp_path):
    expected, zh, en = REJECTED[name]
    engine = db.make_engine(seeded_url)
    before = database_dump(engine)
    code, outcome = _ingest(_env(seeded_url, tmp_path), BAD / name)
    assert code == 1 and outcome["status"] == "rejected"
    report = outcome["report"]
    problems = _problems(report)
    pd.testing.assert_frame_equal(
        problems[problems["code"] != "CONFIDENCE_DEFAULTED"].reset_index(drop=True),
        pd.read_csv(StringIO(expected), dtype=str, keep_default_na=False),
    )
    first = next(p for p in report["problems"] if p["severity"] == "error")
    assert zh in first["message_zh"] and en in first["message_en"]
    assert database_dump(engine) == before
    engine.dispose()


# (year option, file) -> the year of its values, or the problem
YEAR_OPTION = [
    (None, "rd-by-region-2023-gb18030.csv", 2023),
    (2023, "rd-by-region-2023-gb18030.csv", 2023),  # the option agrees with the title
    (2022, "rd-by-region-2023-gb18030.csv", "TABLE_YEAR_CONFLICT"),
    (2023, "bad/no-year-in-title.csv", 2023),  # the option gives what the title does not
    (None, "bad/no-year-in-title.csv", "TABLE_YEAR_MISSING"),
]


@pytest.mark.parametrize(("year", "name", "expected"), YEAR_OPTION)
def test_the_year_comes_from_the_title_or_the_option_and_they_must_agree(year, name, expected, catalog):
    options = IngestOptions(source=SOURCE, year=year, year_range=YEARS)
    report = parse_path(PUBLISHED / name, catalog, None, options).report
    if isinstance(expected, int):
        assert report.ok and report.file["year"] == expected
        return
    assert report.codes() == [expected] and report.fatal
    problem = report.problems.iloc[0]
    assert problem["row"] == 1 and "--year" in problem["message_en"] and "--year" in problem["message_zh"]


@on_sqlite
def test_cli_year_that_contradicts_the_title_changes_nothing(seeded_url, tmp_path):
    engine = db.make_engine(seeded_url)
    before = database_dump(engine)
    code, outcome = _ingest(_env(seeded_url, tmp_path), PUBLISHED / "rd-by-region-2023-gb18030.csv", "--year", "2022")
    assert code == 1 and outcome["report"]["problem_codes"] == {"TABLE_YEAR_CONFLICT": 1}
    message = outcome["report"]["problems"][0]
    assert "2022" in message["message_zh"] and "2023" in message["message_zh"]
    assert "does not agree with the year 2023" in message["message_en"]
    assert database_dump(engine) == before
    engine.dispose()


# The upload page, in Chromium.


@pytest.fixture(scope="module")
def server(own_app_server):
    engine = db.make_engine(own_app_server.database_url)
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
    finally:
        engine.dispose()
    return {"base": own_app_server.base, "url": own_app_server.database_url}


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login?next=/upload")
    page.fill("#name", "editor1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/upload")
    settle(page)


@pytest.mark.browser
def test_upload_page_takes_a_gb18030_table_as_published_and_commits_it(page, server):
    _sign_in(page, server["base"])
    page.fill("#upload-source", SOURCE)
    page.press("#upload-source", "Enter")
    page.set_input_files("#upload-file input[type=file]", str(PUBLISHED / "rd-by-region-2023-gb18030.csv"))
    facts = page.locator("#upload-facts")
    expect(facts).to_contain_text("gb18030", timeout=20_000)
    expect(facts).to_contain_text("公布的统计表")  # the layout, in the page's language
    expect(facts).to_contain_text("5 数值")
    expect(facts).to_contain_text("3 缺失(跳过)")
    rows = page.locator("#upload-rows").inner_text()
    assert "研发投入强度" in rows and "上海" in rows and "2023" in rows
    page.click("#upload-commit")
    expect(page.locator("#upload-committed")).to_be_visible(timeout=20_000)
    engine = db.make_engine(server["url"])
    try:
        stored = queries.observations(engine, indicator="RD_GDP_RATIO", region="shanghai")
    finally:
        engine.dispose()
    latest = stored.set_index("year").loc[2023]
    assert latest["value"] == 4.34 and latest["source"] == SOURCE


@pytest.mark.browser
def test_upload_page_year_field_gives_the_year_a_title_lacks(page, server):
    before = database_dump_of(server["url"])
    _sign_in(page, server["base"])
    page.fill("#upload-source", SOURCE)
    page.press("#upload-source", "Enter")
    page.set_input_files("#upload-file input[type=file]", str(BAD / "no-year-in-title.csv"))
    expect(page.locator("#upload-problems")).to_contain_text("没有(唯一的)年份", timeout=20_000)
    expect(page.locator("#upload-commit-area")).to_be_hidden()
    page.fill("#upload-year", "2023")
    page.press("#upload-year", "Enter")
    expect(page.locator("#upload-commit-area")).to_be_visible(timeout=20_000)
    expect(page.locator("#upload-problems")).not_to_contain_text("TABLE_YEAR_MISSING")  # a warning may stay
    expect(page.locator("#upload-rows")).to_contain_text("2023")
    assert database_dump_of(server["url"]) == before  # a preview writes nothing


def database_dump_of(url: str) -> dict:
    engine = db.make_engine(url)
    try:
        return database_dump(engine)
    finally:
        engine.dispose()
