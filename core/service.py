"""What the UI, the API, the CLI and workers do with a video, in a few calls over storage, database and
jobs. Reads return views (core.views), never ORM rows; a missing incident is `NotFound`, results asked
of an unfinished one `NotReady`.

Services that change evidence take the acting `Principal` (`actor`): viewers are refused
(`core.access.require_analyst`), and each change is recorded in the audit trail in the same
transaction as the change itself.
"""

from __future__ import annotations

import platform
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import BinaryIO, Literal

from sqlalchemy import text

from core import jobs, repository
from core.access import UNATTRIBUTED, Principal, require_analyst
from core.config import Settings
from core.db import database
from core.engines.local import camera_caveat_of
from core.errors import InvalidInput, MediaPreparing, NotFound, NotReady, OnHold
from core.evidence.audit import Action, record
from core.export import EXPORTERS, export
from core.export import Format as ExportFormat
from core.export import file_name as export_file_name
from core.i18n import Language
from core.llm.client import server_status
from core.media import browser_copies, usable_now
from core.models import Incident
from core.schema import AnalysisParams, Event, ReviewStatus, Status, WindowRecord
from core.search import search
from core.storage import StoredVideo, content_type, remove_video, store_existing, store_upload, video_path
from core.views import (
    Check,
    Health,
    IncidentDetail,
    IncidentPage,
    IncidentRecord,
    IncidentResult,
    IncidentStatus,
    IncidentSummary,
    LogLine,
    ModelServerCheck,
    MovingCamera,
    ReviewProgress,
    SearchHits,
    VideoFacts,
)


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
    return register_stored(stored, settings, params, admit=admit, actor=actor)


def register_stored(
    stored: StoredVideo,
    settings: Settings,
    params: AnalysisParams,
    *,
    admit: bool = False,
    actor: Principal | None = None,
) -> int:
    """Create the incident of a video already validated into storage: SAVED, or with `admit` QUEUED
    if the queue has room (`QueueFull` otherwise); on any failure the file is removed, so nothing is
    left behind. `actor` as for `register_video`."""
    actor = actor or UNATTRIBUTED
    try:
        require_analyst(actor, "upload videos")
        with database(settings).session() as session:
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
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        new_run = repository.create_rerun(session=session, incident=incident, params=params)
        record(
            session, actor, Action.REANALYSE, incident=new_run, target=f"incident {new_run.id}",
            details={"re-analysis of": incident_id, "parameters": params.model_dump()},
        )  # fmt: skip
        return new_run.id


def delete(incident_id: int, settings: Settings, *, actor: Principal, reason: str | None = None) -> bool:
    """Delete a run with its rows (and its re-runs, when it is a first run), and its file when no other
    run uses it; False when there is none. Refused (`OnHold`) while it, or a re-run it would take with
    it, is on legal hold."""
    require_analyst(actor, "delete incidents")
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            return False
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
    return True


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
    with database(settings).session() as session:
        return repository.queue_position(session, incident_id)


# --- evidence: reviews, legal hold, case details ---------------------------------------------------


def review(
    event_id: int, settings: Settings, *, status: ReviewStatus | None, note: str | None, actor: Principal
) -> Event:
    """Record a verdict (confirmed, dismissed, or none) and a note on an event, with who and when.
    Two reviews of one event at once: the last to commit stays, and the trail has both."""
    require_analyst(actor, "review events")
    with database(settings).session() as session:
        row = repository.event_row_for_update(session, event_id)
        if row is None:
            raise NotFound(f"no event {event_id}")
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
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
        repository.set_hold(session, incident, reason[:2000], held_by=actor.name)
        record(session, actor, Action.HOLD, incident=incident, details={"reason": reason[:2000]})


def lift_hold(incident_id: int, settings: Settings, *, actor: Principal, reason: str | None = None) -> None:
    require_analyst(actor, "lift legal holds")
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
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
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
        changed = {k: v for k, v in values.items() if getattr(incident, k) != v}
        if not changed:
            return
        for key, value in changed.items():
            setattr(incident, key, value)
        record(session, actor, Action.CASE, incident=incident, details=changed)


