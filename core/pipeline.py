"""Turning per-window detections into the video's events: merging neighbours, capping highlights."""

from __future__ import annotations

from core.schema import Event


def merge_detections(detections: list[Event], *, gap: float) -> list[Event]:
    """Detections of the same type that overlap or lie within `gap` seconds become one event.

    The merged event spans them all, keeps the highest confidence, and the description of its
    most confident part.
    """
    merged: list[Event] = []
    open_by_type: dict[str, int] = {}
    for detection in sorted(detections, key=lambda e: (e.start_time, e.end_time)):
        position = open_by_type.get(detection.event_type)
        if position is not None and detection.start_time <= merged[position].end_time + gap:
            current = merged[position]
            best = detection if detection.confidence > current.confidence else current
            merged[position] = current.model_copy(
                update={
                    "end_time": max(current.end_time, detection.end_time),
                    "confidence": best.confidence,
                    "description": best.description,
                    "pass_no": min(current.pass_no, detection.pass_no),
                }
            )
        else:
            open_by_type[detection.event_type] = len(merged)
            merged.append(detection)
    return merged


def cap_highlights(events: list[Event], limit: int) -> list[Event]:
    """The `limit` most confident events (longer first on ties), in time order."""
    kept = sorted(events, key=lambda e: (-e.confidence, -e.duration, e.start_time))[:limit]
    return sorted(kept, key=lambda e: (e.start_time, e.end_time))


def clamp_to_video(events: list[Event], duration: float) -> list[Event]:
    """No event lies outside the video."""
    clamped = []
    for event in events:
        start = min(max(event.start_time, 0.0), duration)
        end = min(max(event.end_time, start), duration)
        clamped.append(event.model_copy(update={"start_time": start, "end_time": end}))
    return clamped
