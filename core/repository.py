"""Storage functions over the ORM: each takes the session explicitly; callers own the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from core.db import db_now
from core.i18n import Message
from core.models import EventRow, Incident, LogRow, Timeline, utcnow
from core.schema import (
    ACTIVE_STATUSES,
    AnalysisParams,
    AnalysisResult,
    EngineOutcome,
    Event,
    ReviewStatus,
    Status,
    WindowRecord,
)
from core.storage import StoredVideo
from core.views import ReviewProgress

_FILE_FACTS = (
    "original_name", "stored_name", "sha256", "size_bytes",
    "duration", "width", "height", "fps", "frame_count", "codec",
)  # fmt: skip
_CASE_FIELDS = ("case_number", "investigator", "case_note")


def _new_run(session: Session, params: AnalysisParams, run_of_id: int | None, **file_facts) -> Incident:
    incident = Incident(
        **file_facts,
        run_of_id=run_of_id,
        status=Status.SAVED,
        progress=0.0,
        stage="saved",
        requested_domain=params.domain,
        requested_engine=params.engine,
        params=params.model_dump(),
        heartbeat_at=db_now(session),  # staleness is judged on the database's clock
    )
    session.add(incident)
    session.flush()
    session.refresh(incident, ["heartbeat_at"])
    return incident


def create_incident(
    *, session: Session, video: StoredVideo, params: AnalysisParams, run_of_id: int | None = None
) -> Incident:
    info = video.info
    return _new_run(
        session, params, run_of_id,
        original_name=video.original_name, stored_name=video.stored_name, sha256=video.sha256,
        size_bytes=video.size_bytes, duration=info.duration, width=info.width, height=info.height,
        fps=info.fps, frame_count=info.frame_count, codec=info.codec,
    )  # fmt: skip


def create_rerun(*, session: Session, incident: Incident, params: AnalysisParams) -> Incident:
    """A new run of the same stored video with other parameters (in the same case)."""
    facts = {column: getattr(incident, column) for column in _FILE_FACTS + _CASE_FIELDS}
    return _new_run(session, params, incident.run_of_id or incident.id, **facts)


MAX_ID = 2**31 - 1  # incidents.id is a 32-bit integer on PostgreSQL; larger ids cannot exist


def valid_id(incident_id: int) -> bool:
    """Whether `incident_id` can name a row at all (a huge number from a URL or a shell cannot)."""
    return isinstance(incident_id, int) and 0 < incident_id <= MAX_ID


def get_incident(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id) if valid_id(incident_id) else None


def list_incidents(session: Session, *, status: str | None = None) -> list[Incident]:
    query = select(Incident).order_by(Incident.id.desc())
    if status:
        query = query.where(Incident.status == status)
    return list(session.scalars(query))


def _runs_where(incident: Incident):
    root_id = incident.run_of_id or incident.id
    return (Incident.id == root_id) | (Incident.run_of_id == root_id)


def runs_of(session: Session, incident: Incident) -> list[Incident]:
    """All runs of this incident's video, oldest first (the first run included)."""
    return list(session.scalars(select(Incident).where(_runs_where(incident)).order_by(Incident.id)))


def run_ids(session: Session, incident: Incident) -> list[int]:
    """The ids of `runs_of`, without loading every run's row and results (a polled request asks)."""
    return list(session.scalars(select(Incident.id).where(_runs_where(incident)).order_by(Incident.id)))


