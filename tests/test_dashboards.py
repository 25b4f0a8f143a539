"""Page callbacks and layouts as plain functions, on a seeded database (no browser)."""

from __future__ import annotations

import base64
import io
from contextlib import contextmanager

import dash
import pandas as pd
import pytest

from indicators import db, ingest, queries, users, views
from indicators import snapshot as snapshots
from indicators.jobs import Jobs
from indicators.store import apply_batch

from .support import TEST_DATA, batch_frame, copy_sqlite, database_dump, submit_work

UPLOADS = TEST_DATA / "upload"
PASSWORD = "correct horse battery"
REVISION = """indicator_code,region_code,year,value,source,confidence
RD_GDP_RATIO,beijing,2024,6.6,test fixture - not a statistic,low
RD_GDP_RATIO,beijing,2025,6.5,test fixture - not a statistic,low
"""  # revises the stored 2024 value of Beijing's R&D intensity and adds 2025


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


@pytest.fixture(scope="module", autouse=True)
def dash_app():
    import app  # registers the pages

    return app.app


@pytest.fixture
def served(seeded_url, monkeypatch):
    """The pages read the configured database, as when served: here the test's own seeded copy."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    yield seeded_url
    db.dispose_engines()


@pytest.fixture
def signed_in(dash_app):
    """``with signed_in(account):`` runs page code inside a request of that account (None: nobody signed in)."""
    from flask_login import login_user

    from dashboards._auth import WebUser

    @contextmanager
    def request_of(account):
        with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
            if account is not None:
                login_user(WebUser(account))
            yield

    return request_of


def _texts(component) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_texts(c) for c in component)
    return _texts(getattr(component, "children", None))


def _find(component, component_id: str):
    """The component with this id inside a Dash component tree (None if there is none)."""
    if isinstance(component, list | tuple):
        return next((found for c in component if (found := _find(c, component_id)) is not None), None)
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    return _find(children, component_id) if children is not None else None


def test_trend_render_draws_targets_path_and_sources(snap):
    from dashboards import trend

    fig, why, sources = trend.render(snap, "RD_GDP_RATIO", ["beijing", "china"], [2010, 2025], False, "zh")
    names = [tr.name for tr in fig.data]
    assert names[:2] == ["北京", "全国"]
    assert any(n.startswith("目标 2025") for n in names)
    assert "达标所需路径" not in names  # 'keep at about 6 %' from inside the band: no movement required
    basic, _, _ = trend.render(snap, "BASIC_RESEARCH_SHARE", ["beijing"], None, False, "zh")
    path = next(tr for tr in basic.data if tr.name == "达标所需路径")
    a = snap.assessment
    row = a[(a["indicator"] == "BASIC_RESEARCH_SHARE") & (a["region"] == "beijing")].iloc[0]
    start = (int(row["baseline_year"]), float(row["baseline_value"]))
    assert (list(path.x)[0], list(path.y)[0], list(path.x)[-1], list(path.y)[-1]) == (*start, 2025, 17.0)
    assert "处于目标区间" in _texts(why)
    assert "基期" in _texts(why) and "容差 ±1" in _texts(why)  # which value the baseline is; the band's tolerance
    # the sources table cites each value's publication and keeps the page where it was read
    latest = snap.series("RD_GDP_RATIO", ["beijing"]).sort_values("year").iloc[-1]
    pub = snap.publications.set_index("id").loc[latest["publication_id"]]
    assert f"{pub['publisher_zh']}《{pub['title_zh']}》" in _texts(sources) and latest["source"] in _texts(sources)
    en_fig, _, _ = trend.render(snap, "RD_GDP_RATIO", ["beijing"], None, False, "en")
    assert en_fig.layout.title.text.startswith("Gross R&D expenditure")


def test_trend_vintages_show_the_first_published_2016_value(snap):
    from dashboards import trend

    fig, _, _ = trend.render(snap, "RD_GDP_RATIO", ["beijing"], [2010, 2025], True, "en")
    vintage = next(tr for tr in fig.data if tr.name == "Earlier vintage")
    assert list(vintage.x) == [2016] and list(vintage.y) == [5.94]


def test_trend_of_a_rank_is_drawn_with_rank_one_on_top_and_edition_breaks(snap):
    from dashboards import trend

    fig, _, _ = trend.render(snap, "GIHI_RANK", ["beijing"], [2020, 2025], False, "en")
    bottom, top = fig.layout.yaxis.range
    assert (bottom, top) == (5.5, 0.5)  # reversed, from rank 1: third place is not drawn at the top
    breaks = [a.text for a in fig.layout.annotations]
    assert any("50 cities" in b for b in breaks) and any("119" in b for b in breaks)


def test_trend_for_region_without_data_says_what_to_do(snap):
    from dashboards import trend

    fig, _, sources = trend.render(snap, "SCI_LITERACY", ["shanghai"], None, False, "en")
    assert "Upload" in _texts(sources)
    assert any("No data" in a.text for a in fig.layout.annotations)


def test_gaps_render_sorts_and_filters(snap):
    from dashboards import gaps

    children = gaps.render(snap, "all", 2025, "en")
    assert children[0].id == "gaps-export"
    progress_fig = children[1].figure
    shown = list(progress_fig.data[1].y)
    assert "R&D intensity" in shown and "Tech contract turnover" in shown
    only_science = gaps.render(snap, "science", 2025, "en")[1].figure
    assert set(only_science.data[1].y) == {"R&D intensity", "Basic research share"}


def test_compare_render_for_a_ranking_and_for_a_statistic(snap):
    from dashboards import compare

    rank_children = compare.render(snap, "NATURE_INDEX_CITY_RANK", [], "zh")
    bottom, top = rank_children[1].figure.layout.yaxis.range
    assert top == 0.5 and bottom > top  # reversed, from rank 1 whatever the best rank drawn
    drawn = {tr.name for tr in rank_children[1].figure.data if tr.legendgroup != "bridge"}
    latest = {name.rsplit(" (", 1)[0] for name in rank_children[3].figure.data[0].y}  # [2]: its tap panel
    assert latest <= drawn  # every region of the latest-year chart is in the bump chart too
    stat_children = compare.render(snap, "RD_GDP_RATIO", ["beijing", "china", "shanghai"], "en")
    bars = stat_children[3].figure.data[0]
    assert {"Beijing (2024)", "China (2024)", "Shanghai (2023)"} == set(bars.y)


def test_data_table_and_downloads(snap):
    from dashboards import data

    frame = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], False, "zh")
    assert len(frame) == 10 and frame["confidence"].isin(["高", "中", "低"]).all()
    history = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], True, "en")
    assert len(history) == 11 and set(history["status"]) == {"current", "superseded"}
    csv_bytes = data.to_csv(frame)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig")
    assert back["value"].tolist() == frame["value"].tolist()
    xlsx = pd.read_excel(io.BytesIO(data.to_excel(frame)))
    assert len(xlsx) == 10
    # every value cites its publication with its flags; the mirror page stays in `source`
    assert {"flags", "publisher", "publication", "publication_id", "source"} <= set(frame.columns)
    latest = frame.set_index("year").loc[2024]
    assert latest["flags"] == "序列断点" and latest["publisher"] and latest["publication"] and latest["publication_id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_downloaded_table_uploads_again_unchanged(snap, lang):
    """The CSV a statistician downloads from the data page, uploaded again as it is, changes nothing: its
    publication, flags, units and names are read back as written, in either language."""
    from dashboards import data
    from indicators.ingest import parse_file

    frame = data.table_frame(snap, ["RD_GDP_RATIO", "GIHI_RANK"], [], False, lang)
    parsed = parse_file(data.to_csv(frame), "download.csv", snap.catalog, snap.engine)
    assert parsed.report.ok, parsed.report.errors.head(3).to_dict("records")
    counts = parsed.diff["status"].value_counts().to_dict()
    assert counts == {"unchanged": len(frame)}, counts


def test_downloads_neutralise_formula_like_text():
    from dashboards import data

    frame = pd.DataFrame({"note": ["=HYPERLINK(\"http://x\")", "+1", "-2 people", "@SUM(A1)", "fine"], "value": [1, 2, 3, 4, 5]})
    text = data.to_csv(frame).decode("utf-8-sig")
    assert "\n=HYPER" not in text and "'=HYPERLINK" in text and "'@SUM" in text


def test_overview_layout_lists_every_indicator_with_status(served):
    from dashboards import overview

    text = _texts(overview.layout(lang="zh"))
    for name in ("研发投入强度", "技术合同成交额", "GIHI综合排名", "2035远景目标"):
        assert name in text
    assert "处于目标区间" in text and "已实现" in text
    assert "8,536.9亿元" in text
    english = _texts(overview.layout(lang="en"))
    assert "R&D intensity" in english and "Achieved" in english and "853.69 billion yuan" in english


@pytest.fixture
def jobs(monkeypatch, seeded_engine):
    """A job pool of the test's own in place of the server's."""
    from dashboards import briefing

    pool = Jobs(workers=1, engine=lambda: seeded_engine)
    monkeypatch.setattr(briefing, "JOBS", pool)
    return pool


def test_job_status_shows_progress_then_the_download_link(jobs, wait_for):
    import threading

    from dashboards import briefing

    assert briefing.job_status(None, "en") == (None, True)
    assert briefing.job_status("no-such-job", "en") == (None, True)
    reported, release = threading.Event(), threading.Event()

    def work(report):
        report(2, 4, "RD_GDP_RATIO")
        reported.set()
        release.wait(30)
        return b"x" * 1_500_000

    job = submit_work(jobs, work)
    try:
        assert reported.wait(30)
        status, stop_polling = briefing.job_status(job.id, "en")
        assert stop_polling is False
        assert "Building … 2/4 RD_GDP_RATIO" in _texts(status)
        bar = _find(status, "brief-progress")
        assert (bar.value, bar.label) == (50, "50%")
    finally:
        release.set()
    assert wait_for(lambda: jobs.get(job.id).finished)
    status, stop_polling = briefing.job_status(job.id, "zh")
    assert stop_polling is True
    assert "简报包已生成: 1.5 MB" in _texts(status)
    assert _find(status, "brief-download").href == f"/export/brief/{job.id}.zip"


def test_job_status_shows_why_a_build_failed_and_stops_polling(jobs, wait_for):
    from dashboards import briefing

    def work(report):
        raise RuntimeError("Chromium went away")

    job = submit_work(jobs, work)
    assert wait_for(lambda: jobs.get(job.id).finished)
    status, stop_polling = briefing.job_status(job.id, "en")
    assert stop_polling is True
    assert (status.color, _texts(status)) == ("danger", "Failed: Chromium went away")
    assert _find(status, "brief-download") is None


def _commit_upload(engine) -> int:
    with db.writing(engine) as conn:
        return apply_batch(conn, batch_frame(REVISION), kind="upload", user="editor1").batch_id


def test_do_revert_refuses_visitors_and_viewers_and_changes_nothing(served, seeded_engine, signed_in):
    from dashboards import batches

    batch = _commit_upload(seeded_engine)
    viewer = users.add_user(seeded_engine, "viewer1", PASSWORD, "viewer")
    before = database_dump(seeded_engine)
    for who in (None, viewer):
        with signed_in(who):
            alert = batches.do_revert(batch, "en")
        assert (alert.id, alert.color) == ("batches-denied", "danger")
        assert _texts(alert) == "Uploading, committing and reverting need an editor to sign in."
    assert database_dump(seeded_engine) == before


def test_do_revert_restores_the_values_and_records_the_editor(served, seeded_engine, signed_in):
    from dashboards import batches

    before = database_dump(seeded_engine)["observations"]
    batch = _commit_upload(seeded_engine)
    assert database_dump(seeded_engine)["observations"] != before
    editor = users.add_user(seeded_engine, "editor1", PASSWORD, "editor")
    with signed_in(editor):
        alert = batches.do_revert(batch, "en")
    assert (alert.id, alert.color) == ("batches-reverted", "success")
    assert _texts(alert) == f"Batch {batch} reverted (recorded as batch {batch + 1}); 1 earlier values restored."
    assert database_dump(seeded_engine)["observations"] == before
    revert = queries.batches(seeded_engine).set_index("id").loc[batch + 1]
    assert (revert["kind"], revert["user"], revert["reverts_batch_id"]) == ("revert", "editor1", batch)


@pytest.mark.parametrize(("batch", "lang", "message"), [
    ("uploaded", "zh", "批次 {uploaded} 已被批次 {revert} 撤销"),
    ("revert", "en", "batch {revert} is itself a revert; load the data again instead"),
    (999, "en", "no batch 999"),
])
def test_do_revert_says_why_it_cannot_revert(served, seeded_engine, signed_in, batch, lang, message):
    from dashboards import batches

    uploaded = _commit_upload(seeded_engine)
    editor = users.add_user(seeded_engine, "editor1", PASSWORD, "editor")
    with signed_in(editor):
        batches.do_revert(uploaded, "en")
        ids = {"uploaded": uploaded, "revert": uploaded + 1}
        before = database_dump(seeded_engine)
        alert = batches.do_revert(ids.get(batch, batch), lang)
    assert (alert.id, alert.color) == ("batches-refused", "danger")
    assert _texts(alert) == message.format(**ids)
    assert database_dump(seeded_engine) == before


def _contents(name: str) -> str:
    """A file as the browser hands it to the upload callback (a data URL)."""
    return "data:text/csv;base64," + base64.b64encode((UPLOADS / name).read_bytes()).decode()


def test_render_preview_shows_detection_diff_and_rows_and_writes_nothing(served, seeded_engine):
    from dashboards import upload

    before = database_dump(seeded_engine)
    parsed = upload.parse_upload(_contents("gb18030-chinese-headers.csv"), "gb.csv")
    blocks = upload.render_preview(parsed, "zh")
    facts = _texts(_find(blocks, "upload-facts"))
    assert "编码: gb18030" in facts and "2 数值" in facts and "0 错误" in facts
    assert _find(blocks, "upload-problems") is None
    assert _find(blocks, "upload-diff-summary").children == "新增 1 · 修订 1 · 不变 0"
    diff = pd.DataFrame(_find(blocks, "upload-diff").data)
    assert diff[["status", "indicator", "region", "year", "new"]].values.tolist() == [
        ["新增", "研发投入强度", "北京", 2025, 6.61], ["修订", "技术合同成交额", "北京", 2023, 9000.0]]
    rows = pd.DataFrame(_find(blocks, "upload-rows").data)
    assert rows[["indicator", "region", "unit"]].values.tolist() == [["研发投入强度", "北京", "%"],
                                                                     ["技术合同成交额", "北京", "亿元"]]
    assert database_dump(seeded_engine) == before


def test_render_preview_names_the_publications_a_file_creates(served, seeded_engine):
    """A file citing a publication by publisher, title and date (not a catalog id) says before the commit
    that the publication will be recorded; nothing is written by the preview."""
    from dashboards import upload

    before = database_dump(seeded_engine)
    text = ("指标,地区,年份,数值,标记,发布机构,文献标题,发布日期,来源\n"
            "研发投入强度,北京,2025,6.6,初步数,测试统计局(测试数据),测试公报(非真实统计),2026-03-01,test fixture\n")
    contents = "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode()
    blocks = upload.render_preview(upload.parse_upload(contents, "pub.csv"), "zh")
    listed = _texts(_find(blocks, "upload-new-publications"))
    assert "测试统计局(测试数据)" in listed and "测试公报(非真实统计)" in listed
    rows = pd.DataFrame(_find(blocks, "upload-rows").data)
    assert "p" in rows.astype(str).values.ravel().tolist()  # 初步数 read as the flag code
    assert database_dump(seeded_engine) == before


def test_render_preview_lists_the_problems_of_a_broken_file(served):
    from dashboards import upload

    blocks = upload.render_preview(upload.parse_upload(_contents("broken.csv"), "broken.csv"), "en")
    problems = pd.DataFrame(_find(blocks, "upload-problems").data)
    shown = problems[["severity", "row", "column", "value", "code"]]
    assert shown.astype(object).where(shown.notna(), None).values.tolist() == [
        ["warning", None, None, None, "CONFIDENCE_DEFAULTED"],
        ["error", 2, "年份", "二〇二五", "YEAR_INVALID"],
        ["error", 2, "数值", "abc", "NUMBER_INVALID"],
        ["error", 3, "指标", "不存在的指标", "INDICATOR_UNKNOWN"],
    ]
    assert "Value 'abc' is not a number." in set(problems["message"])  # English messages on an English page
    assert _find(blocks, "upload-diff") is None


def test_render_preview_keeps_markup_as_text_and_says_when_a_file_was_loaded_before(served, seeded_engine):
    from dashboards import upload

    contents = _contents("script-and-formula.csv")
    first = upload.parse_upload(contents, "s.csv")
    rows = _find(upload.render_preview(first, "en"), "upload-rows").data
    assert rows[0]["source"] == "<script>window.__pwned=1</script> test fixture"  # a string in a table cell
    batch = ingest.commit(seeded_engine, first, user="editor1").batch_id
    again = upload.render_preview(upload.parse_upload(contents, "s.csv"), "en")
    assert f"This file was loaded before (batch {batch}); nothing was loaded again." in _texts(again)


def test_missing_years_are_gaps_with_a_labelled_dotted_bridge(snap):
    """Beijing's R&D intensity has 2010, 2013, 2016: the line breaks between them and a dotted bridge,
    named once in the legend, says that nothing is known in between."""
    from dashboards import trend

    fig, _, _ = trend.render(snap, "RD_GDP_RATIO", ["beijing"], [2010, 2020], False, "en")
    line = next(tr for tr in fig.data if tr.name == "Beijing")
    by_year = dict(zip(line.x, line.y, strict=True))
    assert by_year[2011] is None or by_year[2011] != by_year[2011]  # an empty point: the line breaks
    assert line.connectgaps is False
    bridges = [tr for tr in fig.data if tr.legendgroup == "bridge"]
    assert bridges and [tr.showlegend for tr in bridges].count(True) == 1
    assert bridges[0].name == "dotted: no data in between" and bridges[0].line.dash == "dot"


# The data page pages, sorts and filters in the database; downloads stream (issue 13, item 3).

SYNTHETIC_REGIONS, SYNTHETIC_YEARS = 1_000, 200  # 200,000 synthetic observations: made up, not statistics


@pytest.fixture(scope="module")
def big_url(tmp_path_factory, seeded_sqlite):
    """A seeded SQLite database with 200,000 synthetic observations more (1,000 made-up regions x 200 years),
    built once for the module: the tests that use it only read."""
    from indicators.store import create_regions

    path = tmp_path_factory.mktemp("big") / "big.sqlite3"
    copy_sqlite(seeded_sqlite, path)
    engine = db.make_engine(f"sqlite:///{path}")
    codes = [f"synthetic-{i:04d}" for i in range(SYNTHETIC_REGIONS)]
    rows = pd.DataFrame({
        "indicator_code": "RD_GDP_RATIO",
        "region_code": [c for c in codes for _ in range(SYNTHETIC_YEARS)],
        "year": list(range(1801, 1801 + SYNTHETIC_YEARS)) * SYNTHETIC_REGIONS,
    })
    rows["value"] = (rows.index % 997) / 10
    rows["source"] = "synthetic test data - not a statistic"
    rows["confidence"] = "low"
    for col in ("note", "flag", "publication_id", "published_on"):
        rows[col] = None
    with db.writing(engine, bulk=True) as conn:
        create_regions(conn, pd.DataFrame({"code": codes, "name_zh": codes, "name_en": codes, "kind": "city",
                                           "iso3": None}))
        apply_batch(conn, rows, kind="upload", user="synthetic")
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def big_snap(big_url, catalog, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", big_url)
    yield snapshots.snapshot(db.default_engine(), catalog)
    db.dispose_engines()


def test_the_data_table_callback_returns_one_page_of_200000_rows(big_snap):
    from dashboards import data

    rows, columns, pages, page, count, message, csv_href, xlsx_href = data.table_page(
        big_snap, [], [], False, "en", 3)
    total = len(big_snap.observations)
    assert total > 200_000 and count == f"{total:,} rows"
    assert len(rows) == data.PAGE_SIZE and page == 3 and pages == -(-total // data.PAGE_SIZE)
    assert [c["id"] for c in columns] == data.COLUMNS
    # beyond the Excel cap: the page says so and offers no Excel link; the CSV link is there
    assert "at most 50,000 rows" in message and xlsx_href is None and csv_href.startswith(data.CSV_PATH)
    last = data.table_page(big_snap, [], [], False, "en", 10**9)
    assert last[3] == pages - 1 and 0 < len(last[0]) <= data.PAGE_SIZE  # a page beyond the end: the last one


def test_the_data_table_filters_and_sorts_in_the_database(big_snap):
    from dashboards import data

    query = "{region} icontains synthetic-0007 && {year} >= 1990 && {value} < 50"
    rows, _, pages, _, count, message, csv_href, _ = data.table_page(
        big_snap, ["RD_GDP_RATIO"], [], False, "en", 0, query, [{"column_id": "year", "direction": "desc"}])
    frame = big_snap.observations
    expected = frame[frame["region"].str.contains("synthetic-0007") & (frame["year"] >= 1990) & (frame["value"] < 50)]
    assert count == f"{len(expected):,} rows" and message == ""
    assert [r["year"] for r in rows] == sorted(expected["year"], reverse=True)[:data.PAGE_SIZE]
    assert "sort=year%3Adesc" in csv_href and "filter=" in csv_href


@pytest.mark.parametrize("query", [
    "{year} >= abc", "{no_such_column} = 1", "{year} = 1; DROP TABLE observations", "{region} matches .*",
    "{year} > 2020 || {year} < 2010", "x" * 3000, "{value} = 1e999",
])
def test_a_filter_the_table_does_not_offer_is_refused_with_a_message(snap, query):
    from dashboards import data

    before = queries.table_dump(snap.engine, "observations")
    rows, _, _, _, count, message, _, _ = data.table_page(snap, [], [], False, "en", 0, query)
    assert rows == [] and count == "0 rows" and message.startswith("Filter not understood, not applied")
    assert queries.table_dump(snap.engine, "observations") == before


# filter (as the table writes it), rows expected among Beijing's R&D intensity (10 current values, 11 versions)
TABLE_FILTERS = [
    ("{year} = 2024", 1),
    ("{year} i>= 2020 && {year} < 2023", 3),
    ("{region_name} icontains 北", 10),
    ("{source} icontains \"HTTP\"", None),
    ("{note} is blank", None),
    ("{confidence} = 高", None),
    ("{batch} = 2", None),
    ("{year} contains 202", 5),
    ("{flags} icontains b", None),
]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain values (a missing cell None), whatever dtype pandas inferred for a column."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.mark.parametrize(("query", "n"), TABLE_FILTERS)
def test_table_filters_agree_with_the_same_filter_on_the_frame(snap, query, n):
    """Each comparison the table offers, run in the database (SQLite and PostgreSQL), selects the rows the
    same comparison selects on the whole table in memory."""
    from dashboards import data

    whole = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], False, "zh")
    view = data.table_view(snap, ["RD_GDP_RATIO"], ["beijing"], False, "zh", query)
    got = queries.table_page(snap.engine, view)
    keep = pd.Series(True, index=whole.index)
    for f in view.filters:
        column = whole[f.column]
        if f.op == "blank":
            keep &= column.isna() | (column == "")
        elif f.op == "contains":
            keep &= column.astype(str).str.lower().str.contains(str(f.value).lower(), regex=False) & column.notna()
        else:
            keep &= column.notna() & {"=": column.__eq__, ">=": column.__ge__, "<": column.__lt__}[f.op](f.value)
    expected = whole[keep].reset_index(drop=True)
    assert _records(got) == _records(expected)
    if n is not None:
        assert len(got) == n


def test_the_csv_download_streams_every_row_in_chunks(big_snap, dash_app):
    from dashboards import data

    response = dash_app.server.test_client().get(f"{data.CSV_PATH}?lang=en", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == "attachment; filename=innovation-monitor-data.csv"
    chunks = iter(response.response)
    first = next(chunks)
    assert first == b"\xef\xbb\xbf"  # the byte-order mark goes out before a row is read
    parts = [first, *chunks]
    assert len(parts) > 200_000 // data.CSV_CHUNK_ROWS  # one piece per chunk of rows, never the whole file
    assert max(len(p) for p in parts) < 5 * 2**20
    frame = pd.read_csv(io.BytesIO(b"".join(parts)), encoding="utf-8-sig", low_memory=False)
    expected = data.table_frame(big_snap, [], [], False, "en")
    assert len(frame) == len(expected) and list(frame.columns) == [data.header(c, "en") for c in data.COLUMNS]
    assert frame["Region code"].tolist() == expected["region"].tolist()
    assert frame["Value"].tolist() == expected["value"].tolist()
    response.close()


def test_the_downloads_write_the_filtered_rows_the_table_shows(served, dash_app, snap):
    from dashboards import data

    state = (["RD_GDP_RATIO"], ["beijing"], True, "zh", "{year} >= 2016", [{"column_id": "year", "direction": "desc"}])
    *_, csv_href, xlsx_href = data.table_page(snap, state[0], state[1], state[2], state[3], 0, state[4], state[5])
    client = dash_app.server.test_client()
    csv = client.get(csv_href)
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig")  # headed in the page's language (zh)
    view = data.table_view(snap, *state[:4], state[4], [("year", True)])
    expected = queries.table_page(snap.engine, view)
    assert frame["年份"].tolist() == expected["year"].tolist() and set(frame["版本状态"]) == {"现行值", "已被修订"}
    assert frame["年份"].tolist() == sorted(frame["年份"], reverse=True) and frame["年份"].min() == 2016
    xlsx = client.get(xlsx_href)
    assert xlsx.status_code == 200
    sheet = pd.read_excel(io.BytesIO(xlsx.data))
    assert sheet["年份"].tolist() == frame["年份"].tolist() and list(sheet.columns) == [data.header(c, "zh") for c in view.columns]
    refused = client.get(data.CSV_PATH + "?filter=%7Byear%7D+%3E%3D+abc")
    assert refused.status_code == 400 and "Filter not understood" in refused.get_data(as_text=True)


def test_the_excel_download_beyond_its_cap_says_why(big_snap, dash_app):
    from dashboards import data

    response = dash_app.server.test_client().get(f"{data.XLSX_PATH}?lang=en")
    assert response.status_code == 413
    assert "Excel downloads hold at most 50,000 rows" in response.get_data(as_text=True)


def test_downloads_neutralise_formula_like_text_in_the_stream():
    from dashboards import data

    chunks = [pd.DataFrame({"note": ["=1+1", "fine"], "value": [1.0, -2.0]}),
              pd.DataFrame({"note": ["@SUM(A1)"], "value": [3.0]})]
    streamed = b"".join(data.csv_stream(chunks, ["note", "value"]))
    assert streamed == data.to_csv(pd.concat(chunks, ignore_index=True))
    assert b"'=1+1" in streamed and b"'@SUM" in streamed
    empty = b"".join(data.csv_stream([], ["note", "value"]))
    assert empty == b"\xef\xbb\xbfnote,value\r\n"


# The batches page's revert: every outcome a message, nothing lost (issue 13, items 6 and 7).


@contextmanager
def _write_blocked(engine, how: str):
    """The database as an operator may meet it: another writer holding the lock (and a short wait for it),
    or open read-only. Real conditions on each database, not a raised exception."""
    from sqlalchemy import text

    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if how == "locked":
            holder = db.make_engine(f"sqlite:///{path}")
            with holder.connect() as conn:
                conn.execution_options(sqlite_begin="IMMEDIATE").begin()
                yield f"sqlite:///{path}"
            holder.dispose()
        else:
            yield f"sqlite:///file:{path}?mode=ro&uri=true"
        return
    url = engine.url.render_as_string(hide_password=False)
    setting = "lock_timeout = '300ms'" if how == "locked" else "default_transaction_read_only = on"
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{engine.url.database}" SET {setting}'))
        conn.commit()
    engine.dispose()
    if how == "locked":
        with engine.connect() as conn:
            conn.execute(text(f"SELECT pg_advisory_lock({db.WRITE_LOCK_KEY})"))
            yield url
    else:
        yield url
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET default_transaction_read_only = off"))
        conn.execute(text(f'ALTER DATABASE "{engine.url.database}" RESET ALL'))
    engine.dispose()


@pytest.mark.parametrize(("how", "message"), [
    ("locked", "The database is busy (another write has not finished); nothing was written. Try again shortly."),
    ("read-only", "The database or file is read-only (or not writable by this user); nothing was written. "
                  "Check the permissions."),
])
def test_a_revert_that_cannot_be_written_says_why_and_loses_nothing(served, seeded_engine, signed_in, monkeypatch,
                                                                    how, message):
    from dashboards import batches

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # the lock is waited for 0.3 s, not 30 s
    batch = _commit_upload(seeded_engine)
    editor = users.add_user(seeded_engine, "editor1", PASSWORD, "editor")
    before = database_dump(seeded_engine)
    with _write_blocked(seeded_engine, how) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        db.dispose_engines()
        with signed_in(editor):
            alert = batches.do_revert(batch, "en")
            zh = batches.do_revert(batch, "zh")
        db.dispose_engines()
    assert (alert.id, alert.color, _texts(alert)) == ("batches-failed", "danger", message)
    assert _texts(zh).startswith("数据库") and "未写入任何数据" in _texts(zh)
    assert database_dump(seeded_engine) == before


@pytest.mark.parametrize(("selected", "rows"), [
    (["0"], None), ([0], [{"id": "abc"}]), ([0], [{"id": "1.5"}]), ([0], [{"id": "9" * 5000}]),
    ([0], [{"id": 10**30}]), ([0], [{"id": -3}]), ([0], [{"id": True}]), ([5], [{"id": 1}]), ([-1], [{"id": 1}]),
    ([0], ["1"]), ("0", [{"id": 1}]), ([None], [{"id": 1}]), ([0], [{}]), ([0], {"id": 1}),
])
def test_the_revert_callback_answers_a_batch_that_is_not_one_with_a_message(served, seeded_engine, signed_in,
                                                                           selected, rows):
    """The browser sends the selected row and the table: anything may arrive. Never an error, never a write."""
    from dashboards import batches

    editor = users.add_user(seeded_engine, "editor1", PASSWORD, "editor")
    before = database_dump(seeded_engine)
    with signed_in(editor):
        alert, table = batches.revert(1, selected, rows, "en")
        detail = batches.detail(selected, rows, "en")
    assert (alert.id, _texts(alert)) == ("batches-refused", "The chosen batch is not in the list; choose it again.")
    assert table is dash.no_update
    assert _texts(detail) == "The chosen batch is not in the list; choose it again."
    assert database_dump(seeded_engine) == before


def test_the_revert_callback_reverts_a_batch_chosen_by_its_row(served, seeded_engine, signed_in):
    from dashboards import batches

    batch = _commit_upload(seeded_engine)
    editor = users.add_user(seeded_engine, "editor1", PASSWORD, "editor")
    rows = batches.batch_rows()
    with signed_in(editor):
        alert, table = batches.revert(1, [0], [{**rows[0], "id": str(rows[0]["id"])}], "en")
    assert rows[0]["id"] == batch and alert.id == "batches-reverted"
    assert table[0]["kind"] == "revert" and table[0]["reverts_batch_id"] == batch


@pytest.mark.parametrize(("batch", "opened"), [("2", True), ("abc", False), ("²", False), ("9" * 5000, False),
                                               ("-1", False), ("1.0", False), (["2", "1"], True)])
def test_the_batches_page_opens_the_batch_its_address_names(served, batch, opened):
    from dashboards import batches

    table = _find(batches.layout(batch=batch, lang="en"), "batches-table")
    chosen = [table.data[i]["id"] for i in table.selected_rows]
    assert chosen == ([2] if opened else [])


def test_table_chunks_read_the_same_rows_as_one_read_in_pieces(snap):
    """The streamed download's reader (a server-side cursor on PostgreSQL) against the plain read."""
    from dashboards import data

    view = data.table_view(snap, [], [], True, "en", "{year} >= 2015", [("value", True)])
    whole = queries.table_page(snap.engine, view)
    pieces = list(queries.table_chunks(snap.engine, view, chunk_rows=7))
    assert len(pieces) == -(-len(whole) // 7) and all(len(p) <= 7 for p in pieces)
    assert _records(pd.concat(pieces, ignore_index=True)) == _records(whole)


@pytest.mark.parametrize(("years", "expected"), [
    (None, "whole"), ("2012,2020", [2012, 2020]), ("2020,2012", [2012, 2020]), ("2100,1000", "whole"),
    ("abc", "whole"), ("²,²", "whole"), ("9" * 5000 + ",2020", "whole"), ("1000", "whole"),
    (",2020", "end"),
])
def test_the_trend_page_reads_any_years_as_a_range_inside_its_slider(served, years, expected):
    from dashboards import trend

    slider = _find(trend.layout(indicator="RD_GDP_RATIO", years=years, lang="en"), "trend-years")
    whole = [slider.min, slider.max]
    assert slider.value == ({"whole": whole, "end": [slider.min, 2020]}[expected] if isinstance(expected, str)
                            else expected)


def test_the_overview_switches_between_2025_and_2035(snap, monkeypatch):
    from dashboards import overview

    monkeypatch.setattr(overview, "current", lambda: snap)  # the page reads this snapshot, not the default database

    page_2035 = overview.render(snap, "zh", 2035)
    switch = _find(page_2035, "overview-milestones")
    active = [c for c in switch.children[1:] if "btn-primary" in c.className]
    assert [c.children for c in active] == ["2035"]
    card = _texts(_find(page_2035, "card-GOAL_2035"))
    assert "2035" in card
    rd = _texts(_find(page_2035, "card-RD_GDP_RATIO"))
    assert "目标 2025" in rd  # no 2035 target given by the plans: its 2025 target, said as such
    for hostile in ("2030", "²", "9" * 5000, None):
        layout = overview.layout(lang="zh", milestone=hostile)
        assert "btn-primary" in _find(layout, "overview-milestone-2025").className


def test_a_citys_zones_and_districts_side_by_side_with_their_share_and_a_warning_when_they_exceed_it(
        seeded_engine, catalog):
    """Test data, not statistics: R&D expenditure of two districts and a zone in 2022 (Beijing's own 2022
    value is shipped). Districts' shares of the whole; the zone overlaps them, so it is added up apart; a
    zone larger than the city is warned about."""
    from dashboards import compare
    from indicators import snapshot as snapshots
    from indicators.store import apply_batch

    from .support import batch_frame

    zone = next(r.code for r in catalog.children("beijing", "zone"))
    district_a, district_b = [r.code for r in catalog.children("beijing", "district")][:2]
    rows = (f"indicator_code,region_code,year,value,source,confidence\n"
            f"RD_EXPENDITURE,{district_a},2022,1000,test data - not a statistic,low\n"
            f"RD_EXPENDITURE,{district_b},2022,500,test data - not a statistic,low\n"
            f"RD_EXPENDITURE,{zone},2022,900,test data - not a statistic,low\n")
    with seeded_engine.begin() as conn:
        apply_batch(conn, batch_frame(rows), kind="upload", user="t")
    snap = snapshots.snapshot(seeded_engine, catalog)
    whole = float(snap.series("RD_EXPENDITURE", ["beijing"]).set_index("year").loc[2022, "value"])
    frame, warning = views.breakdown(snap, "RD_EXPENDITURE", lang="en")
    shares = frame.set_index("region")["share"]
    assert shares[district_a] == pytest.approx(1000 / whole * 100) and not warning
    assert set(frame["kind"]) == {"zone", "district"} and set(frame["year"]) == {2022}
    with seeded_engine.begin() as conn:
        apply_batch(conn, batch_frame(rows.replace(f"{zone},2022,900", f"{zone},2022,{whole * 2}")), kind="upload",
                    user="t")
    snap = snapshots.snapshot(seeded_engine, catalog)
    _, warning = views.breakdown(snap, "RD_EXPENDITURE", lang="zh")
    assert "园区之和超过北京总量" in warning
    shown = compare._parts(snap, "RD_EXPENDITURE", "zh")
    assert shown.id == "compare-parts" and "占全市比重" in _texts(shown)
    ratio, _ = views.breakdown(snap, "RD_GDP_RATIO", lang="zh")
    assert ratio.empty  # no part has an R&D intensity value


def test_the_overview_shows_overdue_data_by_owner(snap):
    from datetime import date

    from dashboards import overview
    from indicators import calendar

    late = calendar.calendar(snap.observations, snap.catalog, date.today(), lang="zh")
    late = late[late["overdue"].astype(bool)]
    block = _find(overview.render(snap, "zh"), "overview-overdue")
    if late.empty:
        assert block is None
    else:
        said = _texts(block)
        assert f"逾期未到的数据 {len(late)} 项" in said and late.iloc[0]["owner_name"] in said
