"""Synthetic clips with known events: the dashboard's "Try a sample", the tests and the benchmarks.

A clip is a textured scene with sensor noise, slow lighting drift and steady background traffic;
each scripted `Incident` adds something that a motion detector and a person both see (a red object
that bursts in and moves violently). Red is chosen so a test model server can recognise it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

EVENT_BGR = (0, 0, 255)


@dataclass(frozen=True)
class ScriptedEvent:
    start: float
    end: float
    kind: str = "burst"  # burst | collision | fall | flash


def _background(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, size=(max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    scene = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    texture = rng.normal(0, 12, size=(height, width, 1))
    scene = np.clip(scene.astype(np.float32) * 0.6 + 50 + texture, 0, 255).astype(np.uint8)
    for y in range(0, height, max(8, height // 12)):
        cv2.line(scene, (0, y), (width, y), (90, 90, 90), 1)
    scene[:, :, 2] = np.minimum(scene[:, :, 2], 150)  # keep pure red for the scripted events
    return scene


def render_frames(
    *,
    seconds: float,
    fps: float = 25.0,
    size: tuple[int, int] = (320, 240),
    events: Sequence[ScriptedEvent] = (),
    noise: float = 3.0,
    drift: float = 0.15,
    traffic: bool = True,
    seed: int = 7,
) -> Iterator[np.ndarray]:
    """Frames (BGR) of a scene; scripted events are visible exactly within [start, end)."""
    width, height = size
    rng = np.random.default_rng(seed)
    scene = _background(width, height, seed)
    unit = max(4, min(width, height) // 12)
    for i in range(int(round(seconds * fps))):
        t = i / fps
        gain = 1.0 + drift * np.sin(2 * np.pi * t / max(seconds, 1.0))
        frame = np.clip(scene.astype(np.float32) * gain, 0, 255)
        if noise:
            frame += rng.normal(0, noise, size=(height, width, 1))
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        if traffic:
            for lane, speed in ((0.3, 40.0), (0.7, -55.0)):
                x = int((t * speed * width / 320) % (width + 2 * unit)) - unit
                y = int(height * lane)
                cv2.rectangle(frame, (x, y), (x + 2 * unit, y + unit), (200, 160, 40), -1)
        for event in events:
            if event.start <= t < event.end:
                _draw_event(frame, event, t, unit, rng)
        yield frame


def _draw_event(frame: np.ndarray, event: ScriptedEvent, t: float, unit: int, rng) -> None:
    height, width = frame.shape[:2]
    phase = (t - event.start) / max(event.end - event.start, 1e-3)
    if event.kind == "flash":
        frame[:, :] = (frame * 0.3 + np.array(EVENT_BGR) * 0.7).astype(np.uint8)
        return
    if event.kind == "fall":
        x, y = width // 2, int(height * (0.1 + 0.8 * phase))
        cv2.rectangle(frame, (x - unit, y - 2 * unit), (x + unit, y), EVENT_BGR, -1)
        return
    if event.kind == "collision":
        left = int(width * 0.5 * phase)
        right = width - int(width * 0.5 * phase)
        cv2.rectangle(frame, (left - 2 * unit, height // 2 - unit), (left, height // 2 + unit), EVENT_BGR, -1)
        cv2.rectangle(
            frame, (right, height // 2 - unit), (right + 2 * unit, height // 2 + unit), EVENT_BGR, -1
        )
        return
    for _ in range(6):  # burst: several red objects jumping around violently
        x = int(rng.integers(0, max(1, width - 2 * unit)))
        y = int(rng.integers(0, max(1, height - 2 * unit)))
        cv2.rectangle(frame, (x, y), (x + 2 * unit, y + 2 * unit), EVENT_BGR, -1)


def write_clip(
    path: str | Path,
    frames: Iterator[np.ndarray],
    *,
    fps: float,
    size: tuple[int, int],
    codec: str = "libx264",
) -> Path:
    """Encode frames with the imageio-ffmpeg binary (H.264, yuv420p, faststart by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = ["-movflags", "+faststart"] if codec == "libx264" else []
    writer = imageio_ffmpeg.write_frames(
        str(path),
        size,
        fps=fps,
        codec=codec,
        pix_fmt_in="bgr24",
        pix_fmt_out="yuv420p" if codec == "libx264" else None,
        quality=None,
        bitrate=None,
        macro_block_size=1,
        output_params=params + (["-preset", "veryfast", "-crf", "28"] if codec == "libx264" else []),
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def make_clip(
    path: str | Path,
    *,
    seconds: float,
    fps: float = 25.0,
    size: tuple[int, int] = (320, 240),
    events: Sequence[ScriptedEvent] = (),
    **scene: object,
) -> Path:
    """Write a clip with `events` to `path` (H.264 MP4)."""
    frames = render_frames(seconds=seconds, fps=fps, size=size, events=events, **scene)
    return write_clip(path, frames, fps=fps, size=size)


def make_sample_clip(path: str | Path) -> Path:
    """The dashboard's sample: 12 s of a street-like scene with a collision and a brief burst."""
    return make_clip(
        path,
        seconds=12.0,
        fps=25.0,
        size=(480, 270),
        events=[ScriptedEvent(4.0, 5.2, "collision"), ScriptedEvent(9.0, 9.6, "burst")],
    )
