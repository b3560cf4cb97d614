"""Issue 13, items 8 and 9: secrets masked by structure (every URL form, query secrets, the API key
as a whole token only), in `migrate`, the About page and log records; CSV cells that would run as
formulas neutralised; browser copies scaled to at most 1080p."""

from __future__ import annotations

import csv
import io
import logging
import subprocess

import pytest

from core.cli import main as cli_main
from core.config import Settings, get_settings, install_log_redaction, mask_text, mask_url
from core.db import get_engine, session_scope
from core.export import export
from core.media import BROWSER_MAX_SIDES, ensure_browser_video, read_facts
from core.schema import Event
from core.video import ffmpeg_exe
from tests.stored_results import store_incident


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://sigma:s3cret@db:5432/sigma", "postgresql+psycopg://sigma:***@db:5432/sigma"),
        ("postgresql://sigma@db/sigma?password=s3cret", "postgresql://sigma@db/sigma?password=***"),
        (
            "postgresql://db/sigma?sslmode=require&sslpassword=s3cret&user=u",
            "postgresql://db/sigma?sslmode=require&sslpassword=***&user=u",
        ),
        ("postgresql://u:p%40ss%3Aw@db/x", "postgresql://u:***@db/x"),
        ("postgresql://u:pa@ss@db/x", "postgresql://u:***@db/x"),  # an unescaped @ in the password
        ("redis://:hunter22@redis:6379/0", "redis://:***@redis:6379/0"),
        ("http://u:pw@[::1]:8000/v1", "http://u:***@[::1]:8000/v1"),
        ("http://u:pw@vllm:80x0/v1", "http://u:***@vllm:80x0/v1"),  # a port urlsplit refuses
        (
            "http://vllm:8000/v1?api_key=sk-1&token=t&key=k#top",
            "http://vllm:8000/v1?api_key=***&token=***&key=***#top",
        ),
        ("http://vllm:8000/v1?access_token=abc", "http://vllm:8000/v1?access_token=***"),
        (
            "postgresql://db/x?options=-csearch_path%3Dsigma&application_name=sigma",
            "postgresql://db/x?options=-csearch_path%3Dsigma&application_name=sigma",
        ),
        ("http://vllm:8000/v1", "http://vllm:8000/v1"),
        ("sqlite:////data/sigma.db", "sqlite:////data/sigma.db"),
        ("", ""),
    ],
)
def test_every_url_form_is_masked(url, shown):
    assert mask_url(url) == shown


def test_the_api_key_is_masked_as_a_whole_token_and_words_are_left_alone():
    weak = Settings(_env_file=None, llm_api_key="local", app_password="test")
    assert weak.redact("the local engine ran a test") == "the local engine ran a test"
    assert weak.redact("sent Authorization: Bearer local") == "sent Authorization: Bearer ***"
    strong = Settings(_env_file=None, llm_api_key="sk-live-9f8e7d6c")
    text = "key sk-live-9f8e7d6c, not sk-live-9f8e7d6cX nor xsk-live-9f8e7d6c"
    assert strong.redact(text) == "key ***, not sk-live-9f8e7d6cX nor xsk-live-9f8e7d6c"
    assert mask_text("failed: password=hunter22 host=db") == "failed: password=*** host=db"
    assert mask_text("at http://u:pw@h/v1?token=x.") == "at http://u:***@h/v1?token=***."


def test_migrate_and_the_about_page_hide_a_query_password(tmp_path, monkeypatch, capfd, postgres_schema_url):
    from dashboard.about import masked_database_url

    url = f"{postgres_schema_url}&password=hunter22"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        assert cli_main(["migrate"]) == 0
        shown = capfd.readouterr().err
        about = masked_database_url(get_settings())
    finally:
        get_settings.cache_clear()
    assert "hunter22" not in shown and "password=***" in shown
    assert "hunter22" not in about and "password=***" in about


def test_log_records_are_masked(caplog):
    settings = Settings(
        _env_file=None, llm_api_key="sk-live-9f8e7d6c", database_url="postgresql://u:s3cret@db/x"
    )
    install_log_redaction(settings)
    logger = logging.getLogger("sigma.test")
    with caplog.at_level(logging.INFO, logger="sigma.test"):
        logger.info("calling %s with %s", "postgresql://u:s3cret@db/x", "sk-live-9f8e7d6c")
        try:
            raise RuntimeError("refused key sk-live-9f8e7d6c")
        except RuntimeError:
            logger.exception("the local engine failed")
    text = caplog.text
    assert "s3cret" not in text and "sk-live-9f8e7d6c" not in text
    assert "calling postgresql://u:***@db/x with ***" in text and "the local engine failed" in text


@pytest.mark.parametrize("hostile", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_would_be_formulas_are_neutralised(settings, clips, hostile):
    event = Event(event_type="COLLISION", start_time=1.0, end_time=2.0, confidence=0.9, description=hostile)
    incident_id = store_incident(
        settings, clips["calm"], name="x.mp4", windows=[(0, 1.5, "")], events=[event]
    )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        rows = list(csv.DictReader(io.StringIO(export(session, incident_id, "csv"))))
    assert rows[0]["description"] == "'" + hostile
    assert rows[0]["start_time"] == "1.00" and rows[0]["event_type"] == "COLLISION"


def test_browser_copies_fit_1080p(settings):
    """A 2400×1600 MJPEG (the issue's 8000×8000 took 1.7 GB to copy; bench:browser_copy measures it)."""
    from core.storage import store_existing

    clip = settings.storage_dir.parent / "big.avi"
    clip.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=2400x1600:rate=5", "-t", "1",
         "-c:v", "mjpeg", "-q:v", "8", str(clip)],
        check=True,
    )  # fmt: skip
    stored = store_existing(clip, settings)
    copy = ensure_browser_video(settings, stored.stored_name)
    facts = read_facts(copy.path)
    assert copy.action == "transcode" and facts.video_codec == "h264"
    assert (facts.width, facts.height) == (1620, 1080)
    assert max(facts.width, facts.height) <= BROWSER_MAX_SIDES[0] and min(facts.width, facts.height) <= 1080
