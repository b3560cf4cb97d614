"""Browser-safe copies (core.media): what plays as it is stays as it is, H.264 in the wrong box is
remuxed, anything else is re-encoded to H.264 yuv420p with the index first, with its timing kept."""

from __future__ import annotations

import subprocess
import threading

import imageio_ffmpeg
import pytest

from core.errors import SigmaError
from core.media import derived_dir, ensure_browser_video, read_facts, usable_now
from core.samples import render_frames, write_clip
from tests.app_harness import configured_app, new_app, problems, wait_for_status


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _store(settings, name: str, make) -> str:
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    make(settings.uploads_dir / name)
    return name


def _mjpeg_avi(path):
    write_clip(path, render_frames(seconds=2.0, size=(322, 242)), fps=25, size=(322, 242), codec="mjpeg")


def _mp4_index_last(path):
    source = path.with_suffix(".src.mp4")
    write_clip(source, render_frames(seconds=2.0), fps=25, size=(320, 240))
    subprocess.run([FFMPEG, "-loglevel", "error", "-i", str(source), "-c", "copy", str(path)], check=True)
    source.unlink()


def test_h264_with_faststart_is_used_as_it_is(settings, clips):
    name = _store(settings, "a.mp4", lambda p: p.write_bytes(clips["calm"].read_bytes()))
    video = usable_now(settings, name)
    assert video is not None and video.action == "as-is" and video.path == settings.uploads_dir / name
    assert not (derived_dir(settings, name) / "browser.mp4").exists()


def test_mjpeg_avi_is_reencoded_to_h264_yuv420p_with_its_index_first(settings):
    name = _store(settings, "b.avi", _mjpeg_avi)
    assert usable_now(settings, name) is None, "re-encoding is never done on the page's thread"
    progress: list[float] = []
    video = ensure_browser_video(settings, name, on_progress=progress.append)
    facts = read_facts(video.path)
    assert (video.action, video.mimetype) == ("transcode", "video/mp4")
    assert (facts.video_codec, facts.pixel_format, facts.index_first) == ("h264", "yuv420p", True)
    assert facts.duration == pytest.approx(2.0, abs=0.1)
    assert progress and progress[-1] > 0.5
    assert usable_now(settings, name) == video, "decided once, then read back"


def test_an_mp4_with_its_index_at_the_end_is_remuxed(settings):
    name = _store(settings, "c.mp4", _mp4_index_last)
    assert read_facts(settings.uploads_dir / name).index_first is False
    video = ensure_browser_video(settings, name)
    assert video.action == "remux" and read_facts(video.path).index_first


def test_concurrent_requests_make_one_copy(settings):
    name = _store(settings, "d.avi", _mjpeg_avi)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_browser_video(settings, name)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({(r.path, r.action) for r in results}) == 1
    assert sorted(p.name for p in derived_dir(settings, name).iterdir()) == [
        ".browser.lock",
        "browser.json",
        "browser.mp4",
    ]


def test_a_missing_video_is_a_clear_error(settings):
    with pytest.raises(SigmaError, match="missing"):
        ensure_browser_video(settings, "nothing.mp4")


def test_the_incident_page_shows_an_avi_upload_once_its_copy_is_made(app_settings, tmp_path):
    avi = tmp_path / "camera.avi"
    _mjpeg_avi(avi)
    at = new_app()
    at.file_uploader(key="analyse.file").set_value(("camera.avi", avi.read_bytes(), "video/x-msvideo"))
    at.button(key="FormSubmitter:analyse-Analyse").click().run()
    incident_id = int(at.query_params["id"])
    assert wait_for_status(app_settings, incident_id) == "DONE"
    for _ in range(100):
        at.run()
        if at.get("video"):
            break
    assert not problems(at)
    assert at.get("video"), "the player appears once the browser copy exists"
    assert any("browser-playable copy" in c.value for c in at.caption)
