"""The background job pool: progress while running, the result or the error after, a limit on waiting work,
and finished jobs forgotten after a while."""

from __future__ import annotations

import threading

import pytest

from indicators.jobs import KEEP_SECONDS, MAX_PENDING, Jobs, TooBusy


@pytest.fixture
def gate():
    """An event the test's jobs wait for; opened at the end at the latest, so no worker thread stays blocked."""
    event = threading.Event()
    yield event
    event.set()


def blocked_work(gate: threading.Event, result: bytes = b"done"):
    def work(report):
        gate.wait(30)
        return result

    return work


def test_a_job_reports_its_progress_then_its_result(gate, wait_for):
    pool = Jobs(workers=1)
    halfway = threading.Event()

    def work(report):
        report(1, 3, "RD_GDP_RATIO")
        halfway.set()
        gate.wait(30)
        report(3, 3, "index")
        return b"pack"

    job = pool.submit(work)
    assert halfway.wait(30)
    assert (job.done, job.total, job.step, job.finished, job.result) == (1, 3, "RD_GDP_RATIO", False, None)
    gate.set()
    assert wait_for(lambda: job.finished)
    assert (job.done, job.total, job.step, job.result, job.error) == (3, 3, "index", b"pack", None)
    assert pool.get(job.id) is job


def test_an_error_is_kept_with_the_job_not_lost_in_the_thread(wait_for):
    pool = Jobs(workers=1)

    def work(report):
        report(1, 2, "scorecard")
        raise ValueError("no Chromium")

    job = pool.submit(work)
    assert wait_for(lambda: job.finished)
    assert (job.error, job.result, job.done) == ("no Chromium", None, 1)


def test_jobs_have_distinct_ids_and_an_unknown_id_finds_nothing(gate):
    pool = Jobs(workers=1)
    first, second = pool.submit(blocked_work(gate)), pool.submit(blocked_work(gate))
    assert first.id != second.id and len(first.id) >= 16  # not guessable: the id is the download's only key
    assert pool.get("no-such-job") is None


def test_more_waiting_jobs_than_the_limit_are_refused_until_some_finish(gate, wait_for):
    pool = Jobs(workers=2)
    waiting = [pool.submit(blocked_work(gate)) for _ in range(MAX_PENDING)]
    with pytest.raises(TooBusy) as info:
        pool.submit(blocked_work(gate))
    assert "稍后再试" in info.value.message_zh and "try again" in info.value.message_en
    gate.set()
    assert wait_for(lambda: all(j.finished for j in waiting))
    again = [pool.submit(blocked_work(gate)) for _ in range(MAX_PENDING)]  # finished jobs do not count
    assert wait_for(lambda: all(j.finished for j in again))


def test_finished_jobs_are_forgotten_after_the_keeping_time_running_ones_are_kept(gate, wait_for):
    pool = Jobs(workers=2)
    old = pool.submit(lambda report: b"old")
    assert wait_for(lambda: old.finished)
    recent = pool.submit(lambda report: b"recent")
    running = pool.submit(blocked_work(gate))
    assert wait_for(lambda: recent.finished)
    old.created -= KEEP_SECONDS + 1  # as if it had started more than the keeping time ago
    running.created -= KEEP_SECONDS + 1
    pool.submit(lambda report: b"new")  # forgetting happens when a job is submitted
    assert pool.get(old.id) is None
    assert pool.get(recent.id) is recent and pool.get(running.id) is running
