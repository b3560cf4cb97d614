"""The report a supervisor is handed: the case on the first page, reviews with who and when, event
types, statuses, engines, log steps and units in words of the report's language (no codes), the
storyboard condensed to the windows around events, and the audit trail as an appendix."""

from __future__ import annotations

import io
import re

from docx import Document

from core import repository, service
from core.access import Principal
from core.db import get_engine, session_scope
from core.report import build_report, condensed_storyboard
from core.schema import AnalysisParams, EngineOutcome, Event, ReviewStatus, WindowRecord
from tests.stored_results import store_incident

ALICE = Principal(name="alice", role="analyst", via="password")
CODES = re.compile(r"\b(COLLISION|NEAR_MISS|SUDDEN_MOTION|DONE|FAILED|INFO|WARNING)\b")


def _events() -> list[Event]:
    return [
        Event(event_type="COLLISION", start_time=4.0, end_time=5.0, confidence=0.9, description="two cars"),
        Event(event_type="NEAR_MISS", start_time=1.0, end_time=1.3, confidence=0.5, description="a cyclist"),
        Event(event_type="SUDDEN_MOTION", start_time=6.5, end_time=7.0, confidence=0.7, description="motion"),
    ]


def _store(settings, clip) -> int:
    return store_incident(
        settings,
        clip,
        name="junction.mp4",
        windows=[(i * 1.0, i * 1.0 + 1.0, f"window {i}") for i in range(8)],
        events=_events(),
        logs=[("start", "analysis started"), ("pass 1", "8 windows")],
    )


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts).replace("\u200b", "")


def _report(settings, incident_id, lang):
    return Document(io.BytesIO(build_report(incident_id, settings, lang=lang)))


def test_the_report_names_the_case_the_reviewers_and_speaks_in_words(db_settings, clips):
    incident_id = _store(db_settings, clips["collision"])
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        collision = next(e for e in repository.events_of(session, incident_id) if e.event_type == "COLLISION")
    service.review(
        collision.id, db_settings, status=ReviewStatus.CONFIRMED, note="seen on cam 4", actor=ALICE
    )
    service.set_case(
        incident_id,
        db_settings,
        case_number="2026/117",
        investigator="И. Петров",
        note="камера 3",
        actor=ALICE,
    )
    service.set_hold(incident_id, "запрос прокуратуры", db_settings, actor=ALICE)

    russian = _report(db_settings, incident_id, "ru")
    text = _text(russian)
    first_page = "\n".join(cell.text for row in russian.tables[0].rows for cell in row.cells)
    for expected in (
        "Номер дела",
        "2026/117",
        "Следователь",
        "И. Петров",
        "Запрет удаления",
        "запрос прокуратуры",
    ):
        assert expected in first_page
    assert "Столкновение" in text and "Опасное сближение" in text and "Резкое движение" in text
    assert "подтверждено — alice, 20" in text and "seen on cam 4" in text
    assert "анализ завершён" in text and "визуально-языковая модель" in text and "дорожное движение" in text
    assert "(8.00 с)" in text and " МБ (" in text and "кадр/с" in text
    assert "начало" in text and "проход 1" in text and "инфо" in text
    assert "Приложение В. Журнал действий" in text and "запрет удаления" in text
    assert not CODES.findall(text), CODES.findall(text)

    english = _text(_report(db_settings, incident_id, "en"))
    assert "Collision × 1" in english and "confirmed — alice, 20" in english
    assert "analysis finished" in english and "(8.00 s)" in english and "legal hold placed" in english
    assert not CODES.findall(english), CODES.findall(english)


def test_a_verdict_carried_over_says_so_in_the_report(settings, clips):
    incident_id = _store(settings, clips["collision"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        collision = next(e for e in repository.events_of(session, incident_id) if e.event_type == "COLLISION")
    service.review(collision.id, settings, status=ReviewStatus.DISMISSED, note="parked car", actor=ALICE)
    rerun = service.rerun(incident_id, settings, AnalysisParams.from_settings(settings), actor=ALICE)
    again = [Event(event_type="COLLISION", start_time=4.2, end_time=5.2, confidence=0.8)]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        outcome = EngineOutcome(engine="local", model_version="m", prompt_version="p", events=again)
        repository.save_outcome(session, repository.get_incident(session, rerun), outcome, again)
    text = _text(_report(settings, rerun, "en"))
    assert (
        "dismissed — alice, 20" in text
        and f"(carried over from event {collision.id} of an earlier run)" in text
    )
    assert "parked car" in text


def _windows(count: int) -> list[WindowRecord]:
    return [
        WindowRecord(
            window_index=i, start_time=float(i), end_time=i + 1.0, description=f"w{i}", score=(i % 7) / 7
        )
        for i in range(count)
    ]


def test_the_storyboard_appendix_keeps_the_windows_around_events():
    windows = _windows(3600)  # an hour of 1 s windows
    events = [
        Event(event_type="FALL", start_time=100.0, end_time=101.0, confidence=0.9),
        Event(event_type="FIGHT", start_time=2000.5, end_time=2003.0, confidence=0.9),
    ]
    kept = condensed_storyboard(windows, events)
    assert [w.window_index for w in kept] == [*range(89, 112), *range(1990, 2014)]
    top = condensed_storyboard(windows, [])
    assert len(top) == 20 and all(w.score == 6 / 7 for w in top)
    assert [w.start_time for w in top] == sorted(w.start_time for w in top)


def test_an_hour_long_storyboard_is_condensed_in_the_document(settings, clips):
    incident_id = store_incident(
        settings,
        clips["calm"],
        name="hour.mp4",
        windows=[(float(i), i + 1.0, f"window {i}") for i in range(3600)],
        events=[Event(event_type="FALL", start_time=100.0, end_time=101.0, confidence=0.9)],
    )
    document = _report(settings, incident_id, "en")
    storyboard = next(t for t in document.tables if t.rows[0].cells[0].text == "Window")
    assert len(storyboard.rows) == 1 + 23
    assert "23 of 3600 windows: those within 10 s of an event" in _text(document)
    assert f"python -m core export {incident_id} --format storyboard" in _text(document)
