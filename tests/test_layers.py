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