def event_counts(session: Session, incident_ids: list[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    query = (
        select(EventRow.incident_id, func.count())
        .where(EventRow.incident_id.in_(incident_ids))
        .group_by(EventRow.incident_id)
    )
    return dict(session.execute(query).all())


def camera_moved(session: Session, incident_ids: list[int]) -> set[int]:
    """The runs among these whose local engine logged that the camera moved (it cannot judge them)."""
    if not incident_ids:
        return set()
    query = select(LogRow.incident_id).where(LogRow.incident_id.in_(incident_ids), LogRow.step == "camera")
    return set(session.scalars(query))


def review_progress(session: Session, incident_ids: list[int]) -> dict[int, ReviewProgress]:
    """Per incident (those with events): how many are confirmed, dismissed, not reviewed, and the
    highest score. Read as rows: a run holds at most `max_events` events."""
    if not incident_ids:
        return {}
    rows = session.execute(
        select(EventRow.incident_id, EventRow.review_status, EventRow.confidence, EventRow.start_time)
        .where(EventRow.incident_id.in_(incident_ids))
        .order_by(EventRow.incident_id, EventRow.confidence.desc(), EventRow.start_time)
    )
    counts: dict[int, dict[str | None, int]] = {}
    tops: dict[int, tuple[float, float]] = {}
    for incident_id, review, confidence, start in rows:
        by_review = counts.setdefault(incident_id, {})
        by_review[review] = by_review.get(review, 0) + 1
        tops.setdefault(incident_id, (confidence, start))  # the first row of each incident scores highest
    return {
        incident_id: ReviewProgress(
            confirmed=by_review.get(ReviewStatus.CONFIRMED.value, 0),
            dismissed=by_review.get(ReviewStatus.DISMISSED.value, 0),
            unreviewed=sum(n for review, n in by_review.items() if review not in _REVIEWED),
            top_score=tops[incident_id][0],
            top_time=tops[incident_id][1],
        )
        for incident_id, by_review in counts.items()
    }


_REVIEWED = {ReviewStatus.CONFIRMED.value, ReviewStatus.DISMISSED.value}


def set_status(session: Session, incident: Incident, status: Status, stage: str) -> None:
    incident.status = status
    incident.stage = stage
    incident.heartbeat_at = utcnow()
    if status == Status.PROCESSING and incident.started_at is None:
        incident.started_at = utcnow()


def update_progress(
    session: Session,
    incident_id: int,
    *,
    fraction: float,
    stage: str,
    pass_no: int | None = None,
    windows_done: int | None = None,
    windows_total: int | None = None,
    token: str | None = None,
) -> bool:
    """Write a run's progress (and heartbeat). With `token`, only while that run still owns the
    incident; returns whether the row was written."""
    values: dict[str, object] = {
        "progress": max(0.0, min(1.0, fraction)),
        "stage": stage[:200],
        "heartbeat_at": db_now(session),
    }
    if pass_no is not None:
        values["pass_no"] = pass_no
    if windows_done is not None:
        values["windows_done"] = windows_done
    if windows_total is not None:
        values["windows_total"] = windows_total
    owner = _owned_by(incident_id, token) if token else (Incident.id == incident_id,)
    return session.execute(update(Incident).where(*owner).values(**values)).rowcount == 1


def add_log(
    session: Session,
    incident_id: int,
    step: str,
    message: str | Message,
    *,
    level: str = "INFO",
    model_version: str | None = None,
    prompt_version: str | None = None,
    started_at: datetime | None = None,
) -> None:
    session.add(
        LogRow(
            incident_id=incident_id,
            step=step[:64],
            message=message.text("en") if isinstance(message, Message) else message,
            words=message.to_json() if isinstance(message, Message) else None,
            level=level,
            model_version=model_version,
            prompt_version=prompt_version,
            started_at=started_at or utcnow(),
            finished_at=utcnow(),
        )
    )


def save_outcome(session: Session, incident: Incident, outcome: EngineOutcome, events: list[Event]) -> dict:
    """Write windows, events and the seed's JSON, and mark the incident DONE (one transaction).
    A job writes a run's results with `add_windows` and `finish_run` instead, checking ownership."""
    session.execute(delete(Timeline).where(Timeline.incident_id == incident.id))
    session.execute(delete(EventRow).where(EventRow.incident_id == incident.id))
    add_windows(session, incident.id, outcome.windows)
    _add_events(session, incident.id, events)
    carry_over_reviews(session, incident.id)
    result = AnalysisResult.from_events(events, outcome.inferred_domain).model_dump()
    for column, value in _done_values(outcome, result).items():
        setattr(incident, column, value)
    incident.finished_at = utcnow()
    incident.heartbeat_at = utcnow()
    return result


def add_windows(session: Session, incident_id: int, windows: Sequence[WindowRecord]) -> None:
    """Timeline rows for these windows (a job writes them in short batches, each its own transaction)."""
    session.add_all(Timeline(incident_id=incident_id, **window.model_dump()) for window in windows)


def _done_values(outcome: EngineOutcome, result: dict) -> dict[str, object]:
    return {
        "analysis_json": result,
        "engine": outcome.engine,
        "model_version": outcome.model_version,
        "prompt_version": outcome.prompt_version,
        "inferred_domain": outcome.inferred_domain,
        "domain_reason": outcome.domain_reason,
        "passes_run": outcome.passes_run,
        "status": Status.DONE,
        "progress": 1.0,
        "stage": "done",
        "error": None,
    }


def _add_events(session: Session, incident_id: int, events: list[Event]) -> None:
    session.add_all(
        EventRow(
            incident_id=incident_id,
            event_type=event.event_type,
            start_time=event.start_time,
            end_time=event.end_time,
            confidence=event.confidence,
            description=event.description,
            highlight=event.highlight,
            pass_no=event.pass_no,
            severity=event.severity,
            box=event.box.model_dump() if event.box else None,
            track_ids=event.track_ids or None,
            track_path=[point.model_dump() for point in event.track_path] or None,
            peak_time=event.peak_time,
        )
        for event in events
    )


def mark_failed(session: Session, incident_id: int, reason: str) -> None:
    incident = session.get(Incident, incident_id)
    if incident is None:
        return
    incident.status = Status.FAILED
    incident.error = reason
    incident.stage = "failed"
    incident.finished_at = utcnow()
    incident.heartbeat_at = utcnow()


def result_json(incident: Incident) -> dict | None:
    """The seed's JSON for a finished incident, with `incident_id` added."""
    if incident.analysis_json is None:
        return None
    return {**incident.analysis_json, "incident_id": incident.id}


def events_of(session: Session, incident_id: int) -> list[Event]:
    rows = session.scalars(
        select(EventRow).where(EventRow.incident_id == incident_id).order_by(EventRow.start_time)
    )
    return [Event.model_validate(row) for row in rows]


def windows_of(session: Session, incident_id: int) -> list[WindowRecord]:
    rows = session.scalars(
        select(Timeline)
        .where(Timeline.incident_id == incident_id)
        .order_by(Timeline.start_time, Timeline.pass_no)
    )
    return [WindowRecord.model_validate(row) for row in rows]


def logs_of(session: Session, incident_id: int) -> list[LogRow]:
    return list(session.scalars(select(LogRow).where(LogRow.incident_id == incident_id).order_by(LogRow.id)))


def set_review(
    session: Session,
    event_id: int,
    status: ReviewStatus | None,
    note: str | None,
    *,
    reviewed_by: str | None = None,
) -> Event:
    """Store a verdict and note with who and when (written at once, so concurrent reviews of one event
    queue on its row and the last to commit stays)."""
    row = session.get(EventRow, event_id)
    if row is None:
        raise LookupError(f"no event {event_id}")
    row.review_status = status.value if status else None
    row.review_note = (note or "").strip() or None
    row.reviewed_at = utcnow()
    row.reviewed_by = reviewed_by
    row.review_carried_from = None
    session.flush()
    return Event.model_validate(row)


def delete_incident(session: Session, incident: Incident) -> list[str]:
    """Delete a run; returns the stored file names no longer used by any run (to remove from disk)."""
    stored_name = incident.stored_name
    session.delete(incident)
    session.flush()
    still_used = session.scalar(
        select(func.count()).select_from(Incident).where(Incident.stored_name == stored_name)
    )
    return [] if still_used else [stored_name]


def stale_active(session: Session, *, older_than: timedelta) -> list[Incident]:
    """Incidents that claim to be running but whose heartbeat stopped (crashed process), judged on
    the database's clock."""
    query = select(Incident).where(
        Incident.status.in_([s.value for s in ACTIVE_STATUSES]),
        func.coalesce(Incident.heartbeat_at, Incident.created_at) < db_now(session, -older_than),
    )
    return list(session.scalars(query))


def database_now(session: Session) -> datetime:
    """The database's current time (what heartbeats are written and judged with)."""
    return session.scalar(select(db_now(session)))


# --- job queue, heartbeats, recovery and retention -------------------------------------------------


def mark_queued(session: Session, incident_id: int) -> bool:
    """SAVED → QUEUED; False when the incident is not waiting to be submitted."""
    result = session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status == Status.SAVED.value)
        .values(status=Status.QUEUED.value, stage="queued", heartbeat_at=db_now(session))
    )
    return result.rowcount == 1


