"""Jobs: limits (MAX_CONCURRENT_JOBS at once, queue positions, MAX_QUEUED_JOBS refusals), three
analyses at once on SQLite and PostgreSQL, runs that start at most once, and secrets kept out of logs."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from core import jobs, repository, service
from core.db import get_engine, session_scope
from core.engines.local import LocalEngine
from core.errors import AnalysisFailed, QueueFull
from core.models import EventRow, LogRow, Timeline
from core.schema import AnalysisParams, Status
from tests.conftest import make_settings


def _register(settings, clip) -> int:
    return service.register_video(clip, settings, AnalysisParams.from_settings(settings))


def _incident(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


def _wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def held_engine(monkeypatch):
    """The local engine, held inside `analyze` until the test releases it."""
    release = threading.Event()
    original = LocalEngine.analyze

    def held(self, ctx):
        ctx.progress(0.01, "held by the test")
        assert release.wait(30), "the test never released the engine"
        return original(self, ctx)

    monkeypatch.setattr(LocalEngine, "analyze", held)
    return release


def test_limits_queue_positions_and_refusal(tmp_path, clips, held_engine):
    settings = make_settings(tmp_path, max_concurrent_jobs=2, max_queued_jobs=1)
    first, second, third, fourth = (_register(settings, clips["calm"]) for _ in range(4))
    runner = jobs.JobRunner(settings)
    try:
        futures = [runner.submit(incident_id) for incident_id in (first, second, third)]
        statuses = lambda: [_incident(settings, i).status for i in (first, second, third)]
        _wait_for(
            lambda: statuses() == [Status.PROCESSING, Status.PROCESSING, Status.QUEUED], what="2 running"
        )
        assert service.queue_position(third, settings) == 1
        assert service.queue_position(first, settings) is None

        with pytest.raises(QueueFull, match="MAX_QUEUED_JOBS=1"):
            jobs.check_capacity(settings)
        with pytest.raises(QueueFull, match="the queue is full"):
            runner.submit(fourth)
        refused = _incident(settings, fourth)
        assert refused.status == Status.FAILED and refused.error.startswith("not started: the queue is full")

        held_engine.set()
        for future in futures:
            future.result(timeout=60)
        assert [_incident(settings, i).status for i in (first, second, third)] == [Status.DONE] * 3
        with pytest.raises(jobs.JobNotRunnable, match="is DONE"):
            runner.submit(first)
    finally:
        held_engine.set()
        runner.shutdown()


def test_three_analyses_at_once_all_done(db_settings, clips, monkeypatch):
    """Three runs inside the engine at the same moment (a barrier proves it), then all DONE, every row kept."""
    settings = db_settings.model_copy(update={"max_concurrent_jobs": 3})
    together = threading.Barrier(3, timeout=30)
    original = LocalEngine.analyze

    def together_then_analyze(self, ctx):
        together.wait()
        return original(self, ctx)

    monkeypatch.setattr(LocalEngine, "analyze", together_then_analyze)
    incident_ids = [_register(settings, clips[name]) for name in ("collision", "calm", "burst")]
    runner = jobs.JobRunner(settings)
    try:
        for future in [runner.submit(incident_id) for incident_id in incident_ids]:
            future.result(timeout=90)
    finally:
        runner.shutdown()

    with session_scope(get_engine(settings.resolved_database_url)) as session:
        for incident_id in incident_ids:
            incident = repository.get_incident(session, incident_id)
            assert incident.status == Status.DONE, incident.error
            windows = session.scalar(select(func.count()).where(Timeline.incident_id == incident_id))
            events = session.scalar(select(func.count()).where(EventRow.incident_id == incident_id))
            steps = session.scalars(select(LogRow.step).where(LogRow.incident_id == incident_id)).all()
            assert windows == incident.windows_total > 0
            assert events == len(incident.analysis_json["events"])
            assert {"start", "done"} <= set(steps)
            assert not any(
                "locked" in (row.message or "") for row in repository.logs_of(session, incident_id)
            )


def test_submit_dispatches_to_this_process_threads(settings, clips):
    incident_id = _register(settings, clips["calm"])
    jobs.submit(incident_id, settings)
    _wait_for(lambda: _incident(settings, incident_id).status == Status.DONE, what="DONE")
    assert jobs.runner_for(settings) is jobs.runner_for(settings)
    jobs.runner_for(settings).shutdown()


def test_a_run_starts_at_most_once(settings, clips):
    incident_id = _register(settings, clips["calm"])
    jobs.run_analysis(incident_id, settings)
    before = _incident(settings, incident_id)
    with pytest.raises(jobs.JobNotRunnable, match="is DONE"):
        jobs.run_analysis(incident_id, settings)  # e.g. a queue delivering the same message again
    after = _incident(settings, incident_id)
    assert (after.status, after.finished_at, after.analysis_json) == (
        before.status,
        before.finished_at,
        before.analysis_json,
    )


def test_secrets_never_reach_logs_or_errors(tmp_path, clips, monkeypatch):
    api_key, db_password = "sk-test-0123456789abcdef", "pa55-w0rd!"
    settings = make_settings(tmp_path, llm_api_key=api_key, redis_url=f"redis://:{db_password}@127.0.0.1:1/0")

    def careless(self, ctx):  # an engine (or a library under it) that prints what it should not
        ctx.log("request", f"POST with Authorization: Bearer {api_key}")
        raise AnalysisFailed(f"server refused key {api_key} (queue at redis://:{db_password}@127.0.0.1:1/0)")

    monkeypatch.setattr(LocalEngine, "analyze", careless)
    incident_id = _register(settings, clips["calm"])
    with pytest.raises(AnalysisFailed) as raised:
        jobs.run_analysis(incident_id, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        texts = [row.message for row in repository.logs_of(session, incident_id)] + [incident.error]
    assert len(texts) >= 3 and any("Bearer ***" in text for text in texts)
    for text in [*texts, str(raised.value)]:
        assert api_key not in text and db_password not in text


def test_a_video_gone_from_storage_fails_with_a_reason(settings, clips):
    incident_id = _register(settings, clips["calm"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        stored_name = repository.get_incident(session, incident_id).stored_name
    (settings.uploads_dir / stored_name).unlink()
    with pytest.raises(AnalysisFailed, match="stored video is missing from storage"):
        jobs.run_analysis(incident_id, settings)
    incident = _incident(settings, incident_id)
    assert incident.status == Status.FAILED and "upload it again" in incident.error
