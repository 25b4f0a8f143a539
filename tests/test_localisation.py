"""Everything a user reads is in the page's language (issue 14, point 8 and the /data part of point 2).

Without a browser: Dash's own control texts (every dcc.Dropdown gets ``labels``), the batch history's headers
and words, the upload report's words and web advice, the data page's headers (upload fields, so a download
uploads again in either language), its year filter and its words for flags and statuses, the pace sentences.

In Chromium at 1366 and 390 px: the Chinese pages show none of the English words the issue lists, the
English pages none of the Chinese interface strings. What the pages show of the data as written (a value's
source, note, publication and publisher, quoted from publications in their languages; web addresses) is not
interface text and is left out of both checks, and so is Plotly's chart toolbar (its button titles are
Plotly's English: a locale bundle is not shipped with plotly.py). The English check also leaves out the methodology's text,
which names each status in both languages on purpose (its glossary, "(排名上升 / 排名持平 / 排名下降)").
"""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from indicators import db, ingest, users
from indicators import snapshot as snapshots
from indicators.i18n import STRINGS, Text
from indicators.store import revert_batch

from .support import settle

PASSWORD = "correct horse battery"
# Point 8 of issue 14: English that reached the Chinese interface.
ENGLISH_WORDS = ["Search", "Select All", "selected", "seed", "upload", "revert", "current", "warning",
                 "CONFIDENCE_DEFAULTED", "long", "--confidence", "pp/yr", "%/yr", "id", "kind", "file_name",
                 "n_new", "reverts_batch_id", "Share"]
PAGES = ["/", "/trend", "/gaps", "/compare", "/data", "/methodology", "/briefing", "/upload", "/batches",
         "/metadata"]
WIDTHS = [1366, 390]
# A CSV an editor uploads: one value without a confidence (a warning), in the long layout.
UPLOAD = "指标,地区,年份,数值,来源\n研发投入强度,北京,2025,6.61,测试数据(非真实统计)\n"
# The page's text without what it quotes of the data as written, nor web addresses.
VISIBLE_TEXT = """(more) => {
    const copy = document.body.cloneNode(true);
    const data = ['note', 'source', 'publication', 'publisher', 'raw', 'file_name'];
    const quoted = ['code', '.im-cite', '.im-source', 'td[data-label="Publication"]', 'td[data-label="出处文献"]',
                    ...more];
    copy.querySelectorAll(data.map(c => `td[data-dash-column="${c}"]`).concat(quoted).join(','))
        .forEach(e => e.remove());
    copy.querySelectorAll('script, style, noscript').forEach(e => e.remove());
    document.body.appendChild(copy);
    copy.style.position = 'absolute';
    const text = copy.innerText;
    copy.remove();
    // what a control says before anything is typed or when pointed at: placeholders and titles
    const said = Array.from(document.querySelectorAll('[placeholder], [title]'))
        .filter(e => !e.closest('.modebar'))  // Plotly's toolbar: see the module's docstring
        .map(e => [e.getAttribute('placeholder'), e.getAttribute('title')].filter(Boolean).join('\\n'));
    return text + '\\n' + said.join('\\n');
}"""


def english_words(text: str) -> list[str]:
    """The words of :data:`ENGLISH_WORDS` in ``text``, each matched as a whole word."""
    text = re.sub(r"https?://\S+|www\.\S+", " ", text)
    return [w for w in ENGLISH_WORDS if re.search(_whole(w), text)]


def _whole(word: str) -> str:
    """A pattern of ``word`` not inside a longer word ('id' not in 'paid'; '%/yr' after a number)."""
    before = r"(?<![\w-])" if word[0].isalnum() else ""
    after = r"(?![\w-])" if word[-1].isalnum() else ""
    return before + re.escape(word) + after


# --- without a browser -------------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def dash_app():
    import app  # registers the pages

    return app.app


