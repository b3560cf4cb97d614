"""Process-wide resources the pages share: settings, the database, the job dispatch.

Settings come from `core.config.get_settings()` (environment and `.env`); the database is the one
`core.db.database` keeps per URL (migrated on first use); analyses are dispatched with `core.jobs.submit`,
which under JOB_BACKEND=thread runs them in the process-wide runner of `core.jobs` (one pool per
database and storage dir, the role an `st.cache_resource` would play) and under JOB_BACKEND=queue
enqueues them for the workers. Recovery and retention start with the server (server.py's lifespan),
not here. The pages never hold Python objects shared with the job threads: status and progress are
read from the database.
"""

from __future__ import annotations

from core import jobs
from core.config import Settings, get_settings
from core.db import Database, database


def settings() -> Settings:
    return get_settings()


def db() -> Database:
    return database(settings())


def submit_analysis(incident_id: int) -> None:
    """Start (or queue) the analysis of a SAVED incident; raises `QueueFull` with a clear message."""
    jobs.submit(incident_id, settings())
