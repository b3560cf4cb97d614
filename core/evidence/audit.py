"""The audit trail: who did what, when, to which incident. Append-only.

Every service that changes evidence records its action in the same transaction as the change
(`record`); reads worth knowing about (opening an incident, playing it, exports, reports, clips,
packages) are recorded by the layer that serves them (`record_now`). Nothing in Sigma updates or
deletes a row, and the database refuses to (migration 0005's triggers). Rows keep the incident's
id without a foreign key, so deleting an incident (by hand or by retention) keeps its trail.

`first_run_id` groups a video's runs: the trail shown for an incident covers every run of its video
(re-analyses included), which is what its case package and report hand on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.access import Principal
from core.config import Settings
from core.db import database, db_now
from core.models import AuditRow, Incident


class Action(StrEnum):
    UPLOAD = "upload"
    OPEN = "open incident"
    PLAY = "play"
    REVIEW = "review"
    NOTE = "note"
    EXPORT = "export"
    REPORT = "report"
    CLIP = "clip"
    PACKAGE = "package"
    DELETE = "delete"
    REANALYSE = "re-analyse"
    HOLD = "hold"
    LIFT_HOLD = "lift hold"
    CASE = "case details"
    SIGN_IN = "sign in"
    FAILED_LOGIN = "failed login"
    ADD_USER = "add user"
    REMOVE_USER = "remove user"


class AuditEntry(BaseModel):
    """One row of the trail as every layer shows it."""

    id: int
    at: datetime
    actor: str
    role: str
    via: str
    action: str
    incident_id: int | None
    first_run_id: int | None
    target: str
    details: dict | None

    def details_text(self) -> str:
        """`key: value; ...` for tables and the report."""
        if not self.details:
            return ""
        return "; ".join(f"{key}: {_plain(value)}" for key, value in self.details.items())


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def record(
    session: Session,
    actor: Principal,
    action: Action,
    *,
    incident: Incident | None = None,
    incident_id: int | None = None,
    target: str = "",
    details: dict | None = None,
) -> None:
    """Add one row in the caller's transaction (so the action and its record commit together)."""
    if incident is not None:
        incident_id = incident.id
        first_run_id = incident.run_of_id or incident.id
    elif incident_id is not None:
        found = session.get(Incident, incident_id)
        first_run_id = (found.run_of_id or found.id) if found else incident_id
    else:
        first_run_id = None
    session.add(
        AuditRow(
            at=db_now(session),  # the database's clock, whichever machine writes
            actor=actor.name[:200],
            role=actor.role,
            via=actor.via,
            action=action.value,
            incident_id=incident_id,
            first_run_id=first_run_id,
            target=(target or (f"incident {incident_id}" if incident_id is not None else ""))[:200],
            details=details or None,
        )
    )
    session.flush()


def record_now(settings: Settings, actor: Principal, action: Action, **what: object) -> None:
    """`record` in a transaction of its own (reads: open, play, export, report, clip, package, sign-in)."""
    with database(settings).session() as session:
        record(session, actor, action, **what)  # type: ignore[arg-type]


def trail(session: Session, *, incident_id: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """The trail, oldest first: all of it, or what concerns one incident's video (every run of it,
    deleted runs included, and rows naming this incident even after it was deleted)."""
    query = select(AuditRow).order_by(AuditRow.id)
    if incident_id is not None:
        incident = session.get(Incident, incident_id)
        groups = {incident_id} | ({incident.run_of_id or incident.id} if incident else set())
        query = query.where(
            or_(AuditRow.incident_id == incident_id, AuditRow.first_run_id.in_(sorted(groups)))
        )
    if limit:
        query = query.limit(limit)
    return [_entry(row) for row in session.scalars(query)]


def _entry(row: AuditRow) -> AuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return AuditEntry(
        id=row.id, at=at, actor=row.actor, role=row.role, via=row.via, action=row.action,
        incident_id=row.incident_id, first_run_id=row.first_run_id, target=row.target, details=row.details,
    )  # fmt: skip


def trail_of(settings: Settings, incident_id: int | None = None) -> list[AuditEntry]:
    with database(settings).session() as session:
        return trail(session, incident_id=incident_id)