def _field(value: str | None, limit: int) -> str | None:
    return " ".join((value or "").split())[:limit] or None


# --- views: what the HTTP API, the dashboard and the CLI read --------------------------------------


def _incident(session, incident_id: int) -> Incident:
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def _status_view(session, incident: Incident) -> IncidentStatus:
    return IncidentStatus(
        incident_id=incident.id,
        status=incident.status,
        progress=min(1.0, max(0.0, incident.progress or 0.0)),
        stage=incident.stage or "",
        pass_no=incident.pass_no,
        windows_done=incident.windows_done or 0,
        windows_total=incident.windows_total or 0,
        queue_position=repository.queue_position(session, incident.id),
        error=incident.error,
    )


def _summary_view(incident: Incident, event_count: int, camera_moved: bool) -> IncidentSummary:
    return IncidentSummary(
        incident_id=incident.id,
        run_of_id=incident.run_of_id,
        original_name=incident.original_name,
        status=incident.status,
        progress=round(incident.progress or 0.0, 3),
        stage=incident.stage or "",
        error=incident.error,
        duration=round(incident.duration, 2),
        engine=incident.engine or incident.requested_engine,
        domain=incident.inferred_domain or incident.requested_domain,
        events=event_count,
        camera_moved=camera_moved,
        created_at=incident.created_at,
        finished_at=incident.finished_at,
    )


def incident_status(incident_id: int, settings: Settings) -> IncidentStatus:
    """Status, progress, pass, stage and queue position, read from the database (`NotFound`)."""
    with database(settings).session() as session:
        return _status_view(session, _incident(session, incident_id))


def incident_list(
    settings: Settings, *, limit: int | None = 50, offset: int = 0, status: Status | None = None
) -> IncidentPage:
    """A page of incidents (all of them with `limit` None), newest first, with their event counts."""
    with database(settings).session() as session:
        rows, total = repository.incident_page(session, limit=limit, offset=offset, status=status)
        ids = [row.id for row in rows]
        counts, moved = repository.event_counts(session, ids), repository.camera_moved(session, ids)
        items = [_summary_view(row, counts.get(row.id, 0), row.id in moved) for row in rows]
    return IncidentPage(items=items, total=total, limit=limit, offset=offset)


def incident_summary(incident_id: int, settings: Settings) -> IncidentSummary:
    """One incident as a row of the list (`NotFound`)."""
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
        count = repository.event_counts(session, [incident_id]).get(incident_id, 0)
        return _summary_view(incident, count, incident_id in repository.camera_moved(session, [incident_id]))


def incident_record(incident_id: int, settings: Settings) -> IncidentRecord:
    """Every stored fact of one run, for the dashboard's pages (`NotFound`)."""
    with database(settings).session() as session:
        record = IncidentRecord.model_validate(_incident(session, incident_id))
        return record.model_copy(
            update={"camera_moved": incident_id in repository.camera_moved(session, [incident_id])}
        )


def incident_records(settings: Settings) -> tuple[list[IncidentRecord], dict[int, ReviewProgress]]:
    """Every run, newest first, and its events' review progress and top score (runs with events)."""
    with database(settings).session() as session:
        rows = repository.list_incidents(session)
        ids = [row.id for row in rows]
        progress, moved = repository.review_progress(session, ids), repository.camera_moved(session, ids)
        records = [IncidentRecord.model_validate(row) for row in rows]
        return [
            r.model_copy(update={"camera_moved": True}) if r.id in moved else r for r in records
        ], progress


def incident_runs(incident_id: int, settings: Settings) -> list[IncidentRecord]:
    """Every run of the incident's video, oldest first, this one included (`NotFound`)."""
    with database(settings).session() as session:
        runs = repository.runs_of(session, _incident(session, incident_id))
        return [IncidentRecord.model_validate(run) for run in runs]


