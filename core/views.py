"""What leaves the service layer: views of incidents, shaped for a reader (the HTTP API, the dashboard
and the CLI), never ORM rows.

Events and windows are `core.schema.Event` and `core.schema.WindowRecord` as they are; the seed's
result JSON is `core.schema.AnalysisResult` with its events typed. Every view is a pydantic model,
so the API documents the real shapes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.schema import AnalysisParams, AnalysisResult, ReviewStatus, Status
from core.search import Hit


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


Moment = Annotated[datetime, AfterValidator(_utc)]


class SeedEvent(BaseModel):
    """One event of the seed's result JSON, with exactly its keys."""

    event_type: str
    start_time: float
    end_time: float
    description: str
    highlight: str


class IncidentResult(AnalysisResult):
    """The seed's result JSON exactly as `python -m core analyze --json` prints it."""

    events: list[SeedEvent]
    incident_id: int


class VideoFacts(BaseModel):
    """The stored file as probed at upload."""

    original_name: str
    sha256: str
    size_bytes: int
    duration: float = Field(description="seconds")
    width: int
    height: int
    fps: float
    frame_count: int
    codec: str


class IncidentStatus(BaseModel):
    """Where an analysis stands: what the status stream sends on every change."""

    incident_id: int
    status: Status
    progress: float = Field(ge=0, le=1)
    stage: str
    pass_no: int | None = None
    windows_done: int = 0
    windows_total: int = 0
    queue_position: int | None = Field(None, description="1 = next to start; only while QUEUED")
    error: str | None = Field(None, description="why it FAILED")

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED)


class IncidentSummary(BaseModel):
    """One row of the incident list."""

    incident_id: int
    run_of_id: int | None = Field(None, description="the first run of the same video, for a re-analysis")
    original_name: str
    status: Status
    progress: float
    stage: str
    error: str | None = None
    duration: float
    engine: str = Field(description="the engine that ran, else the one requested")
    domain: str = Field(description="the inferred domain, else the one requested")
    events: int = Field(description="how many events were found")
    camera_moved: bool = Field(
        False, description="the local engine measured the camera moving: it cannot judge this footage"
    )
    created_at: Moment
    finished_at: Moment | None = None


class IncidentPage(BaseModel):
    """A page of the incident list, newest first."""

    items: list[IncidentSummary]
    total: int
    limit: int | None = Field(description="null: every incident")
    offset: int


class MovingCamera(BaseModel):
    """The local engine measured the camera itself moving; it assumes a fixed one."""

    share: float = Field(ge=0, le=1, description="the share of the video in which the camera moved")
    withheld: int = Field(
        ge=0, description="events raised while it moved, withheld (listed in the run's log)"
    )


class IncidentDetail(BaseModel):
    """One incident (one analysis run of one video) with its file, parameters, versions and result."""

    incident_id: int
    run_of_id: int | None = None
    runs: list[int] = Field(description="every run of the same video, oldest first (this one included)")
    video: VideoFacts
    status: IncidentStatus
    params: AnalysisParams
    requested_engine: str
    engine: str | None = None
    requested_domain: str
    inferred_domain: str | None = None
    domain_reason: str | None = None
    model_version: str | None = None
    prompt_version: str | None = None
    passes_run: list[int] | None = None
    events: int
    created_at: Moment
    started_at: Moment | None = None
    finished_at: Moment | None = None
    result: IncidentResult | None = Field(None, description="the seed's result JSON, once DONE")
    moving_camera: MovingCamera | None = Field(
        None,
        description=(
            "set when the local engine measured the camera moving in 20 % of the video or more: it cannot "
            "judge a moving camera, its events there are withheld, and a run without events does not clear "
            "the footage"
        ),
    )


class IncidentRecord(BaseModel):
    """Every stored fact of one run under its column's name, read once: what the dashboard's pages and
    the CLI show (the API documents the leaner `IncidentDetail`)."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    run_of_id: int | None = None
    original_name: str
    stored_name: str
    sha256: str
    size_bytes: int
    duration: float
    width: int
    height: int
    fps: float
    frame_count: int
    codec: str
    status: Status
    progress: float
    stage: str
    pass_no: int | None = None
    windows_done: int
    windows_total: int
    error: str | None = None
    requested_domain: str
    inferred_domain: str | None = None
    domain_reason: str | None = None
    requested_engine: str
    engine: str | None = None
    model_version: str | None = None
    prompt_version: str | None = None
    params: dict
    passes_run: list[int] | None = None
    created_at: Moment
    started_at: Moment | None = None
    finished_at: Moment | None = None
    heartbeat_at: Moment | None = None
    case_number: str | None = None
    investigator: str | None = None
    case_note: str | None = None
    hold_reason: str | None = None
    held_by: str | None = None
    held_at: Moment | None = None
    camera_moved: bool = False  # not a column: the local engine logged that the camera moved (see lists)


class LogLine(BaseModel):
    """One step of a run's processing log, with the model and prompt versions in use."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    step: str
    level: str
    message: str
    model_version: str | None = None
    prompt_version: str | None = None
    started_at: Moment | None = None
    finished_at: Moment | None = None
    words: dict | None = None  # the line as a catalogue message (core.i18n), worded for the viewer


class Review(BaseModel):
    """An analyst's verdict on an event: `status` null clears it."""

    status: ReviewStatus | None = None
    note: str | None = Field(None, max_length=4000)


class Accepted(BaseModel):
    """A new analysis run: where it is and what it is doing now."""

    incident_id: int
    status: Status


class SearchHits(BaseModel):
    """What a search found in one incident: windows and events, best first."""

    prompt: str
    matched_all: bool = Field(description="false: nothing had every word; these hits have some of them")
    event_types: list[str] = Field(
        description="event types the prompt named (their synonyms were searched too)"
    )
    hits: list[Hit]


class Check(BaseModel):
    ok: bool
    detail: str = ""


class ModelServerCheck(Check):
    models: list[str] = Field(default_factory=list, description="the models the server lists")


class Health(BaseModel):
    """Whether Sigma can work: the database answers; the model server (when one is set) answers."""

    status: Literal["ok", "degraded", "down"] = Field(
        description="down: the database does not answer; degraded: the model server does not"
    )
    database: Check
    model_server: ModelServerCheck | None = Field(None, description="null when LLM_BASE_URL is not set")
    engine: str = Field(description="the engine analyses use by default (ENGINE, resolved)")
    job_backend: str
    versions: dict[str, str]


class ReviewProgress(BaseModel):
    """An incident's events by review state, and its highest-scoring event (for lists)."""

    confirmed: int = 0
    dismissed: int = 0
    unreviewed: int = 0
    top_score: float | None = None
    top_time: float | None = None  # where the highest-scoring event starts

    @property
    def events(self) -> int:
        return self.confirmed + self.dismissed + self.unreviewed
