"""ORM tables: the seed's `incidents`, `timelines`, `events`, `logs` (SQLAlchemy 2.0 style), and the
append-only `audit` trail.

An incident is one analysis run of one stored video. Re-analysing creates a new incident whose
`run_of_id` points at the first run, so an incident keeps its runs and they share the file.
Incident and event numbers are never given out twice (SQLite AUTOINCREMENT, PostgreSQL sequences):
a report that names "No. 11" keeps naming the same video after No. 11 is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids never reused (migration 0005)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_of_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)

    # the stored file
    original_name: Mapped[str] = mapped_column(String(512))
    stored_name: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    frame_count: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(32), default="")

    # the analysis
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    pass_no: Mapped[int | None] = mapped_column(Integer)
    windows_done: Mapped[int] = mapped_column(Integer, default=0)
    windows_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    requested_domain: Mapped[str] = mapped_column(String(16), default="auto")
    inferred_domain: Mapped[str | None] = mapped_column(String(16))
    domain_reason: Mapped[str | None] = mapped_column(Text)
    requested_engine: Mapped[str] = mapped_column(String(8), default="auto")
    engine: Mapped[str | None] = mapped_column(String(8))
    model_version: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON)
    passes_run: Mapped[list | None] = mapped_column(JSON)
    analysis_json: Mapped[dict | None] = mapped_column(JSON)

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # run ownership (migration 0004): the claim of the run now PROCESSING; its writes check it
    run_token: Mapped[str | None] = mapped_column(String(32))

    # evidence: the case it belongs to, and a legal hold (held while hold_reason is set)
    case_number: Mapped[str | None] = mapped_column(String(100))
    investigator: Mapped[str | None] = mapped_column(String(200))
    case_note: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    held_by: Mapped[str | None] = mapped_column(String(200))
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    timelines: Mapped[list[Timeline]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Timeline.start_time",
    )
    events: Mapped[list[EventRow]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EventRow.start_time",
    )
    logs: Mapped[list[LogRow]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LogRow.id",
    )


class Timeline(Base):
    __tablename__ = "timelines"
    __table_args__ = (Index("ix_timelines_incident_start", "incident_id", "start_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    window_index: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    pass_no: Mapped[int] = mapped_column(Integer, default=1)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)

    incident: Mapped[Incident] = relationship(back_populates="timelines")


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_incident_start", "incident_id", "start_time"),
        Index("ix_events_event_type", "event_type"),  # search: the analysts' own types (0007)
        {"sqlite_autoincrement": True},  # ids never reused (migration 0005)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    highlight: Mapped[str] = mapped_column(String(32))
    pass_no: Mapped[int] = mapped_column(Integer, default=1)
    severity: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[dict | None] = mapped_column(JSON)
    track_ids: Mapped[list | None] = mapped_column(JSON)
    track_path: Mapped[list | None] = mapped_column(JSON)  # migration 0006: the tracks' centres around it
    peak_time: Mapped[float | None] = mapped_column(Float)  # migration 0006: the frame its box is from
    review_status: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    # the event of an earlier run of the same video whose verdict this one carries (no FK: kept when
    # that run is deleted, as the record of where the verdict came from)
    review_carried_from: Mapped[int | None] = mapped_column(Integer)

    incident: Mapped[Incident] = relationship(back_populates="events")


class LogRow(Base):
    __tablename__ = "logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)  # in English, for the CLI, the API and the case package
    # migration 0008: the line as a catalogue key and values (core.i18n.Message), worded for its reader
    words: Mapped[dict | None] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(8), default="INFO")
    model_version: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship(back_populates="logs")


class AuditRow(Base):
    """Who did what, when, to what. Append-only: Sigma only inserts, and the database refuses UPDATE
    and DELETE (triggers of migration 0005). `incident_id` has no foreign key on purpose: the trail
    outlives the incident it describes (deletion and retention keep it)."""

    __tablename__ = "audit"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    first_run_id: Mapped[int | None] = mapped_column(Integer, index=True)  # groups the runs of one video
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict | None] = mapped_column(JSON)
