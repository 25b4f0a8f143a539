"""The plan's monitoring pages (issue 15): tasks, release calendar and changes, in headless Chromium in both
languages, and their query parameters as plain functions.

The tasks tests change data (an editor sets a status through the form), so the module has a server and a
database of its own (``own_app_server``). The changes page is shown a value loaded through the store for the
test (marked as test data), the calendar is computed for a fixed ``?today=``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from indicators import calendar as releases
from indicators import db, queries, tasks, users
from indicators.store import apply_batch

from .support import batch_frame, settle

PASSWORD = "correct horse battery"
LANGS = ["zh", "en"]
TODAY = date(2026, 12, 1)  # the calendar's day in these tests
# The value loaded for the changes page: a year no source gives, so nothing else can be it; with no publication
# date it is known from when it is loaded (today).
TEST_VALUE = ("indicator_code,region_code,year,value,source,confidence\n"
              "RD_GDP_RATIO,beijing,1999,1.23,测试数据(非真实统计) test data,high\n")
# The text a person reads on the page below the navigation (whose language switch says "English" on purpose).
VISIBLE_TEXT = """() => {
    const copy = document.getElementById('page').cloneNode(true);
    copy.querySelectorAll('script, style, noscript, code').forEach(e => e.remove());
    document.body.appendChild(copy);
    copy.style.position = 'absolute';
    const text = copy.innerText;
    copy.remove();
    return text;
}"""


@pytest.fixture(scope="module")
def server(own_app_server, catalog):
    """The module's server with an editor, a viewer and an editor scoped to the statistics bureau (which
    leads and shares no task), and a test value that arrived today."""
    engine = db.make_engine(own_app_server.database_url)
    try:
        users.add_user(engine, "editor1", PASSWORD, "editor")
        users.add_user(engine, "viewer1", PASSWORD, "viewer")
        users.add_user(engine, "stats1", PASSWORD, "editor", agency="bj-stats", catalog=catalog)
        with db.writing(engine) as conn:
            apply_batch(conn, batch_frame(TEST_VALUE), kind="upload", user="editor1", file_name="test-data.csv")
    finally:
        engine.dispose()
    return {"base": own_app_server.base, "url": own_app_server.database_url}


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login?next=/tasks")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/tasks")
    settle(page)


def statuses(url: str):
    engine = db.make_engine(url)
    try:
        return tasks.status_history(engine)
    finally:
        engine.dispose()


def catalog_words(catalog) -> set[str]:
    """The Latin words the catalog's Chinese texts hold (names such as "StartupBlink"): data, not interface."""
    texts = [i.short_name.zh for i in catalog.indicators.values()] + [a.name.zh for a in catalog.agencies.values()]
    texts += [r.name.zh for r in catalog.regions.values()] + [t.title.zh for t in catalog.tasks.values()]
    texts += [m.text.zh for t in catalog.tasks.values() for m in t.milestones]
    return {w for text in texts for w in re.findall(r"[A-Za-z]{2,}", text)}


def latin_words(page: Page, allowed: set[str]) -> list[str]:
    """The words of three Latin letters or more a person reads on the page that are not the catalog's names
    (task ids, dates and addresses are not words)."""
    text = re.sub(r"https?://\S+", " ", page.evaluate(VISIBLE_TEXT))
    return sorted({w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed})


