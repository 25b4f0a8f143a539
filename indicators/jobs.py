"""Background jobs for slow work started from the web (briefing packs, work reports), so a request never blocks others.

What belongs here: running a function in a small thread pool of this server process, and keeping the job's
state where every server process reads it: the ``jobs`` table (state, progress, error, the result's bytes).
A pack started through one worker process therefore polls and downloads through any other, and through
another host that shares the database. Not here: what the jobs build (``briefing``, ``report``).

Limits, counted in the database over every process: at most :data:`MAX_PENDING_PER_OWNER` jobs waiting or
running per owner (an account, else a client address) and :data:`MAX_PENDING` in all; more are refused
(:class:`TooBusy`). The process running a job writes a beat every :data:`BEAT_SECONDS`; a job whose beat is
older than :data:`STALE_SECONDS` (its process was stopped or killed) reads as failed, so nobody waits for
it forever. Finished jobs are deleted :data:`KEEP_SECONDS` after they started.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from indicators import db
from indicators.i18n import BilingualError, Text
from indicators.models import Job as JobRow

KEEP_SECONDS = 3600
MAX_WORKERS = 2  # threads per process that build jobs
MAX_PENDING = 6  # waiting or running at once over every process; more are refused
MAX_PENDING_PER_OWNER = 2  # so one person cannot fill the queue
BEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
PROGRESS_EVERY = 0.25  # seconds between progress writes (the last step is always written)
JOBS_LOCK_KEY = 7_411_204  # PostgreSQL advisory lock of job admission (not the batches' lock)

BUSY = Text("当前生成任务过多,请稍后再试。", "Too many packs are being built; try again in a minute.")
STOPPED = Text("生成该文件的服务进程已停止,请重新生成。",
               "The server process building it stopped; please build it again.")


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

    @contextmanager
    def _alone(self, engine: Engine) -> Iterator[Connection]:
        """A transaction no other admission runs beside (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock
        of its own), so two processes cannot both admit the last free place."""
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({JOBS_LOCK_KEY})")
                yield conn

    def submit(self, work: Callable[[Callable[[int, int, str], None]], bytes], *, kind: str = "job",
               name: str = "", owner: str = "") -> Job:
        """Run ``work(report_progress)`` in the background; it returns the result's bytes (``name``: the file
        name they download as; ``owner``: who asked, for the per-owner limit). Raises :class:`TooBusy`."""
        engine = self._engine()
        job = Job(id=secrets.token_urlsafe(18), kind=kind, owner=owner[:200], name=name[:200])
        now = time.time()
        with self._alone(engine) as conn:
            conn.execute(delete(JobRow).where(JobRow.created < now - KEEP_SECONDS,
                                              JobRow.state.in_(("done", "failed"))))
            conn.execute(update(JobRow).where(JobRow.state.in_(("pending", "running")),
                                              JobRow.beat < now - STALE_SECONDS)
                         .values(state="failed", error=STOPPED.zh + " " + STOPPED.en, result=None))
            pending = conn.execute(select(JobRow.owner, func.count()).where(JobRow.state.in_(("pending", "running")))
                                   .group_by(JobRow.owner)).all()
            if sum(n for _, n in pending) >= MAX_PENDING or dict(pending).get(job.owner, 0) >= MAX_PENDING_PER_OWNER:
                raise TooBusy()
            conn.execute(insert(JobRow).values(id=job.id, kind=kind, owner=job.owner, name=job.name, state="pending",
                                               done=0, total=0, step="", size=0, created=now, beat=now))
        with self._lock:
            self._mine[job.id] = engine
            self._start_beating()
        self._pool.submit(self._run, engine, job.id, work)
        return job

    def _run(self, engine: Engine, job_id: str, work: Callable[[Callable[[int, int, str], None]], bytes]) -> None:
        written = 0.0

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
            result = work(report)
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
        if not job.finished and row.beat < time.time() - STALE_SECONDS:
            return replace(job, state="failed", error=STOPPED.zh + " " + STOPPED.en)
        return job

    def result(self, job_id: str) -> bytes | None:
        """The bytes a finished job built, None if it has none."""
        with self._engine().connect() as conn:
            return conn.execute(select(JobRow.result).where(JobRow.id == job_id, JobRow.state == "done")).scalar()


JOBS = Jobs()
