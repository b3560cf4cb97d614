"""What the pages read, as views from core.service (never ORM rows), shaped for display. Reads only:
writes go through core.service too.

Windows of a finished run never change, so they are cached per (incident, finish time); events are
read fresh on every run of the page because reviews change them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import service
from core.errors import NotFound
from core.schema import Event, Status
from core.views import IncidentRecord, LogLine, ReviewProgress
from dashboard.resources import settings


def load_incident(incident_id: int) -> IncidentRecord | None:
    try:
        return service.incident_record(incident_id, settings())
    except NotFound:
        return None


def load_runs(incident: IncidentRecord) -> list[IncidentRecord]:
    return service.incident_runs(incident.id, settings())


def load_events(incident_id: int) -> list[Event]:
    return service.incident_events(incident_id, settings())


def load_logs(incident_id: int) -> list[LogLine]:
    return service.incident_logs(incident_id, settings())


def queue_position(incident_id: int) -> int | None:
    return service.queue_position(incident_id, settings())


@st.cache_data(show_spinner=False, max_entries=16)
def load_windows(incident_id: int, finished_marker: str) -> pd.DataFrame:
    """The analysed windows of a finished run as columns (start, end, score, pass_no, failed, skipped,
    description).

    `finished_marker` (the run's finish time) keys the cache, so a run that is redone is read again."""
    windows = service.incident_windows(incident_id, settings())
    columns = [
        "window_index",
        "start_time",
        "end_time",
        "description",
        "score",
        "pass_no",
        "failed",
        "skipped",
    ]
    return pd.DataFrame([[getattr(w, c) for c in columns] for w in windows], columns=columns)


def list_incidents() -> tuple[list[IncidentRecord], dict[int, ReviewProgress]]:
    """All incidents, newest first, and their events' review progress and top score."""
    return service.incident_records(settings())


def is_active(incident: IncidentRecord) -> bool:
    return incident.status in (Status.SAVED, Status.QUEUED, Status.PROCESSING)
