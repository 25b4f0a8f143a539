"""Load benchmark (issue 16): many viewers at once, against SQLite and PostgreSQL, with 1, 2 and 4 workers.

Not a test. For every configuration it starts ``innovation-monitor serve`` on a fresh database with the
shipped data (``--workers N``: gunicorn, N processes x 8 threads), warms it up, and runs locust
(``benchmarks/locustfile.py``) against it, headless, as one gevent process on the same machine:

- a **realistic** run: ``--users`` viewers (default 50) with a think time of 1-3 s between tasks: opening the
  overview, trend, gaps and data pages, changing the trend chart's indicator and regions, the gaps view and
  the data table, CSV/Excel downloads and, in about 1 % of the tasks, a PNG chart export;
- a **saturation** run: ``--saturation-users`` viewers (default 16) with no think time and no PNG exports, for
  the most requests per second the server manages (the comparison of 1, 2 and 4 workers).

The requests are the ones a real Chromium made (``benchmarks/load-requests.json``; ``--capture`` records
them again). Reported per run: requests/s, p50/p95/p99 of the callbacks (``POST /_dash-update-component``)
and of all requests (but the scripts a new viewer loads once), errors (anything but 200 with the expected
content, or 204 for a callback), the CPU the server used (its processes and their children: % of one core,
and ms per request), the CPU locust used and the load average; and per request kind the p95. The first seconds, while locust starts its viewers, are left out, and so are the requests locust cuts
off when it stops.

``--cost``: the server's CPU time per request of each kind (every recorded request sent one after another,
``--cost-repeats`` times, to a server with one worker, current and before): where the CPU goes, a measure
that other work on the machine hardly changes, unlike the response times.

Baseline ("before", ``--before-commit``, default e3e54d6): the app as it was, one waitress process, from a
temporary ``git worktree`` (removed at the end). ``--million``: one more realistic run with 2 workers on a
SQLite database of about 1,000,000 values (``benchmarks/dashboard.py``'s synthetic data).

Goals (issue 16, 2-core machine, shipped data): 50 viewers with callback p95 < 300 ms and no errors; with a
million values, p95 < 500 ms; with 2 workers at least 1.6x the requests/s of 1 worker.

Run: ``.venv/bin/python benchmarks/load.py --quick`` (a few seconds per run, SQLite, 1 worker: a smoke test),
``.venv/bin/python benchmarks/load.py --backends sqlite,postgresql --workers 1,2,4 --million`` (the full
matrix, about 17 minutes), ``--cost`` (about 2 minutes), ``--capture`` to record the requests again from Chromium.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pwd
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.screenshots import CHROMIUM_ARGS, free_port  # noqa: E402

FIXTURE = ROOT / "benchmarks" / "load-requests.json"
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
LOCUST = Path(sys.executable).parent / "locust"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CHROMIUM = "/usr/bin/chromium"
BEFORE_COMMIT = "e3e54d6"
MILLION = 1_000_000
START_TIMEOUT = 90  # seconds for a server to answer after it was started
SPAWN_RATE = 10  # viewers started per second
GOAL_P95_MS, GOAL_MILLION_P95_MS, GOAL_SCALING = 300, 500, 1.6
PAGES = {"overview": "/?lang=zh", "trend": "/trend?lang=zh", "gaps": "/gaps?lang=zh", "data": "/data?lang=zh"}


# -- recording the requests a browser makes -------------------------------------------------------------


def request_record(method: str, url: str, body: str | None, page: str) -> dict | None:
    """One recorded request as the locustfile replays it (named by page and callback output), or None for
    the requests a viewer does not repeat (scripts, style sheets, the icon)."""
    path = re.sub(r"^https?://[^/]+", "", url)
    plain = path.split("?")[0]
    if method == "POST" and plain == "/_dash-update-component":
        data = json.loads(body)
        outputs = data["outputs"] if isinstance(data["outputs"], list) else [data["outputs"]]
        first = f"{outputs[0]['id']}.{outputs[0]['property']}" + (f" +{len(outputs) - 1}" if len(outputs) > 1 else "")
        return {"method": "POST", "path": plain, "name": f"POST {page}: {first}", "kind": "callback", "body": data}
    if plain in ("/_dash-layout", "/_dash-dependencies"):
        return {"method": "GET", "path": plain, "name": f"GET {plain}", "kind": "json"}
    if plain in ("/", "/trend", "/gaps", "/data"):
        return {"method": "GET", "path": path, "name": f"GET {page} (page)", "kind": "shell"}
    return None


def capture(out: Path) -> None:
    """Open the pages in Chromium, make the changes a viewer makes and write every request they caused."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, \
            serving(Tree(ROOT), sqlite_database(Tree(ROOT), Path(tmp)), 1, Path(tmp) / "instance") as (base, _), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        seen: list[tuple[str, str, str | None]] = []
        page.on("request", lambda r: seen.append((r.method, r.url, r.post_data)))

        def recorded(name: str, action) -> list[dict]:
            seen.clear()
            action()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(700)  # callbacks chained after the first answers
            return [r for m, u, b in seen if (r := request_record(m, u, b, name))]

        def pick(dropdown: str, value) -> None:
            page.click(f"#{dropdown}")
            page.click(f".dash-dropdown-option:has(input[value='{value}'])")
            page.keyboard.press("Escape")

        def options(dropdown: str) -> list[str]:
            page.click(f"#{dropdown}")
            values = page.eval_on_selector_all(".dash-dropdown-option input", "els => els.map(e => e.value)")
            page.keyboard.press("Escape")
            return values

        fixture: dict = {"visits": {}, "actions": defaultdict(list), "downloads": {"table": [], "png": []}}
        lazy: set[str] = set()
        page.on("request", lambda r: lazy.add(re.sub(r"^https?://[^/]+", "", r.url))
                if "/async-" in r.url or "/_favicon.ico" in r.url else None)
        for name, path in PAGES.items():
            fixture["visits"][name] = recorded(name, lambda p=path: page.goto(base + p))
        links: set[str] = set()
        page.goto(base + PAGES["trend"])
        page.wait_for_load_state("networkidle")
        indicators = options("trend-indicator")
        for value in indicators[1::max(1, len(indicators) // 6)][:6]:
            fixture["actions"]["trend-indicator"].append(recorded("trend", lambda v=value: pick("trend-indicator", v)))
            links.update(page.eval_on_selector_all("#trend-export-links a", "els => els.map(e => e.href)"))
        page.goto(base + PAGES["trend"])  # the default indicator: the one with the most regions
        page.wait_for_load_state("networkidle")
        for value in options("trend-regions")[1:4]:  # one region more each time
            fixture["actions"]["trend-regions"].append(recorded("trend", lambda v=value: pick("trend-regions", v)))
            links.update(page.eval_on_selector_all("#trend-export-links a", "els => els.map(e => e.href)"))
        page.goto(base + PAGES["gaps"])
        page.wait_for_load_state("networkidle")
        pillars = options("gaps-pillar")
        for value in [*pillars[1:], pillars[0]]:  # every pillar, then all again (the milestone has one choice)
            fixture["actions"]["gaps"].append(recorded("gaps", lambda v=value: pick("gaps-pillar", v)))
        page.goto(base + PAGES["data"])
        page.wait_for_load_state("networkidle")
        for value in options("data-indicators")[:3]:
            fixture["actions"]["data"].append(recorded("data", lambda v=value: pick("data-indicators", v)))
            links.update(page.eval_on_selector_all("#data-csv, #data-xlsx", "els => els.map(e => e.href)"))
        # sort by a column, then show the history (earlier vintages too)
        fixture["actions"]["data"].append(recorded("data", lambda: page.locator(".column-header--sort").nth(2).click()))
        fixture["actions"]["data"].append(recorded("data", lambda: page.locator("#data-history input").first.click()))
        links.update(page.eval_on_selector_all("#data-csv, #data-xlsx", "els => els.map(e => e.href)"))
        browser.close()
    for link in sorted(links):
        path = re.sub(r"^https?://[^/]+", "", link)
        if "/export/chart" in path and "format=png" in path:
            fixture["downloads"]["png"].append({"method": "GET", "path": path, "name": "GET /export/chart (PNG)",
                                                "kind": "png"})
        elif "/export/table" in path or path.startswith("/data/download."):
            kind = "xlsx" if ".xlsx" in path else "csv"
            scope = re.search(r"scope=(\w+)", path)
            plain = path.split("?")[0] + (f" ({scope[1]})" if scope else "")
            fixture["downloads"]["table"].append({"method": "GET", "path": path, "name": f"GET {plain}", "kind": kind})
    fixture["actions"] = {k: [a for a in v if a] for k, v in fixture["actions"].items()}
    fixture["static_lazy"] = sorted(lazy)
    fixture = {"note": f"Recorded by `benchmarks/load.py --capture` on {datetime.now():%Y-%m-%d %H:%M} from "
                       "headless Chromium (1366x768) on the shipped data: page visits, then changes made in the "
                       "page's dropdowns; the replay also loads every script the page shell names, once per "
                       "viewer.", **fixture}
    out.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts = {k: len(v) for k, v in fixture["actions"].items()}
    print(f"wrote {out}: visits {list(fixture['visits'])}, actions {counts}, "
          f"downloads {len(fixture['downloads']['table'])} tables + {len(fixture['downloads']['png'])} PNG")


# -- databases and servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    """A checkout of the app whose own code a subprocess runs (not the editable install's)."""

    root: Path
    before: bool = False

    def env(self, url: str, instance: Path) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": url, "INNOVATION_MONITOR_INSTANCE": str(instance),
                "PYTHONPATH": str(self.root)}

    def run(self, url: str, instance: Path, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "indicators", *args], cwd=self.root, check=True, capture_output=True,
                       env=self.env(url, instance), timeout=600)


