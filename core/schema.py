"""The analysis as pydantic models: one `Event` flows from engine to database to UI to report.

`AnalysisResult` is the seed's JSON contract (`has_event`, `inferred_domain`, `events[]` with
exactly `event_type`, `start_time`, `end_time`, `description`, `highlight`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from core.concerns import STORED_RUN, Concern, check_concerns, check_site_context
from core.config import AUTO_ENGINE, EngineChoice, EngineName, Settings
from core.i18n import Message, has, say

DOMAINS = ("traffic", "industrial", "violence")
Domain = Literal["traffic", "industrial", "violence"]
RequestedDomain = Literal["auto", "traffic", "industrial", "violence"]


class Status(StrEnum):
    SAVED = "SAVED"
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    FAILED = "FAILED"


ACTIVE_STATUSES = (Status.SAVED, Status.QUEUED, Status.PROCESSING)


class ReviewStatus(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


def format_highlight(start: float, end: float) -> str:
    """The seed's highlight string: "12.40-13.90"."""
    return f"{start:.2f}-{end:.2f}"


SEVERITY_LEVELS = (0, 1, 2)  # 0 note, 1 concern, 2 danger (as Frigate's threat level)


class Box(BaseModel):
    """Where in the frame an event is, normalised to the frame (0..1): left, top, width, height."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside_frame(self) -> Box:
        if self.x + self.w > 1 + 1e-6 or self.y + self.h > 1 + 1e-6:
            raise ValueError("box reaches outside the frame")
        return self


class TrackPoint(BaseModel):
    """Where a tracked object's centre was at time `t` (seconds), normalised to the frame (0..1)."""

    track_id: int
    t: float
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class Event(BaseModel):
    """A detected event with times in seconds from the pipeline (never from a model's guess).

    `box` (where, at the event's peak frame), `track_ids` (the tracked objects involved) and
    `track_path` (their centres around the event) are set by engines that can tell; `severity`
    (0 note, 1 concern, 2 danger) by engines that rate it."""

    model_config = ConfigDict(from_attributes=True)

    event_type: str
    start_time: float = Field(ge=0)
    end_time: float = Field(ge=0)
    confidence: float = Field(ge=0, le=1)
    description: str = ""
    pass_no: int = 1
    severity: int | None = Field(default=None, ge=0, le=2)
    box: Box | None = None
    track_ids: list[int] = Field(default_factory=list)
    track_path: list[TrackPoint] = Field(default_factory=list)  # the tracks' centres around the event
    peak_time: float | None = Field(default=None, ge=0)  # the frame `box` was measured at
    id: int | None = None
    review_status: ReviewStatus | None = None
    review_note: str | None = None
    reviewed_by: str | None = None  # who reviewed (a verdict carried over keeps its reviewer)
    reviewed_at: datetime | None = None
    review_carried_from: int | None = None  # the event of an earlier run this verdict came from

    @field_validator("track_ids", "track_path", mode="before")
    @classmethod
    def _no_tracks(cls, value: object) -> object:
        return [] if value is None else value

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.end_time < self.start_time:
            raise ValueError("end_time before start_time")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def highlight(self) -> str:
        return format_highlight(self.start_time, self.end_time)

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    def seed_dict(self) -> dict:
        """This event in the seed's JSON, with its exact keys."""
        return {
            "event_type": self.event_type,
            "start_time": round(self.start_time, 2),
            "end_time": round(self.end_time, 2),
            "description": self.description,
            "highlight": self.highlight,
        }


class WindowRecord(BaseModel):
    """One analysed window: a row of the timeline (the storyboard)."""

    model_config = ConfigDict(from_attributes=True)

    window_index: int
    start_time: float
    end_time: float
    description: str = ""
    score: float = 0.0
    pass_no: int = 1
    failed: bool = False
    skipped: bool = False  # not sent to the model: nothing changed beyond the video's own noise


class AnalysisParams(BaseModel):
    """What is computed: recorded with every run; changing it means re-analysis."""

    # lower bounds as the dashboard's inputs: a window of 1e-9 s would ask for billions of windows
    window_sec: float = Field(ge=0.25, le=60)
    target_fps: float = Field(ge=0.5, le=60)
    frames_per_window: int = Field(ge=1, le=64)
    max_highlights: int = Field(ge=1, le=1000)
    engine: EngineChoice = AUTO_ENGINE
    domain: RequestedDomain = "auto"
    # the analyst's own words for the model (core.concerns): what the camera shows, what else to look for
    site_context: str = ""
    concerns: list[Concern] = Field(default_factory=list)

    @field_validator("site_context", mode="before")
    @classmethod
    def _bounded_context(cls, value: object) -> str:
        return check_site_context(value)

    @field_validator("concerns")
    @classmethod
    def _distinct_concerns(cls, value: list[Concern]) -> list[Concern]:
        return check_concerns(value)

    @classmethod
    def of_run(cls, stored: dict) -> AnalysisParams:
        """The parameters a run was stored with, checked as when it was made, except that a concern
        whose code Sigma has made a built-in type since is kept (the run's page must still open)."""
        return cls.model_validate(stored, context={STORED_RUN: True})

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> AnalysisParams:
        values: dict[str, object] = {
            "window_sec": settings.llm_window_sec,
            "target_fps": settings.llm_target_fps,
            "frames_per_window": settings.llm_frames_per_window,
            "max_highlights": settings.llm_max_highlights,
            "engine": settings.engine,
            "site_context": settings.llm_site_context,
            "concerns": [{"code": code, "definition": text} for code, text in settings.llm_concerns.items()],
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def params_in_words(stored: dict) -> list[Message]:
    """A run's parameters as the log and the report name them (`report.param.*`), engine and domain in
    words; the concerns and the site context have their own lines."""
    return [
        say(
            f"report.param.{name}", v=say(f"report.{name}.{value}") if name in ("engine", "domain") else value
        )
        for name, value in stored.items()
        if has(f"report.param.{name}")
    ]


class EngineOutcome(BaseModel):
    """What an engine hands back to the job: stored as rows and as the seed's JSON."""

    engine: EngineName
    model_version: str
    prompt_version: str
    inferred_domain: Domain | None = None
    domain_reason: str | None = None
    passes_run: list[int] = Field(default_factory=lambda: [1])
    windows: list[WindowRecord] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)


class AnalysisResult(BaseModel):
    """The seed's result JSON."""

    has_event: bool
    inferred_domain: str | None
    events: list[dict]

    @classmethod
    def from_events(cls, events: list[Event], inferred_domain: str | None) -> AnalysisResult:
        ordered = sorted(events, key=lambda e: (e.start_time, e.end_time))
        return cls(
            has_event=bool(ordered),
            inferred_domain=inferred_domain,
            events=[e.seed_dict() for e in ordered],
        )
