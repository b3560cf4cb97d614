"""The dashboard in a real browser: `streamlit run` headless on a free port, Debian's Chromium driven by
Playwright. Upload a clip with a known event, wait for DONE, click the event's marker on the Plotly
timeline, and check that the `<video>` element is at the event's start. A screenshot of the incident
page is saved under the test's temporary folder.

Skips only when no Chromium is installed (`.ci/run` installs it with apt-get where it can).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.config import Settings
from core.db import dispose_engines, get_engine, session_scope
from core.repository import events_of
from core.samples import ScriptedEvent, make_clip
from tests.app_harness import ROOT, app_environment

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(tmp_path: Path, **environment_extra: str):
    """The app as users run it (`streamlit run`), on its own storage dir; yields (base URL, settings)."""
    if not CHROMIUM:
        message = "NO CHROMIUM (/usr/bin/chromium): the real-browser test of the dashboard did NOT run"
        print(f"\n{'!' * 20} {message} {'!' * 20}", file=sys.stderr)
        pytest.skip(message)
    port = _free_port()
    environment = {**os.environ, **app_environment(tmp_path / "data", **environment_extra)}
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{(tmp_path / 'streamlit.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield base, Settings(_env_file=None, storage_dir=tmp_path / "data")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        dispose_engines()


@pytest.fixture
def server(tmp_path):
    with running_app(tmp_path) as running:
        yield running


def test_a_deep_link_as_the_first_request_still_passes_the_password_gate(tmp_path):
    """Streamlit runs a `pages/` file alone on a server's first request unless the page sends it back
    through the entry point; with APP_PASSWORD set, the page must not show before the password."""
    from playwright.sync_api import sync_playwright

    with running_app(tmp_path, APP_PASSWORD="correct horse") as (base, _settings):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/about?lang=en")
                page.locator('input[type="password"]').wait_for(timeout=20_000)
                assert page.get_by_text("Storage and database").count() == 0
                page.locator('input[type="password"]').fill("correct horse")
                page.locator('input[type="password"]').press("Enter")
                page.get_by_text("Storage and database").first.wait_for(timeout=20_000)
            finally:
                browser.close()


def test_clicking_an_event_marker_moves_the_video_to_the_event_start(server, tmp_path):
    from playwright.sync_api import sync_playwright

    base, settings = server
    clip = make_clip(tmp_path / "junction.mp4", seconds=8, events=[ScriptedEvent(4.6, 5.6, "collision")])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(f"{base}/?lang=en")
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(clip))
            page.wait_for_selector('[data-testid="stFileChip"]', timeout=20_000)
            page.get_by_role("button", name="Analyse", exact=True).click()
            page.wait_for_url("**/incident?id=*", timeout=30_000)
            incident_id = int(page.url.rsplit("id=", 1)[1].split("&")[0])
            page.wait_for_selector("video", timeout=60_000)  # DONE: the results replace the live status
            page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)

            with session_scope(get_engine(settings.resolved_database_url)) as session:
                events = events_of(session, incident_id)
            assert events, "the scripted collision must be found"
            first_type = min(e.event_type for e in events)
            target = min((e for e in events if e.event_type == first_type), key=lambda e: e.start_time)

            marker = page.locator(".js-plotly-plot .scatterlayer .trace .points path").first
            marker.wait_for(timeout=20_000)
            marker.click(force=True)
            page.wait_for_function(
                f"Math.abs(document.querySelector('video').currentTime - {target.start_time}) <= 0.5",
                timeout=15_000,
            )
            current = page.evaluate("document.querySelector('video').currentTime")
            assert current == pytest.approx(target.start_time, abs=0.5)
            assert current == pytest.approx(target.start_time, abs=0.05), "the seeker lands on the exact time"

            page.get_by_text("Save review").wait_for(timeout=10_000)  # the event is selected for review
            time.sleep(0.5)  # let the chart settle for the picture
            shot = tmp_path / "incident-page.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the incident page: {shot}")
        finally:
            browser.close()
