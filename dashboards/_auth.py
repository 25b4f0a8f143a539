"""Sign-in for editors: Flask-Login sessions in a signed cookie, the sign-in and sign-out routes.

What belongs here: wiring ``indicators.users`` to the web server. The secret key comes from
``INNOVATION_MONITOR_SECRET_KEY`` or is generated once into ``<instance>/secret_key`` (mode 0600). Cookies
are HttpOnly and SameSite=Lax (Secure when ``INNOVATION_MONITOR_SECURE_COOKIES=1``, i.e. behind HTTPS).
``INNOVATION_MONITOR_REQUIRE_LOGIN=1`` makes viewing need a sign-in too; ``INNOVATION_MONITOR_PROXIES=1``
trusts one reverse proxy's X-Forwarded-For (so the sign-in limit counts clients, not the proxy). Callbacks that change data
call :func:`editor_or_none` on the server; hiding buttons is never the only check.
"""

from __future__ import annotations

import html
import os
import secrets
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, redirect, request
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from indicators import db, settings, users

blueprint = Blueprint("auth", __name__)
limiter = users.SignInLimiter()
OPEN_PATHS = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico", "/health")


class WebUser(UserMixin):
    def __init__(self, account: users.Account):
        self.account = account

    def get_id(self) -> str:
        return str(self.account.id)


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


def install(server: Flask) -> None:
    proxies = int(os.environ.get("INNOVATION_MONITOR_PROXIES", "0") or 0)
    if proxies > 0:  # behind nginx: the client's address comes from X-Forwarded-For (sign-in limits need it)
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    server.config.update(
        SECRET_KEY=secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("INNOVATION_MONITOR_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def load(user_id: str):
        account = users.get_account(db.default_engine(), int(user_id)) if user_id.isdigit() else None
        return WebUser(account) if account else None

    @server.before_request
    def require_login_for_viewing():
        if os.environ.get("INNOVATION_MONITOR_REQUIRE_LOGIN") != "1" or current_user.is_authenticated:
            return None
        if request.path.startswith(OPEN_PATHS):
            return None
        if request.path.startswith("/_dash"):
            return Response("sign in required / 请先登录", status=401)
        return redirect(f"/login?next={request.full_path}")

    server.register_blueprint(blueprint)


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
<label class="form-label" for="name">用户名 Name</label>
<input class="form-control mb-2" id="name" name="name" autocomplete="username" required>
<label class="form-label" for="password">密码 Password</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary w-100" id="sign-in" type="submit">登录 Sign in</button></form>
<p class="mt-3 small"><a href="/">← 返回 Back</a></p></main></body></html>"""


def _form(message: str = "", next_url: str = "/", status: int = 200) -> Response:
    alert = f'<div class="alert alert-danger" id="sign-in-error">{message}</div>' if message else ""
    return Response(FORM.format(message=alert, next=html.escape(next_url, quote=True)), status=status,
                    mimetype="text/html")


@blueprint.get("/login")
def login_form() -> Response:
    return _form(next_url=_safe_next(request.args.get("next")))


@blueprint.post("/login")
def login() -> Response:
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    address = request.remote_addr or "?"
    if limiter.blocked(name, address):
        users.security_log.warning("sign-in refused (rate limit) for %r from %s", name, address)
        return _form("尝试次数过多,请15分钟后再试。<br>Too many failed attempts; try again in 15 minutes.",
                     next_url, status=429)
    account = users.authenticate(db.default_engine(), name, password)
    if account is None:
        limiter.failed(name, address)
        return _form("用户名或密码错误。<br>Wrong name or password.", next_url, status=401)
    limiter.succeeded(name)
    login_user(WebUser(account))
    users.security_log.info("signed in: %s (%s) from %s", account.name, account.role, address)
    return redirect(next_url)


@blueprint.post("/logout")
def logout() -> Response:
    account = current_account()
    logout_user()
    if account:
        users.security_log.info("signed out: %s", account.name)
    return redirect("/")
