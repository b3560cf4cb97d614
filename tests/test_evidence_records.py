"""Evidence records on SQLite and PostgreSQL: ids never reused, the append-only audit trail, legal
hold, case details, reviews with who and when (carried over to re-runs; concurrent ones), roles."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from core import repository, service
from core.access import OPEN_ACCESS, SYSTEM, Principal
from core.db import get_engine, run_migrations, session_scope
from core.errors import Forbidden, InvalidInput, OnHold
from core.evidence.audit import trail_of
from core.models import AuditRow, EventRow, Incident, utcnow
from core.retention import purge_expired
from core.schema import AnalysisParams, EngineOutcome, Event, ReviewStatus, Status
from core.storage import video_path
from tests.stored_results import store_incident

ALICE = Principal(name="alice", role="analyst", via="password")
BOB = Principal(name="bob", role="analyst", via="password")
VIEWER = Principal(name="vera", role="viewer", via="password")


def _events(*spans: tuple[str, float, float]) -> list[Event]:
    return [Event(event_type=kind, start_time=s, end_time=e, confidence=0.8) for kind, s, e in spans]


def _store(settings, clip, events=None) -> int:
    return store_incident(
        settings,
        clip,
        name="junction.mp4",
        windows=[(i * 2.0, i * 2.0 + 2.0, f"window {i}") for i in range(4)],
        events=_events(("COLLISION", 4.0, 5.0), ("FALL", 6.0, 6.5)) if events is None else events,
    )


def _event_ids(settings, incident_id) -> list[int]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return [e.id for e in repository.events_of(session, incident_id)]


def _incident(settings, incident_id) -> Incident | None:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


def test_deleting_the_newest_incident_never_gives_its_number_or_event_numbers_again(db_settings, clips):
    first = _store(db_settings, clips["calm"])
    newest = _store(db_settings, clips["collision"])
    newest_events = _event_ids(db_settings, newest)
    service.delete(newest, db_settings, actor=OPEN_ACCESS)

    again = _store(db_settings, clips["collision"])
    assert again > newest > first
    assert min(_event_ids(db_settings, again)) > max(newest_events)


def test_the_migration_keeps_every_row_and_search_and_stops_reusing_ids_on_sqlite(settings, clips):
    """A database made before migration 0005 (rows in every table) comes through the rebuild whole:
    rows, references, full-text search kept current by its triggers; then numbers stop being reused."""
    engine = get_engine(settings.resolved_database_url)
    incident_id = _store(settings, clips["collision"])
    run_migrations(engine, "downgrade", "0003")
    with engine.begin() as connection:
        autoincrement = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'"
        ).scalar()
        assert autoincrement == 0
        counts = {t: connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in _TABLES}
    run_migrations(engine, "upgrade", "head")
    with engine.begin() as connection:
        assert {
            t: connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in _TABLES
        } == counts
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert {"events_fts_insert", "events_fts_update", "timelines_fts_insert"} <= _triggers(engine)

    from core.search import search

    with session_scope(engine) as session:
        assert search(session, "collision").hits  # the rebuilt events table is still indexed
        session.execute(update(EventRow).values(description="a forklift reverses into a rack"))
    with session_scope(engine) as session:
        assert search(session, "forklift").hits  # and kept current by the recreated triggers

    service.delete(incident_id, settings, actor=OPEN_ACCESS)
    assert _store(settings, clips["calm"]) > incident_id


_TABLES = ("incidents", "events", "timelines", "logs")


def _triggers(engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in rows}


def test_audit_rows_cannot_be_changed_or_deleted_even_by_sql(db_settings, clips):
    _store(db_settings, clips["calm"])
    engine = get_engine(db_settings.resolved_database_url)
    for statement in (update(AuditRow).values(actor="mallory"), delete(AuditRow)):
        with pytest.raises(DBAPIError, match="append-only"), session_scope(engine) as session:
            session.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), session_scope(engine) as session:
            session.execute(text("TRUNCATE audit"))
    assert [e.actor for e in trail_of(db_settings)] == ["unattributed"]  # the upload, unchanged


def test_the_trail_records_who_did_what_and_outlives_the_incident(db_settings, clips):
    incident_id = _store(db_settings, clips["collision"])
    event_id = _event_ids(db_settings, incident_id)[0]
    service.review(event_id, db_settings, status=ReviewStatus.CONFIRMED, note="seen on cam 4", actor=ALICE)
    service.set_case(
        incident_id, db_settings, case_number="2026/117", investigator="I. Petrov", note=None, actor=ALICE
    )
    rerun = service.rerun(incident_id, db_settings, AnalysisParams.from_settings(db_settings), actor=BOB)
    service.delete(rerun, db_settings, actor=BOB)
    service.delete(incident_id, db_settings, actor=ALICE)
    assert _incident(db_settings, incident_id) is None

    entries = trail_of(db_settings, incident_id)
    assert [(e.actor, e.action) for e in entries] == [
        ("unattributed", "upload"),
        ("alice", "review"),
        ("alice", "note"),
        ("alice", "case details"),
        ("bob", "re-analyse"),
        ("bob", "delete"),
        ("alice", "delete"),
    ]
    assert entries[1].details["verdict"] == "confirmed" and entries[2].details["note"] == "seen on cam 4"
    assert entries[4].incident_id == rerun and entries[4].details["re-analysis of"] == incident_id
    assert entries[6].details["sha256"] and entries[6].target == f"incident {incident_id}"
    assert all(e.at.tzinfo is not None for e in entries)


def test_viewers_cannot_change_anything_and_nothing_changes(db_settings, clips):
    incident_id = _store(db_settings, clips["collision"])
    event_id = _event_ids(db_settings, incident_id)[0]
    params = AnalysisParams.from_settings(db_settings)
    refusals = {
        "upload videos": lambda: service.register_video(clips["calm"], db_settings, params, actor=VIEWER),
        "delete incidents": lambda: service.delete(incident_id, db_settings, actor=VIEWER),
        "re-analyse": lambda: service.rerun(incident_id, db_settings, params, actor=VIEWER),
        "review events": lambda: service.review(
            event_id, db_settings, status=ReviewStatus.DISMISSED, note="x", actor=VIEWER
        ),
        "place legal holds": lambda: service.set_hold(incident_id, "case 7", db_settings, actor=VIEWER),
        "edit case details": lambda: service.set_case(
            incident_id, db_settings, case_number="1", investigator=None, note=None, actor=VIEWER
        ),
    }
    for what, attempt in refusals.items():
        with pytest.raises(Forbidden, match=f"vera signs in as a viewer, and viewers cannot {what}$"):
            attempt()
    incident = _incident(db_settings, incident_id)
    assert incident is not None and incident.hold_reason is None and incident.case_number is None
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        assert session.scalar(select(EventRow.review_status).where(EventRow.id == event_id)) is None
        assert len(repository.list_incidents(session)) == 1
    assert [e.action for e in trail_of(db_settings)] == ["upload"]


def test_legal_hold_refuses_delete_and_retention_until_lifted(db_settings, clips):
    settings = db_settings.model_copy(update={"retention_days": 30})
    held = _store(settings, clips["collision"])
    rerun = service.rerun(held, settings, AnalysisParams.from_settings(settings), actor=ALICE)
    other = _store(settings, clips["calm"])
    with pytest.raises(InvalidInput, match="needs a reason"):
        service.set_hold(held, "   ", settings, actor=ALICE)
    service.set_hold(rerun, "request 2026/117 of the prosecutor", settings, actor=ALICE)

    for target in (rerun, held):  # the held run itself, and the first run that would take it along
        with pytest.raises(
            OnHold, match="on legal hold .* by alice \\(request 2026/117 of the prosecutor\\)"
        ):
            service.delete(target, settings, actor=BOB)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        session.execute(update(Incident).values(created_at=utcnow() - timedelta(days=40)))
        session.execute(update(Incident).where(Incident.id == rerun).values(status=Status.DONE))
    assert purge_expired(settings) == [other]  # the held video stays, file and all
    stored = _incident(settings, held).stored_name
    assert video_path(settings, stored).is_file() and _incident(settings, rerun).hold_reason

    service.lift_hold(rerun, settings, actor=BOB, reason="case closed")
    with pytest.raises(InvalidInput, match="not on legal hold"):
        service.lift_hold(rerun, settings, actor=BOB)
    assert purge_expired(settings) == [held]
    assert not video_path(settings, stored).exists()
    actions = [(e.actor, e.action) for e in trail_of(settings, held)]
    assert actions[-3:] == [("alice", "hold"), ("bob", "lift hold"), ("system", "delete")]
    assert trail_of(settings, held)[-1].details["reason"] == "RETENTION_DAYS=30"


def test_case_details_are_kept_blank_clears_and_a_rerun_inherits_them(db_settings, clips):
    incident_id = _store(db_settings, clips["calm"])
    service.set_case(
        incident_id, db_settings, case_number=" 2026/117 ", investigator="I.  Petrov", note="camera 3",
        actor=ALICE,
    )  # fmt: skip
    rerun = service.rerun(incident_id, db_settings, AnalysisParams.from_settings(db_settings), actor=ALICE)
    copied = _incident(db_settings, rerun)
    assert (copied.case_number, copied.investigator, copied.case_note) == (
        "2026/117",
        "I. Petrov",
        "camera 3",
    )
    service.set_case(incident_id, db_settings, case_number="", investigator="I. Petrov", note="", actor=BOB)
    cleared = _incident(db_settings, incident_id)
    assert (cleared.case_number, cleared.investigator, cleared.case_note) == (None, "I. Petrov", None)
    last = trail_of(db_settings, incident_id)[-1]
    assert (last.actor, last.action, last.details) == (
        "bob",
        "case details",
        {"case_number": None, "case_note": None},
    )


def test_a_review_records_who_and_when_and_a_rerun_carries_verdicts_over(db_settings, clips):
    first = _store(
        db_settings,
        clips["collision"],
        events=_events(("COLLISION", 4.0, 5.0), ("FALL", 6.0, 6.5), ("FIGHT", 1.0, 2.0)),
    )
    by_type = {e.event_type: e.id for e in _events_of(db_settings, first)}
    collision, fall, fight = by_type["COLLISION"], by_type["FALL"], by_type["FIGHT"]
    reviewed = service.review(
        collision, db_settings, status=ReviewStatus.CONFIRMED, note="two cars", actor=ALICE
    )
    assert reviewed.reviewed_by == "alice" and reviewed.reviewed_at is not None
    service.review(fall, db_settings, status=ReviewStatus.DISMISSED, note="a shadow", actor=BOB)
    service.review(fight, db_settings, status=None, note="unsure", actor=BOB)  # a note, no verdict

    rerun = service.rerun(first, db_settings, AnalysisParams.from_settings(db_settings), actor=ALICE)
    outcome = EngineOutcome(engine="vlm", model_version="m", prompt_version="p")
    new_events = _events(
        ("COLLISION", 4.4, 5.6), ("FALL", 8.0, 9.0), ("NEAR_MISS", 6.1, 6.4), ("FIGHT", 1.5, 2)
    )
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, rerun)
        repository.save_outcome(
            session, incident, outcome.model_copy(update={"events": new_events}), new_events
        )
    carried = {e.event_type: e for e in _events_of(db_settings, rerun)}
    assert carried["COLLISION"].review_status == ReviewStatus.CONFIRMED
    assert (carried["COLLISION"].reviewed_by, carried["COLLISION"].review_note) == ("alice", "two cars")
    assert carried["COLLISION"].review_carried_from == collision
    assert carried["FALL"].review_status is None  # no overlap: 8-9 s against 6-6.5 s
    assert carried["NEAR_MISS"].review_status is None  # overlaps the dismissed fall, but another type
    assert carried["FIGHT"].review_status is None  # a note without a verdict is not carried
    last = trail_of(db_settings, rerun)[-1]
    assert (last.actor, last.action, last.details["carried over from event"]) == (
        "system",
        "review",
        collision,
    )

    # reviewing the carried-over event again makes it this run's own verdict
    own = service.review(
        carried["COLLISION"].id, db_settings, status=ReviewStatus.DISMISSED, note="parked", actor=BOB
    )
    assert own.review_carried_from is None and own.reviewed_by == "bob"


def _events_of(settings, incident_id) -> list[Event]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.events_of(session, incident_id)


def test_concurrent_reviews_of_one_event_keep_the_last_and_audit_both(db_settings, clips):
    incident_id = _store(db_settings, clips["collision"])
    event_id = _event_ids(db_settings, incident_id)[0]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def review(actor, status):
        start.wait()
        try:
            service.review(event_id, db_settings, status=status, note=f"by {actor.name}", actor=actor)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=review, args=(ALICE, ReviewStatus.CONFIRMED)),
        threading.Thread(target=review, args=(BOB, ReviewStatus.DISMISSED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reviews = [e for e in trail_of(db_settings, incident_id) if e.action == "review"]
    assert sorted(e.actor for e in reviews) == ["alice", "bob"]
    last = reviews[-1]
    final = next(e for e in _events_of(db_settings, incident_id) if e.id == event_id)
    assert final.reviewed_by == last.actor and final.review_status.value == last.details["verdict"]
    assert final.review_note == f"by {last.actor}"


def test_the_system_principal_and_unknown_events_are_handled(db_settings, clips):
    with pytest.raises(InvalidInput, match="no event 987654"):
        service.review(987654, db_settings, status=None, note=None, actor=SYSTEM)
    with pytest.raises(InvalidInput, match="no incident 987654"):
        service.set_hold(987654, "x", db_settings, actor=SYSTEM)
    assert "audit" in inspect(get_engine(db_settings.resolved_database_url)).get_table_names()
