"""The layers keep to their places: one database handle per process, services over it, and the UI and
the API reading views, never ORM rows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db import database, get_engine
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent


def test_one_database_handle_per_url_shared_by_every_caller(db_settings, tmp_path):
    handle = database(db_settings)
    same_url = make_settings(tmp_path / "other", db_settings.resolved_database_url)
    assert database(same_url) is handle, "settings with the same URL share the handle"
    assert get_engine(db_settings.resolved_database_url) is handle.engine
    with handle.session() as session:
        session.execute(text("CREATE TABLE scratch (n INTEGER)"))
    with pytest.raises(RuntimeError), handle.session() as session:
        session.execute(text("INSERT INTO scratch VALUES (1)"))
        raise RuntimeError("a failure half-way")
    with handle.session() as session:
        session.execute(text("INSERT INTO scratch VALUES (2)"))
    with handle.session() as session:
        assert session.execute(text("SELECT n FROM scratch")).scalars().all() == [2], (
            "a failed block leaves nothing, a finished one commits"
        )


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (imports inside functions count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _offenders(files: list[Path], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> dict:
    found = {}
    for path in files:
        bad = sorted(m for m in _imports(path) if _within(m, forbidden) and not _within(m, allowed))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


UI_AND_API = [
    *sorted((ROOT / "dashboard").rglob("*.py")),
    *sorted((ROOT / "app_pages").rglob("*.py")),
    *sorted((ROOT / "api").rglob("*.py")),
    ROOT / "streamlit_app.py",
    ROOT / "server.py",
]


def test_the_dashboard_and_the_api_read_views_from_the_services_never_rows():
    assert len(UI_AND_API) > 20
    # sqlalchemy.exc only to word a failed database for a person (dashboard/feedback.py)
    assert _offenders(UI_AND_API, ("core.models", "core.repository", "sqlalchemy"), ("sqlalchemy.exc",)) == {}


def test_core_never_imports_a_ui_or_web_framework():
    files = sorted((ROOT / "core").rglob("*.py"))
    assert len(files) > 30
    assert _offenders(files, ("streamlit", "fastapi", "starlette", "dashboard", "api")) == {}


def test_the_cli_reviews_an_event_through_the_service_the_api_and_the_dashboard_use(
    settings, clips, monkeypatch, capsys
):
    from core import service
    from core.cli import main as cli_main
    from core.config import get_settings
    from core.evidence.audit import trail_of
    from core.schema import Event
    from tests.stored_results import store_incident

    incident_id = store_incident(
        settings, clips["calm"], name="junction.mp4", windows=[(0.0, 2.0, "cars")],
        events=[
            Event(event_type="COLLISION", start_time=1.0, end_time=2.0, confidence=0.9, description="two cars"),
            Event(event_type="FALL", start_time=4.0, end_time=4.5, confidence=0.5, description="a person"),
        ],
    )  # fmt: skip
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert (
            cli_main(
                ["review", str(incident_id), "--event", "2", "--verdict", "dismissed", "--note", "a shadow"]
            )
            == 0
        )
        assert cli_main(["review", str(incident_id), "--event", "2", "--verdict", "confirmed"]) == 0
        capsys.readouterr()
        assert cli_main(["review", str(incident_id), "--event", "3", "--verdict", "confirmed"]) == 2
        assert "has no event 3 (it has 2)" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    fall = service.incident_events(incident_id, settings)[1]
    assert (fall.event_type, fall.review_status, fall.review_note) == ("FALL", "confirmed", "a shadow")
    assert fall.reviewed_by.startswith("cli:")
    reviews = [e for e in trail_of(settings, incident_id) if e.action in ("review", "note")]
    assert [(e.action, e.details) for e in reviews] == [
        ("review", {"verdict": "dismissed", "was": None}),
        ("note", {"note": "a shadow", "was": None}),
        ("review", {"verdict": "confirmed", "was": "dismissed"}),
    ]
    assert {e.actor for e in reviews} == {fall.reviewed_by} and {e.via for e in reviews} == {"cli"}


def test_the_cli_deletes_through_the_service_refused_while_on_hold(settings, clips, monkeypatch, capsys):
    from core import service
    from core.access import SYSTEM
    from core.cli import main as cli_main
    from core.config import get_settings
    from core.evidence.audit import trail_of
    from tests.stored_results import store_incident

    incident_id = store_incident(
        settings, clips["calm"], name="gate.mp4", windows=[(0.0, 1.0, "calm")], events=[]
    )
    service.set_hold(incident_id, "case 7", settings, actor=SYSTEM)
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli_main(["delete", str(incident_id)]) == 2
        assert "on legal hold" in capsys.readouterr().err
        service.lift_hold(incident_id, settings, actor=SYSTEM)
        assert cli_main(["delete", str(incident_id), "--reason", "wrong camera"]) == 0
        assert capsys.readouterr().out.strip() == f"incident {incident_id}: deleted"
        assert cli_main(["delete", str(incident_id)]) == 2
        assert f"no incident {incident_id}" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert service.incident_list(settings).total == 0 and not any(settings.uploads_dir.iterdir())
    [deleted] = [e for e in trail_of(settings, incident_id) if e.action == "delete"]
    assert deleted.via == "cli" and deleted.details["reason"] == "wrong camera"
