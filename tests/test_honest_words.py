"""Issue 11, honest words: what a run without events means for each engine, and what the local
engine's scores are, on the page (AppTest) and in the report (DOCX)."""

from __future__ import annotations

import io

import pytest
from docx import Document

from core import service
from core.i18n import catalogue, say
from core.report import build_report
from core.schema import Event
from core.views import MovingCamera
from tests.app_harness import configured_app, new_app, problems
from tests.stored_results import store_incident

EN = catalogue("en")
WINDOWS = [(i * 1.5, i * 1.5 + 1.5, f"window {i}") for i in range(4)]
FALL = Event(
    event_type="FALL",
    start_time=2.0,
    end_time=3.0,
    confidence=0.62,
    description="fall: track 3 stood upright",
)


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def _page(settings, clip, *, engine: str, events: list[Event]):
    incident_id = store_incident(
        settings, clip, name="cam.mp4", windows=WINDOWS, events=events, engine=engine
    )
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    return at


def test_a_local_run_without_events_does_not_clear_the_footage(app_settings, clips):
    at = _page(app_settings, clips["calm"], engine="local", events=[])
    infos = [i.value for i in at.info]
    assert EN["summary.no_events_local"] in infos
    assert "cannot rule out incidents" in EN["summary.no_events_local"]
    assert EN["summary.no_events"] not in infos and EN["summary.no_events_vlm"] not in infos
    assert EN["summary.local_measures"] in [c.value for c in at.caption]


def test_a_vlm_run_without_events_says_a_model_can_miss(app_settings, clips):
    at = _page(app_settings, clips["calm"], engine="vlm", events=[])
    infos = [i.value for i in at.info]
    assert EN["summary.no_events_vlm"] in infos and EN["summary.no_events_local"] not in infos
    assert EN["summary.local_measures"] not in [c.value for c in at.caption]


def test_local_scores_are_named_anomaly_score_and_measured_strength(app_settings, clips):
    at = _page(app_settings, clips["calm"], engine="local", events=[FALL])
    tables = " ".join(str(df.proto) for df in at.dataframe)
    assert EN["events.strength"] in tables and EN["timeline.anomaly_score"] in tables
    assert EN["events.confidence"] not in tables
    assert EN["timeline.anomaly_score"] in at.get("plotly_chart")[0].proto.spec


def _report_text(settings, clip, *, engine: str, events: list[Event], lang: str = "en") -> str:
    incident_id = store_incident(
        settings, clip, name="cam.mp4", windows=WINDOWS, events=events, engine=engine
    )
    document = Document(io.BytesIO(build_report(incident_id, settings, lang=lang)))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_report_of_a_local_run_says_what_the_engine_can_and_cannot_see(settings, clips, lang):
    text = _report_text(settings, clips["calm"], engine="local", events=[], lang=lang)
    assert catalogue(lang)["report.about"] in text
    for key in ("engine_local", "sees_local", "cannot_local"):
        assert catalogue(lang)[f"report.{key}"] in text
    assert all(part in text for part in catalogue(lang)["report.no_events_local"].split("{duration}"))
    assert (
        max(catalogue(lang)["report.no_events"].split("{duration}"), key=len) not in text
    )  # the old, overclaiming one


def test_report_of_a_vlm_run_has_its_own_sentences(settings, clips):
    text = _report_text(settings, clips["calm"], engine="vlm", events=[])
    assert (
        catalogue("en")["report.about"] in text
        and catalogue("en")["report.engine_vlm"] in text
        and catalogue("en")["report.cannot_vlm"] in text
    )
    assert "a model can miss incidents" in text
    assert catalogue("en")["report.engine_local"] not in text


def test_report_of_a_local_run_with_events_names_the_strength(settings, clips):
    text = _report_text(settings, clips["calm"], engine="local", events=[FALL])
    assert (
        catalogue("en")["report.col_strength"] in text
        and catalogue("en")["report.col_confidence"] not in text
    )


CAMERA = say("log.local_camera_moving", share=0.94, withheld=4, events="COLLISION 19.8-20.4 s", rate=0.016)


def _camera_moved_run(settings, clips, name="cam.mp4") -> int:
    """A finished local run without events whose engine logged that the camera moved."""
    return store_incident(
        settings,
        clips["calm"],
        name=name,
        windows=WINDOWS,
        events=[],
        engine="local",
        logs=[("camera", CAMERA)],
    )


def test_a_local_run_whose_camera_moved_says_it_cannot_judge_a_moving_camera(app_settings, clips):
    incident_id = _camera_moved_run(app_settings, clips)
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    said = EN["summary.local_camera"].format(share=0.94, withheld=4)
    assert said in [w.value for w in at.warning]
    assert "94%" in said and "cannot judge" in said and "4 event(s)" in said
    # and an integrator reading the incident through the API is told too
    assert service.incident_detail(incident_id, app_settings).moving_camera == MovingCamera(
        share=0.94, withheld=4
    )


def test_the_list_of_runs_marks_a_run_whose_camera_moved(app_settings, clips):
    """Triaging many runs from the list, a dashcam run's "0 events" is not read as clear footage."""
    moved = _camera_moved_run(app_settings, clips, name="dashcam.mp4")
    store_incident(app_settings, clips["calm"], name="cctv.mp4", windows=WINDOWS, events=[], engine="local")
    at = new_app("incidents")
    assert not problems(at)
    table = at.dataframe[0].value.set_index("file")
    assert (
        table.loc["dashcam.mp4", "review"] == EN["incidents.camera_moved"]
        and table.loc["dashcam.mp4", "id"] == moved
    )
    assert table.loc["cctv.mp4", "review"] == ""
    listed = {item.original_name: item.camera_moved for item in service.incident_list(app_settings).items}
    assert listed == {"dashcam.mp4": True, "cctv.mp4": False}  # the API's list says it too
    assert service.incident_record(moved, app_settings).camera_moved  # one run read alone says the same
    assert service.incident_summary(moved, app_settings).camera_moved  # (`python -m core show`)


def test_a_fixed_camera_local_run_tells_the_api_nothing_of_a_camera(settings, clips):
    incident_id = store_incident(
        settings, clips["calm"], name="fixed.mp4", windows=WINDOWS, events=[FALL], engine="local"
    )
    assert service.incident_detail(incident_id, settings).moving_camera is None


def test_a_fixed_camera_local_run_has_no_camera_caveat(app_settings, clips):
    at = _page(app_settings, clips["calm"], engine="local", events=[FALL])
    warned = " ".join(w.value for w in at.warning)
    assert "camera moved" not in warned


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_report_of_a_local_run_whose_camera_moved_says_so_in_about(settings, clips, lang):
    incident_id = _camera_moved_run(settings, clips)
    document = Document(io.BytesIO(build_report(incident_id, settings, lang=lang)))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    words = catalogue(lang)
    assert words["report.about_camera"] in cells
    assert words["report.camera_local"].format(share=0.94, withheld=4) in cells


def test_report_of_a_fixed_camera_local_run_has_no_camera_row(settings, clips):
    text = _report_text(settings, clips["calm"], engine="local", events=[])
    assert EN["report.about_camera"] not in text
