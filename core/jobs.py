"""Running analyses: SAVED → QUEUED → PROCESSING (progress, stage, heartbeat) → DONE, or FAILED with a reason.

`run_analysis` is the one job function: the CLI calls it directly, the app's threads and child
processes and the queue's workers run it. `submit` is the one dispatch: it admits an incident under
MAX_QUEUED_JOBS and hands it to the backend JOB_BACKEND names — `thread` (a pool of
MAX_CONCURRENT_JOBS threads in this process), `process` (the same, each analysis in a child process
of its own, so its CPU work never holds the server's GIL) or `queue` (Dramatiq on Redis, see
core.worker). The database is the single source of truth; nothing here shares objects with the UI.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Self

from core import repository
from core.config import Settings, install_log_redaction
from core.db import database
from core.engines import create_engine_by_name
from core.engines.base import RunContext
from core.errors import AnalysisFailed, Cancelled, EngineUnavailable, QueueFull, RunLost, SigmaError
from core.evidence.ready import prepare_quietly
from core.i18n import Message, say
from core.pipeline import cap_highlights, clamp_to_video
from core.recovery import Maintenance, start_of_process
from core.schema import AnalysisParams, Status, WindowRecord, params_in_words
from core.storage import video_path
from core.video import VideoInfo

logger = logging.getLogger(__name__)

ProgressEcho = Callable[[float, str], None]
_PROGRESS_INTERVAL_SEC = 0.5


_WINDOW_BATCH = 500  # timeline rows per transaction: no long write lock on SQLite
GAP_MIN_SEC = 2.0  # a stretch of the timeline without any window, at least this long, is noted


class JobNotRunnable(AnalysisFailed):
    """The incident is not waiting to run (already running, finished or failed): nothing was changed."""


class _Ownership:
    """This run's claim on its incident (the token `claim_for_run` gave it). Every write of the run
    proves it first, in the same transaction, so a run recovered while paused, or whose incident
    was deleted, stops writing at its next step instead of overwriting what others decided."""

    def __init__(self, db, incident_id: int, token: str) -> None:
        self.db, self.incident_id, self.token = db, incident_id, token
        self.lost = threading.Event()

    def check(self, session) -> None:
        """Beat and prove ownership in `session`'s transaction; `RunLost` when it is gone."""
        if not repository.beat_run(session, self.incident_id, self.token):
            self.lost.set()
            raise RunLost(self.lost_reason())

    def lost_reason(self) -> str:
        with self.db.session() as session:
            incident = repository.get_incident(session, self.incident_id)
            if incident is None:
                return (
                    f"incident {self.incident_id} was deleted while it was being analysed; nothing was saved"
                )
            status, error = incident.status, incident.error
        if status == Status.FAILED:
            return (
                f"incident {self.incident_id} was marked FAILED while this analysis was not running "
                f"({error}); its results were not saved"
            )
        return (
            f"incident {self.incident_id} is {status}: this run no longer owns it; its results were not saved"
        )


