"""Alembic environment: runs on the connection `core.db.migrate` hands over."""

from alembic import context

from core.db import include_in_autogenerate
from core.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_in_autogenerate,
)
with context.begin_transaction():
    context.run_migrations()
