"""Turning per-window detections into the video's events: merging neighbours, capping highlights."""

from __future__ import annotations

from core.schema import Event


def merge_detections(detections: list[Event], *, gap: float) -> list[Event]:
    """Detections of the same type that overlap or lie within `gap` seconds become one event.

    The merged event spans them all, keeps the highest confidence and severity, and the description
    of its most confident part.
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
                    "severity": max(
                        (s for s in (current.severity, detection.severity) if s is not None), default=None
                    ),
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


def repair_frame_range(first: int, last: int, count: int) -> tuple[int, int, str | None] | None:
    """A model's frame numbers made valid for a request of `count` frames (numbered 1..count).

    Reversed numbers are swapped, numbers partly outside are clamped; returns the numbers and a
    note saying what was repaired (None when nothing was), or None when the range lies wholly
    outside the request and the detection must be dropped.
    """
    notes = []
    if first > last:
        first, last = last, first
        notes.append("first and last frame swapped")
    if last < 1 or first > count:
        return None
    if first < 1 or last > count:
        notes.append(f"frames {first}..{last} clamped to 1..{count}")
        first, last = max(first, 1), min(last, count)
    return first, last, "; ".join(notes) or None


def frame_span(times: list[float], first: int, last: int, *, fallback_step: float) -> tuple[float, float]:
    """Seconds covered by frames `first`..`last` (1-based) of a request whose frames were taken at
    `times`: from the first frame's time to the last's, widened by half the local sampling step on
    each side (an incident seen at frame k and not at k-1 began somewhere between them).
    `fallback_step` is the step to assume when the request holds a single frame."""

    def half_gap(position: int, toward: int) -> float:
        neighbour = position + toward
        if not 0 <= neighbour < len(times):
            neighbour = position - toward
        if not 0 <= neighbour < len(times):
            return fallback_step / 2
        return abs(times[position] - times[neighbour]) / 2

    start_at, end_at = first - 1, last - 1
    return times[start_at] - half_gap(start_at, -1), times[end_at] + half_gap(end_at, +1)
