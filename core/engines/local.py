"""The local engine: no server, no weights. It measures motion, follows the objects that move, names
what their tracks do (COLLISION, FALL, FIGHT ...: the VLM taxonomy's codes where one exists), and
flags motion no rule explains. It says what it measured, never what it "saw".

One decoding pass (`observe`) over small grey frames from `core.video.iter_frames` (at least 10 a
second, at most 160 px, shrunk inside ffmpeg, each with its presentation time) feeds two measures:

1. Change masks of consecutive frames (`ChangeMeter`): the absolute difference after compensating
   the global lighting gain, thresholded at 4× the pair's own noise level, summed over a grid of
   cells. Each cell gets its own normal level (median and MAD over the video); the change above it
   is the frame's "unusual motion", compared with its own median and MAD (a robust z). Runs above a
   low threshold that peak high (a spike), last (summed z), move an unusually large patch of
   touching cells at once (fragments flying out of one point, each cell only a little), or show
   unusually many fragments (separate patches of change, each far smaller than a person) in two pairs
   running (pieces of something thrown or shattering, seen in flight) are episodes of unusual motion
   (thresholds chosen on random generated clips; bench/RESULTS.md compares this measure with optical
   flow and background subtraction).
2. Foreground objects and tracks (`core.tracks`): a background model finds the objects in each
   frame, with the part of each that the change mask saw move; a tracker links them (and, apart, the
   standing objects: what differs from a long-term background and does not change). `core.behaviour`
   classifies each track (person-like, vehicle-like, other, with its evidence) and applies the rules
   for typed events, each with frame times, the box at its peak frame, the tracks involved and a
   severity.

Episodes of unusual motion where three or more people who stood or walked there broke off at once (their
tracks ended or ran: `behaviour.broke_off`) are CROWD_PANIC. Others become SUDDEN_MOTION (short) or
MOTION_BURST (a second or more) only when no typed event explains them and the motion was not that of
tracked objects moving as they had been all along (people walking close to the camera make much motion,
nothing unusual). Where no crowd broke off, an object's motion is also the change outside its region in
the patches of change touching it (a body close to the camera changes the frame where it leaves and where
its parts are of the background's brightness, outside the region the background model sees), over the
episode and at its peak alike (pieces thrown off a passing car are the peak's change). Motion flagged
only for its many small fragments at once is no one body's: a runner's or a fall's event near it does
not explain it.

Windows follow the frames: a window gets a timeline row only if frames were decoded in it, so a file
whose timestamps jump by days costs what its frames cost, not one row per window of the claimed span.
A window's score is an anomaly score (0.5 at the flagging threshold), not a probability; an event's
"confidence" is the measured strength of its rule on the same scale.

What it cannot do (measured in bench/RESULTS.md, not hidden): it sees grey-level regions, not
people or cars: its classes come from shape, size and motion; objects of the background's
brightness barely register; objects that overlap for long are followed as one; a change of the
whole frame at once (camera knocked) is not flagged; the first second of a video (and after a gap)
only teaches the background. It names a domain only when the tracks make traffic plain.

It assumes a fixed camera. `CameraMeter` measures how the camera itself moved (corners followed from
the frame 0.1 s before, a similarity fitted robustly); when it moved in CAMERA_MOVING_SHARE of the
frame pairs or more (a dashcam, a body camera, a hand-held phone, a pan), the log says so and the
events raised while it moved are withheld, listed in that log line: its background, tracks and motion
baseline all assume a still view, and on moving footage its events named the camera's motion
(bench/dev_camera.py: generated pans, tilts, forward motion and hand-held jitter, and real footage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from core import behaviour
from core.behaviour import Finding, TrackView
from core.engines.base import AnalysisEngine, RunContext
from core.i18n import Language, Message, catalogue, say, text
from core.schema import Box, EngineOutcome, Event, TrackPoint, WindowRecord
from core.tracks import ATTACHED, WARM_UP_SEC, ForegroundModel, Tracker, cover
from core.video import iter_frames, occupied_windows, window_count

MODEL_VERSION = "local-tracks-3"

ANALYSIS_MAX_SIDE = 160  # px: motion of anything worth flagging survives; noise averages out
MIN_ANALYSIS_FPS = 10.0  # frames further apart than 0.1 s no longer show motion, only change
MAX_ANALYSIS_FPS = 30.0
CELL_PX = 20  # the grid cell, in analysis pixels (8×6 cells on a 4:3 frame)

NOISE_K = 4.0  # a pixel changed when its difference exceeds 4× the pair's noise level ...
MIN_PIXEL_CHANGE = 6  # ... and at least this many grey levels
CELL_K = 3.0  # a cell moves unusually above its median + 3 robust deviations ...
CELL_MIN_SPREAD = 0.01  # ... and that deviation is at least 1 % of the cell
UNUSUAL_MIN_SPREAD = 0.002  # the smallest spread of unusual motion (0.2 % of the frame)
VIEW_CHANGE_LEVEL = 10.0  # grey levels: when half the frame changed more than this, the view changed
# (a cut, a camera that moved or was knocked): the background starts over and tracks end

MAX_MOTION_GAP_SEC = 0.25  # frames further apart than this (under 4 fps) show change, not motion
EPISODE_LOW_Z = 2.5  # an episode is a run of frames above this ...
SPIKE_Z = 9.0  # ... that peaks above this (a sudden spike; at 12, pieces flying off at 9-10 were missed)
SUSTAINED_Z_SEC = 1.5  # ... or whose z above the low threshold, summed over seconds, reaches this
SPREAD_Z = 8.0  # ... or whose largest patch of unusually moving cells, as a robust z, reaches this (a
# burst of small fragments from one point: each cell only a little above its normal, many touching at once)
SPREAD_LOW_Z = 3.0  # a pair whose patch stands out this much belongs to a run whatever its z (a few
# more cells than usual, around a crowd walking by, do not stretch its episodes)
SPREAD_MIN_MAD = 1.0  # cells: the patch size's deviation is never taken as less than one cell
FRAGMENTS_Z = 5.0  # ... or whose count of fragments, as a robust z in two pairs running, reaches this
# (pieces of something thrown or shattering, each its own small patch of change, seen in flight)
FRAGMENTS_LOW_Z = 3.0  # a pair with this many more fragments than usual belongs to a run whatever its z
FRAGMENTS_MIN_MAD = 1.0  # fragments: the count's deviation is never taken as less than one
FRAGMENT_MIN_SHARE = 0.0007  # a fragment: a separate patch of change above 0.07 % of the frame (specks of
FRAGMENT_MAX_SHARE = 0.003  # noise and compression are smaller) and under 0.3 % (not a person or a car)
EPISODE_BRIDGE_SEC = 0.5  # a counted run takes in runs this close (see _episodes)
MIN_EPISODE_PAIRS = 2  # change seen in a single frame pair is a glitch (a keyframe refresh), not motion
BURST_MIN_SEC = (
    1.0  # an episode that stands out this long (at half its peak) is a burst, shorter a sudden motion
)
EXPLAINED_SHARE = 0.5  # motion at least half inside objects the tracker followed is theirs ...
EXPLAINED_FOLLOWED_SEC = 1.0  # ... when each was followed this long (a walker, not a jolt)
EXPLAINED_BEFORE_PEAK_SEC = 0.5  # ... and, with the change around it, at the peak by one followed this long
# before (a walker coming in, not a region a jolt itself made: two cars crashing part and merge anew), or
# since tracking began, or since it came in at the picture's edge (see _explained)
SPLIT_INSIDE = 0.7  # a track whose first box lies this much inside a followed object's box just before ...
SPLIT_SHARE = 0.25  # ... and is this share of it or more is a piece of it (a body turning close to the
SPLIT_GAP_SEC = 0.25  # camera breaks into pieces; debris thrown off a car is far smaller), when this close
TYPED_COVERS_SEC = 1.0  # motion this close to a typed event is that event's
# what a vehicle is doing for a while, not a moment: a jolt just before a vehicle stops (a crash) is not
# explained by the stop, nor one beside a wrong-way driver by the driving
STATE_EVENTS = frozenset({"STOPPED_VEHICLE", "WRONG_WAY"})
# one body's region, moving as one: many separate pieces, each far smaller than a person, flying at
# once are not its motion (someone running past as a thing is thrown does not cover the debris)
ONE_BODY_EVENTS = frozenset({"RUNNING", "FALL"})
CAMERA_CORNERS = 60  # corners of the earlier grey frame followed into the next to measure the camera's motion
CAMERA_REGIONS = (3, 3)  # the frame's regions: the camera moved only if points across them agree ...
CAMERA_MIN_REGIONS = 5  # ... in at least this many (one large object moving is not the camera)
CAMERA_STILL_PX = 0.125  # a region whose followed corners moved less than this (median) stood still ...
CAMERA_STILL_SHARE = 1 / 3  # ... and when the median one did in this share of the regions, the camera did
# not move (a fixed view with large objects or a crowd moving the same way: the fit may follow them, the
# background stays put)
CAMERA_MIN_EIGEN = 3e-3  # LK's least gradient eigenvalue: a corner, not a point on a straight edge (which
# slides along it) nor on a flat patch
CAMERA_RETURN_PX = 0.2  # a corner followed forward and back must land this close to where it started
CAMERA_STRIDE_SEC = 0.1  # the camera's motion is measured against the frame this long before
CAMERA_SHIFT_PX = 0.25  # analysed px per CAMERA_STRIDE_SEC: the camera moved where the fitted view motion
# moved the frame's corners this far (at 160 px, 1.6 % of the width a second), as the median over
# CAMERA_SMOOTH_SEC around a pair (one jerky pair, a keyframe's jump, is not a moving camera)
CAMERA_SMOOTH_SEC = 1.0
CAMERA_EVERY_SEC = 0.2  # measured this often (half the pairs at 10 fps: it costs ~1.7 ms a measure)
CAMERA_MOVING_SHARE = 0.2  # the camera moved in at least this share of the pairs: the result says so
CAMERA_EVENT_SHARE = 0.5  # an event raised while the camera moved (in this share of its pairs) is withheld:
# tracks, background and motion baseline all assume a fixed view (bench/dev_camera.py measured it)
CAMERA_EVENT_MARGIN_SEC = 0.5  # an event's pairs: those within this of its span
PATH_POINTS = 40  # the most points of each track's path kept with an event
PATH_MARGIN_SEC = 1.5  # a path runs this long before and after its event


class LocalEngine(AnalysisEngine):
    name = "local"
    code_version = MODEL_VERSION

    def versions(self) -> tuple[str, str]:
        return MODEL_VERSION, "n/a"

    def analyze(self, ctx: RunContext) -> EngineOutcome:
        params, video = ctx.params, ctx.video
        ctx.set_versions(*self.versions())
        fps = analysis_fps(params.target_fps, video.fps)
        # windows follow the frames: never more of them than frames, whatever the claimed duration
        total = window_count(video.duration, params.window_sec, params.window_sec, video.frame_count)

        def progress(time: float) -> None:
            ctx.progress(
                min(0.99, time / max(video.duration, 1e-6)),
                text("en", "stage.local"),
                pass_no=1,
                windows_done=min(total, int(time / params.window_sec)),
                windows_total=total,
            )

        seen = observe(ctx.video_path, fps=fps, on_frame=progress)
        sampled = {
            "fps": fps,
            "width": seen.size[0],
            "height": seen.size[1],
            "frames": len(seen.times),
            "pairs": len(seen.series),
            "cells": seen.series.cells.shape[1],
        }
        if seen.view_changes:
            cuts = {"changes": len(seen.view_changes), "first": seen.view_changes[0]}
            ctx.log("sampling", say("log.local_sampling_cuts", **sampled, **cuts))
        else:
            ctx.log("sampling", say("log.local_sampling", **sampled))
        language = ctx.settings.analysis_language
        analysis = analyse(seen, video.duration, params.window_sec, language=language, domain=params.domain)
        ctx.log("baseline", analysis.report.baseline_note())
        ctx.log("tracks", analysis.tracks_note())
        camera = analysis.camera_note()
        if camera is not None:
            ctx.log("camera", camera, "WARNING")
        sparse = (
            float(np.mean(seen.series.after - seen.series.before > MAX_MOTION_GAP_SEC))
            if len(seen.series)
            else 0.0
        )
        if sparse > 0.1:
            rate = len(seen.times) / max(video.duration, 1e-6)
            ctx.log(
                "sampling",
                say("log.local_sparse", share=sparse, gap=MAX_MOTION_GAP_SEC, rate=rate),
                "WARNING",
            )
        covered = len(analysis.windows) * params.window_sec
        if video.duration > 0 and covered < 0.5 * video.duration and len(seen.times) > 0:
            decoded = {"windows": len(analysis.windows), "covered": covered, "duration": video.duration}
            ctx.log("sampling", say("log.local_decoded", **decoded), "WARNING")
        ctx.progress(1.0, text("en", "stage.local"), pass_no=1, windows_done=total, windows_total=total)
        found = [
            say("log.event", type=say(f"type.{e.event_type}"), highlight=e.highlight, severity=e.severity)
            for e in analysis.events
        ]
        ctx.log("events", say("log.events", n=len(found), events=found) if found else say("log.events_none"))
        return EngineOutcome(
            engine="local",
            model_version=MODEL_VERSION,
            prompt_version="n/a",
            inferred_domain=analysis.domain,
            domain_reason=analysis.domain_reason,
            windows=analysis.windows,
            events=analysis.events,
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
    grid: tuple[int, int] = (1, 1)  # the cells across and down
    fragments: np.ndarray | None = None  # per pair, its separate small patches of change (see `fragments`)
    camera: np.ndarray | None = None  # per pair, how far the camera moved (analysed px; `CameraMeter`; NaN:
    # not measured in that pair)

    def fragment_counts(self) -> np.ndarray:
        """Per pair, its fragments; none for a series measured without counting them."""
        return np.zeros(len(self)) if self.fragments is None else self.fragments

    def __len__(self) -> int:
        return len(self.after)

    def camera_moved(self) -> np.ndarray:
        """Per pair, whether the camera moved around it (False where nothing near it was measured)."""
        if self.camera is None:
            return np.zeros(len(self), dtype=bool)
        measured = ~np.isnan(self.camera)
        middles = (self.before + self.after) / 2
        shift = self.camera[measured]
        if not len(shift):
            return np.zeros(len(self), dtype=bool)
        # each pair: the median of the measures within CAMERA_SMOOTH_SEC around it (pairs not measured,
        # between measures or in a flat view, take their neighbours')
        measured_at = middles[measured]
        low = np.searchsorted(measured_at, middles - CAMERA_SMOOTH_SEC / 2, "left")
        high = np.searchsorted(measured_at, middles + CAMERA_SMOOTH_SEC / 2, "right")
        return np.array(
            [b > a and np.median(shift[a:b]) >= CAMERA_SHIFT_PX for a, b in zip(low, high, strict=True)]
        )


@dataclass
class Observation:
    """What one decoding pass measured: the motion series, the tracks, and every frame's time."""

    series: MotionSeries
    tracks: list
    times: np.ndarray
    size: tuple[int, int]
    view_changes: list[float] = field(default_factory=list)  # times of cuts and camera moves
    standing: list = field(default_factory=list)  # tracks of standing objects (`ForegroundModel.standing`)


