"""The language in a real browser: chosen with the sidebar switch, it goes into the URL (`?lang=en`) and
stays English when an analysis starts and the page moves to the incident, and after a reload. The
server speaks Russian by default (UI_LANGUAGE=ru, ANALYSIS_LANGUAGE=ru), so anything that forgets the
choice shows Cyrillic."""

from __future__ import annotations

import re

import pytest

from core.i18n import LANGUAGE_NAMES, text
from core.samples import ScriptedEvent, make_clip
from tests.app_harness import wait_for_status
from tests.live_server import serve
from tests.test_browser import CHROMIUM_ARGS, chromium  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
CYRILLIC = re.compile("[а-яА-ЯёЁ]")


def _visible_text(page) -> str:
    """The page's text, less the language switch (each language is named in itself)."""
    shown = page.locator("body").inner_text()
    for name in LANGUAGE_NAMES.values():
        shown = shown.replace(name, "")
    return shown


def _english(page, waiting_for: str) -> str:
    page.get_by_text(waiting_for, exact=False).first.wait_for(timeout=30_000)
    for _ in range(40):  # elements of the run before fade out as this run draws over them
        shown = _visible_text(page)
        if not CYRILLIC.search(shown):
            break
        page.wait_for_timeout(250)
    assert not CYRILLIC.findall(shown), [line for line in shown.splitlines() if CYRILLIC.search(line)]
    assert "lang=en" in page.url
    return shown


def test_english_is_kept_in_the_url_when_an_analysis_starts_and_after_a_reload(chromium, tmp_path):  # noqa: F811
    clip = make_clip(tmp_path / "junction.mp4", seconds=6, events=[ScriptedEvent(3.0, 4.0, "collision")])
    with serve("server:app", tmp_path, UI_LANGUAGE="ru", ANALYSIS_LANGUAGE="ru") as running:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{running.base}/")
        page.get_by_text("Анализ видео").first.wait_for(timeout=30_000)
        page.locator("[data-testid=stSidebar]").get_by_text("English", exact=True).click()
        shown = _english(page, "Analyse a video")
        engine = page.locator('[data-testid="stSelectbox"] input').first.input_value()
        assert engine == "local (motion and tracked objects)"  # relabelled, still the same choice
        assert "200MB per file" not in shown  # Streamlit's own words, replaced ...
        limit = page.locator('[data-testid="stFileUploaderDropzoneInstructions"] > div').evaluate(
            "e => getComputedStyle(e, '::after').content"
        )
        assert (
            limit == f'"{text("en", "uploader.limit", limit=running.settings.max_upload_mb)}"'
        )  # ... by ours

        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(clip))
        page.wait_for_selector('[data-testid="stFileChip"]', timeout=20_000)
        page.get_by_role("button", name="Analyse", exact=True).click()
        page.wait_for_url("**/incident?id=*", timeout=30_000)
        incident_id = int(re.search(r"id=(\d+)", page.url).group(1))
        wait_for_status(running.settings, incident_id, {"DONE"}, timeout=120)
        _english(page, "Events")

        page.reload()
        _english(page, "Events")
        page.get_by_role("link", name="Analyses").first.click()
        _english(page, "Analyses")
        context.close()
