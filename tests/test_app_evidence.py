"""Evidence on the incident page (Streamlit AppTest): case details and legal hold, a delete refused while
held, reviews that say who and when, the audit trail of what was opened, played and changed, and the
case package built from the page."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from core import repository
from core.db import get_engine, session_scope
from core.evidence.audit import trail_of
from core.evidence.package import verify
from core.i18n import catalogue
from core.schema import Event
from tests.app_harness import configured_app, new_app, problems
from tests.stored_results import store_incident

EN = catalogue("en")


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def _stored(settings, clips) -> int:
    return store_incident(
        settings,
        clips["collision"],
        name="junction.mp4",
        windows=[(i * 1.0, i * 1.0 + 1.0, f"window {i}") for i in range(8)],
        events=[Event(event_type="COLLISION", start_time=2.0, end_time=3.5, confidence=0.9)],
    )


def _incident(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


def _submit(at, form: str, label: str) -> None:
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()


def test_case_details_and_legal_hold_from_the_page_and_a_held_incident_is_not_deleted(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    case_inputs = [w for w in at.text_input if w.label == EN["case.number"]]
    case_inputs[0].input("2026/117")
    next(w for w in at.text_input if w.label == EN["case.investigator"]).input("I. Petrov")
    _submit(at, f"case-{incident_id}", EN["case.save"])
    assert not problems(at)
    assert (
        _incident(app_settings, incident_id).case_number,
        _incident(app_settings, incident_id).investigator,
    ) == (
        "2026/117",
        "I. Petrov",
    )

    _submit(at, f"hold-{incident_id}", EN["hold.place"])  # no reason: refused, nothing held
    assert any("needs a reason" in e.value for e in at.error)
    assert _incident(app_settings, incident_id).hold_reason is None
    next(w for w in at.text_input if w.label == EN["hold.reason"]).input("prosecutor's request 117")
    _submit(at, f"hold-{incident_id}", EN["hold.place"])
    assert _incident(app_settings, incident_id).hold_reason == "prosecutor's request 117"
    assert any("On legal hold since" in w.value for w in at.warning)

    at.button(key=f"delete-{incident_id}").click().run()
    at.button(key=f"delete-yes-{incident_id}").click().run()
    assert any("on legal hold since" in e.value and "Lift the hold first" in e.value for e in at.error)
    assert _incident(app_settings, incident_id) is not None

    at.button(key=f"hold-lift-{incident_id}").click().run()
    assert _incident(app_settings, incident_id).hold_reason is None
    actions = [(e.actor, e.action) for e in trail_of(app_settings, incident_id)]
    assert actions == [
        ("unattributed", "upload"),
        ("local", "open incident"),
        ("local", "case details"),
        ("local", "hold"),
        ("local", "lift hold"),
    ]


def test_a_review_shows_who_and_when_and_plays_and_clips_are_audited(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        event = repository.events_of(session, incident_id)[0]
    at = new_app("incident", incident_id=incident_id)
    at.session_state["sigma.seek"] = {
        "incident_id": incident_id,
        "seconds": 2.0,
        "event_id": event.id,
        "nonce": 3,
    }
    at.run()
    at.radio(key=f"review-choice-{event.id}").set_value("confirmed")
    _submit(at, f"review-{event.id}", EN["card.save_review"])
    assert not problems(at)
    assert any(c.value.startswith("Reviewed by local, ") for c in at.caption)
    assert at.dataframe(key=f"events-{incident_id}").value["reviewed_by"].tolist() == ["local"]

    at.button(key=f"card-replay-{event.id}").click().run()  # a seek: the first one is a "play"
    at.button(key=f"card-replay-{event.id}").click().run()  # once per session
    assert [e.action for e in trail_of(app_settings, incident_id)].count("play") == 1
    assert [e.action for e in trail_of(app_settings, incident_id)].count("open incident") == 1


def test_the_case_package_is_built_from_the_page(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    at = new_app("incident", incident_id=incident_id)
    at.button(key=f"sigma.package.{incident_id}.build").click().run()
    assert not problems(at)
    ready = [c.value for c in at.caption if c.value.startswith("Ready: ")]
    assert ready and "not signed" in ready[0]
    packages = list(Path(app_settings.storage_dir, "derived").glob("*/packages/*.zip"))
    assert len(packages) == 1 and verify(packages[0]).intact
    with zipfile.ZipFile(packages[0]) as archive:
        assert any(name.startswith("clips/") for name in archive.namelist())
    last = trail_of(app_settings, incident_id)[-1]
    assert (last.actor, last.action) == ("local", "package")


def _download_page(storage: str) -> None:
    import streamlit as st

    from core.evidence.audit import Action
    from dashboard.evidence import recorded

    st.write(recorded(Action.EXPORT, 7, "csv", lambda: "a,b\n")().decode())


def test_a_download_is_recorded_when_it_is_made(app_settings):
    from streamlit.testing.v1 import AppTest

    AppTest.from_function(_download_page, kwargs={"storage": str(app_settings.storage_dir)}).run()
    entries = trail_of(app_settings, 7)
    assert [(e.actor, e.action, e.incident_id, e.details) for e in entries] == [
        ("local", "export", 7, {"what": "csv"})
    ]
