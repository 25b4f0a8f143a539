"""Uploading in the browser: editors only, preview and diff, commit, errors that change nothing, revert.

A real server (``innovation-monitor serve``) on a seeded SQLite database with real accounts, driven by
headless Chromium; the "direct call" tests post to Dash's callback endpoint the way a script would. These
tests change data, so the module has a server and database of its own (``own_app_server``); each compares
the database before and after what it does, so their order does not matter.

Failed writes (a read-only database, a locked one) and the parse kept between preview and commit are tested
on the page's callbacks called as plain functions inside a signed-in request (no browser, marked so), and
one failure in the browser on a server of its own whose database is read-only.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from indicators import db, failures, ingest, queries, users

from .support import BAD, TEST_DATA, copy_sqlite, database_dump, settle, wait_for_chart

UPLOADS = TEST_DATA / "upload"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(own_app_server):
    """The module's server, with an editor and a viewer account."""
    engine = db.make_engine(own_app_server.database_url)
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
        users.add_user(engine, "viewer1", PASSWORD, "viewer")
    finally:
        engine.dispose()
    return {"base": own_app_server.base, "url": own_app_server.database_url}


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login?next=/upload")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/upload")
    settle(page)


def dump(url: str) -> dict:
    engine = db.make_engine(url)
    try:
        return database_dump(engine)
    finally:
        engine.dispose()


@pytest.mark.browser
def test_editor_uploads_gb18030_previews_commits_and_sees_the_new_point(page, server):
    sign_in(page, server["base"], "editor1")
    expect(page.locator("#nav-account")).to_contain_text("editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "gb18030-chinese-headers.csv"))
    expect(page.locator("#upload-facts")).to_contain_text("gb18030", timeout=20_000)
    expect(page.locator("#upload-facts")).to_contain_text("2 数值")
    expect(page.locator("#upload-diff-summary")).to_have_text("新增 1 · 修订 1 · 不变 0")
    rows = page.locator("#upload-rows").inner_text()
    assert "研发投入强度" in rows and "北京" in rows and "亿元" in rows
    page.fill("#upload-note", "browser test")
    page.click("#upload-commit")
    expect(page.locator("#upload-committed")).to_contain_text("新增 1,修订 1", timeout=20_000)
    page.locator("#upload-committed a", has_text="研发投入强度").click()
    page.wait_for_url("**/trend?**indicator=RD_GDP_RATIO**")
    settle(page)
    wait_for_chart(page, "trend-graph")
    years = page.evaluate("() => Array.from(document.querySelector('#trend-graph .js-plotly-plot')._fullData[0].x).map(Number)")
    values = page.evaluate("() => Array.from(document.querySelector('#trend-graph .js-plotly-plot')._fullData[0].y).map(Number)")
    assert dict(zip(years, values, strict=True))[2025] == 6.61
    batches = queries.batches(db.make_engine(server["url"]))
    assert batches.iloc[-1]["user"] == "editor1" and batches.iloc[-1]["note"] == "browser test"


@pytest.mark.browser
def test_broken_file_shows_errors_and_changes_nothing(page, server):
    before = dump(server["url"])
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "broken.csv"))
    problems = page.locator("#upload-problems")
    expect(problems).to_contain_text("二〇二五", timeout=20_000)
    expect(problems).to_contain_text("数值“abc”无法识别为数字")
    expect(problems).to_contain_text("不存在的指标")
    expect(page.locator("#upload-commit-area")).to_be_hidden()
    assert dump(server["url"]) == before


@pytest.mark.browser
def test_excel_file_renamed_csv_gets_a_clear_message_and_changes_nothing(page, server):
    before = dump(server["url"])
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(BAD / "excel-workbook-renamed.csv"))
    expect(page.locator("#upload-problems")).to_contain_text("Excel", timeout=20_000)
    expect(page.locator("#upload-commit-area")).to_be_hidden()
    assert dump(server["url"]) == before


