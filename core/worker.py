"""The queue backend (JOB_BACKEND=queue): Dramatiq on Redis runs `core.jobs.run_analysis` in workers.

Start a worker with `python -m core worker` (one process, MAX_CONCURRENT_JOBS threads, JOB_QUEUE);
run as many as you like, on as many machines as share PostgreSQL, the storage volume and Redis.
The app only enqueues (`enqueue`); it never needs this module's actor.

Why Dramatiq rather than Celery: one function to run, no results to return (the database holds them),
no scheduling — Dramatiq does that with a small API, Redis as its only dependency, threads by
default (analyses wait on I/O and on the model server), and it re-delivers the messages of a worker
that died. Celery would add a larger configuration surface and a result backend we would not use.

Message settings that matter here: no retries (a failed analysis is recorded FAILED with its
reason, and re-running is the analyst's decision), a time limit of a day instead of Dramatiq's
ten minutes (hour-long videos through a model take long), and prefetch equal to the thread count so
an idle worker on another machine is never starved by one that grabbed messages it cannot start.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from core.config import Settings, get_settings
from core.errors import AnalysisFailed
from core.jobs import JobNotRunnable, run_analysis
from core.recovery import Maintenance, start_of_process

logger = logging.getLogger(__name__)

ACTOR_NAME = "analyze_incident"
TIME_LIMIT_MS = 24 * 3600 * 1000

_brokers: dict[str, RedisBroker] = {}
_brokers_lock = threading.Lock()
_queue_maintenance: dict[tuple, Maintenance] = {}
_maintenance_lock = threading.Lock()


def broker_for(settings: Settings) -> RedisBroker:
    """One Redis broker per REDIS_URL in this process (connections are made lazily)."""
    with _brokers_lock:
        broker = _brokers.get(settings.redis_url)
        if broker is None:
            broker = _brokers[settings.redis_url] = RedisBroker(url=settings.redis_url)
        return broker


def enqueue(incident_id: int, settings: Settings) -> None:
    """Put one analysis on JOB_QUEUE for any worker to run."""
    broker = broker_for(settings)
    broker.declare_queue(settings.job_queue)
    message = dramatiq.Message(
        queue_name=settings.job_queue, actor_name=ACTOR_NAME, args=(incident_id,), kwargs={}, options={}
    )
    broker.enqueue(message)


def queued_incident_ids(settings: Settings) -> list[int]:
    """Incidents whose message is still held by Redis (waiting, or taken by a worker, not yet
    acknowledged). Read from the broker's message hash, `<namespace>:<queue>.msgs`."""
    broker = broker_for(settings)
    raw_messages = broker.client.hvals(f"{broker.namespace}:{settings.job_queue}.msgs")
    ids = []
    for raw in raw_messages:
        try:
            message = dramatiq.Message.decode(raw)
        except dramatiq.errors.DecodeError:
            continue
        if message.actor_name == ACTOR_NAME and message.args:
            ids.append(int(message.args[0]))
    return ids


def start_queue_maintenance(settings: Settings) -> Maintenance:
    """Recovery at start and periodically for a process of the queue backend (the app or a worker):
    the incidents Redis still holds are kept alive, the rest are recovered once stale."""
    key = (settings.resolved_database_url, settings.redis_url, settings.job_queue)
    with _maintenance_lock:
        maintenance = _queue_maintenance.get(key)
        if maintenance is None:
            maintenance = Maintenance(settings, held=lambda: queued_incident_ids(settings)).start()
            _queue_maintenance[key] = maintenance
        return maintenance


class _WorkerMaintenance(Middleware):
    """Runs the start of every process (core.recovery.start_of_process) when a worker boots, and the
    maintenance round while it lives."""

    def after_worker_boot(self, broker, worker) -> None:
        start_of_process(get_settings())  # schema, recovery, leftover files, masked log records
        start_queue_maintenance(get_settings())

    def before_worker_shutdown(self, broker, worker) -> None:
        for maintenance in _queue_maintenance.values():
            maintenance.stop()


def worker_command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The `dramatiq` command line (and environment) `python -m core worker` runs."""
    threads = str(settings.max_concurrent_jobs)
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "core.worker",
        "--processes",
        "1",
        "--threads",
        threads,
        "--queues",
        settings.job_queue,
    ]
    return argv, {**os.environ, "dramatiq_queue_prefetch": threads}


# --- what `dramatiq core.worker` loads --------------------------------------------------------------

_settings = get_settings()
broker = broker_for(_settings)
broker.add_middleware(_WorkerMaintenance())
dramatiq.set_broker(broker)


@dramatiq.actor(
    actor_name=ACTOR_NAME, queue_name=_settings.job_queue, max_retries=0, time_limit=TIME_LIMIT_MS
)
def analyze_incident(incident_id: int) -> None:
    """Run one analysis with this worker's settings; its outcome is recorded in the database."""
    try:
        run_analysis(incident_id, get_settings())
    except JobNotRunnable as error:  # a message delivered again after its run was recovered or done
        logger.info("skipped: %s", error)
    except AnalysisFailed as error:
        logger.info("incident %s failed: %s", incident_id, error)
