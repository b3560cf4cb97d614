"""Database engine and sessions. `DATABASE_URL` alone picks SQLite (WAL, busy timeout) or PostgreSQL.

One engine per process and URL; the schema is brought to the newest Alembic revision on start.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x5167_6D61  # "Sigma"
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_migration_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """A new engine for `url`, with SQLite made safe for several threads and processes."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def run_migrations(engine: Engine, direction: str = "upgrade", revision: str = "head") -> None:
    """Run Alembic `upgrade` or `downgrade` to `revision` on `engine` (the same migrations on SQLite
    and PostgreSQL). Alembic's `op` and `context` are process-wide, so one migration runs at a time
    in a process; across processes (the app and workers starting together) a PostgreSQL advisory
    lock lets one migrate while the others wait."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    with _migration_lock, engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                getattr(command, direction)(config, revision)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:
    """Foreign keys off while SQLite migrates: Alembic's batch mode rebuilds a table by copying it and
    dropping the old one, and with foreign keys enforced dropping `incidents` would first delete, by
    cascade, every event, window and log row. The pragma only takes effect outside a transaction."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    run_migrations(engine, "upgrade", "head")


def get_engine(url: str) -> Engine:
    """The process-wide engine for `url`, migrated on first use."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_db_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: no half-written rows."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object`: the full-text search structures of migration 0002 (FTS5 tables,
    `search_vector` columns and their GIN indexes) are raw SQL with no ORM model, so a comparison of
    models and database must leave them alone."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return not (name.endswith("_fts") or "_fts_" in name)
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return not (name or "").endswith("_search")
    return True
