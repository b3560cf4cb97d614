"""Display filters: thresholds applied to stored results, instantly, with no re-analysis.

They decide which stored events the timeline, the table and the counts show; the database is never
written. Event types are kept as the set the investigator *hid*, so a choice made on one incident
carries over to another that has different types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.schema import Event


@dataclass(frozen=True)
class DisplayFilters:
    min_confidence: float = 0.0
    min_duration: float = 0.0
    hidden_types: frozenset[str] = field(default_factory=frozenset)
    hide_dismissed: bool = False
    min_severity: int = 0  # 1: concern and danger, 2: danger only (events not rated show only at 0)

    def keeps(self, event: Event) -> bool:
        return (
            event.confidence >= self.min_confidence
            and event.duration >= self.min_duration
            and event.event_type not in self.hidden_types
            and not (self.hide_dismissed and event.review_status == "dismissed")
            and (self.min_severity == 0 or (event.severity or 0) >= self.min_severity)
        )

    def apply(self, events: list[Event]) -> list[Event]:
        return [event for event in events if self.keeps(event)]

    @property
    def active(self) -> bool:
        return self != DisplayFilters()
