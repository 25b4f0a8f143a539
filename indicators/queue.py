"""The job queue of a shared deployment: Celery on Redis (``INNOVATION_MONITOR_REDIS_URL``).

What belongs here: the Celery app, putting a job on the queue, and the one task that runs a queued job in an
``innovation-monitor worker`` process. What a job builds, its limits and its state are ``jobs``'; the queue
carries only the job's id, kind and parameters, and Celery keeps no results (they go to the ``jobs`` table,
where every web process reads them). Imported only where the queue is used: Celery costs time to load.
"""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

TASK = "innovation_monitor.run_job"
QUEUE = "innovation-monitor"


@lru_cache(maxsize=4)
def celery_app(url: str) -> Celery:
    app = Celery("innovation_monitor", broker=url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=True,  # results live in the jobs table
        task_serializer="json", accept_content=["json"],
        worker_prefetch_multiplier=1,  # a long pack does not hold other jobs back in one worker's buffer
        task_acks_late=False,  # a job whose worker died is not run again: its beat stops and it reads as failed
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name=TASK)
    def run_job(job_id: str, kind: str, params: dict) -> None:
        from indicators import db, jobs

        jobs.JOBS.run(db.default_engine(), job_id, kind, params)

    return app


def enqueue(url: str, job_id: str, kind: str, params: dict) -> None:
    celery_app(url).send_task(TASK, args=[job_id, kind, params], queue=QUEUE)


def work(url: str, concurrency: int) -> None:
    """Run a worker that takes jobs from the queue until stopped (SIGTERM: finish the running jobs, then leave)."""
    celery_app(url).worker_main(["worker", "--pool", "threads", "--concurrency", str(concurrency),
                                 "--queues", QUEUE, "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                                 "--without-heartbeat"])
