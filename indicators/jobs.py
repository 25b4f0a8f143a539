"""Background jobs for slow work started from the web (briefing packs, work reports), so a request never blocks others.

What belongs here: the kinds of job (:data:`KINDS`: a name and the parameters, which build their file from
the current data), running them, and keeping their state where every server process reads it: the ``jobs``
table (state, progress, error, the result's bytes). A pack started through one worker process therefore
polls and downloads through any other, and through another host that shares the database. Not here: what
the jobs build (``briefing``, ``report``).

Who runs them: by default a small thread pool in the server process that accepted the job; with
``INNOVATION_MONITOR_REDIS_URL`` set, a Celery queue on that Redis, emptied by ``innovation-monitor worker``
processes on any host (``indicators.queue``), so web processes only answer requests.

Limits, counted in the database over every process: at most :data:`MAX_PENDING_PER_OWNER` jobs waiting or
running per owner (an account, else a client address) and :data:`MAX_PENDING` in all; more are refused
(:class:`TooBusy`). The process running a job writes a beat every :data:`BEAT_SECONDS`; a job whose beat is
older than :data:`STALE_SECONDS` (its process was stopped or killed) reads as failed, and so does a job
still waiting after :data:`WAIT_SECONDS` (no worker took it), so nobody waits for it forever. Finished jobs are deleted :data:`KEEP_SECONDS` after they started.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update

from indicators import db
from indicators.i18n import BilingualError, Text
from indicators.models import Job as JobRow

KEEP_SECONDS = 3600
MAX_WORKERS = 2  # threads per process that build jobs
MAX_PENDING = 6  # waiting or running at once over every process; more are refused
MAX_PENDING_PER_OWNER = 2  # so one person cannot fill the queue
BEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
WAIT_SECONDS = 900.0
PROGRESS_EVERY = 0.25  # seconds between progress writes (the last step is always written)
JOBS_LOCK_KEY = 7_411_204  # PostgreSQL advisory lock of job admission (not the batches' lock)

BUSY = Text("当前生成任务过多,请稍后再试。", "Too many packs are being built; try again in a minute.")
STOPPED = Text("生成该文件的进程已停止或没有进程接手,请重新生成。",
               "The process building it stopped, or no process took it; please build it again.")


class TooBusy(BilingualError):
    """Too many jobs are waiting."""

    def __init__(self) -> None:
        super().__init__(BUSY)


@dataclass(frozen=True)
class Job:
    """A job as the database holds it when read (without its result's bytes: :meth:`Jobs.result`)."""

    id: str
    kind: str = ""
    owner: str = ""
    name: str = ""  # the file name the result downloads as, where the kind of job does not fix it
    state: str = "pending"  # pending | running | done | failed
    done: int = 0
    total: int = 0
    step: str = ""
    error: str | None = None
    size: int = 0  # bytes of the result

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


_FIELDS = (JobRow.id, JobRow.kind, JobRow.owner, JobRow.name, JobRow.state, JobRow.done, JobRow.total, JobRow.step,
           JobRow.error, JobRow.size, JobRow.beat)


class Jobs:
    """Jobs started in this process and run by its threads; any process reads any job."""

    def __init__(self, workers: int = MAX_WORKERS, engine: Callable[[], Engine] = db.default_engine):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="im-job")
        self._engine = engine
        self._mine: dict[str, Engine] = {}  # the jobs this process runs or has queued, and their database
        self._lock = threading.Lock()
        self._beating = False

    def submit(self, kind: str, params: dict, *, name: str = "", owner: str = "") -> Job:
        """Queue a job of ``kind`` (a key of :data:`KINDS`) with ``params`` (plain JSON values); ``name``: the
        file name it downloads as; ``owner``: who asked, for the per-owner limit. Raises :class:`TooBusy`."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of job {kind!r}")
        engine = self._engine()
        job = Job(id=secrets.token_urlsafe(18), kind=kind, owner=owner[:200], name=name[:200])
        now = time.time()
        # two processes must not both admit the last free place
        with db.writing(engine, lock=JOBS_LOCK_KEY) as conn:
            conn.execute(delete(JobRow).where(JobRow.created < now - KEEP_SECONDS,
                                              JobRow.state.in_(("done", "failed"))))
            conn.execute(update(JobRow).where(_stale(now)).values(state="failed", error=STOPPED.zh + " " + STOPPED.en))
            pending = conn.execute(select(JobRow.owner, func.count()).where(JobRow.state.in_(("pending", "running")))
                                   .group_by(JobRow.owner)).all()
            if sum(n for _, n in pending) >= MAX_PENDING or dict(pending).get(job.owner, 0) >= MAX_PENDING_PER_OWNER:
                raise TooBusy()
            conn.execute(insert(JobRow).values(id=job.id, kind=kind, owner=job.owner, name=job.name, state="pending",
                                               done=0, total=0, step="", size=0, created=now, beat=now))
        url = queue_url()
        if url:
            from indicators import queue

            queue.enqueue(url, job.id, kind, params)
        else:
            self._pool.submit(self.run, engine, job.id, kind, params)
        return job

    def run(self, engine: Engine, job_id: str, kind: str, params: dict) -> None:
        """Build the job here and now (in this process's pool, or in a queue worker), writing its state."""
        written = 0.0
        with self._lock:
            self._mine[job_id] = engine
            self._start_beating()

        def write(**values) -> None:
            with engine.begin() as conn:
                conn.execute(update(JobRow).where(JobRow.id == job_id).values(beat=time.time(), **values))

        def report(done: int, total: int, step: str) -> None:
            nonlocal written
            if time.monotonic() - written >= PROGRESS_EVERY or done >= total:
                write(done=done, total=total, step=str(step)[:500])
                written = time.monotonic()

        try:
            write(state="running")
            result = KINDS[kind](params, report)
            write(state="done", result=result, size=len(result))
        except Exception as exc:  # noqa: BLE001 - kept and shown to the user, not lost in a thread
            write(state="failed", error=str(exc) or type(exc).__name__)
        finally:
            with self._lock:
                self._mine.pop(job_id, None)

    def _start_beating(self) -> None:
        """One thread per process that writes the beat of the jobs it runs (also while a step takes long)."""
        if self._beating:
            return
        self._beating = True

        def beat() -> None:
            while True:
                time.sleep(BEAT_SECONDS)
                with self._lock:
                    mine = dict(self._mine)
                    if not mine:
                        self._beating = False
                        return
                for engine in set(mine.values()):
                    ids = [i for i, e in mine.items() if e is engine]
                    try:
                        with engine.begin() as conn:
                            conn.execute(update(JobRow).where(JobRow.id.in_(ids)).values(beat=time.time()))
                    except Exception:  # noqa: BLE001, S112 - a missed beat is retried; the job itself reports failures
                        continue

        threading.Thread(target=beat, name="im-job-beat", daemon=True).start()

    def get(self, job_id: str) -> Job | None:
        """The job as every process sees it; one whose process stopped beating reads as failed."""
        if not isinstance(job_id, str) or len(job_id) > 64:
            return None
        with self._engine().connect() as conn:
            row = conn.execute(select(*_FIELDS).where(JobRow.id == job_id)).one_or_none()
        if row is None:
            return None
        job = Job(**{k: v for k, v in row._mapping.items() if k != "beat"})
        now = time.time()
        if (job.state == "running" and row.beat < now - STALE_SECONDS) or (
                job.state == "pending" and row.beat < now - WAIT_SECONDS):
            return replace(job, state="failed", error=STOPPED.zh + " " + STOPPED.en)
        return job

    def result(self, job_id: str) -> bytes | None:
        """The bytes a finished job built, None if it has none."""
        with self._engine().connect() as conn:
            return conn.execute(select(JobRow.result).where(JobRow.id == job_id, JobRow.state == "done")).scalar()


def _stale(now: float):
    """Running jobs without a beat for :data:`STALE_SECONDS`; waiting ones for :data:`WAIT_SECONDS`."""
    return or_(and_(JobRow.state == "running", JobRow.beat < now - STALE_SECONDS),
               and_(JobRow.state == "pending", JobRow.beat < now - WAIT_SECONDS))


def queue_url() -> str | None:
    """The Redis a shared deployment queues jobs on (``INNOVATION_MONITOR_REDIS_URL``), else None."""
    return os.environ.get("INNOVATION_MONITOR_REDIS_URL", "").strip() or None


def _pack(params: dict, report: Callable[[int, int, str], None]) -> bytes:
    from indicators import briefing, snapshot

    return briefing.build_pack(snapshot.snapshot(), lang=params["lang"], pillar=params.get("pillar"),
                               indicators=params.get("indicators"), regions=params.get("regions"),
                               size=params.get("size", "slide"), on_progress=report)


def _report(params: dict, report: Callable[[int, int, str], None]) -> bytes:
    from indicators import report as reports
    from indicators import snapshot

    snap = snapshot.snapshot()
    spec = reports.ReportSpec(lang=params["lang"], period=params["period"], file_name=params["file_name"])
    return reports.build(snap, spec, fmt=params["fmt"], extras=reports.gather_extras(snap, spec), on_progress=report)


# Each kind builds its file from the current data and plain parameters, so any process can run it.
KINDS: dict[str, Callable[[dict, Callable[[int, int, str], None]], bytes]] = {"pack": _pack, "report": _report}

JOBS = Jobs()
