"""Evidence made as soon as an analysis ends (PREPARE_EVIDENCE, on by default): every event's clip
(CLIP_CUT, CLIP_PRE_ROLL_SEC, CLIP_POST_ROLL_SEC) and its picture, kept beside the video. An exact
clip of 1080p means decoding and encoding seconds of video, and an event's picture decoding from the
keyframe before it; done here, once, while nobody waits, the event panel's clip, the report and the
case package are ready when the investigator asks (bench/RESULTS.md, package).

It runs after DONE is written and never changes the analysis's outcome: what cannot be prepared now
(a file removed meanwhile, ffmpeg failing) is made, or refused with its reason, when it is asked for.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from core import repository
from core.config import Settings
from core.db import database
from core.evidence.clips import event_clips
from core.overlay import event_pictures
from core.storage import remove_video, video_path

logger = logging.getLogger(__name__)


def prepare_evidence(settings: Settings, incident_id: int) -> int:
    """Cut the clips and draw the pictures of the incident's events (those already kept are reused);
    returns how many events. Raises what clip cutting raises (`InvalidInput`, `ClipError`)."""
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        events = repository.events_of(session, incident_id) if incident is not None else []
    if not events:
        return 0
    try:
        with ThreadPoolExecutor(max_workers=1) as drawer:
            drawing = drawer.submit(event_pictures, settings, incident.stored_name, events)
            event_clips(settings, incident_id)  # several ffmpeg processes of its own meanwhile
            drawing.result()
    finally:
        if not video_path(settings, incident.stored_name).is_file():  # deleted meanwhile: leave nothing
            remove_video(settings, incident.stored_name)
    return len(events)


def prepare_quietly(settings: Settings, incident_id: int) -> None:
    """`prepare_evidence` where a failure must not reach the caller (the analysis is already DONE)."""
    try:
        prepare_evidence(settings, incident_id)
    except Exception:
        logger.warning(
            "evidence of incident %s not prepared; it is made when asked for", incident_id, exc_info=True
        )
