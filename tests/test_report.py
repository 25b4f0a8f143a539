"""The work report: Word and PowerPoint files read back with python-docx and python-pptx, converted to PDF by
LibreOffice, the data version they record, the later sections' tables, the CLI and the briefing page's job.

The two full reports (every chart rendered by kaleido, as the PNG export) are built once for the module; tests
of the layout around them draw a small stand-in image instead of the charts.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image
from pptx import Presentation

from indicators import briefing, export, report
from indicators import snapshot as snapshots
from indicators.report import content
from indicators.report.content import Extras, ReportSpec

from .support import copy_sqlite, invoke

FONT = "Noto Sans CJK SC"
TITLE_ZH = "北京国际科技创新中心建设监测"
SHARED = {"lang": "zh", "period": "2026Q4"}


@pytest.fixture
def backend() -> str:
    """SQLite only: a report reads a snapshot, and snapshots are read from both databases in test_dashboards."""
    return "sqlite"


@pytest.fixture(scope="module")
def seeded_copy(seeded_sqlite, tmp_path_factory) -> str:
    """A module's own copy of the seeded database (the reports are built once for the module)."""
    path = tmp_path_factory.mktemp("report") / "seeded.sqlite3"
    copy_sqlite(seeded_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def module_snap(seeded_copy, catalog):
    from indicators import db

    engine = db.make_engine(seeded_copy)
    yield snapshots.snapshot(engine, catalog)
    engine.dispose()


@pytest.fixture(scope="module")
def docx_bytes(module_snap) -> bytes:
    steps = []
    data = report.build(module_snap, ReportSpec(**SHARED, file_name="report.docx"), fmt="docx",
                        on_progress=lambda done, total, step: steps.append((done, total, step)))
    assert steps[-1] == (steps[-1][1], steps[-1][1], "docx")  # the progress ends complete
    return data


@pytest.fixture(scope="module")
def pptx_file(seeded_copy, tmp_path_factory) -> Path:
    """The zh deck, written by the `report` command itself."""
    out = tmp_path_factory.mktemp("deck") / "report.pptx"
    env = {"DATABASE_URL": seeded_copy, "INNOVATION_MONITOR_INSTANCE": str(out.parent / "instance")}
    result = invoke("report", "--period", "2026q4", "--lang", "zh", "-o", str(out), env=env, check=True)
    assert "report.pptx" in result.stdout and "fingerprint" in result.stdout
    return out


@pytest.fixture
def stub_images(monkeypatch):
    """Charts drawn as a small grey PNG: for tests of what surrounds them."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), "#cccccc").save(buffer, format="PNG")
    monkeypatch.setattr(export, "to_image", lambda fig, **_: buffer.getvalue())


def _docx_text(doc) -> str:
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _pptx_text(deck) -> str:
    out = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(out)


def test_docx_holds_the_scorecard_as_a_table_with_every_target(docx_bytes, module_snap):
    doc = Document(io.BytesIO(docx_bytes))
    rows = briefing.scorecard_rows(module_snap)
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["领域", "指标", "最新值", "目标", "状态", "提示"]
    assert len(table.rows) == len(rows) + 1  # every indicator, those without data included
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    names = [module_snap.catalog.indicators[c].short_name.zh for c in rows["indicator"]]
    assert [r[1] for r in body] == names
    no_data = [r for r in body if r[2] == "无数据"]
    assert no_data and all("数据不足" in r[4] for r in no_data)
    tentative = rows[[briefing.progress.tentative(c, s) for c, s in zip(rows["caveats"], rows["status"], strict=True)]]
    assert sum("⚠ 暂定" in r[4] for r in body) == len(tentative) > 0
    caveated = rows.reset_index(drop=True)["caveats"].fillna("") != ""
    assert all((r[5] != "") == bool(c) for r, c in zip(body, caveated, strict=True))  # each caveat as sentences


def test_docx_has_charts_chinese_text_and_its_structure(docx_bytes, module_snap):
    doc = Document(io.BytesIO(docx_bytes))
    charted = briefing.charted_indicators(module_snap)
    assert len(doc.inline_shapes) == len(charted) >= 3
    width, height = export.SIZES["page"].width, export.SIZES["page"].height
    for shape in doc.inline_shapes:  # the page size of the PNG export, at the text's width
        assert abs(shape.width / shape.height - width / height) < 0.01
    text = _docx_text(doc)
    assert TITLE_ZH in text and "工作报告" in text and "2026年第四季度" in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["一、总体情况", "二、目标进展记分卡", "三、分领域进展"]
    assert headings[-2:] == ["四、数据来源", "五、数据版本说明"]  # no tasks, overdue or changes given
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"][0] == "(一)世界主要科学中心"
    for code in charted:  # every finding, as the chart's subtitle says it
        assert briefing.indicator_chart(module_snap, code, lang="zh", size="page").finding in text
    summary = doc.paragraphs[[p.text for p in doc.paragraphs].index("一、总体情况") + 1].text
    n = len(briefing.scorecard_rows(module_snap))
    assert summary.startswith(f"截至{briefing.data_as_of(module_snap)},本报告跟踪{n}项指标")
    assert "暂定" in summary and "尚无数据" in summary


def test_docx_declares_the_east_asian_font_on_styles_and_runs(docx_bytes):
    doc = Document(io.BytesIO(docx_bytes))
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        fonts = doc.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == FONT and fonts.get(qn("w:eastAsiaTheme")) is None, name
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs and all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == FONT for r in runs)
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"


def test_docx_records_the_data_version_in_properties_and_text(docx_bytes, module_snap):
    doc = Document(io.BytesIO(docx_bytes))
    props = doc.core_properties
    batch, count = module_snap.version
    finger = content.fingerprint(module_snap.observations)
    assert props.identifier == f"sha256:{finger}"
    assert props.version.startswith(f"data batch {batch} of {count}")
    assert f"fingerprint sha256:{finger}" in props.comments and "--as-of" in props.comments
    assert props.title == TITLE_ZH + "工作报告" and props.subject == "2026年第四季度"
    text = _docx_text(doc)
    assert finger in text and f"innovation-monitor report --period 2026Q4 --as-of {date.today()}" in text


def test_pptx_has_title_scorecard_and_a_slide_per_indicator(pptx_file, module_snap):
    deck = Presentation(str(pptx_file))
    charted = briefing.charted_indicators(module_snap)
    rows = briefing.scorecard_rows(module_snap)
    slides = list(deck.slides)
    assert len(slides) >= 5
    assert (deck.slide_width, deck.slide_height) == (12192000, 6858000) or deck.slide_width / deck.slide_height > 1.7
    texts = [" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in slides]
    assert TITLE_ZH in texts[0] and "2026年第四季度" in texts[0]
    tables = [shape.table for slide in slides for shape in slide.shapes if shape.has_table]
    scorecard = [t for t in tables if t.rows[0].cells[1].text == "指标"]  # the tasks slide has a table too
    task_rows = sum(len(t.rows) - 1 for t in tables if t.rows[0].cells[0].text == "编号")
    assert task_rows >= 1  # the CLI passes the task register: the deck has its tasks slide
    assert sum(len(t.rows) - 1 for t in scorecard) == len(rows)  # the scorecard, over as many slides as it needs
    assert [c.text for c in tables[0].rows[0].cells][:5] == ["领域", "指标", "最新值", "目标", "状态"]
    pictured = [slide for slide in slides if any(s.shape_type == 13 for s in slide.shapes)]  # 13: picture
    assert len(pictured) == len(charted)
    first = briefing.indicator_chart(module_snap, charted[0], lang="zh")
    notes = pictured[0].notes_slide.notes_text_frame.text
    assert first.finding in notes and "来源" in notes
    runs = [r for slide in slides for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs
            for r in p.runs]
    assert all(r._r.rPr.find(qn("a:ea")).get("typeface") == FONT for r in runs)
    assert deck.core_properties.identifier == f"sha256:{content.fingerprint(module_snap.observations)}"
    assert content.fingerprint(module_snap.observations) in _pptx_text(deck)


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice is missing: run tools/install-system-deps.sh (libreoffice-writer-nogui, -impress-nogui)"
    return found


def _to_pdf(source: Path, folder: Path) -> tuple[int, str]:
    """LibreOffice's PDF of a file (a profile of its own in ``folder``): its page count and text."""
    out = folder / source.stem
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=240, env={**os.environ, "HOME": str(folder)})
    pdf = out / f"{source.stem}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return pages, text


