"""What the UI, the CLI and workers do with a video, in a few calls over storage, database and jobs.

Services that change evidence take the acting `Principal` (`actor`): viewers are refused
(`core.access.require_analyst`), and each change is recorded in the audit trail in the same
transaction as the change itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from core import jobs, repository
from core.access import UNATTRIBUTED, Principal, require_analyst
from core.config import Settings
from core.db import get_engine, session_scope
from core.errors import InvalidInput, OnHold
from core.evidence.audit import Action, record
from core.models import Incident
from core.schema import AnalysisParams, Event, ReviewStatus
from core.storage import remove_video, store_existing, store_upload


def register_video(
    source: BinaryIO | str | Path,
    settings: Settings,
    params: AnalysisParams,
    *,
    original_name: str | None = None,
    admit: bool = False,
    actor: Principal | None = None,
) -> int:
    """Store and validate a video and create its incident (SAVED). Raises `InvalidInput`, leaving nothing.

    With `admit`, the incident is created QUEUED, for `core.jobs.dispatch`, only if the queue has
    room (MAX_QUEUED_JOBS): that is asked before anything is stored, and again, serialised with
    everyone else admitting, in the transaction that creates the row. A refusal raises `QueueFull`
    and leaves neither a file nor a row. `actor` is who uploads (a viewer is refused); internal callers
    that name nobody are recorded as "unattributed"."""
    actor = actor or UNATTRIBUTED
    require_analyst(actor, "upload videos")
    if admit:
        jobs.check_capacity(settings)  # cheap: refuse before storing a large file for nothing
    if original_name is None:
        stored = store_existing(source, settings)  # type: ignore[arg-type]
    else:
        stored = store_upload(source, original_name, settings)
    try:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            if admit:
                jobs.admit_in(session, settings)
            incident = repository.create_incident(session=session, video=stored, params=params)
            if admit:
                repository.mark_queued(session, incident.id)
            record(
                session, actor, Action.UPLOAD, incident=incident,
                details={"file": stored.original_name, "sha256": stored.sha256, "bytes": stored.size_bytes},
            )  # fmt: skip
            return incident.id
    except BaseException:
        remove_video(settings, stored.stored_name)
        raise


def rerun(incident_id: int, settings: Settings, params: AnalysisParams, *, actor: Principal) -> int:
    """A new run of the incident's video with `params` (SAVED); returns the new incident id."""
    require_analyst(actor, "re-analyse")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id}")
        new_run = repository.create_rerun(session=session, incident=incident, params=params)
        record(
            session, actor, Action.REANALYSE, incident=new_run, target=f"incident {new_run.id}",
            details={"re-analysis of": incident_id, "parameters": params.model_dump()},
        )  # fmt: skip
        return new_run.id


def delete(incident_id: int, settings: Settings, *, actor: Principal, reason: str | None = None) -> None:
    """Delete a run with its rows (and its re-runs, when it is a first run), and its file when no other
    run uses it. Refused while it, or a re-run it would take with it, is on legal hold."""
    require_analyst(actor, "delete incidents")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            return
        held = repository.held_runs_deleted_with(session, incident)
        if held:
            raise OnHold(_hold_refusal(incident, held))
        taken_along = [
            run.id for run in repository.runs_of(session, incident) if run.run_of_id == incident.id
        ]
        details: dict[str, object] = {"file": incident.original_name, "sha256": incident.sha256}
        if taken_along:
            details["re-runs deleted with it"] = taken_along
        if reason:
            details["reason"] = reason
        record(session, actor, Action.DELETE, incident=incident, details=details)
        orphaned = repository.delete_incident(session, incident)
    for stored_name in orphaned:
        remove_video(settings, stored_name)


def _hold_refusal(incident: Incident, held: list[Incident]) -> str:
    first = held[0]
    which = "it is" if first.id == incident.id else f"its re-run #{first.id} is"
    return (
        f"incident {incident.id} cannot be deleted: {which} on legal hold since "
        f"{first.held_at:%Y-%m-%d %H:%M} UTC by {first.held_by} ({first.hold_reason}). "
        "Lift the hold first."
    )


def queue_position(incident_id: int, settings: Settings) -> int | None:
    """1 for the next waiting analysis to start, 2 for the one after...; None when it is not QUEUED."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.queue_position(session, incident_id)


# --- evidence: reviews, legal hold, case details ---------------------------------------------------


def review(
    event_id: int, settings: Settings, *, status: ReviewStatus | None, note: str | None, actor: Principal
) -> Event:
    """Record a verdict (confirmed, dismissed, or none) and a note on an event, with who and when.
    Two reviews of one event at once: the last to commit stays, and the trail has both."""
    require_analyst(actor, "review events")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        row = repository.event_row_for_update(session, event_id)
        if row is None:
            raise InvalidInput(f"no event {event_id}")
        verdict_before, note_before = row.review_status, row.review_note
        event = repository.set_review(session, event_id, status, note, reviewed_by=actor.name)
        verdict = event.review_status.value if event.review_status else None
        changes = []
        if verdict != verdict_before:
            changes.append((Action.REVIEW, {"verdict": verdict, "was": verdict_before}))
        if event.review_note != note_before:
            changes.append((Action.NOTE, {"note": event.review_note, "was": note_before}))
        for action, details in changes or [(Action.REVIEW, {"verdict": verdict, "unchanged": True})]:
            record(
                session, actor, action, incident_id=row.incident_id,
                target=f"event {event_id} ({event.event_type} {event.highlight})", details=details,
            )  # fmt: skip
        return event


def set_hold(incident_id: int, reason: str, settings: Settings, *, actor: Principal) -> None:
    """Put an incident (and so its video) on legal hold: retention skips it and delete is refused."""
    require_analyst(actor, "place legal holds")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("a legal hold needs a reason (e.g. the case or the request it answers)")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = _existing(session, incident_id)
        repository.set_hold(session, incident, reason[:2000], held_by=actor.name)
        record(session, actor, Action.HOLD, incident=incident, details={"reason": reason[:2000]})


def lift_hold(incident_id: int, settings: Settings, *, actor: Principal, reason: str | None = None) -> None:
    require_analyst(actor, "lift legal holds")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = _existing(session, incident_id)
        if incident.hold_reason is None:
            raise InvalidInput(f"incident {incident_id} is not on legal hold")
        details = {"hold was": incident.hold_reason, "held by": incident.held_by}
        if reason:
            details["reason"] = reason
        repository.set_hold(session, incident, None, held_by=None)
        record(session, actor, Action.LIFT_HOLD, incident=incident, details=details)


def set_case(
    incident_id: int,
    settings: Settings,
    *,
    case_number: str | None,
    investigator: str | None,
    note: str | None,
    actor: Principal,
) -> None:
    """The case an incident belongs to (shown on the report's first page); blank clears a field."""
    require_analyst(actor, "edit case details")
    values = {
        "case_number": _field(case_number, 100),
        "investigator": _field(investigator, 200),
        "case_note": (note or "").strip()[:4000] or None,
    }
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = _existing(session, incident_id)
        changed = {k: v for k, v in values.items() if getattr(incident, k) != v}
        if not changed:
            return
        for key, value in changed.items():
            setattr(incident, key, value)
        record(session, actor, Action.CASE, incident=incident, details=changed)


def _field(value: str | None, limit: int) -> str | None:
    return " ".join((value or "").split())[:limit] or None


def _existing(session, incident_id: int) -> Incident:
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise InvalidInput(f"no incident {incident_id}")
    return incident
