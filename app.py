"""The Dash shell: the app object, the navigation built from the page registry, and ``server``.

Pages live in ``dashboards/`` (one file per page; helpers start with ``_``). Nothing else belongs here but
how the shell is served: cache lifetimes, and static files compressed once per process.
Run it with ``innovation-monitor serve`` or ``innovation-monitor serve --debug``.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from urllib.parse import quote

import brotli
import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html
from dash.fingerprint import check_fingerprint
from flask import Response, request

from dashboards import _auth, _exports
from dashboards._common import lang_from_search, nav_href
from indicators.i18n import t
from indicators.ingest import DEFAULT_MAX_BYTES

HERE = Path(__file__).resolve().parent
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
STATIC_MIMETYPES = {"text/javascript", "application/javascript", "text/css"}
PRECOMPRESS_MIN_BYTES = 1024
# brotli 10: plotly.js 17 % smaller than Flask-Compress's zstd level 3, for about a second of CPU once (11, the
# best, saves another 1.4 % for three times the CPU, in every worker process of every server a test starts)
PRECOMPRESS_QUALITY = 10
YEAR = 31_536_000

app = dash.Dash(
    __name__,
    use_pages=True,
    pages_folder=str(HERE / "dashboards"),
    assets_folder=str(HERE / "assets"),  # Bootstrap is vendored there: the app works without internet
    suppress_callback_exceptions=True,
    title="创新监测 Innovation monitor",
    update_title=None,
    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    # zstd/brotli/gzip through Flask-Compress, static files once at a high brotli level (``_Precompressed``);
    # INNOVATION_MONITOR_COMPRESS=0 turns it off (the page-weight benchmark measures both)
    compress=os.environ.get("INNOVATION_MONITOR_COMPRESS", "1") != "0",
)
server = app.server
_SETUP = threading.Lock()


def _setup_once() -> None:
    """Dash finishes its set-up (registers the scripts it may serve, collects the callbacks) on a process's
    first request, unguarded: a worker process whose first requests are a page's scripts, many at once,
    answered all but one from a half-made list (500: a blank page). The first request finishes it; the
    others wait for it."""
    with _SETUP:
        app._setup_server()  # returns at once after the first time


server.before_request_funcs.setdefault(None, []).insert(0, _setup_once)  # before Dash's own, unlocked call
server.register_blueprint(_exports.blueprint)  # image and pack downloads rendered on the server
_auth.install(server)  # sign-in for editors; sessions in a signed, HttpOnly, SameSite cookie; POSTs from this site only
_auth.install_headers(server, app.csp_hashes)  # nosniff, no framing, a CSP allowing Dash's inline scripts by hash


@server.after_request
def _cache_static(response: Response) -> Response:
    """Dash's fingerprinted scripts carry a year's cache lifetime; plotly.js has no fingerprint
    (``plotly/package_data/plotly.min.js``): give every component script at least a day, revalidated by its
    ETag after that. Assets are addressed with their modification time (``?m=``): a year, unchanged."""
    if request.path.startswith("/_dash-component-suites/") and "max-age" not in (response.cache_control.to_header() or ""):
        response.cache_control.public = True
        response.cache_control.max_age = 86_400
    elif request.path.startswith("/assets/") and "m" in request.args and response.status_code == 200:
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


class _Precompressed:
    """Brotli bodies of static files, each compressed once per process, at a high level, by a background
    thread: many viewers at once then cost no compression at all, where Flask-Compress would compress each
    response again. Until a file's body is ready its responses are left to Flask-Compress's fast level."""

    def __init__(self) -> None:
        self.bodies: dict[tuple, bytes] = {}
        self.queued: set[tuple] = set()
        self.lock = threading.Lock()
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    def get(self, key: tuple, response: Response) -> bytes | None:
        """The compressed body for ``key``, or None (and the file queued) while it is not ready."""
        body = self.bodies.get(key)
        if body is None:
            with self.lock:
                if key not in self.queued:
                    self.queued.add(key)
                    self.work.put((key, response.get_data()))
                    if self.thread is None or not self.thread.is_alive():  # started in the serving process
                        self.thread = threading.Thread(target=self._compress, name="precompress", daemon=True)
                        self.thread.start()
        return body

    def _compress(self) -> None:
        try:  # on Linux a thread's own niceness: requests being served go first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        while True:
            key, data = self.work.get()
            self.bodies[key] = brotli.compress(data, quality=PRECOMPRESS_QUALITY)  # releases the GIL


PRECOMPRESSED = _Precompressed()


@server.after_request
def _precompressed(response: Response) -> Response:
    """Static scripts and style sheets from the per-process brotli cache, for browsers that accept brotli.
    Runs before Flask-Compress's hook (registered earlier), which leaves an encoded response alone."""
    if not (app.config.compress and request.method == "GET" and response.status_code == 200
            and request.path.startswith(STATIC_PREFIXES) and response.mimetype in STATIC_MIMETYPES
            and "Content-Encoding" not in response.headers and request.accept_encodings["br"] > 0):
        return response
    response.direct_passthrough = False  # a file sent by Flask: read it
    if response.content_length is not None and response.content_length < PRECOMPRESS_MIN_BYTES:
        return response
    etag = response.headers.get("ETag")
    # one entry per file, whatever fingerprint an address carries; assets are told apart by their ETag
    body = PRECOMPRESSED.get((check_fingerprint(request.path)[0], etag, response.content_length), response)
    if body is None:
        return response
    response.set_data(body)
    response.headers["Content-Encoding"] = "br"
    if etag:
        response.headers["ETag"] = f'{etag[:-1]}:br"'  # as Flask-Compress marks its encodings
    return response