@pytest.fixture
def served(seeded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    yield seeded_url
    db.dispose_engines()


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


def _components(component):
    """Every component in a Dash component tree."""
    if isinstance(component, list | tuple):
        for c in component:
            yield from _components(c)
        return
    if component is None or isinstance(component, str | int | float):
        return
    yield component
    yield from _components(getattr(component, "children", None))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_dropdown_of_every_page_speaks_the_pages_language(served, lang):
    from dash import dcc

    from dashboards import briefing, compare, data, gaps, trend
    from dashboards._common import DROPDOWN_LABELS, dropdown_labels

    labels = dropdown_labels(lang)
    assert set(labels) == set(DROPDOWN_LABELS) and "{num_selected}" in labels["selected_count"]
    found = 0
    for page in (briefing, compare, data, gaps, trend):
        for component in _components(page.layout(lang=lang)):
            if isinstance(component, dcc.Dropdown):
                assert component.labels == labels, (page.__name__, component.id)
                found += 1
    assert found >= 9
    if lang == "zh":
        assert not english_words(" ".join(labels.values()))


def test_every_dropdown_in_the_page_files_is_given_its_labels():
    """A page added later cannot forget: every ``dcc.Dropdown(...)`` call in dashboards/ passes the labels."""
    from pathlib import Path

    calls = []
    for path in (Path(__file__).resolve().parents[1] / "dashboards").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for start in (m.end() for m in re.finditer(r"dcc\.Dropdown\(", source)):
            depth, end = 1, start
            while depth:  # the call's arguments: up to its closing parenthesis
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                end += 1
            calls.append((path.name, source[start:end]))
    assert len(calls) >= 11
    assert [c for c in calls if "labels=dropdown_labels(lang)" not in c[1]] == []


def test_the_batch_history_names_kinds_and_states_in_words():
    from dashboards import batches

    seed = {"id": 1, "kind": "seed", "reverts_batch_id": None, "reverted_by_batch_id": 12}
    revert = {"id": 12, "kind": "revert", "reverts_batch_id": 1, "reverted_by_batch_id": None}
    assert batches.kind_label(seed, "zh") == "内置数据" and batches.kind_label(revert, "zh") == "撤销(批次 1)"
    assert batches.state_label(seed, "zh") == "已撤销(由批次 12)" and batches.state_label(revert, "zh") == "有效"
    assert batches.state_label(seed, "en") == "reverted (by batch 12)" and batches.kind_label(revert, "en") == \
        "revert of batch 1"
    note = "revert of batch 3: 2 values removed, 1 restored; 1 regions it created removed: xanadu; typo fixed"
    assert batches.note_text(note, "zh") == "撤销批次 3:移除 2 个数值,恢复 1 个原值；删除其新建的 1 个地区:xanadu；typo fixed"
    assert batches.note_text(note, "en") == note  # the system's words in English, the editor's as written
    assert batches.note_text("shipped reference data", "zh") == "内置参考数据"


def test_the_batches_page_heads_and_marks_its_rows_in_the_pages_language(served, seeded_engine, catalog):
    from dashboards import batches

    loaded = ingest.commit(seeded_engine, ingest.parse_file(UPLOAD.encode(), "one.csv", catalog, seeded_engine),
                           user="editor1").batch_id
    with db.writing(seeded_engine) as conn:
        revert_batch(conn, loaded, user="editor1")
    table = next(c for c in _components(batches.layout(lang="zh")) if getattr(c, "id", None) == "batches-table")
    headers = [c["name"] for c in table.columns]
    assert headers[:3] == ["批次", "类型", "状态"] and not english_words(" ".join(headers))
    rows = {r["id"]: r for r in table.data}
    newest = max(rows)
    assert rows[loaded]["state"] == f"已撤销(由批次 {newest})" and rows[newest]["kind_label"] == f"撤销(批次 {loaded})"
    assert rows[loaded]["kind_label"] == "上传" and rows[1]["kind_label"] == "内置数据" and rows[1]["user"] == "系统"
    assert rows[loaded]["kind"] == "upload" and rows[newest]["reverts_batch_id"] == loaded  # what callbacks read
    shown = " ".join(str(r[c["id"]]) for r in table.data for c in table.columns if c["id"] != "file_name")
    assert not english_words(shown), english_words(shown)


def _formatted(text: Text) -> Text:
    class Filled(dict):
        def __missing__(self, key):
            return {"guess": "gb18030", "confidence": "medium", "encoding": "utf-8"}.get(key, "7")

    return Text(text.zh.format_map(Filled()), text.en.format_map(Filled()))


def test_no_problem_message_gives_command_line_advice_on_the_web():
    from indicators.validation.messages import MESSAGES, for_web

    assert len(MESSAGES) > 40
    for code, message in MESSAGES.items():
        text = _formatted(message.text)
        for lang in ("zh", "en"):
            web = for_web(text.pick(lang), lang)
            assert not re.search(r"--[a-z]", web), (code, lang, web)
        assert not re.search(r"“(high|medium|low)”", for_web(text.zh, "zh")), code
    advice = _formatted(MESSAGES["CONFIDENCE_DEFAULTED"].text)
    assert "--confidence" in advice.en  # the CLI keeps its advice
    assert for_web(advice.en, "en").endswith("or choose a default confidence in the form.")
    assert "已按“中”记录" in for_web(advice.zh, "zh") and "默认可信度" in for_web(advice.zh, "zh")


def test_the_upload_report_says_layout_and_severity_in_words(served):
    from dashboards import upload
    from indicators.validation.render import summarise

    contents = "data:text/csv;base64," + base64.b64encode(UPLOAD.encode()).decode()
    parsed = upload.parse_upload(contents, "one.csv")
    assert "格式: 长表" in summarise(parsed.report, "zh").facts
    assert "layout: long" in summarise(parsed.report, "en").facts
    assert "格式 layout: 长表 long" in summarise(parsed.report).facts  # the CLI prints both
    blocks = upload.render_preview(parsed, "zh")
    problems = next(c for c in _components(blocks) if getattr(c, "id", None) == "upload-problems")
    assert [c["id"] for c in problems.columns] == ["severity", "row", "column", "value", "message"]
    (row,) = problems.data
    assert row["severity"] == "警告" and row["code"] == "CONFIDENCE_DEFAULTED" and "--" not in row["message"]
    assert problems.tooltip_data[0]["message"]["value"].endswith("`CONFIDENCE_DEFAULTED`")
    text = "指标,地区,年份,数值,来源,标记\n研发投入强度,北京,2025,6.61,测试数据(非真实统计),p u\n"
    flagged = upload.parse_upload("data:text/csv;base64," + base64.b64encode(text.encode()).decode(), "two.csv")
    rows = next(c for c in _components(upload.render_preview(flagged, "zh")) if getattr(c, "id", None) == "upload-rows")
    assert rows.data[0]["flags"] == "初步数、可靠性低" and rows.data[0]["flag_codes"] == "p u"
    assert "flag_codes" not in [c["id"] for c in rows.columns]


# --- the data page -----------------------------------------------------------------------------------------

def test_every_data_header_is_read_back_as_its_upload_field():
    from dashboards import data
    from indicators.ingest.fields import match_header

    assert set(data.HEADERS) == set(data.COLUMNS + data.HISTORY_COLUMNS) == set(data.UPLOAD_FIELDS)
    for column, field in data.UPLOAD_FIELDS.items():
        for lang in ("zh", "en"):
            match = match_header(data.header(column, lang))
            assert (match[1] if match else None) == field, (column, lang, match)
    assert not english_words(" ".join(data.header(c, "zh") for c in data.HEADERS))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_download_from_the_page_uploads_again_unchanged(served, dash_app, catalog, lang):
    """The CSV as the route writes it (headers, confidence and flags in the page's language) changes nothing."""
    from dashboards import data

    response = dash_app.server.test_client().get(
        f"{data.CSV_PATH}?lang={lang}&indicators=RD_GDP_RATIO,GIHI_RANK,STARTUPBLINK_SCORE")
    assert response.status_code == 200
    frame = pd.read_csv(io.BytesIO(response.data), encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == [data.header(c, lang) for c in data.COLUMNS]
    flags = frame[data.header("flags", lang)].dropna()
    assert {"序列断点", "修订数、可靠性低"} <= set(flags) if lang == "zh" else \
        {"break in series", "revised, low reliability"} <= set(flags)
    engine = db.default_engine()
    parsed = ingest.parse_file(response.data, f"download-{lang}.csv", catalog, engine)
    assert parsed.report.ok, parsed.report.errors.head(3).to_dict("records")
    assert parsed.diff["status"].value_counts().to_dict() == {"unchanged": len(frame)}


def test_the_year_filter_narrows_the_table_its_count_and_the_downloads(served, dash_app, snap):
    from dashboards import data

    bounds = data.year_bounds(snap)
    assert data.year_filters([bounds[0], bounds[1]], bounds) == ()  # the whole range: nothing filtered
    years = data.year_filters([2018, 2020], bounds)
    everything = data.table_page(snap, ["RD_GDP_RATIO"], [], False, "zh", 0)
    narrowed = data.table_page(snap, ["RD_GDP_RATIO"], [], False, "zh", 0, None, None, years)
    rows, count, csv_href = narrowed[0], narrowed[4], narrowed[6]
    assert rows and {r["year"] for r in rows} <= {2018, 2019, 2020}
    total = int(re.sub(r"\D", "", count))
    assert total < int(re.sub(r"\D", "", everything[4])) and count == f"{total} 行"
    assert "years=2018%2C2020" in csv_href
    frame = pd.read_csv(io.BytesIO(dash_app.server.test_client().get(csv_href).data), encoding="utf-8-sig")
    assert len(frame) == total and set(frame["年份"]) <= {2018, 2019, 2020}
    # the table's own filter row counts too
    filtered = data.table_page(snap, ["RD_GDP_RATIO"], [], False, "zh", 0, "{region} contains bei", None, years)
    assert 0 < int(re.sub(r"\D", "", filtered[4])) < total


def test_the_data_table_shows_confidence_flags_and_statuses_in_words(snap):
    from dashboards import data

    zh = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], True, "zh")
    assert set(zh["confidence"]) <= {"高", "中", "低"} and set(zh["status"]) == {"现行值", "已被修订"}
    assert "修订数、可靠性低" in set(zh["flags"]) and not english_words(" ".join(zh["flags"]))
    en = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], False, "en")
    assert "revised, low reliability" in set(en["flags"])


