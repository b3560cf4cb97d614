"""Running the dashboard under Streamlit's AppTest (and as a real server) against a throwaway storage dir.

The app reads its settings from the environment (`core.config.get_settings`), so the tests set the
environment, clear the settings and Streamlit caches, and wait for background analyses before the
storage dir disappears.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.config import Settings, get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.models import EventRow, Incident, LogRow, Timeline
from core.schema import ACTIVE_STATUSES

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "streamlit_app.py"
PAGES = {name: f"app_pages/{name}.py" for name in ("analyse", "incidents", "incident", "about")}


def app_environment(storage_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a dashboard that ignores the developer's `.env` choices that matter here."""
    values = {
        "STORAGE_DIR": str(storage_dir),
        "DATABASE_URL": "",
        "ENGINE": "local",
        "LLM_BASE_URL": "",
        "LLM_API_KEY": "",
        "APP_PASSWORD": "",
        "JOB_BACKEND": "thread",
        "UI_LANGUAGE": "en",
        "ANALYSIS_LANGUAGE": "en",
        "RETENTION_DAYS": "",
        "PREPARE_EVIDENCE": "false",  # the suite's many analyses would each cut clips; its own tests turn it on
    }
    values.update(extra)
    return values


def configured_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Body of the test modules' `app_settings` fixture: the app on a fresh storage dir, then cleanup."""
    for name, value in app_environment(tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    current = get_settings()
    yield current
    wait_until_idle(current)
    st.cache_resource.clear()
    get_settings.cache_clear()
    dispose_engines()


def new_app(page: str | None = None, *, incident_id: int | None = None, timeout: float = 30) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if incident_id is not None:
        at.query_params["id"] = str(incident_id)
    at.run()
    if page:
        at.switch_page(PAGES[page]).run()
    return at


def problems(at: AppTest) -> list[str]:
    """Exceptions and error boxes on the page: a test of a good path expects none."""
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


def db_snapshot(settings: Settings) -> dict:
    """Everything a display filter must not change: row counts, incident timestamps, event reviews."""
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return {
            "counts": [
                session.scalar(select(func.count()).select_from(t))
                for t in (Incident, Timeline, EventRow, LogRow)
            ],
            "incidents": list(
                session.execute(select(Incident.id, Incident.updated_at, Incident.status)).all()
            ),
            "events": list(
                session.execute(select(EventRow.id, EventRow.review_status, EventRow.reviewed_at)).all()
            ),
        }


def incident_status(settings: Settings, incident_id: int) -> str:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return session.get(Incident, incident_id).status


def wait_for_status(
    settings: Settings, incident_id: int, wanted=("DONE", "FAILED"), timeout: float = 60
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = incident_status(settings, incident_id)
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def wait_until_idle(settings: Settings, timeout: float = 60) -> None:
    """Background analyses finished (none SAVED, QUEUED or PROCESSING)."""
    deadline = time.monotonic() + timeout
    active = [s.value for s in ACTIVE_STATUSES]
    while time.monotonic() < deadline:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            if not session.scalar(
                select(func.count()).select_from(Incident).where(Incident.status.in_(active))
            ):
                return
        time.sleep(0.1)
