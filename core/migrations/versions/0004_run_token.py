"""run ownership: a token per run

`incidents.run_token` is set when a run claims its incident (SAVED/QUEUED → PROCESSING); every later
write of that run (progress, heartbeat, log rows, windows, the result) is conditional on the
incident still being PROCESSING with this token, so a run that was paused past HEARTBEAT_STALE_SEC
and recovered as interrupted can never turn its incident DONE afterwards. A plain added column (no
table rebuild): migration 0002's SQLite triggers stay in place.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("run_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE incidents DROP COLUMN run_token")  # no batch rebuild (see 0003)
