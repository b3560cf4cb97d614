"""evidence: ids never reused, an append-only audit trail, legal hold, case fields, reviewers

- Incident and event ids are never given out twice. PostgreSQL's sequences already never go back;
  SQLite reuses the highest id after it is deleted unless the table is declared AUTOINCREMENT, which
  takes a table rebuild (Alembic's batch mode: copy, drop, rename; foreign keys are off while SQLite
  migrates, see core.db, so dropping the old `incidents` deletes no events, windows or logs by
  cascade). SQLite then starts counting after the highest id present: ids deleted before this
  migration cannot be known and may be given out once more; from here on they never are.
  Rebuilding `events` drops migration 0002's FTS5 triggers with the old table: they are created again.
- `audit`: when, who (name, role, how they signed in), action, incident (and the first run of its
  video, which groups the trail of all runs), target, details. No foreign key: the trail outlives
  what it describes. Triggers make the database refuse UPDATE and DELETE
  (and TRUNCATE on PostgreSQL), so not even a bug in Sigma can rewrite it.
- `incidents`: case number, investigator, case note; hold reason, by whom, since when.
- `events`: who reviewed, and the event of an earlier run a verdict was carried over from.

Revision ID: 0005
Revises: 0006
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("incidents", sa.Column("case_number", sa.String(100), nullable=True)),
    ("incidents", sa.Column("investigator", sa.String(200), nullable=True)),
    ("incidents", sa.Column("case_note", sa.Text(), nullable=True)),
    ("incidents", sa.Column("hold_reason", sa.Text(), nullable=True)),
    ("incidents", sa.Column("held_by", sa.String(200), nullable=True)),
    ("incidents", sa.Column("held_at", sa.DateTime(timezone=True), nullable=True)),
    ("events", sa.Column("reviewed_by", sa.String(200), nullable=True)),
    ("events", sa.Column("review_carried_from", sa.Integer(), nullable=True)),
)
_NEVER_REUSED = ("incidents", "events")
_APPEND_ONLY = "the audit trail is append-only: its rows cannot be changed or deleted"


def _search_migration():
    """Migration 0002's module (its file name starts with a digit, so it is loaded by path)."""
    path = next(Path(__file__).parent.glob("0002_*.py"))
    spec = importlib.util.spec_from_file_location("sigma_migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rebuild_sqlite(table_name: str, *, autoincrement: bool) -> None:
    """Recreate `table_name` on SQLite as it is now (reflected: whatever columns other migrations
    added), with or without AUTOINCREMENT. `core.db.run_migrations` turns foreign keys off while
    migrating, so dropping the old table cascades into nothing; the rows keep their ids."""
    with op.batch_alter_table(
        table_name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def _create_audit() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_action", "audit", ["action"])
    op.create_index("ix_audit_incident_id", "audit", ["incident_id"])
    op.create_index("ix_audit_first_run_id", "audit", ["first_run_id"])
    if op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_no_{operation.lower()} BEFORE {operation} ON audit "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
    )


def upgrade() -> None:
    for table, column in _NEW_COLUMNS:
        op.add_column(table, column)  # plain ADD COLUMN on both databases (no rebuild)
    if op.get_bind().dialect.name == "sqlite":
        for table in _NEVER_REUSED:
            _rebuild_sqlite(table, autoincrement=True)
        _search_migration()._create_sqlite()  # the events triggers went with the old table
    _create_audit()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit")
        op.execute("DROP TRIGGER IF EXISTS audit_no_change ON audit")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    op.drop_table("audit")
    for table, column in reversed(_NEW_COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
    if sqlite:
        for table in _NEVER_REUSED:
            _rebuild_sqlite(table, autoincrement=False)
        _search_migration()._create_sqlite()
