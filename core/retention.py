"""RETENTION_DAYS: videos whose every run is older than this are deleted with their files and rows.

Off by default (unset, 0 or "off"). A video is kept while any of its runs is recent, still active or
on legal hold, so re-analysing an old video keeps it, and its older runs, for another RETENTION_DAYS.
Each deletion is in the audit trail (by "system", with the setting as its reason); the trail itself
is never deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core import repository, service
from core.access import SYSTEM
from core.config import Settings
from core.db import database
from core.errors import OnHold
from core.models import utcnow

logger = logging.getLogger(__name__)


def purge_expired(settings: Settings) -> list[int]:
    """Delete expired videos (first run, its re-runs, their rows and files); returns the first runs' ids."""
    if not settings.retention_days:
        return []
    cutoff = utcnow() - timedelta(days=settings.retention_days)
    with database(settings).session() as session:
        expired = repository.expired_videos(session, cutoff=cutoff)
    reason = f"RETENTION_DAYS={settings.retention_days}"
    for incident_id in list(expired):
        try:
            service.delete(incident_id, settings, actor=SYSTEM, reason=reason)
        except OnHold:  # put on hold since the query above: kept
            expired.remove(incident_id)
    if expired:
        logger.info(
            "retention: deleted %d video(s) older than %d days", len(expired), settings.retention_days
        )
    return expired
