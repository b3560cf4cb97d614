"""Alembic migrations: the same revisions build the schema on SQLite and PostgreSQL, the result
matches the ORM models exactly, and every revision can be undone and redone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core.db import _MIGRATIONS_DIR, get_engine, include_in_autogenerate, run_migrations
from core.models import Base

TABLES = {"incidents", "timelines", "events", "logs"}
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_in_autogenerate, "compare_type": True}
        )
        return compare_metadata(context, Base.metadata)


def _revision(engine) -> str:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_builds_the_models_schema(db_settings):
    engine = get_engine(db_settings.resolved_database_url)  # what the app and the CLI do at start
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _revision(engine) == ScriptDirectory(str(_MIGRATIONS_DIR)).get_current_head()
    assert _differences(engine) == []


def test_every_revision_downgrades_and_upgrades_again(db_settings):
    engine = get_engine(db_settings.resolved_database_url)
    run_migrations(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    assert _revision(engine) is None
    run_migrations(engine, "upgrade", "head")
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _differences(engine) == []


def test_revisions_form_one_line():
    script = ScriptDirectory(str(_MIGRATIONS_DIR))
    assert len(script.get_heads()) == 1, (
        "two migrations claim the same parent: give one a later down_revision"
    )
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001" and revisions[-1].down_revision is None


def test_processes_starting_together_migrate_once(postgres_schema_url):
    """The app and workers may start at the same moment on one PostgreSQL: one migrates, the others wait."""
    from concurrent.futures import ThreadPoolExecutor

    from core.db import create_db_engine, migrate

    engines = [create_db_engine(postgres_schema_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(migrate, engines))
        with engines[0].connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
    finally:
        for engine in engines:
            engine.dispose()


def test_threads_of_one_process_migrate_different_databases_at_once(tmp_path):
    """Alembic's `op` and `context` are process-wide: migrations in threads (the dashboard, a job, a
    test) must not interleave."""
    from concurrent.futures import ThreadPoolExecutor

    from core.db import create_db_engine, migrate

    engines = [create_db_engine(f"sqlite:///{tmp_path / f'db{i}.db'}") for i in range(6)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(migrate, engines))
        for engine in engines:
            assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        for engine in engines:
            engine.dispose()


def _alembic(*args: str, database: Path) -> subprocess.CompletedProcess:
    """`alembic ...` as a developer types it in the repository root, on the database DATABASE_URL names."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "STORAGE_DIR": str(database.parent)}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=REPOSITORY_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_alembic_from_the_repository_root(tmp_path):
    """alembic.ini and env.py: `alembic upgrade head` builds the schema on the settings' database,
    and autogenerate finds no difference between it and the models (so writes no migration); once
    the database lacks something the models have, `alembic check` says so."""
    database = tmp_path / "sigma.db"
    versions = sorted(p.name for p in (_MIGRATIONS_DIR / "versions").glob("*.py"))
    upgraded = _alembic("upgrade", "head", database=database)
    assert upgraded.returncode == 0, upgraded.stderr
    head = ScriptDirectory(str(_MIGRATIONS_DIR)).get_current_head()
    assert f"{head} (head)" in _alembic("current", database=database).stdout
    checked = _alembic("check", database=database)
    assert checked.returncode == 0 and "No new upgrade operations detected" in checked.stdout, checked.stderr
    generated = _alembic("revision", "--autogenerate", "-m", "nothing to change", database=database)
    assert generated.returncode == 0 and "no migration written" in generated.stdout, generated.stderr
    assert sorted(p.name for p in (_MIGRATIONS_DIR / "versions").glob("*.py")) == versions

    with sqlite3.connect(database) as connection:
        connection.execute("DROP INDEX ix_events_event_type")
    drifted = _alembic("check", database=database)
    assert drifted.returncode != 0 and "ix_events_event_type" in drifted.stderr
