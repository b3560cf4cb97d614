"""full-text search over the storyboard and the events

SQLite: FTS5 tables over `timelines` and `events` (external content, unicode61 tokenizer that folds
case and diacritics), kept in step by triggers, so no code that writes results has to remember them.
PostgreSQL: a stored generated column `search_vector = to_tsvector('simple', ...)` on each table with
a GIN index; the database computes it on every insert and update. (Stored, not an expression index:
ranking and the index recheck then read the vector instead of re-parsing every matched description,
which measured 2-3x faster on 10,000 windows.) The 'simple' configuration does no stemming in either
language; core.search applies the same light Russian/English stemming to queries on both databases,
so results do not depend on which database is in use. Everything is created in the current schema
(PostgreSQL `search_path`). The ORM does not map `search_vector`: Alembic autogenerate would offer
to drop it and the FTS5 tables, and must be told to leave them alone.

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

# (table, the text its search vector is made of); core.search queries the `search_vector` column.
_POSTGRES_VECTORS = (
    ("timelines", "description"),
    ("events", "event_type || ' ' || description || ' ' || coalesce(review_note, '')"),
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
    for table, source in _POSTGRES_VECTORS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_vector tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('simple', {source})) STORED"
        )
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_search ON {table} USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts, table, _columns in _SQLITE_INDEXES:
            for action in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{action}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        return
    for table, _source in _POSTGRES_VECTORS:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
