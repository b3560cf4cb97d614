"""Two runs of one video side by side: which events appear in only one of them.

Two events are "the same moment" when their spans overlap (each widened by `tolerance` seconds), whatever
their types: runs with different engines or domains name the same moment differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.schema import Event


@dataclass(frozen=True)
class RunComparison:
    only_in_current: frozenset[int]
    only_in_other: frozenset[int]

    def is_unique(self, event_id: int | None) -> bool:
        return event_id in self.only_in_current or event_id in self.only_in_other


def overlaps(first: Event, second: Event, tolerance: float = 0.25) -> bool:
    return first.start_time - tolerance <= second.end_time and second.start_time - tolerance <= first.end_time


def compare_runs(current: list[Event], other: list[Event], tolerance: float = 0.25) -> RunComparison:
    def unmatched(events: list[Event], against: list[Event]) -> frozenset[int]:
        return frozenset(
            event.id
            for event in events
            if event.id is not None
            and not any(overlaps(event, candidate, tolerance) for candidate in against)
        )

    return RunComparison(unmatched(current, other), unmatched(other, current))
