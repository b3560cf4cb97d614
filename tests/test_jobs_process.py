"""JOB_BACKEND=process: each analysis in a child process of its own (core.jobs.ProcessRunner). It runs
to DONE there (not in this process: the engine is broken here and not in the child), MAX_CONCURRENT_JOBS
holds, stopping the runner cancels what runs (FAILED "cancelled"), and a child killed outright leaves
its incident FAILED at once, never PROCESSING until recovery (HEARTBEAT_STALE_SEC is far away here)."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from core import jobs, service
from core.engines.local import LocalEngine
from core.schema import Status
from tests.conftest import make_settings
from tests.live_server import serve
from tests.test_crash_recovery import _long_clip
from tests.test_jobs import _incident, _register, _wait_for


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory, clips):
    return _long_clip(clips["calm"], tmp_path_factory.mktemp("long"), repeats=75)  # 10 minutes


def _running(settings, incident_id) -> bool:
    incident = _incident(settings, incident_id)
    return incident.status == Status.PROCESSING and incident.progress > 0


def test_an_analysis_runs_to_done_in_a_child_process(db_settings, clips, monkeypatch):
    def broken_here(self, ctx):
        raise AssertionError("the analysis ran in the server's own process")

    monkeypatch.setattr(LocalEngine, "analyze", broken_here)
    settings = db_settings.model_copy(update={"job_backend": "process"})
    incident_id = _register(settings, clips["collision"])
    runner = jobs.ProcessRunner(settings)
    try:
        runner.submit(incident_id).result(timeout=120)
    finally:
        runner.shutdown()
    incident = _incident(settings, incident_id)
    assert incident.status == Status.DONE, incident.error
    assert incident.analysis_json["events"], "the scripted collision was found"


def test_one_at_a_time_then_stopping_cancels_the_running_one(tmp_path, long_clip):
    settings = make_settings(tmp_path, job_backend="process", max_concurrent_jobs=1, heartbeat_stale_sec=600)
    first, second = _register(settings, long_clip), _register(settings, long_clip)
    runner = jobs.ProcessRunner(settings)
    try:
        runner.submit(first)
        runner.submit(second)
        _wait_for(lambda: _running(settings, first), what="the first analysis running")
        assert _incident(settings, second).status == Status.QUEUED
        assert service.queue_position(second, settings) == 1
        child = runner.child_pids()[first]
        assert child != os.getpid()
    finally:
        runner.shutdown()
    cancelled = _incident(settings, first)
    assert cancelled.status == Status.FAILED and cancelled.error.startswith("cancelled"), cancelled.error
    assert _incident(settings, second).status == Status.QUEUED  # never started; recovery takes it later


def test_a_killed_child_leaves_its_incident_failed_at_once(tmp_path, long_clip):
    settings = make_settings(tmp_path, job_backend="process", heartbeat_stale_sec=600)
    incident_id = _register(settings, long_clip)
    runner = jobs.ProcessRunner(settings)
    try:
        future = runner.submit(incident_id)
        _wait_for(lambda: _running(settings, incident_id), what="the analysis running")
        os.kill(runner.child_pids()[incident_id], signal.SIGKILL)
        future.result(timeout=30)
        failed = _incident(settings, incident_id)
        assert failed.status == Status.FAILED, failed.status
        assert "killed by SIGKILL" in failed.error and "Re-analyse" in failed.error
        assert not runner.child_pids()
    finally:
        runner.shutdown()


def test_the_backend_follows_job_backend(tmp_path):
    process = jobs.runner_for(make_settings(tmp_path, job_backend="process"))
    thread = jobs.runner_for(make_settings(tmp_path, job_backend="thread"))
    try:
        assert type(process) is jobs.ProcessRunner and type(thread) is jobs.JobRunner
    finally:
        jobs.stop_background(make_settings(tmp_path))


def test_a_server_with_the_process_backend_analyses_uploads_and_cancels_them_when_it_stops(
    tmp_path, clips, long_clip
):
    """`python -m uvicorn api.main:app` with JOB_BACKEND=process: an upload runs to DONE (in a child),
    and stopping the server while an analysis runs leaves it FAILED "cancelled", not PROCESSING."""
    with serve("api.main:app", tmp_path / "server", JOB_BACKEND="process") as running:
        settings = running.settings
        with httpx.Client(base_url=running.base, timeout=60) as client:
            with open(clips["collision"], "rb") as handle:
                done = client.post("/api/v1/incidents/upload", files={"file": ("c.mp4", handle)})
            assert done.status_code == 201, done.text
            with open(long_clip, "rb") as handle:
                long = client.post("/api/v1/incidents/upload", files={"file": ("long.mp4", handle)})
            assert long.status_code == 201, long.text
            finished = done.json()["incident_id"]
            _wait_for(lambda: _incident(settings, finished).status == Status.DONE, what="the upload DONE")
            stopped = long.json()["incident_id"]
            _wait_for(lambda: _running(settings, stopped), what="the long analysis running")
    # the child (the forkserver's, not the server's) writes its end a moment after the server is gone
    _wait_for(lambda: _incident(settings, stopped).status != Status.PROCESSING, what="the analysis ended")
    cancelled = _incident(settings, stopped)
    assert cancelled.status == Status.FAILED and cancelled.error.startswith("cancelled"), cancelled.error
