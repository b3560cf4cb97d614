"""Runs inside the bench's throwaway virtualenv (supervision 0.30.9 and opencv-contrib-python-headless,
which the project does not install): ByteTrack over given detections, and OpenCV's HOG people detector
over given crops. Reads a JSON job from argv[1], writes its answer as JSON to argv[2]."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def bytetrack(clips: list[dict]) -> list[dict]:
    import supervision as sv

    answers = []
    for clip in clips:
        tracker = sv.ByteTrack(frame_rate=round(clip["fps"]), minimum_consecutive_frames=1)
        frames, spent = [], 0.0
        for boxes in clip["frames"]:
            xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=np.float32).reshape(-1, 4)
            detections = sv.Detections(
                xyxy=xyxy, confidence=np.full(len(xyxy), 0.9, np.float32), class_id=np.zeros(len(xyxy), int)
            )
            started = time.perf_counter()
            tracked = tracker.update_with_detections(detections)
            spent += time.perf_counter() - started
            frames.append(
                [[int(i), *(float(v) for v in b)] for i, b in zip(tracked.tracker_id, tracked.xyxy)]
            )
        answers.append({"frames": frames, "seconds": spent})
    return answers


def hog(crops: list[str]) -> list[float]:
    import cv2

    detector = cv2.HOGDescriptor()
    detector.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    scores = []
    for crop in crops:
        image = cv2.imread(crop, cv2.IMREAD_GRAYSCALE)
        _, weights = detector.detectMultiScale(image, winStride=(8, 8), padding=(16, 16), scale=1.05)
        scores.append(float(np.max(weights)) if len(weights) else 0.0)
    return scores


if __name__ == "__main__":
    job = json.loads(Path(sys.argv[1]).read_text())
    answer = {"bytetrack": bytetrack(job.get("bytetrack", [])), "hog": hog(job.get("hog", []))}
    Path(sys.argv[2]).write_text(json.dumps(answer))
