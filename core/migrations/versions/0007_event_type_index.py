"""an index on events.event_type

Search asks whether a query names one of the analysts' own event types (a concern such as
NO_GLOVES, which only stored events know) with one lookup of the codes its words could spell; the
index keeps that lookup from reading every event row.

Revision ID: 0007
Revises: 0003
"""

from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_event_type", "events", ["event_type"])


def downgrade() -> None:
    op.drop_index("ix_events_event_type", table_name="events")
