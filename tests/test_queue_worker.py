"""JOB_BACKEND=queue: the app enqueues on the real Redis, a `python -m core worker` process (Dramatiq)
runs the analysis, and PostgreSQL shows it DONE. Each test uses its own queue name and removes its keys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from core import jobs, repository, service
from core.db import get_engine, session_scope
from core.errors import AnalysisFailed
from core.recovery import Maintenance
from core.schema import AnalysisParams, Status
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def queue_name():
    name = f"sigma-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = [
        key
        for pattern in (f"dramatiq:{name}*", f"dramatiq:__acks__.*.{name}*")
        for key in client.keys(pattern)
    ]
    if keys:
        client.delete(*keys)
    client.close()


def _status(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        return incident.status, incident.error


def test_worker_runs_an_enqueued_analysis_into_postgres(postgres_schema_url, tmp_path, clips, queue_name):
    from core.worker import queued_incident_ids

    settings = make_settings(
        tmp_path,
        postgres_schema_url,
        job_backend="queue",
        redis_url=REDIS_URL,
        job_queue=queue_name,
        max_concurrent_jobs=1,
        heartbeat_stale_sec=0.5,
    )
    incident_id = service.register_video(clips["collision"], settings, AnalysisParams.from_settings(settings))
    jobs.submit(incident_id, settings)
    assert _status(settings, incident_id) == (Status.QUEUED, None)
    assert queued_incident_ids(settings) == [incident_id]
    assert service.queue_position(incident_id, settings) == 1

    # no worker yet, heartbeat stale: Redis still holds the message, so recovery keeps it waiting
    time.sleep(settings.heartbeat_stale_sec + 0.2)
    Maintenance(settings, held=lambda: queued_incident_ids(settings)).run_once()
    assert _status(settings, incident_id)[0] == Status.QUEUED

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": postgres_schema_url,
        "STORAGE_DIR": str(settings.storage_dir),
        "ENGINE": "local",
        "LLM_BASE_URL": "",
        "JOB_BACKEND": "queue",
        "REDIS_URL": REDIS_URL,
        "JOB_QUEUE": queue_name,
        "MAX_CONCURRENT_JOBS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "core", "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the forked worker process goes with it
    )
    try:
        deadline = time.monotonic() + 60
        # the message is acknowledged when the actor returns: after DONE and the evidence it then
        # prepares (PREPARE_EVIDENCE, the default here)
        while time.monotonic() < deadline and (
            _status(settings, incident_id)[0] not in (Status.DONE, Status.FAILED)
            or queued_incident_ids(settings)
        ):
            assert worker.poll() is None, f"the worker exited: {worker.stdout.read()}"
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
    assert _status(settings, incident_id) == (Status.DONE, None), output
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        assert incident.analysis_json["events"], "the collision clip has an event"
        assert {row.step for row in repository.logs_of(session, incident_id)} >= {"start", "done"}
        stored_name = incident.stored_name
    assert queued_incident_ids(settings) == []  # acknowledged: Redis holds nothing more
    clips = list((settings.storage_dir / "derived" / Path(stored_name).stem / "clips").glob("*.mp4"))
    assert len(clips) == len(incident.analysis_json["events"])  # the worker prepared them


def test_unreachable_queue_fails_clearly_without_leaking_its_password(tmp_path, clips):
    settings = make_settings(tmp_path, job_backend="queue", redis_url="redis://:s3cret-pw@127.0.0.1:1/0")
    incident_id = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    with pytest.raises(AnalysisFailed, match="could not reach the job queue") as raised:
        jobs.submit(incident_id, settings)
    status, error = _status(settings, incident_id)
    assert status == Status.FAILED and error == str(raised.value)
    assert "s3cret-pw" not in error


def test_worker_command_runs_dramatiq_with_the_limits(tmp_path):
    from core.worker import worker_command

    settings = make_settings(tmp_path, max_concurrent_jobs=3, job_queue="analyses-x")
    argv, env = worker_command(settings)
    assert argv[:4] == [sys.executable, "-m", "dramatiq", "core.worker"]
    assert argv[argv.index("--processes") + 1] == "1"
    assert argv[argv.index("--threads") + 1] == "3"
    assert argv[argv.index("--queues") + 1] == "analyses-x"
    assert env["dramatiq_queue_prefetch"] == "3"
