"""Exports from stored results: JSON identical to `analyze --json`, CSV one row per event, WebVTT cues."""

from __future__ import annotations

import csv
import io
import re

import pytest

from core import repository
from core.cli import main as cli_main
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import InvalidInput
from core.export import EXPORTERS, Exporter, export, file_name
from core.schema import AnalysisParams, Event, ReviewStatus
from core.service import register_video
from tests.stored_results import store_incident

TRICKY = 'he said "stop", then\nthe car --> hit <b>the</b> pole & drove off'


@pytest.fixture
def cli_env(settings, monkeypatch):
    """`python -m core` in this process, on the test's storage."""
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.setenv("LLM_BASE_URL", "")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _stored(settings, clip) -> tuple[int, list[Event]]:
    incident_id = store_incident(
        settings,
        clip,
        name="junction, cam 3.mp4",
        windows=[(0.0, 1.5, "quiet"), (1.5, 3.0, "cars collide")],
        events=[
            Event(
                event_type="COLLISION",
                start_time=1.5,
                end_time=3.0,
                confidence=0.9,
                severity=2,
                description="two cars collide at the junction",
            ),
            Event(event_type="NEAR_MISS", start_time=5.2, end_time=5.5, confidence=0.456, description=TRICKY),
            Event(event_type="OTHER", start_time=3725.25, end_time=3726.0, confidence=0.3, description=""),
        ],
    )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        events = repository.events_of(session, incident_id)
        repository.set_review(session, events[1].id, ReviewStatus.DISMISSED, "shadow, not a car; see cam 4")
        events = repository.events_of(session, incident_id)
    return incident_id, events


