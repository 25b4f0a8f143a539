"""Sign-in for editors, and the browser's defences: sessions, sign-in and sign-out, forgery checks, headers.

What belongs here: wiring ``indicators.users`` to the web server. The secret key comes from
``INNOVATION_MONITOR_SECRET_KEY`` or is generated once into ``<instance>/secret_key`` (mode 0600). Cookies
are HttpOnly and SameSite=Lax (Secure when ``INNOVATION_MONITOR_SECURE_COOKIES=1``, i.e. behind HTTPS).
``INNOVATION_MONITOR_REQUIRE_LOGIN=1`` makes viewing need a sign-in too. The client's address is what the
server (waitress, see ``serve``) says it is: behind a proxy, waitress's trusted-proxy settings make it so.

- A session cookie carries the account's id and session version; it works while the version is current.
  Signing out ends every session of the account (a copied cookie dies with it), as do a new password and
  disabling the account.
- Sign-in and sign-out are forms with a token tied to the session (a synchronizer token): a form on another
  site cannot sign a visitor in or out.
- Every POST must come from a page of this site: its ``Origin`` (or, without one, its ``Referer``) must be
  this site's. Browsers send ``Origin`` on every POST, so a request that sends neither is refused too:
  scripts and tests that post to the server send the site's address as ``Origin``.
- Every response carries security headers and a Content-Security-Policy the app's pages and charts run
  under; the hashes of Dash's inline scripts come from the app (``install_headers``).

Callbacks that change data call :func:`editor_or_none` on the server; hiding buttons is never the only check.
"""

from __future__ import annotations

import hmac
import html
import os
import secrets
from collections.abc import Callable, Sequence
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from indicators import db, settings, users

blueprint = Blueprint("auth", __name__)
limiter = users.SignInLimiter(engine=db.default_engine)  # counted in the database: one count for every process
OPEN_PATHS = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico", "/health")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"

# Dash's renderer and Plotly run without eval; Dash and Plotly set inline styles, and the sparklines are
# data: images. Scripts: this site's files and the inline scripts whose hashes the app gives.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin: pages of this site still send a Referer to it (the fallback of the origin check), and a
    # POST keeps its Origin header (stricter policies can make a browser send "Origin: null")
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"

REFUSED_ORIGIN = "request from another site refused / 已拒绝来自其他网站的请求"
REFUSED_TOKEN = "the form has expired; reload the page and try again / 表单已过期,请刷新页面后重试"


class WebUser(UserMixin):
    def __init__(self, account: users.Account):
        self.account = account

    def get_id(self) -> str:
        """What the session cookie stores: the id and the session version (``3:0``)."""
        return f"{self.account.id}:{self.account.session_version}"


def secret_key() -> str:
    key = os.environ.get("INNOVATION_MONITOR_SECRET_KEY")
    if key:
        return key
    path = settings.instance_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def load_user(session_id: str) -> WebUser | None:
    """The user a session cookie names, if the account is active and the cookie's version is current."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # also a cookie from before session versions: its user signs in again
    account = users.session_account(db.default_engine(), int(user_id), int(version))
    return WebUser(account) if account else None


def install(server: Flask) -> None:
    server.config.update(
        SECRET_KEY=secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_behind_https(),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    manager = LoginManager()
    manager.init_app(server)
    manager.user_loader(load_user)
    server.before_request(refuse_foreign_posts)
    server.before_request(require_login_for_viewing)
    server.register_blueprint(blueprint)


def _behind_https() -> bool:
    return os.environ.get("INNOVATION_MONITOR_SECURE_COOKIES") == "1"


def require_login_for_viewing() -> Response | None:
    if os.environ.get("INNOVATION_MONITOR_REQUIRE_LOGIN") != "1" or current_user.is_authenticated:
        return None
    if request.path.startswith(OPEN_PATHS):
        return None
    if request.path.startswith("/_dash"):
        return Response("sign in required / 请先登录", status=401)
    return redirect(f"/login?next={request.full_path}")


def _origin_of(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else ""


def same_site_request() -> bool:
    """Whether the request says it comes from a page of this site (``Origin``, else ``Referer``)."""
    claimed = request.headers.get("Origin") or _origin_of(request.headers.get("Referer", ""))
    return bool(claimed) and hmac.compare_digest(claimed.lower(), request.host_url.rstrip("/").lower())


def refuse_foreign_posts() -> Response | None:
    """Every request that may change something (Dash callbacks, sign-in, sign-out) must come from this site."""
    if request.method in SAFE_METHODS or same_site_request():
        return None
    users.security_log.warning("refused %s %s from origin %r (referer %r), address %s", request.method,
                               request.path, request.headers.get("Origin"), request.headers.get("Referer"),
                               request.remote_addr)
    return Response(REFUSED_ORIGIN, status=403, mimetype="text/plain")


def csrf_token() -> str:
    """The session's form token (made on first use): forms that sign in or out send it back."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def _token_sent() -> bool:
    expected = session.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(request.form.get(CSRF_FIELD, ""), expected)


