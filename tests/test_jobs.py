"""The background jobs: progress while running, the result or the error after, limits on waiting work per
owner and in all, finished jobs forgotten after a while, and a job whose process died read as failed.

Jobs live in the database (SQLite and PostgreSQL here): a second ``Jobs`` on the same database stands for
another server process, which must see the same jobs. Two real server processes: ``test_deployment.py``.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from indicators import jobs
from indicators.jobs import (
    KEEP_SECONDS,
    MAX_PENDING,
    MAX_PENDING_PER_OWNER,
    STALE_SECONDS,
    WAIT_SECONDS,
    Jobs,
    TooBusy,
)
from indicators.models import Job as JobRow

from .support import start_worker, submit_work


@pytest.fixture
def gate():
    """An event the test's jobs wait for; opened at the end at the latest, so no worker thread stays blocked."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def pools(seeded_engine):
    """Two job pools on one database, as two server processes have."""
    return Jobs(workers=2, engine=lambda: seeded_engine), Jobs(workers=2, engine=lambda: seeded_engine)


def blocked_work(gate: threading.Event, result: bytes = b"done"):
    def work(report):
        gate.wait(30)
        return result

    return work


def test_a_job_reports_its_progress_then_its_result_to_every_process(pools, gate, wait_for, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    mine, other = pools
    halfway = threading.Event()

    def work(report):
        report(1, 3, "RD_GDP_RATIO")
        halfway.set()
        gate.wait(30)
        report(3, 3, "index")
        return b"pack"

    job = submit_work(mine, work)
    assert halfway.wait(30)
    seen = other.get(job.id)
    assert (seen.done, seen.total, seen.step, seen.finished, seen.state) == (1, 3, "RD_GDP_RATIO", False, "running")
    assert other.result(job.id) is None
    gate.set()
    assert wait_for(lambda: other.get(job.id).finished)
    seen = other.get(job.id)
    assert (seen.done, seen.total, seen.step, seen.error, seen.size, seen.kind) == (3, 3, "index", None, 4, "test")
    assert other.result(job.id) == b"pack" == mine.result(job.id)


def test_an_error_is_kept_with_the_job_not_lost_in_the_thread(pools, wait_for):
    mine, other = pools

    def work(report):
        report(1, 2, "scorecard")
        raise ValueError("no Chromium")

    job = submit_work(mine, work)
    assert wait_for(lambda: other.get(job.id).finished)
    seen = other.get(job.id)
    assert (seen.state, seen.error, seen.done) == ("failed", "no Chromium", 1)
    assert other.result(job.id) is None


def test_jobs_have_distinct_ids_and_an_unknown_id_finds_nothing(pools, gate):
    mine, _ = pools
    first, second = submit_work(mine, blocked_work(gate), owner="a"), submit_work(mine, blocked_work(gate), owner="b")
    assert first.id != second.id and len(first.id) >= 16  # not guessable: the id is the download's only key
    assert mine.get("no-such-job") is None and mine.get("x" * 10_000) is None


def test_waiting_jobs_are_limited_per_owner_and_in_all_over_every_process(pools, gate, wait_for):
    mine, other = pools
    per_owner = [submit_work(mine, blocked_work(gate), owner="user:wang") for _ in range(MAX_PENDING_PER_OWNER)]
    with pytest.raises(TooBusy) as info:
        submit_work(other, blocked_work(gate), owner="user:wang")  # through the other process too
    assert "稍后再试" in info.value.message_zh and "try again" in info.value.message_en
    others = [submit_work(mine if i % 2 else other, blocked_work(gate), owner=f"address:10.0.0.{i}")
              for i in range(MAX_PENDING - MAX_PENDING_PER_OWNER)]
    with pytest.raises(TooBusy):
        submit_work(mine, blocked_work(gate), owner="address:10.9.9.9")  # a newcomer: the total is reached
    gate.set()
    assert wait_for(lambda: all(mine.get(j.id).finished for j in [*per_owner, *others]))
    again = [submit_work(mine, lambda report: b"x", owner="user:wang") for _ in range(MAX_PENDING_PER_OWNER)]
    assert wait_for(lambda: all(other.get(j.id).finished for j in again))  # finished jobs do not count


def test_a_job_nobody_takes_reads_as_failed_after_the_waiting_time(seeded_engine, monkeypatch):
    queued = Jobs(workers=1, engine=lambda: seeded_engine)
    monkeypatch.setattr(queued, "_pool", ThreadPoolExecutor(max_workers=1))
    queued._pool.submit(threading.Event().wait, 2)  # its only thread is busy: the next job waits
    job = submit_work(queued, lambda report: b"x")
    with seeded_engine.begin() as conn:
        conn.execute(update(JobRow).where(JobRow.id == job.id).values(beat=JobRow.beat - STALE_SECONDS - 1))
    assert queued.get(job.id).state == "pending"  # waiting is not dying: only a long wait is
    with seeded_engine.begin() as conn:
        conn.execute(update(JobRow).where(JobRow.id == job.id).values(beat=JobRow.beat - WAIT_SECONDS))
    assert queued.get(job.id).state == "failed"


def test_finished_jobs_are_forgotten_after_the_keeping_time_running_ones_are_kept(pools, gate, wait_for, seeded_engine):
    mine, other = pools
    old = submit_work(mine, lambda report: b"old", owner="a")
    assert wait_for(lambda: mine.get(old.id).finished)
    recent = submit_work(mine, lambda report: b"recent", owner="b")
    running = submit_work(mine, blocked_work(gate), owner="c")
    assert wait_for(lambda: mine.get(recent.id).finished and mine.get(running.id).state == "running")
    with seeded_engine.begin() as conn:  # as if they had started more than the keeping time ago
        conn.execute(update(JobRow).where(JobRow.id.in_([old.id, running.id]))
                     .values(created=JobRow.created - KEEP_SECONDS - 1))
    submit_work(other, lambda report: b"new", owner="d")  # forgetting happens when a job is submitted
    assert other.get(old.id) is None
    assert other.get(recent.id).state == "done" and other.get(running.id).state == "running"


def test_a_job_whose_process_stopped_reads_as_failed_and_frees_its_place(pools, gate, seeded_engine, wait_for):
    mine, other = pools
    stuck = [submit_work(mine, blocked_work(gate), owner="user:wang") for _ in range(MAX_PENDING_PER_OWNER)]
    assert wait_for(lambda: all(other.get(j.id).state == "running" for j in stuck))
    with pytest.raises(TooBusy):
        submit_work(other, blocked_work(gate), owner="user:wang")
    with seeded_engine.begin() as conn:  # their process was killed: no beat since
        conn.execute(update(JobRow).where(JobRow.id.in_([j.id for j in stuck]))
                     .values(beat=JobRow.beat - STALE_SECONDS - 10))
    seen = other.get(stuck[0].id)
    assert seen.finished and "stopped" in seen.error and "停止" in seen.error
    submit_work(other, blocked_work(gate), owner="user:wang")  # their places are free again


def test_with_a_queue_a_job_waits_for_a_worker_process_which_builds_it(seeded_url, redis_url, monkeypatch, wait_for):
    import io
    import zipfile

    from indicators import db

    monkeypatch.setenv("INNOVATION_MONITOR_REDIS_URL", redis_url)
    engine = db.make_engine(seeded_url)
    web = Jobs(engine=lambda: engine)
    job = web.submit("pack", {"lang": "en", "indicators": ["RD_GDP_RATIO"], "size": "slide"}, owner="user:wang")
    assert not wait_for(lambda: web.get(job.id).state != "pending", timeout=1)  # no web thread takes it
    worker = start_worker(dict(os.environ, DATABASE_URL=seeded_url))
    try:
        assert wait_for(lambda: web.get(job.id).finished, timeout=120)
        assert web.get(job.id).state == "done", web.get(job.id).error
        with zipfile.ZipFile(io.BytesIO(web.result(job.id))) as zf:
            assert "scorecard.png" in zf.namelist() and any(n.endswith("RD_GDP_RATIO.png") for n in zf.namelist())
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) in (0, -15), worker.stderr.read().decode() if worker.stderr else ""
        engine.dispose()
