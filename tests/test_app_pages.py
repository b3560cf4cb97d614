"""The dashboard's pages under Streamlit's AppTest: empty start, upload to DONE, a bad upload, display
filters that never write, reviews that persist, seeking, failure, re-analysis and run comparison."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import repository
from core.db import get_engine, session_scope
from core.i18n import catalogue
from core.models import EventRow, Incident
from core.schema import AnalysisParams, Event, ReviewStatus
from core.service import register_video
from dashboard.fmt import when
from dashboard.incident_status import RUNS_REFRESH_SEC, refresh_every
from tests.app_harness import configured_app, db_snapshot, new_app, problems, wait_for_status
from tests.stored_results import cut_clip, store_incident


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


EN = catalogue("en")

EVENTS = [
    Event(
        event_type="COLLISION", start_time=2.0, end_time=3.5, confidence=0.9, description="two cars collide"
    ),
    Event(event_type="NEAR_MISS", start_time=4.2, end_time=4.5, confidence=0.4, description="a close call"),
    Event(event_type="FIGHT", start_time=6.3, end_time=7.5, confidence=0.7, description="people fight"),
]
WINDOWS = [(i * 1.0, i * 1.0 + 1.0, f"window {i}: street scene") for i in range(8)]


def _stored(settings, clips, events=EVENTS) -> int:
    return store_incident(settings, clips["collision"], name="junction.mp4", windows=WINDOWS, events=events)


def _incident_count(settings) -> int:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _events_table(at):
    return next(df for df in at.dataframe if df.key and df.key.startswith("events-")).value


def test_app_starts_with_an_empty_database(app_settings):
    at = new_app()
    assert not problems(at)
    assert [b.label for b in at.button] == [EN["analyse.start"], EN["analyse.sample"]]
    for page in ("incidents", "incident", "about"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not problems(at), page
    at.switch_page("app_pages/incidents.py").run()
    assert EN["incidents.empty"] in [i.value for i in at.info]
    assert _incident_count(app_settings) == 0


def test_an_uploaded_clip_reaches_done_and_shows_its_events(app_settings, clips):
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(
        ("crash at the junction.mp4", clips["collision"].read_bytes(), "video/mp4")
    )
    at.button(key="FormSubmitter:analyse-Analyse").click().run()
    assert not problems(at)
    incident_id = int(at.query_params["id"])
    assert wait_for_status(app_settings, incident_id) == "DONE"

    at.run()
    assert not problems(at)
    assert at.subheader[0].value == "crash at the junction.mp4"
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        stored = repository.events_of(session, incident_id)
    assert stored, "the scripted collision must be found"
    assert _metric(at, EN["summary.events"]) == str(len(stored))
    table = _events_table(at)
    assert list(table["id"]) == [e.id for e in stored]
    assert at.get("video"), "the player is shown"
    assert at.get("plotly_chart"), "the timeline is shown"


def test_a_bad_upload_shows_why_and_leaves_no_incident(app_settings):
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(
        ("holiday.mp4", b"just some text, not a video\n" * 20, "video/mp4")
    )
    at.button(key="FormSubmitter:analyse-Analyse").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "holiday.mp4" in errors[0] and "text file" in errors[0]
    assert not at.exception
    assert "id" not in at.query_params
    assert _incident_count(app_settings) == 0
    uploads = app_settings.uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir())


def test_the_sample_runs_to_done(app_settings):
    at = new_app()
    said = " ".join(c.value for c in at.caption)  # the caption's times are the sample's own
    assert (
        "against the traffic at 0:02" in said
        and "into each other at 0:07" in said
        and "motion at 0:10" in said
    )
    at.button(key="FormSubmitter:analyse-Try a sample").click().run()
    assert not problems(at)
    incident_id = int(at.query_params["id"])
    assert wait_for_status(app_settings, incident_id) == "DONE"
    at.run()
    assert at.subheader[0].value == "sigma-sample.mp4"
    assert int(_metric(at, EN["summary.events"])) >= 1
    # a local run's scores are measured strengths: the filter and the sort say so
    assert at.slider(key="w.filter.min_confidence").label == EN["filters.min_strength"]
    sorts = at.button_group(key=f"events-sort-{incident_id}")
    assert [option.content for option in sorts.proto.options][-1] == EN["events.sort_strength"]


def test_display_filters_change_what_is_shown_without_touching_the_database(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    at = new_app("incident", incident_id=incident_id)
    assert not problems(at)
    assert _metric(at, EN["summary.events"]) == "3"
    before = db_snapshot(app_settings)

    assert at.slider(key="w.filter.min_confidence").label == EN["filters.min_confidence"]  # a model's run
    at.slider(key="w.filter.min_confidence").set_value(0.5).run()
    assert _metric(at, EN["summary.events"]) == "2 / 3"
    assert list(_events_table(at)["description"]) == ["two cars collide", "people fight"]

    at.slider(key="w.filter.min_duration").set_value(1.0).run()
    assert _metric(at, EN["summary.events"]) == "2 / 3"
    at.slider(key="w.filter.min_duration").set_value(1.3).run()
    assert _metric(at, EN["summary.events"]) == "1 / 3"

    at.slider(key="w.filter.min_duration").set_value(0.0).run()
    at.multiselect(key="w.filter.types").unselect("COLLISION").run()
    assert list(_events_table(at)["description"]) == ["people fight"]
    assert not problems(at)
    assert db_snapshot(app_settings) == before, "a display filter wrote to the database"

    # the filters survive a visit to another page
    at.switch_page("app_pages/about.py").run()
    at.switch_page("app_pages/incident.py").run()
    assert _metric(at, EN["summary.events"]) == "1 / 3"


def _seek(at, incident_id: int, event: Event) -> None:
    at.session_state["sigma.seek"] = {
        "incident_id": incident_id,
        "seconds": event.start_time,
        "event_id": event.id,
        "nonce": 7,
    }


def test_a_seek_moves_the_player_and_selects_the_event(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        fight = next(e for e in repository.events_of(session, incident_id) if e.event_type == "FIGHT")
    at = new_app("incident", incident_id=incident_id)
    _seek(at, incident_id, fight)
    at.run()
    assert not problems(at)
    video = at.get("video")[0].proto
    assert video.start_time == math.floor(fight.start_time) == 6
    assert at.session_state[f"events-{incident_id}"]["selection"]["rows"] == [2]
    assert any(m.value.endswith("Fight") for m in at.markdown), "the review card shows the selected event"
    figure = at.get("plotly_chart")[0].proto.spec
    assert '"Selected"' in figure and f"[{fight.id}, {fight.start_time}]" in figure.replace(
        ",", ", "
    ).replace(",  ", ", ")


def test_a_review_is_stored_and_shown_again(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        near_miss = next(e for e in repository.events_of(session, incident_id) if e.event_type == "NEAR_MISS")
    at = new_app("incident", incident_id=incident_id)
    _seek(at, incident_id, near_miss)
    at.run()
    at.radio(key=f"review-choice-{near_miss.id}").set_value("dismissed")
    at.text_area(key=f"review-note-{near_miss.id}").input("a shadow, not a car")
    at.button(key=f"FormSubmitter:review-{near_miss.id}-{EN['card.save_review']}").click().run()
    assert not problems(at)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        row = session.get(EventRow, near_miss.id)
        assert (row.review_status, row.review_note) == ("dismissed", "a shadow, not a car")

    fresh = new_app("incident", incident_id=incident_id)  # another browser session
    _seek(fresh, incident_id, near_miss)
    fresh.run()
    assert fresh.radio(key=f"review-choice-{near_miss.id}").value == "dismissed"
    assert fresh.text_area(key=f"review-note-{near_miss.id}").value == "a shadow, not a car"
    assert list(_events_table(fresh)["review"]) == ["not reviewed", "dismissed", "not reviewed"]
    fresh.toggle(key="w.filter.hide_dismissed").set_value(True).run()
    assert _metric(fresh, EN["summary.events"]) == "2 / 3"


def test_a_failed_run_shows_its_reason_and_can_run_again(app_settings, clips):
    params = AnalysisParams.from_settings(app_settings)
    incident_id = register_video(clips["calm"], app_settings, params)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        repository.mark_failed(session, incident_id, "the model server at http://gpu:8000/v1 is unreachable")
    at = new_app("incident", incident_id=incident_id)
    assert [e.value for e in at.error] == [
        EN["incident.failed"].format(reason="the model server at http://gpu:8000/v1 is unreachable")
    ]
    assert at.get("video"), "a failed run still shows its video"
    at.button(key=f"rerun-{incident_id}").click().run()
    assert not at.exception
    new_id = int(at.query_params["id"])
    assert new_id != incident_id
    assert wait_for_status(app_settings, new_id) == "DONE"
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        assert session.get(Incident, new_id).run_of_id == incident_id


def test_a_failed_vlm_run_without_a_model_server_says_why_it_cannot_run_again(app_settings, clips):
    params = AnalysisParams.from_settings(app_settings).model_copy(update={"engine": "vlm"})
    incident_id = register_video(clips["calm"], app_settings, params)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        repository.mark_failed(session, incident_id, "no model server")
    at = new_app("incident", incident_id=incident_id)
    assert EN["params.vlm_refused_unconfigured"] in [w.value for w in at.warning]
    assert at.button(key=f"rerun-{incident_id}").disabled


def test_reanalysis_makes_a_new_run_and_two_runs_compare(app_settings, clips):
    first = _stored(app_settings, clips)
    second = store_incident(
        app_settings, clips["collision"], name="junction.mp4", windows=WINDOWS,
        events=[EVENTS[0].model_copy(update={"start_time": 2.2}), Event(
            event_type="FALL", start_time=9.0, end_time=9.5, confidence=0.8, description="someone falls")],
        engine="local",
    )  # fmt: skip
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        session.get(Incident, second).run_of_id = first

    at = new_app("incident", incident_id=first)
    assert len(at.selectbox(key=f"runs-{first}").options) == 2  # the run selector lists both runs
    at.selectbox(key=f"sigma.compare.{first}").set_value(second).run()
    assert not problems(at)
    # one run's scores are a model's confidences, the other's measured strengths: the filter names both
    assert at.slider(key="w.filter.min_confidence").label == EN["filters.min_confidence_or_strength"]
    summary = next(m.value for m in at.markdown if "vs run" in m.value)
    assert f"**2** event(s) only in #{first}" in summary and f"**1** only in #{second}" in summary
    only_here = _events_table(at)["only"].tolist()
    assert only_here == [False, True, True]

    at.selectbox(key=f"runs-{first}").set_value(second).run()  # the run selector opens the other run
    assert at.query_params["id"] == str(second)
    at.switch_page("app_pages/incident.py")
    at.query_params["id"] = str(first)
    at.run()

    at.number_input(key=f"reanalyse-{first}.window_sec").set_value(3.0)
    at.button(key=f"FormSubmitter:reanalyse-{first}-{EN['params.reanalyse']}").click().run()
    assert not at.exception
    third = int(at.query_params["id"])
    assert wait_for_status(app_settings, third) == "DONE"
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        rerun = session.get(Incident, third)
        assert (rerun.run_of_id, rerun.params["window_sec"]) == (first, 3.0)
        assert session.get(Incident, first) is not None, "an incident keeps its runs"


def test_incidents_table_filters_opens_and_deletes_with_confirmation(app_settings, clips):
    first = _stored(app_settings, clips)
    other = store_incident(app_settings, clips["calm"], name="parking.mp4", windows=WINDOWS, events=[])
    at = new_app("incidents")
    assert not problems(at)
    assert list(at.dataframe[0].value["file"]) == ["parking.mp4", "junction.mp4"]
    at.text_input(key="incidents.filter").input("junction").run()
    assert list(at.dataframe[0].value["id"]) == [first]

    at.text_input(key="incidents.filter").input("").run()
    at.session_state["incidents.table"] = {"selection": {"rows": [0], "columns": []}}  # a click on a row
    at.run()
    assert at.query_params["id"] == str(other) and at.subheader[0].value == "parking.mp4"
    at.switch_page("app_pages/incidents.py").run()

    at.multiselect(key="incidents.delete").set_value([other]).run()
    at.button(key="incidents.delete_button").click().run()
    assert _incident_count(app_settings) == 2, "nothing is deleted before the confirmation"
    at.button(key="incidents.delete_yes").click().run()
    assert not problems(at)
    assert _incident_count(app_settings) == 1
    assert any("Deleted: 1" in s.value for s in at.success)


def test_a_broken_configuration_is_a_message_not_a_traceback(app_settings, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://sigma:hunter2@127.0.0.1:1/sigma")
    get_settings.cache_clear()
    at = new_app()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert (
        len(errors) == 1
        and errors[0].startswith("The database cannot be reached:")
        and "hunter2" not in errors[0]
    )

    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("LLM_WINDOW_SEC", "-1")
    get_settings.cache_clear()
    at = new_app()
    assert not at.exception
    # the settings cannot be read, so neither can UI_LANGUAGE: the message comes in the default language
    assert [e.value for e in at.error] == [
        catalogue("ru")["error.invalid_value"].format(
            problems="llm_window_sec: Input should be greater than 0"
        )
    ]


def test_an_incident_deleted_from_its_page_is_gone_with_its_file(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    at = new_app("incident", incident_id=incident_id)
    at.button(key=f"delete-{incident_id}").click().run()
    assert _incident_count(app_settings) == 1, "nothing is deleted before the confirmation"
    at.button(key=f"delete-yes-{incident_id}").click().run()
    assert not problems(at)
    assert _incident_count(app_settings) == 0
    assert not any(app_settings.uploads_dir.iterdir())
    assert EN["incidents.empty"] in [i.value for i in at.info]  # back on the incidents page


def test_a_truncated_file_says_on_its_page_how_much_of_it_decoded(app_settings, clips, tmp_path):
    cut = store_incident(
        app_settings, cut_clip(clips["collision"], tmp_path), name="cut.mp4", windows=WINDOWS, events=[]
    )
    whole = _stored(app_settings, clips)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        decoded = session.get(Incident, cut).duration
    at = new_app("incident", incident_id=cut)
    assert not problems(at)
    wanted = EN["incident.truncated"].format(decoded=f"{decoded:.2f}".rstrip("0").rstrip("."), declared="8")
    assert wanted in [w.value for w in at.warning]
    at = new_app("incident", incident_id=whole)
    assert not any("cut short" in w.value for w in at.warning)


def test_a_rerun_shows_its_own_start_and_the_run_selector_follows_it_to_done(app_settings, clips):
    first = _stored(app_settings, clips)
    second = _stored(app_settings, clips)
    started = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        rerun = session.get(Incident, second)
        rerun.run_of_id, rerun.status, rerun.started_at = first, "PROCESSING", started
        uploaded = when(session.get(Incident, first).created_at)

    at = new_app("incident", incident_id=second)  # the re-run's page: its own start, not "uploaded"
    facts = next(c.value for c in at.caption if c.value.startswith(f"Analysis #{second} "))
    assert facts.endswith(EN["incident.rerun_started"].format(of=first, started=when(started)))
    at = new_app("incident", incident_id=first)
    facts = next(c.value for c in at.caption if c.value.startswith(f"Analysis #{first} "))
    assert facts.endswith(EN["incident.uploaded"].format(created=uploaded))
    selector = at.selectbox(key=f"runs-{first}")
    label = next(option for option in selector.options if option.startswith(f"#{second} "))
    assert "processing" in label and label.endswith(when(started))
    runs = [session_incident(app_settings, first), session_incident(app_settings, second)]
    assert refresh_every(runs) == RUNS_REFRESH_SEC  # the selector reads the runs again while one runs

    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        session.get(Incident, second).status = "DONE"
    runs = [session_incident(app_settings, first), session_incident(app_settings, second)]
    assert refresh_every(runs) is None
    at.run()
    label = next(o for o in at.selectbox(key=f"runs-{first}").options if o.startswith(f"#{second} "))
    assert "done" in label


def session_incident(settings, incident_id: int) -> Incident:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id)


def test_the_incidents_list_shows_a_frame_review_progress_top_score_and_engine(app_settings, clips):
    reviewed = _stored(app_settings, clips)
    quiet = store_incident(app_settings, clips["calm"], name="calm.mp4", windows=WINDOWS, events=[])
    failed = register_video(clips["calm"], app_settings, AnalysisParams.from_settings(app_settings))
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        repository.mark_failed(session, failed, "the model server is unreachable")
        first, second, _ = repository.events_of(session, reviewed)
        repository.set_review(session, first.id, ReviewStatus.CONFIRMED, "seen")
        repository.set_review(session, second.id, ReviewStatus.DISMISSED, "a shadow")
    at = new_app("incidents")
    for _ in range(5):  # thumbnails are made a few per run of the table
        at.run()
    assert not problems(at)
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[reviewed, "review"] == "1 open · 1 ✓ · 1 ✗"  # not reviewed · confirmed · dismissed
    assert table.loc[reviewed, "top_score"] == pytest.approx(0.9) and table.loc[reviewed, "events"] == 3
    assert table.loc[quiet, "review"] == "" and table.loc[quiet, "events"] == 0
    assert table.loc[reviewed, "engine"] == EN["engine.short.vlm"] == "VLM"
    for incident_id in (reviewed, quiet, failed):  # a failed run's video is there to see too
        assert table.loc[incident_id, "thumbnail"].startswith("data:image/jpeg;base64,")
    thumbs = list((app_settings.storage_dir / "derived").rglob("thumb-*.jpg"))
    assert len(thumbs) == 3  # made once, kept beside the browser copy


def test_next_unreviewed_event_walks_through_the_events_without_a_verdict(app_settings, clips):
    incident_id = _stored(app_settings, clips)
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        collision, near_miss, fight = repository.events_of(session, incident_id)
        repository.set_review(session, collision.id, ReviewStatus.CONFIRMED, "")
    at = new_app("incident", incident_id=incident_id)
    visited = []
    for _ in range(3):
        button = at.button(key=f"card-unreviewed-{incident_id}")
        assert button.label == EN["card.next_unreviewed"].format(count=2)
        button.click().run()
        assert not problems(at)
        visited.append(at.session_state["sigma.seek"]["event_id"])
    assert visited == [near_miss.id, fight.id, near_miss.id]  # past the last one, from the start again
    assert at.session_state["sigma.seek"]["seconds"] == near_miss.start_time
