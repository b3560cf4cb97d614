"""Issue 13, items 3, 4, 5 and 7: migrations that cannot race or half-apply on SQLite, runs that own
their incident (a paused run recovered as interrupted never turns DONE; a deleted incident ends its
analysis cleanly), heartbeats on the database's clock, and SIGINT/SIGTERM leaving FAILED "cancelled"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from core import models, repository, service
from core.access import OPEN_ACCESS
from core.db import _MIGRATIONS_DIR, get_engine, session_scope
from core.recovery import recover_stale
from core.schema import AnalysisParams, Status
from tests.conftest import make_settings
from tests.test_crash_recovery import _long_clip

ROOT = Path(__file__).resolve().parent.parent
HEAD = ScriptDirectory(str(_MIGRATIONS_DIR)).get_current_head()
TABLES = {"incidents", "timelines", "events", "logs", "alembic_version"}

# One process imports everything once, then per trial forks six children that all open the same new
# database at one moment (forked after the imports, so they are ready at once and the race is as
# tight as six servers starting together); it exits with the failures' tracebacks.
_FIRST_RUNS = """
import os, sys, time, traceback
from core.db import get_engine
failed = 0
for url in sys.argv[1:]:
    start = time.time() + 0.2
    children = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            while time.time() < start:
                pass
            try:
                get_engine(url)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        children.append(pid)
    for pid in children:
        failed += os.waitpid(pid, 0)[1] != 0
print(failed)
sys.exit(1 if failed else 0)
"""

# Killed (SIGKILL, no clean-up of any kind) right after the migration's third CREATE TABLE.
_KILLED_MIGRATION = """
import os, signal, sys
from sqlalchemy import Engine, event
created = 0
@event.listens_for(Engine, "after_cursor_execute")
def kill_half_way(conn, cursor, statement, *args):
    global created
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created += 1
        if created == 3:
            os.kill(os.getpid(), signal.SIGKILL)
from core.db import get_engine
get_engine(sys.argv[1])
"""


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return None
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_six_first_runs_on_a_new_sqlite_database_all_succeed(tmp_path):
    trials = [tmp_path / f"trial{trial}" / "sigma.db" for trial in range(3)]
    # before BEGIN IMMEDIATE and the lock file, 3 trials of 6 lost 4 processes to the race
    first_runs = subprocess.run(
        [sys.executable, "-c", _FIRST_RUNS, *(f"sqlite:///{path}" for path in trials)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first_runs.returncode == 0, (
        f"{first_runs.stdout.strip()} of 18 first runs failed: {first_runs.stderr[-600:]}"
    )
    for path in trials:
        assert _revision(f"sqlite:///{path}") == HEAD


def test_a_migration_killed_half_way_leaves_a_database_the_next_start_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'sigma.db'}"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MIGRATION, url],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert _revision(url) is None  # nothing of the half-done migration was kept
    engine = get_engine(url)  # the next start
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _revision(url) == HEAD


def _cli(settings, *args: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "STORAGE_DIR": str(settings.storage_dir),
        "ENGINE": "local",
        "LLM_BASE_URL": "",
        "DATABASE_URL": "",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "core", *args],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _running(settings, process: subprocess.Popen, timeout: float = 60):
    """The incident the CLI is analysing, once it has made progress."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            for incident in repository.list_incidents(session, status=Status.PROCESSING):
                if incident.progress > 0:
                    return incident
        time.sleep(0.02)
    raise AssertionError(f"no analysis seen running: {process.stderr.read() if process.poll() else ''}")


def _incident(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory, clips):
    return _long_clip(clips["calm"], tmp_path_factory.mktemp("long"), repeats=75)  # 10 minutes


