"""The local engine: no server, no weights. Flags windows whose motion stands out from the video's
own baseline (median and MAD over all windows), and says what it measured, never what it "saw"."""

from __future__ import annotations

import cv2
import numpy as np

from core.engines.base import AnalysisEngine, RunContext, register
from core.pipeline import merge_detections
from core.schema import EngineOutcome, Event, WindowRecord
from core.video import iter_windows

MODEL_VERSION = "local-motion-1"
_ANALYSIS_WIDTH = 160


@register
class LocalEngine(AnalysisEngine):
    name = "local"

    def analyze(self, ctx: RunContext) -> EngineOutcome:
        params, video = ctx.params, ctx.video
        ctx.set_versions(MODEL_VERSION, "n/a")
        total = max(1, int(np.ceil(video.duration / params.window_sec)))
        spans: list[tuple[int, float, float]] = []
        scores: list[float] = []
        previous = None
        for window in iter_windows(
            ctx.video_path,
            duration=video.duration,
            window_sec=params.window_sec,
            target_fps=params.target_fps,
            frames_per_window=None,
        ):
            diffs = []
            for frame in window.frames:
                small = _gray_small(frame.image)
                if previous is not None:
                    diffs.append(float(np.mean(cv2.absdiff(small, previous))))
                previous = small
            spans.append((window.index, window.start, window.end))
            scores.append(max(diffs) if diffs else 0.0)
            ctx.progress(
                len(spans) / total,
                "measuring motion",
                pass_no=1,
                windows_done=len(spans),
                windows_total=total,
            )
        values = np.array(scores)
        median = float(np.median(values)) if len(values) else 0.0
        mad = float(np.median(np.abs(values - median))) if len(values) else 0.0
        spread_ = max(1.4826 * mad, 0.25, 0.1 * median)
        windows, detections = [], []
        for (index, start, end), score in zip(spans, scores):
            ratio = score / max(median, 1e-6)
            z = (score - median) / spread_
            flagged = z >= 6 and ratio >= 2.0
            description = f"motion {ratio:.1f}× this video's median (robust z {z:.1f})"
            windows.append(
                WindowRecord(
                    window_index=index,
                    start_time=start,
                    end_time=end,
                    description=description,
                    score=min(1.0, max(0.0, z / 12)),
                    pass_no=1,
                )
            )
            if flagged:
                detections.append(
                    Event(
                        event_type="SUDDEN_MOTION",
                        start_time=start,
                        end_time=end,
                        confidence=min(0.99, 0.5 + z / 40),
                        description=description,
                    )
                )
        events = merge_detections(detections, gap=params.window_sec * 0.01)
        return EngineOutcome(
            engine="local",
            model_version=MODEL_VERSION,
            prompt_version="n/a",
            windows=windows,
            events=events,
            passes_run=[1],
        )


def _gray_small(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    scale = _ANALYSIS_WIDTH / width
    small = cv2.resize(image, (_ANALYSIS_WIDTH, max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
