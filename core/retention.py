"""RETENTION_DAYS: videos whose every run is older than this are deleted with their files and rows.

Off by default (unset, 0 or "off"). A video is kept while any of its runs is recent or still active,
so re-analysing an old video keeps it, and its older runs, for another RETENTION_DAYS.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core import repository, service
from core.config import Settings
from core.db import get_engine, session_scope
from core.models import utcnow

logger = logging.getLogger(__name__)


def purge_expired(settings: Settings) -> list[int]:
    """Delete expired videos (first run, its re-runs, their rows and files); returns the first runs' ids."""
    if not settings.retention_days:
        return []
    cutoff = utcnow() - timedelta(days=settings.retention_days)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        expired = repository.expired_videos(session, cutoff=cutoff)
    for incident_id in expired:
        service.delete(incident_id, settings)
    if expired:
        logger.info(
            "retention: deleted %d video(s) older than %d days", len(expired), settings.retention_days
        )
    return expired