def test_json_export_is_what_analyze_printed(cli_env, clips, capsys, tmp_path):
    assert cli_main(["analyze", str(clips["collision"]), "--json", "--quiet"]) == 0
    printed = capsys.readouterr().out
    incident_id = int(re.search(r'"incident_id": (\d+)', printed).group(1))
    assert cli_main(["export", str(incident_id), "--format", "json"]) == 0
    assert capsys.readouterr().out == printed
    target = tmp_path / "result.json"
    assert cli_main(["export", str(incident_id), "--format", "json", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed


def test_csv_has_one_row_per_event_that_survives_commas_quotes_and_newlines(settings, clips):
    incident_id, events = _stored(settings, clips["calm"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        content = export(session, incident_id, "csv")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == len(events) == 3
    assert list(rows[0]) == [
        "incident_id",
        "event_type",
        "start_time",
        "end_time",
        "highlight",
        "confidence",
        "severity",
        "description",
        "review_status",
        "review_note",
    ]
    first, tricky, late = rows
    assert (first["incident_id"], first["event_type"], first["start_time"], first["end_time"]) == (
        str(incident_id),
        "COLLISION",
        "1.50",
        "3.00",
    )
    assert (
        first["highlight"] == "1.50-3.00" and first["confidence"] == "0.90" and first["review_status"] == ""
    )
    assert tricky["description"] == TRICKY
    assert (tricky["review_status"], tricky["review_note"]) == ("dismissed", "shadow, not a car; see cam 4")
    assert late["start_time"] == "3725.25"
    assert [row["severity"] for row in rows] == ["2", "", ""]  # 0 note, 1 concern, 2 danger; empty: not rated


def test_vtt_has_one_readable_cue_per_event(settings, clips):
    incident_id, _events = _stored(settings, clips["calm"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        vtt = export(session, incident_id, "vtt")
        incident = repository.get_incident(session, incident_id)
        assert file_name(incident, "vtt") == f"sigma-{incident_id}-junction--cam-3.vtt"
    assert vtt.startswith("WEBVTT\n\n")
    cues = [block.splitlines() for block in vtt.strip().split("\n\n")[1:]]
    assert [cue[0] for cue in cues] == ["1", "2", "3"]
    assert cues[0][1:] == [
        "00:00:01.500 --> 00:00:03.000",
        "COLLISION [danger] — two cars collide at the junction",
    ]
    # a cue ends when its event ends, a short one too; markup and "-->" cannot break the cue
    assert cues[1][1] == "00:00:05.200 --> 00:00:05.500"
    assert cues[1][2] == (
        'NEAR_MISS — he said "stop", then the car --&gt; hit &lt;b&gt;the&lt;/b&gt; pole '
        "&amp; drove off (dismissed)"
    )
    assert cues[2][1:] == ["01:02:05.250 --> 01:02:06.000", "OTHER"]
    assert all(len(cue) == 3 for cue in cues), "one line of text per cue, no blank lines inside"


def test_nothing_to_export_is_a_clear_refusal(cli_env, clips, capsys):
    settings = cli_env
    incident_id = register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    with (
        session_scope(get_engine(settings.resolved_database_url)) as session,
        pytest.raises(InvalidInput, match="SAVED"),
    ):
        export(session, incident_id, "csv")
    assert cli_main(["export", str(incident_id), "--format", "vtt"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: incident {incident_id} is SAVED; there are no results to export yet"
    )
    assert cli_main(["export", "999", "--format", "csv"]) == 2
    assert "no incident 999" in capsys.readouterr().err


def _downloads_app():
    import streamlit as st

    from dashboard.data import load_incident
    from dashboard.downloads import download_buttons, subtitles

    incident = load_incident(st.session_state["incident"])
    download_buttons(incident)
    st.session_state["subtitles"] = subtitles(incident.id)


def test_dashboard_offers_every_download_and_captions_for_the_player(cli_env, clips):
    from streamlit.testing.v1 import AppTest

    incident_id, _events = _stored(cli_env, clips["calm"])
    app = AppTest.from_function(_downloads_app, default_timeout=30)
    app.session_state["incident"] = incident_id
    app.run()
    assert not app.exception
    buttons = [b.proto for b in app.get("download_button")]
    assert [b.id.rsplit("-", 1)[-1] for b in buttons] == [
        f"sigma.download.{fmt}.{incident_id}" for fmt in ("json", "csv", "vtt")
    ] + [f"sigma.download.storyboard.{incident_id}", f"sigma.download.docx.{incident_id}.ru"]
    assert all(b.deferred_file_id for b in buttons), "each download is made (and audited) when clicked"
    assert (
        app.session_state["subtitles"].startswith("WEBVTT")
        and "COLLISION [danger] — two cars" in app.session_state["subtitles"]
    )


def test_local_engine_exports_name_the_score_for_what_it_measured(settings, clips):
    """Issue 11: the local engine's event score is a measured strength, not a model's confidence; the CSV
    header says so, and the WebVTT file carries a note on what the cues are (a VLM run keeps "confidence")."""
    event = Event(
        event_type="FALL", start_time=2.0, end_time=3.0, confidence=0.62, description="fall: track 3 ..."
    )
    local_id = store_incident(
        settings, clips["calm"], name="cam.mp4", windows=[], events=[event], engine="local"
    )
    vlm_id = store_incident(settings, clips["calm"], name="cam.mp4", windows=[], events=[event], engine="vlm")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        local_csv, vlm_csv = export(session, local_id, "csv"), export(session, vlm_id, "csv")
        local_vtt, vlm_vtt = export(session, local_id, "vtt"), export(session, vlm_id, "vtt")
    [row] = list(csv.DictReader(io.StringIO(local_csv)))
    assert "confidence" not in row and row["measured_strength"] == "0.62"
    assert "confidence" in next(csv.reader(io.StringIO(vlm_csv)))
    assert local_vtt.startswith("WEBVTT\n\nNOTE Sigma local engine: ")
    assert "no model looked at the video" in local_vtt and "cannot rule out incidents" in local_vtt
    assert "NOTE" not in vlm_vtt and local_vtt.count("-->") == vlm_vtt.count("-->") == 1


def test_a_format_added_to_the_registry_is_offered_everywhere(cli_env, clips, capsys, monkeypatch, tmp_path):
    """EXPORTERS is the one list of formats: one entry reaches export(), the CLI (choices, file
    extension) and the dashboard's download buttons (media type, file name)."""
    from streamlit.testing.v1 import AppTest

    def event_types(session, incident) -> str:
        return "\n".join(e.event_type for e in repository.events_of(session, incident.id))

    monkeypatch.setitem(EXPORTERS, "types", Exporter(event_types, "text/plain", "txt"))
    incident_id, _events = _stored(cli_env, clips["calm"])
    with session_scope(get_engine(cli_env.resolved_database_url)) as session:
        assert export(session, incident_id, "types") == "COLLISION\nNEAR_MISS\nOTHER"
    assert cli_main(["export", str(incident_id), "--format", "types", "-o", str(tmp_path)]) == 0
    written = tmp_path / f"sigma-{incident_id}-junction--cam-3.txt"
    assert capsys.readouterr().out.strip() == str(written)
    assert written.read_text(encoding="utf-8") == "COLLISION\nNEAR_MISS\nOTHER\n"

    app = AppTest.from_function(_downloads_app, default_timeout=30)
    app.session_state["incident"] = incident_id
    app.run()
    assert not app.exception
    offered = {b.proto.id.rsplit("-", 1)[-1]: b.proto for b in app.get("download_button")}
    assert f"sigma.download.types.{incident_id}" in offered


def test_a_vtt_cue_ends_with_its_event_and_an_instant_one_is_kept():
    from core.export import to_vtt

    vtt = to_vtt([Event(event_type="FALL", start_time=8.96, end_time=9.56, confidence=0.5)])
    assert "00:00:08.960 --> 00:00:09.560" in vtt  # not 9.96: the cue is the event, no longer
    instant = to_vtt([Event(event_type="FALL", start_time=2.0, end_time=2.0, confidence=0.5)])
    assert "00:00:02.000 --> 00:00:02.001" in instant  # a cue must end after it starts, or players drop it
