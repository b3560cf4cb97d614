"""event track path: where the tracked objects of an event went, for drawing on its keyframe

`events.track_path` (JSON list of {track_id, t, x, y}, centres normalised to the frame) and
`events.peak_time` (the time of the frame the event's box was measured at) are set by the local
engine; other events leave them empty. A column is added (never a
table rebuild), so migration 0002's SQLite triggers stay in place.

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("track_path", sa.JSON(), nullable=True))
    op.add_column("events", sa.Column("peak_time", sa.Float(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild would drop 0002's triggers
    op.execute("ALTER TABLE events DROP COLUMN peak_time")
    op.execute("ALTER TABLE events DROP COLUMN track_path")
