"""How the app is served to a browser: compressed responses and long cache lifetimes for fingerprinted files.

In real Chromium against ``innovation-monitor serve`` (the session's ``app_server``): a cold visit to the
trend page fetches plotly.js compressed and cacheable for at least a day.
"""

from __future__ import annotations

import re

import pytest

from .support import settle, wait_for_chart

pytestmark = pytest.mark.browser


def test_plotly_and_the_app_scripts_arrive_compressed_with_a_long_cache_lifetime(page, app_server):
    seen = {}
    page.on("response", lambda r: seen.setdefault(r.url, r))
    page.goto(app_server.base + "/trend?lang=zh")
    settle(page)
    wait_for_chart(page, "trend-graph")
    scripts = {url: r for url, r in seen.items() if "/_dash-component-suites/" in url and url.endswith(".js")}
    plotly = [r for url, r in scripts.items() if "plotly" in url]
    assert plotly, sorted(scripts)
    for response in [*plotly, *scripts.values()]:
        headers = response.all_headers()
        assert headers.get("content-encoding") in ("zstd", "br", "gzip"), (response.url, headers.get("content-encoding"))
        age = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
        assert age and int(age.group(1)) >= 86_400, (response.url, headers.get("cache-control"))
