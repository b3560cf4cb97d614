"""event details: severity, box and tracks per event; skipped windows

`events.severity` (0 note, 1 concern, 2 danger), `events.box` (normalised x, y, w, h at the event's
peak frame, JSON) and `events.track_ids` (JSON list) are set by engines that can tell; a window the
VLM engine did not send because nothing in it changed is kept with `timelines.skipped` true.
Columns are added (never a table rebuild), so migration 0002's SQLite triggers stay in place.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("severity", sa.Integer(), nullable=True))
    op.add_column("events", sa.Column("box", sa.JSON(), nullable=True))
    op.add_column("events", sa.Column("track_ids", sa.JSON(), nullable=True))
    op.add_column("timelines", sa.Column("skipped", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild would drop 0002's triggers
    for table, column in (
        ("timelines", "skipped"),
        ("events", "track_ids"),
        ("events", "box"),
        ("events", "severity"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
