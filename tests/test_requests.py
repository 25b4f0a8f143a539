"""Hostile query strings against the served app: every page falls back to its defaults, never a server error
(issue 13, item 7: ``?milestone=²``, a 5,000-digit milestone, ``?years=abc``, ``?indicator=<script>``, 10,000
commas, an unknown pillar, ``lang=xx``, a batch id that is not one).

A Dash page is built in two steps: ``GET /path?query`` returns the same HTML shell for every address, and the
browser then asks the pages router (a callback POST to ``/_dash-update-component`` with the pathname and the
query string) for the page's layout. So each case is requested both ways through the real server: the GET
(status < 500) and the router's callback exactly as the browser sends it (status 200 and a layout). A
representative set is also opened in Chromium, where the page's own callbacks run on the layout's values:
the navigation and the page's heading show, no callback answers 500, and no markup from the address runs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from .support import settle

PAGES = ["/", "/trend", "/gaps", "/compare", "/data", "/briefing", "/upload", "/batches", "/metadata",
         "/methodology"]
SCRIPT = "<script>window.__pwned=1</script>"
HUGE_NUMBER = "9" * 5000

# (name, query string): each is tried on every page; the parameters a page does not know are ignored there.
QUERIES = [
    ("milestone superscript two", "milestone=" + quote("²")),
    ("milestone 5000 digits", "milestone=" + HUGE_NUMBER),
    ("milestone negative", "milestone=-2025"),
    ("milestone arabic-indic digits", "milestone=" + quote("٢٠٢٥")),
    ("milestone twice", "milestone=2025&milestone=2030"),
    ("years letters", "years=abc"),
    ("years reversed and out of range", "years=2100,1000"),
    ("years 5000 digits", f"years={HUGE_NUMBER},{HUGE_NUMBER}"),
    ("years full-width digits", "years=" + quote("２０２０,２０２５")),
    ("indicator script", "indicator=" + quote(SCRIPT)),
    ("indicators script", "indicators=" + quote(SCRIPT) + ",RD_GDP_RATIO"),
    ("indicator twice", "indicator=RD_GDP_RATIO&indicator=GIHI_RANK"),
    ("indicator 100 kB", "indicator=" + "A" * 100_000),
    ("regions 10000 commas", "regions=" + "," * 10_000),
    ("regions 2000 unknown codes", "regions=" + ",".join(f"r{i}" for i in range(2000))),
    ("regions script", "regions=beijing," + quote(SCRIPT)),
    ("pillar unknown", "pillar=no-such-pillar"),
    ("pillar twice", "pillar=science&pillar=talent"),
    ("lang unknown", "lang=xx"),
    ("lang twice", "lang=zh&lang=en"),
    ("batch letters", "batch=abc"),
    ("batch fraction", "batch=1.5"),
    ("batch 5000 digits", "batch=" + HUGE_NUMBER),
    ("history and vintages not flags", "history=" + quote(SCRIPT) + "&vintages=2"),
    ("NUL and invalid UTF-8", "indicator=%00&regions=%ff%fe&lang=%c0%af"),
    ("SQL in every parameter", "&".join(f"{p}=" + quote("' OR 1=1 --") for p in
                                        ("indicator", "indicators", "regions", "pillar", "milestone", "batch"))),
    ("malformed", "&&=&==&%&%%&a=%zz"),
    ("everything at once", "&".join(["milestone=" + quote("²"), "years=abc", "indicator=" + quote(SCRIPT),
                                     "regions=" + "," * 10_000, "pillar=nope", "lang=xx", "batch=abc"])),
]
KNOWN_FAILURES: dict[tuple[str, str], str] = {}  # (page, case) -> why; none left


def _cases():
    for path in PAGES:
        for name, query in QUERIES:
            reason = KNOWN_FAILURES.get((path, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(path, query, id=f"{path} {name}", marks=marks)


CASES = list(_cases())


def _status(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _route(base: str, path: str, query: str) -> tuple[int, bytes]:
    """The pages router's callback for an address, as the browser sends it."""
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": f"?{query}"}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    request = urllib.request.Request(f"{base}/_dash-update-component", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Origin": base,
                                              "Referer": f"{base}{path}"}, method="POST")
    return _status(request)


