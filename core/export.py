"""Exports of a finished incident from stored results alone (never re-analysed): the seed's JSON,
a CSV with one row per event, and WebVTT captions with one cue per event for the player."""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from sqlalchemy.orm import Session

from core import repository
from core.errors import InvalidInput
from core.models import Incident
from core.schema import Event

Format = Literal["json", "csv", "vtt"]
FORMATS: tuple[Format, ...] = ("json", "csv", "vtt")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "vtt": "text/vtt"}
CSV_COLUMNS = (
    "incident_id",
    "event_type",
    "start_time",
    "end_time",
    "highlight",
    "confidence",
    "description",
    "review_status",
    "review_note",
)
# A cue shorter than this flashes by unread; sub-second events keep their start and show this long.
MIN_CUE_SEC = 1.0


def finished_incident(session: Session, incident_id: int) -> Incident:
    """The incident if its analysis is stored, else `InvalidInput` saying why there is nothing yet."""
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise InvalidInput(f"no incident {incident_id}")
    if incident.analysis_json is None:
        reason = f": {incident.error}" if incident.error else ""
        raise InvalidInput(
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


def to_csv(incident: Incident, events: list[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
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
                event.description,
                event.review_status.value if event.review_status else "",
                event.review_note or "",
            ]
        )
    return buffer.getvalue()


def vtt_timestamp(seconds: float) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    """One line of cue text: no blank lines or "-->" (they end or break a cue), markup escaped."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(events: list[Event]) -> str:
    """WebVTT, one cue per event: "COLLISION — two cars collide at the junction"."""
    lines = ["WEBVTT", ""]
    for number, event in enumerate(sorted(events, key=lambda e: (e.start_time, e.end_time)), start=1):
        end = max(event.end_time, event.start_time + MIN_CUE_SEC)
        caption = event.event_type + (f" — {event.description}" if event.description.strip() else "")
        if event.review_status:
            caption += f" ({event.review_status.value})"
        lines += [
            str(number),
            f"{vtt_timestamp(event.start_time)} --> {vtt_timestamp(end)}",
            _cue_text(caption),
            "",
        ]
    return "\n".join(lines)


def export(session: Session, incident_id: int, fmt: Format) -> str:
    """The incident's stored results in `fmt` (json, csv or vtt)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    incident = finished_incident(session, incident_id)
    if fmt == "json":
        return to_json(incident)
    events = repository.events_of(session, incident_id)
    return to_csv(incident, events) if fmt == "csv" else to_vtt(events)


def file_name(incident: Incident, extension: str) -> str:
    """A download name that says what it is: "sigma-12-junction.csv" (only safe characters)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in incident.original_name.rsplit(".", 1)[0])
    return f"sigma-{incident.id}-{stem.strip('-')[:60] or 'video'}.{extension}"