def test_both_files_convert_to_pdf_with_libreoffice(docx_bytes, pptx_file, module_snap, tmp_path):
    docx_path = tmp_path / "report-zh.docx"
    docx_path.write_bytes(docx_bytes)
    pages, text = _to_pdf(docx_path, tmp_path)
    flat = text.replace(" ", "")  # pdftotext spaces out CJK beside Latin text
    assert pages >= 1 + len(briefing.charted_indicators(module_snap)) // 2  # the charts need their pages
    assert TITLE_ZH in flat and "工作报告" in flat and "显著进展" in flat and "数据来源" in flat
    pages, text = _to_pdf(pptx_file, tmp_path)
    flat = text.replace(" ", "")
    assert pages == len(Presentation(str(pptx_file)).slides)
    assert TITLE_ZH in flat and "目标进展记分卡" in flat and "显著进展" in flat


def test_the_same_as_of_gives_the_same_numbers_and_an_earlier_one_others(module_snap, seeded_copy, catalog):
    from indicators import db

    engine = db.make_engine(seeded_copy)
    try:
        day = date.today()
        spec = ReportSpec(lang="zh", period="2026Q4", as_of=day, file_name="r.docx")
        again = content.provenance(snapshots.snapshot(engine, catalog, as_of=day), spec)
        assert again.fingerprint == content.fingerprint(module_snap.observations)  # everything loaded by today
        assert again.command == f"innovation-monitor report --period 2026Q4 --as-of {day} --lang zh -o r.docx"
        early = snapshots.snapshot(engine, catalog, as_of=date(2019, 1, 1))
        assert content.provenance(early, spec).fingerprint != again.fingerprint
        assert len(early.observations) < len(module_snap.observations)
    finally:
        engine.dispose()


