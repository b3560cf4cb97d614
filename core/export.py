"""Exports of a finished incident from stored results alone (never re-analysed): the seed's JSON
(exactly the seed's keys), a CSV with one row per event (severity included: 0 note, 1 concern,
2 danger, empty when not rated), WebVTT captions with one cue per event for the player, and the full
storyboard (every analysed window) as JSON. Every format is one entry of `EXPORTERS`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Literal, NamedTuple

from sqlalchemy.orm import Session

from core import repository
from core.errors import InvalidInput, NotFound, NotReady
from core.models import Incident
from core.schema import Event, WindowRecord
from core.taxonomy_i18n import severity_label
from core.timefmt import clock
from core.views import IncidentRecord

CSV_COLUMNS = (
    "incident_id",
    "event_type",
    "start_time",
    "end_time",
    "highlight",
    "confidence",
    "severity",
    "description",
    "review_status",
    "review_note",
)
# WebVTT drops a cue that does not end after it starts: an instant event lasts one millisecond.
_INSTANT_CUE_SEC = 0.001
# What each engine's event score is (issue 11, honest words): the local engine measures motion and
# tracked objects, so its score is the measured strength of a rule (0.5 at its threshold), not a
# model's confidence. The CSV's score column and a NOTE after the WebVTT header say so.
SCORE_COLUMN = {"local": "measured_strength"}
VTT_NOTES = {
    "local": (
        "NOTE Sigma local engine: each cue is what measured motion and tracked objects did; no model "
        "looked at the video. A stretch without a cue is not cleared: this engine cannot rule out incidents."
    ),
}


def finished_incident(session: Session, incident_id: int) -> Incident:
    """The incident if its analysis is stored: `NotFound`, or `NotReady` saying why there is nothing yet."""
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.analysis_json is None:
        reason = f": {incident.error}" if incident.error else ""
        raise NotReady(
            f"incident {incident_id} is {incident.status}{reason}; there are no results to export yet"
        )
    return incident


def to_json(incident: Incident) -> str:
    """Exactly what `python -m core analyze --json` printed for this incident."""
    return json.dumps(repository.result_json(incident), ensure_ascii=False, indent=2)


# A cell a spreadsheet would run as a formula (OWASP's "CSV injection"): it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula (a review note such as
    `=HYPERLINK(...)`) gets a leading apostrophe, as spreadsheet tools expect."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_columns(engine: str | None) -> tuple[str, ...]:
    """The CSV header for a run of `engine`: the score column named for what that engine measured."""
    score = SCORE_COLUMN.get(engine or "", "confidence")
    return tuple(score if column == "confidence" else column for column in CSV_COLUMNS)


def to_csv(incident: Incident, events: list[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(incident.engine))
    for event in events:
        writer.writerow(
            neutral_cell(cell)
            for cell in [
                incident.id,
                event.event_type,
                f"{event.start_time:.2f}",
                f"{event.end_time:.2f}",
                event.highlight,
                f"{event.confidence:.2f}",
                "" if event.severity is None else event.severity,
                event.description,
                event.review_status.value if event.review_status else "",
                event.review_note or "",
            ]
        )
    return buffer.getvalue()


def _cue_text(text: str) -> str:
    """One line of cue text: no blank lines or "-->" (they end or break a cue), markup escaped."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(events: list[Event], engine: str | None = None) -> str:
    """WebVTT, one cue per event: "COLLISION [danger] — two cars collide at the junction"; after the
    header, a NOTE saying what the engine that found them measured (players do not show notes)."""
    lines = ["WEBVTT", ""]
    if engine in VTT_NOTES:
        lines += [VTT_NOTES[engine], ""]
    for number, event in enumerate(sorted(events, key=lambda e: (e.start_time, e.end_time)), start=1):
        end = max(event.end_time, event.start_time + _INSTANT_CUE_SEC)  # the cue ends when the event does
        caption = event.event_type + (
            f" [{severity_label(event.severity)}]" if event.severity is not None else ""
        )
        caption += f" — {event.description}" if event.description.strip() else ""
        if event.review_status:
            caption += f" ({event.review_status.value})"
        lines += [
            str(number),
            f"{clock(event.start_time, decimals=3, full=True)} --> {clock(end, decimals=3, full=True)}",
            _cue_text(caption),
            "",
        ]
    return "\n".join(lines)


def to_storyboard(incident: Incident, windows: list[WindowRecord]) -> str:
    """Every analysed window in time order, with the incident it belongs to (the report lists only the
    windows around events)."""
    return json.dumps(
        {"incident_id": incident.id, "windows": [w.model_dump() for w in windows]},
        ensure_ascii=False,
        indent=2,
    )


class Exporter(NamedTuple):
    """One export format: how its text is made from a finished incident's stored results, the media
    type it is served as, and the extension of its file."""

    function: Callable[[Session, Incident], str]
    media_type: str
    extension: str


def _json(_session: Session, incident: Incident) -> str:
    return to_json(incident)


def _csv(session: Session, incident: Incident) -> str:
    return to_csv(incident, repository.events_of(session, incident.id))


def _vtt(session: Session, incident: Incident) -> str:
    return to_vtt(repository.events_of(session, incident.id), incident.engine)


def _storyboard(session: Session, incident: Incident) -> str:
    return to_storyboard(incident, repository.windows_of(session, incident.id))


# The export formats: the CLI's `export --format`, the dashboard's download buttons and the API's
# export endpoint iterate this. Adding a format is one entry (and its button's words in
# dashboard/i18n.py: `download.<format>` and `download.<format>_help`).
EXPORTERS: dict[str, Exporter] = {
    "json": Exporter(_json, "application/json", "json"),
    "csv": Exporter(_csv, "text/csv", "csv"),
    "vtt": Exporter(_vtt, "text/vtt", "vtt"),
    "storyboard": Exporter(_storyboard, "application/json", "storyboard.json"),
}
FORMATS: tuple[str, ...] = tuple(EXPORTERS)
Format = Literal[FORMATS]  # the formats as a type, for request parameters (FastAPI lists them)
MEDIA_TYPES: dict[str, str] = {fmt: exporter.media_type for fmt, exporter in EXPORTERS.items()}


def export(session: Session, incident_id: int, fmt: str) -> str:
    """The incident's stored results in `fmt`, one of `FORMATS`."""
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise InvalidInput(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    return exporter.function(session, finished_incident(session, incident_id))


def file_name(incident: Incident | IncidentRecord, extension: str) -> str:
    """A download name that says what it is: "sigma-12-junction.csv" (only safe characters)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in incident.original_name.rsplit(".", 1)[0])
    return f"sigma-{incident.id}-{stem.strip('-')[:60] or 'video'}.{extension}"
