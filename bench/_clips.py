"""Benchmark clips, generated once and cached under bench/out/ (git-ignored).

Several benchmark scripts (and helpers) may ask for the same clip at once: generation runs under a
per-clip file lock, and a clip appears under its final name only when complete.
"""

from __future__ import annotations

import fcntl
import math
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg

from core.samples import ScriptedEvent, make_clip

OUT = Path(__file__).with_name("out")
_SEGMENT_MINUTES = 5


def _cached(path: Path, make: Callable[[Path], object]) -> Path:
    """`path`, made by `make(part_path)` under a lock unless it already exists."""
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            part = path.with_suffix(".part.mp4")
            make(part)
            part.rename(path)
    return path


def five_minute_720p() -> Path:
    """5 minutes of 720p30 H.264: textured scene, noise, drift, steady traffic and a few incidents."""
    events = [
        ScriptedEvent(40.0, 41.5, "collision"),
        ScriptedEvent(150.0, 150.6, "burst"),
        ScriptedEvent(230.0, 231.2, "fall"),
    ]
    return _cached(
        OUT / "clip_5min_720p30.mp4",
        lambda part: make_clip(part, seconds=300, fps=30, size=(1280, 720), events=events),
    )


def long_1080p(minutes: int) -> Path:
    """`minutes` of 1080p30 H.264 with moving texture and temporal noise.

    A 5-minute segment is encoded once by ffmpeg itself and repeated by stream copy (concat
    demuxer), so an hour takes minutes to make, not an hour and 40+ GB.
    """

    def make(part: Path) -> None:
        segment = _segment_1080p()
        listing = part.with_suffix(".txt")
        listing.write_text(f"file '{segment.name}'\n" * math.ceil(minutes / _SEGMENT_MINUTES))
        _ffmpeg(
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-t",
            str(minutes * 60),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(part),
        )
        listing.unlink()

    return _cached(OUT / f"clip_{minutes}min_1080p30.mp4", make)


def _segment_1080p() -> Path:
    return _cached(
        OUT / f"segment_{_SEGMENT_MINUTES}min_1080p30.mp4",
        lambda part: _ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1920x1080:rate=30:duration={_SEGMENT_MINUTES * 60}",
            "-vf",
            "noise=alls=4:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            str(part),
        ),
    )


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)