def test_no_curation_note_reaches_a_reader():
    from pathlib import Path

    notes = pd.concat(pd.read_csv(p, dtype=str)["note"] for p in
                      sorted((Path(__file__).resolve().parents[1] / "data" / "observations").glob("*.csv")))
    curators = re.compile(r"keep only|dashboard|title only|^seed:|Was \d+ until|Was stored|\(file 0\d\)|"
                          r"audit notes|aggregator", re.I)
    assert not [n for n in notes.dropna() if curators.search(n)]


def test_pace_sentences_use_words_not_unit_codes():
    from indicators.progress.wording import _rate

    assert _rate({"rate_unit": "pp/yr"}, 0.0909090909, "zh") == "+0.0909个百分点/年"
    assert _rate({"rate_unit": "percent_per_year/yr"}, -0.25, "zh") == "-0.25个百分点/年"
    assert _rate({"rate_unit": "rank/yr"}, -1.5, "zh") == "-1.5位/年"
    assert _rate({"rate_unit": "pp/yr"}, 12345.6, "zh") == "+12,346个百分点/年"  # never '+1.23e+04'
    assert _rate({"rate_unit": "%/yr"}, 14.4712, "zh") == "+14.47%/年"


# --- in the browser ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(own_app_server):
    """The module's server (its data changes: an upload and a revert), with an editor."""
    engine = db.make_engine(own_app_server.database_url)
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
    finally:
        engine.dispose()
    return own_app_server


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login?next=/upload")
    page.fill("#name", "editor1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/upload")
    settle(page)


