"""The README's deployment, run as written: the files in ``deploy/`` with only ports and paths replaced.

The environment file's settings, both systemd units' ``ExecStart`` (with their working directory, stop
signal and stop timeout), and nginx with the shipped site file in front, over HTTPS with a certificate made
here; against a PostgreSQL and a Redis started by the tests. What systemd itself adds (users, state
directory, restarts) is not run here.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from indicators import db, users
from tools.screenshots import free_port

from .support import PROJECT

DEPLOY = PROJECT / "deploy"
INSTALLED = "/opt/innovation-monitor"  # where the units expect the checkout
PASSWORD = "correct horse battery"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def environment_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile reads them (comments and blank lines skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def service_section(path: Path) -> dict[str, str]:
    section, found = None, {}
    for line in path.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found[key] = value
    return found


@dataclass
class Service:
    proc: subprocess.Popen
    stop_timeout: int


def start_unit(name: str, env: dict[str, str], port: int) -> Service:
    """A systemd unit's ExecStart in its WorkingDirectory with its EnvironmentFile, the checkout here."""
    unit = service_section(DEPLOY / "systemd" / name)
    assert unit["WorkingDirectory"] == INSTALLED and unit["EnvironmentFile"] == "/etc/innovation-monitor.env"
    assert unit["KillSignal"] == "SIGTERM"
    command = shlex.split(unit["ExecStart"])
    assert command[0] == f"{INSTALLED}/.venv/bin/innovation-monitor"
    command = [sys.executable, "-m", "indicators", *["" if a == "8050" else a for a in command[1:]]]
    command = [str(port) if a == "" else a for a in command]
    proc = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Service(proc, int(unit["TimeoutStopSec"]))


def nginx_config(folder: Path, *, app: int, http: int, https: int, cert: Path, key: Path) -> Path:
    """The shipped site file with this run's ports and certificate, inside a main file of this run."""
    site = (DEPLOY / "nginx" / "innovation-monitor.conf").read_text()
    replacements = {"server 127.0.0.1:8050;": f"server 127.0.0.1:{app};", "listen 80;": f"listen 127.0.0.1:{http};",
                    "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
                    "/etc/ssl/certs/innovation-monitor.pem": str(cert),
                    "/etc/ssl/private/innovation-monitor.key": str(key)}
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}
    include {folder / "site.conf"};
}}
""")
    return main


@dataclass(frozen=True)
class Site:
    base: str  # https://127.0.0.1:<port>
    plain: str  # http://127.0.0.1:<port>
    cert: str


@pytest.fixture(scope="module")
def site(tmp_path_factory, postgres_server, seeded_postgresql, redis_url) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("deployed")
    url = postgres_server.create_database(template=seeded_postgresql)
    engine = db.make_engine(url)
    users.add_user(engine, "zhao", PASSWORD, "viewer")
    engine.dispose()
    settings = environment_file(DEPLOY / "innovation-monitor.env")
    assert settings["INNOVATION_MONITOR_PROXIES"] == "1" and settings["INNOVATION_MONITOR_SECURE_COOKIES"] == "1"
    assert settings["INNOVATION_MONITOR_TRUSTED_PROXY"] == "127.0.0.1"
    here = {"DATABASE_URL": url, "INNOVATION_MONITOR_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/2",
            "INNOVATION_MONITOR_SECRET_KEY": secrets.token_hex(32),
            "INNOVATION_MONITOR_INSTANCE": str(folder / "state")}
    assert set(here) <= set(settings)  # what this run replaces is what an operator fills in
    env = dict(os.environ, **{**settings, **here})
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    app, http, https = free_port(), free_port(), free_port()
    services = [start_unit("innovation-monitor.service", env, app),
                start_unit("innovation-monitor-worker.service", env, app)]
    nginx = subprocess.Popen([NGINX, "-c", str(nginx_config(folder, app=app, http=http, https=https, cert=cert,
                                                            key=key))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found = Site(f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", str(cert))
    try:
        _wait_until_served(found, [s.proc for s in services] + [nginx])
        yield found
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for service in services:  # as systemd stops them: SIGTERM, then at most TimeoutStopSec
            service.proc.terminate()
        for service in services:
            code = service.proc.wait(timeout=service.stop_timeout)
            assert code in (0, -15), service.proc.stderr.read().decode() if service.proc.stderr else ""
        postgres_server.drop_database(url)


def _wait_until_served(site: Site, procs: list[subprocess.Popen]) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "a service stopped")
        try:
            if requests.get(site.base + "/_dash-layout", verify=site.cert, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("the deployment did not answer within 60 s")


def test_plain_http_is_sent_to_https(site):
    response = requests.get(site.plain + "/trend?lang=zh", allow_redirects=False, timeout=10)
    assert response.status_code == 301 and response.headers["Location"] == "https://127.0.0.1/trend?lang=zh"


def test_pages_arrive_over_https_with_strict_transport_and_compressed_cacheable_scripts(site):
    page = requests.get(site.base + "/trend?lang=zh", verify=site.cert, timeout=30)
    assert page.status_code == 200 and "max-age" in page.headers["Strict-Transport-Security"]
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', page.text)
    assert scripts
    for script in scripts:
        response = requests.get(site.base + script, verify=site.cert, timeout=30,
                                headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200 and response.headers.get("Content-Encoding") in ("br", "gzip"), script
        age = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
        assert age and int(age.group(1)) >= 86_400, script


def test_sign_in_sets_a_secure_cookie_and_forged_addresses_do_not_escape_the_limit(site):
    statuses = []
    for attempt in range(12):
        with requests.Session() as browser:
            form = browser.get(site.base + "/login", timeout=30, verify=site.cert)
            assert "Secure" in form.headers["Set-Cookie"] and "HttpOnly" in form.headers["Set-Cookie"]
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            response = browser.post(site.base + "/login", timeout=30, allow_redirects=False, verify=site.cert,
                                    data={"name": "zhao", "password": f"guess {attempt}", "csrf_token": token},
                                    headers={"Origin": site.base, "X-Forwarded-For": f"198.51.100.{attempt}"})
            statuses.append(response.status_code)
        if response.status_code == 429:
            break
    # nginx appends the address it saw; the app believes only that one: every guess counts against 127.0.0.1
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429


def test_a_large_upload_passes_the_proxy(site):
    body = b'{"output": "x", "inputs": [], "changedPropIds": [], "pad": "' + b"0" * 60_000_000 + b'"}'
    response = requests.post(site.base + "/_dash-update-component", data=body, verify=site.cert, timeout=60,
                             headers={"Origin": site.base, "Content-Type": "application/json"})
    assert response.status_code != 413 and "nginx" not in response.text  # the app answered, not the proxy
