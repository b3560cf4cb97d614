"""core.video: probe facts, exact presentation times (variable frame rate, 29.97 fps), streaming,
truncated and container-without-frame-count files, decoder-side downscaling, read_frame_at."""

from __future__ import annotations

import subprocess
import threading
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidInput
from core.video import (
    cut_short,
    ffmpeg_exe,
    iter_frames,
    iter_windows,
    probe,
    read_frame_at,
    spread,
    window_starts,
)

SIZE = (64, 48)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", *args], check=True)


def encode_numbered_frames(path: Path, pts_expression: str, count: int, *, timescale: int) -> Path:
    """A clip of `count` frames, frame N shown at `pts_expression` seconds (of N) and with
    brightness 20 + 2N, so a test can tell which frame it got."""
    width, height = SIZE
    frames = b"".join(bytes([20 + 2 * n]) * (width * height) for n in range(count))
    subprocess.run(
        [ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
         "-s", f"{width}x{height}", "-r", str(timescale), "-i", "-", "-vf", f"setpts='({pts_expression})/TB'",
         "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
         "-pix_fmt", "yuv420p", "-video_track_timescale", str(timescale), str(path)],
        input=frames, check=True,
    )  # fmt: skip
    return path


def vfr_times() -> list[Fraction]:
    """2 s at 10 fps, then 2 s at 30 fps, then 2 s at 5 fps: a phone that changed its rate."""
    return (
        [Fraction(n, 10) for n in range(20)]
        + [2 + Fraction(n, 30) for n in range(60)]
        + [4 + Fraction(n, 5) for n in range(10)]
    )


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory) -> Path:
    expression = "if(lt(N,20),N/10,if(lt(N,80),2+(N-20)/30,4+(N-80)/5))"  # the times of vfr_times()
    return encode_numbered_frames(tmp_path_factory.mktemp("vfr") / "vfr.mp4", expression, 90, timescale=3000)


@pytest.fixture(scope="module")
def ntsc_clip(tmp_path_factory) -> Path:
    """2 minutes at 29.97 fps (30000/1001), tiny: nominal-rate arithmetic would be 0.12 s off by its end."""
    path = tmp_path_factory.mktemp("ntsc") / "ntsc.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30000/1001:duration=120",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "600", str(path))  # fmt: skip
    return path


def test_probe_facts_of_a_plain_mp4(clips):
    info = probe(clips["calm"])
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25.0)
    assert info.frame_count == 200
    assert info.duration == pytest.approx(8.0)
    assert info.codec == "h264"
    assert info.container.startswith("mov,mp4")


def test_vfr_probe_gives_true_span_and_average_rate(vfr_clip):
    info = probe(vfr_clip)
    assert info.frame_count == 90
    assert 5.8 < info.duration <= 6.0 + 1e-6  # the last frame starts at 5.8 s; the muxer sets its length
    assert info.fps == pytest.approx(90 / info.duration, rel=1e-6)


def test_vfr_sampled_times_are_the_true_presentation_times(vfr_clip):
    times = vfr_times()
    frames = list(iter_frames(vfr_clip, 10))
    # the first frame of each 0.1 s slot: every 10 fps frame, every third 30 fps frame, every 5 fps frame
    expected = list(range(20)) + [20 + 3 * k for k in range(20)] + [80 + k for k in range(10)]
    assert [f.index for f in frames] == expected
    for frame in frames:
        assert frame.time == pytest.approx(float(times[frame.index]), abs=1e-9)
        brightness = float(np.mean(frame.image[:, :, 1]))  # green ~ luma for a grey frame
        assert brightness == pytest.approx(20 + 2 * frame.index, abs=2.5), "frame content is not frame N"


def test_every_frame_when_no_rate_is_asked(vfr_clip):
    frames = list(iter_frames(vfr_clip, None, gray=True))
    assert [f.time for f in frames] == pytest.approx([float(t) for t in vfr_times()], abs=1e-9)
    assert frames[0].image.shape == (SIZE[1], SIZE[0])


def test_vfr_windows_hold_the_frames_of_their_span(vfr_clip):
    windows = list(
        iter_windows(vfr_clip, duration=6.0, window_sec=1.5, target_fps=10, frames_per_window=None)
    )
    assert [w.start for w in windows] == [0.0, 1.5, 3.0, 4.5]
    assert windows[-1].end == pytest.approx(6.0)
    for window in windows:
        assert all(window.start <= f.time < window.start + 1.5 for f in window.frames)
    assert sum(len(w.frames) for w in windows) == 50
    picked = list(iter_windows(vfr_clip, duration=6.0, window_sec=1.5, target_fps=10, frames_per_window=5))
    assert [len(w.frames) for w in picked] == [5, 5, 5, 5]
    assert picked[0].frames[0].time == 0.0 and picked[0].frames[-1].time == pytest.approx(1.4)


