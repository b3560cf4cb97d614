"""Event clips: exact cuts by presentation time, stream copy only when the cut starts on a keyframe,
browser-playable output, pre-/post-roll kept inside the video, clear refusals, the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from core import repository
from core.access import Principal
from core.cli import main as cli_main
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import InvalidInput
from core.evidence.audit import trail_of
from core.evidence.clips import cut, event_clips, keyframe_at_or_before
from core.media import read_facts
from core.schema import Event
from core.storage import video_path
from core.video import ffmpeg_exe, iter_frames
from tests.stored_results import store_incident

FPS = 25
FRAMES = 100  # 4 s; a keyframe every 25 frames (1 s), B-frames between


def _numbered_frames(count: int, size=(64, 48)):
    """Frame i shows its number: the left half's grey level is i // 16, the right half's i % 16."""
    width, height = size
    for i in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, : width // 2] = (i // 16) * 16 + 8
        frame[:, width // 2 :] = (i % 16) * 16 + 8
        yield frame


def _write(path: Path, codec: str) -> Path:
    if codec == "libx264":
        params = ["-x264-params", "keyint=25:min-keyint=25:scenecut=0:bframes=2", "-movflags", "+faststart"]
        pixels = "yuv420p"
    else:
        params, pixels = ["-q:v", "2"], "yuvj420p"
    writer = imageio_ffmpeg.write_frames(
        str(path), (64, 48), fps=FPS, codec=codec, pix_fmt_in="bgr24", pix_fmt_out=pixels, quality=None,
        bitrate=None, macro_block_size=1, output_params=params, ffmpeg_log_level="error",
    )  # fmt: skip
    writer.send(None)
    for frame in _numbered_frames(FRAMES):
        writer.send(frame)
    writer.close()
    return path


def frame_numbers(path: Path) -> list[int]:
    numbers = []
    for frame in iter_frames(path, None, gray=True):
        half = frame.image.shape[1] // 2
        high = round((frame.image[:, :half].mean() - 8) / 16)
        low = round((frame.image[:, half:].mean() - 8) / 16)
        numbers.append(high * 16 + low)
    return numbers


def packet_checksums(path: Path) -> list[str]:
    """The CRC of every video packet, in order (ffmpeg's framecrc)."""
    listing = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [line.split(",")[5].strip() for line in listing.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def numbered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numbered")
    return {
        "h264": _write(folder / "numbered.mp4", "libx264"),
        "mjpeg": _write(folder / "numbered.avi", "mjpeg"),
    }


def _browser_playable(path: Path) -> bool:
    facts = read_facts(path)
    return facts.video_codec == "h264" and facts.pixel_format == "yuv420p" and facts.index_first


def test_a_cut_off_a_keyframe_is_re_encoded_from_the_exact_frame(numbered, tmp_path):
    assert frame_numbers(numbered["h264"]) == list(range(FRAMES))
    assert keyframe_at_or_before(numbered["h264"], 1.48) == pytest.approx(1.0)
    made = cut(numbered["h264"], 1.48, 2.8, tmp_path, fps=FPS)  # frame 37 (1.48 s) to before 70 (2.80 s)
    assert made.method == "re-encoded" and made.reason == "the cut does not start on a keyframe"
    assert frame_numbers(made.path) == list(range(37, 70))
    assert (made.start, made.end, made.frames) == (1.48, pytest.approx(2.8), 33)
    assert _browser_playable(made.path)


def test_a_cut_on_a_keyframe_keeps_the_originals_frames_bit_for_bit(numbered, tmp_path):
    made = cut(numbered["h264"], 2.0, 2.8, tmp_path, fps=FPS)
    assert made.method == "stream copy"
    numbers = frame_numbers(made.path)
    # the exact start, no frame missing; B-frames may carry the end a few frames on
    assert numbers == list(range(50, 50 + len(numbers))) and 20 <= len(numbers) <= 23
    assert made.end == pytest.approx(2.0 + len(numbers) / FPS) and made.frames == len(numbers)
    copied = packet_checksums(made.path)
    original = packet_checksums(numbered["h264"])
    start = original.index(copied[0])
    assert original[start : start + len(copied)] == copied  # the very same encoded frames
    assert _browser_playable(made.path)


def test_keyframe_mode_starts_at_the_keyframe_before_and_never_re_encodes(numbered, tmp_path):
    made = cut(numbered["h264"], 1.48, 2.8, tmp_path, fps=FPS, mode="keyframe")
    assert (made.method, made.start) == ("stream copy", 1.0)
    assert "started 0.48 s early, at the keyframe before the cut" in made.reason
    numbers = frame_numbers(made.path)
    assert numbers == list(range(25, 25 + len(numbers))) and numbers[-1] >= 69
    copied, original = packet_checksums(made.path), packet_checksums(numbered["h264"])
    assert original[original.index(copied[0]) :][: len(copied)] == copied
    mjpeg = cut(numbered["mjpeg"], 1.48, 2.8, tmp_path / "mjpeg", fps=FPS, mode="keyframe")
    assert mjpeg.method == "re-encoded" and frame_numbers(mjpeg.path)[0] == 37  # nothing to copy: exact


def test_an_original_browsers_cannot_play_is_always_re_encoded(numbered, tmp_path):
    made = cut(numbered["mjpeg"], 2.0, 2.8, tmp_path, fps=FPS)  # on a keyframe (every MJPEG frame is one)
    assert made.method == "re-encoded" and "mjpeg" in made.reason
    assert frame_numbers(made.path) == list(range(50, 70))
    assert _browser_playable(made.path)


def _store(settings, clip: Path, events: list[Event]) -> int:
    return store_incident(settings, clip, name="numbered.mp4", windows=[(0.0, 4.0, "w")], events=events)


def test_event_clips_have_pre_and_post_roll_inside_the_video_and_are_audited(db_settings, numbered):
    events = [
        Event(event_type="COLLISION", start_time=0.4, end_time=0.8, confidence=0.9),
        Event(event_type="FALL", start_time=2.2, end_time=2.4, confidence=0.7),
    ]
    incident_id = _store(db_settings, numbered["h264"], events)
    alice = Principal(name="alice", role="viewer", via="password")  # viewers may cut clips: it reads
    first, second = event_clips(db_settings, incident_id, pre_roll=1.0, post_roll=0.52, actor=alice)
    assert (first.number, first.event.event_type, first.cut.start) == (1, "COLLISION", 0.0)  # clamped
    assert first.cut.method == "stream copy"  # 0 s is the first keyframe
    assert frame_numbers(second.cut.path) == list(range(30, 73))  # 1.20 s to 2.92 s: frames 30-72
    assert second.file_name == f"sigma-{incident_id}-event-02-FALL.mp4"

    again = event_clips(db_settings, incident_id, [2], pre_roll=1.0, post_roll=0.52)  # not audited
    assert again[0].cut.path == second.cut.path
    assert again[0].cut.path.stat().st_mtime_ns == second.cut.path.stat().st_mtime_ns  # not cut twice

    whole = event_clips(db_settings, incident_id, [2], pre_roll=60, post_roll=60)[0]  # defaults: 3 s
    assert (whole.cut.start, whole.cut.end, whole.cut.frames) == (0.0, pytest.approx(4.0), FRAMES)
    audited = [e for e in trail_of(db_settings, incident_id) if e.action == "clip"]
    assert [(e.actor, e.details["number"]) for e in audited] == [("alice", 1), ("alice", 2)]


def test_clip_refusals_say_what_is_wrong(db_settings, numbered):
    incident_id = _store(
        db_settings,
        numbered["h264"],
        [
            Event(event_type="FALL", start_time=1.0, end_time=1.5, confidence=0.7),
            Event(event_type="FIGHT", start_time=9.0, end_time=9.5, confidence=0.7),  # past the 4 s video
        ],
    )
    with pytest.raises(
        InvalidInput, match="event 2 \\(9.00-9.50 s\\) lies outside the video \\(4.00 s long\\)"
    ):
        event_clips(db_settings, incident_id, [2])
    with pytest.raises(
        InvalidInput, match=f"incident {incident_id} has 2 events \\(numbers 1-2\\); there is no event 5"
    ):
        event_clips(db_settings, incident_id, [5])
    with pytest.raises(InvalidInput, match="no incident 424242"):
        event_clips(db_settings, 424242, [1])
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        video_path(db_settings, repository.get_incident(session, incident_id).stored_name).unlink()
    with pytest.raises(InvalidInput, match="no longer in storage: clips are cut from it"):
        event_clips(db_settings, incident_id, [1])


def test_the_cli_writes_one_clip_or_all_and_refuses_in_one_line(
    settings, numbered, tmp_path, monkeypatch, capsys
):
    events = [Event(event_type="FALL", start_time=1.0, end_time=1.2, confidence=0.7)]
    incident_id = _store(settings, numbered["h264"], events)
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        target = tmp_path / "out" / "fall.mp4"
        assert cli_main(["clip", str(incident_id), "--event", "1", "-o", str(target), "--pre", "0.4"]) == 0
        assert frame_numbers(target) == list(range(15, FRAMES))  # 0.60 s to the end (3 s post-roll)
        assert "event 1 FALL 1.00-1.20: 0.60-4.00 s, 85 frames, re-encoded" in capsys.readouterr().out
        assert cli_main(["clip", str(incident_id), "--all", "-o", str(tmp_path / "all")]) == 0
        assert [p.name for p in (tmp_path / "all").iterdir()] == [f"sigma-{incident_id}-event-01-FALL.mp4"]
        capsys.readouterr()
        assert cli_main(["clip", str(incident_id), "--event", "7", "-o", str(target)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"error: incident {incident_id} has one event (number 1); there is no event 7"
        ]
    finally:
        get_settings.cache_clear()
    actors = {e.actor for e in trail_of(settings, incident_id) if e.action == "clip"}
    assert len(actors) == 1 and actors.pop().startswith("cli:")
