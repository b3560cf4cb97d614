"""An event's keyframe with what the engine measured drawn on it: the box at the peak frame and the
tracked objects' paths. One drawing for the dashboard's event card and the report's picture, made
once per event and kept beside the video (`event_picture`): decoding a 1080p frame means decoding
from the keyframe before it, seconds of video, which a report or package would otherwise repeat."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from core.config import Settings
from core.errors import SigmaError
from core.media import derived_dir, keep_derived
from core.schema import Event
from core.storage import video_path
from core.video import read_frame_at

MAX_WIDTH = 960
PICTURE_VERSION = "sigma-picture-1"  # changes when the drawing changes (kept pictures are redrawn)
BOX_BGR = (0, 0, 255)
PATH_BGR = ((255, 200, 0), (0, 220, 255), (255, 0, 255), (0, 255, 0))


def keyframe_time(event: Event) -> float:
    """The frame that shows the event best: the one its box was measured at, else its middle."""
    if event.peak_time is not None and event.start_time - 1e-6 <= event.peak_time <= event.end_time + 1e-6:
        return event.peak_time
    return (event.start_time + event.end_time) / 2


def draw_event(image: np.ndarray, event: Event) -> np.ndarray:
    """A copy of `image` (BGR) with the event's track paths (dots fading in time, one colour per track)
    and its box (red) drawn on it."""
    picture = image.copy()
    height, width = picture.shape[:2]
    thickness = max(2, round(width / 320))
    tracks = sorted({point.track_id for point in event.track_path})
    for number, track_id in enumerate(tracks):
        colour = PATH_BGR[number % len(PATH_BGR)]
        points = [
            (round(p.x * (width - 1)), round(p.y * (height - 1)))
            for p in event.track_path
            if p.track_id == track_id
        ]
        if len(points) >= 2:
            cv2.polylines(picture, [np.array(points, np.int32)], False, colour, thickness, cv2.LINE_AA)
        for x, y in points:
            cv2.circle(picture, (x, y), thickness, colour, -1, cv2.LINE_AA)
    if event.box is not None:
        box = event.box
        top_left = (round(box.x * (width - 1)), round(box.y * (height - 1)))
        bottom_right = (round((box.x + box.w) * (width - 1)), round((box.y + box.h) * (height - 1)))
        cv2.rectangle(picture, top_left, bottom_right, BOX_BGR, thickness + 1, cv2.LINE_AA)
    return picture


def event_keyframe_jpeg(path: Path, event: Event) -> tuple[bytes, float] | None:
    """The event's keyframe as JPEG (at most 960 px wide) with its box and paths, and the frame's
    exact time; None when the video cannot be read there."""
    if not path.is_file():
        return None
    frame = read_frame_at(path, keyframe_time(event))
    if frame is None:
        return None
    image = frame.image
    if image.shape[1] > MAX_WIDTH:
        scale = MAX_WIDTH / image.shape[1]
        image = cv2.resize(image, (MAX_WIDTH, round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", draw_event(image, event), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return (encoded.tobytes(), frame.time) if ok else None


def event_picture(settings: Settings, stored_name: str, event: Event) -> tuple[bytes, float] | None:
    """`event_keyframe_jpeg` of the stored video, drawn once and kept in `derived/<video>/pictures/`
    (removed with the video) under a digest of what the drawing shows; None when the video or the
    frame is gone (a picture is missing, never the page or report around it)."""
    drawn = {
        "version": PICTURE_VERSION,
        "time": round(keyframe_time(event), 6),
        "box": event.box.model_dump() if event.box else None,
        "paths": [point.model_dump() for point in event.track_path],
    }
    key = hashlib.sha256(json.dumps(drawn, sort_keys=True).encode()).hexdigest()[:24]
    folder = derived_dir(settings, stored_name) / "pictures"
    kept = next(folder.glob(f"{key}@*.jpg"), None) if folder.is_dir() else None
    if kept is not None:
        return kept.read_bytes(), float(kept.stem.split("@", 1)[1])
    try:
        made = event_keyframe_jpeg(video_path(settings, stored_name), event)
    except SigmaError:
        return None
    if made is not None:
        keep_derived(folder / f"{key}@{made[1]:.6f}.jpg", made[0])
    return made


def event_pictures(
    settings: Settings, stored_name: str, events: list[Event]
) -> list[tuple[bytes, float] | None]:
    """`event_picture` of each event, two decoded at once (the decoder works outside Python's lock and
    is multi-threaded itself; each holds ~70 MB of 1080p frames)."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(events), os.cpu_count() or 1, 2))) as pool:
        return list(pool.map(lambda event: event_picture(settings, stored_name, event), events))
