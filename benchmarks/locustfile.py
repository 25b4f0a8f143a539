"""Locust viewers of the dashboard, for the load benchmark (``benchmarks/load.py`` runs it; not a test).

What belongs here: what one simulated viewer does, replaying the requests a real browser made
(``benchmarks/load-requests.json``, written by ``load.py --capture``), and the check of every answer. Not
here: starting servers and databases, and the summary (``load.py``).

A viewer first loads the page's scripts once (a new visitor, empty cache), then, with a think time between
tasks, opens pages (the HTML shell, ``/_dash-layout``, ``/_dash-dependencies`` and the page's callbacks),
changes the trend chart's indicator or regions, the gaps view and the data table, downloads CSV/Excel files
and now and then a PNG chart. A callback answer counts as an error unless it is 200 with a Dash response or
204 (no update); every other request unless it is 200 with the expected content type.

Settings from the environment (``load.py`` sets them): ``LOAD_THINK=0`` drops the think time (the saturation
runs), ``LOAD_PNG=0`` leaves the PNG exports out, ``LOAD_SAMPLES=<file>`` writes every request's name, kind,
end time, duration and outcome there as JSON lines when locust stops (``load.py`` computes the percentiles
from them), with the times the last viewer started and the test began to stop on the first line.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import time
from pathlib import Path

import zstandard
from geventhttpclient.useragent import CompatResponse
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

FIXTURE = json.loads((Path(__file__).resolve().parent / "load-requests.json").read_text(encoding="utf-8"))
THINK = os.environ.get("LOAD_THINK", "1") != "0"
PNG = os.environ.get("LOAD_PNG", "1") != "0"
SAMPLES = os.environ.get("LOAD_SAMPLES")
ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends: the server compresses as for a browser
CONTENT_TYPES = {"shell": "text/html", "csv": "text/csv", "xlsx": "spreadsheetml", "png": "image/png",
                 "json": "application/json"}

samples: list[tuple[str, str, float, float, bool]] = []  # name, kind, end (epoch s), duration (ms), ok
spawned_at: list[float] = []
stopping_at: list[float] = []


def _content_zstd(self) -> bytes:
    """geventhttpclient undoes gzip, deflate and br but not zstd, which Chromium accepts and the server then
    prefers: decode it here, so the replay asks for what a browser asks for."""
    if (self.headers.get("content-encoding") or "").lower() != "zstd":
        return _plain_content(self)
    body = zstandard.ZstdDecompressor().decompressobj().decompress(self._response.read())
    self.release()
    return body


_plain_content = CompatResponse._content
CompatResponse._content = _content_zstd


def problem(request: dict, response) -> str | None:
    """Why an answer is not what a browser would accept, or None."""
    status = response.status_code
    if request["kind"] == "callback":
        if status == 204:
            return None
        if status != 200:
            return f"HTTP {status}"
        return None if b'"response"' in (response.content or b"")[:4096] else "not a Dash response"
    if status == 413 and request["kind"] == "xlsx":
        return None  # the app's designed refusal of a workbook over its row limit (the 1M data set), said in words
    if status != 200:
        return f"HTTP {status}"
    wanted = CONTENT_TYPES.get(request["kind"])
    if wanted and wanted not in (response.headers.get("content-type") or ""):
        return f"content type {response.headers.get('content-type')}"
    return None


class Viewer(FastHttpUser):
    wait_time = between(1, 3) if THINK else constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0

    def send(self, request: dict) -> None:
        headers = {"Accept-Encoding": ACCEPT_ENCODING}
        body = None
        if request["method"] == "POST":
            headers.update({"Origin": self.host, "Content-Type": "application/json", "Accept": "application/json"})
            body = json.dumps(request["body"], ensure_ascii=False, separators=(",", ":")).encode()
        with self.client.request(request["method"], request["path"], name=request["name"], data=body,
                                 headers=headers, catch_response=True) as response:
            reason = problem(request, response)
            if reason:
                response.failure(reason)
            else:
                response.success()

    def send_all(self, requests: list[dict]) -> None:
        for request in requests:
            self.send(request)

    def on_start(self) -> None:
        """A new visitor: the shell's scripts and style sheets, and the ones Dash loads later, once."""
        with self.client.get("/?lang=zh", name="GET overview (page)", catch_response=True) as shell:
            paths = re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', shell.text or "")
        for path in dict.fromkeys([*paths, *FIXTURE["static_lazy"]]):
            self.send({"method": "GET", "path": html.unescape(path), "name": "GET static (first visit)",
                       "kind": "static"})

    @task(16)
    def overview(self) -> None:
        self.send_all(FIXTURE["visits"]["overview"])

    @task(8)
    def trend(self) -> None:
        self.send_all(FIXTURE["visits"]["trend"])

    @task(18)
    def trend_indicator(self) -> None:
        self.send_all(random.choice(FIXTURE["actions"]["trend-indicator"]))

    @task(10)
    def trend_regions(self) -> None:
        self.send_all(random.choice(FIXTURE["actions"]["trend-regions"]))

    @task(8)
    def gaps(self) -> None:
        self.send_all(FIXTURE["visits"]["gaps"])

    @task(6)
    def gaps_change(self) -> None:
        self.send_all(random.choice(FIXTURE["actions"]["gaps"]))

    @task(6)
    def data(self) -> None:
        self.send_all(FIXTURE["visits"]["data"])

    @task(8)
    def data_change(self) -> None:
        self.send_all(random.choice(FIXTURE["actions"]["data"]))

    @task(6)
    def download(self) -> None:
        self.send(random.choice(FIXTURE["downloads"]["table"]))

    @task(1)
    def png(self) -> None:
        if PNG:
            self.send(random.choice(FIXTURE["downloads"]["png"]))


KINDS = {r["name"]: r["kind"] for group in (FIXTURE["visits"].values(), *FIXTURE["actions"].values())
         for requests in group for r in requests}
KINDS.update({r["name"]: r["kind"] for r in (*FIXTURE["downloads"]["table"], *FIXTURE["downloads"]["png"])})


@events.request.add_listener
def _record(name: str, response_time: float, exception, **_kwargs) -> None:
    samples.append((name, KINDS.get(name, "static"), time.time(), response_time, exception is None))


@events.spawning_complete.add_listener
def _spawned(user_count: int, **_kwargs) -> None:
    spawned_at.append(time.time())


@events.test_stopping.add_listener
def _stopping(**_kwargs) -> None:
    stopping_at.append(time.time())  # requests cut off by the stop end after this: not counted


@events.quitting.add_listener
def _write(**_kwargs) -> None:
    if not SAMPLES:
        return
    with open(SAMPLES, "w", encoding="utf-8") as out:
        out.write(json.dumps({"spawned_at": spawned_at[0] if spawned_at else None,
                              "stopping_at": stopping_at[0] if stopping_at else None}) + "\n")
        for sample in samples:
            out.write(json.dumps(sample, ensure_ascii=False) + "\n")
