"""Evidence prepared when an analysis ends (PREPARE_EVIDENCE): every event's clip and picture are
made once, while nobody waits, and the report, the case package and the event panel reuse them; a
failure there never touches the analysis's outcome. Event pictures are kept under what they show."""

from __future__ import annotations

import zipfile

import pytest

from core import repository
from core.access import Principal
from core.db import get_engine, session_scope
from core.errors import SigmaError
from core.evidence import clips as clip_module
from core.evidence.package import build_package
from core.jobs import run_analysis
from core.overlay import event_picture
from core.report import build_report
from core.schema import AnalysisParams, Box, Event, Status
from core.service import register_video
from core.storage import video_path
from tests.conftest import make_settings
from tests.stored_results import store_incident

ALICE = Principal(name="alice", role="analyst", via="password")


def _analysed(settings, clip) -> tuple[int, list[Event], str]:
    incident_id = register_video(clip, settings, AnalysisParams.from_settings(settings))
    run_analysis(incident_id, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        assert incident.status == Status.DONE
        return incident_id, repository.events_of(session, incident_id), incident.stored_name


def _nothing_decoded_or_cut(monkeypatch) -> None:
    """From here on, cutting a clip or decoding a picture fails the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("made again instead of reused")

    monkeypatch.setattr(clip_module.subprocess, "run", refuse)
    monkeypatch.setattr("core.overlay.read_frame_at", refuse)


def test_an_analysis_ends_with_its_clips_and_pictures_ready_for_report_and_package(
    tmp_path, clips, monkeypatch
):
    settings = make_settings(tmp_path, prepare_evidence=True)
    incident_id, events, stored_name = _analysed(settings, clips["collision"])
    assert events, "the collision clip's analysis found nothing to prepare"
    folder = settings.storage_dir / "derived" / video_path(settings, stored_name).stem
    assert len(list((folder / "clips").glob("*.mp4"))) == len(events)
    assert len(list((folder / "pictures").glob("*.jpg"))) == len(events)

    _nothing_decoded_or_cut(monkeypatch)
    made = build_package(incident_id, tmp_path / "case.zip", settings, actor=ALICE)
    with zipfile.ZipFile(made.path) as archive:
        names = archive.namelist()
    assert sum(name.startswith("clips/") for name in names) == len(events)
    assert build_report(incident_id, settings, lang="en")  # its pictures are the kept ones


def test_without_prepare_evidence_nothing_is_made_after_the_analysis(tmp_path, clips):
    settings = make_settings(tmp_path, prepare_evidence=False)
    _, events, stored_name = _analysed(settings, clips["collision"])
    assert events
    folder = settings.storage_dir / "derived" / video_path(settings, stored_name).stem
    assert not (folder / "clips").exists() and not (folder / "pictures").exists()


def test_a_failure_while_preparing_leaves_the_analysis_done(tmp_path, clips, monkeypatch):
    settings = make_settings(tmp_path, prepare_evidence=True)

    def broken(*_args, **_kwargs):
        raise clip_module.ClipError("the clip could not be cut: disk full")

    monkeypatch.setattr("core.evidence.ready.event_clips", broken)
    incident_id = register_video(clips["collision"], settings, AnalysisParams.from_settings(settings))
    result = run_analysis(incident_id, settings)
    assert result["incident_id"] == incident_id and result["events"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        assert (incident.status, incident.error) == (Status.DONE, None)


def test_an_event_picture_is_drawn_once_and_redrawn_when_what_it_shows_changes(settings, clips, monkeypatch):
    boxed = Event(
        event_type="COLLISION", start_time=4.0, end_time=5.0, confidence=0.9, peak_time=4.5,
        box=Box(x=0.1, y=0.2, w=0.3, h=0.3),
    )  # fmt: skip
    incident_id = store_incident(settings, clips["collision"], name="c.mp4", windows=[], events=[boxed])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        stored_name = repository.get_incident(session, incident_id).stored_name
    jpeg, shown_at = event_picture(settings, stored_name, boxed)
    assert jpeg.startswith(b"\xff\xd8") and shown_at == pytest.approx(4.5, abs=0.05)

    calls = []
    original = event_picture.__globals__["read_frame_at"]
    monkeypatch.setattr("core.overlay.read_frame_at", lambda *a, **k: calls.append(a) or original(*a, **k))
    assert event_picture(settings, stored_name, boxed) == (jpeg, shown_at)  # kept: nothing decoded
    assert calls == []
    moved = boxed.model_copy(update={"box": Box(x=0.5, y=0.2, w=0.3, h=0.3)})
    redrawn, _ = event_picture(settings, stored_name, moved)  # another box: another picture
    assert len(calls) == 1 and redrawn != jpeg


def test_an_event_picture_of_a_video_gone_from_storage_is_none(settings, clips):
    event = Event(event_type="FALL", start_time=1.0, end_time=2.0, confidence=0.5)
    incident_id = store_incident(settings, clips["calm"], name="c.mp4", windows=[], events=[event])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        stored_name = repository.get_incident(session, incident_id).stored_name
    video_path(settings, stored_name).unlink()
    try:
        assert event_picture(settings, stored_name, event) is None
    except SigmaError as error:  # pragma: no cover - the failure this test guards against
        pytest.fail(f"a missing picture raised {error!r}")


def test_an_incident_deleted_while_its_evidence_is_prepared_leaves_no_files(tmp_path, clips, monkeypatch):
    """The clips and pictures being made must not recreate the folder the deletion removed."""
    from core import service
    from core.evidence import ready

    settings = make_settings(tmp_path, prepare_evidence=True)
    cut_clips = ready.event_clips

    def deleted_first(settings_, incident_id):
        service.delete(incident_id, settings_, actor=ALICE)
        with pytest.raises(SigmaError):  # the video is gone: no clip
            cut_clips(settings_, incident_id)

    monkeypatch.setattr(ready, "event_clips", deleted_first)
    incident_id = register_video(clips["collision"], settings, AnalysisParams.from_settings(settings))
    run_analysis(incident_id, settings)
    derived = settings.storage_dir / "derived"
    assert not derived.exists() or not any(derived.iterdir()), sorted(derived.rglob("*"))
