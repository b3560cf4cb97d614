"""Shared fixtures: settings on a fresh storage dir, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.config import Settings
from core.db import dispose_engines
from core.samples import ScriptedEvent, make_clip

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_collection_modifyitems(items):
    """Schemathesis names each operation's test `test[GET /path]` but gives them all one node id, which
    pytest-xdist's per-file scheduling (`--dist loadfile`) takes for one test: it would run one
    operation of fifteen. The operation goes into the id."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and item._id.params is None:  # pytest 9's NodeId (pinned in requirements-dev.txt)
            item._id = item._id.with_params(label)


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides) -> Settings:
    """Settings that ignore the developer's .env and environment: tests say what they use."""
    values = {
        "storage_dir": tmp_path / "data",
        "engine": "local",
        "llm_base_url": None,
        "database_url": database_url,
        "analysis_language": "en",
        "prepare_evidence": False,  # the suite's many analyses would each cut clips; its own tests turn it on
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def postgres_schema_url():
    """A URL whose connections live in a fresh PostgreSQL schema, dropped afterwards."""
    with throwaway_schema() as url:
        yield url


@contextmanager
def throwaway_schema():
    """A fresh PostgreSQL schema for as long as the block runs (also for module-wide fixtures)."""
    schema = f"sigma_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:  # pragma: no cover - only when PostgreSQL is down
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path):
    """Settings on SQLite in a fresh storage dir, local engine."""
    yield make_settings(tmp_path)
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(request, tmp_path):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_schema_url")
        yield make_settings(tmp_path, url)
    else:
        yield make_settings(tmp_path)
    dispose_engines()


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Small generated clips with known events, made once per test session."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "collision": make_clip(
            folder / "collision.mp4", seconds=8, events=[ScriptedEvent(4.0, 5.0, "collision")]
        ),
        "calm": make_clip(folder / "calm.mp4", seconds=8),
        "burst": make_clip(folder / "burst.mp4", seconds=8, events=[ScriptedEvent(2.0, 2.5, "burst")]),
    }
