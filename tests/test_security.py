"""The browser's defences, tried as an attacker would: security headers and a CSP every page runs under,
requests from other sites refused (callbacks, sign-in, sign-out), no framing, and the client's address taken
from a proxy only when it is trusted.

Headers and the origin check through the app's Flask test client; the CSP, cross-site forms and frames in
headless Chromium against ``innovation-monitor serve``; the proxy settings against ``serve`` processes, one
of them started with ``INNOVATION_MONITOR_PROXIES=1`` (waitress's trusted-proxy settings).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page

from indicators import db, users
from tools.screenshots import free_port, start_server

from .support import copy_sqlite, settle, wait_for_chart

PASSWORD = "correct horse battery"
SITE = "http://localhost"  # the test client's own origin
EVIL = "http://evil.example"
HOME, ATTACKER = "198.51.100.7", "203.0.113.66"
PAGES = ["/", "/trend", "/gaps", "/compare", "/data", "/methodology", "/briefing", "/upload", "/batches",
         "/metadata", "/login"]
NAVBAR_CALLBACK = {
    "output": "navbar.children", "outputs": {"id": "navbar", "property": "children"},
    "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
               {"id": "_pages_location", "property": "search", "value": ""}],
    "changedPropIds": ["_pages_location.pathname"],
}


# Headers and the origin check, through the test client (SQLite is enough: nothing here reads data twice)


@pytest.fixture
def client(seeded_url, tmp_path, monkeypatch):
    import app as shell

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("INNOVATION_MONITOR_INSTANCE", str(tmp_path / "instance"))
    users.add_user(db.default_engine(), "wang", PASSWORD, "editor")
    yield shell.server.test_client()
    db.dispose_engines()


sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _responses(client) -> dict[str, object]:
    return {
        "page": client.get("/"),
        "sign-in form": client.get("/login"),
        "asset": client.get("/assets/10-style.css"),
        "layout": client.get("/_dash-layout"),
        "unknown page": client.get("/no-such-page"),
        "callback": client.post("/_dash-update-component", json=NAVBAR_CALLBACK, headers={"Origin": SITE}),
        "refused callback": client.post("/_dash-update-component", json=NAVBAR_CALLBACK, headers={"Origin": EVIL}),
    }


@sqlite_only
def test_every_response_carries_the_security_headers(client):
    for what, response in _responses(client).items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", what
        assert headers["X-Frame-Options"] == "DENY", what
        assert headers["Referrer-Policy"] == "same-origin", what
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", what
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"], what
        assert "Strict-Transport-Security" not in headers, what  # plain HTTP: HSTS would mean nothing


@sqlite_only
def test_hsts_is_sent_behind_https(client, monkeypatch):
    monkeypatch.setenv("INNOVATION_MONITOR_SECURE_COOKIES", "1")
    for what, response in _responses(client).items():
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", what


@sqlite_only
def test_the_csp_allows_exactly_the_inline_scripts_of_the_page(client):
    """Every inline script of Dash's index page has its hash in the policy (Dash's renderer, the clientside
    callbacks); nothing else inline may run."""
    import base64
    import hashlib

    response = client.get("/")
    markup = re.sub(r"<!--.*?-->", "", response.text, flags=re.S)  # Dash's note for Internet Explorer never runs
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", markup, re.S)
    assert len(scripts) >= 2  # the renderer and at least one clientside callback
    policy = response.headers["Content-Security-Policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


# Origin (or Referer) of a callback request -> the status it gets
ORIGIN_CASES = [
    ({"Origin": SITE}, 200),
    ({"Origin": SITE, "Referer": f"{EVIL}/page"}, 200),  # Origin is what counts when it is there
    ({"Referer": f"{SITE}/trend?lang=en"}, 200),  # no Origin: the Referer's origin
    ({"Origin": EVIL}, 403),
    ({"Origin": "null"}, 403),  # a sandboxed frame or a data: page
    ({"Origin": "http://localhost:8050"}, 403),  # another port is another site
    ({"Origin": "https://localhost"}, 403),  # and another scheme
    ({"Origin": "http://localhost.evil.example"}, 403),
    ({"Referer": f"{EVIL}/"}, 403),
    ({}, 403),  # browsers send Origin on every POST: a request with neither is not from a page of ours
]


@sqlite_only
@pytest.mark.parametrize(("headers", "status"), ORIGIN_CASES)
def test_a_callback_request_must_come_from_this_site(client, headers, status):
    response = client.post("/_dash-update-component", json=NAVBAR_CALLBACK, headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert "request from another site refused" in response.text


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def _signed_in(client) -> bool:
    response = client.post("/_dash-update-component", json=NAVBAR_CALLBACK, headers={"Origin": SITE})
    return '"nav-account"' in response.text


@sqlite_only
def test_signing_in_needs_the_token_of_the_browsers_own_session(client):
    import app as shell

    attacker = shell.server.test_client()
    attackers_token = _token(attacker)
    form = {"name": "wang", "password": PASSWORD}
    for token in (None, "", "guessed", attackers_token):  # a cross-site form can only send someone else's
        data = form if token is None else {**form, "csrf_token": token}
        response = client.post("/login", data=data, headers={"Origin": SITE})
        assert response.status_code == 403 and "the form has expired" in response.text
        assert not _signed_in(client)
    assert client.post("/login", data={**form, "csrf_token": _token(client)}, headers={"Origin": SITE}).status_code == 302
    assert _signed_in(client)


@sqlite_only
def test_sign_in_from_another_origin_is_refused_even_with_a_valid_token(client):
    data = {"name": "wang", "password": PASSWORD, "csrf_token": _token(client)}
    assert client.post("/login", data=data, headers={"Origin": EVIL}).status_code == 403
    assert not _signed_in(client)


# In Chromium, against the served app


@pytest.fixture(scope="module")
def server(own_app_server):
    """The module's server, with an editor account (the attacker's own, for the login CSRF)."""
    engine = db.make_engine(own_app_server.database_url)
    try:
        users.add_user(engine, "mallory", PASSWORD, "editor")
    finally:
        engine.dispose()
    return own_app_server.base


VIOLATIONS = """() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation',
        e => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
}"""


@pytest.mark.browser
def test_every_page_runs_under_the_csp_and_draws_its_charts(page: Page, server):
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.add_init_script(f"({VIOLATIONS})()")
    for path in PAGES:
        response = page.goto(server + path)
        assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
        if path != "/login":
            settle(page)
        problems += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
    assert problems == []
    page.goto(f"{server}/trend?lang=en")
    wait_for_chart(page, "trend-graph")
    assert page.locator("#trend-graph svg.main-svg .scatterlayer .trace").count() > 0
    # the listener sees what the policy blocks: an inline script nobody listed
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__injected = true;'; document.body.appendChild(s); }""")
    page.wait_for_function("window.__violations.some(v => v.startsWith('script-src'))")
    assert page.evaluate("window.__injected === undefined")