def _visible(page, base: str, path: str, lang: str, leave_out: tuple[str, ...] = ()) -> str:
    """The page's text, with the first dropdown's menu open (its search box and 'select all' are texts too)."""
    page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
    settle(page)
    dropdown = page.locator(".dash-dropdown").first
    if dropdown.count():
        dropdown.click()
        page.wait_for_timeout(200)
    text = page.evaluate(VISIBLE_TEXT, list(leave_out))
    page.keyboard.press("Escape")
    return text


def _upload_and_revert(page, server) -> None:
    """An upload previewed and committed in the browser, then reverted: /batches then shows all three kinds."""
    _sign_in(page, server.base)
    page.goto(f"{server.base}/upload?lang=zh")
    settle(page)
    page.set_input_files("#upload-file input[type=file]",
                         files=[{"name": "one.csv", "mimeType": "text/csv", "buffer": UPLOAD.encode()}])
    page.wait_for_selector("#upload-problems", timeout=20_000)
    settle(page)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_chinese_pages_show_none_of_the_english_words_of_the_issue(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        _upload_and_revert(page, server)
        upload_text = page.evaluate(VISIBLE_TEXT, [])
        assert "警告" in upload_text and "长表" in upload_text
        found = {"/upload (report)": english_words(upload_text)}
        page.click("#upload-commit")
        page.wait_for_selector("#upload-committed", timeout=20_000)
        engine = db.make_engine(server.database_url)
        try:
            newest = int(pd.read_sql("select max(id) as id from batches", engine)["id"].iloc[0])
            with db.writing(engine) as conn:
                revert_batch(conn, newest, user="editor1")
        finally:
            engine.dispose()
        for path in PAGES + ["/data?regions=beijing,shanghai,china&history=1", "/batches?batch=1"]:
            text = _visible(page, server.base, path, "zh")
            found[path] = english_words(text)
            if path == "/batches":
                assert "已撤销(由批次" in text and "内置数据" in text and "撤销(批次" in text
        assert not {p: w for p, w in found.items() if w}
    finally:
        context.close()


def _interface_strings() -> set[str]:
    """The Chinese of every interface string (two characters or more), from the shared table and the pages'
    own texts."""
    from dashboards import batches, data, upload
    from indicators.validation import render

    texts = list(STRINGS.values())
    for module in (batches, data, upload, render):
        for value in vars(module).values():
            if isinstance(value, Text):
                texts.append(value)
            elif isinstance(value, dict):
                texts += [v for v in value.values() if isinstance(v, Text)]
    chinese = re.compile(r"[\u4e00-\u9fff]")
    return {part for text in texts for part in re.split(r"\{[^}]*\}", text.zh)
            if len(chinese.findall(part)) >= 2 and part != text.en}


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_english_pages_show_no_chinese_interface_strings(browser, server, catalog, width):
    only_chinese = {t.zh for r in catalog.regions.values() for t in [r.name] if not t.en or t.en == t.zh}
    strings = _interface_strings() - only_chinese
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, server.base)
        found = {}
        for path in PAGES:
            text = _visible(page, server.base, path, "en", ("#methodology-text",))
            found[path] = sorted(s for s in strings if s in text)
        assert not {p: s for p, s in found.items() if s}
    finally:
        context.close()