def sqlite_database(tree: Tree, folder: Path) -> str:
    """A new SQLite database in ``folder`` with the shipped data, made by the tree's own ``init``."""
    url = f"sqlite:///{folder / ('before' if tree.before else 'after')}.sqlite3"
    tree.run(url, folder / "instance", "init")
    return url


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temporary folder (as the ``postgres`` user when run as root)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="im-load-pg-"))
        self.port = free_port()
        self.as_user = "postgres" if os.geteuid() == 0 else None
        if self.as_user:
            user = pwd.getpwnam(self.as_user)
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)

    def __enter__(self) -> PostgresCluster:
        data = self.root / "data"
        self._run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                "-c shared_buffers=256MB")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        return self

    def __exit__(self, *_exc) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create(self, name: str) -> str:
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def serving(tree: Tree, url: str, workers: int, instance: Path) -> Iterator[tuple[str, int]]:
    """The app served on a free port (``workers`` 0: one waitress process, as before): its base URL and the
    server's process id."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if not tree.before:
        args += ["--workers", str(workers)]
    log = (instance.parent / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "indicators", *args], cwd=tree.root, env=tree.env(url, instance),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(base + "/_dash-layout", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: see {log.name}") from None
                time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants still alive (Linux): gunicorn's workers and
    the export browsers they started."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = {int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()}
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in children)


def warm_up(base: str, workers: int) -> None:
    """Every page and a CSV download a few times from several threads, so each worker process has built its
    snapshot and caches before the measurement (bounded: a fixed number of requests, 60 s timeouts)."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    requests = [r for visit in fixture["visits"].values() for r in visit] + fixture["downloads"]["table"][:1]

    def one_round() -> None:  # a request that times out under load is not the measurement's business
        for r in requests:
            send(base, r)

    threads = [threading.Thread(target=one_round) for _ in range(max(2, 2 * workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)


def send(base: str, request: dict) -> int:
    body = json.dumps(request["body"]).encode() if request["method"] == "POST" else None
    req = urllib.request.Request(base + request["path"], data=body, method=request["method"],
                                 headers={"Origin": base, "Content-Type": "application/json",
                                          "Accept-Encoding": "gzip, deflate, br, zstd"})  # as Chromium
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # a timeout under heavy load
        return 0


# -- running locust and summarising ----------------------------------------------------------------------


@dataclass
class Result:
    label: str
    samples: list[tuple[str, str, float, float, bool]] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds of the server's processes during the measured run
    locust_cpu: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average at the end of the run

    def stats(self, kinds: tuple[str, ...] | None = None) -> dict[str, float]:
        times = [s[3] for s in self.samples if (s[1] in kinds if kinds else s[1] != "static")]
        if not times:
            return {"n": 0, "rps": 0.0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
        p50, p95, p99 = np.percentile(times, [50, 95, 99])
        return {"n": len(times), "rps": len(times) / self.seconds, "p50": p50, "p95": p95, "p99": p99}

    def stats_for(self, name: str) -> dict[str, float]:
        times = [s[3] for s in self.samples if s[0] == name]
        return {"n": len(times), "p95": float(np.percentile(times, 95)) if times else float("nan")}

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s[4])


def run_locust(base: str, label: str, users: int, duration: int, *, think: bool, png: bool, folder: Path,
               server_pid: int) -> Result:
    """One headless locust run (one gevent process) of ``duration`` seconds; the samples after every viewer
    started. Bounded: locust stops itself after ``duration``; killed if it has not 60 s later."""
    samples_file = folder / f"samples-{label.replace(' ', '_').replace('/', '_')}.jsonl"
    env = {**os.environ, "LOAD_THINK": "1" if think else "0", "LOAD_PNG": "1" if png else "0",
           "LOAD_SAMPLES": str(samples_file)}
    cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(SPAWN_RATE),
           "-t", f"{duration}s", "--host", base, "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
           "--csv", str(folder / samples_file.stem)]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = cpu_seconds(server_pid)
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=duration + 60)
    ended = time.time()
    cpu_after = cpu_seconds(server_pid)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = samples_file.read_text(encoding="utf-8").splitlines() if samples_file.exists() else []
    if not lines:
        raise RuntimeError(f"locust wrote no samples (exit {proc.returncode}): {proc.stderr[-2000:]}")
    head = json.loads(lines[0])
    spawned, stopping = head["spawned_at"] or started, head["stopping_at"] or ended
    samples = [tuple(json.loads(line)) for line in lines[1:]]
    kept = [s for s in samples if spawned <= s[2] <= stopping]  # requests the stop cut off are not counted
    result = Result(label, kept, max(1e-9, stopping - spawned), load=os.getloadavg()[0])
    # the server's CPU over the whole run, scaled to the measured window (ramp-up is a few seconds)
    result.server_cpu = (cpu_after - cpu_before) * result.seconds / max(1e-9, ended - started)
    result.locust_cpu = ((children_after.ru_utime + children_after.ru_stime)
                         - (children_before.ru_utime + children_before.ru_stime)) * result.seconds / (ended - started)
    for s in kept:
        if not s[4]:
            result.failures[s[0]] = result.failures.get(s[0], 0) + 1
    failures_csv = folder / f"{samples_file.stem}_failures.csv"
    if failures_csv.exists():
        result.failures["_reasons"] = failures_csv.read_text(encoding="utf-8")  # type: ignore[assignment]
    return result