# an upload arrives base64-encoded inside a callback request: refuse bodies far beyond the file size limit
server.config["MAX_CONTENT_LENGTH"] = int(DEFAULT_MAX_BYTES * 1.4) + 2**20

app.layout = html.Div(
    [
        html.Div(id="navbar"),
        dbc.Container(dash.page_container, fluid="lg", className="pt-3 pb-5", id="page"),
    ]
)


@app.callback(Output("navbar", "children"), Input("_pages_location", "pathname"),
              Input("_pages_location", "search"))
def navbar(pathname: str | None, search: str | None):
    """The navigation in the page's language, built from the registry (pages with an 'order')."""
    lang = lang_from_search(search)
    pages = sorted((p for p in dash.page_registry.values() if p.get("order") is not None), key=lambda p: p["order"])
    # Pages with a ``nav_group`` (the monitoring cycle; managing data) share a menu, so the bar fits a laptop
    links: list = []
    groups: dict[str, list] = {}
    for p in pages:
        page_id = f"nav-{p['module'].split('.')[-1]}"
        group = p.get("nav_group")
        if group is None:
            links.append(dbc.NavItem(dbc.NavLink(t(p["nav_key"], lang), href=nav_href(p["path"], lang),
                                                 active=pathname == p["path"], id=page_id)))
            continue
        if group not in groups:
            groups[group] = []
            links.append(group)  # the menu's place: where its first page would be
        groups[group].append(dbc.DropdownMenuItem(t(p["nav_key"], lang), href=nav_href(p["path"], lang),
                                                  active=pathname == p["path"], id=page_id))
    links = [dbc.DropdownMenu(groups[item], label=t(f"nav.group.{item}", lang), nav=True, in_navbar=True,
                              id=f"nav-group-{item}", align_end=True) if isinstance(item, str) else item
             for item in links]
    switch = html.Button(t("lang.switch", lang), id="lang-switch", className="btn btn-outline-light btn-sm ms-lg-3",
                         **{"data-lang": "en" if lang == "zh" else "zh"})
    account = _auth.current_account()
    if account is None:
        here = quote((pathname or "/") + (search or ""), safe="")
        session = dbc.NavLink(t("auth.sign_in", lang), href=f"/login?next={here}", external_link=True,
                              id="nav-sign-in")
    else:
        session = html.Form([html.Span(f"{account.name} · {t('auth.role.' + account.role, lang)}",
                                       className="text-light small me-2", id="nav-account"),
                             dcc.Input(type="hidden", name=_auth.CSRF_FIELD, value=_auth.csrf_token()),
                             html.Button(t("auth.sign_out", lang), className="btn btn-link btn-sm text-light p-0",
                                         id="nav-sign-out", type="submit")],
                            action="/logout", method="POST", className="d-flex align-items-center ms-lg-3")
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(t("app.short", lang), href=nav_href("/", lang), className="fw-semibold"),
            dbc.NavbarToggler(id="nav-toggle"),
            dbc.Collapse(dbc.Nav([*links, dbc.NavItem(switch), dbc.NavItem(session)], navbar=True,
                                 className="ms-auto align-items-lg-center"),
                         id="nav-collapse", navbar=True),
        ], fluid="lg"),
        color="#123b63", dark=True, className="mb-2", expand="lg",
    )


app.clientside_callback(
    "function(n, open) { return n ? !open : open; }",
    Output("nav-collapse", "is_open"), Input("nav-toggle", "n_clicks"), dash.State("nav-collapse", "is_open"),
    prevent_initial_call=True,
)

# The language switch remembers the choice and reloads the same view (URL state kept) in the other language.
app.clientside_callback(
    """function(n) {
        if (!n) { return window.dash_clientside.no_update; }
        const target = document.getElementById('lang-switch').dataset.lang;
        try { window.localStorage.setItem('im-lang', target); } catch (e) {}
        const url = new URL(window.location.href);
        url.searchParams.set('lang', target);
        window.location.assign(url.toString());
        return window.dash_clientside.no_update;
    }""",
    Output("lang-switch", "title"), Input("lang-switch", "n_clicks"), prevent_initial_call=True,
)

if __name__ == "__main__":
    app.run(debug=True)
