"""The dashboard in a real browser: the one server (`server:app`, as `make run` starts it) on a free
port, with APP_PASSWORD set, and Debian's Chromium driven by Playwright. A deep link to an incident
goes through the sign-in form and lands on that incident; the video streams from the media endpoint
(Range) and plays; a click on an event marker seeks it to the event's exact start; the CSV download
holds the events; the uploader works behind the gate. A screenshot of the incident page is saved.
(Without a password the same pages serve everyone: tested at the HTTP level in tests/test_gate.py
and under AppTest.) With named users (an APP_USERS file made by `python -m core users add`), a viewer
finds no control that changes evidence on the pages at all (not merely disabled), an analyst finds them.

Skips only when no Chromium is installed (`.ci/run` installs it with apt-get where it can).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core import jobs, service
from core.db import get_engine, session_scope
from core.repository import events_of
from core.samples import ScriptedEvent, make_clip
from core.schema import AnalysisParams
from tests.app_harness import ROOT, app_environment, wait_for_status
from tests.live_server import serve

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "correct horse"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM:
        message = "NO CHROMIUM (/usr/bin/chromium): the real-browser tests of the dashboard did NOT run"
        print(f"\n{'!' * 20} {message} {'!' * 20}", file=sys.stderr)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _first_event(settings, incident_id: int):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        events = events_of(session, incident_id)
    assert events, "the scripted collision must be found"
    first_type = min(e.event_type for e in events)
    return min((e for e in events if e.event_type == first_type), key=lambda e: e.start_time), events


def _click_marker_and_land(page, start_time: float) -> float:
    marker = page.locator(".js-plotly-plot .scatterlayer .trace .points path").first
    marker.wait_for(timeout=20_000)
    marker.click(force=True)
    page.wait_for_function(
        f"Math.abs(document.querySelector('video').currentTime - {start_time}) <= 0.5", timeout=15_000
    )
    return page.evaluate("document.querySelector('video').currentTime")


def test_signed_in_from_a_deep_link_the_video_streams_plays_seeks_and_downloads(chromium, tmp_path):
    clip = make_clip(tmp_path / "junction.mp4", seconds=8, events=[ScriptedEvent(4.6, 5.6, "collision")])
    with serve("server:app", tmp_path, APP_PASSWORD=PASSWORD) as running:
        settings = running.settings
        incident_id = service.register_video(clip, settings, AnalysisParams.from_settings(settings))
        jobs.run_analysis(incident_id, settings)
        assert wait_for_status(settings, incident_id) == "DONE"
        target, events = _first_event(settings, incident_id)

        context = chromium.new_context(viewport={"width": 1400, "height": 1500}, accept_downloads=True)
        page = context.new_page()
        media_requests: list[tuple[int, str | None]] = []
        page.on(
            "response",
            lambda r: (
                "/media?variant=browser" in r.url
                and media_requests.append((r.status, r.headers.get("content-range")))
            ),
        )
        page.goto(f"{running.base}/incident?id={incident_id}&lang=en")
        page.wait_for_url("**/signin?next=*")
        assert page.locator("video").count() == 0
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('button[type="submit"]').click()
        page.wait_for_url(f"**/incident?id={incident_id}*", timeout=20_000)
        page.get_by_text("Signed in as shared-password").wait_for(timeout=20_000)

        page.wait_for_selector("video", timeout=30_000)
        source = page.evaluate("document.querySelector('video').currentSrc")
        assert f"/api/v1/incidents/{incident_id}/media?variant=browser" in source
        page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)
        page.evaluate("document.querySelector('video').muted = true; document.querySelector('video').play()")
        page.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=20_000)
        page.evaluate("document.querySelector('video').pause()")  # so the seek below stays where it lands
        assert any(status == 206 and content_range for status, content_range in media_requests), (
            media_requests
        )

        current = _click_marker_and_land(page, target.start_time)
        assert current == pytest.approx(target.start_time, abs=0.05), "the seeker lands on the exact time"
        page.get_by_text("Save review").wait_for(timeout=10_000)  # the event is selected for review
        shot = tmp_path / "incident-page.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the incident page: {shot}")

        page.get_by_role("tab", name="Downloads").click()
        with page.expect_download(timeout=20_000) as download:
            page.get_by_role("button", name="Events CSV").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name.startswith(f"sigma-{incident_id}-") and saved.suffix == ".csv"
        rows = saved.read_text(encoding="utf-8-sig").strip().splitlines()
        assert len(rows) == 1 + len(events) and target.event_type in rows[1 + events.index(target)]

        # the dashboard's own uploader works behind the gate too (its requests carry the session)
        page.goto(f"{running.base}/?lang=en")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(clip))
        page.wait_for_selector('[data-testid="stFileChip"]', timeout=20_000)
        page.get_by_role("button", name="Analyse", exact=True).click()
        page.wait_for_url("**/incident?id=*", timeout=30_000)
        assert int(page.url.rsplit("id=", 1)[1].split("&")[0]) == incident_id + 1
        context.close()


# what changes evidence, by its label: none is drawn for a viewer
WRITE_CONTROLS = ("Delete", "Re-analyse", "Save review", "Save case details", "Place a legal hold")


def _add_user(users_file: Path, storage: Path, name: str, role: str, password: str) -> None:
    """`python -m core users add`, as an administrator makes the file."""
    environment = {**os.environ, **app_environment(storage, APP_USERS=str(users_file))}
    made = subprocess.run(
        [sys.executable, "-m", "core", "users", "add", name, "--role", role, "--password-stdin"],
        input=f"{password}\n", cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


def _signed_in_page(chromium, base: str, target: str, name: str, password: str):
    context = chromium.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.goto(f"{base}{target}")
    page.wait_for_url("**/signin?next=*")
    page.locator('input[name="name"]').fill(name)
    page.locator('input[name="password"]').fill(password)
    page.locator('button[type="submit"]').click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=30_000)
    return context, page


def _incident_page_as(chromium, base: str, incident_id: int, name: str, password: str, start: float):
    """The incident page signed in as `name`, the case expander open and the first event selected."""
    context, page = _signed_in_page(chromium, base, f"/incident?id={incident_id}&lang=en", name, password)
    page.wait_for_selector("video", timeout=30_000)
    _click_marker_and_land(page, start)
    page.get_by_text("Clip MP4").first.wait_for(timeout=15_000)  # the event card is drawn
    page.get_by_text("Case and legal hold").click()
    return context, page


def _nav(page, title: str):
    return page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True)


def _button_labels(page) -> set[str]:
    return {label.strip() for label in page.locator("button").all_inner_texts()}


def test_a_named_viewer_finds_no_control_that_changes_evidence_and_an_analyst_finds_them(chromium, tmp_path):
    clip = make_clip(tmp_path / "junction.mp4", seconds=8, events=[ScriptedEvent(4.6, 5.6, "collision")])
    users_file = tmp_path / "users.json"
    _add_user(users_file, tmp_path / "data", "vera", "viewer", "viewer's own secret")
    _add_user(users_file, tmp_path / "data", "alice", "analyst", "analyst's own secret")
    with serve("server:app", tmp_path, APP_USERS=str(users_file)) as running:
        settings = running.settings
        incident_id = service.register_video(clip, settings, AnalysisParams.from_settings(settings))
        jobs.run_analysis(incident_id, settings)
        assert wait_for_status(settings, incident_id) == "DONE"
        target, _ = _first_event(settings, incident_id)

        context, page = _incident_page_as(chromium, running.base, incident_id, "vera", "viewer's own secret",
                                          target.start_time)  # fmt: skip
        page.get_by_text("You are signed in as a viewer").first.wait_for(timeout=10_000)
        labels = _button_labels(page)
        assert not [c for c in WRITE_CONTROLS if any(c in label for label in labels)], labels
        assert page.locator("textarea").count() == 0, "no note can be typed"
        assert page.locator('[data-testid="stRadio"]').count() == 0, "no verdict can be chosen"
        page.goto(f"{running.base}/incidents?lang=en")
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=20_000)  # the incidents table
        assert page.get_by_text("Delete incidents").count() == 0
        assert _nav(page, "Analyse").count() == 0, "a viewer has no page that uploads"
        context.close()

        context, page = _incident_page_as(chromium, running.base, incident_id, "alice",
                                          "analyst's own secret", target.start_time)  # fmt: skip
        page.get_by_text("Save review").wait_for(timeout=10_000)
        labels = _button_labels(page)
        assert all(any(c in label for label in labels) for c in WRITE_CONTROLS), labels
        assert page.locator("textarea").count() >= 1
        page.goto(f"{running.base}/incidents?lang=en")
        page.get_by_text("Delete incidents").wait_for(timeout=20_000)
        assert _nav(page, "Analyse").count() == 1
        context.close()