PERIODS = """text,period,zh,en
2026Q4,2026Q4,2026年第四季度,Q4 2026
2026q1,2026Q1,2026年第一季度,Q1 2026
 2025-Q2 ,2025Q2,2025年第二季度,Q2 2025
"""


def test_periods_are_parsed_and_named():
    for row in pd.read_csv(StringIO(PERIODS)).itertuples():
        assert content.parse_period(row.text) == row.period
        assert (content.period_label(row.period, "zh"), content.period_label(row.period, "en")) == (row.zh, row.en)
    assert [content.parse_period(t) for t in ("2026Q5", "Q4", "2026", "", None)] == [None] * 5
    assert content.period_of(date(2026, 12, 1)) == "2026Q4" and content.period_of(date(2026, 3, 31)) == "2026Q1"


TASKS = """task,title,pillar,lead,due,status
T01,怀柔综合性国家科学中心,science,市科委,2025,on_schedule
T02,国家实验室,science,市科委,2025,delayed
T03,十百千场景,innovation,市经信局,2024,done
T04,集成电路,innovation,市经信局,2025,at_risk
T05,人才计划,talent,市人才局,2023,not_started
"""
OVERDUE = """indicator,owner,next_release,overdue
RD_GDP_RATIO,市统计局,2026-09,False
TECH_CONTRACT_TURNOVER,市科委,2026-03,True
SCI_LITERACY,市科委,2026-12,False
HIGHTECH_VA,市统计局,2026-02,True
"""
CHANGES = """what,old,new
研发投入强度 2024,6.58,6.6
GIHI综合排名,第3位,第2位
独角兽企业 2025,,120
"""


def _frame(text: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def test_the_task_table_puts_delayed_and_at_risk_first(module_snap):
    table = content.task_table(module_snap, _frame(TASKS), "zh")
    assert list(table["task"]) == ["T02", "T04", "T05", "T01", "T03"]
    assert list(table["status"]) == ["滞后", "存在风险", "未启动", "按计划推进", "已完成"]  # the register's own words
    assert table.loc[0, "pillar"] == "世界主要科学中心"
    assert list(content.task_table(module_snap, _frame(TASKS), "en")["status"])[:2] == ["delayed", "at risk"]


def test_the_overdue_table_groups_by_owner_overdue_first(module_snap):
    table = content.overdue_table(module_snap, _frame(OVERDUE), "zh")
    expected = pd.read_csv(StringIO("""owner,indicator,next_release,overdue
市科委,技术合同成交额,2026-03,逾期
市科委,公民科学素质比例,2026-12,未到期
市统计局,高技术产业增加值,2026-02,逾期
市统计局,研发投入强度,2026-09,未到期
"""), dtype=str)
    pd.testing.assert_frame_equal(table, expected)


def test_the_changes_table_reads_old_to_new():
    table = content.changes_table(_frame(CHANGES), "zh")
    assert list(table["change"]) == ["6.58 → 6.6", "第3位 → 第2位", "– → 120"]


def test_the_later_sections_appear_when_their_data_is_given(module_snap, stub_images):
    extras = Extras(tasks=_frame(TASKS), overdue=_frame(OVERDUE), changes=_frame(CHANGES))
    spec = ReportSpec(lang="zh", period="2026Q4", since=date(2026, 9, 30), file_name="r.docx")
    doc = Document(io.BytesIO(report.build(module_snap, spec, fmt="docx", extras=extras)))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、总体情况", "二、目标进展记分卡", "三、自上次报告以来的变化", "四、分领域进展",
                        "五、重点任务进展", "六、数据报送情况", "七、数据来源", "八、数据版本说明"]
    tables = {t.rows[0].cells[0].text: t for t in doc.tables}
    assert [r.cells[0].text for r in tables["编号"].rows[1:]] == ["T02", "T04", "T05", "T01", "T03"]
    assert tables["内容"].rows[3].cells[1].text == "– → 120"
    assert "2026-09-30" in _docx_text(doc)
    deck = Presentation(io.BytesIO(report.build(module_snap, spec, fmt="pptx", extras=extras)))
    assert "重点任务进展" in _pptx_text(deck) and "T02" in _pptx_text(deck)