class ChangeMeter:
    """Change masks of consecutive grey frames, robust to lighting drift, noise and compression."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = self.size = size
        self.grid = (max(1, round(width / CELL_PX)), max(1, round(height / CELL_PX)))
        self._previous: np.ndarray | None = None
        self._previous_median = 0.0
        self.blurred: np.ndarray | None = None  # the last frame, blurred (what the masks compare)
        self.mask: np.ndarray | None = None  # the last change mask (0/1, float32)
        self.fragments = 0  # the last mask's separate small patches of change (see `fragments`)
        self.view_changed = False  # the last pair was a cut or a camera move, not motion in the view

    def __call__(self, image: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(changed fraction, per-cell changed fractions) against the previous frame; None for the first."""
        current = self.blurred = cv2.GaussianBlur(image, (5, 5), 0)
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
        median_difference = _quantile_u8(cv2.convertScaleAbs(difference, alpha=16.0), 0.5) / 16.0
        self.view_changed = median_difference >= VIEW_CHANGE_LEVEL
        noise = 1.4826 * median_difference
        threshold = max(NOISE_K * noise, MIN_PIXEL_CHANGE)
        _, mask = cv2.threshold(difference, threshold, 1.0, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _SPECKLE)
        self.mask = mask
        self.fragments = fragments(mask)
        cells = cv2.resize(mask, self.grid, interpolation=cv2.INTER_AREA)
        return float(mask.mean()), cells.ravel()