def claim_for_run(session: Session, incident_id: int) -> str | None:
    """SAVED or QUEUED → PROCESSING in one conditional UPDATE, so a run starts at most once even when
    a queue delivers its message twice. Returns the run's token (every later write of the run must
    present it, see `beat_run`), or None when the incident is not waiting to run."""
    token = uuid.uuid4().hex
    now = db_now(session)
    result = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.status.in_([Status.SAVED.value, Status.QUEUED.value]),
        )
        .values(
            status=Status.PROCESSING.value,
            stage="starting",
            heartbeat_at=now,
            started_at=func.coalesce(Incident.started_at, now),
            run_token=token,
        )
    )
    return token if result.rowcount == 1 else None


# --- run ownership: every write of a run is a compare-and-set on status and token ------------------


def _owned_by(incident_id: int, token: str) -> tuple:
    return (
        Incident.id == incident_id,
        Incident.status == Status.PROCESSING.value,
        Incident.run_token == token,
    )


def beat_run(session: Session, incident_id: int, token: str) -> bool:
    """The run's heartbeat, and its proof of ownership before any other write in this transaction:
    False when the incident was recovered, failed, finished or deleted meanwhile."""
    result = session.execute(
        update(Incident).where(*_owned_by(incident_id, token)).values(heartbeat_at=db_now(session))
    )
    return result.rowcount == 1


