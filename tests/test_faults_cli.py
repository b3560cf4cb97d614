"""Issue 13, items 6 and 7: leftover files swept, admission before storing, and the CLI's documented
one-line errors (bad DATABASE_URL, huge ids, `-o` naming a folder)."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest

from core import repository, service
from core.cli import main as cli_main
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import QueueFull
from core.recovery import start_of_process, sweep_orphans
from core.schema import AnalysisParams, Status
from core.storage import store_existing
from tests.conftest import make_settings
from tests.stored_results import store_incident


def _age(path, seconds: float = 3600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_the_sweep_removes_leftovers_and_nothing_alive(settings, clips):
    kept_run = service.register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    orphan = store_existing(clips["burst"], settings)  # renamed into place, then the process died
    fresh_orphan = store_existing(clips["collision"], settings)  # being stored right now
    uploads = settings.uploads_dir
    dead_part, live_part = uploads / ".upload-dead.part", uploads / ".upload-live.part"
    dead_part.write_bytes(b"x" * 1000)
    live_part.write_bytes(b"x" * 1000)
    orphan_derived = settings.storage_dir / "derived" / "0123abcd"
    orphan_derived.mkdir(parents=True)
    for path in (uploads / orphan.stored_name, dead_part, live_part, orphan_derived):
        _age(path)
    with open(live_part, "rb") as writer:  # a live process holds its part's lock
        fcntl.flock(writer, fcntl.LOCK_EX)
        removed = sweep_orphans(settings)
    assert sorted(removed) == sorted([orphan.stored_name, dead_part.name, "derived/0123abcd"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        kept_name = repository.get_incident(session, kept_run).stored_name
    assert {p.name for p in uploads.iterdir()} == {kept_name, fresh_orphan.stored_name, live_part.name}


def test_a_store_killed_before_its_row_is_swept_at_the_next_start(settings, clips):
    """Killed between the rename and the row: a video no row points to, gone at the next start."""
    leftover = store_existing(clips["calm"], settings)  # stored; the process died before the insert
    _age(settings.uploads_dir / leftover.stored_name)
    start_of_process(settings)
    assert not any(settings.uploads_dir.iterdir())


def test_admission_happens_before_storing_even_when_callers_race(tmp_path, clips):
    """Eight uploads at once with room for three: three stored and QUEUED, five refused, leaving
    neither a file nor a row (the count and the insert are serialised)."""
    settings = make_settings(tmp_path, max_queued_jobs=2, max_concurrent_jobs=1)
    get_engine(settings.resolved_database_url)
    params = AnalysisParams.from_settings(settings)
    outcomes: list[object] = []
    start = threading.Barrier(8)

    def upload() -> None:
        start.wait()
        try:
            outcomes.append(service.register_video(clips["calm"], settings, params, admit=True))
        except QueueFull as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    admitted = [o for o in outcomes if isinstance(o, int)]
    assert len(admitted) == 3 and len(outcomes) == 8
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert repository.count_by_status(session) == {Status.QUEUED: 3}
    assert len([p for p in settings.uploads_dir.iterdir() if not p.name.startswith(".")]) == 3


def _run(capfd, args: list[str]) -> tuple[int, list[str]]:
    get_settings.cache_clear()
    try:
        code = cli_main(args)
    finally:
        get_settings.cache_clear()
    return code, [line for line in capfd.readouterr().err.splitlines() if line.strip()]


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    "url, says",
    [
        ("not-a-url", "DATABASE_URL is not usable (not-a-url)"),
        ("postgresql+psycopg://sigma:hunter22@127.0.0.1:1/sigma", "cannot use the database at"),
        ("postgresql://u@127.0.0.1:1/x?password=hunter22", "cannot use the database at"),
        ("nosuchdb://u:hunter22@host/x", "DATABASE_URL is not usable"),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(shell, capfd, url, says):
    shell.setenv("DATABASE_URL", url)
    code, lines = _run(capfd, ["list"])
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {says}") and "hunter22" not in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["show", "99999999999999999999"],
        ["show", "0"],
        ["export", "99999999999999999999"],
        ["report", "99999999999999999999"],
        ["search", "crash", "--incident", "99999999999999999999"],
    ],
)
def test_huge_ids_are_no_incident(shell, capfd, args):
    code, lines = _run(capfd, args)
    assert code == 2 and lines == [f"error: no incident {args[1] if args[0] != 'search' else args[-1]}"]


def test_the_incident_page_says_not_found_for_a_huge_id(tmp_path, monkeypatch):
    from tests.app_harness import configured_app, new_app, problems

    settings = configured_app(tmp_path, monkeypatch)
    next(settings)
    try:
        at = new_app("incident", incident_id=99999999999999999999)
        assert not at.exception and not problems(at)
        assert any("99999999999999999999" in w.value for w in at.warning)
    finally:
        next(settings, None)


def test_export_and_report_into_a_folder(shell, capfd, tmp_path, clips):
    settings = get_settings.__wrapped__()
    incident_id = store_incident(
        settings, clips["calm"], name="junction.mp4", windows=[(0, 1.5, "calm")], events=[]
    )
    folder = tmp_path / "out"
    folder.mkdir()
    assert _run(capfd, ["export", str(incident_id), "--format", "csv", "-o", str(folder)])[0] == 0
    assert _run(capfd, ["report", str(incident_id), "-o", str(folder)])[0] == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"sigma-{incident_id}-junction-en.docx", f"sigma-{incident_id}-junction.csv"]
    assert not list(tmp_path.glob(".*.partial")) and not list(folder.glob(".*"))
    code, lines = _run(capfd, ["export", str(incident_id), "-o", "/proc/sigma-export.json"])
    assert (
        code == 2 and len(lines) == 1 and lines[0].startswith("error: cannot write /proc/sigma-export.json")
    )