@pytest.mark.browser
def test_script_and_formula_payloads_are_shown_as_text(page, server):
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "script-and-formula.csv"))
    expect(page.locator("#upload-rows")).to_contain_text("<script>window.__pwned=1</script>", timeout=20_000)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#upload-rows script").count() == 0


@pytest.mark.browser
def test_editor_reverts_a_batch_with_confirmation(page, server):
    before_upload = dump(server["url"])["observations"]
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "script-and-formula.csv"))
    page.click("#upload-commit")
    expect(page.locator("#upload-committed")).to_be_visible(timeout=20_000)
    batches = queries.batches(db.make_engine(server["url"]))
    newest = int(batches.iloc[-1]["id"])
    assert dump(server["url"])["observations"] != before_upload
    page.goto(server["base"] + "/batches?lang=zh")
    settle(page)
    first_id = page.locator("#batches-table td[data-dash-column='id']").first.inner_text()
    assert int(first_id) == newest  # newest first
    page.locator("#batches-table input[type=radio]").first.click()
    expect(page.locator("#batches-detail")).to_contain_text(f"批次 {newest}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#batches-revert")
    expect(page.locator("#batches-reverted")).to_contain_text(f"已撤销批次 {newest}", timeout=20_000)
    assert dump(server["url"])["observations"] == before_upload


def _callback_payload(contents: str, file_name: str) -> dict:
    state = [
        {"id": "upload-file", "property": "contents", "value": contents},
        {"id": "upload-file", "property": "filename", "value": file_name},
        {"id": "upload-encoding", "property": "value", "value": "auto"},
        {"id": "upload-source", "property": "value", "value": None},
        {"id": "upload-confidence", "property": "value", "value": None},
        {"id": "upload-note", "property": "value", "value": "direct call"},
        {"id": "upload-skip", "property": "value", "value": []},
        {"id": "upload-lang", "property": "data", "value": "en"},
        {"id": "upload-year", "property": "value", "value": None},
    ]
    return {"output": "upload-result.children", "outputs": {"id": "upload-result", "property": "children"},
            "inputs": [{"id": "upload-commit", "property": "n_clicks", "value": 1}], "state": state,
            "changedPropIds": ["upload-commit.n_clicks"]}


@pytest.mark.browser
@pytest.mark.parametrize("who", [None, "viewer1"])
def test_visitors_and_viewers_cannot_upload_even_by_calling_the_callback(page, server, who):
    before = dump(server["url"])
    if who:
        sign_in(page, server["base"], who)
    else:
        page.goto(server["base"] + "/upload")
        settle(page)
    expect(page.locator("#upload-need-editor")).to_be_visible()
    data = (UPLOADS / "gb18030-chinese-headers.csv").read_bytes()
    contents = "data:text/csv;base64," + base64.b64encode(data).decode()
    response = page.request.post(server["base"] + "/_dash-update-component",
                                 data=_callback_payload(contents, "sneaky.csv"),
                                 headers={"Content-Type": "application/json", "Origin": server["base"]})
    assert response.status == 200
    assert "Uploading, committing and reverting need an editor" in response.text()
    assert dump(server["url"]) == before