def fits_the_screen(page: Page) -> bool:
    """Nothing wider than the screen: a wide table scrolls inside its frame or reflows, the page does not."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


# The query parameters, without a browser.


@pytest.fixture(scope="module")
def pages():
    import app  # noqa: F401 - registers the pages (a page module is imported after the app)
    from dashboards import calendar, changes

    return calendar, changes


def test_a_period_falls_back_to_the_last_90_days_and_swaps_a_reversed_one(pages):
    changes = pages[1]

    today = date.today()
    default = (today - timedelta(days=90), today, False)
    cases = [
        (None, None, default),
        ("nonsense", "2026-02-30", default),
        (["2025-01-01", "2025-02-01"], None, (date(2025, 1, 1), today, False)),
        ("2025-03-01", "2025-01-01", (date(2025, 1, 1), date(2025, 3, 1), True)),
        ("1999-12-31", "9999-01-01", default),  # before 2000, after today: not days a report compares
        ("２０２５-01-01", "2025-1-1", default),  # full-width digits, an unpadded date
    ]
    for start, end, expected in cases:
        assert changes.period(start, end) == expected, (start, end)


def test_the_calendar_day_is_a_date_or_today(pages):
    calendar = pages[0]

    assert calendar.parse_today("2026-12-01") == date(2026, 12, 1)
    for value in (None, "", "2026-02-30", "2026-12-1", "1900-01-01", "2026-12-01" * 30, ["x"], "٢٠٢٦-١٢-٠١"):
        assert calendar.parse_today(value) == date.today(), value


# The tasks page.


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_the_tasks_page_lists_every_task_with_no_form_for_a_visitor(page, server, catalog, lang):
    page.goto(f"{server['base']}/tasks?lang={lang}&status=nonsense&pillar=%E2%80%AE")
    settle(page)
    expect(page.locator("h1")).to_have_text({"zh": "规划任务进展", "en": "Plan tasks"}[lang])
    rows = page.locator("tr.im-task-row")
    assert rows.count() == len(catalog.tasks) >= 25
    assert page.locator(".im-task-form").count() == 0
    row = page.locator("#tasks-row-T3-2")  # led by the S&T commission, with partners and an evidence indicator
    expect(row).to_contain_text({"zh": "北京市科学技术委员会", "en": "Beijing Municipal Science"}[lang])
    link = row.locator("a[href*='/trend?']").first
    assert "indicator=BASIC_RESEARCH_EXPENDITURE" in link.get_attribute("href")
    assert row.locator("a[href*='/metadata?']").count() >= 1
    if lang == "zh":
        assert not latin_words(page, catalog_words(catalog))
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)


@pytest.mark.browser
def test_the_agency_filter_keeps_the_tasks_it_leads_or_shares(page, server):
    page.goto(f"{server['base']}/tasks?lang=en&agency=ndrc")
    settle(page)
    expect(page.locator("tr.im-task-row")).to_have_count(1)
    expect(page.locator("#tasks-row-T3-2")).to_be_visible()


@pytest.mark.browser
def test_an_editor_sets_a_task_at_risk_and_it_comes_first(page, server):
    before = len(statuses(server["url"]))
    sign_in(page, server["base"], "editor1")
    page.goto(f"{server['base']}/tasks?lang=zh")
    settle(page)
    form = page.locator("#tasks-form-T6-4")
    form.locator("summary").click()
    form.locator("select").select_option("at_risk")
    form.locator("textarea").fill("测试数据:进度低于计划")
    form.locator("input[type=text]").last.fill("https://example.org/test-evidence")
    form.locator("button").click()
    expect(page.locator("#tasks-saved")).to_contain_text("任务 T6-4 的状态已设为“存在风险”")
    settle(page)
    first = page.locator("tr.im-task-row").first
    expect(first).to_have_id("tasks-row-T6-4")
    expect(first.locator("#tasks-badge-T6-4")).to_have_text("存在风险")
    expect(first).to_contain_text("测试数据:进度低于计划")
    first.locator("#tasks-history-T6-4 summary").click()
    expect(page.locator("#tasks-history-T6-4")).to_contain_text("editor1")
    history = statuses(server["url"])
    assert len(history) == before + 1
    assert history.iloc[-1][["task", "status", "user"]].tolist() == ["T6-4", "at_risk", "editor1"]
    page.goto(f"{server['base']}/tasks?lang=en")  # delayed and at-risk first in English too
    settle(page)
    expect(page.locator("tr.im-task-row").first.locator(".im-badge").first).to_have_text("at risk")


MISSING = {"zh": ["缺少说明。每个状态都需要一句说明。", "缺少证据链接。"],
           "en": ["the note is missing", "the evidence link is missing"]}


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_a_form_without_a_note_shows_the_problems_and_writes_nothing(page, server, lang):
    before = statuses(server["url"])
    sign_in(page, server["base"], "editor1")
    page.goto(f"{server['base']}/tasks?lang={lang}")
    settle(page)
    form = page.locator("#tasks-form-T4-4")
    form.locator("summary").click()
    form.locator("select").select_option("done")
    form.locator("button").click()
    problems = form.locator("#tasks-problems")
    for words in MISSING[lang]:
        expect(problems).to_contain_text(words)
    if lang == "zh":  # a form has no lines nor CSV columns to name
        assert not re.search(r"[A-Za-z]|第 \d+ 行", problems.inner_text())
    assert statuses(server["url"]).equals(before)


@pytest.mark.browser
def test_a_viewer_sees_no_form(page, server):
    sign_in(page, server["base"], "viewer1")
    expect(page.locator("tr.im-task-row").first).to_be_visible()
    assert page.locator(".im-task-form").count() == 0


def _save_payload(task: str, lang: str = "en") -> dict:
    """The save callback as the browser posts it, for one task's form."""
    key = {"task": task, "type": "tasks-form-save"}

    def state(kind: str, prop: str, value) -> dict:
        return {"id": {"task": task, "type": f"tasks-form-{kind}"}, "property": prop, "value": value}

    return {
        "output": "..tasks-feedback.children...tasks-version.data...{\"task\":[\"ALL\"],\"type\":\"tasks-form-result\"}.children..",
        "outputs": [{"id": "tasks-feedback", "property": "children"}, {"id": "tasks-version", "property": "data"},
                    [{"id": {"task": task, "type": "tasks-form-result"}, "property": "children"}]],
        "inputs": [[{"id": key, "property": "n_clicks", "value": 1}]],
        "state": [[state("status", "value", "done")], [state("date", "date", date.today().isoformat())],
                  [state("note", "value", "测试数据:直接调用回调")], [state("evidence", "value", "https://example.org/x")],
                  {"id": "tasks-lang", "property": "data", "value": lang},
                  {"id": "tasks-version", "property": "data", "value": 0}],
        "changedPropIds": ['{"task":"' + task + '","type":"tasks-form-save"}.n_clicks'],
    }


