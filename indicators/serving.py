"""How the web app is run: gunicorn with several worker processes (the default on Linux), or waitress in one
process (``--workers 0``: development, and systems without gunicorn), behind a trusted proxy or not.

What belongs here: the servers' settings and the client address behind a proxy. Not here: the app itself
(``app.py``, imported by the caller so that this package never imports Dash) and the command line (``cli``).

Everything a request may need from another request lives in the database, so any worker process (or host)
can answer any request: sessions are signed cookies, failed sign-ins and background jobs are tables, and
each process's caches are keyed by the data version, read per request (``snapshot``).

Behind a proxy (``INNOVATION_MONITOR_PROXIES`` = how many stand in front; ``INNOVATION_MONITOR_TRUSTED_PROXY``
= the address the nearest connects from, default 127.0.0.1): from that address only, the client's address is
taken from ``X-Forwarded-For`` and the scheme and host from ``X-Forwarded-Proto`` / ``X-Forwarded-Host``; from
any other peer those headers are removed before the app sees them, so nobody can pretend to be a client the
sign-in limits do not count. Waitress does this itself with its ``trusted_proxy`` settings; under gunicorn
:class:`TrustedProxy` does (werkzeug's ``ProxyFix`` for the trusted peer).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")
WAITRESS_PROXY_HEADERS = "x-forwarded-for x-forwarded-host x-forwarded-proto"
WORKER_TIMEOUT = 120  # seconds a worker may be silent (a PNG export or a large upload) before it is restarted
GRACEFUL_TIMEOUT = 8  # seconds a stopped worker has to finish its requests (a service manager waits ~10 s)


@dataclass(frozen=True)
class Proxy:
    count: int  # proxies in front of the server
    address: str  # the address the nearest one connects from


def proxy_from_environment() -> Proxy | None:
    """The trusted proxy the environment names, or None; ValueError for a count that is not a number."""
    count = os.environ.get("INNOVATION_MONITOR_PROXIES", "0").strip() or "0"
    if not count.isdigit():
        raise ValueError(f"INNOVATION_MONITOR_PROXIES must be a number of proxies, not {count!r}")
    if int(count) == 0:
        return None
    return Proxy(int(count), os.environ.get("INNOVATION_MONITOR_TRUSTED_PROXY", "").strip() or "127.0.0.1")


def default_workers() -> int:
    """One worker process per processor this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class TrustedProxy:
    """WSGI middleware: X-Forwarded-* headers count only from the trusted proxy's address, and are removed
    from every other request (with no proxy: from all)."""

    def __init__(self, app: Callable, proxy: Proxy | None):
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.app, self.address = app, proxy.address if proxy else None
        self.fixed = ProxyFix(app, x_for=proxy.count, x_proto=1, x_host=1) if proxy else app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        if self.address is not None and environ.get("REMOTE_ADDR") == self.address:
            return self.fixed(environ, start_response)
        for key in FORWARDED:
            environ.pop(key, None)
        return self.app(environ, start_response)


def run_waitress(wsgi: Callable, *, host: str, port: int, threads: int, proxy: Proxy | None) -> None:
    from waitress import serve

    settings: dict[str, Any] = {}
    if proxy:
        settings = {"trusted_proxy": proxy.address, "trusted_proxy_count": proxy.count,
                    "trusted_proxy_headers": WAITRESS_PROXY_HEADERS}
    serve(wsgi, host=host, port=port, threads=threads, **settings)


def run_gunicorn(load: Callable[[], Callable], *, host: str, port: int, workers: int, threads: int,
                 proxy: Proxy | None) -> None:
    """gunicorn's master with ``workers`` processes of ``threads`` threads each; ``load()`` is called in each
    worker after it started (nothing of the app, no database connection, no browser, is shared over a fork)."""
    from gunicorn.app.base import BaseApplication

    def app() -> Callable:
        return TrustedProxy(load(), proxy)

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": WORKER_TIMEOUT, "graceful_timeout": GRACEFUL_TIMEOUT, "keepalive": 5,
        # a shared link may be long, and every script request repeats it as Referer: no 4 KB / 8 KB line and
        # header limits (a hostile address then opens the page with its defaults instead of a blank 400);
        # waitress had none below 256 KB, and nginx in front keeps its own (8 KB a header by default)
        "limit_request_line": 0, "limit_request_field_size": 0,
        "forwarded_allow_ips": "",  # gunicorn trusts no header itself: TrustedProxy decides
        "control_socket_disable": True,  # gunicorn 24+ opens ~/.gunicorn/gunicorn.ctl: one per user, not ours
        "proc_name": "innovation-monitor", "accesslog": None, "errorlog": "-", "loglevel": "warning",
        "worker_exit": _leave_at_once,
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Callable:
            return app()

    Server().run()


def _leave_at_once(_server: object, _worker: object) -> None:
    """A stopping worker runs its exit handlers (the export browser closes in order), then leaves without the
    interpreter's teardown of pandas, plotly and Dash, which takes 2-4 s and would hold up a restart."""
    import atexit
    import logging

    atexit._run_exitfuncs()
    logging.shutdown()
    os._exit(0)

