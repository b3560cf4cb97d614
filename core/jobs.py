"""Running analyses: SAVED → QUEUED → PROCESSING (progress, stage, heartbeat) → DONE, or FAILED with a reason.

`run_analysis` is the one job function: the CLI calls it directly, the app's threads and the queue's
workers run it. `submit` is the one dispatch: it admits an incident under MAX_QUEUED_JOBS and hands it
to the backend JOB_BACKEND names — `thread` (a pool of MAX_CONCURRENT_JOBS threads in this process)
or `queue` (Dramatiq on Redis, see core.worker). The database is the single source of truth; nothing
here shares objects with the UI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self

from core import repository
from core.config import Settings
from core.db import get_engine, session_scope
from core.engines.base import RunContext, create_engine_by_name
from core.errors import AnalysisFailed, EngineUnavailable, QueueFull, SigmaError
from core.pipeline import cap_highlights, clamp_to_video
from core.recovery import Maintenance
from core.schema import AnalysisParams, Status
from core.storage import video_path
from core.video import VideoInfo

logger = logging.getLogger(__name__)

ProgressEcho = Callable[[float, str], None]
_PROGRESS_INTERVAL_SEC = 0.5


class JobNotRunnable(AnalysisFailed):
    """The incident is not waiting to run (already running, finished or failed): nothing was changed."""


class _Heartbeat:
    """Beats for a running analysis from its own thread, so a model call that takes minutes never
    makes a live run look crashed to recovery (core.recovery)."""

    def __init__(self, db, incident_id: int, settings: Settings) -> None:
        self.db, self.incident_id = db, incident_id
        self.interval = max(0.1, settings.heartbeat_stale_sec / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"sigma-heartbeat-{incident_id}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with session_scope(self.db) as session:
                    repository.touch_heartbeats(session, [self.incident_id], status=Status.PROCESSING)
            except Exception:  # a missed beat is harmless; the next one tries again
                logger.warning("heartbeat of incident %s not written", self.incident_id, exc_info=True)


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
    """Analyse one SAVED or QUEUED incident to the end. Returns the seed's JSON (with `incident_id`);
    raises `AnalysisFailed` after recording FAILED with the reason, or `JobNotRunnable` (changing
    nothing) when the incident is not waiting to run — e.g. a queue delivered its message twice."""
    db = get_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        if not repository.claim_for_run(session, incident_id):
            incident = repository.get_incident(session, incident_id)
            if incident is None:
                raise JobNotRunnable(f"no incident {incident_id}")
            raise JobNotRunnable(
                f"incident {incident_id} is {incident.status}, not waiting to run; re-analyse it to run it again"
            )
    with session_scope(db) as session:
        incident = repository.get_incident(session, incident_id)
        params = AnalysisParams.of_run(incident.params)
        stored_name = incident.stored_name
        duration = incident.duration
        # the facts probed when the video was stored: probing again costs seconds on long files
        video = VideoInfo(
            incident.width, incident.height, incident.fps, incident.duration, incident.frame_count, incident.codec
        )

    versions: dict[str, str] = {}

    def log(step: str, message: str, level: str = "INFO") -> None:
        with session_scope(db) as session:
            repository.add_log(
                session,
                incident_id,
                step,
                settings.redact(message),
                level=level,
                model_version=versions.get("model_version"),
                prompt_version=versions.get("prompt_version"),
            )

    try:
        with _Heartbeat(db, incident_id, settings):
            path = video_path(settings, stored_name)
            if not path.is_file():
                raise AnalysisFailed(f"the stored video is missing from storage ({path.name}); upload it again")
            ctx = RunContext(
                video_path=path,
                video=video,
                params=params,
                settings=settings,
                progress=_ProgressWriter(db, incident_id, echo),
                log=log,
                versions=versions,
            )
            engine = _choose_engine(params, settings, log)
            ctx.set_versions(*engine.versions_for(params))
            log(
                "start",
                f"analysis started with the {engine.name} engine, parameters {params.model_dump()}, "
                f"descriptions in {settings.analysis_language} (ANALYSIS_LANGUAGE)",
            )
            if engine.name == "local" and (params.concerns or params.site_context):
                log(
                    "concerns",
                    "the local engine measures motion and cannot look for the analyst's concerns or read the "
                    "site context; they are kept with this run for a re-analysis with the VLM engine",
                    "WARNING",
                )
            outcome = engine.analyze(ctx)
            events = cap_highlights(clamp_to_video(outcome.events, duration), params.max_highlights)
            versions.update(model_version=outcome.model_version, prompt_version=outcome.prompt_version)
            log(
                "done",
                f"{len(events)} event(s) in {len(outcome.windows)} window(s); passes {outcome.passes_run}",
            )
            with session_scope(db) as session:
                incident = repository.get_incident(session, incident_id)
                result = repository.save_outcome(session, incident, outcome, events)
        return {**result, "incident_id": incident_id}
    except SigmaError as error:
        reason = settings.redact(str(error))
    except Exception as error:  # a bug must still end in FAILED, never in PROCESSING
        logger.exception("analysis %s crashed", incident_id)
        reason = settings.redact(f"internal error: {type(error).__name__}: {error}")
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


def check_capacity(settings: Settings) -> None:
    """Raise `QueueFull` when one more analysis would wait beyond MAX_QUEUED_JOBS. Cheap: the app
    asks before it stores a large upload, and `submit` asks again."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        _check_capacity(session, settings)