def install_headers(server: Flask, script_hashes: Callable[[], Sequence[str]]) -> None:
    """Security headers on every response. ``script_hashes`` gives the CSP hashes of the app's inline scripts
    (Dash's ``csp_hashes``); it is asked once, at the first response, when every page has registered."""
    policy: list[str] = []

    @server.after_request
    def add_headers(response: Response) -> Response:
        if not policy:
            csp = dict(CSP, **{"script-src": " ".join([CSP["script-src"], *script_hashes()])})
            policy.append("; ".join(f"{name} {value}" for name, value in csp.items()))
        response.headers.setdefault("Content-Security-Policy", policy[0])
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if _behind_https():
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def current_account() -> users.Account | None:
    return current_user.account if current_user and current_user.is_authenticated else None


def editor_or_none() -> users.Account | None:
    """The signed-in account if it may change data (editor or admin), checked on the server."""
    account = current_account()
    return account if account is not None and account.can_edit else None


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parsed = urlparse(target)
    return target if not parsed.scheme and not parsed.netloc and target.startswith("/") else "/"


FORM = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 Sign in · innovation-monitor</title><link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css">
<link rel="stylesheet" href="/assets/10-style.css"></head>
<body><main class="container" style="max-width: 420px; padding-top: 10vh">
<h1 class="h4 mb-3">登录 Sign in</h1><p class="text-muted small">编辑人员登录后可上传数据、提交与撤销批次。<br>
Editors sign in to upload, commit and revert.</p>{message}
<form method="post" action="/login" class="im-panel">
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="csrf_token" value="{token}">
<label class="form-label" for="name">用户名 Name</label>
<input class="form-control mb-2" id="name" name="name" autocomplete="username" required>
<label class="form-label" for="password">密码 Password</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary w-100" id="sign-in" type="submit">登录 Sign in</button></form>
<p class="mt-3 small"><a href="/">← 返回 Back</a></p></main></body></html>"""


def _form(message: str = "", next_url: str = "/", status: int = 200) -> Response:
    alert = f'<div class="alert alert-danger" id="sign-in-error">{message}</div>' if message else ""
    page = FORM.format(message=alert, next=html.escape(next_url, quote=True), token=csrf_token())
    return Response(page, status=status, mimetype="text/html")


@blueprint.get("/login")
def login_form() -> Response:
    return _form(next_url=_safe_next(request.args.get("next")))


@blueprint.post("/login")
def login() -> Response:
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    address = request.remote_addr or "?"
    if not _token_sent():  # a form from another site, or a page older than the session
        users.security_log.warning("sign-in refused (no valid form token) for %r from %s", name, address)
        return _form(REFUSED_TOKEN, next_url, status=403)
    wait = limiter.reserve(name, address)
    if wait:
        users.security_log.warning("sign-in refused (wait %d s) for %r from %s", wait, name, address)
        return _form(f"尝试次数过多,请{wait:.0f}秒后再试。<br>Too many failed attempts; try again in {wait:.0f} s.",
                     next_url, status=429)
    account = users.authenticate(db.default_engine(), name, password)
    if account is None:  # the reservation stays: it was a failure
        users.security_log.warning("failed sign-in for %r from %s", name, address)
        return _form("用户名或密码错误。<br>Wrong name or password.", next_url, status=401)
    limiter.succeeded(name, address)
    # a new token for the signed-in session, made here so the pages' callbacks only ever read it
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    login_user(WebUser(account))
    users.security_log.info("signed in: %s (%s) from %s", account.name, account.role, address)
    return redirect(next_url)


@blueprint.post("/logout")
def logout() -> Response:
    """Sign out everywhere: the account's session version moves on, so every copy of its cookie stops working."""
    if not _token_sent():
        return Response(REFUSED_TOKEN, status=403, mimetype="text/plain")
    account = current_account()
    if account:
        users.end_sessions(db.default_engine(), account.name)
    logout_user()
    session.clear()
    return redirect("/")
