"""Keyframes for the VLM engine's third pass: the moments worth showing a model in one request.

Two cheap OpenCV signals over the frames sampled at the analysis rate: motion (mean absolute
difference of consecutive small grey frames) and scene change (Bhattacharyya distance between
consecutive hue/saturation histograms). Hard cuts come first, then the frames where either signal
stands out most from the video's own baseline, then frames spread over the video for context,
never two closer than a minimum gap. Scoring streams; the chosen frames are
read in a second decoding pass, so memory does not grow with the video's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.video import Frame, iter_frames

_ANALYSIS_WIDTH = 160
_SCENE_CHANGE_MIN = 0.3  # Bhattacharyya distance; hard cuts are ~0.5 and above
_STANDS_OUT_Z = 4.0


@dataclass(frozen=True)
class FrameScore:
    index: int
    time: float
    motion: float
    scene_change: float


@dataclass(frozen=True)
class Keyframe:
    frame: Frame
    reason: str  # "scene change" | "motion peak" | "context"


def score_frames(path: str | Path, target_fps: float) -> list[FrameScore]:
    """Motion and scene-change scores of every frame sampled at `target_fps` (the first scores 0)."""
    scores: list[FrameScore] = []
    previous_gray = previous_hist = None
    for frame in iter_frames(path, target_fps, max_side=_ANALYSIS_WIDTH):
        gray, hist = _signature(frame.image)
        motion = float(np.mean(cv2.absdiff(gray, previous_gray))) if previous_gray is not None else 0.0
        scene = (
            float(cv2.compareHist(previous_hist, hist, cv2.HISTCMP_BHATTACHARYYA))
            if previous_hist is not None
            else 0.0
        )
        scores.append(FrameScore(frame.index, frame.time, motion, scene))
        previous_gray, previous_hist = gray, hist
    return scores


def choose_keyframes(
    scores: list[FrameScore], max_frames: int, *, min_gap: float
) -> list[tuple[FrameScore, str]]:
    """Up to `max_frames` scored frames, in time order, with why each was chosen: hard cuts first,
    then the frames whose scene change or motion stands out most from the video's own baseline
    (robust z-scores of local maxima), then frames spread evenly for context."""
    if not scores:
        return []
    chosen: list[tuple[FrameScore, str]] = []

    def take(candidates: list[tuple[FrameScore, str]]) -> None:
        for candidate, reason in candidates:
            if len(chosen) >= max_frames:
                return
            if all(abs(candidate.time - kept.time) >= min_gap for kept, _ in chosen):
                chosen.append((candidate, reason))

    scene = np.array([s.scene_change for s in scores])
    motion = np.array([s.motion for s in scores])
    scene_z = _robust_z(scene, floor=0.005)
    motion_z = _robust_z(motion, floor=0.05)
    cuts = sorted((s for s in scores if s.scene_change >= _SCENE_CHANGE_MIN), key=lambda s: -s.scene_change)
    take([(cut, "scene change") for cut in cuts])

    standing_out: list[tuple[float, FrameScore, str]] = []
    for i in range(1, len(scores)):
        if scene_z[i] >= _STANDS_OUT_Z and _local_max(scene, i):
            standing_out.append((scene_z[i], scores[i], "scene change"))
        elif motion_z[i] >= _STANDS_OUT_Z and _local_max(motion, i):
            standing_out.append((motion_z[i], scores[i], "motion peak"))
    take([(score, reason) for _, score, reason in sorted(standing_out, key=lambda item: -item[0])])

    if len(chosen) < max_frames:
        picks = np.linspace(0, len(scores) - 1, max_frames).round().astype(int)
        take([(scores[i], "context") for i in dict.fromkeys(picks.tolist())])
    return sorted(chosen, key=lambda item: item[0].time)


def select_keyframes(
    path: str | Path, *, duration: float, target_fps: float, max_frames: int, max_side: int | None = None
) -> list[Keyframe]:
    """Keyframes of the video at `path`, in time order (two decoding passes, bounded memory), the
    chosen frames decoded with their long side at most `max_side`."""
    scores = score_frames(path, target_fps)
    min_gap = max(1.5 / target_fps, duration / (3 * max_frames))
    plan = choose_keyframes(scores, max_frames, min_gap=min_gap)
    wanted = {score.index: reason for score, reason in plan}
    keyframes = []
    for frame in iter_frames(path, target_fps, max_side=max_side):
        if frame.index in wanted:
            keyframes.append(Keyframe(frame, wanted.pop(frame.index)))
            if not wanted:
                break
    return keyframes


def frames_at(path: str | Path, times: list[float], *, seek_beyond: float = 5.0) -> list[Frame]:
    """The frames shown at `times` (ascending), from one decoder: it reads forward to near targets
    and seeks only to those more than `seek_beyond` seconds ahead, so a short clip is decoded once
    and a long one is never decoded whole. Times past the end are skipped."""
    capture = cv2.VideoCapture(str(path))
    frames: list[Frame] = []
    try:
        position = 0.0
        for target in sorted(times):
            if target - position > seek_beyond:
                capture.set(cv2.CAP_PROP_POS_MSEC, target * 1000.0)
            while True:
                if not capture.grab():
                    return frames
                index = int(capture.get(cv2.CAP_PROP_POS_FRAMES)) - 1
                position = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                if position + 1e-6 >= target:
                    break
            ok, image = capture.retrieve()
            if ok and image is not None and all(f.index != index for f in frames):
                frames.append(Frame(index, position, image))
    finally:
        capture.release()
    return frames


def _signature(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = image.shape[:2]
    small = cv2.resize(
        image,
        (_ANALYSIS_WIDTH, max(1, round(height * _ANALYSIS_WIDTH / width))),
        interpolation=cv2.INTER_AREA,
    )
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    cv2.normalize(hist, hist)
    return gray, hist


def _local_max(values: np.ndarray, i: int) -> bool:
    return values[i] >= values[i - 1] and (i + 1 == len(values) or values[i] >= values[i + 1])


def _robust_z(values: np.ndarray, *, floor: float) -> np.ndarray:
    """How far each value stands above the median, in robust spreads (1.4826 × MAD, at least
    `floor` and a tenth of the median, so a near-constant signal does not make noise look huge)."""
    median = float(np.median(values))
    spread = max(1.4826 * float(np.median(np.abs(values - median))), 0.1 * median, floor)
    return (values - median) / spread
