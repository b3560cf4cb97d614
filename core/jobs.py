"""Running analyses: SAVED → PROCESSING (progress, stage, heartbeat) → DONE, or FAILED with a reason.

`run_analysis` is the one job function: the CLI calls it directly, the app runs it in background
threads. The database is the single source of truth; nothing here shares objects with the UI.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from core import repository
from core.config import Settings
from core.db import get_engine, session_scope
from core.engines.base import RunContext, create_engine_by_name
from core.errors import AnalysisFailed, EngineUnavailable, SigmaError
from core.pipeline import cap_highlights, clamp_to_video
from core.schema import AnalysisParams, Status
from core.storage import video_path
from core.video import probe

logger = logging.getLogger(__name__)

ProgressEcho = Callable[[float, str], None]
_PROGRESS_INTERVAL_SEC = 0.5


class _ProgressWriter:
    """Writes progress to the database, at most every half second unless a stage changes."""

    def __init__(self, db, incident_id: int, echo: ProgressEcho | None) -> None:
        self.db, self.incident_id, self.echo = db, incident_id, echo
        self._last_write = 0.0
        self._last_stage = ""
        self._lock = threading.Lock()

    def __call__(self, fraction, stage, *, pass_no=None, windows_done=None, windows_total=None):
        with self._lock:
            now = time.monotonic()
            if stage == self._last_stage and now - self._last_write < _PROGRESS_INTERVAL_SEC:
                return
            self._last_write, self._last_stage = now, stage
            with session_scope(self.db) as session:
                repository.update_progress(
                    session,
                    self.incident_id,
                    fraction=fraction,
                    stage=stage,
                    pass_no=pass_no,
                    windows_done=windows_done,
                    windows_total=windows_total,
                )
        if self.echo:
            self.echo(fraction, stage)


def run_analysis(incident_id: int, settings: Settings, *, echo: ProgressEcho | None = None) -> dict:
    """Analyse one SAVED incident to the end. Returns the seed's JSON (with `incident_id`);
    raises `AnalysisFailed` after recording FAILED with the reason."""
    db = get_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise AnalysisFailed(f"no incident {incident_id}")
        repository.set_status(session, incident, Status.PROCESSING, "starting")
        params = AnalysisParams.model_validate(incident.params)
        stored_name = incident.stored_name
        duration = incident.duration

    versions: dict[str, str] = {}

    def log(step: str, message: str, level: str = "INFO") -> None:
        with session_scope(db) as session:
            repository.add_log(
                session,
                incident_id,
                step,
                message,
                level=level,
                model_version=versions.get("model_version"),
                prompt_version=versions.get("prompt_version"),
            )

    try:
        path = video_path(settings, stored_name)
        ctx = RunContext(
            video_path=path,
            video=probe(path),
            params=params,
            settings=settings,
            progress=_ProgressWriter(db, incident_id, echo),
            log=log,
            versions=versions,
        )
        engine = _choose_engine(params, settings, log)
        log("start", f"analysis started with the {engine.name} engine, parameters {params.model_dump()}")
        outcome = engine.analyze(ctx)
        events = cap_highlights(clamp_to_video(outcome.events, duration), params.max_highlights)
        versions.update(model_version=outcome.model_version, prompt_version=outcome.prompt_version)
        log(
            "done", f"{len(events)} event(s) in {len(outcome.windows)} window(s); passes {outcome.passes_run}"
        )
        with session_scope(db) as session:
            incident = repository.get_incident(session, incident_id)
            result = repository.save_outcome(session, incident, outcome, events)
        return {**result, "incident_id": incident_id}
    except SigmaError as error:
        reason = str(error)
    except Exception as error:  # a bug must still end in FAILED, never in PROCESSING
        logger.exception("analysis %s crashed", incident_id)
        reason = f"internal error: {type(error).__name__}: {error}"
    _fail(db, incident_id, reason)
    raise AnalysisFailed(reason)


def _fail(db, incident_id: int, reason: str) -> None:
    with session_scope(db) as session:
        repository.mark_failed(session, incident_id, reason)
        repository.add_log(session, incident_id, "failed", reason, level="ERROR")


def _choose_engine(params: AnalysisParams, settings: Settings, log):
    """The requested engine; under `auto`, the local engine when the model server is unreachable."""
    name = params.engine if params.engine != "auto" else settings.resolved_engine
    engine = create_engine_by_name(name, settings)
    try:
        engine.check()
    except EngineUnavailable as error:
        if params.engine != "auto" or name == "local":
            raise
        log("engine", f"{error}; falling back to the local engine", "WARNING")
        engine = create_engine_by_name("local", settings)
    return engine


class JobRunner:
    """Runs analyses in background threads of this process, a bounded number at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_jobs, thread_name_prefix="sigma-job"
        )

    def submit(self, incident_id: int) -> Future:
        return self._pool.submit(self._run_quietly, incident_id)

    def _run_quietly(self, incident_id: int) -> None:
        try:
            run_analysis(incident_id, self.settings)
        except AnalysisFailed:
            pass  # recorded as FAILED in the database

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
