"""What the UI, the CLI and workers do with a video, in a few calls over storage, database and jobs."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from core import jobs, repository
from core.config import Settings
from core.db import get_engine, session_scope
from core.schema import AnalysisParams
from core.storage import remove_video, store_existing, store_upload


def register_video(
    source: BinaryIO | str | Path,
    settings: Settings,
    params: AnalysisParams,
    *,
    original_name: str | None = None,
    admit: bool = False,
) -> int:
    """Store and validate a video and create its incident (SAVED). Raises `InvalidInput`, leaving nothing.

    With `admit`, the incident is created QUEUED, for `core.jobs.dispatch`, only if the queue has
    room (MAX_QUEUED_JOBS): that is asked before anything is stored, and again, serialised with
    everyone else admitting, in the transaction that creates the row. A refusal raises `QueueFull`
    and leaves neither a file nor a row."""
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
            return incident.id
    except BaseException:
        remove_video(settings, stored.stored_name)
        raise


def rerun(incident_id: int, settings: Settings, params: AnalysisParams) -> int:
    """A new run of the incident's video with `params` (SAVED); returns the new incident id."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id}")
        return repository.create_rerun(session=session, incident=incident, params=params).id


def delete(incident_id: int, settings: Settings) -> None:
    """Delete a run with its rows, and its file when no other run uses it."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            return
        orphaned = repository.delete_incident(session, incident)
    for stored_name in orphaned:
        remove_video(settings, stored_name)


def queue_position(incident_id: int, settings: Settings) -> int | None:
    """1 for the next waiting analysis to start, 2 for the one after...; None when it is not QUEUED."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.queue_position(session, incident_id)
