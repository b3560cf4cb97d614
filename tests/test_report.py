"""The DOCX report: opens with python-docx, holds every event, the sha256, a keyframe per event and the
timeline; model text with characters XML forbids still makes a file LibreOffice converts to PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from docx import Document

from core import repository
from core.cli import main as cli_main
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import InvalidInput
from core.report import build_report, xml_safe
from core.schema import AnalysisParams, Event, ReviewStatus
from core.service import register_video
from core.storage import video_path
from tests.stored_results import cut_clip, store_incident

LONG = "Очень длинное описание: " + "две машины столкнулись на перекрёстке, " * 12 + "X" * 300
DIRTY = "model text\x00with\x07control\x0bcharacters\x1f and\ufffe more"


def _events() -> list[Event]:
    return [
        Event(event_type="COLLISION", start_time=4.0, end_time=5.0, confidence=0.91, description=LONG),
        Event(
            event_type="NEAR_MISS",
            start_time=1.0,
            end_time=1.3,
            confidence=0.55,
            description="a cyclist swerves",
        ),
        Event(
            event_type="SUDDEN_MOTION",
            start_time=6.5,
            end_time=7.5,
            confidence=0.7,
            description="motion 6.3×",
        ),
    ]


def _store(settings, clip, events=None) -> int:
    incident_id = store_incident(
        settings,
        clip,
        name="перекрёсток, камера 3.mp4",
        windows=[(i * 1.5, i * 1.5 + 1.5, f"окно {i}: машины едут через перекрёсток") for i in range(5)],
        events=_events() if events is None else events,
        logs=[("start", "analysis started"), ("pass 1", "5 windows, 5 requests")],
    )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        first = repository.events_of(session, incident_id)[0]
        repository.set_review(session, first.id, ReviewStatus.CONFIRMED, "подтверждено инспектором")
    return incident_id


def _all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _sha256(settings, incident_id) -> str:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return repository.get_incident(session, incident_id).sha256


def test_report_holds_every_event_the_facts_and_a_picture_per_event(settings, clips, tmp_path):
    incident_id = _store(settings, clips["collision"])
    path = tmp_path / "report-ru.docx"
    path.write_bytes(build_report(incident_id, settings, lang="ru"))
    document = Document(str(path))
    text = _all_text(document)
    assert _sha256(settings, incident_id) in text
    assert "перекрёсток, камера 3.mp4" in text
    unwrapped = text.replace("\u200b", "")  # break opportunities the report adds inside very long words
    for event in _events():
        assert event.description in unwrapped
        assert event.highlight in text
    assert "Столкновение" in text and "Исходное имя файла" in text and "подтверждено инспектором" in text
    assert "test-model-7b" in text and "test-prompts-1" in text and "analysis started" in text
    assert len(document.inline_shapes) == len(_events()) + 1  # a keyframe per event, and the timeline
    assert text.count("середина события") == len(_events())

    english = Document(io.BytesIO(build_report(incident_id, settings, lang="en")))
    english_text = _all_text(english)
    assert (
        "Original file name" in english_text and "Collision" in english_text and "confirmed" in english_text
    )

    # LibreOffice opens it: convert to PDF, then a PNG page to look at (saved beside the test's files)
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        pytest.skip("LibreOffice (soffice) and pdftoppm are needed to check the report renders")
    profile = (tmp_path / "lo-profile").as_uri()  # own profile: another soffice running cannot interfere
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = tmp_path / "report-ru.pdf"
    assert pdf.stat().st_size > 10_000
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    assert sorted(p.name for p in tmp_path.glob("page-*.png")) == ["page-1.png", "page-2.png"]


def test_model_text_with_forbidden_characters_still_makes_a_document(settings, clips):
    incident_id = _store(
        settings,
        clips["calm"],
        events=[Event(event_type="FIGHT\x01", start_time=1, end_time=2, confidence=0.5, description=DIRTY)],
    )
    document = Document(io.BytesIO(build_report(incident_id, settings, lang="en")))
    assert xml_safe(DIRTY) == "model textwithcontrolcharacters and more"
    assert xml_safe(DIRTY) in _all_text(document)


def test_report_without_the_video_file_says_so_instead_of_a_picture(settings, clips):
    incident_id = _store(settings, clips["calm"])
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        video_path(settings, repository.get_incident(session, incident_id).stored_name).unlink()
    document = Document(io.BytesIO(build_report(incident_id, settings, lang="en")))
    assert len(document.inline_shapes) == 1  # only the timeline
    assert _all_text(document).count("No frame: the video file is no longer stored") == len(_events())


def test_report_of_a_truncated_file_says_how_much_of_it_decoded(settings, clips, tmp_path):
    incident_id = _store(settings, cut_clip(clips["collision"], tmp_path))
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        decoded = repository.get_incident(session, incident_id).duration
    for lang, words in (
        ("en", "the file is cut short: decoded {} s of 8 s"),
        ("ru", "декодировано {} с из 8 с"),
    ):
        text = _all_text(Document(io.BytesIO(build_report(incident_id, settings, lang=lang))))
        assert words.format(f"{decoded:.2f}".rstrip("0").rstrip(".")) in text, lang
    whole = _store(settings, clips["collision"])
    assert "cut short" not in _all_text(Document(io.BytesIO(build_report(whole, settings, lang="en"))))


def test_report_of_a_rerun_gives_its_videos_upload_time_not_its_own(settings, clips):
    first = _store(settings, clips["calm"])
    rerun = _store(settings, clips["calm"])
    uploaded = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        repository.get_incident(session, first).created_at = uploaded
        repository.get_incident(session, rerun).run_of_id = first
    document = Document(io.BytesIO(build_report(rerun, settings, lang="en")))
    facts = {row.cells[0].text: row.cells[1].text for table in document.tables for row in table.rows}
    assert facts["Uploaded"].startswith("2030-01-02 03:04:05")


def test_report_refuses_a_running_incident_and_the_cli_writes_one(
    settings, clips, monkeypatch, capsys, tmp_path
):
    waiting = register_video(clips["calm"], settings, AnalysisParams.from_settings(settings))
    with pytest.raises(InvalidInput, match="still SAVED"):
        build_report(waiting, settings)
    done = _store(settings, clips["calm"])
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        target = tmp_path / "out" / "incident.docx"
        assert cli_main(["report", str(done), "-o", str(target), "--lang", "ru"]) == 0
        assert capsys.readouterr().out.strip() == str(target)
        assert _sha256(settings, done) in _all_text(Document(str(target)))
        assert cli_main(["report", str(waiting), "-o", str(target)]) == 2
        assert "still SAVED" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_report_shows_the_analysts_concerns_context_and_severities(tmp_path, clips):
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path,
        llm_concerns={"NO_GLOVES": "a person works at the press without gloves"},
        llm_site_context="Press shop, line 2. Forklifts pass behind the presses.",
    )
    events = [
        Event(
            event_type="NO_GLOVES", start_time=1.0, end_time=2.0, confidence=0.8, severity=1, description="x"
        ),
        Event(event_type="FALL", start_time=4.0, end_time=5.0, confidence=0.9, severity=2, description="y"),
        Event(event_type="SUDDEN_MOTION", start_time=6.0, end_time=6.5, confidence=0.5, description="z"),
    ]
    incident_id = store_incident(
        settings, clips["calm"], name="press.mp4", windows=[(0, 1.5, "w")], events=events
    )
    text = _all_text(Document(io.BytesIO(build_report(incident_id, settings, lang="en")))).replace(
        "\u200b", ""
    )
    assert "NO_GLOVES — a person works at the press without gloves" in text
    assert "Press shop, line 2. Forklifts pass behind the presses." in text
    assert "No gloves" in text  # a concern's type reads like a built-in one
    assert "concern" in text and "danger" in text and "not rated" in text
    russian = _all_text(Document(io.BytesIO(build_report(incident_id, settings, lang="ru"))))
    assert "Опасность" in russian and "опасно" in russian and "Дополнительные типы событий" in russian


def test_the_reports_timeline_uses_the_dashboards_colours():
    """One palette (core.palette): an event type and a pass have the same colour in the report's
    picture as on the dashboard's chart, and a failed window is marked in the chart's failed colour."""
    from PIL import Image, ImageColor

    from core.palette import FAILED_COLOUR, PASS_COLOURS, type_colours
    from core.schema import WindowRecord
    from core.timeline_image import render_timeline

    windows = [
        WindowRecord(window_index=0, start_time=0.0, end_time=5.0, score=1.0, pass_no=1),
        WindowRecord(window_index=1, start_time=5.0, end_time=10.0, failed=True),
    ]
    event = Event(event_type="FIGHT", start_time=0.0, end_time=10.0, confidence=0.9)
    picture = Image.open(io.BytesIO(render_timeline(10.0, windows, [event], width=1000))).convert("RGB")
    lane_y = 20 + 170 + 16 + 56 // 2  # below the 170-pixel score panel: the first lane's middle
    assert picture.getpixel((500, lane_y)) == ImageColor.getrgb(type_colours(["FIGHT"])["FIGHT"])
    pass_one = ImageColor.getrgb(PASS_COLOURS[1])
    assert sum(picture.getpixel((x, 100)) == pass_one for x in range(200, 500)) > 250
    failed = ImageColor.getrgb(FAILED_COLOUR)
    assert any(picture.getpixel((x, y)) == failed for x in range(550, 1000) for y in (20, 21))