def test_no_drift_over_two_minutes_at_29_97(ntsc_clip):
    info = probe(ntsc_clip)
    assert info.frame_count == 3597 or info.frame_count == 3596
    assert info.fps == pytest.approx(30000 / 1001, rel=1e-6)
    tracemalloc.start()
    try:
        last = None
        count = 0
        for frame in iter_frames(ntsc_clip, 10):
            # exact: frame N is shown at N * 1001/30000 s, whatever N is
            assert frame.time == pytest.approx(frame.index * 1001 / 30000, abs=1e-9)
            count += 1
            last = frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1200
    # the first frame of the last slot is frame 3594, shown at 119.92 s (index/30 would say 119.80)
    assert last.index == 3594 and last.time == pytest.approx(119.9198, abs=1e-4)
    assert peak < 2_000_000, f"{peak} bytes held while streaming 1200 frames: frames are being kept"


def test_decoder_side_downscale_keeps_aspect_and_never_enlarges(clips):
    small = next(iter(iter_frames(clips["calm"], 10, max_side=160)))
    assert small.image.shape == (120, 160, 3)
    gray = next(iter(iter_frames(clips["calm"], 10, max_side=100, gray=True)))
    assert gray.image.shape == (76, 100)  # 100 * 240/320 = 75, rounded to even
    full = next(iter(iter_frames(clips["calm"], 10, max_side=4000)))
    assert full.image.shape == (240, 320, 3)


@pytest.mark.parametrize("gray", [True, False])
def test_downscaled_frames_are_the_same_on_every_cpu(clips, tmp_path, monkeypatch, gray):
    """The engine's frames do not depend on the machine: ffmpeg's scaler has SIMD paths (SSE2, AVX2 ...)
    whose rounding differs, and the rules read exact pixel levels, so one video gave other events on
    another machine. The same frames with every SIMD path switched off (`-cpuflags 0`) prove it."""

    def frames() -> list[np.ndarray]:
        return [f.image for f in iter_frames(clips["calm"], 10, max_side=100, gray=gray)]

    on_this_cpu = frames()
    wrapper = tmp_path / "ffmpeg-no-simd"
    wrapper.write_text(f'#!/bin/sh\nexec "{ffmpeg_exe()}" -cpuflags 0 "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr("core.video.ffmpeg_exe", lambda: str(wrapper))
    without_simd = frames()
    assert len(on_this_cpu) == len(without_simd) > 0
    assert all(np.array_equal(a, b) for a, b in zip(on_this_cpu, without_simd, strict=True))


def test_matroska_and_webm_without_frame_count(tmp_path):
    mkv = tmp_path / "clip.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=24:duration=3", "-c:v", "libx264",
           "-preset", "ultrafast", str(mkv))  # fmt: skip
    webm = tmp_path / "clip.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=15:duration=2", "-c:v", "libvpx-vp9",
           "-deadline", "realtime", "-cpu-used", "8", str(webm))  # fmt: skip
    for path, fps, duration, codec in ((mkv, 24, 3.0, "h264"), (webm, 15, 2.0, "vp9")):
        info = probe(path)
        assert info.fps == pytest.approx(fps, rel=1e-3)
        assert info.duration == pytest.approx(duration, abs=0.002)
        assert info.frame_count == round(fps * duration)
        assert info.codec == codec
        assert info.container.startswith("matroska")