_SPECKLE = np.ones((2, 2), np.uint8)  # change smaller than this is noise or compression shimmer


def fragments(mask: np.ndarray) -> int:
    """How many separate patches of a change mask are fragment-sized: larger than specks of noise, far
    smaller than a person or a car (pieces of something thrown or shattering, each its own patch)."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    share = stats[1:, cv2.CC_STAT_AREA] / mask.size
    return int(np.count_nonzero((share >= FRAGMENT_MIN_SHARE) & (share <= FRAGMENT_MAX_SHARE)))


class CameraMeter:
    """How far the camera itself moved: corners of a grey frame CAMERA_STRIDE_SEC earlier (or the
    nearest before) followed into the current one (pyramidal Lucas-Kanade, after matching the two
    frames' brightness), a similarity (shift, zoom, turn) fitted to them robustly (RANSAC), and the
    farthest the fit moves a corner of the frame, in analysed pixels per CAMERA_STRIDE_SEC. Things that
    move in a fixed view are outliers of that fit, or fill too few of the frame's regions to count: the
    fit must hold in CAMERA_MIN_REGIONS of CAMERA_REGIONS. NaN where too few corners were followed (a
    flat or dark view): the camera's motion was not measured there."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        self._corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=np.float64)
        self._cell = (width / CAMERA_REGIONS[0], height / CAMERA_REGIONS[1])
        columns, rows = CAMERA_REGIONS
        self._regions = [
            (width * c // columns, height * r // rows, width * (c + 1) // columns, height * (r + 1) // rows)
            for r in range(rows)
            for c in range(columns)
        ]
        self._per_region = max(2, CAMERA_CORNERS // (columns * rows))
        self._earlier: list[tuple[float, np.ndarray, float]] = []  # (time, frame, median) to compare with
        self._measured = -np.inf  # when it was last measured

    def reset(self, time: float, image: np.ndarray) -> None:
        """After a cut: only this frame to compare the next ones with."""
        self._earlier = [(time, image, _quantile_u8(image, 0.5))]

    def __call__(self, time: float, image: np.ndarray) -> float:
        median = _quantile_u8(image, 0.5)
        earlier = [kept for kept in self._earlier if kept[0] <= time - 0.9 * CAMERA_STRIDE_SEC]
        base = earlier[-1] if earlier else (self._earlier[0] if self._earlier else None)
        self._earlier = [kept for kept in self._earlier if kept[0] >= time - 1.5 * CAMERA_STRIDE_SEC]
        self._earlier.append((time, image, median))
        if base is None or time <= base[0] or time < self._measured + CAMERA_EVERY_SEC - 1e-6:
            return float("nan")
        self._measured = time
        shift = self._shift(base[1], cv2.convertScaleAbs(image, alpha=(base[2] + 1.0) / (median + 1.0)))
        return shift * CAMERA_STRIDE_SEC / (time - base[0])

    def _shift(self, previous: np.ndarray, current: np.ndarray) -> float:
        # corners in every region (the strongest of the frame would all lie on a car near the camera)
        found = [
            corners.reshape(-1, 2) + (x0, y0)
            for x0, y0, x1, y1 in self._regions
            if (
                corners := cv2.goodFeaturesToTrack(
                    previous[y0:y1, x0:x1], self._per_region, 0.01, 4, blockSize=5
                )
            )
            is not None
        ]
        points = np.concatenate(found).astype(np.float32) if found else np.zeros((0, 2), np.float32)
        if len(points) < 2 * CAMERA_MIN_REGIONS:
            return float("nan")
        flow = {"winSize": (11, 11), "maxLevel": 2, "minEigThreshold": CAMERA_MIN_EIGEN}
        moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, points, None, **flow)
        back, returned, _ = cv2.calcOpticalFlowPyrLK(current, previous, moved, None, **flow)
        # followed both ways back to where it started: a corner of the view, not of noise, a flat patch or a
        # straight edge (along which a point slides)
        kept = (status.ravel() == 1) & (returned.ravel() == 1)
        kept &= np.hypot(*(back - points).reshape(-1, 2).T) < CAMERA_RETURN_PX
        start, end = points[kept], moved.reshape(-1, 2)[kept]
        if len(start) < 2 * CAMERA_MIN_REGIONS:
            return float("nan")
        region = self._region_of(start)
        distance = np.hypot(*(end - start).T)
        populated = [r for r in np.unique(region) if np.count_nonzero(region == r) >= 2]
        still = sum(float(np.median(distance[region == r])) < CAMERA_STILL_PX for r in populated)
        if still >= CAMERA_STILL_SHARE * len(populated):
            return 0.0  # much of the view stood still: things moved in it, not the camera
        fit, inliers = cv2.estimateAffinePartial2D(start, end, method=cv2.RANSAC, ransacReprojThreshold=0.5)
        if fit is None:
            return float("nan")
        if len(np.unique(region[inliers.ravel() == 1])) < CAMERA_MIN_REGIONS:
            return 0.0  # no motion of the whole view: the points that agree are one thing's
        shifted = self._corners @ fit[:, :2].T + fit[:, 2]
        return float(np.max(np.hypot(*(shifted - self._corners).T)))

    def _region_of(self, points: np.ndarray) -> np.ndarray:
        columns = np.minimum((points[:, 0] / self._cell[0]).astype(int), CAMERA_REGIONS[0] - 1)
        rows = np.minimum((points[:, 1] / self._cell[1]).astype(int), CAMERA_REGIONS[1] - 1)
        return rows * CAMERA_REGIONS[0] + columns


def _quantile_u8(image: np.ndarray, q: float) -> float:
    """A quantile of an 8-bit image, interpolated within its histogram bin (fast: no sort)."""
    histogram = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel()
    cumulative = np.cumsum(histogram)
    rank = image.size * q
    level = int(np.searchsorted(cumulative, rank))
    below = cumulative[level - 1] if level > 0 else 0.0
    return max(0.0, level - 0.5 + (rank - below) / max(histogram[level], 1.0))


def observe(path: str | Path, *, fps: float, on_frame=None) -> Observation:
    """Decode a video once as small grey frames: change masks, foreground objects and their tracks.
    Memory grows with the frames' count only by a few numbers per frame and per tracked object."""
    meter: ChangeMeter | None = None
    camera: CameraMeter | None = None
    foreground: ForegroundModel | None = None
    tracker, standing = Tracker(), Tracker()
    before, after, area, cells, pieces, times, view_changes, shifts = [], [], [], [], [], [], [], []
    previous_time = None
    for frame in iter_frames(path, fps, max_side=ANALYSIS_MAX_SIDE, gray=True):
        if meter is None:
            size = (frame.image.shape[1], frame.image.shape[0])
            meter, foreground, camera = ChangeMeter(size), ForegroundModel(size), CameraMeter(size)
        measured = meter(frame.image)
        shift = camera(frame.time, meter.blurred)
        change = None
        if measured is not None and meter.view_changed:
            # a cut or a camera move: no motion to measure across it; the view is learnt anew
            view_changes.append(frame.time)
            foreground.reset(meter.blurred, frame.time)
            camera.reset(frame.time, meter.blurred)
            tracker.end_all()
            standing.end_all()
        elif measured is not None and previous_time is not None:
            before.append(previous_time)
            after.append(frame.time)
            area.append(measured[0])
            cells.append(measured[1])
            pieces.append(meter.fragments)
            shifts.append(shift)
            change = meter.mask
        blobs = foreground(meter.blurred, frame.time, change)
        if not foreground.warming(frame.time):
            tracker.update(frame.time, blobs)
            standing.update(frame.time, foreground.standing)
        times.append(frame.time)
        previous_time = frame.time
        if on_frame is not None:
            on_frame(frame.time)
    grid = meter.grid if meter else (1, 1)
    size = meter.size if meter else (0, 0)
    series = MotionSeries(
        before=np.array(before, dtype=np.float64),
        after=np.array(after, dtype=np.float64),
        area=np.array(area, dtype=np.float32),
        cells=np.array(cells, dtype=np.float32).reshape(-1, grid[0] * grid[1]),
        size=size,
        grid=grid,
        fragments=np.array(pieces, dtype=np.float64),
        camera=np.array(shifts, dtype=np.float64),
    )
    return Observation(
        series, tracker.close(), np.array(times, dtype=np.float64), size, view_changes, standing.close()
    )


def camera_moving_share(moved: np.ndarray) -> float:
    """The share of frame pairs in which the camera moved (`MotionSeries.camera_moved`; 0 without pairs)."""
    return float(np.mean(moved)) if len(moved) else 0.0


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
    core: float = 0.0  # seconds from the first to the last pair at half its peak z or more
    peak_spread: float = 0.0  # the highest robust z of its largest patch of unusually moving cells ...
    peak_cells: int = 0  # ... and how many cells that patch had
    peak_scatter: float = 0.0  # the highest robust z of its count of fragments ...
    peak_fragments: int = 0  # ... and that count

    @property
    def strength(self) -> float:
        """How far it stands out: 1 at the flagging threshold (a spike, a sustained run, a wide patch or
        many fragments at once)."""
        return max(
            self.peak_z / SPIKE_Z,
            self.sustained / SUSTAINED_Z_SEC,
            self.peak_spread / SPREAD_Z,
            self.peak_scatter / FRAGMENTS_Z,
        )

    @property
    def by_patch(self) -> bool:
        """Flagged only for its patch of moving cells: neither a spike nor sustained (small fragments)."""
        return self.peak_z < SPIKE_Z and self.sustained < SUSTAINED_Z_SEC and self.peak_spread >= SPREAD_Z

    @property
    def by_fragments(self) -> bool:
        """Flagged only for how many fragments moved at once: neither a spike, sustained nor a patch."""
        return (
            self.peak_z < SPIKE_Z
            and self.sustained < SUSTAINED_Z_SEC
            and self.peak_spread < SPREAD_Z
            and self.peak_scatter >= FRAGMENTS_Z
        )

    @property
    def flagged(self) -> bool:
        return self.strength >= 1.0 and len(self.members) >= MIN_EPISODE_PAIRS

    @property
    def kind(self) -> str:
        # by how long it stood out, not its tail: ordinary motion around a spike (a car driving past
        # a thing thrown) does not make the spike a burst
        return "MOTION_BURST" if self.core >= BURST_MIN_SEC else "SUDDEN_MOTION"


@dataclass
class MotionReport:
    series: MotionSeries
    z: np.ndarray  # robust z of unusual motion per frame pair
    cell_threshold: np.ndarray  # per cell: the changed fraction above which it moves unusually
    area_median: float
    unusual_median: float
    unusual_spread: float
    episodes: list[Episode]

    def ratio(self, area: float) -> float:
        """A changed area as a multiple of this video's median changed area."""
        return area / max(self.area_median, 0.001)

    def baseline_note(self) -> Message:
        return say(
            "log.local_baseline",
            pairs=len(self.series),
            area=self.area_median,
            median=self.unusual_median,
            spread=self.unusual_spread,
            episodes=len(self.episodes),
            low=EPISODE_LOW_Z,
            flagged=sum(e.flagged for e in self.episodes),
            spike=SPIKE_Z,
            sustained=SUSTAINED_Z_SEC,
            patch=SPREAD_Z,
        )


def score_motion(series: MotionSeries) -> MotionReport:
    """Compare every frame pair with the video's own baseline, per cell and then over time."""
    if len(series) == 0:
        return MotionReport(
            series, np.zeros(0), np.ones(series.cells.shape[1]), 0.0, 0.0, UNUSUAL_MIN_SPREAD, []
        )
    cells = series.cells
    cell_median = np.median(cells, axis=0)
    cell_spread = np.maximum(1.4826 * np.median(np.abs(cells - cell_median), axis=0), CELL_MIN_SPREAD)
    threshold = cell_median + CELL_K * cell_spread
    unusual = np.clip(cells - threshold, 0.0, None).mean(axis=1)
    median = float(np.median(unusual))
    spread = max(1.4826 * float(np.median(np.abs(unusual - median))), UNUSUAL_MIN_SPREAD, 0.1 * median)
    z = (unusual - median) / spread
    counts = _largest_clusters(cells > threshold, series.grid)
    spread_z = _robust_z(counts, SPREAD_MIN_MAD)
    scatter_z = _robust_z(series.fragment_counts(), FRAGMENTS_MIN_MAD)
    # pieces in flight are seen in consecutive pairs: a pair counts as many fragments as it and a
    # neighbour both show (one pair's specks, a keyframe or a flicker, do not flag)
    beside = np.maximum(np.append(scatter_z[1:], 0.0), np.insert(scatter_z[:-1], 0, 0.0))
    scatter_z = np.minimum(scatter_z, beside)
    # frames further apart than MAX_MOTION_GAP_SEC show change, not motion (2 fps recordings): no episode
    close = (series.after - series.before) <= MAX_MOTION_GAP_SEC
    episodes = _episodes(
        series,
        np.where(close, z, 0.0),
        np.where(close, spread_z, 0.0),
        np.where(close, scatter_z, 0.0),
        counts,
    )
    return MotionReport(series, z, threshold, float(np.median(series.area)), median, spread, episodes)


def _robust_z(values: np.ndarray, least_spread: float) -> np.ndarray:
    """Each value against the video's own median, in robust deviations (never less than `least_spread`)."""
    median = float(np.median(values))
    return (values - median) / max(1.4826 * float(np.median(np.abs(values - median))), least_spread)


def _largest_clusters(unusual: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Per frame pair, the cells in the largest touching group of unusually moving cells (a burst from
    one point fills a patch; noise and lighting flicker light cells here and there)."""
    columns, rows = grid
    largest = np.zeros(len(unusual), dtype=np.float64)
    for index in np.flatnonzero(unusual.any(axis=1)).tolist():
        patch = unusual[index].reshape(rows, columns).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(patch, connectivity=8)
        largest[index] = stats[1:count, cv2.CC_STAT_AREA].max()
    return largest


def _episodes(
    series: MotionSeries, z: np.ndarray, spread_z: np.ndarray, scatter_z: np.ndarray, cells: np.ndarray
) -> list[Episode]:
    """Runs of frame pairs above the low threshold (one pair's dip does not end a run). A flagged
    run takes in the runs within EPISODE_BRIDGE_SEC of it that are flagged too or at least half-way
    to a spike (a fall's lurch before the fall); lone blips near an event stay out of its times."""
    runs: list[list[int]] = []
    # a burst of small fragments may stand out only by how many cells it moves at once, or how many pieces
    standing_out = (z >= EPISODE_LOW_Z) | (spread_z >= SPREAD_LOW_Z) | (scatter_z >= FRAGMENTS_LOW_Z)
    for index in np.flatnonzero(standing_out).tolist():
        if runs and index - runs[-1][-1] <= 2:
            runs[-1].append(index)
        else:
            runs.append([index])
    singles = [_episode(series, z, spread_z, scatter_z, cells, run) for run in runs]
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
            episodes.append(
                _episode(series, z, spread_z, scatter_z, cells, [m for e in group for m in e.members])
            )
        else:
            episodes.extend(group)
    return episodes


def _joinable(episode: Episode) -> bool:
    return episode.flagged or (len(episode.members) >= MIN_EPISODE_PAIRS and episode.peak_z >= SPIKE_Z / 2)


def _episode(
    series: MotionSeries,
    z: np.ndarray,
    spread_z: np.ndarray,
    scatter_z: np.ndarray,
    cells: np.ndarray,
    members: list[int],
) -> Episode:
    first, last = members[0], members[-1]
    widest = members[int(np.argmax(spread_z[members]))]
    scattered = members[int(np.argmax(scatter_z[members]))]
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
        core=_core_seconds(series, z, members),
        peak_spread=float(spread_z[widest]),
        peak_cells=int(cells[widest]),
        peak_scatter=float(scatter_z[scattered]),
        peak_fragments=int(series.fragment_counts()[scattered]),
    )


def _core_seconds(series: MotionSeries, z: np.ndarray, members: list[int]) -> float:
    """How long a run stood out: from the first to the last of its pairs at half its peak z or more
    (the middles of those pairs; one pair's span when only one is)."""
    # a run of spread alone (no pair's z above the low threshold) stood out for all its pairs
    strong = [m for m in members if z[m] >= max(EPISODE_LOW_Z, 0.5 * float(z[members].max()))] or members
    first, last = strong[0], strong[-1]
    if first == last:
        return float(series.after[first] - series.before[first])
    return float((series.before[last] + series.after[last] - series.before[first] - series.after[first]) / 2)


def _score01(strength: float) -> float:
    """0..1, 0.5 exactly at the flagging threshold, growing with how far something stands out."""
    strength = max(strength, 0.0)
    return strength * strength / (1.0 + strength * strength)


# --- from measurements to events and windows ------------------------------------------------------


@dataclass
class Analysis:
    """Everything the engine concluded from one `Observation`."""

    report: MotionReport
    views: list[TrackView]
    findings: list[Finding]  # typed events and unexplained motion, in time order
    events: list[Event]
    windows: list[WindowRecord]
    domain: str | None
    domain_reason: str
    explained: int = 0  # flagged motion episodes that tracked objects or typed events explain
    notes: list[str] = field(default_factory=list)
    camera_share: float = 0.0  # the share of frame pairs in which the camera moved
    withheld: list[Finding] = field(default_factory=list)  # raised while the camera moved: not events

    def camera_note(self) -> Message | None:
        """What the camera's motion means for this result, when it moved enough to matter (else None)."""
        if self.camera_share < CAMERA_MOVING_SHARE:
            return None
        raised = [f"{f.event_type} {f.start:.1f}-{f.end:.1f} s" for f in self.withheld]
        return say(
            "log.local_camera_moving",
            share=self.camera_share,
            withheld=len(self.withheld),
            events=", ".join(raised) or "-",
            rate=CAMERA_SHIFT_PX / CAMERA_STRIDE_SEC / ANALYSIS_MAX_SIDE,
        )

    def tracks_note(self) -> Message:
        counts = {
            kind: sum(v.kind == kind for v in self.views)
            for kind in (behaviour.PERSON, behaviour.VEHICLE, behaviour.OTHER)
        }
        involved = sorted({tid for f in self.findings for tid in f.track_ids})
        by_id = {v.id: v for v in self.views}
        evidence = [behaviour.evidence(by_id[tid]) for tid in involved[:20] if tid in by_id]
        counted = {"tracks": len(self.views), **counts, "explained": self.explained}
        if evidence:
            return say("log.local_tracks_evidence", **counted, evidence=evidence)
        return say("log.local_tracks", **counted)


def camera_caveat_of(lines) -> dict | None:
    """The values of a run's camera note (`Analysis.camera_note`) among its log lines (each with the
    `words` it was logged with), for the dashboard and the report to say; None when there is none."""
    for line in lines:
        message = Message.from_json(getattr(line, "words", None))
        if message is not None and message.key == "log.local_camera_moving":
            return dict(message.values)
    return None


def analyse(
    seen: Observation, duration: float, window_sec: float, *, language: Language, domain: str = "auto"
) -> Analysis:
    """Tracks classified and turned into typed events, motion episodes no event or track explains kept
    as SUDDEN_MOTION / MOTION_BURST, a timeline row for every window that has frames; texts in `language`."""
    texts = {
        key.removeprefix("local."): words
        for key, words in catalogue(language).items()
        if key.startswith("local.")
    }
    report = score_motion(seen.series)
    views = [behaviour.classify(behaviour.view_of(track)) for track in seen.tracks]
    tracking_began = float(seen.times[0]) + WARM_UP_SEC if len(seen.times) else None  # (see observe)
    standing = [behaviour.view_of(track) for track in seen.standing]
    findings = behaviour.find_events(views, seen.size, tracking_began, standing)
    # the first frame the tracker saw (see `_explained`)
    first_tracked = None if tracking_began is None else _first_at(seen.times, tracking_began)
    since = _followed_since(views)
    explained = 0
    for episode in (e for e in report.episodes if e.flagged):
        if _explained(episode, report, views, since, findings, seen.size, first_tracked):
            explained += 1
            continue
        box = _changed_box(report, episode)
        scattered = behaviour.broke_off(views, episode.start, episode.end, box)
        if scattered is not None:
            findings.append(scattered)
            continue
        if _explained(episode, report, views, since, findings, seen.size, first_tracked, around=True):
            explained += 1
            continue
        findings.append(
            Finding(
                episode.kind,
                start=episode.start,
                end=episode.end,
                peak=episode.peak_time,
                track_ids=[],
                strength=episode.strength,
                facts={
                    "area": episode.peak_area,
                    "z": episode.peak_z,
                    **(
                        {"cells": episode.peak_cells, "spread": episode.peak_spread}
                        if episode.by_patch
                        else {}
                    ),
                    **(
                        {"fragments": episode.peak_fragments, "scatter": episode.peak_scatter}
                        if episode.by_fragments
                        else {}
                    ),
                },
                box=box,
            )
        )
    findings.sort(key=lambda f: (f.start, f.end))
    moved = seen.series.camera_moved()
    share = camera_moving_share(moved)
    # only in a video whose camera moved for a meaningful share of it: a fixed view that large vehicles
    # fill for a moment keeps its events
    withheld = [
        f
        for f in findings
        if share >= CAMERA_MOVING_SHARE and _camera_moved_during(f, seen.series, moved) >= CAMERA_EVENT_SHARE
    ]
    findings = [f for f in findings if f not in withheld]
    by_id = {v.id: v for v in views}
    events = [_event(f, report, texts, seen.size, by_id) for f in findings]
    windows = _windows(seen, report, findings, events, views, duration, window_sec, texts)
    if domain != "auto":
        name, reason = domain, texts["domain_requested"]
    else:
        verdict = behaviour.traffic_domain(views)
        name = verdict.name
        reason = texts["domain_traffic" if name else "domain_unknown"].format(**verdict.facts)
    return Analysis(
        report,
        views,
        findings,
        events,
        windows,
        name,
        reason,
        explained,
        camera_share=share,
        withheld=withheld,
    )


def _camera_moved_during(finding: Finding, series: MotionSeries, moved: np.ndarray) -> float:
    """The share of the pairs around a finding (within CAMERA_EVENT_MARGIN_SEC) in which the camera moved."""
    if not len(moved) or not moved.any():
        return 0.0
    middle = (series.before + series.after) / 2
    around = (middle >= finding.start - CAMERA_EVENT_MARGIN_SEC) & (
        middle <= finding.end + CAMERA_EVENT_MARGIN_SEC
    )
    if not around.any():
        around = np.zeros(len(moved), dtype=bool)
        around[int(np.argmin(np.abs(middle - finding.peak)))] = True
    return float(np.mean(moved[around]))


def _explained(
    episode: Episode,
    report: MotionReport,
    views: list[TrackView],
    since: dict[int, float],
    findings: list[Finding],
    size: tuple[int, int],
    first_tracked: float | None = None,
    *,
    around: bool = False,
) -> bool:
    """A typed event covers it, or at least half of its changed pixels lie in objects the tracker
    followed for a second or more (people walking near the camera, a car driving through; and the
    large pieces such an object's region breaks into, `_split_from`, as a body turning close to the
    camera does, followed since it was; `since`, from `_followed_since`): motion of
    something that moved through the view, which the typed rules judged, not a jolt no object explains.
    An episode flagged only for its many fragments is no followed object's: each piece is too small to
    be one, however much of the changed area the traffic around them makes, nor one body's typed
    event (ONE_BODY_EVENTS: a runner, a fall) near it.

    `around` (asked once `behaviour.broke_off` found no crowd breaking off there): the changed pixels
    outside each followed object's region in the patches of change touching it count as its own too
    (`core.tracks.ATTACHED`: a body close to the camera changes the frame where it leaves, and where its
    parts are of the background's brightness, outside the region the background model sees), over the
    episode and at its peak alike: pieces thrown off a passing car, its patch touching theirs as they
    part, are the peak's change, and the car's is not. At the peak, only by objects followed since
    EXPLAINED_BEFORE_PEAK_SEC before it: the regions two crashing cars make as they part and merge begin
    with the jolt, and their change is the jolt's. A peak sooner than that after `first_tracked` (the
    first frame the tracker saw, once the background model had learnt the view) asks for objects
    followed since then: no track could begin earlier (a car driving through as the video starts). An
    object whose region began against the picture's edge counts at the peak however recently: it came
    into view (a hand reaching in close to the camera), no jolt inside the view made it."""
    if any(
        f.start - TYPED_COVERS_SEC <= episode.end
        and f.end + TYPED_COVERS_SEC >= episode.start
        and f.event_type not in STATE_EVENTS
        and not (episode.by_fragments and f.event_type in ONE_BODY_EVENTS)
        for f in findings
    ):
        return True
    if episode.by_fragments:
        return False
    series = report.series
    followed = [
        view for view in views if view.id in since and view.start <= episode.end and view.end >= episode.start
    ]
    if not followed:
        return False
    pixels = size[0] * size[1]
    peak = int(np.argmin(np.abs(series.after[episode.members] - episode.peak_time)))
    followed_since = episode.peak_time - EXPLAINED_BEFORE_PEAK_SEC
    if first_tracked is not None:
        followed_since = max(followed_since, first_tracked)
    changed, theirs, at_peak = [], [], 0.0
    for index, member in enumerate(episode.members):
        moment = series.after[member]
        changed.append(float(series.area[member]) * pixels)
        inside = 0.0
        for view in followed:
            row = int(np.searchsorted(view.t, moment - 1e-6))
            if row < len(view.t) and abs(view.t[row] - moment) < 1e-6:
                own = float(view.data[row, behaviour.MOTION])
                own += float(view.data[row, ATTACHED]) if around else 0.0
                inside += own
                if index == peak and (since[view.id] <= followed_since or _came_into_view(view, size)):
                    at_peak += own
        theirs.append(min(inside, changed[-1]) if around else inside)  # (a shared region's, counted twice)
    return (
        sum(changed) > 0
        and sum(theirs) >= EXPLAINED_SHARE * sum(changed)
        and (not around or min(at_peak, changed[peak]) >= EXPLAINED_SHARE * changed[peak])
    )


def _followed_since(views: list[TrackView]) -> dict[int, float]:
    """When each track followed for EXPLAINED_FOLLOWED_SEC or more was followed from, and each large
    piece one of them broke into (`_split_from`) since its object was; tracks neither are absent.
    Computed once per analysis: it depends on the tracks alone, not on the episode judged."""
    long = [view for view in views if view.end - view.start >= EXPLAINED_FOLLOWED_SEC]
    since = {view.id: view.start for view in long}
    for view in views:
        parent = None if view.id in since else _split_from(view, long)
        if parent is not None:
            since[view.id] = parent.start
    return since


def _split_from(view: TrackView, followed: list[TrackView]) -> TrackView | None:
    """The followed object whose region the track split off from: its first box lies SPLIT_INSIDE
    inside that object's box of a frame at most SPLIT_GAP_SEC before and is SPLIT_SHARE of it or more
    (a body close to the camera turning breaks into large pieces, each a new track); None if none."""
    first = view.box_at(view.start)
    for other in followed:
        if other is view or other.start >= view.start - 1e-6 or other.end < view.start - SPLIT_GAP_SEC:
            continue  # (not seen in the span before it began: most pairs, told without a search)
        earlier = np.flatnonzero((other.t < view.start - 1e-6) & (other.t >= view.start - SPLIT_GAP_SEC))
        if not len(earlier):
            continue
        box = other.box_at(float(other.t[earlier[-1]]))
        if cover(box, first) >= SPLIT_INSIDE and first[2] * first[3] >= SPLIT_SHARE * box[2] * box[3]:
            return other
    return None


def _came_into_view(view: TrackView, size: tuple[int, int]) -> bool:
    """The track's first box lies against the picture's edge: its object came into view there."""
    return not bool(behaviour.inside_frame(view.data[:1], size)[0])


def _first_at(times: np.ndarray, time: float) -> float | None:
    """The first of `times` (sorted) at or after `time`; None when there is none."""
    index = int(np.searchsorted(times, time))
    return float(times[index]) if index < len(times) else None


def _changed_box(report: MotionReport, episode: Episode) -> tuple[float, float, float, float] | None:
    """The cells that moved unusually at the episode's peak, as one box in analysed-frame pixels."""
    series = report.series
    peak = int(np.argmin(np.abs(series.after - episode.peak_time)))
    unusual = series.cells[peak] > report.cell_threshold
    if not unusual.any():
        return None
    columns, rows = series.grid
    cells = np.flatnonzero(unusual)
    xs, ys = cells % columns, cells // columns
    cell_w, cell_h = series.size[0] / columns, series.size[1] / rows
    return (
        float(xs.min() * cell_w),
        float(ys.min() * cell_h),
        float((xs.max() - xs.min() + 1) * cell_w),
        float((ys.max() - ys.min() + 1) * cell_h),
    )


def _normalised(box: tuple[float, float, float, float] | None, size: tuple[int, int]) -> Box | None:
    if box is None or size[0] <= 0 or size[1] <= 0:
        return None
    # the edges are rounded, then the size taken between them: rounding the left edge and the width
    # each up would put a box that reaches the right edge past it
    x0, y0, x1, y1 = (
        round(min(max(value, 0.0), 1.0), 4)
        for value in (
            box[0] / size[0],
            box[1] / size[1],
            (box[0] + box[2]) / size[0],
            (box[1] + box[3]) / size[1],
        )
    )
    if x1 - x0 <= 1e-4 or y1 - y0 <= 1e-4:
        return None
    return Box(x=x0, y=y0, w=round(x1 - x0, 4), h=round(y1 - y0, 4))


def _path(views: list[TrackView], finding: Finding, size: tuple[int, int]) -> list[TrackPoint]:
    points: list[TrackPoint] = []
    for view in views:
        inside = np.flatnonzero(view.between(finding.start - PATH_MARGIN_SEC, finding.end + PATH_MARGIN_SEC))
        if len(inside) > PATH_POINTS:
            inside = inside[np.linspace(0, len(inside) - 1, PATH_POINTS).round().astype(int)]
        points += [
            TrackPoint(
                track_id=view.id,
                t=round(float(view.t[k]), 3),
                x=round(min(max(float(view.cx[k]) / size[0], 0.0), 1.0), 4),
                y=round(min(max(float(view.cy[k]) / size[1], 0.0), 1.0), 4),
            )
            for k in inside
        ]
    return points


def _event(
    finding: Finding,
    report: MotionReport,
    texts: dict[str, str],
    size: tuple[int, int],
    by_id: dict[int, TrackView],
) -> Event:
    return Event(
        event_type=finding.event_type,
        start_time=max(0.0, finding.start),
        end_time=max(finding.start, finding.end, 0.0),
        confidence=round(min(0.99, _score01(finding.strength)), 4),
        description=_describe_finding(finding, report, texts),
        severity=finding.severity,
        box=_normalised(finding.box, size),
        track_ids=list(finding.track_ids),
        track_path=_path([by_id[t] for t in finding.track_ids if t in by_id], finding, size),
        peak_time=round(max(0.0, finding.peak), 3),
    )


def _describe_finding(finding: Finding, report: MotionReport, texts: dict[str, str]) -> str:
    """What was measured, with its figures (in the language of `texts`); never a guess at what happened."""
    if finding.event_type in ("SUDDEN_MOTION", "MOTION_BURST"):
        area, z = float(finding.facts["area"]), float(finding.facts["z"])
        figures = texts["figures"].format(ratio=report.ratio(area), area=area, z=z)
        if "cells" in finding.facts:  # flagged for how many cells moved at once, which is then said
            figures += "; " + texts["patch"].format(
                cells=finding.facts["cells"], spread=finding.facts["spread"]
            )
        if "fragments" in finding.facts:  # flagged for how many fragments moved at once, which is then said
            figures += "; " + texts["fragments"].format(
                fragments=finding.facts["fragments"], scatter=finding.facts["scatter"]
            )
        return texts["episode"].format(
            what=texts[finding.event_type],
            figures=figures,
            span=finding.end - finding.start,
            peak=finding.peak,
        )
    values = {
        key: texts.get(value, value) if isinstance(value, str) else value
        for key, value in finding.facts.items()
    }
    values.setdefault("within", behaviour.PANIC_WITHIN_SEC)
    key = finding.event_type if "how" not in finding.facts else f"{finding.event_type}_{finding.facts['how']}"
    return texts[key].format(peak=finding.peak, **values)


def _windows(
    seen: Observation,
    report: MotionReport,
    findings: list[Finding],
    events: list[Event],
    views: list[TrackView],
    duration: float,
    window_sec: float,
    texts: dict[str, str],
) -> list[WindowRecord]:
    """A row for every window in which frames were decoded (windows follow the frames), with the
    motion figures, the tracked objects, and an anomaly score (0.5 at the flagging threshold)."""
    series = report.series
    spans = {
        kind: (
            np.sort([v.start for v in views if v.kind == kind]),
            np.sort([v.end for v in views if v.kind == kind]),
        )
        for kind in (behaviour.PERSON, behaviour.VEHICLE, behaviour.OTHER)
    }
    windows: list[WindowRecord] = []
    # windows follow the frames that were decoded: a stretch without frames is no window at all
    times = seen.times if len(seen.times) else [0.0]
    for _index, start in occupied_windows(times, window_sec, duration=duration):
        end = min(start + window_sec, duration) if duration > start else start + window_sec
        low, high = np.searchsorted(series.after, start, "right"), np.searchsorted(series.before, end, "left")
        peak_z = float(report.z[low:high].max()) if high > low else 0.0
        peak_area = float(series.area[low:high].max()) if high > low else 0.0
        touching = [(f, e) for f, e in zip(findings, events) if f.start < end and f.end >= start]
        # a window no event touches stays below 0.5, whatever a lone glitch or explained motion scored
        strength = max([min(peak_z / SPIKE_Z, 0.99)] + [f.strength for f, _ in touching])
        counts = {
            kind: int(np.searchsorted(starts, end, "left") - np.searchsorted(ends, start, "left"))
            for kind, (starts, ends) in spans.items()
        }
        description = texts["figures"].format(ratio=report.ratio(peak_area), area=peak_area, z=peak_z)
        description += "; " + texts["objects"].format(total=sum(counts.values()), **counts)
        if touching:
            description += "; " + "; ".join(e.description for _, e in touching)
        windows.append(
            WindowRecord(
                window_index=len(windows),
                start_time=start,
                end_time=max(end, start),
                description=description,
                score=round(_score01(strength), 4),
                pass_no=1,
            )
        )
    return windows
