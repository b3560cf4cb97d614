"""Benchmark clips, generated once and cached under bench/out/ (git-ignored)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

from core.samples import ScriptedEvent, make_clip

OUT = Path(__file__).with_name("out")


def five_minute_720p() -> Path:
    """5 minutes of 720p30 H.264: textured scene, noise, drift, steady traffic and a few incidents."""
    path = OUT / "clip_5min_720p30.mp4"
    if not path.exists():
        events = [ScriptedEvent(40.0, 41.5, "collision"), ScriptedEvent(150.0, 150.6, "burst"),
                  ScriptedEvent(230.0, 231.2, "fall")]
        make_clip(path.with_suffix(".part.mp4"), seconds=300, fps=30, size=(1280, 720), events=events)
        path.with_suffix(".part.mp4").rename(path)
    return path


def long_1080p(minutes: int) -> Path:
    """`minutes` of 1080p30 H.264 with moving texture, made by ffmpeg itself (fast to generate)."""
    path = OUT / f"clip_{minutes}min_1080p30.mp4"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.mp4")
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
             "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={minutes * 60}",
             "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(part)],
            check=True,
        )
        part.rename(path)
    return path