def test_truncated_files(tmp_path, clips):
    """A truncated file whose index comes first is analysed as far as it decodes; one whose index
    was at the (missing) end is refused, saying so."""
    whole = probe(clips["collision"])
    index_first = tmp_path / "index_first.mp4"
    ffmpeg("-i", str(clips["collision"]), "-c", "copy", "-movflags", "+faststart", str(index_first))
    cut = tmp_path / "cut.mp4"
    data = index_first.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    assert 1.0 < info.duration < whole.duration - 1.0
    assert cut_short(cut, info.duration) == pytest.approx(whole.duration, abs=0.05)  # "decoded 3.9 s of 8 s"
    assert cut_short(clips["collision"], whole.duration) is None
    frames = list(iter_frames(cut, 10))
    assert frames and frames[-1].time <= info.duration
    assert frames[-1].time >= info.duration - 0.5

    index_last = tmp_path / "index_last.mp4"
    ffmpeg("-i", str(clips["collision"]), "-c", "copy", "-movflags", "-faststart", str(index_last))
    cut_end = tmp_path / "cut_end.mp4"
    cut_end.write_bytes(index_last.read_bytes()[: index_last.stat().st_size // 2])
    with pytest.raises(InvalidInput, match="truncated or damaged"):
        probe(cut_end)


def test_mkv_with_a_lying_duration_tag(tmp_path):
    """A truncated mkv keeps the full duration in its header: probe must trust the packets."""
    whole = tmp_path / "whole.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=6", "-c:v", "libx264",
           "-preset", "ultrafast", str(whole))  # fmt: skip
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    info = probe(cut)
    assert info.duration < 5.0
    assert info.frame_count == round(info.duration * 25)


def test_read_frame_at_returns_the_frame_on_screen(vfr_clip):
    at = read_frame_at(vfr_clip, 2.05)  # 30 fps section: frames at 2.0333 and 2.0667
    assert at.time == pytest.approx(2 + 1 / 30, abs=1e-6)
    assert float(np.mean(at.image[:, :, 1])) == pytest.approx(20 + 2 * 21, abs=2.5)
    assert read_frame_at(vfr_clip, 0).time == 0.0
    last = read_frame_at(vfr_clip, 5.95)
    assert last.time == pytest.approx(5.8, abs=1e-6)
    assert read_frame_at(vfr_clip, 30.0) is None
    small = read_frame_at(vfr_clip, 1.0, max_side=32)
    assert small.image.shape == (24, 32, 3)


@pytest.mark.parametrize("rotation", ["0", "90", "180", "270"])
def test_read_frame_at_gives_the_decoders_frame_upright(tmp_path, clips, rotation):
    """The frame read in-process (PyAV) is exactly the one the ffmpeg binary decodes, turned the
    same way, at a time between keyframes and at the first frame."""
    turned = tmp_path / f"turned-{rotation}.mp4"
    ffmpeg("-display_rotation", rotation, "-i", str(clips["calm"]), "-c", "copy", str(turned))
    decoded = {frame.index: frame for frame in iter_frames(turned, None)}
    for asked, index in ((3.03, 75), (0.0, 0), (5.21, 130)):
        read = read_frame_at(turned, asked)
        assert (read.index, read.time) == (index, decoded[index].time)
        assert np.array_equal(read.image, decoded[index].image)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    assert read_frame_at(garbage, 1.0) is None, "a picture is missing, not the report around it"
    assert read_frame_at(turned, 5.0, max_side=100).image.shape[:2] == (
        (76, 100) if rotation in ("0", "180") else (100, 76)
    )


def test_stopping_early_ends_the_decoder(clips, monkeypatch):
    """Closing the generator after one frame ends ffmpeg at once. A decoder that waited for ffmpeg
    instead would block forever (ffmpeg blocks on a full pipe): `close()` runs in a thread given ten
    seconds, so that fault fails this test instead of hanging the suite."""
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    frames = iter_frames(clips["calm"], None)
    next(frames)
    closer = threading.Thread(target=frames.close, daemon=True)
    closer.start()
    closer.join(timeout=10)
    (process,) = started
    try:
        assert not closer.is_alive(), "closing the frame generator hung"
        assert process.poll() is not None, "ffmpeg still runs after the generator was closed"
    finally:
        if process.poll() is None:  # free the stuck thread and the process when the test fails
            process.kill()
            process.wait()


def test_window_starts_and_spread():
    assert window_starts(4.0, 1.5, 1.5) == [0.0, 1.5, 3.0]
    assert window_starts(1.0, 1.5, 1.5) == [0.0]
    assert window_starts(3.0, 1.5, 0.75) == [0.0, 0.75, 1.5]
    assert spread(list(range(15)), 5) == [0, 4, 7, 10, 14]
    assert spread([1, 2], 5) == [1, 2]


def test_phone_rotation_is_applied_consistently(tmp_path, clips):
    """A portrait phone clip stores landscape frames plus a rotation: probe and frames agree."""
    rotated = tmp_path / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(clips["calm"]), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert (info.width, info.height) == (240, 320)
    assert next(iter(iter_frames(rotated, 10))).image.shape == (320, 240, 3)
    assert next(iter(iter_frames(rotated, 10, max_side=160))).image.shape == (160, 120, 3)
