"""Page callbacks and layouts as plain functions, on a seeded database (no browser)."""

from __future__ import annotations

import base64
import io
from contextlib import contextmanager

import pandas as pd
import pytest

from indicators import db, ingest, queries, users
from indicators import snapshot as snapshots
from indicators.jobs import Jobs
from indicators.store import apply_batch

from .support import TEST_DATA, batch_frame, database_dump

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
    assert (bottom, top) == (5.5, 2.5)  # reversed: rank 1 side on top, no rank 0 on the axis
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
    assert rank_children[1].figure.layout.yaxis.autorange == "reversed"
    stat_children = compare.render(snap, "RD_GDP_RATIO", ["beijing", "china", "shanghai"], "en")
    bars = stat_children[2].figure.data[0]
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
    assert latest["flags"] == "b" and latest["publisher"] and latest["publication"] and latest["publication_id"]


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
def jobs(monkeypatch):
    """A job pool of the test's own in place of the server's."""
    from dashboards import briefing

    pool = Jobs(workers=1)
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

    job = jobs.submit(work)
    try:
        assert reported.wait(30)
        status, stop_polling = briefing.job_status(job.id, "en")
        assert stop_polling is False
        assert "Building … 2/4 RD_GDP_RATIO" in _texts(status)
        bar = _find(status, "brief-progress")
        assert (bar.value, bar.label) == (50, "50%")
    finally:
        release.set()
    assert wait_for(lambda: job.finished)
    status, stop_polling = briefing.job_status(job.id, "zh")
    assert stop_polling is True
    assert "简报包已生成: 1.5 MB" in _texts(status)
    assert _find(status, "brief-download").href == f"/export/brief/{job.id}.zip"


def test_job_status_shows_why_a_build_failed_and_stops_polling(jobs, wait_for):
    from dashboards import briefing

    def work(report):
        raise RuntimeError("Chromium went away")

    job = jobs.submit(work)
    assert wait_for(lambda: job.finished)
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