def finish_run(
    session: Session, incident_id: int, token: str, outcome: EngineOutcome, events: list[Event]
) -> dict | None:
    """DONE with the seed's JSON and the events, only while `token` owns the incident (the windows
    were written before with `add_windows`); None, writing nothing, when it no longer does."""
    result = AnalysisResult.from_events(events, outcome.inferred_domain).model_dump()
    now = db_now(session)
    done = session.execute(
        update(Incident)
        .where(*_owned_by(incident_id, token))
        .values(**_done_values(outcome, result), finished_at=now, heartbeat_at=now, run_token=None)
    )
    if done.rowcount != 1:
        return None
    _add_events(session, incident_id, events)
    carry_over_reviews(session, incident_id)
    return result


def fail_run(session: Session, incident_id: int, token: str, reason: str) -> bool:
    """FAILED with `reason`, only while `token` owns the incident; the windows the run had written
    go with it (a failed run shows no half a timeline). False when it no longer owns it."""
    now = db_now(session)
    failed = session.execute(
        update(Incident)
        .where(*_owned_by(incident_id, token))
        .values(status=Status.FAILED.value, stage="failed", error=reason, finished_at=now, heartbeat_at=now)
    )
    if failed.rowcount != 1:
        return False
    session.execute(delete(Timeline).where(Timeline.incident_id == incident_id))
    return True


def touch_heartbeats(session: Session, incident_ids: list[int], *, status: Status) -> int:
    """Mark these incidents alive (only those still in `status`); returns how many were touched."""
    if not incident_ids:
        return 0
    result = session.execute(
        update(Incident)
        .where(Incident.id.in_(incident_ids), Incident.status == status.value)
        .values(heartbeat_at=db_now(session))
    )
    return result.rowcount


_ADMISSION_LOCK_KEY = 0x5167_6D62


def lock_for_admission(session: Session) -> None:
    """Serialise admissions until this transaction ends, so processes admitting at once count the
    queue one after the other: a transaction-scoped advisory lock on PostgreSQL, SQLite's write
    lock (a no-op UPDATE takes it) on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_ADMISSION_LOCK_KEY)))
    else:
        session.execute(update(Incident).where(Incident.id == -1).values(status=Incident.status))


def count_by_status(session: Session) -> dict[str, int]:
    query = select(Incident.status, func.count()).group_by(Incident.status)
    return dict(session.execute(query).all())


def queue_position(session: Session, incident_id: int) -> int | None:
    """1 for the next QUEUED incident to start, 2 for the one after...; None when not QUEUED.
    Queues are first in, first out, and incidents are numbered in the order they were created."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status != Status.QUEUED.value:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Incident)
        .where(Incident.status == Status.QUEUED.value, Incident.id < incident_id)
    )
    return int(ahead or 0) + 1


def fail_if_stale(session: Session, incident_id: int, *, older_than: timedelta | None, reason: str) -> bool:
    """FAILED with `reason` only if the incident is still active with a heartbeat older than
    `older_than` on the database's clock (one conditional UPDATE: a run that just beat is left
    alone; None: whatever its heartbeat, its runner knows it is gone). Windows a run had written in
    batches before it stopped go with it."""
    now = db_now(session)
    conditions = [Incident.id == incident_id, Incident.status.in_([s.value for s in ACTIVE_STATUSES])]
    if older_than is not None:
        conditions.append(
            func.coalesce(Incident.heartbeat_at, Incident.created_at) < db_now(session, -older_than)
        )
    result = session.execute(
        update(Incident)
        .where(*conditions)
        .values(status=Status.FAILED.value, stage="failed", error=reason, finished_at=now, heartbeat_at=now)
    )
    if result.rowcount != 1:
        return False
    session.execute(delete(Timeline).where(Timeline.incident_id == incident_id))
    return True