@pytest.mark.browser
def test_session_cookie_is_httponly_and_samesite(page, server):
    sign_in(page, server["base"], "viewer1")
    session = next(c for c in page.context.cookies() if c["name"] == "session")
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"
    page.click("#nav-sign-out")
    page.wait_for_load_state()
    expect(page.locator("#nav-sign-in")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("who", [None, "viewer1"])
def test_visitors_and_viewers_cannot_revert_even_by_calling_the_callback(page, server, who):
    before = dump(server["url"])
    if who:
        sign_in(page, server["base"], who)
    payload = {
        "output": "..batches-result.children...batches-table.data..",
        "outputs": [{"id": "batches-result", "property": "children"}, {"id": "batches-table", "property": "data"}],
        "inputs": [{"id": "batches-confirm", "property": "submit_n_clicks", "value": 1}],
        "state": [{"id": "batches-table", "property": "selected_rows", "value": [0]},
                  {"id": "batches-table", "property": "data", "value": [{"id": 2, "kind": "seed"}]},
                  {"id": "batches-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["batches-confirm.submit_n_clicks"],
    }
    response = page.request.post(server["base"] + "/_dash-update-component", data=payload,
                                 headers={"Content-Type": "application/json", "Origin": server["base"]})
    assert response.status == 200 and "need an editor" in response.text()
    assert dump(server["url"]) == before


@pytest.mark.browser
def test_wrong_password_is_refused_and_rate_limited(page, server):
    # five free attempts; then each waits 1, 2, 4 … s after the previous one: the sixth is refused, or on a
    # slow machine the seventh or eighth
    messages: list[str] = []
    while len(messages) < 8 and "Too many failed attempts" not in (messages or [""])[-1]:
        page.goto(f"{server['base']}/login")
        page.fill("#name", "someone")
        page.fill("#password", f"wrong {len(messages)}")
        page.click("#sign-in")
        page.wait_for_load_state()
        messages.append(page.locator("#sign-in-error").inner_text())
    assert all("Wrong name or password" in m for m in messages[:5]) and len(messages) > 5
    expect(page.locator("#sign-in-error")).to_contain_text("Too many failed attempts; try again in")
    page.goto(server["base"] + "/")
    settle(page)
    expect(page.locator("#nav-sign-in")).to_be_visible()


# The page's callbacks as plain functions (no browser): Dash's decorator gives back the function itself.


def read_only_url(path: Path) -> str:
    """SQLite opens the file read-only: every write fails as on a read-only file system (and for root too,
    whom file permissions do not stop)."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


@pytest.fixture
def page_app():
    import app  # registers the pages

    return app.app


@pytest.fixture
def editor_request(page_app):
    """``with editor_request():`` runs page code inside a request of a signed-in editor."""
    from flask_login import login_user

    from dashboards._auth import WebUser

    @contextmanager
    def request_of():
        with page_app.server.test_request_context("/_dash-update-component", method="POST"):
            login_user(WebUser(users.Account(1, "editor1", "editor", 1)))
            yield

    return request_of


@pytest.fixture
def sqlite_copy(page_app, seeded_sqlite, tmp_path, monkeypatch):
    """A copy of the seeded SQLite database that the page reads (DATABASE_URL), and a short busy timeout so
    that a locked database fails in a moment, not after 30 s. Returns its path."""
    path = tmp_path / "page.sqlite3"
    copy_sqlite(seeded_sqlite, path)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    from dashboards import upload

    upload.PARSES.clear()
    yield path
    db.dispose_engines()


def contents_of(path: Path) -> str:
    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


def texts_of(component) -> str:
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(texts_of(c) for c in component)
    return texts_of(getattr(component, "children", None))


def preview(contents: str, encoding: str = "auto", lang: str = "en"):
    from dashboards import upload

    return upload.preview(contents, encoding, None, None, None, "gb.csv", lang)


def commit(contents: str, lang: str = "en", encoding: str = "auto"):
    from dashboards import upload

    return upload.commit(1, contents, "gb.csv", encoding, None, None, "page test", [], lang, None)


def dump_of(url: str) -> dict:
    engine = db.make_engine(url)
    try:
        return database_dump(engine)
    finally:
        engine.dispose()


def test_a_read_only_database_is_said_on_the_page_and_nothing_is_lost(sqlite_copy, editor_request, monkeypatch):
    url = read_only_url(sqlite_copy)
    monkeypatch.setenv("DATABASE_URL", url)
    before = dump_of(url)
    contents = contents_of(UPLOADS / "gb18030-chinese-headers.csv")
    with editor_request():
        shown, hidden, _ = preview(contents)
        assert not hidden and "gb18030" in texts_of(shown)  # reading works: the preview is there
        alert = commit(contents)
    assert (alert.id, alert.color) == ("upload-failed", "danger")
    said = texts_of(alert)
    assert failures.READ_ONLY.zh in said and failures.READ_ONLY.en in said
    assert "The file and your choices are still on this page" in said
    assert dump_of(url) == before


def test_a_locked_database_is_said_on_the_page_and_the_same_commit_works_once_free(sqlite_copy, editor_request):
    url = f"sqlite:///{sqlite_copy}"
    before = dump_of(url)
    contents = contents_of(UPLOADS / "gb18030-chinese-headers.csv")
    holder = sqlite3.connect(sqlite_copy, isolation_level=None)
    try:
        with editor_request():
            preview(contents)
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
            alert = commit(contents, lang="zh")
            assert (alert.id, alert.color) == ("upload-failed", "danger")
            said = texts_of(alert)
            assert failures.LOCKED.zh in said and failures.LOCKED.en in said and "文件和所选项仍在本页" in said
            assert dump_of(url) == before
            holder.execute("ROLLBACK")
            again = commit(contents, lang="en")  # the same file and choices, as the page still holds them
        assert again.id == "upload-committed"
        assert dump_of(url) != before
    finally:
        holder.close()


def test_an_unexpected_failure_is_said_without_the_command_line_advice(sqlite_copy, editor_request, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(ingest, "commit", broken)
    with editor_request():
        alert = commit(contents_of(UPLOADS / "gb18030-chinese-headers.csv"))
    said = texts_of(alert)
    assert alert.id == "upload-failed" and "(ZeroDivisionError)" in said and "--debug" not in said
    assert "server's log" in said


def test_preview_download_and_commit_parse_a_file_once_per_options(sqlite_copy, editor_request):
    """Changing the encoding and back, downloading the report and committing reuse the parse; the commit
    is the preview's parse, and still writes what a fresh parse would."""
    from dashboards import upload

    contents = contents_of(UPLOADS / "gb18030-chinese-headers.csv")
    start = upload.PARSES.parses
    with editor_request():
        preview(contents)
        assert upload.PARSES.parses - start == 1
        preview(contents, encoding="gb18030")  # other options: parsed again
        preview(contents)
        upload.download_report(1, contents, "gb.csv", "auto", None, None, None)
        assert upload.PARSES.parses - start == 2
        alert = commit(contents)
        assert alert.id == "upload-committed" and upload.PARSES.parses - start == 2
        shown = preview(contents)[0]  # a batch came since: parsed again, and the file is known as loaded
        assert upload.PARSES.parses - start == 3
        assert "This file was loaded before" in texts_of(shown)


def test_a_kept_parse_is_the_parse(seeded_engine, catalog):
    """The cache in front of parse_file gives what parse_file gives, and a parse again after a batch."""
    content = (UPLOADS / "gb18030-chinese-headers.csv").read_bytes()
    options = ingest.IngestOptions()
    cache = ingest.ParseCache(files=2)
    kept = cache.parse(content, "gb.csv", catalog, seeded_engine, options)
    plain = ingest.parse_file(content, "gb.csv", catalog, seeded_engine, options)
    assert kept.report.to_dict() == plain.report.to_dict()
    assert kept.rows.equals(plain.rows) and kept.diff.equals(plain.diff)
    assert cache.parse(content, "gb.csv", catalog, seeded_engine, options) is kept
    assert cache.parse(content, "other.csv", catalog, seeded_engine, options) is not kept  # the name is reported
    ingest.commit(seeded_engine, kept, user="tester")
    after = cache.parse(content, "gb.csv", catalog, seeded_engine, options)
    assert after is not kept and after.already_loaded_as is not None and cache.parses == 3


def test_the_parse_cache_is_bounded(seeded_engine, catalog):
    """At most ``files`` files and ``values`` values, the least recently used dropped first."""
    content = (UPLOADS / "gb18030-chinese-headers.csv").read_bytes()  # 2 values
    options = ingest.IngestOptions()
    cache = ingest.ParseCache(files=2, values=5)

    def parse(name: str) -> ingest.ParsedFile:
        return cache.parse(content, name, catalog, seeded_engine, options)

    a = parse("a.csv")
    parse("b.csv")
    assert parse("a.csv") is a  # kept, and now the most recent
    parse("c.csv")  # a third file: b, the least recent, goes
    assert parse("a.csv") is a and cache.parses == 3
    parse("b.csv")
    assert cache.parses == 4
    small = ingest.ParseCache(files=4, values=3)  # values: two files of 2 are too many
    first = small.parse(content, "a.csv", catalog, seeded_engine, options)
    small.parse(content, "b.csv", catalog, seeded_engine, options)
    assert small.parse(content, "a.csv", catalog, seeded_engine, options) is not first


@pytest.fixture
def read_only_server(tmp_path, seeded_sqlite):
    """The app on a read-only copy of the seeded database with an editor (sign-in only reads)."""
    from tools.screenshots import free_port, start_server

    path = tmp_path / "ro.sqlite3"
    copy_sqlite(seeded_sqlite, path)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
    finally:
        engine.dispose()
    copy_sqlite(path, tmp_path / "folded.sqlite3")  # fold the log: a read-only database cannot
    path = tmp_path / "folded.sqlite3"
    url = read_only_url(path)
    import os

    port = free_port()
    proc = start_server(port, dict(os.environ, DATABASE_URL=url, INNOVATION_MONITOR_INSTANCE=str(tmp_path / "i")))
    try:
        yield {"base": f"http://127.0.0.1:{port}", "url": url}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.browser
def test_a_failed_write_shows_both_languages_and_keeps_the_preview(page, read_only_server):
    before = dump(read_only_server["url"])
    sign_in(page, read_only_server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "gb18030-chinese-headers.csv"))
    expect(page.locator("#upload-facts")).to_contain_text("gb18030", timeout=20_000)
    page.click("#upload-commit")
    failed = page.locator("#upload-failed")
    expect(failed).to_contain_text(failures.READ_ONLY.zh, timeout=20_000)
    expect(failed).to_contain_text(failures.READ_ONLY.en)
    expect(page.locator("#upload-facts")).to_contain_text("gb18030")  # the preview is still there
    expect(page.locator("#upload-commit")).to_be_visible()
    assert dump(read_only_server["url"]) == before


def test_an_editor_scoped_to_an_agency_commits_and_reverts_only_what_it_owns(sqlite_copy, page_app):
    """The file's indicators (R&D intensity, technology contracts) belong to other agencies than the one the
    editor is scoped to: the commit callback refuses on the server and writes nothing; an unscoped editor's
    batch cannot be reverted by the scoped one either."""
    from flask_login import login_user

    from dashboards import batches
    from dashboards._auth import WebUser
    from indicators.catalog import load_catalog

    from .support import CATALOG_DIR

    catalog = load_catalog(CATALOG_DIR)
    codes = {"RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER"}
    other = next(a for a in catalog.agencies if not codes & set(catalog.owned_by(a)))
    url = f"sqlite:///{sqlite_copy}"
    before = dump_of(url)
    contents = contents_of(UPLOADS / "gb18030-chinese-headers.csv")

    def as_account(account):
        with page_app.server.test_request_context("/_dash-update-component", method="POST"):
            login_user(WebUser(account))
            return commit(contents, lang="zh")

    refused = as_account(users.Account(2, "scoped1", "editor", 1, agency=other))
    assert refused.id == "upload-scope-refused" and "RD_GDP_RATIO" in texts_of(refused)
    assert dump_of(url) == before
    done = as_account(users.Account(1, "editor1", "editor", 1))
    assert done.id == "upload-committed"
    batch = int(re.search(r"批次 (\d+)", texts_of(done)).group(1))  # the page speaks Chinese here
    with page_app.server.test_request_context("/_dash-update-component", method="POST"):
        login_user(WebUser(users.Account(2, "scoped1", "editor", 1, agency=other)))
        alert = batches.do_revert(batch, "en")
    assert alert.id == "batches-scope-refused" and "may not change other agencies' indicators" in texts_of(alert)
