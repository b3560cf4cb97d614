"""log words: a log line kept as a catalogue key and its values, worded in its reader's language

`logs.words` (JSON `{"key": ..., "values": {...}}`, see `core.i18n.Message`) lets the dashboard and
the report show the whole processing log in the viewer's language; `message` keeps the English text
for the CLI, the API and the case package. Rows written before have no words and show their text as
it was written. A column is added (never a table rebuild), so migration 0002's SQLite triggers stay.

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("logs", sa.Column("words", sa.JSON(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild would drop 0002's triggers
    op.execute("ALTER TABLE logs DROP COLUMN words")
