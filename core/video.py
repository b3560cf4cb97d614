"""Video probing, validation by content, and streaming frame sampling with exact timestamps.

Every sampled frame carries the presentation time the decoder reports for it (not a running float
sum), so times stay right on variable-frame-rate phone videos and in hour-long files. Decoding
streams one frame at a time: memory does not grow with the video's length.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from core.errors import InvalidInput


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration: float
    frame_count: int
    codec: str


@dataclass(frozen=True)
class Frame:
    """A decoded frame (BGR) and its presentation time in seconds."""

    index: int
    time: float
    image: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Window:
    """A span of the video and the frames sampled from it, in time order."""

    index: int
    start: float
    end: float
    frames: list[Frame]


def probe(path: str | Path) -> VideoInfo:
    """Facts about a decodable video, or `InvalidInput` saying what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"file not found: {path}")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InvalidInput("no video stream: the file could not be opened as a video")
        ok, image = capture.read()
        if not ok or image is None:
            raise InvalidInput("no video stream: not a single frame could be decoded")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC) or 0)
        codec = "".join(chr((fourcc >> 8 * i) & 0xFF) for i in range(4)).strip("\x00 ")
        height, width = image.shape[:2]
    finally:
        capture.release()
    if not math.isfinite(fps) or fps <= 0:
        raise InvalidInput("the video stream has no valid frame rate")
    duration = frame_count / fps if frame_count > 0 else 0.0
    if duration <= 0:
        raise InvalidInput("the video has no duration")
    return VideoInfo(width, height, fps, duration, frame_count, codec)


def iter_frames(path: str | Path, target_fps: float) -> Iterator[Frame]:
    """Frames at about `target_fps`, each with its own presentation time, decoded one at a time."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput(f"cannot open video: {path}")
    step = 1.0 / target_fps
    next_time = 0.0
    index = 0
    try:
        while capture.grab():
            time = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if time + 1e-6 >= next_time:
                ok, image = capture.retrieve()
                if ok and image is not None:
                    yield Frame(index, time, image)
                next_time = (math.floor(time / step + 1e-6) + 1) * step
            index += 1
    finally:
        capture.release()


def spread(items: list, count: int) -> list:
    """`count` items chosen evenly from `items`, first and last included, order kept."""
    if count >= len(items):
        return list(items)
    if count == 1:
        return [items[len(items) // 2]]
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in dict.fromkeys(picks.tolist())]


def iter_windows(
    path: str | Path,
    *,
    duration: float,
    window_sec: float,
    target_fps: float,
    frames_per_window: int | None,
    overlap: float = 0.0,
) -> Iterator[Window]:
    """Windows of `window_sec` (overlapping by the fraction `overlap`), each with
    `frames_per_window` frames chosen evenly from those sampled at `target_fps`
    (all of them when `frames_per_window` is None)."""
    hop = window_sec * (1.0 - overlap)
    starts = window_starts(duration, window_sec, hop)
    pending: list[Frame] = []
    next_window = 0
    for frame in iter_frames(path, target_fps):
        pending.append(frame)
        while next_window < len(starts) and frame.time >= starts[next_window] + window_sec:
            yield _make_window(
                next_window, starts[next_window], window_sec, duration, pending, frames_per_window
            )
            next_window += 1
            if next_window < len(starts):
                pending = [f for f in pending if f.time >= starts[next_window]]
    while next_window < len(starts):
        yield _make_window(next_window, starts[next_window], window_sec, duration, pending, frames_per_window)
        next_window += 1
        if next_window < len(starts):
            pending = [f for f in pending if f.time >= starts[next_window]]


def window_starts(duration: float, window_sec: float, hop: float) -> list[float]:
    """Start times of the windows that cover [0, duration)."""
    count = max(1, math.ceil((duration - window_sec) / hop - 1e-9) + 1) if duration > window_sec else 1
    return [round(i * hop, 6) for i in range(count)]


def _make_window(
    index: int, start: float, window_sec: float, duration: float, frames: list[Frame], count: int | None
) -> Window:
    end = min(start + window_sec, duration) if duration > 0 else start + window_sec
    inside = [f for f in frames if start <= f.time < start + window_sec]
    return Window(index, start, max(end, start), spread(inside, count) if count else inside)


def read_frame_at(path: str | Path, time: float) -> Frame | None:
    """The frame shown at `time` seconds (for report pictures and thumbnails), or None past the end."""
    capture = cv2.VideoCapture(str(path))
    try:
        capture.set(cv2.CAP_PROP_POS_MSEC, max(0.0, time) * 1000.0)
        ok, image = capture.read()
        if not ok or image is None:
            return None
        index = int(capture.get(cv2.CAP_PROP_POS_FRAMES)) - 1
        shown = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        return Frame(index, shown, image)
    finally:
        capture.release()