def _evil_site(page: Page, body: str) -> None:
    """Serve ``body`` as the page at http://evil.example/ (another site: cookies are not sent to ours)."""
    page.route(f"{EVIL}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=body))


@pytest.mark.browser
def test_a_form_on_another_site_cannot_sign_a_visitor_in(page: Page, server):
    # login CSRF: the attacker's form, with the attacker's name, password and token of the attacker's session
    attacker = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', attacker.get(f"{server}/login").text).group(1)
    _evil_site(page, f"""<form id="f" method="post" action="{server}/login">
        <input name="name" value="mallory"><input name="password" value="{PASSWORD}">
        <input name="csrf_token" value="{token}"></form><script>document.getElementById('f').submit()</script>""")
    with page.expect_response(f"{server}/login") as answer:
        page.goto(f"{EVIL}/")
    assert answer.value.status == 403
    page.goto(server + "/")
    settle(page)
    assert page.locator("#nav-sign-in").is_visible() and page.locator("#nav-account").count() == 0


@contextmanager
def another_site(body: str) -> Iterator[str]:
    """A page served at http://127.0.0.1:<another port>/ (on this machine: Chromium does not let a public site
    frame a local address at all, so a routed evil.example could not show what the headers do)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()


@pytest.mark.browser
def test_the_app_cannot_be_framed_by_another_site(page: Page, server):
    refusals: list[str] = []
    page.on("console", lambda msg: refusals.append(msg.text) if "frame" in msg.text else None)
    with another_site(f'<iframe id="app" src="{server}/"></iframe>') as other, \
            page.expect_response(f"{server}/") as answer:
        page.goto(f"{other}/")
    assert answer.value.status == 200 and answer.value.headers["x-frame-options"] == "DENY"
    page.wait_for_timeout(500)
    assert page.frame_locator("#app").locator("#react-entry-point").count() == 0
    assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refusals), refusals


@pytest.mark.browser
def test_signing_out_in_the_browser_ends_a_copied_session(page: Page, server, browser):
    page.goto(f"{server}/login?next=/")
    page.fill("#name", "mallory")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server}/")
    settle(page)
    copy = browser.new_context()
    try:
        copy.add_cookies([c for c in page.context.cookies() if c["name"] == "session"])
        other = copy.new_page()
        other.goto(server + "/")
        settle(other)
        assert other.locator("#nav-account").is_visible()
        page.click("#nav-sign-out")  # a POST form with the session's token
        page.wait_for_url(f"{server}/")
        settle(page)
        assert page.locator("#nav-sign-in").is_visible()
        other.reload()
        settle(other)
        assert other.locator("#nav-sign-in").is_visible() and other.locator("#nav-account").count() == 0
    finally:
        copy.close()


# The client's address: X-Forwarded-For counts only from a trusted proxy


class Visitor:
    """Someone signing in over HTTP through a proxy that says the client is at ``forwarded_for``."""

    def __init__(self, base: str) -> None:
        self.base, self.session = base, requests.Session()
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', self.session.get(f"{base}/login").text).group(1)

    def sign_in(self, name: str, password: str, forwarded_for: str) -> int:
        headers = {"Origin": self.base, "X-Forwarded-For": forwarded_for}
        data = {"name": name, "password": password, "csrf_token": self.token}
        return self.session.post(f"{self.base}/login", data=data, headers=headers, allow_redirects=False).status_code


def _guess_until_refused(base: str, name: str, addresses: Iterator[str]) -> list[int]:
    """Wrong passwords until one is refused (at most 8): the statuses. The refusal comes at the sixth, or a
    little later on a slow machine (the waits double: 1, 2, 4 s after the previous attempt)."""
    statuses: list[int] = []
    attacker = Visitor(base)
    while len(statuses) < 8 and 429 not in statuses:
        statuses.append(attacker.sign_in(name, f"guess {len(statuses)}", next(addresses)))
    return statuses


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, seeded_sqlite) -> Iterator[str]:
    """``innovation-monitor serve`` behind a proxy at 127.0.0.1 (``INNOVATION_MONITOR_PROXIES=1``), with wang."""
    folder: Path = tmp_path_factory.mktemp("proxied")
    copy_sqlite(seeded_sqlite, folder / "app.sqlite3")
    url = f"sqlite:///{folder / 'app.sqlite3'}"
    engine = db.make_engine(url)
    users.add_user(engine, "wang", PASSWORD, "editor")
    engine.dispose()
    env = dict(os.environ, DATABASE_URL=url, INNOVATION_MONITOR_INSTANCE=str(folder / "instance"),
               INNOVATION_MONITOR_PROXIES="1")
    port = free_port()
    proc = start_server(port, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_behind_a_trusted_proxy_an_attacker_waits_while_the_owner_signs_in(proxied):
    statuses = _guess_until_refused(proxied, "wang", iter([ATTACKER] * 8))
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    assert Visitor(proxied).sign_in("wang", PASSWORD, ATTACKER) == 429  # still waiting, right password or not
    assert Visitor(proxied).sign_in("wang", PASSWORD, HOME) == 302  # the owner, from home


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(server):
    # a made-up address each time: were it believed, every guess would be a first one
    statuses = _guess_until_refused(server, "someone", iter(f"192.0.2.{i}" for i in range(1, 20)))
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