def test_a_paused_run_recovered_as_interrupted_never_turns_done(tmp_path, long_clip):
    settings = make_settings(tmp_path, heartbeat_stale_sec=1.0)
    analysis = _cli(settings, "analyze", str(long_clip), "--quiet", HEARTBEAT_STALE_SEC="1")
    try:
        running = _running(settings, analysis)
        analysis.send_signal(signal.SIGSTOP)  # a VM pause, a long GC
        time.sleep(settings.heartbeat_stale_sec + 0.5)
        assert recover_stale(settings) == [running.id]
        analysis.send_signal(signal.SIGCONT)
        code = analysis.wait(120)
        message = analysis.stderr.read()
    finally:
        if analysis.poll() is None:
            analysis.kill()
            analysis.wait()
    after = _incident(settings, running.id)
    assert after.status == Status.FAILED and after.error.startswith("interrupted:")
    assert code == 3 and "Traceback" not in message
    assert f"incident {running.id} was marked FAILED while this analysis was not running" in message
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert not repository.windows_of(session, running.id), "no half a timeline for a failed run"
        assert repository.logs_of(session, running.id)[-1].step == "recovered"


def test_heartbeats_use_the_database_clock(tmp_path, clips, monkeypatch):
    """A machine whose clock is an hour slow beats; another judges it: the run stays alive."""
    settings = make_settings(tmp_path, heartbeat_stale_sec=60)
    incident_id = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    slow = models.utcnow() - timedelta(hours=1)
    monkeypatch.setattr(models, "utcnow", lambda: slow)
    monkeypatch.setattr(repository, "utcnow", lambda: slow)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert repository.claim_for_run(session, incident_id)
        assert repository.touch_heartbeats(session, [incident_id], status=Status.PROCESSING) == 1
    monkeypatch.undo()
    assert recover_stale(settings) == []
    assert _incident(settings, incident_id).status == Status.PROCESSING


def test_deleting_an_incident_while_its_cli_analysis_runs_ends_it_cleanly(tmp_path, long_clip):
    settings = make_settings(tmp_path)
    analysis = _cli(settings, "analyze", str(long_clip), "--quiet")
    try:
        running = _running(settings, analysis)
        service.delete(running.id, settings, actor=OPEN_ACCESS)
        code = analysis.wait(120)
        message = analysis.stderr.read()
    finally:
        if analysis.poll() is None:
            analysis.kill()
            analysis.wait()
    assert code == 3, message
    assert message.strip().splitlines() == [
        f"analysis failed: incident {running.id} was deleted while it was being analysed; nothing was saved"
    ]
    assert _incident(settings, running.id) is None


@pytest.mark.parametrize("sent, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_leave_a_failed_cancelled_run(tmp_path, long_clip, sent, code):
    settings = make_settings(tmp_path)
    analysis = _cli(settings, "analyze", str(long_clip), "--quiet")
    try:
        running = _running(settings, analysis)
        analysis.send_signal(sent)
        assert analysis.wait(60) == code
        message = analysis.stderr.read()
    finally:
        if analysis.poll() is None:
            analysis.kill()
            analysis.wait()
    stopped = _incident(settings, running.id)
    assert stopped.status == Status.FAILED
    assert stopped.error == f"cancelled: the analysis was stopped ({sent.name}); re-analyse to run it again"
    assert message.strip().splitlines() == [f"cancelled ({sent.name})"]


def test_every_cli_command_recovers_interrupted_runs_first(tmp_path, clips, monkeypatch):
    from core.cli import main as cli_main
    from core.config import get_settings

    settings = make_settings(tmp_path, heartbeat_stale_sec=1.0)
    incident_id = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        repository.claim_for_run(session, incident_id)  # then its process died
    time.sleep(1.2)
    for name, value in {"STORAGE_DIR": str(settings.storage_dir), "HEARTBEAT_STALE_SEC": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli_main(["list", "--json"]) == 0
    finally:
        get_settings.cache_clear()
    recovered = _incident(settings, incident_id)
    assert recovered.status == Status.FAILED and recovered.error.startswith("interrupted:")
