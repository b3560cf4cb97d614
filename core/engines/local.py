"""The local engine: no server, no weights. It measures motion and flags what stands out from the
video's own baseline, and says what it measured, never what it "saw".

How it measures (see bench/RESULTS.md for the comparison with optical flow and background
subtraction that chose this):

1. Frames come from `core.video.iter_frames` at 10 or more a second, shrunk inside ffmpeg to grey
   images of at most 160 px, each with its presentation time; Python never touches a full-size
   frame, so the whole measurement costs about a plain decode (bench/RESULTS.md).
2. Each pair of consecutive frames gives a change mask: the absolute difference after compensating
   the global lighting gain (drift, auto-exposure), thresholded at 4× this pair's own noise level
   (estimated from the median difference), so sensor noise and compression shimmer stay below it.
3. The mask is summed over a grid of cells. Each cell gets its own normal level (median and MAD
   over the whole video): a lane where cars always pass is normal there, a still corner is not.
   The change above each cell's normal, summed over the frame, is the frame's "unusual motion".
4. Unusual motion is compared with its own median and MAD over the video (a robust z score).
   Runs of frames above a low threshold are episodes; an episode counts when it spans at least two
   frame pairs and either peaks high (a sudden spike) or lasts (its z summed over time is large: a
   sustained burst). The thresholds were chosen on 210 random generated clips (bench/RESULTS.md
   reports a held-out set).
5. Windows that overlap a counted episode are flagged; their detections merge into one event,
   whose times come from the frames, not the windows.

What it cannot do (measured in bench/RESULTS.md, not hidden): in a scene where several people
walk all the time, one person's fall or a scuffle adds too little to the usual motion to stand
out; a change of the whole frame at once (camera knocked, scene cut) raises the pair's noise
estimate with it and is not flagged, which is also what keeps compression keyframe "pumping"
quiet. It sees grey levels: something moving against a background of nearly the same
brightness barely registers. The domain (traffic, industrial, violence) is beyond a motion measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.config import AnalysisLanguage
from core.engines.base import AnalysisEngine, RunContext, register
from core.pipeline import merge_detections
from core.schema import EngineOutcome, Event, WindowRecord
from core.video import iter_frames, occupied_windows, window_count, window_starts

MODEL_VERSION = "local-motion-2"

ANALYSIS_MAX_SIDE = 160  # px: motion of anything worth flagging survives; noise averages out
MIN_ANALYSIS_FPS = 10.0  # frames further apart than 0.1 s no longer show motion, only change
MAX_ANALYSIS_FPS = 30.0
CELL_PX = 20  # the grid cell, in analysis pixels (8×6 cells on a 4:3 frame)

NOISE_K = 4.0  # a pixel changed when its difference exceeds 4× the pair's noise level ...
MIN_PIXEL_CHANGE = 6  # ... and at least this many grey levels
CELL_K = 3.0  # a cell moves unusually above its median + 3 robust deviations ...
CELL_MIN_SPREAD = 0.01  # ... and that deviation is at least 1 % of the cell
UNUSUAL_MIN_SPREAD = 0.002  # the smallest spread of unusual motion (0.2 % of the frame)

EPISODE_LOW_Z = 2.5  # an episode is a run of frames above this ...
SPIKE_Z = 12.0  # ... that peaks above this (a sudden spike)
SUSTAINED_Z_SEC = 1.5  # ... or whose z above the low threshold, summed over seconds, reaches this
EPISODE_BRIDGE_SEC = 0.5  # a counted run takes in runs this close (see _episodes)
MIN_EPISODE_PAIRS = 2  # change seen in a single frame pair is a glitch (a keyframe refresh), not motion
BURST_MIN_SEC = 1.0  # an episode this long is a burst, shorter a sudden motion

# Every text the engine writes, in each ANALYSIS_LANGUAGE: the same figures, formatted the same way.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "SUDDEN_MOTION": "a short spike of motion",
        "MOTION_BURST": "sustained motion well above the usual level",
        "figures": (
            "motion {ratio:.1f}× this video's median "
            "({area:.1%} of the frame changing at the peak, unusual-motion z {z:.1f})"
        ),
        "episode": "{what}: {figures}; lasted {span:.2f} s, peak at {peak:.2f} s",
        "domain_requested": "as requested: the local engine measures motion and cannot tell the domain",
        "domain_unknown": "the local engine measures motion and cannot infer the domain",
    },
    "ru": {
        "SUDDEN_MOTION": "короткий всплеск движения",
        "MOTION_BURST": "продолжительное движение намного выше обычного уровня",
        "figures": (
            "движение {ratio:.1f}× медианы этого видео "
            "(на пике меняется {area:.1%} кадра, z необычного движения {z:.1f})"
        ),
        "episode": "{what}: {figures}; длилось {span:.2f} с, пик на {peak:.2f} с",
        "domain_requested": "как указано: локальный движок измеряет движение и не может определить область",
        "domain_unknown": "локальный движок измеряет движение и не может определить область",
    },
}


@register
class LocalEngine(AnalysisEngine):
    name = "local"

    def versions(self) -> tuple[str, str]:
        return MODEL_VERSION, "n/a"

    def analyze(self, ctx: RunContext) -> EngineOutcome:
        params, video = ctx.params, ctx.video
        ctx.set_versions(*self.versions())
        fps = analysis_fps(params.target_fps, video.fps)
        total = window_count(video.duration, params.window_sec, params.window_sec, video.frame_count)

        def progress(time: float) -> None:
            done = min(total, int(time / params.window_sec))
            ctx.progress(
                min(0.99, time / max(video.duration, 1e-6)),
                "measuring motion",
                pass_no=1,
                windows_done=done,
                windows_total=total,
            )

        series = measure_motion(ctx.video_path, fps=fps, on_frame=progress)
        ctx.log(
            "sampling",
            f"measured motion at {fps:g} fps on {series.size[0]}x{series.size[1]} grey frames "
            f"({len(series)} frame pairs, a grid of {series.cells.shape[1]} cells)",
        )
        report = score_motion(series)
        ctx.log("baseline", report.baseline_note())
        texts = TEXTS[ctx.settings.analysis_language]
        windows, events = flag_windows(
            report, video.duration, params.window_sec, language=ctx.settings.analysis_language
        )
        ctx.progress(1.0, "measuring motion", pass_no=1, windows_done=total, windows_total=total)
        ctx.log(
            "events",
            f"{len(events)} episode(s) of unusual motion: "
            + (", ".join(f"{e.event_type} {e.highlight}" for e in events) or "none"),
        )
        domain = params.domain if params.domain != "auto" else None
        return EngineOutcome(
            engine="local",
            model_version=MODEL_VERSION,
            prompt_version="n/a",
            inferred_domain=domain,
            domain_reason=texts["domain_requested"] if domain else texts["domain_unknown"],
            windows=windows,
            events=events,
            passes_run=[1],
        )


def analysis_fps(target_fps: float, video_fps: float) -> float:
    """The rate motion is measured at: the requested rate, but at least 10 (and at most 30, and
    never above the video's own rate)."""
    wanted = min(max(target_fps, MIN_ANALYSIS_FPS), MAX_ANALYSIS_FPS)
    return wanted if video_fps <= 0 else min(wanted, video_fps)


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class MotionSeries:
    """Per pair of consecutive analysed frames: when, how much of the frame changed, and where."""

    before: np.ndarray  # time of the earlier frame (s)
    after: np.ndarray  # time of the later frame (s)
    area: np.ndarray  # fraction of the frame that changed
    cells: np.ndarray  # (pairs, cells) fraction of each grid cell that changed
    size: tuple[int, int] = (0, 0)  # the grey frames measured (width, height)

    def __len__(self) -> int:
        return len(self.after)


class ChangeMeter:
    """Change masks of consecutive grey frames, robust to lighting drift, noise and compression."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = self.size = size
        self.grid = (max(1, round(width / CELL_PX)), max(1, round(height / CELL_PX)))
        self._previous: np.ndarray | None = None
        self._previous_median = 0.0

    def __call__(self, image: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(changed fraction, per-cell changed fractions) against the previous frame; None for the first."""
        current = cv2.GaussianBlur(image, (5, 5), 0)
        median = _quantile_u8(current, 0.5)
        previous, previous_median = self._previous, self._previous_median
        self._previous, self._previous_median = current, median
        if previous is None:
            return None
        gain = (median + 1.0) / (previous_median + 1.0)
        difference = cv2.absdiff(current.astype(np.float32), previous.astype(np.float32) * gain)
        # The pair's noise level from its median difference (to 1/16 of a grey level; most of a
        # frame does not move). It follows sensor noise and compression pumping, which vary from
        # frame to frame; compressed noise has heavy tails, hence the wide margin of NOISE_K.
        noise = 1.4826 * _quantile_u8(cv2.convertScaleAbs(difference, alpha=16.0), 0.5) / 16.0
        threshold = max(NOISE_K * noise, MIN_PIXEL_CHANGE)
        _, mask = cv2.threshold(difference, threshold, 1.0, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _SPECKLE)
        cells = cv2.resize(mask, self.grid, interpolation=cv2.INTER_AREA)
        return float(mask.mean()), cells.ravel()


_SPECKLE = np.ones((2, 2), np.uint8)  # change smaller than this is noise or compression shimmer


def _quantile_u8(image: np.ndarray, q: float) -> float:
    """A quantile of an 8-bit image, interpolated within its histogram bin (fast: no sort)."""
    histogram = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel()
    cumulative = np.cumsum(histogram)
    rank = image.size * q
    level = int(np.searchsorted(cumulative, rank))
    below = cumulative[level - 1] if level > 0 else 0.0
    return max(0.0, level - 0.5 + (rank - below) / max(histogram[level], 1.0))


def measure_motion(path: str | Path, *, fps: float, on_frame=None) -> MotionSeries:
    """The motion series of a whole video, decoded once as a stream of small grey frames."""
    meter: ChangeMeter | None = None
    before, after, area, cells = [], [], [], []
    previous_time = None
    for frame in iter_frames(path, fps, max_side=ANALYSIS_MAX_SIDE, gray=True):
        if meter is None:
            meter = ChangeMeter((frame.image.shape[1], frame.image.shape[0]))
        measured = meter(frame.image)
        if measured is not None and previous_time is not None:
            before.append(previous_time)
            after.append(frame.time)
            area.append(measured[0])
            cells.append(measured[1])
        previous_time = frame.time
        if on_frame is not None:
            on_frame(frame.time)
    grid_cells = meter.grid[0] * meter.grid[1] if meter else 1
    return MotionSeries(
        before=np.array(before, dtype=np.float64),
        after=np.array(after, dtype=np.float64),
        area=np.array(area, dtype=np.float32),
        cells=np.array(cells, dtype=np.float32).reshape(-1, grid_cells),
        size=meter.size if meter else (0, 0),
    )


# --- scoring --------------------------------------------------------------------------------------


@dataclass
class Episode:
    """A run of unusual motion, from the first frame pair above the low threshold to the last."""

    members: list[int]  # the frame pairs above the low threshold
    start: float
    end: float
    peak_z: float
    sustained: float  # z above the low threshold, summed over seconds
    peak_area: float
    peak_time: float

    @property
    def strength(self) -> float:
        """How far it stands out: 1 at the flagging threshold (a spike or a sustained run)."""
        return max(self.peak_z / SPIKE_Z, self.sustained / SUSTAINED_Z_SEC)

    @property
    def flagged(self) -> bool:
        return self.strength >= 1.0 and len(self.members) >= MIN_EPISODE_PAIRS

    @property
    def kind(self) -> str:
        return "MOTION_BURST" if self.end - self.start >= BURST_MIN_SEC else "SUDDEN_MOTION"


@dataclass
class MotionReport:
    series: MotionSeries
    z: np.ndarray  # robust z of unusual motion per frame pair
    area_median: float
    unusual_median: float
    unusual_spread: float
    episodes: list[Episode]

    def ratio(self, area: float) -> float:
        """A changed area as a multiple of this video's median changed area."""
        return area / max(self.area_median, 0.001)

    def baseline_note(self) -> str:
        flagged = sum(e.flagged for e in self.episodes)
        return (
            f"{len(self.series)} frame pairs; median changed area {self.area_median:.2%} of the frame; "
            f"unusual motion median {self.unusual_median:.2%}, robust spread {self.unusual_spread:.2%}; "
            f"{len(self.episodes)} episode(s) above z {EPISODE_LOW_Z:g}, {flagged} flagged "
            f"(peak z ≥ {SPIKE_Z:g} or sustained ≥ {SUSTAINED_Z_SEC:g} z·s)"
        )


def score_motion(series: MotionSeries) -> MotionReport:
    """Compare every frame pair with the video's own baseline, per cell and then over time."""
    if len(series) == 0:
        return MotionReport(series, np.zeros(0), 0.0, 0.0, UNUSUAL_MIN_SPREAD, [])
    cells = series.cells
    cell_median = np.median(cells, axis=0)
    cell_spread = np.maximum(1.4826 * np.median(np.abs(cells - cell_median), axis=0), CELL_MIN_SPREAD)
    unusual = np.clip(cells - (cell_median + CELL_K * cell_spread), 0.0, None).mean(axis=1)
    median = float(np.median(unusual))
    spread = max(1.4826 * float(np.median(np.abs(unusual - median))), UNUSUAL_MIN_SPREAD, 0.1 * median)
    z = (unusual - median) / spread
    episodes = _episodes(series, z)
    return MotionReport(series, z, float(np.median(series.area)), median, spread, episodes)


def _episodes(series: MotionSeries, z: np.ndarray) -> list[Episode]:
    """Runs of frame pairs above the low threshold (one pair's dip does not end a run). A flagged
    run takes in the runs within EPISODE_BRIDGE_SEC of it that are flagged too or at least half-way
    to a spike (a fall's lurch before the fall); lone blips near an event stay out of its times."""
    runs: list[list[int]] = []
    for index in np.flatnonzero(z >= EPISODE_LOW_Z).tolist():
        if runs and index - runs[-1][-1] <= 2:
            runs[-1].append(index)
        else:
            runs.append([index])
    singles = [_episode(series, z, run) for run in runs]
    groups: list[list[Episode]] = []
    for episode in singles:
        if (
            groups
            and _joinable(groups[-1][-1])
            and _joinable(episode)
            and (episode.start - groups[-1][-1].end <= EPISODE_BRIDGE_SEC)
        ):
            groups[-1].append(episode)
        else:
            groups.append([episode])
    episodes: list[Episode] = []
    for group in groups:
        if len(group) > 1 and any(e.flagged for e in group):
            episodes.append(_episode(series, z, [m for e in group for m in e.members]))
        else:
            episodes.extend(group)
    return episodes


def _joinable(episode: Episode) -> bool:
    return episode.flagged or (len(episode.members) >= MIN_EPISODE_PAIRS and episode.peak_z >= SPIKE_Z / 2)


def _episode(series: MotionSeries, z: np.ndarray, members: list[int]) -> Episode:
    first, last = members[0], members[-1]
    spans = series.after[members] - series.before[members]
    peak = members[int(np.argmax(z[members]))]
    # Motion seen between frames a and b happened somewhere between them: times are the middles
    # of the first and last pair, but an episode is never shorter than one pair.
    start = (series.before[first] + series.after[first]) / 2
    end = (series.before[last] + series.after[last]) / 2
    if first == last:
        start, end = series.before[first], series.after[last]
    return Episode(
        members=members,
        start=float(start),
        end=float(end),
        peak_z=float(z[peak]),
        sustained=float(np.sum((z[members] - EPISODE_LOW_Z) * spans)),
        peak_area=float(series.area[first : last + 1].max()),
        peak_time=float(series.after[peak]),
    )


def _score01(strength: float) -> float:
    """0..1, 0.5 exactly at the flagging threshold, growing with how far something stands out."""
    strength = max(strength, 0.0)
    return strength * strength / (1.0 + strength * strength)


def flag_windows(
    report: MotionReport, duration: float, window_sec: float, *, language: AnalysisLanguage
) -> tuple[list[WindowRecord], list[Event]]:
    """A timeline row for every window; a detection for every window a flagged episode touches,
    merged into events whose times come from the episode's frames; descriptions in `language`."""
    texts = TEXTS[language]
    series = report.series
    flagged = [e for e in report.episodes if e.flagged]
    windows: list[WindowRecord] = []
    detections: list[Event] = []
    # windows follow the frames that were measured: a stretch without frames is no window at all
    # (with no frame pair, a single frame: the first two windows of the span at most)
    frame_times = (
        np.concatenate([series.before, series.after])
        if len(series)
        else window_starts(min(duration, 2 * window_sec), window_sec, window_sec)
    )
    for index, start in occupied_windows(frame_times, window_sec, duration=duration):
        end = min(start + window_sec, duration) if duration > 0 else start + window_sec
        # the frame pairs that overlap the window (times only grow)
        low, high = np.searchsorted(series.after, start, "right"), np.searchsorted(series.before, end, "left")
        peak_z = float(report.z[low:high].max()) if high > low else 0.0
        peak_area = float(series.area[low:high].max()) if high > low else 0.0
        touching = [e for e in flagged if e.start < end and e.end > start]
        # a window no flagged episode touches stays below 0.5, whatever a lone glitch scored
        strength = max([min(peak_z / SPIKE_Z, 0.99)] + [e.strength for e in touching])
        description = _describe(texts, report, peak_area, peak_z, touching)
        windows.append(
            WindowRecord(
                window_index=index,
                start_time=start,
                end_time=end,
                description=description,
                score=round(_score01(strength), 4),
                pass_no=1,
            )
        )
        for episode in touching:
            detections.append(
                Event(
                    event_type=episode.kind,
                    start_time=max(start, episode.start),
                    end_time=min(end, episode.end),
                    confidence=round(min(0.99, _score01(episode.strength)), 4),
                    description=_describe(texts, report, episode.peak_area, episode.peak_z, [episode]),
                )
            )
    return windows, merge_detections(detections, gap=EPISODE_BRIDGE_SEC)


def _describe(
    texts: dict[str, str], report: MotionReport, area: float, peak_z: float, episodes: list[Episode]
) -> str:
    """What was measured, with its figures (in the language of `texts`); never a guess at what happened."""
    figures = texts["figures"].format(ratio=report.ratio(area), area=area, z=peak_z)
    if not episodes:
        return figures
    episode = max(episodes, key=lambda e: e.strength)
    return texts["episode"].format(
        what=texts[episode.kind], figures=figures, span=episode.end - episode.start, peak=episode.peak_time
    )
