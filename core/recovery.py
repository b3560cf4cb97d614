"""Crash recovery: no incident stays SAVED, QUEUED or PROCESSING after the process that owned it died.

Every owner of an active incident keeps its heartbeat fresh: a running analysis beats from its own
thread (core.jobs), and whoever holds waiting incidents (the thread backend's pool, or the queue's
Redis messages, seen by every worker) touches them from a `Maintenance` thread. An active incident
whose heartbeat is older than HEARTBEAT_STALE_SEC has no owner any more: it becomes FAILED with an
"interrupted: ..." reason and a log row, and the analyst re-analyses it with one click.

Heartbeats are written and judged with the database's clock (`core.db.db_now`), so machines whose
clocks disagree never take each other's live runs for dead; and a run recovered while it was only
paused cannot write anything afterwards (its writes are conditional on its token, core.jobs).

Every entry point (the CLI, the app server's start, a worker's boot) calls `start_of_process`:
the schema to head, interrupted analyses recovered, leftover files swept (`sweep_orphans`: upload
parts of processes that died mid-write, stored videos no row points to). Maintenance repeats the
recovery every quarter of HEARTBEAT_STALE_SEC and the sweep hourly.

Why FAILED and not re-queued: an analysis that took its process down (out of memory on a huge video,
a decoder crash) would take the next one down too, in a loop, and re-running silently spends model
time nobody asked for. A visible reason and a deliberate re-run are safer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import repository, storage
from core.config import Settings, install_log_redaction
from core.db import database
from core.i18n import Message, say, text
from core.models import Incident, utcnow
from core.schema import Status

logger = logging.getLogger(__name__)

_RETENTION_INTERVAL_SEC = 3600.0
_SWEEP_INTERVAL_SEC = 3600.0


def _as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _interruption_reason(incident: Incident, now: datetime) -> Message:
    last = _as_utc(incident.heartbeat_at or incident.created_at)
    silent = (
        say("reason.silent", seconds=f"{(now - last).total_seconds():.0f}")
        if last
        else say("reason.silent_never")
    )
    if incident.status == Status.PROCESSING:
        stage = incident.stage or text("en", "reason.running")
        return say(
            "reason.interrupted_running", stage=stage, done=f"{incident.progress * 100:.0f}", silent=silent
        )
    if incident.status == Status.QUEUED:
        return say("reason.interrupted_queued", silent=silent)
    return say("reason.interrupted_saved", silent=silent)


def recover_stale(settings: Settings) -> list[int]:
    """Mark every active incident whose heartbeat is stale as FAILED "interrupted: ..."; returns their ids."""
    db = database(settings)
    older_than = timedelta(seconds=settings.heartbeat_stale_sec)
    recovered: list[int] = []
    with db.session() as session:
        now = _as_utc(repository.database_now(session))
        candidates = [
            (incident.id, _interruption_reason(incident, now))
            for incident in repository.stale_active(session, older_than=older_than)
        ]
    for incident_id, reason in candidates:
        with db.session() as session:
            # staleness is judged again here: a run that beat since the query above is left alone
            if repository.fail_if_stale(
                session, incident_id, older_than=older_than, reason=reason.text("en")
            ):
                repository.add_log(session, incident_id, "recovered", reason, level="ERROR")
                recovered.append(incident_id)
    if recovered:
        logger.warning("marked %d interrupted analysis(es) FAILED: %s", len(recovered), recovered)
    return recovered


def sweep_orphans(settings: Settings, min_age_sec: float = storage.ORPHAN_MIN_AGE_SEC) -> list[str]:
    """Remove files left by processes that died: upload parts no live writer holds, stored videos
    no incident points to, derived folders of videos that are gone (all older than `min_age_sec`,
    so a file being stored right now is never touched). Returns the names removed."""
    with database(settings).session() as session:
        referenced = set(session.scalars(select(Incident.stored_name).distinct()))
    removed = storage.remove_orphans(settings, referenced, min_age_sec=min_age_sec)
    if removed:
        logger.warning("removed %d leftover file(s): %s", len(removed), ", ".join(removed))
    return removed


def start_of_process(settings: Settings) -> None:
    """What every entry point does first (CLI, app server start, worker boot): secrets masked in
    this process's log records, the schema brought to head, interrupted analyses marked FAILED,
    leftover files swept. Raises `DatabaseUnavailable` (one line) when the database cannot be used."""
    install_log_redaction(settings)
    database(settings)  # opened once here: the schema brought to head
    recover_stale(settings)
    try:
        sweep_orphans(settings)
    except OSError:  # an unreadable storage folder must not stop a start; the next round retries
        logger.warning("could not sweep leftover files in %s", settings.storage_dir, exc_info=True)


class Maintenance:
    """A daemon thread that, every quarter of HEARTBEAT_STALE_SEC, touches the waiting incidents this
    process holds, recovers stale ones, and (hourly) sweeps leftover files and applies RETENTION_DAYS.
    `start` runs one round synchronously first, so recovery happens at start, before anything new is
    submitted."""

    def __init__(self, settings: Settings, held: Callable[[], Iterable[int]] = tuple) -> None:
        self.settings = settings
        self.held = held
        self.interval = max(0.2, settings.heartbeat_stale_sec / 4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_retention = 0.0
        self._next_sweep = 0.0

    def start(self) -> Maintenance:
        self.run_once()
        self._thread = threading.Thread(target=self._loop, name="sigma-maintenance", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run_once(self) -> None:
        from core.retention import purge_expired

        db = database(self.settings)
        held = list(self.held())
        if held:
            with db.session() as session:
                repository.touch_heartbeats(session, held, status=Status.QUEUED)
        recover_stale(self.settings)
        now = utcnow().timestamp()
        if self.settings.retention_days and now >= self._next_retention:
            self._next_retention = now + _RETENTION_INTERVAL_SEC
            purge_expired(self.settings)
        if now >= self._next_sweep:
            self._next_sweep = now + _SWEEP_INTERVAL_SEC
            sweep_orphans(self.settings)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the database may be briefly away; the next round tries again
                logger.exception("maintenance round failed")
