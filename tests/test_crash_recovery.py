"""Crash recovery: a killed analysis never stays PROCESSING, a live one is never taken for dead,
and waiting incidents survive as long as something holds them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest
from sqlalchemy import update

from core import jobs, repository, service
from core.access import OPEN_ACCESS
from core.db import get_engine, session_scope
from core.engines.local import LocalEngine
from core.models import Incident, utcnow
from core.recovery import Maintenance, recover_stale
from core.schema import AnalysisParams, Status
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent


def _incident(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


def _long_clip(short_clip: Path, folder: Path, repeats: int) -> Path:
    """A long video in a fraction of a second: the short clip repeated by stream copy."""
    target = folder / "long.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-stream_loop",
            str(repeats - 1),
            "-i",
            str(short_clip),
        ]
        + ["-c", "copy", str(target)],
        check=True,
    )
    return target


def test_sigkill_half_way_then_recovery_and_rerun(tmp_path, clips):
    long_clip = _long_clip(clips["calm"], tmp_path, repeats=75)  # 10 minutes of video
    settings = make_settings(tmp_path, heartbeat_stale_sec=1.0)
    env = {
        **os.environ,
        "STORAGE_DIR": str(settings.storage_dir),
        "ENGINE": "local",
        "LLM_BASE_URL": "",
        "DATABASE_URL": "",
        "PYTHONPATH": str(ROOT),
    }
    analysis = subprocess.Popen(
        [sys.executable, "-m", "core", "analyze", str(long_clip), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        running = None
        while running is None and time.monotonic() < deadline and analysis.poll() is None:
            with session_scope(get_engine(settings.resolved_database_url)) as session:
                running = next(
                    (
                        i
                        for i in repository.list_incidents(session, status=Status.PROCESSING)
                        if i.progress > 0
                    ),
                    None,
                )
            time.sleep(0.02)
        assert running is not None, (
            f"no analysis seen half-way: {analysis.stderr.read() if analysis.poll() else ''}"
        )
        analysis.send_signal(signal.SIGKILL)
        analysis.wait(10)
    finally:
        if analysis.poll() is None:
            analysis.kill()
            analysis.wait()
    killed_at = _incident(settings, running.id)
    assert killed_at.status == Status.PROCESSING and 0 < killed_at.progress < 1

    time.sleep(settings.heartbeat_stale_sec + 0.3)  # the dead process beats no more
    runner = jobs.JobRunner(settings)  # "start again": a new app process recovers at start
    try:
        recovered = _incident(settings, running.id)
        assert recovered.status == Status.FAILED
        assert recovered.error.startswith("interrupted: the process running this analysis stopped")
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            assert not repository.list_incidents(session, status=Status.PROCESSING)
            assert repository.logs_of(session, running.id)[-1].step == "recovered"
    finally:
        # its sweeper would take the re-run below for dead whenever a loaded machine delays a
        # heartbeat by this test's 2 s
        runner.shutdown()

    params = AnalysisParams.from_settings(settings, engine="local", target_fps=2, window_sec=10)
    rerun_id = service.rerun(running.id, settings, params, actor=OPEN_ACCESS)
    result = jobs.run_analysis(rerun_id, settings)
    assert result["incident_id"] == rerun_id
    assert _incident(settings, rerun_id).status == Status.DONE


def test_a_long_quiet_model_call_is_not_taken_for_a_crash(tmp_path, clips, monkeypatch):
    """No progress for three stale periods: the run's heartbeat thread keeps it alive. The period is
    long enough (1.5 s, a beat every 0.375 s) that a loaded CI machine pausing a thread for half a
    second is not taken for a crash: at 0.5 s such a pause failed this test once."""
    settings = make_settings(tmp_path, heartbeat_stale_sec=1.5)
    original = LocalEngine.analyze

    def slow_model(self, ctx):
        time.sleep(3 * settings.heartbeat_stale_sec)
        return original(self, ctx)

    monkeypatch.setattr(LocalEngine, "analyze", slow_model)
    incident_id = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    runner = jobs.JobRunner(settings)
    try:
        future = runner.submit(incident_id)
        recovered = []
        while not future.done():
            recovered += recover_stale(settings)
            time.sleep(0.1)
        future.result()
    finally:
        runner.shutdown()
    assert recovered == []
    assert _incident(settings, incident_id).status == Status.DONE


def _age(settings, incident_id, seconds):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        session.execute(
            update(Incident)
            .where(Incident.id == incident_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_stale_waiting_incidents_fail_unless_held(db_settings, clips):
    settings = db_settings
    params = AnalysisParams.from_settings(settings)
    saved, held, orphan, done = (service.register_video(clips["calm"], settings, params) for _ in range(4))
    jobs.run_analysis(done, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        for incident_id in (held, orphan):
            assert repository.mark_queued(session, incident_id)
    stale = settings.heartbeat_stale_sec + 5
    for incident_id in (saved, held, orphan, done):
        _age(settings, incident_id, stale)

    Maintenance(settings, held=lambda: [held]).run_once()

    assert _incident(settings, held).status == Status.QUEUED  # its holder touched it first
    assert _incident(settings, done).status == Status.DONE
    never_started = _incident(settings, saved)
    assert never_started.status == Status.FAILED
    assert "saved but its analysis never began" in never_started.error
    lost = _incident(settings, orphan)
    assert lost.status == Status.FAILED and "waiting in the queue" in lost.error
    assert recover_stale(settings) == []  # nothing left to recover; held one is fresh again


@pytest.mark.parametrize("status", [Status.QUEUED, Status.PROCESSING])
def test_fresh_heartbeat_is_left_alone(settings, clips, status):
    incident_id = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        session.execute(
            update(Incident).where(Incident.id == incident_id).values(status=status, heartbeat_at=utcnow())
        )
    assert recover_stale(settings) == []
    _age(settings, incident_id, settings.heartbeat_stale_sec + 1)
    assert recover_stale(settings) == [incident_id]