@pytest.mark.browser
@pytest.mark.parametrize("who", [None, "viewer1", "stats1"])
def test_the_save_callback_posted_directly_is_refused_unless_the_account_may(page, server, who):
    before = statuses(server["url"])
    if who:
        sign_in(page, server["base"], who)
    else:
        page.goto(f"{server['base']}/tasks")
        settle(page)
    assert page.locator(".im-task-form").count() == 0  # the statistics bureau leads and shares no task
    response = page.request.post(server["base"] + "/_dash-update-component", data=_save_payload("T3-2"),
                                 headers={"Content-Type": "application/json", "Origin": server["base"]})
    assert response.status == 200, response.text()
    expected = "may not set the status of task T3-2" if who == "stats1" else "needs an editor to sign in"
    assert expected in response.text()
    assert statuses(server["url"]).equals(before)


@pytest.mark.browser
def test_the_save_callback_posted_directly_by_an_editor_writes(page, server):
    """The payload above is what the page posts: an editor of no agency gets the status written."""
    sign_in(page, server["base"], "editor1")
    response = page.request.post(server["base"] + "/_dash-update-component", data=_save_payload("T6-5"),
                                 headers={"Content-Type": "application/json", "Origin": server["base"]})
    assert response.status == 200 and "Task T6-5 set to" in response.text(), response.text()
    assert statuses(server["url"]).iloc[-1][["task", "status"]].tolist() == ["T6-5", "done"]


# The calendar page.


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_the_calendar_marks_what_is_overdue_on_a_given_day(page, server, catalog, lang):
    engine = db.make_engine(server["url"])
    try:
        expected = releases.calendar(queries.observations(engine), catalog, TODAY, lang=lang)
    finally:
        engine.dispose()
    overdue = expected[expected["overdue"]]
    assert len(overdue), "the shipped data has something overdue on this day"
    page.goto(f"{server['base']}/calendar?lang={lang}&today={TODAY.isoformat()}")
    settle(page)
    expect(page.locator("#calendar-subtitle")).to_contain_text(TODAY.isoformat())
    assert page.locator("tr[data-overdue='1']").count() == len(overdue)
    late = overdue.iloc[0]
    row = page.locator(f"#calendar-row-{late['indicator']}")
    expect(row).to_have_attribute("data-overdue", "1")
    days = {"zh": f"逾期 {late['days_overdue']} 天", "en": f"overdue {late['days_overdue']} days"}[lang]
    expect(row).to_contain_text(days)
    expect(row).to_contain_text(late["next_release"].isoformat())
    expect(row).to_contain_text(late["rule"])
    if lang == "zh":
        assert not latin_words(page, catalog_words(catalog))
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)


@pytest.mark.browser
def test_the_owner_filter_shows_one_owner(page, server):
    page.goto(f"{server['base']}/calendar?lang=en&owner=bj-stats")
    settle(page)
    expect(page.locator("section[id^='calendar-owner-']")).to_have_count(1)
    expect(page.locator("#calendar-owner-bj-stats")).to_contain_text("Beijing Municipal Bureau of Statistics")


# The changes page.


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_the_changes_page_shows_a_value_that_arrived_between_two_dates(page, server, catalog, lang):
    start, end = date.today() - timedelta(days=1), date.today()
    page.goto(f"{server['base']}/changes?lang={lang}&from={start.isoformat()}&to={end.isoformat()}")
    settle(page)
    expect(page.locator("#changes-period")).to_have_text(f"{start.isoformat()} → {end.isoformat()}")
    values = page.locator("#changes-table-values")
    row = values.locator("tr", has_text="1999")
    expect(row).to_have_count(1)
    expect(row).to_contain_text({"zh": "新增", "en": "arrived"}[lang])
    expect(row).to_contain_text("1.23")
    expect(row).to_contain_text({"zh": "北京", "en": "Beijing"}[lang])
    for section in ("values", "statuses", "ranks", "tasks"):
        expect(page.locator(f"#changes-{section} h2")).to_be_visible()
    if lang == "zh":
        assert not latin_words(page, catalog_words(catalog))
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)


@pytest.mark.browser
def test_the_changes_page_falls_back_to_the_last_90_days(page, server):
    page.goto(f"{server['base']}/changes?lang=en&from=yesterday&to=%F0%9F%92%A5")
    settle(page)
    today = date.today()
    expect(page.locator("#changes-period")).to_have_text(
        f"{(today - timedelta(days=90)).isoformat()} → {today.isoformat()}")
    # the newest batch is the test value's, made today: "since the last batch" compares yesterday with today
    since = page.locator("#changes-since-batch")
    expect(since).to_have_attribute("href", re.compile(f"from={(today - timedelta(days=1)).isoformat()}&to={today}"))