def test_an_english_report_speaks_english(module_snap, stub_images):
    doc = Document(io.BytesIO(report.build(module_snap, ReportSpec(lang="en", period="2026Q4"), fmt="docx")))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["1. Overview", "2. Scorecard of the targets", "3. Progress by pillar", "4. Sources",
                        "5. Data version"]
    assert [c.text for c in doc.tables[0].rows[0].cells] == ["Pillar", "Indicator", "Latest", "Target", "Status",
                                                             "Caveats"]
    assert doc.core_properties.subject == "Q4 2026" and "no data" in _docx_text(doc)


def test_the_report_command_refuses_other_files_and_periods(seeded_url, tmp_path):
    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    refused = invoke("report", "-o", str(tmp_path / "report.pdf"), env=env)
    assert refused.returncode == 2 and ".docx or .pptx" in refused.stderr
    refused = invoke("report", "--period", "2026Q5", "-o", str(tmp_path / "report.docx"), env=env)
    assert refused.returncode == 2 and "2026Q4" in refused.stderr
    refused = invoke("report", "--as-of", "2026-01-01", "--since", "2026-06-30", "-o", str(tmp_path / "r.docx"), env=env)
    assert refused.returncode == 2 and not (tmp_path / "r.docx").exists()


def test_the_briefing_page_builds_a_report_in_the_background(seeded_url, monkeypatch, stub_images, wait_for):
    import app
    from dashboards import _exports
    from dashboards import briefing as page
    from indicators import db
    from indicators.jobs import Jobs

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    pool = Jobs(workers=1)
    monkeypatch.setattr(page, "JOBS", pool)
    monkeypatch.setattr(_exports, "JOBS", pool)
    try:
        job_id, polling_off, alert = page.start_report(1, "2026Q3", "en", "pptx", "en")
        assert (polling_off, alert) == (False, None)
        assert wait_for(lambda: pool.get(job_id).finished, timeout=60)
        status, stop = page.report_status(job_id, "en")
        link = status.children[1]
        assert stop is True and link.href == f"/export/report/{job_id}.pptx"
        client = app.server.test_client()
        response = client.get(link.href)
        assert response.status_code == 200 and response.mimetype == report.MIMETYPES["pptx"]
        deck = Presentation(io.BytesIO(response.data))
        assert "Q3 2026" in _pptx_text(deck)
        assert client.get(f"/export/report/{job_id}.docx").status_code == 404  # built as .pptx
        _, _, refused = page.start_report(1, "2026 Q9", "en", "docx", "en")
        assert refused.id == "report-bad-period"
    finally:
        db.dispose_engines()


def test_the_report_gathers_the_register_the_calendar_and_the_changes(module_snap):
    spec = report.ReportSpec(lang="zh", period=report.parse_period("2026Q4"), since=date(2026, 1, 1))
    extras = report.gather_extras(module_snap, spec)
    assert len(extras.tasks) >= 25 and list(extras.tasks.columns) == ["task", "title", "pillar", "lead", "due", "status"]
    assert list(extras.overdue.columns) == ["indicator", "owner", "next_release", "overdue"]
    assert extras.changes is not None and list(extras.changes.columns) == ["what", "old", "new"]
    assert not report.gather_extras(module_snap, report.ReportSpec(lang="en", period=spec.period)).changes
