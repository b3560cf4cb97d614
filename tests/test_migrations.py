"""Alembic migrations: the same revisions build the schema on SQLite and PostgreSQL, the result
matches the ORM models exactly, and every revision can be undone and redone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core.db import _MIGRATIONS_DIR, get_engine, include_in_autogenerate, run_migrations
from core.models import Base

TABLES = {"incidents", "timelines", "events", "logs"}


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
    assert TABLES <= set(inspect(engine).get_table_names())
    assert _revision(engine) == ScriptDirectory(str(_MIGRATIONS_DIR)).get_current_head()
    assert _differences(engine) == []


def test_every_revision_downgrades_and_upgrades_again(db_settings):
    engine = get_engine(db_settings.resolved_database_url)
    run_migrations(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    assert _revision(engine) is None
    run_migrations(engine, "upgrade", "head")
    assert TABLES <= set(inspect(engine).get_table_names())
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
            assert TABLES <= set(inspect(connection).get_table_names())
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
            assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        for engine in engines:
            engine.dispose()