def fmt_row(r: Result) -> str:
    cb, every = r.stats(("callback",)), r.stats()
    return (f"| {r.label} | {every['rps']:.1f} | {cb['rps']:.1f} | {cb['p50']:.0f} | {cb['p95']:.0f} | "
            f"{cb['p99']:.0f} | {every['p50']:.0f} | {every['p95']:.0f} | {every['p99']:.0f} | "
            f"{r.errors} of {every['n']} | {100 * r.server_cpu / r.seconds:.0f} % | "
            f"{1000 * r.server_cpu / max(1, every['n']):.1f} | {100 * r.locust_cpu / r.seconds:.0f} % | {r.load:.1f} |")


HEADER = ("| run | req/s | callbacks/s | callback p50 ms | callback p95 ms | callback p99 ms | all p50 ms | "
          "all p95 ms | all p99 ms | errors | server CPU | server CPU ms/request | locust CPU | load avg |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def per_request(results: list[Result]) -> str:
    """p95 (ms) of every request name in every run, the slowest first by the first run."""
    names = sorted({s[0] for r in results for s in r.samples if s[1] != "static"},
                   key=lambda n: -results[0].stats_for(n)["p95"] if results[0].stats_for(n)["n"] else 0)
    lines = ["| request | " + " | ".join(r.label for r in results) + " |",
             "| --- |" + " ---: |" * len(results)]
    for name in names:
        cells = []
        for r in results:
            s = r.stats_for(name)
            cells.append(f"{s['p95']:.0f} ({s['n']})" if s["n"] else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the matrix ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def before_tree(commit: str) -> Iterator[Tree]:
    """The app at ``commit`` in a temporary git worktree, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="im-before-"))
    path.rmdir()
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    try:
        check = subprocess.run([sys.executable, "-c", "import indicators, app; print(indicators.__file__)"],
                               cwd=path, env={**os.environ, "PYTHONPATH": str(path)}, capture_output=True, text=True,
                               timeout=120)
        if not check.stdout.startswith(str(path)):
            raise RuntimeError(f"the worktree does not import its own code: {check.stdout} {check.stderr}")
        yield Tree(path, before=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True,
                       timeout=120)


def measure(tree: Tree, url: str, workers: int, label: str, args: argparse.Namespace, folder: Path,
            saturation: bool = True) -> list[Result]:
    """The realistic run and, unless ``saturation`` is False, the saturation run of one configuration."""
    out = []
    with serving(tree, url, workers, folder / "instance") as (base, pid):
        warm_up(base, max(1, workers))
        out.append(run_locust(base, label, args.users, args.duration, think=True, png=True, folder=folder,
                              server_pid=pid))
        print(fmt_row(out[-1]), flush=True)
        if saturation:
            out.append(run_locust(base, label + " (saturated)", args.saturation_users, args.saturation_duration,
                                  think=False, png=False, folder=folder, server_pid=pid))
            print(fmt_row(out[-1]), flush=True)
    return out


def run_matrix(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    folder = Path(tempfile.mkdtemp(prefix="im-load-"))
    (folder / "instance").mkdir()
    print(HEADER, flush=True)
    try:
        with contextlib.ExitStack() as stack:
            wanted = set(args.backends) | (set(args.before_backends) if args.before_commit else set())
            pg = stack.enter_context(PostgresCluster()) if "postgresql" in wanted else None
            for backend in args.backends:
                if backend == "sqlite":
                    url = sqlite_database(Tree(ROOT), folder)
                else:
                    url = pg.create("after")
                    Tree(ROOT).run(url, folder / "instance", "init")
                for workers in args.workers:
                    results += measure(Tree(ROOT), url, workers, f"{backend}, {workers} worker(s)", args, folder)
            if args.before_commit:
                tree = stack.enter_context(before_tree(args.before_commit))
                for backend in args.before_backends:
                    if backend == "sqlite":
                        url = f"sqlite:///{folder / 'before.sqlite3'}"
                    else:
                        url = pg.create("before")
                    tree.run(url, folder / "instance", "init")
                    results += measure(tree, url, 0, f"before ({args.before_commit}), {backend}, 1 waitress process",
                                       args, folder)
            if args.million:
                from benchmarks.dashboard import build_database

                url = f"sqlite:///{folder / 'million.sqlite3'}"
                started = time.perf_counter()
                rows, _ = build_database(url, MILLION)
                print(f"<!-- built {rows:,} synthetic values in {time.perf_counter() - started:.0f} s -->", flush=True)
                results += measure(Tree(ROOT), url, 2, "sqlite 1M values, 2 workers", args, folder,
                                   saturation=False)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    return results


def report(results: list[Result], args: argparse.Namespace) -> str:
    lines = [f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
             f"{datetime.now():%Y-%m-%d %H:%M}, load average before the runs {args.load_before:.2f}, after "
             f"{os.getloadavg()[0]:.2f}. Realistic runs: {args.users} viewers, think time 1-3 s, {args.duration} s; "
             f"saturation runs: {args.saturation_users} viewers, no think time, no PNG, {args.saturation_duration} s. "
             "locust: one gevent process (FastHttpUser) on the same 2 cores. CPU: % of one core over the run.",
             "", HEADER, *(fmt_row(r) for r in results), ""]
    realistic = [r for r in results if "saturated" not in r.label]
    saturated = [r for r in results if "saturated" in r.label]
    lines.append("Goals:")
    for r in realistic:
        goal = GOAL_MILLION_P95_MS if "1M" in r.label else GOAL_P95_MS
        p95 = r.stats(("callback",))["p95"]
        verdict = "met" if p95 < goal and r.errors == 0 else "NOT met"
        lines.append(f"- {r.label}: callback p95 {p95:.0f} ms (goal < {goal}), {r.errors} errors: {verdict}")
    by_label = {r.label.replace(" (saturated)", ""): r.stats()["rps"] for r in saturated}
    for backend in args.backends:
        one = by_label.get(f"{backend}, 1 worker(s)")
        for n in (2, 4):
            other = by_label.get(f"{backend}, {n} worker(s)")
            if one and other:
                verdict = "" if n != 2 else (" (goal >= 1.6x: met)" if other / one >= GOAL_SCALING
                                             else " (goal >= 1.6x: NOT met)")
                lines.append(f"- {backend}: saturated req/s with {n} workers / 1 worker = {other / one:.2f}x{verdict}")
        before = next((v for k, v in by_label.items() if k.startswith("before") and backend in k), None)
        if before and one:
            lines.append(f"- {backend}: saturated req/s, 1 worker / before (1 waitress process) = {one / before:.2f}x")
    failures = [(r.label, {k: v for k, v in r.failures.items() if k != "_reasons"}) for r in results if r.errors]
    if failures:
        lines += ["", "Errors by request:"] + [f"- {label}: {f}" for label, f in failures]
    lines += ["", "p95 (ms) of each request (number of requests), realistic runs:", "", per_request(realistic)]
    return "\n".join(lines)


def request_cost(base: str, pid: int, repeats: int) -> dict[str, tuple[float, float, int]]:
    """Per request name: the server's CPU ms per request, the median wall ms, how many; each recorded request
    sent ``repeats`` times one after another (the PNG exports once each: the first starts the browser)."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in [*(r for v in fixture["visits"].values() for r in v),
              *(r for a in fixture["actions"].values() for step in a for r in step), *fixture["downloads"]["table"]]:
        groups[r["name"]].append(r)
    for request in fixture["downloads"]["png"][:2]:
        send(base, request)  # the export browser started: its start is not a request's cost
    groups["GET /export/chart (PNG)"] = fixture["downloads"]["png"][2:8]
    out = {}
    for name, requests in groups.items():
        walls, cpu_before, statuses = [], cpu_seconds(pid), set()
        for _ in range(repeats if "PNG" not in name else 1):
            for request in requests:
                started = time.perf_counter()
                statuses.add(send(base, request))
                walls.append(1000 * (time.perf_counter() - started))
        out[name] = (1000 * (cpu_seconds(pid) - cpu_before) / len(walls), float(np.median(walls)), len(walls))
        if statuses - {200, 204}:
            print(f"  {name}: answers {sorted(statuses)}", flush=True)
    return out


def run_cost(args: argparse.Namespace) -> str:
    folder = Path(tempfile.mkdtemp(prefix="im-load-"))
    (folder / "instance").mkdir()
    costs: dict[str, dict] = {}
    try:
        with contextlib.ExitStack() as stack:
            trees = [("after, 1 worker", Tree(ROOT), 1)]
            if args.before_commit:
                trees.append((f"before ({args.before_commit})", stack.enter_context(before_tree(args.before_commit)), 0))
            for label, tree, workers in trees:
                with serving(tree, sqlite_database(tree, folder), workers, folder / "instance") as (base, pid):
                    warm_up(base, 1)
                    costs[label] = request_cost(base, pid, args.cost_repeats)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    labels = list(costs)
    names = sorted(costs[labels[0]], key=lambda n: -costs[labels[0]][n][0])
    lines = [f"Server CPU per request, SQLite, shipped data, requests one after another ({args.cost_repeats} rounds; "
             f"load average {os.getloadavg()[0]:.1f}): CPU ms (median wall ms)", "",
             "| request | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for name in names:
        cells = [f"{costs[label][name][0]:.1f} ({costs[label][name][1]:.0f})" if name in costs[label] else ""
                 for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capture", action="store_true", help=f"record the requests again into {FIXTURE.name}")
    parser.add_argument("--quick", action="store_true", help="smoke run: SQLite, 1 worker, 10 viewers, 8 s")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=50, help="seconds of each realistic run")
    parser.add_argument("--saturation-users", type=int, default=16)
    parser.add_argument("--saturation-duration", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--before-commit", default=BEFORE_COMMIT, help="baseline commit ('' for none)")
    parser.add_argument("--before-backends", default="sqlite")
    parser.add_argument("--million", action="store_true", help="one more run on ~1,000,000 values, 2 workers")
    parser.add_argument("--cost", action="store_true", help="the server's CPU per request of each kind instead")
    parser.add_argument("--cost-repeats", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, locust CSVs)")
    parser.add_argument("--output", type=Path, help="also write the markdown report to this file")
    args = parser.parse_args()
    if args.capture:
        capture(FIXTURE)
        return
    if args.quick:
        args.users, args.duration, args.saturation_users, args.saturation_duration = 10, 8, 4, 6
        args.backends, args.workers, args.before_commit = "sqlite", "1", ""
    args.backends = [b for b in args.backends.split(",") if b]
    args.before_backends = [b for b in args.before_backends.split(",") if b]
    args.workers = [int(w) for w in args.workers.split(",") if w]
    args.load_before = os.getloadavg()[0]
    text = run_cost(args) if args.cost else report(run_matrix(args), args)
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
