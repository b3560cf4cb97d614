"""Files: failed writes leave nothing behind and say why, deleting removes files and rows, and
RETENTION_DAYS cleans old videos (and only those)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core import jobs, repository, service
from core.access import OPEN_ACCESS
from core.db import get_engine, session_scope
from core.errors import InvalidInput
from core.models import EventRow, Incident, LogRow, Timeline, utcnow
from core.retention import purge_expired
from core.schema import AnalysisParams
from core.storage import video_path
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent

_DISK_FULL = """
import json, resource, signal, sys
from pathlib import Path
from tests.conftest import make_settings
from core.errors import InvalidInput
from core.service import register_video
from core.schema import AnalysisParams

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
settings = make_settings(Path(sys.argv[2]))
params = AnalysisParams.from_settings(settings)
settings.uploads_dir.mkdir(parents=True)
resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))
try:
    with open(sys.argv[1], "rb") as upload:
        register_video(upload, settings, params, original_name="clip.mp4")
    print(json.dumps({"error": None}))
except InvalidInput as error:
    print(json.dumps({"error": str(error)}))
"""


def _rows(settings, incident_ids) -> dict[str, int]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return {
            model.__tablename__: session.scalar(
                select(func.count())
                .select_from(model)
                .where((model.id if model is Incident else model.incident_id).in_(incident_ids))
            )
            for model in (Incident, Timeline, EventRow, LogRow)
        }


def _files(settings) -> list[str]:
    return sorted(
        str(p.relative_to(settings.storage_dir)) for p in settings.storage_dir.rglob("*") if p.is_file()
    )


def test_disk_full_leaves_no_partial_file_and_says_so(tmp_path, clips):
    """A real failed write: the file size limit (RLIMIT_FSIZE) stops the copy part-way."""
    assert clips["collision"].stat().st_size > 16 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(clips["collision"]), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert error == "could not store the upload: File too large"
    settings = make_settings(tmp_path)
    assert [p for p in _files(settings) if p.startswith("videos/")] == []
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert repository.list_incidents(session) == []


def test_refused_rename_leaves_no_partial_file(settings, clips, monkeypatch):
    def refuse(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("core.storage.os.replace", refuse)
    with pytest.raises(InvalidInput, match="could not store the upload: Permission denied"):
        service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    assert list(settings.uploads_dir.iterdir()) == []


def test_names_from_users_never_become_paths(settings, clips):
    hostile = "../../etc/пожар 🚒 на складе.mp4"
    with open(clips["calm"], "rb") as upload:
        incident_id = service.register_video(
            upload, settings, AnalysisParams.from_settings(settings), original_name=hostile
        )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        assert incident.original_name == hostile
        stored = video_path(settings, incident.stored_name)
    assert stored.parent == settings.uploads_dir and stored.is_file()
    assert ".." not in incident.stored_name and "пожар" not in incident.stored_name


def test_delete_removes_files_and_rows(db_settings, clips):
    settings = db_settings
    params = AnalysisParams.from_settings(settings)
    first = service.register_video(clips["collision"], settings, params)
    jobs.run_analysis(first, settings)
    rerun = service.rerun(first, settings, params.model_copy(update={"window_sec": 1.0}), actor=OPEN_ACCESS)
    jobs.run_analysis(rerun, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        stored_name = repository.get_incident(session, first).stored_name
    derived = settings.storage_dir / "derived" / Path(stored_name).stem
    derived.mkdir(parents=True)
    (derived / "browser.mp4").write_bytes(b"copy")
    (derived / "keyframes").mkdir()
    (derived / "keyframes" / "0001.jpg").write_bytes(b"jpg")
    assert all(count > 0 for count in _rows(settings, [first, rerun]).values())

    service.delete(rerun, settings, actor=OPEN_ACCESS)  # the first run still uses the file
    assert _rows(settings, [rerun]) == {"incidents": 0, "timelines": 0, "events": 0, "logs": 0}
    assert video_path(settings, stored_name).is_file() and derived.is_dir()

    service.delete(first, settings, actor=OPEN_ACCESS)
    assert _rows(settings, [first]) == {"incidents": 0, "timelines": 0, "events": 0, "logs": 0}
    assert [name for name in _files(settings) if not name.startswith("sigma.db")] == []
    assert not derived.exists()


def _created_days_ago(settings, incident_ids, days):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        session.execute(
            update(Incident)
            .where(Incident.id.in_(incident_ids))
            .values(created_at=utcnow() - timedelta(days=days))
        )


def test_retention_deletes_only_videos_whose_every_run_is_old(db_settings, clips):
    settings = db_settings.model_copy(update={"retention_days": 30})
    params = AnalysisParams.from_settings(settings)
    old = service.register_video(clips["collision"], settings, params)
    jobs.run_analysis(old, settings)
    old_rerun = service.rerun(old, settings, params, actor=OPEN_ACCESS)
    jobs.run_analysis(old_rerun, settings)
    revisited = service.register_video(clips["calm"], settings, params)
    jobs.run_analysis(revisited, settings)
    revisited_rerun = service.rerun(revisited, settings, params, actor=OPEN_ACCESS)
    jobs.run_analysis(revisited_rerun, settings)
    waiting = service.register_video(clips["burst"], settings, params)  # SAVED: never deleted while active
    _created_days_ago(settings, [old, old_rerun, revisited, waiting], 40)
    _created_days_ago(settings, [revisited_rerun], 3)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        old_file = video_path(settings, repository.get_incident(session, old).stored_name)

    assert purge_expired(db_settings) == []  # off by default
    assert purge_expired(settings) == [old]
    assert _rows(settings, [old, old_rerun])["incidents"] == 0
    assert _rows(settings, [old, old_rerun])["logs"] == 0
    assert not old_file.exists()
    assert _rows(settings, [revisited, revisited_rerun, waiting])["incidents"] == 3