def incident_logs(incident_id: int, settings: Settings) -> list[LogLine]:
    """The run's processing log, one line per step, in order."""
    with database(settings).session() as session:
        return [LogLine.model_validate(row) for row in repository.logs_of(session, incident_id)]


def status_counts(settings: Settings) -> dict[str, int]:
    """How many incidents there are in each status."""
    with database(settings).session() as session:
        return repository.count_by_status(session)


def schema_revision(settings: Settings) -> str | None:
    """The Alembic revision the database is at."""
    with database(settings).engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def incident_detail(incident_id: int, settings: Settings) -> IncidentDetail:
    """Everything about one incident, with the seed's result JSON once it is DONE (`NotFound`)."""
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
        result = repository.result_json(incident)
        return IncidentDetail(
            incident_id=incident.id,
            run_of_id=incident.run_of_id,
            runs=repository.run_ids(session, incident),
            video=VideoFacts.model_validate(
                {field: getattr(incident, field) for field in VideoFacts.model_fields}
            ),
            status=_status_view(session, incident),
            params=AnalysisParams.of_run(incident.params),
            requested_engine=incident.requested_engine,
            engine=incident.engine,
            requested_domain=incident.requested_domain,
            inferred_domain=incident.inferred_domain,
            domain_reason=incident.domain_reason,
            model_version=incident.model_version,
            prompt_version=incident.prompt_version,
            passes_run=incident.passes_run,
            events=repository.event_counts(session, [incident.id]).get(incident.id, 0),
            created_at=incident.created_at,
            started_at=incident.started_at,
            finished_at=incident.finished_at,
            result=IncidentResult.model_validate(result) if result is not None else None,
            moving_camera=_moving_camera(session, incident),
        )


def _moving_camera(session, incident: Incident) -> MovingCamera | None:
    """What the local engine's camera note says of the run, if it wrote one."""
    camera = (
        camera_caveat_of(repository.logs_of(session, incident.id)) if incident.engine == "local" else None
    )
    return MovingCamera(share=camera["share"], withheld=camera["withheld"]) if camera is not None else None


def incident_events(incident_id: int, settings: Settings) -> list[Event]:
    """The incident's events in time order, with their reviews (`NotFound`)."""
    with database(settings).session() as session:
        _incident(session, incident_id)
        return repository.events_of(session, incident_id)


def incident_windows(incident_id: int, settings: Settings) -> list[WindowRecord]:
    """The incident's analysed windows, the storyboard (`NotFound`)."""
    with database(settings).session() as session:
        _incident(session, incident_id)
        return repository.windows_of(session, incident_id)


def search_incidents(
    prompt: str, settings: Settings, *, incident_id: int | None = None, limit: int = 50
) -> SearchHits:
    """Windows and events matching `prompt`, best first: in one incident (`NotFound` when there is
    none) or, with `incident_id` None, across all of them."""
    with database(settings).session() as session:
        if incident_id is not None:
            _incident(session, incident_id)
        found = search(session, prompt, incident_id=incident_id, limit=limit)
    return SearchHits(prompt=prompt, matched_all=found.matched_all, event_types=found.types, hits=found.hits)


def export_incident(incident_id: int, fmt: ExportFormat, settings: Settings) -> tuple[str, str]:
    """(content, download file name) of a finished incident's results in one of `core.export.EXPORTERS`'
    formats (`NotFound`, `NotReady` while nothing is stored)."""
    with database(settings).session() as session:
        content = export(session, incident_id, fmt)
        return content, export_file_name(_incident(session, incident_id), EXPORTERS[fmt].extension)


def subtitles(incident_id: int, settings: Settings) -> str | None:
    """WebVTT captions of the incident's events for a player, None while it has none (`NotFound`)."""
    try:
        vtt, _name = export_incident(incident_id, "vtt", settings)
    except NotReady:
        return None
    return vtt if "-->" in vtt else None


