"""Background jobs for slow work started from the web (briefing packs, work reports), so a request never blocks others.

What belongs here: running a function in a small thread pool and keeping its progress, result or error
for a while. Jobs live in the memory of one server process (the app runs as one waitress process with
threads); a restart forgets them, which is acceptable for packs a user downloads right away.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from indicators.i18n import BilingualError, Text

KEEP_SECONDS = 3600
MAX_WORKERS = 2
MAX_PENDING = 4  # queued or running at once; more are refused, so nobody can pile up work


BUSY = Text("当前生成任务过多,请稍后再试。", "Too many packs are being built; try again in a minute.")


class TooBusy(BilingualError):
    """Too many jobs are waiting."""

    def __init__(self) -> None:
        super().__init__(BUSY)


@dataclass
class Job:
    id: str
    done: int = 0
    total: int = 0
    step: str = ""
    result: bytes | None = None
    error: str | None = None
    finished: bool = False
    created: float = field(default_factory=time.monotonic)
    name: str = ""  # the file name the result downloads as, where the kind of job does not fix it


class Jobs:
    def __init__(self, workers: int = MAX_WORKERS):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="im-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, work: Callable[[Callable[[int, int, str], None]], bytes], *, name: str = "") -> Job:
        """Run ``work(report_progress)`` in the background; it returns the result bytes (``name``: the file
        name they download as)."""
        job = Job(id=secrets.token_urlsafe(12), name=name)
        with self._lock:
            self._forget_old()
            if sum(not j.finished for j in self._jobs.values()) >= MAX_PENDING:
                raise TooBusy()
            self._jobs[job.id] = job

        def report(done: int, total: int, step: str) -> None:
            job.done, job.total, job.step = done, total, step

        def run() -> None:
            try:
                job.result = work(report)
            except Exception as exc:  # noqa: BLE001 - kept and shown to the user, not lost in a thread
                job.error = str(exc)
            finally:
                job.finished = True

        self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items() if j.finished and now - j.created > KEEP_SECONDS]:
            del self._jobs[key]


JOBS = Jobs()