class _Heartbeat:
    """Beats for a running analysis from its own thread, so a model call that takes minutes never
    makes a live run look crashed to recovery (core.recovery). A beat is conditional on the run
    still owning its incident; once it does not, beating stops and `ownership.lost` is set."""

    def __init__(self, ownership: _Ownership, settings: Settings) -> None:
        self.ownership = ownership
        self.interval = max(0.1, settings.heartbeat_stale_sec / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"sigma-heartbeat-{ownership.incident_id}", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        owner = self.ownership
        while not self._stop.wait(self.interval):
            try:
                with owner.db.session() as session:
                    alive = repository.beat_run(session, owner.incident_id, owner.token)
            except Exception:  # a missed beat is harmless; the next one tries again
                logger.warning("heartbeat of incident %s not written", owner.incident_id, exc_info=True)
                continue
            if not alive:
                owner.lost.set()
                return


class _ProgressWriter:
    """Writes progress to the database, at most every half second unless a stage changes; each
    write is conditional on the run still owning its incident (`RunLost` otherwise)."""

    def __init__(self, ownership: _Ownership, echo: ProgressEcho | None) -> None:
        self.ownership, self.echo = ownership, echo
        self._last_write = 0.0
        self._last_stage = ""
        self._lock = threading.Lock()

    def __call__(self, fraction, stage, *, pass_no=None, windows_done=None, windows_total=None):
        owner = self.ownership
        with self._lock:
            now = time.monotonic()
            if stage == self._last_stage and now - self._last_write < _PROGRESS_INTERVAL_SEC:
                if owner.lost.is_set():
                    raise RunLost(owner.lost_reason())
                return
            self._last_write, self._last_stage = now, stage
            with owner.db.session() as session:
                written = repository.update_progress(
                    session,
                    owner.incident_id,
                    fraction=fraction,
                    stage=stage,
                    pass_no=pass_no,
                    windows_done=windows_done,
                    windows_total=windows_total,
                    token=owner.token,
                )
            if not written:
                owner.lost.set()
                raise RunLost(owner.lost_reason())
        if self.echo:
            self.echo(fraction, stage)


def run_analysis(incident_id: int, settings: Settings, *, echo: ProgressEcho | None = None) -> dict:
    """Analyse one SAVED or QUEUED incident to the end, then (PREPARE_EVIDENCE) make its events' clips
    and pictures (core.evidence.ready; after DONE, never failing it). Returns the seed's JSON (with
    `incident_id`); raises `AnalysisFailed` after recording FAILED with the reason, `RunLost` (writing nothing more)
    when the run lost its incident meanwhile (recovered while paused, deleted), or `JobNotRunnable`
    (changing nothing) when the incident is not waiting to run — e.g. a queue delivered its message
    twice. A `Cancelled` or `KeyboardInterrupt` (SIGTERM, SIGINT) records FAILED "cancelled" and
    propagates."""
    db = database(settings)
    with db.session() as session:
        token = repository.claim_for_run(session, incident_id)
        if token is None:
            incident = repository.get_incident(session, incident_id)
            if incident is None:
                raise JobNotRunnable(f"no incident {incident_id}")
            raise JobNotRunnable(
                f"incident {incident_id} is {incident.status}, not waiting to run; re-analyse it to run it again"
            )
    owner = _Ownership(db, incident_id, token)
    with db.session() as session:
        incident = repository.get_incident(session, incident_id)
        params = AnalysisParams.of_run(incident.params)
        stored_name = incident.stored_name
        duration = incident.duration
        # the facts probed when the video was stored: probing again costs seconds on long files
        video = VideoInfo(
            incident.width,
            incident.height,
            incident.fps,
            incident.duration,
            incident.frame_count,
            incident.codec,
        )

    versions: dict[str, str] = {}

    def log(step: str, message: str | Message, level: str = "INFO") -> None:
        with db.session() as session:
            owner.check(session)
            repository.add_log(
                session,
                incident_id,
                step,
                message.redacted(settings.redact)
                if isinstance(message, Message)
                else settings.redact(message),
                level=level,
                model_version=versions.get("model_version"),
                prompt_version=versions.get("prompt_version"),
            )

    try:
        with _Heartbeat(owner, settings):
            path = video_path(settings, stored_name)
            if not path.is_file():
                raise AnalysisFailed(
                    f"the stored video is missing from storage ({path.name}); upload it again"
                )
            ctx = RunContext(
                video_path=path,
                video=video,
                params=params,
                settings=settings,
                progress=_ProgressWriter(owner, echo),
                log=log,
                versions=versions,
            )
            engine = _choose_engine(params, settings, log)
            ctx.set_versions(*engine.versions_for(params))
            log(
                "start",
                say(
                    "log.start",
                    engine=say(f"report.engine.{engine.name}"),
                    params=params_in_words(params.model_dump()),
                    language=say(f"language.{settings.analysis_language}"),
                ),
            )
            if engine.name == "local" and (params.concerns or params.site_context):
                log("concerns", say("log.concerns_local"), "WARNING")
            outcome = engine.analyze(ctx)
            events = cap_highlights(clamp_to_video(outcome.events, duration), params.max_highlights)
            versions.update(model_version=outcome.model_version, prompt_version=outcome.prompt_version)
            note = coverage_note(outcome.windows, duration, params.window_sec)
            if note:
                log("coverage", note, "WARNING")
                if echo:
                    echo(1.0, f"note: {note.text('en')}")
            passes = ", ".join(str(p) for p in outcome.passes_run)
            log("done", say("log.done", events=len(events), windows=len(outcome.windows), passes=passes))
            result = _save(owner, outcome, events)
    except RunLost as error:
        logger.info("analysis %s stopped: %s", incident_id, error)
        raise
    except (Cancelled, KeyboardInterrupt) as stop:
        name = stop.signal_name if isinstance(stop, Cancelled) else "SIGINT"
        _fail_run(owner, say("log.cancelled", signal=name))
        raise
    except SigmaError as error:
        reason = settings.redact(str(error))
    except Exception as error:  # a bug must still end in FAILED, never in PROCESSING
        logger.exception("analysis %s crashed", incident_id)
        reason = settings.redact(f"internal error: {type(error).__name__}: {error}")
    else:
        if settings.prepare_evidence and events:  # after DONE: nothing here can fail the analysis
            prepare_quietly(settings, incident_id)
        return {**result, "incident_id": incident_id}
    if not _fail_run(owner, reason):
        raise RunLost(owner.lost_reason())
    raise AnalysisFailed(reason)


def _save(owner: _Ownership, outcome, events) -> dict:
    """The timeline in short transactions of _WINDOW_BATCH rows, then the events, the seed's JSON
    and DONE in one: each proves the run still owns its incident. Should a later step fail, FAILED
    takes the written rows with it (`repository.fail_run`)."""
    windows = outcome.windows
    for first in range(0, len(windows), _WINDOW_BATCH):
        with owner.db.session() as session:
            owner.check(session)
            repository.add_windows(session, owner.incident_id, windows[first : first + _WINDOW_BATCH])
    with owner.db.session() as session:
        result = repository.finish_run(session, owner.incident_id, owner.token, outcome, events)
    if result is None:
        raise RunLost(owner.lost_reason())
    return result


def coverage_note(windows: list[WindowRecord], duration: float, window_sec: float) -> Message | None:
    """When the video's timeline has stretches with no frame at all (windows follow frames, so no
    first-pass window lies there), a sentence saying where and how much was not analysed."""
    spans = sorted((w.start_time, w.end_time) for w in windows if w.pass_no == 1)
    if not spans:
        return None
    smallest = max(GAP_MIN_SEC, window_sec)
    gaps: list[tuple[float, float]] = []
    reached = 0.0
    for start, end in spans:
        if start - reached >= smallest:
            gaps.append((reached, start))
        reached = max(reached, end)
    if duration - reached >= smallest:
        gaps.append((reached, duration))
    if not gaps:
        return None
    missing = sum(end - start for start, end in gaps)
    longest = max(gaps, key=lambda gap: gap[1] - gap[0])
    return say(
        "log.coverage",
        duration=duration,
        gaps=len(gaps),
        missing=missing,
        start=longest[0],
        end=longest[1],
        windows=len(spans),
    )


def _fail_run(owner: _Ownership, reason: str | Message) -> bool:
    """FAILED with `reason` and a log row, only while the run still owns its incident; False (nothing
    written) when it no longer does."""
    with owner.db.session() as session:
        error = reason.text("en") if isinstance(reason, Message) else reason
        if not repository.fail_run(session, owner.incident_id, owner.token, error):
            return False
        repository.add_log(session, owner.incident_id, "failed", reason, level="ERROR")
    return True


def _fail_waiting(db, incident_id: int, reason: str) -> None:
    """FAILED for an incident that was never claimed by a run (refused by the queue)."""
    with db.session() as session:
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
        log("engine", say("log.engine_fallback", error=str(error)), "WARNING")
        engine = create_engine_by_name("local", settings)
    return engine


def check_capacity(settings: Settings) -> None:
    """Raise `QueueFull` when one more analysis would wait beyond MAX_QUEUED_JOBS. Cheap: the app
    asks before it stores a large upload, and `submit` asks again."""
    with database(settings).session() as session:
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


def admit_in(session, settings: Settings) -> None:
    """Within `session`'s transaction: take the admission lock (so callers admitting at once are
    counted one after the other) and raise `QueueFull` when there is no room for one more."""
    repository.lock_for_admission(session)
    _check_capacity(session, settings)


def admit(incident_id: int, settings: Settings) -> None:
    """SAVED → QUEUED if there is room. When the queue is full the incident is recorded FAILED with
    the reason (it never lingers in SAVED) and `QueueFull` is raised; an incident that is not SAVED
    raises `JobNotRunnable` unchanged. (A new upload is admitted before its row exists instead:
    `core.service.register_video(..., admit=True)`.)"""
    db = database(settings)
    with db.session() as session:
        try:
            admit_in(session, settings)
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
    _fail_waiting(db, incident_id, f"not started: {refusal}")
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
        return self.run_admitted(incident_id)

    def run_admitted(self, incident_id: int) -> Future:
        """Run an incident already admitted (QUEUED) in the pool when a thread is free."""
        with self._lock:
            self._waiting.add(incident_id)
        return self._pool.submit(self._run_quietly, incident_id)

    def waiting_ids(self) -> list[int]:
        with self._lock:
            return list(self._waiting)

    def _run_quietly(self, incident_id: int) -> None:
        with self._lock:
            self._waiting.discard(incident_id)
        # recorded as FAILED in the database (or not runnable: nothing to record)
        with suppress(AnalysisFailed):
            run_analysis(incident_id, self.settings)

    def shutdown(self, wait: bool = True) -> None:
        self.maintenance.stop()
        self._pool.shutdown(wait=wait)


STOP_SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Cancelled` in the main thread, so the analysis under way is recorded
    FAILED "cancelled" on the way out instead of staying PROCESSING (a second signal is ignored
    while that is written)."""

    def stop(signum, _frame) -> None:
        for handled in STOP_SIGNALS.values():
            signal.signal(handled, signal.SIG_IGN)
        raise Cancelled(signal.Signals(signum).name)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS.values()}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run_in_child(incident_id: int, settings: Settings) -> None:
    """The whole life of a JOB_BACKEND=process child: one analysis, stopped like the CLI's by SIGTERM
    or SIGINT (FAILED "cancelled", exit 128 + the signal)."""
    install_log_redaction(settings)
    try:
        with stopped_by_signals():
            run_analysis(incident_id, settings)
    except AnalysisFailed:
        pass  # recorded as FAILED in the database (or not runnable: nothing to record)
    except Cancelled as stop:
        sys.exit(128 + STOP_SIGNALS[stop.signal_name])


class ProcessRunner(JobRunner):
    """The process backend: the thread backend's pool and queue, but each pool thread only watches a
    child process that runs the analysis, so the analysis's CPU work (decoding, the local engine's
    measurements, JSON) never holds the server's GIL and its requests keep being answered. The child
    writes progress, heartbeats and results to the database as a thread would. When a child dies
    without recording an end (killed, out of memory, a crash in native code), its incident is FAILED
    at once with the reason, not left PROCESSING until recovery finds it stale. `shutdown` (the
    server stopping) sends SIGTERM to the children: their incidents end FAILED "cancelled"."""

    # forkserver: children are forked from a small clean process with core.jobs already imported,
    # never from the server with its threads and open connections (fork), and start in well under
    # a second (spawn imports everything again)
    CONTEXT = "forkserver"

    def __init__(self, settings: Settings) -> None:
        self._context = multiprocessing.get_context(self.CONTEXT)
        self._context.set_forkserver_preload([__name__])
        self._children: dict[int, multiprocessing.process.BaseProcess] = {}
        self._stopping = False
        super().__init__(settings)

    def child_pids(self) -> dict[int, int]:
        """{incident id: pid} of the analyses running now."""
        with self._lock:
            return {incident_id: child.pid for incident_id, child in self._children.items()}

    def _run_quietly(self, incident_id: int) -> None:
        child = self._context.Process(
            target=_run_in_child, args=(incident_id, self.settings), name=f"sigma-analysis-{incident_id}"
        )
        if self._stopping:  # left QUEUED: recovery marks it interrupted, as for a stopped server
            return
        child.start()
        with self._lock:
            self._children[incident_id] = child
            self._waiting.discard(incident_id)
            if self._stopping:  # the runner stopped while this child was starting
                child.terminate()
        child.join()
        with self._lock:
            del self._children[incident_id]
        if child.exitcode:
            _fail_dead_child(self.settings, incident_id, child.exitcode)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._stopping = True
            children = list(self._children.values())
        for child in children:
            child.terminate()
        self.maintenance.stop()
        self._pool.shutdown(wait=wait, cancel_futures=True)


def _fail_dead_child(settings: Settings, incident_id: int, exitcode: int) -> None:
    """FAILED for an incident whose child process ended without recording an end (a child that
    recorded one, DONE or FAILED "cancelled", leaves it alone: it is no longer active)."""
    how = f"killed by {signal.Signals(-exitcode).name}" if exitcode < 0 else f"exit code {exitcode}"
    reason = f"interrupted: the process running this analysis ended ({how}). Re-analyse to run it again."
    with database(settings).session() as session:
        if repository.fail_if_stale(session, incident_id, older_than=None, reason=reason):
            repository.add_log(session, incident_id, "failed", reason, level="ERROR")
    logger.warning("analysis %s: its process ended (%s)", incident_id, how)


_runners: dict[tuple, JobRunner] = {}
_runners_lock = threading.Lock()


def runner_for(settings: Settings) -> JobRunner:
    """The process-wide thread or process backend for these settings' database and storage."""
    key = (
        settings.resolved_database_url,
        str(settings.storage_dir.resolve()),
        settings.max_concurrent_jobs,
        settings.job_backend,
    )
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            backend = ProcessRunner if settings.job_backend == "process" else JobRunner
            runner = _runners[key] = backend(settings)
        return runner


def start_background(settings: Settings) -> None:
    """Call once when the app server starts (and the worker at boot, through core.worker): the
    start of every process (`core.recovery.start_of_process`: schema, recovery of interrupted
    analyses, leftover files), then maintenance kept running (under the thread backend through its
    runner, under the queue backend on the queue's behalf)."""
    start_of_process(settings)
    if settings.job_backend == "queue":
        from core.worker import start_queue_maintenance

        start_queue_maintenance(settings)
    else:
        runner_for(settings)


def stop_background(settings: Settings) -> None:
    """Call when the app server stops: maintenance ends, and under the process backend the running
    analyses are cancelled (FAILED "cancelled") instead of running on without a server."""
    with _runners_lock:
        runners = [
            key
            for key in _runners
            if key[:2] == (settings.resolved_database_url, str(settings.storage_dir.resolve()))
        ]
        stopping = [_runners.pop(key) for key in runners]
    for runner in stopping:
        runner.shutdown(wait=False)


def submit(incident_id: int, settings: Settings) -> None:
    """The one dispatch the dashboard and the CLI use for a SAVED incident (a re-run): admit it
    (QUEUED, or `QueueFull`), then `dispatch` it."""
    admit(incident_id, settings)
    dispatch(incident_id, settings)


def dispatch(incident_id: int, settings: Settings) -> None:
    """Run an admitted (QUEUED) incident in this process's threads or child processes
    (JOB_BACKEND=thread or process) or enqueue it for the workers (JOB_BACKEND=queue)."""
    if settings.job_backend == "queue":
        from core.worker import enqueue

        try:
            enqueue(incident_id, settings)
        except Exception as error:
            reason = settings.redact(f"could not reach the job queue: {type(error).__name__}: {error}")
            _fail_waiting(database(settings), incident_id, reason)
            raise AnalysisFailed(reason) from error
    else:
        runner_for(settings).run_admitted(incident_id)
