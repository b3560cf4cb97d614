"""One language per screen under AppTest: `?lang=` is kept in the URL when an analysis starts, and an
incident page drawn in English has no Russian in it (an analysis written in Russian: its log, stage,
the domain's reason, the local engine's descriptions), in Russian no English from the catalogue (log,
uploader, units); a refusal is worded in the viewer's language. And the report: one language."""

from __future__ import annotations

import io
import re
import string

import pandas as pd
import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from core import repository
from core.config import get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.i18n import LANGUAGE_NAMES, catalogue, text
from core.jobs import run_analysis
from core.report import build_report
from core.schema import AnalysisParams
from core.service import register_video
from tests.app_harness import APP, configured_app, problems, wait_for_status
from tests.conftest import make_settings

CYRILLIC = re.compile("[а-яА-ЯёЁ]")


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def _speaking(monkeypatch, ui: str, analysis: str):
    monkeypatch.setenv("UI_LANGUAGE", ui)
    monkeypatch.setenv("ANALYSIS_LANGUAGE", analysis)
    get_settings.cache_clear()


def _opened_in(lang: str) -> AppTest:
    """The app as a new browser tab opens it at `?lang=...`."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["lang"] = lang
    return at.run()


def _shown(at) -> list[str]:
    """Every text on the page a person reads: words, labels, options, help, metrics and the cells of
    every table (the local engine's descriptions included: they are the catalogue's words too)."""
    shown = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
    ):
        shown += [str(e.value) for e in at.get(kind)]
    for kind in ("button", "selectbox", "multiselect", "slider", "select_slider", "text_input", "text_area"):
        for widget in at.get(kind):
            shown += [str(widget.label), str(widget.help or "")]
            shown += [str(option) for option in getattr(widget, "options", [])]
    shown += [f"{m.label} {m.value}" for m in at.metric]
    shown += [str(tab.label) for tab in at.tabs] + [str(e.label) for e in at.expander]
    for table in at.dataframe:
        frame: pd.DataFrame = table.value
        for column in frame.columns:
            shown += [str(column)] + [str(cell) for cell in frame[column]]
    return [line for line in shown if line not in LANGUAGE_NAMES.values()]


def _analysed_sample(at, settings) -> int:
    at.button(key=f"FormSubmitter:analyse-{text(at.query_params['lang'], 'analyse.sample')}").click().run()
    assert not problems(at)
    incident_id = int(at.query_params["id"])
    assert wait_for_status(settings, incident_id) == "DONE"
    return incident_id


def test_english_stays_in_the_url_and_on_the_page_when_an_analysis_starts(app_settings, monkeypatch):
    _speaking(monkeypatch, ui="ru", analysis="ru")
    assert (
        AppTest.from_file(str(APP), default_timeout=30).run().query_params["lang"] == "ru"
    )  # the URL says the language
    at = _opened_in("en")
    assert at.button[0].label == catalogue("en")["analyse.start"]
    _analysed_sample(at, app_settings)
    assert at.query_params["lang"] == "en", "the move to the incident keeps the language"
    at.run()
    assert not problems(at)
    russian = [line for line in _shown(at) if CYRILLIC.search(line)]
    assert russian == []
    logs = next(df.value for df in at.dataframe if "step" in df.value.columns)
    assert len(logs) >= 4 and not any(CYRILLIC.search(m) for m in logs["message"])
    for page in ("incidents", "about", "analyse"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert at.query_params["lang"] == "en", page
        assert [line for line in _shown(at) if CYRILLIC.search(line)] == [], page


def _english_phrases() -> set[str]:
    """Runs of three or more English words from the catalogue, as a Russian page must not show them."""
    phrases = set()
    for words in catalogue("en").values():
        for literal, *_ in string.Formatter().parse(words):
            command_free = re.sub(r"python -m core[^)]*", " ", literal)  # commands read the same in Russian
            phrases |= {p.strip() for p in re.findall(r"[A-Za-z]+(?: [a-z]+){2,}", command_free)}
    return phrases


def test_a_russian_page_shows_no_english_from_the_catalogue(app_settings, monkeypatch):
    _speaking(monkeypatch, ui="en", analysis="en")
    at = _opened_in("ru")
    uploader_words = " ".join(str(e.proto.body) for e in at.get("html"))
    assert text("ru", "uploader.button") in uploader_words  # Streamlit's own "Upload", replaced
    assert text("ru", "uploader.limit", limit=app_settings.max_upload_mb) in uploader_words
    _analysed_sample(at, app_settings)
    assert at.query_params["lang"] == "ru"
    at.run()
    assert not problems(at)
    shown = "\n".join(_shown(at))
    leftovers = sorted(phrase for phrase in _english_phrases() if phrase in shown)
    assert leftovers == []
    assert not re.search(r"\d s\b", shown), "seconds are «с» in Russian"
    logs = next(df.value for df in at.dataframe if "step" in df.value.columns)
    assert all(CYRILLIC.search(message) for message in logs["message"])
    for page in ("incidents", "about"):
        at.switch_page(f"app_pages/{page}.py").run()
        shown = "\n".join(_shown(at))
        assert sorted(phrase for phrase in _english_phrases() if phrase in shown) == [], page


def test_a_refused_upload_says_why_in_the_viewers_language(app_settings):
    at = _opened_in("ru")
    at.file_uploader(key="analyse.file").set_value(("holiday.mp4", b"just some text\n" * 20, "video/mp4"))
    at.button(key=f"FormSubmitter:analyse-{text('ru', 'analyse.start')}").click().run()
    [error] = [e.value for e in at.error]
    assert "holiday.mp4" in error and "это текстовый файл, а не видео" in error


def _report_text(settings, incident_id: int, lang: str) -> str:
    document = Document(io.BytesIO(build_report(incident_id, settings, lang=lang)))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_a_report_is_in_its_own_language_whatever_the_analysis_was_written_in(tmp_path, clips):
    for analysis, report in (("ru", "en"), ("en", "ru")):
        settings = make_settings(tmp_path / analysis, analysis_language=analysis)
        params = AnalysisParams.from_settings(settings, engine="local")
        incident_id = register_video(clips["collision"], settings, params)
        run_analysis(incident_id, settings)
        written = _report_text(settings, incident_id, report)
        dispose_engines()
        if report == "en":
            assert [line for line in written.splitlines() if CYRILLIC.search(line)] == []
        else:
            assert sorted(p for p in _english_phrases() if p in written) == []
            assert not re.search(r"\d s\b", written)


def test_why_a_run_failed_is_worded_in_the_viewers_language(app_settings, clips):
    """Runs record why they failed in English (the CLI and the API read it); the page words it again,
    the stage it stopped in too, for runs recorded before as well."""
    incident_id = register_video(clips["collision"], app_settings, AnalysisParams.from_settings(app_settings))
    stopped = (
        "interrupted: the process running this analysis stopped while measuring motion and tracking objects "
        "(42% done); no heartbeat for 93 s. Re-analyse to run it again."
    )
    with session_scope(get_engine(app_settings.resolved_database_url)) as session:
        repository.mark_failed(session, incident_id, stopped)
    at = _opened_in("ru")
    at.switch_page("app_pages/incident.py")
    at.query_params["id"] = str(incident_id)
    at.run()
    [error] = [e.value for e in at.error]
    assert text("ru", "stage.local") in error and "выполнено 42%" in error and not _latin(error)


def _latin(shown: str) -> list[str]:
    return [word for word in re.findall(r"[A-Za-z]{3,}", shown) if word.islower()]
