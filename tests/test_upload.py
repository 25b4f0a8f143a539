"""Uploading in the browser: editors only, preview and diff, commit, errors that change nothing, revert.

A real server (``innovation-monitor serve``) on a seeded SQLite database with real accounts, driven by
headless Chromium; the "direct call" tests post to Dash's callback endpoint the way a script would. These
tests change data, so the module has a server and database of its own (``own_app_server``); each compares
the database before and after what it does, so their order does not matter.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from indicators import db, queries, users

from .support import BAD, TEST_DATA, database_dump, settle, wait_for_chart

UPLOADS = TEST_DATA / "upload"
PASSWORD = "correct horse battery"
pytestmark = pytest.mark.browser


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


def test_excel_file_renamed_csv_gets_a_clear_message_and_changes_nothing(page, server):
    before = dump(server["url"])
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(BAD / "excel-workbook-renamed.csv"))
    expect(page.locator("#upload-problems")).to_contain_text("Excel", timeout=20_000)
    expect(page.locator("#upload-commit-area")).to_be_hidden()
    assert dump(server["url"]) == before


def test_script_and_formula_payloads_are_shown_as_text(page, server):
    sign_in(page, server["base"], "editor1")
    page.set_input_files("#upload-file input[type=file]", str(UPLOADS / "script-and-formula.csv"))
    expect(page.locator("#upload-rows")).to_contain_text("<script>window.__pwned=1</script>", timeout=20_000)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#upload-rows script").count() == 0


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
                                 headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert "Uploading, committing and reverting need an editor" in response.text()
    assert dump(server["url"]) == before


def test_session_cookie_is_httponly_and_samesite(page, server):
    sign_in(page, server["base"], "viewer1")
    session = next(c for c in page.context.cookies() if c["name"] == "session")
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"
    page.click("#nav-sign-out")
    page.wait_for_load_state()
    expect(page.locator("#nav-sign-in")).to_be_visible()


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
                                 headers={"Content-Type": "application/json"})
    assert response.status == 200 and "need an editor" in response.text()
    assert dump(server["url"]) == before


def test_wrong_password_is_refused_and_rate_limited(page, server):
    for attempt in range(6):
        page.goto(f"{server['base']}/login")
        page.fill("#name", "someone")
        page.fill("#password", f"wrong {attempt}")
        page.click("#sign-in")
        page.wait_for_load_state()
    expect(page.locator("#sign-in-error")).to_contain_text("Too many failed attempts")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "session" not in cookies or not cookies["session"].get("value")