@pytest.mark.parametrize(("path", "query"), CASES)
def test_a_hostile_query_string_gets_a_page_not_a_server_error(app_server, path, query):
    status, _ = _status(urllib.request.Request(f"{app_server.base}{path}?{query}"))
    assert status < 500
    status, body = _route(app_server.base, path, query)
    assert status == 200, body[:300]
    assert json.loads(body)["response"]["_pages_content"]["children"]  # a layout (markup stays text: see below)


def test_the_router_answers_a_known_page_and_its_heading(app_server):
    """The request the matrix makes is the one that builds a page (a test of the test)."""
    status, body = _route(app_server.base, "/gaps", "lang=en&milestone=2025")
    assert status == 200 and b"Target gaps" in body and b'"value":2025' in body.replace(b" ", b"")


# In the browser: the page's own callbacks run on what the layout made of the query string.
BROWSER_CASES = [
    ("/gaps", "milestone=" + quote("²"), "#gaps-progress"),
    ("/gaps", "milestone=" + HUGE_NUMBER + "&pillar=nope", "#gaps-progress"),
    ("/trend", "years=abc&indicator=" + quote(SCRIPT), "#trend-graph .js-plotly-plot"),
    ("/trend", "regions=" + "," * 10_000 + "&years=" + quote("²,²"), "#trend-graph .js-plotly-plot"),
    ("/trend", "years=2100,1000&vintages=" + quote(SCRIPT), "#trend-graph .js-plotly-plot"),
    ("/compare", "indicator=" + quote(SCRIPT) + "&regions=" + quote(SCRIPT), "#compare-over-time"),
    ("/data", "indicators=" + quote(SCRIPT) + "&regions=" + "," * 10_000 + "&history=x", "#data-table"),
    ("/", "lang=xx", "#freshness"),
    ("/batches", "batch=abc", "#batches-table"),
    ("/batches", "batch=" + HUGE_NUMBER, "#batches-table"),
    ("/metadata", "indicator=" + quote(SCRIPT), "#metadata-unknown"),
    ("/briefing", "pillar=nope&regions=" + "," * 10_000, "#brief-build"),
    ("/upload", "lang=xx&" + "&".join(q for _, q in QUERIES[:3]), "h1"),
]


@pytest.mark.parametrize(("path", "query", "shown"), BROWSER_CASES, ids=[f"{p} {q[:40]}" for p, q, _ in BROWSER_CASES])
def test_a_hostile_address_opens_the_page_with_its_defaults(page, app_server, path, query, shown):
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(f"{app_server.base}{path}?{query}")
    settle(page)
    expect(page.locator("#navbar nav")).to_be_visible()
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator(shown).first).to_be_attached()
    assert failed == []
    assert page.evaluate("() => window.__pwned") is None


def test_the_data_page_sends_one_page_and_filters_on_the_server(page, app_server):
    """Item 3: a response of the data page holds one page of rows, whatever is stored; a filter typed in
    the table's filter row is run on the server and the download link follows it."""
    responses: list = []
    page.on("response", lambda r: responses.append(r) if "/_dash-update-component" in r.url else None)

    def table_responses() -> list[int]:
        """The sizes of the answers to the table's callback (the one whose outputs include its rows)."""
        return [len(r.body()) for r in responses if "..data-table.data.." in (r.request.post_data or "")]

    page.goto(f"{app_server.base}/data?lang=en")
    settle(page)
    count = page.locator("#data-count").inner_text()
    total = int(count.split()[0].replace(",", ""))
    assert total > 50
    expect(page.locator("#data-table tbody tr:has(td)")).to_have_count(25)
    assert table_responses() and max(table_responses()) < 100_000
    region_filter = page.locator("#data-table th.dash-filter[data-dash-column='region'] input[type=text]")
    region_filter.fill("beij")
    region_filter.press("Enter")
    settle(page)
    filtered = int(page.locator("#data-count").inner_text().split()[0].replace(",", ""))
    assert 0 < filtered < total
    cells = page.locator("#data-table td[data-dash-column='region']").all_inner_texts()
    assert cells and all("beij" in c.lower() for c in cells)
    href = page.locator("#data-csv").get_attribute("href")
    assert href.startswith("/data/download.csv?") and "beij" in href
    page.locator("#data-table .next-page").click()
    settle(page)
    assert len(table_responses()) >= 3 and max(table_responses()) < 100_000
    expect(page.locator("#data-table tbody tr:has(td)")).not_to_have_count(0)
