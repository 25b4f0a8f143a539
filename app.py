"""The Dash shell: the app object, the navigation built from the page registry, and ``server``.

Pages live in ``dashboards/`` (one file per page; helpers start with ``_``). Nothing else belongs here.
Run it with ``innovation-monitor serve`` (waitress) or ``innovation-monitor serve --debug``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html
from flask import request

from dashboards import _auth, _exports
from dashboards._common import lang_from_search, nav_href
from indicators.i18n import t
from indicators.ingest import DEFAULT_MAX_BYTES

HERE = Path(__file__).resolve().parent

app = dash.Dash(
    __name__,
    use_pages=True,
    pages_folder=str(HERE / "dashboards"),
    assets_folder=str(HERE / "assets"),  # Bootstrap is vendored there: the app works without internet
    suppress_callback_exceptions=True,
    title="创新监测 Innovation monitor",
    update_title=None,
    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    # gzip/brotli through Flask-Compress (plotly.js: 4.8 MB as it is, about 1.4 MB compressed);
    # INNOVATION_MONITOR_COMPRESS=0 turns it off (the page-weight benchmark measures both)
    compress=os.environ.get("INNOVATION_MONITOR_COMPRESS", "1") != "0",
)
server = app.server
server.register_blueprint(_exports.blueprint)  # image and pack downloads rendered on the server
_auth.install(server)  # sign-in for editors; sessions in a signed, HttpOnly, SameSite cookie; POSTs from this site only
_auth.install_headers(server, app.csp_hashes)  # nosniff, no framing, a CSP allowing Dash's inline scripts by hash


@server.after_request
def _cache_scripts(response):
    """Dash's fingerprinted scripts carry a year's cache lifetime; plotly.js is served without a fingerprint
    (``plotly/package_data/plotly.min.js``) and without one: give every component script a day, revalidated
    by its ETag after that."""
    if request.path.startswith("/_dash-component-suites/") and "max-age" not in (response.cache_control.to_header() or ""):
        response.cache_control.public = True
        response.cache_control.max_age = 86_400
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