def expired_videos(session: Session, *, cutoff: datetime) -> list[int]:
    """First runs of videos whose every run was created before `cutoff` and none is active.
    Deleting such a first run deletes its re-runs with it (`run_of_id` cascades)."""
    root = func.coalesce(Incident.run_of_id, Incident.id)
    active = func.sum(case((Incident.status.in_([s.value for s in ACTIVE_STATUSES]), 1), else_=0))
    held = func.sum(case((Incident.hold_reason.is_not(None), 1), else_=0))  # legal hold: kept
    old_and_idle = (func.max(Incident.created_at) < cutoff, active == 0, held == 0)
    return list(session.scalars(select(root).group_by(root).having(*old_and_idle).order_by(root)))


# --- evidence: legal hold, reviews carried over to re-runs ------------------------------------------


def event_row_for_update(session: Session, event_id: int) -> EventRow | None:
    """An event's row, locked until the transaction ends (PostgreSQL; SQLite has one writer anyway),
    so a review compares against the verdict it replaces."""
    return session.get(EventRow, event_id, with_for_update=True)


def set_hold(session: Session, incident: Incident, reason: str | None, *, held_by: str | None) -> None:
    incident.hold_reason = reason
    incident.held_by = held_by
    incident.held_at = utcnow() if reason else None


def held_runs_deleted_with(session: Session, incident: Incident) -> list[Incident]:
    """Runs on legal hold that deleting `incident` would delete: itself, and its re-runs when it is a
    first run (they go with it by cascade)."""
    query = select(Incident).where(
        (Incident.id == incident.id) | (Incident.run_of_id == incident.id), Incident.hold_reason.is_not(None)
    )
    return list(session.scalars(query.order_by(Incident.id)))


def carry_over_reviews(session: Session, incident_id: int) -> int:
    """Give each event of this run the verdict (confirmed or dismissed, with its note, reviewer and
    time) of the event of another run of the same video that it overlaps most, with the same type;
    among equals the latest review wins. Marked with the event it came from. Returns how many."""
    session.flush()
    incident = session.get(Incident, incident_id)
    root = incident.run_of_id or incident.id
    others = session.scalars(
        select(EventRow)
        .join(Incident, EventRow.incident_id == Incident.id)
        .where(
            (Incident.id == root) | (Incident.run_of_id == root),
            Incident.id != incident.id,
            EventRow.review_status.is_not(None),
        )
    ).all()
    if not others:
        return 0
    from core.access import SYSTEM
    from core.evidence.audit import Action, record

    carried = 0
    for event in session.scalars(select(EventRow).where(EventRow.incident_id == incident.id)):
        candidates = [
            (min(event.end_time, other.end_time) - max(event.start_time, other.start_time), other)
            for other in others
            if other.event_type == event.event_type
        ]
        overlapping = [
            (overlap, other) for overlap, other in candidates if overlap > 0 or _same_instant(event, other)
        ]
        if not overlapping:
            continue
        _, source = max(
            overlapping, key=lambda pair: (round(pair[0], 6), _as_naive(pair[1].reviewed_at), pair[1].id)
        )
        event.review_status = source.review_status
        event.review_note = source.review_note
        event.reviewed_by = source.reviewed_by
        event.reviewed_at = source.reviewed_at
        event.review_carried_from = source.id
        carried += 1
        record(
            session, SYSTEM, Action.REVIEW, incident=incident,
            target=f"event {event.id} ({event.event_type} {event.highlight})",
            details={"verdict": source.review_status, "carried over from event": source.id,
                     "reviewed by": source.reviewed_by},
        )  # fmt: skip
    session.flush()
    return carried


def _same_instant(a: EventRow, b: EventRow) -> bool:
    """Zero-length events at the same moment overlap too."""
    return (
        a.start_time <= b.end_time
        and b.start_time <= a.end_time
        and (a.start_time == a.end_time or b.start_time == b.end_time)
    )


def _as_naive(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.min
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


# --- reads for the HTTP API's views (core.views) -----------------------------------------------------


def incident_page(
    session: Session, *, limit: int | None, offset: int, status: str | None = None
) -> tuple[list[Incident], int]:
    """One page of incidents (every one with `limit` None), newest first, and how many there are in
    all (with the same filter)."""
    where = [Incident.status == status] if status else []
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    rows = session.scalars(
        select(Incident).where(*where).order_by(Incident.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)


def event_by_id(session: Session, event_id: int) -> tuple[int, Event] | None:
    """(incident id, event) for one stored event, or None."""
    row = session.get(EventRow, event_id)
    return (row.incident_id, Event.model_validate(row)) if row is not None else None
