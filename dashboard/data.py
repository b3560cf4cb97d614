"""What the pages read from the database, shaped for display. Reads only: writes go through core.

Windows of a finished run never change, so they are cached per (incident, finish time); events are
read fresh on every run of the page because reviews change them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core import repository
from core.models import Incident
from core.schema import Event, Status
from dashboard.resources import session


@dataclass(frozen=True)
class LogLine:
    step: str
    level: str
    message: str
    model_version: str | None
    prompt_version: str | None
    started_at: object
    finished_at: object
    words: dict | None = None  # the line as a catalogue message (core.i18n), worded for the viewer


def load_incident(incident_id: int) -> Incident | None:
    """The incident row, detached from its session (its columns stay readable)."""
    with session() as opened:
        return repository.get_incident(opened, incident_id)


def load_runs(incident: Incident) -> list[Incident]:
    with session() as opened:
        return repository.runs_of(opened, incident)


def load_events(incident_id: int) -> list[Event]:
    with session() as opened:
        return repository.events_of(opened, incident_id)


def load_logs(incident_id: int) -> list[LogLine]:
    with session() as opened:
        return [
            LogLine(row.step, row.level, row.message, row.model_version, row.prompt_version,
                    row.started_at, row.finished_at, row.words)
            for row in repository.logs_of(opened, incident_id)
        ]  # fmt: skip


def queue_position(incident_id: int) -> int | None:
    with session() as opened:
        return repository.queue_position(opened, incident_id)


@st.cache_data(show_spinner=False, max_entries=16)
def load_windows(incident_id: int, finished_marker: str) -> pd.DataFrame:
    """The analysed windows of a finished run as columns (start, end, score, pass_no, failed, skipped,
    description).

    `finished_marker` (the run's finish time) keys the cache, so a run that is redone is read again."""
    with session() as opened:
        windows = repository.windows_of(opened, incident_id)
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


def list_incidents() -> tuple[list[Incident], dict[int, int]]:
    """All incidents, newest first, and their event counts."""
    with session() as opened:
        incidents = repository.list_incidents(opened)
        counts = repository.event_counts(opened, [incident.id for incident in incidents])
    return incidents, counts


def is_active(incident: Incident) -> bool:
    return incident.status in (Status.SAVED, Status.QUEUED, Status.PROCESSING)
