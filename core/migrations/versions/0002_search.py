"""full-text search over the storyboard and the events

SQLite: FTS5 tables over `timelines` and `events` (external content, unicode61 tokenizer that folds
case and diacritics), kept in step by triggers, so no code that writes results has to remember them.
PostgreSQL: GIN indexes on `to_tsvector('simple', ...)` expressions, which the database keeps up to
date by itself. The 'simple' configuration does no stemming in either language; core.search applies
the same light Russian/English stemming to queries on both databases, so results do not depend on
which database is in use. Everything is created in the current schema (PostgreSQL `search_path`).

A later migration that rebuilds `timelines` or `events` on SQLite (Alembic batch mode copies and
drops the table) drops these triggers with the old table: it must run `_create_sqlite()` again.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (FTS table, source table, indexed columns, column weights are chosen at query time)
_SQLITE_INDEXES = (
    ("timelines_fts", "timelines", ("description",)),
    ("events_fts", "events", ("event_type", "description", "review_note")),
)

# The expressions here must stay identical to the ones core.search queries with.
_POSTGRES_INDEXES = (
    ("ix_timelines_search", "timelines", "to_tsvector('simple', description)"),
    (
        "ix_events_search",
        "events",
        "to_tsvector('simple', event_type || ' ' || description || ' ' || coalesce(review_note, ''))",
    ),
)


def _create_sqlite() -> None:
    for fts, table, columns in _SQLITE_INDEXES:
        names = ", ".join(columns)
        new_values = ", ".join(f"new.{c}" for c in columns)
        old_values = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({names}, content='{table}', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new_values}); END"
        )
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old_values}); END"
        )
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_update AFTER UPDATE OF id, {names} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old_values}); "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new_values}); END"
        )
        # index what was stored before this migration
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite()
        return
    for index, table, expression in _POSTGRES_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin (({expression}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts, table, _columns in _SQLITE_INDEXES:
            for action in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{action}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        return
    for index, _table, _expression in _POSTGRES_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {index}")