def report_docx(incident_id: int, settings: Settings, *, lang: Language = "en") -> tuple[bytes, str]:
    """(DOCX bytes, download file name) of an incident's report, built from stored results (`NotFound`;
    `NotReady` while it is still running)."""
    from core.report import build_report

    content = build_report(incident_id, settings, lang=lang)
    with database(settings).session() as session:
        name = export_file_name(_incident(session, incident_id), "docx").replace(".docx", f"-{lang}.docx")
    return content, name


MediaVariant = Literal["original", "browser"]


def media_file(incident_id: int, variant: MediaVariant, settings: Settings) -> tuple[Path, str, str]:
    """(path, content type, file name) of an incident's video: the stored original, or the copy any
    browser plays (`NotReady` with progress while that copy is being made; it is started then)."""
    with database(settings).session() as session:
        incident = _incident(session, incident_id)
        stored_name, original_name = incident.stored_name, incident.original_name
    path = video_path(settings, stored_name)
    if not path.is_file():
        raise NotFound(f"the video of incident {incident_id} is missing from storage")
    if variant == "original":
        return path, content_type(stored_name), original_name
    ready = usable_now(settings, stored_name)
    if ready is None:
        copies = browser_copies(settings)
        future = copies.start(stored_name)
        if not future.done():
            raise MediaPreparing(copies.progress(stored_name))
        ready = future.result()  # MediaError when ffmpeg could not make it
    stem = original_name.rsplit(".", 1)[0] or "video"
    return ready.path, ready.mimetype, f"{stem}{ready.path.suffix}"


def versions() -> dict[str, str]:
    """Versions a person needs to say what ran: prompts, the local engine, Python, ffmpeg, libraries."""
    import imageio_ffmpeg

    from core.engines.local import MODEL_VERSION as LOCAL_ENGINE_VERSION
    from core.prompts import PROMPT_VERSION

    found = {
        "prompts": PROMPT_VERSION,
        "local engine": LOCAL_ENGINE_VERSION,
        "python": platform.python_version(),
        "ffmpeg (imageio-ffmpeg)": imageio_ffmpeg.get_ffmpeg_version(),
    }
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = package_version(package)
        except PackageNotFoundError:
            found[package] = "-"
    return found


VERSIONED_PACKAGES = (
    "streamlit", "fastapi", "uvicorn", "sqlalchemy", "alembic", "pydantic", "opencv-python-headless",
    "numpy", "plotly", "httpx",
)  # fmt: skip
_MODEL_CHECK_TTL_SEC = 10.0
_model_checks: dict[tuple[str, str], tuple[float, ModelServerCheck]] = {}


def model_server(settings: Settings) -> ModelServerCheck | None:
    """Whether LLM_BASE_URL answers, and the models it lists (None when it is not set). A short
    timeout, and the answer is kept for a few seconds: the health check is open to anyone."""
    if not settings.llm_base_url:
        return None
    key = (settings.llm_base_url, settings.llm_api_key or "")
    cached = _model_checks.get(key)
    if cached and time.monotonic() - cached[0] < _MODEL_CHECK_TTL_SEC:
        return cached[1]
    status = server_status(settings)
    check = ModelServerCheck(ok=status.reachable, detail=status.detail, models=list(status.models))
    _model_checks[key] = (time.monotonic(), check)
    return check


def health(settings: Settings) -> Health:
    """Database reachable (and its schema revision), model server reachable, versions."""
    try:
        reached = Check(ok=True, detail=f"schema {schema_revision(settings)}")
    except Exception as error:  # noqa: BLE001 - any failure to reach the database is the answer
        reached = Check(ok=False, detail=settings.redact(f"{type(error).__name__}: {error}"))
    server = model_server(settings)
    status = "down" if not reached.ok else "degraded" if server is not None and not server.ok else "ok"
    return Health(
        status=status,
        database=reached,
        model_server=server,
        engine=settings.resolved_engine,
        job_backend=settings.job_backend,
        versions=versions(),
    )
