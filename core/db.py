"""Database engine and sessions. `DATABASE_URL` alone picks SQLite (WAL, busy timeout) or PostgreSQL.

One `Database` (engine and session factory) per process and URL, made by `database(settings)` on first
use, when the schema is brought to the newest Alembic revision; every reader and writer opens its
sessions from it (`database(settings).session()`).
Migrations run one at a time across processes (a PostgreSQL advisory lock, or a lock file beside
the SQLite database) and each upgrade is one transaction, so processes starting together on a new
database never race and a crash half-way leaves the schema as it was. Time that decides whether a
run is alive (`db_now`) is the database's, never the clock of whichever machine writes.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, DateTime, Engine, create_engine, event, exc, func, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from core.config import Settings, mask_url
from core.errors import DatabaseUnavailable

_MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x5167_6D61  # "Sigma"
_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()
_migration_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def create_db_engine(url: str) -> Engine:
    """A new engine for `url`, with SQLite made safe for several threads and processes."""
    if url.startswith("sqlite"):
        if (path := _sqlite_file(url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _transactional_sqlite_engine(url: str) -> Engine:
    """An engine whose transactions really hold DDL: Python's sqlite3 module commits before
    `CREATE TABLE` on its own, so it is told to stay out (`isolation_level=None`) and every
    transaction starts with `BEGIN IMMEDIATE` (the write lock at once). SQLAlchemy's recipe for
    SQLite's transactional DDL."""
    engine = create_db_engine(url)

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        # Foreign keys off while migrating (this engine is disposed afterwards): Alembic's batch mode
        # rebuilds a table by copying it and dropping the old one, and with them enforced dropping
        # `incidents` would first delete, by cascade, every event, window and log row. Whether the
        # migration left every reference intact is checked before it commits.
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def _sqlite_migration_lock(url: str) -> Iterator[None]:
    """Across processes: one migrates a SQLite database at a time (a lock on `<db>.migrate.lock`,
    released by the kernel if the process dies)."""
    path = _sqlite_file(url)
    if path is None:
        yield
        return
    with open(path.with_name(f"{path.name}.migrate.lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate `engine`'s database on, inside one transaction that holds the
    migration lock: Alembic's `op` and `context` are process-wide, so one migration runs at a time
    in a process; across processes (the app, workers and an `alembic` command starting together) a
    PostgreSQL advisory lock lets one migrate while the others wait, on SQLite a lock file does. The
    whole upgrade is one transaction (on SQLite too): a process killed half-way leaves the schema as
    it found it. `run_migrations` and `alembic` run from a shell (core/migrations/env.py) both use it."""
    url = engine.url.render_as_string(hide_password=False)
    sqlite = engine.dialect.name == "sqlite"
    with _migration_lock, _sqlite_migration_lock(url) if sqlite else nullcontext():
        migrating = _transactional_sqlite_engine(url) if sqlite and _sqlite_file(url) else engine
        try:
            with migrating.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                yield connection
                # a SQLite table rebuilt by a migration must not leave references dangling
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")
        finally:
            if migrating is not engine:
                migrating.dispose()


def run_migrations(engine: Engine, direction: str = "upgrade", revision: str = "head") -> None:
    """Run Alembic `upgrade` or `downgrade` to `revision` on `engine` (the same migrations on SQLite
    and PostgreSQL), holding the migration lock (see `migration_connection`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    run_migrations(engine, "upgrade", "head")


class Database:
    """The process's handle on one database: its migrated engine and one session factory, shared by
    every thread (sessions themselves are short and never shared)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on success and rolls back on any error (see `_transaction`)."""
        return _transaction(self._sessions)


def database(settings: Settings) -> Database:
    """The process-wide database of `settings` (DATABASE_URL, else SQLite in the storage dir)."""
    return open_database(settings.resolved_database_url)


def open_database(url: str) -> Database:
    """The process-wide database for `url`, migrated on first use. A malformed URL, an unreachable
    database or a failed migration raises `DatabaseUnavailable` with one line (password masked)."""
    with _databases_lock:
        found = _databases.get(url)
        if found is None:
            found = _databases[url] = Database(_open_and_migrate(url))
        return found


def get_engine(url: str) -> Engine:
    """The engine of the process-wide database for `url` (see `open_database`)."""
    return open_database(url).engine


def _open_and_migrate(url: str) -> Engine:
    from alembic.util import CommandError

    try:
        engine = create_db_engine(url)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError, ValueError) as error:
        raise DatabaseUnavailable(
            f"DATABASE_URL is not usable ({mask_url(url)}): {_first_line(error)}"
        ) from None
    except OSError as error:
        raise DatabaseUnavailable(f"the database folder cannot be made ({mask_url(url)}): {error}") from None
    try:
        migrate(engine)
    except (exc.SQLAlchemyError, CommandError, OSError) as error:
        engine.dispose()
        reason = _first_line(getattr(error, "orig", None) or error)
        raise DatabaseUnavailable(f"cannot use the database at {mask_url(url)}: {reason}") from None
    return engine


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def db_now(session: Session, offset: timedelta = timedelta(0)) -> ColumnElement:
    """The database's current time (UTC), shifted by `offset`, as an SQL expression: heartbeats and
    staleness compare times from one clock, whichever machine writes. On SQLite it is written in
    SQLAlchemy's own text format (microseconds), so it sorts and reads like every other timestamp."""
    if session.get_bind().dialect.name == "sqlite":
        shift = f"{offset.total_seconds():+.6f} seconds"
        return func.strftime("%Y-%m-%d %H:%M:%f000", "now", shift, type_=DateTime(timezone=True))
    return func.now() + offset if offset else func.now()


def dispose_engines() -> None:
    with _databases_lock:
        for found in _databases.values():
            found.engine.dispose()
        _databases.clear()


def session_scope(engine: Engine) -> AbstractContextManager[Session]:
    """A transaction on any engine (one made by `create_db_engine` in a test or a migration script);
    the app's code opens its sessions with `database(settings).session()`."""
    return _transaction(sessionmaker(engine, expire_on_commit=False))


@contextmanager
def _transaction(sessions: sessionmaker) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: no half-written rows."""
    session = sessions()
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
