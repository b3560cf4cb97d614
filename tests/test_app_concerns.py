"""The analyst's concerns and site context, and severity, on the dashboard (Streamlit AppTest): set on
the Analyse page and in Re-analyse (ready examples included), refused with a message before anything
is stored, shown on the incident page; severity as a column, a sort and a display filter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.config import get_settings
from core.db import get_engine, session_scope
from core.i18n import catalogue
from core.models import Incident, LogRow
from core.schema import Event
from tests.app_harness import configured_app, db_snapshot, new_app, problems, wait_for_status
from tests.stored_results import store_incident

EN = catalogue("en")
EVENTS = [
    Event(
        event_type="COLLISION", start_time=2.0, end_time=3.5, confidence=0.6, severity=2, description="crash"
    ),
    Event(
        event_type="NEAR_MISS", start_time=4.2, end_time=4.5, confidence=0.9, severity=1, description="close"
    ),
    Event(event_type="SUDDEN_MOTION", start_time=6.3, end_time=7.5, confidence=0.7, description="motion"),
]


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def _incidents(settings) -> list[Incident]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def _events_table(at):
    return next(df for df in at.dataframe if df.key and df.key.startswith("events-")).value


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_bad_concerns_are_refused_on_the_analyse_page_before_the_upload_is_stored(app_settings, clips):
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(("gate.mp4", clips["collision"].read_bytes(), "video/mp4"))
    for typed, reason in [
        ("FALL: a worker falls off the press", "FALL is a built-in event type"),
        ("white van: stops at the gate", "is not valid"),
        ("VAN_AT_GATE stops at the gate", "has no definition"),
    ]:
        at.text_area(key="analyse.concerns").input(typed)
        at.button(key="FormSubmitter:analyse-Analyse").click().run()
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and reason in errors[0], errors
        assert errors[0].startswith("Not started: ")
    at.text_area(key="analyse.concerns").input("")
    at.text_area(key="analyse.context").input("x" * 700)  # more than the box allows: cut, never an error page
    assert not at.exception
    assert _incidents(app_settings) == []
    uploads = app_settings.uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir())


def test_concerns_context_and_a_ready_example_go_with_the_run(app_settings):
    at = new_app()
    offered = at.multiselect(key="analyse.examples").options
    assert "industrial safety · NO_GLOVES: a person works at the press without gloves" in offered
    assert len(offered) == 9  # three per domain
    at.text_area(key="analyse.context").input("Press shop, line 2.")
    at.text_area(key="analyse.concerns").input("VAN_AT_GATE: a van stands at the gate")
    at.multiselect(key="analyse.examples").select("industrial/NO_GLOVES")
    at.button(key="FormSubmitter:analyse-Try a sample").click().run()
    assert not problems(at)
    incident_id = int(at.query_params["id"])
    assert wait_for_status(app_settings, incident_id) == "DONE"
    [incident] = _incidents(app_settings)
    assert incident.params["site_context"] == "Press shop, line 2."
    assert [c["code"] for c in incident.params["concerns"]] == ["VAN_AT_GATE", "NO_GLOVES"]
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        messages = list(session.scalars(select(LogRow.message).where(LogRow.incident_id == incident_id)))
    assert any("cannot look for the analyst's concerns" in m for m in messages)  # the local engine ran

    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert "Press shop, line 2" in captions and "VAN&#95;AT&#95;GATE" in captions  # shown, escaped
    # Re-analyse offers the run's own words, and a bad change is refused without a new run
    key = f"reanalyse-{incident_id}"
    assert at.text_area(key=f"{key}.concerns").value.startswith("VAN_AT_GATE: a van stands at the gate")
    at.text_area(key=f"{key}.concerns").input("COLLISION: cars collide")
    at.button(key=f"FormSubmitter:{key}-{EN['params.reanalyse']}").click().run()
    assert any("COLLISION is a built-in event type" in e.value for e in at.error)
    assert len(_incidents(app_settings)) == 1
    at.text_area(key=f"{key}.concerns").input("BLOCKED_EXIT: pallets block the exit")
    at.text_area(key=f"{key}.context").input("")
    at.button(key=f"FormSubmitter:{key}-{EN['params.reanalyse']}").click().run()
    new_id = int(at.query_params["id"])
    assert new_id != incident_id and wait_for_status(app_settings, new_id) == "DONE"
    rerun = _incidents(app_settings)[-1]
    assert rerun.params["concerns"] == [{"code": "BLOCKED_EXIT", "definition": "pallets block the exit"}]
    assert rerun.params["site_context"] == "" and rerun.run_of_id == incident_id


def test_severity_is_a_column_a_sort_and_a_filter(app_settings, clips):
    incident_id = store_incident(
        app_settings, clips["collision"], name="junction.mp4", windows=[(0.0, 1.5, "w")], events=EVENTS
    )
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    before = db_snapshot(app_settings)
    table = _events_table(at)
    assert list(table["severity"]) == ["danger", "concern", "not rated"]

    at.button_group(key=f"events-sort-{incident_id}").set_value("severity").run()
    assert list(_events_table(at)["description"]) == ["crash", "close", "motion"]
    at.button_group(key=f"events-sort-{incident_id}").set_value("confidence").run()
    assert list(_events_table(at)["description"]) == ["close", "motion", "crash"]

    at.select_slider(key="w.filter.min_severity").set_value(1).run()
    assert _metric(at, EN["summary.events"]) == "2 / 3"
    at.select_slider(key="w.filter.min_severity").set_value(2).run()
    assert _metric(at, EN["summary.events"]) == "1 / 3"
    assert list(_events_table(at)["description"]) == ["crash"]
    assert not problems(at) and db_snapshot(app_settings) == before  # a display filter writes nothing


def test_a_run_whose_concern_became_a_built_in_type_still_opens(app_settings, clips):
    incident_id = store_incident(app_settings, clips["collision"], name="old.mp4", windows=[], events=[])
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        incident = session.get(Incident, incident_id)
        incident.params = {**incident.params, "concerns": [{"code": "FALL", "definition": "an old concern"}]}
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


def test_the_vlm_engine_without_a_model_server_is_refused_before_the_upload_is_stored(
    app_settings, clips, monkeypatch
):
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(("gate.mp4", clips["collision"].read_bytes(), "video/mp4"))
    at.selectbox(key="analyse.engine.en").set_value("vlm")
    at.button(key="FormSubmitter:analyse-Analyse").click().run()
    assert [e.value for e in at.error] == [EN["params.vlm_refused_unconfigured"]]
    assert _incidents(app_settings) == []

    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:9/v1")  # configured, but nothing answers there
    get_settings.cache_clear()
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(("gate.mp4", clips["collision"].read_bytes(), "video/mp4"))
    at.selectbox(key="analyse.engine.en").set_value("vlm")
    at.button(key="FormSubmitter:analyse-Analyse").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(
        "Not started: the model server for the VLM engine does not answer"
    )
    assert "127.0.0.1:9" in errors[0]
    assert _incidents(app_settings) == []
    uploads = app_settings.uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir())