def _check_capacity(session, settings: Settings) -> None:
    counts = repository.count_by_status(session)
    waiting = counts.get(Status.QUEUED, 0)
    free_slots = max(0, settings.max_concurrent_jobs - counts.get(Status.PROCESSING, 0))
    if waiting + 1 > settings.max_queued_jobs + free_slots:
        raise QueueFull(
            f"the queue is full: {waiting} analyses are already waiting (MAX_QUEUED_JOBS="
            f"{settings.max_queued_jobs}); try again when one has finished"
        )


def admit(incident_id: int, settings: Settings) -> None:
    """SAVED → QUEUED if there is room. When the queue is full the incident is recorded FAILED with
    the reason (it never lingers in SAVED) and `QueueFull` is raised; an incident that is not SAVED
    raises `JobNotRunnable` unchanged."""
    db = get_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        try:
            _check_capacity(session, settings)
        except QueueFull as error:
            refusal = str(error)
        else:
            if repository.mark_queued(session, incident_id):
                return
            incident = repository.get_incident(session, incident_id)
            state = incident.status if incident else "missing"
            raise JobNotRunnable(
                f"incident {incident_id} is {state}; only a newly saved video can be submitted"
            )
    _fail(db, incident_id, f"not started: {refusal}")
    raise QueueFull(refusal)


class JobRunner:
    """The thread backend: runs analyses in a pool of MAX_CONCURRENT_JOBS threads of this process;
    the others wait as QUEUED. Creating one recovers interrupted analyses and starts `Maintenance`,
    which keeps the heartbeats of this runner's waiting incidents fresh."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_jobs, thread_name_prefix="sigma-job"
        )
        self._waiting: set[int] = set()
        self._lock = threading.Lock()
        self.maintenance = Maintenance(settings, held=self.waiting_ids).start()

    def submit(self, incident_id: int) -> Future:
        """Admit (QUEUED, or `QueueFull`) and run in the pool when a thread is free."""
        admit(incident_id, self.settings)
        with self._lock:
            self._waiting.add(incident_id)
        return self._pool.submit(self._run_quietly, incident_id)

    def waiting_ids(self) -> list[int]:
        with self._lock:
            return list(self._waiting)

    def _run_quietly(self, incident_id: int) -> None:
        with self._lock:
            self._waiting.discard(incident_id)
        try:
            run_analysis(incident_id, self.settings)
        except AnalysisFailed:
            pass  # recorded as FAILED in the database (or not runnable: nothing to record)

    def shutdown(self, wait: bool = True) -> None:
        self.maintenance.stop()
        self._pool.shutdown(wait=wait)


_runners: dict[tuple, JobRunner] = {}
_runners_lock = threading.Lock()


def runner_for(settings: Settings) -> JobRunner:
    """The process-wide thread backend for these settings' database and storage."""
    key = (settings.resolved_database_url, str(settings.storage_dir.resolve()), settings.max_concurrent_jobs)
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            runner = _runners[key] = JobRunner(settings)
        return runner


def start_background(settings: Settings) -> None:
    """Call once when the app starts: recovers interrupted analyses now and keeps maintenance running
    (under the thread backend through its runner, under the queue backend on the queue's behalf)."""
    if settings.job_backend == "queue":
        from core.worker import start_queue_maintenance

        start_queue_maintenance(settings)
    else:
        runner_for(settings)


def submit(incident_id: int, settings: Settings) -> None:
    """The one dispatch the dashboard and the CLI use: admit the incident (QUEUED, or `QueueFull`),
    then run it in this process's threads (JOB_BACKEND=thread) or enqueue it for the workers
    (JOB_BACKEND=queue)."""
    if settings.job_backend == "queue":
        from core.worker import enqueue

        admit(incident_id, settings)
        try:
            enqueue(incident_id, settings)
        except Exception as error:
            reason = settings.redact(f"could not reach the job queue: {type(error).__name__}: {error}")
            _fail(get_engine(settings.resolved_database_url), incident_id, reason)
            raise AnalysisFailed(reason) from error
    else:
        runner_for(settings).submit(incident_id)
