"""Synthetic clips with known events: the dashboard's "Try a sample", the tests and the benchmarks.

A clip is a textured scene with sensor noise, lighting drift and, depending on the scene, steady
traffic and people walking. Each `ScriptedEvent` adds something a motion detector and a person both
see: a collision, a fight, a fall, a burst of jumping objects, a brief flash of activity.

While an event happens its actors are drawn in pure red (BGR 0,0,255), so a fake model server can
recognise it from the images. Actors that stand there before the event (the person who will fall,
the two who will fight) or lie there after it (the wreck, the fallen person) are drawn in a grey of
exactly red's luma, so that in a grey-level image nothing changes when the colour switches: a motion
detector sees only the motion. Lighting drift and sensor noise act on the scene and on resting
actors; while an event happens its actors stay pure red whatever the light.

`SCENES` names the backgrounds the tests use: calm streets, steady traffic, people walking, heavy
sensor noise, strong lighting drift, low-bitrate encodes with visible compression artefacts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

EVENT_BGR = (0, 0, 255)
# The grey a pure-red actor has in a grey-level image (BT.601 luma of pure red is 76.2).
CALM_BGR = (76, 76, 76)
EVENT_KINDS = (
    "burst",
    "collision",
    "fall",
    "fight",
    "flash",
    "meet_and_stop",
    "near_miss",
    "stopped_vehicle",
    "wrong_way",
    "running",
    "panic",
)
_WALKER_COLOURS = (
    (170, 110, 60),
    (60, 130, 60),
    (200, 190, 150),
    (90, 70, 120),
    (40, 40, 40),
    (120, 150, 90),
)


@dataclass(frozen=True)
class ScriptedEvent:
    """Something that happens in [start, end): burst | collision | fall | fight | flash.

    burst: several red objects jumping around violently; collision: two vehicles speed into each
    other and spin, with debris; fall: a standing person lurches and falls to the ground; fight: two
    people lunge and punch; flash: a brief flash of activity (a person lunges and strikes once);
    meet_and_stop: two vehicles drive into each other and stop dead where they met (the wreck stays);
    near_miss: two vehicles on crossing paths pass within a fraction of a car of each other at speed;
    stopped_vehicle: a vehicle drives along the upper lane, stops at `start` and stands until `end`
    (it drives in, unlit, before `start`, and stays after); wrong_way: a vehicle drives the upper lane
    against its traffic; running: a walking person breaks into a run; panic: a group of people
    standing about scatters, running away from one point.
    Kinds whose actor moves before `start` (stopped_vehicle, running) draw that lead-in in the grey
    of red's luma, like resting actors.
    """

    start: float
    end: float
    kind: str = "burst"

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; known: {', '.join(EVENT_KINDS)}")
        if self.end <= self.start:
            raise ValueError("an event ends after it starts")


# Backgrounds for `make_clip(..., **SCENES[name])`.
SCENES: dict[str, dict[str, object]] = {
    "street": {},  # the default: a textured street, light noise, slow drift, two slow cars
    "traffic": {"traffic": 3, "traffic_speed": 2.5},
    "walkers": {"traffic": 0, "walkers": 5},
    "busy": {"traffic": 2, "traffic_speed": 2.0, "walkers": 3},
    "noisy": {"noise": 14.0},
    "drift": {"drift": 0.35, "drift_period": 3.0},
    "low_bitrate": {"crf": 44, "keyint": 20, "noise": 6.0},
}


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
    drift_period: float | None = None,
    traffic: int = 1,
    traffic_speed: float = 1.0,
    walkers: int = 0,
    seed: int = 7,
) -> Iterator[np.ndarray]:
    """Frames (BGR) of a scene; scripted events are red exactly within [start, end).

    noise: sensor noise (grey levels, std); drift: lighting gain swing (0.15 = ±15 %) over
    `drift_period` seconds (default: the clip's length); traffic: cars per lane (two lanes);
    traffic_speed: their speed factor; walkers: people walking across, steadily.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    scene = _background(width, height, seed)
    unit = max(4, min(width, height) // 12)
    period = drift_period or max(seconds, 1.0)
    crowd = _walkers(walkers, width, height, seed)
    for i in range(round(seconds * fps)):
        t = i / fps
        world = scene.copy()
        for lane, speed in ((0.3, 40.0), (0.7, -55.0))[: 2 if traffic else 0]:
            span = width + 2 * unit
            for car in range(int(traffic)):
                offset = car * span / int(traffic)
                x = int((t * speed * traffic_speed * width / 320 + offset) % span) - 2 * unit
                y = int(height * lane)
                cv2.rectangle(world, (x, y), (x + 2 * unit, y + unit), (200, 160, 40), -1)
        for walker in crowd:
            walker.draw(world, t)
        for event in events:  # actors before and after their event are part of the lit scene
            if not event.start <= t < event.end:
                if event.kind in _TIMED_KINDS:
                    _TIMED_KINDS[event.kind](world, event, t, unit, CALM_BGR)
                    continue
                rest = 1.0 if t >= event.end else 0.0
                _draw_event(world, event.kind, rest, t, unit, CALM_BGR, rng, resting=True)
        gain = 1.0 + drift * np.sin(2 * np.pi * t / period)
        frame = world.astype(np.float32) * gain
        if noise:
            frame += rng.normal(0, noise, size=(height, width, 1)).astype(np.float32)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        for event in events:  # while it happens, in pure red whatever the light
            if event.start <= t < event.end:
                if event.kind in _TIMED_KINDS:
                    _TIMED_KINDS[event.kind](frame, event, t, unit, EVENT_BGR)
                    continue
                phase = (t - event.start) / (event.end - event.start)
                _draw_event(frame, event.kind, phase, t, unit, EVENT_BGR, rng)
        yield frame


def seen_by_moving_camera(
    frames: Iterator[np.ndarray], *, fps: float, size: tuple[int, int], motion, margin: float = 1.5
) -> Iterator[np.ndarray]:
    """Frames of a scene rendered `margin` times larger than `size`, as a moving camera sees it: the
    view's centre and zoom follow `motion(t) -> (dx, dy, zoom)` (dx, dy in output pixels from the
    scene's centre; zoom > 1 shows less of the scene, as a camera moving forward). A pan, a tilt, a
    dashcam's forward motion or a hand-held jitter, for testing what a fixed-camera engine does."""
    width, height = size
    for index, frame in enumerate(frames):
        dx, dy, zoom = motion(index / fps)
        cx, cy = frame.shape[1] / 2 + dx, frame.shape[0] / 2 + dy
        matrix = np.array([[zoom, 0.0, width / 2 - zoom * cx], [0.0, zoom, height / 2 - zoom * cy]])
        yield cv2.warpAffine(frame, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _draw_person(
    frame: np.ndarray,
    foot: tuple[float, float],
    height: float,
    colour: tuple[int, int, int],
    *,
    tilt: float = 0.0,
    stride: float = 0.0,
    arms: tuple[float, float] = (0.15, -0.15),
    facing: int = 1,
) -> None:
    """A stick figure standing on `foot`; `tilt` turns the whole body about the feet (π/2: lying),
    `stride` swings the legs, `arms` are the arm angles from hanging down (π/2: straight ahead)."""
    h = height
    cos_t, sin_t = math.cos(tilt), math.sin(tilt)

    def at(x: float, y: float) -> tuple[int, int]:
        x *= facing
        return int(foot[0] + x * cos_t - y * sin_t), int(foot[1] + x * sin_t + y * cos_t)

    hip, shoulder = (0.0, -0.5 * h), (0.0, -0.8 * h)
    thickness = max(2, int(h / 9))
    for swing in (stride, -stride):
        cv2.line(
            frame,
            at(*hip),
            at(0.5 * h * math.sin(swing), -0.5 * h + 0.5 * h * math.cos(swing)),
            colour,
            thickness,
        )
    cv2.line(frame, at(*hip), at(0.0, -0.88 * h), colour, thickness + 1)
    for angle in arms:
        hand = (shoulder[0] + 0.38 * h * math.sin(angle), shoulder[1] + 0.38 * h * math.cos(angle))
        cv2.line(frame, at(*shoulder), at(*hand), colour, max(1, thickness - 1))
    cv2.circle(frame, at(0.0, -0.94 * h), max(2, int(0.08 * h)), colour, -1)


@dataclass(frozen=True)
class _Walker:
    x0: float
    foot_y: float
    height: float
    speed: float
    step_hz: float
    phase: float
    colour: tuple[int, int, int]
    span: float

    def draw(self, frame: np.ndarray, t: float) -> None:
        x = (self.x0 + self.speed * t) % self.span - self.height
        swing = math.sin(2 * math.pi * self.step_hz * t + self.phase)
        _draw_person(
            frame,
            (x, self.foot_y),
            self.height,
            self.colour,
            stride=0.35 * swing,
            arms=(0.3 * swing, -0.3 * swing),
            facing=1 if self.speed > 0 else -1,
        )


def _walkers(count: int, width: int, height: int, seed: int) -> list[_Walker]:
    """People walking across at a normal pace (about 0.8 body heights a second), each at their own
    depth, speed and step rate; they wrap around so the scene stays equally busy."""
    rng = np.random.default_rng(seed + 1000)
    crowd = []
    for i in range(count):
        depth = rng.uniform(0.0, 1.0)
        person = height * (0.18 + 0.17 * depth)
        direction = 1 if rng.random() < 0.5 else -1
        crowd.append(
            _Walker(
                x0=rng.uniform(0, width + 2 * person),
                foot_y=height * (0.45 + 0.5 * depth),
                height=person,
                speed=direction * person * rng.uniform(0.6, 1.0),
                step_hz=rng.uniform(0.8, 1.1),
                phase=rng.uniform(0, 2 * math.pi),
                colour=_WALKER_COLOURS[i % len(_WALKER_COLOURS)],
                span=width + 2 * person,
            )
        )
    return crowd


def _draw_event(
    frame: np.ndarray,
    kind: str,
    phase: float,
    t: float,
    unit: int,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
    *,
    resting: bool = False,
) -> None:
    """Draw `kind` at `phase` (0..1 of the event); `resting`: the still scene before or after it
    (only kinds whose actors are there before or stay afterwards draw anything)."""
    height, width = frame.shape[:2]
    if kind == "fall":
        _draw_fall(frame, phase, t, height, width, colour)
    elif kind == "fight":
        _draw_fight(frame, phase, t, height, width, colour, resting)
    elif kind == "collision":
        if not (resting and phase == 0.0):
            _draw_collision(frame, phase, unit, colour)
    elif kind == "flash":
        _draw_flash(frame, 0.0 if resting else phase, height, width, colour)
    elif resting:
        return
    else:  # burst: several red objects jumping around violently
        for _ in range(6):
            x = int(rng.integers(0, max(1, width - 2 * unit)))
            y = int(rng.integers(0, max(1, height - 2 * unit)))
            cv2.rectangle(frame, (x, y), (x + 2 * unit, y + 2 * unit), colour, -1)


def _draw_fall(frame, phase: float, t: float, height: int, width: int, colour) -> None:
    """A person lurches (first fifth), falls to the ground (to 75 %), and flails there; lies still after."""
    person = height * 0.38
    foot = (width * 0.62, height * 0.85)
    if phase <= 0.0:
        _draw_person(frame, foot, person, colour)
        return
    if phase < 0.2:
        lurch = math.sin(2 * math.pi * phase / 0.2)
        _draw_person(
            frame, foot, person, colour, tilt=0.35 * lurch, stride=0.3 * lurch, arms=(1.8, -1.2 * lurch)
        )
    elif phase < 0.75:
        toppled = (phase - 0.2) / 0.55
        drop = (toppled + toppled * toppled) / 2  # already tipping over, then faster and faster
        _draw_person(frame, foot, person, colour, tilt=-math.pi / 2 * drop, stride=0.4, arms=(2.4, 1.6))
    elif phase < 1.0:
        flail = math.sin(2 * math.pi * 3.0 * t)
        _draw_person(
            frame,
            foot,
            person,
            colour,
            tilt=-math.pi / 2 + 0.12 * flail,
            stride=0.4 + 0.3 * flail,
            arms=(2.4 - 0.8 * flail, 1.6 + 0.8 * flail),
        )
    else:
        _draw_person(frame, foot, person, colour, tilt=-math.pi / 2, stride=0.4, arms=(2.4, 1.6))


def _draw_flash(frame, phase: float, height: int, width: int, colour) -> None:
    """A standing person lunges and strikes once, then stands still again."""
    person = height * 0.36
    swing = math.sin(math.pi * phase)
    _draw_person(
        frame,
        (width * 0.35 + 0.5 * person * swing, height * 0.8),
        person,
        colour,
        tilt=0.4 * swing,
        stride=0.5 * swing,
        arms=(0.15 + 2.6 * swing, -0.15 + 1.8 * swing),
    )


def _draw_fight(frame, phase: float, t: float, height: int, width: int, colour, resting: bool) -> None:
    """Two people face each other; during the fight they lunge, punch and reel."""
    person = height * 0.36
    base = width * 0.5
    for side in (-1, 1):
        if resting:
            _draw_person(frame, (base + side * 0.3 * person, height * 0.82), person, colour, facing=-side)
            continue
        lunge = math.sin(2 * math.pi * 1.7 * t + side)
        punch = math.sin(2 * math.pi * 3.5 * t + 1.3 * side)
        _draw_person(
            frame,
            (base + side * person * (0.3 + 0.2 * lunge), height * 0.82),
            person,
            colour,
            tilt=side * 0.25 * math.sin(2 * math.pi * 2.3 * t + side),
            stride=0.35 * lunge,
            arms=(1.6 + 0.7 * punch, 1.2 - 0.7 * punch),
            facing=-side,
        )


def _draw_collision(frame, phase: float, unit: int, colour) -> None:
    """Two vehicles speed in from both sides, crash at 40 % of the event, spin apart and shed debris
    until the event ends; the wreck stays where it stopped."""
    height, width = frame.shape[:2]
    centre = (width / 2, height * 0.55)
    car_w, car_h = 2.5 * unit, 1.2 * unit
    impact = 0.4
    if phase < impact:
        approach = phase / impact
        for side in (-1, 1):
            x = centre[0] + side * (car_w / 2 + (width / 2 + car_w) * (1 - approach))
            _box(frame, (x, centre[1]), (car_w, car_h), 0.0, colour)
        return
    settle = (phase - impact) / (1 - impact)
    for side in (-1, 1):
        x = centre[0] + side * (car_w / 2 + 1.5 * unit * settle)
        y = centre[1] + side * 0.8 * unit * settle
        _box(frame, (x, y), (car_w, car_h), side * 150.0 * settle, colour)
    for piece in range(8):
        angle = 2 * math.pi * piece / 8 + 0.3
        reach = 5.0 * unit * settle * (0.6 + 0.4 * ((piece * 5) % 3) / 2)
        x, y = centre[0] + reach * math.cos(angle), centre[1] + 0.6 * reach * math.sin(angle)
        _box(frame, (x, y), (0.6 * unit, 0.4 * unit), 90.0 * settle * piece, colour)


MEET_AT = 0.4  # share of a meet_and_stop event at which its two vehicles touch


def _draw_meet_and_stop(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """Two vehicles drive at each other from off-frame (the lead-in before `start`, unlit), touch at
    40 % of the event and stop dead there; the wreck stays."""
    height, width = frame.shape[:2]
    car_w, car_h = 2.5 * unit, 1.2 * unit
    centre = (width * 0.5, height * 0.52)
    meet = event.start + MEET_AT * (event.end - event.start)
    lead = 3.0
    if t < meet - lead:
        return
    speed = (width / 2 + car_w) / lead
    before = max(meet - t, 0.0)
    jolt = 0.15 * unit * math.sin(min(t - meet, 0.3) / 0.3 * math.pi) if t >= meet else 0.0
    for side in (-1, 1):
        x = centre[0] + side * (car_w / 2 + speed * before - jolt)
        _box(frame, (x, centre[1] + side * 0.15 * unit), (car_w, car_h), 0.0, colour)


def _draw_near_miss(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """A vehicle crossing the road passes 0.3 car heights behind one driving along it, at the event's
    middle; both enter the frame at `start` and keep going."""
    if not event.start <= t < event.end:
        return
    height, width = frame.shape[:2]
    car_w, car_h = 2.5 * unit, 1.2 * unit
    middle = (event.start + event.end) / 2
    span = event.end - event.start
    lane_y, crossing_x = height * 0.5, width * 0.4
    along, down = (width + 2 * car_w) / span, (height + 2 * car_w) / span
    gap = 0.3 * car_h
    # where the first car is when the second crosses its lane
    ahead = crossing_x + car_h / 2 + gap + car_w / 2
    _box(frame, (ahead + along * (t - middle), lane_y), (car_w, car_h), 0.0, colour)
    _box(frame, (crossing_x, lane_y + down * (t - middle)), (car_h, car_w), 0.0, colour)


def _draw_stopped_vehicle(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """A vehicle drives along the upper lane for 2.5 s, brakes, stands from `start`; it stays after."""
    height, width = frame.shape[:2]
    car_w, car_h = 2.0 * unit, 1.0 * unit
    lane_y = height * 0.3 + car_h / 2
    stop_x = width * 0.55
    lead, speed = 2.5, 0.3 * width / 2.5
    if t < event.start - lead:
        return
    before = max(event.start - t, 0.0)
    braking = 0.6  # seconds of braking at the end of the lead-in
    if before > braking:
        behind = speed * (before - braking) + speed * braking / 2
    else:
        behind = speed * before * before / (2 * braking)
    _box(frame, (stop_x - behind, lane_y), (car_w, car_h), 0.0, colour)


def _draw_wrong_way(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """A vehicle crosses the frame on the upper lane against its traffic (right to left)."""
    if not event.start <= t < event.end:
        return
    height, width = frame.shape[:2]
    car_w, car_h = 2.0 * unit, 1.0 * unit
    progress = (t - event.start) / (event.end - event.start)
    x = width + car_w - progress * (width + 2 * car_w)
    _box(frame, (x, height * 0.3 + car_h / 2), (car_w, car_h), 0.0, colour)


def _draw_running(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """A person walks left to right (before `start`), then runs (from `start`, and on after `end`)."""
    height, width = frame.shape[:2]
    person = height * 0.3
    walk, run = 0.6 * person, 2.6 * person
    x_run = width * 0.15  # walks 2.5 s (from off-frame) before breaking into a run here
    x_start = x_run - walk * 2.5
    if t < event.start - 2.5:
        return
    if t < event.start:
        x, step = x_start + walk * (t - event.start + 2.5), 0.9
    else:
        x, step = x_run + run * (t - event.start), 2.6
    swing = math.sin(2 * math.pi * step * t)
    amplitude = 0.35 if t < event.start else 0.8
    _draw_person(
        frame,
        (x, height * 0.72),
        person,
        colour,
        stride=amplitude * swing,
        arms=(amplitude * swing, -amplitude * swing),
    )


def _draw_panic(frame, event: ScriptedEvent, t: float, unit: int, colour) -> None:
    """Five people stand about; at `start` they run away from one point (and on after `end`)."""
    height, width = frame.shape[:2]
    person = height * 0.22
    origin = (width * 0.5, height * 0.62)
    for i in range(5):
        angle = math.pi * (0.1 + 0.2 * i) + (0.0 if i % 2 else math.pi)
        home = (origin[0] + 1.4 * person * math.cos(angle), origin[1] + 0.45 * person * math.sin(angle))
        run = max(t - event.start, 0.0) * 2.2 * person
        foot = (home[0] + run * math.cos(angle), home[1] + 0.3 * run * math.sin(angle))
        swing = math.sin(2 * math.pi * 2.6 * t + i) if t >= event.start else 0.0
        _draw_person(
            frame, foot, person, colour, stride=0.8 * swing, arms=(0.8 * swing, -0.8 * swing),
            facing=1 if math.cos(angle) >= 0 else -1,
        )  # fmt: skip


_TIMED_KINDS = {
    "meet_and_stop": _draw_meet_and_stop,
    "near_miss": _draw_near_miss,
    "stopped_vehicle": _draw_stopped_vehicle,
    "wrong_way": _draw_wrong_way,
    "running": _draw_running,
    "panic": _draw_panic,
}


def _box(frame, centre, size, angle: float, colour) -> None:
    corners = cv2.boxPoints((centre, size, angle)).astype(np.int32)
    cv2.fillConvexPoly(frame, corners, colour)


# x264's output depends on how many threads it encodes with, and by default it takes 1.5 per CPU: the
# same frames made another file on a machine with more CPUs, and the local engine, which reads exact
# grey levels, other events. Pinned to what it takes on the 2-CPU machines every figure so far came from.
X264_THREADS = 3


def write_clip(
    path: str | Path,
    frames: Iterator[np.ndarray],
    *,
    fps: float,
    size: tuple[int, int],
    codec: str = "libx264",
    crf: int = 28,
    keyint: int | None = None,
) -> Path:
    """Encode frames with the imageio-ffmpeg binary (H.264, yuv420p, faststart by default).

    crf: x264's quality (higher: fewer bits, more artefacts; 40+ is visibly blocky); keyint: the
    keyframe interval in frames (short intervals make the picture "pump" at each keyframe).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = ["-movflags", "+faststart"] if codec == "libx264" else []
    if codec == "libx264":
        params += ["-preset", "veryfast", "-crf", str(crf), "-threads", str(X264_THREADS)]
        if keyint:
            params += ["-g", str(keyint), "-keyint_min", str(keyint)]
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
        output_params=params,
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
    crf: int = 28,
    keyint: int | None = None,
    **scene: object,
) -> Path:
    """Write a clip with `events` to `path` (H.264 MP4); `scene` as for `render_frames`
    (or one of `SCENES`), `crf`/`keyint` as for `write_clip`."""
    frames = render_frames(seconds=seconds, fps=fps, size=size, events=events, **scene)
    return write_clip(path, frames, fps=fps, size=size, crf=crf, keyint=keyint)


# The dashboard's sample: on steady two-lane traffic a car drives against its lane's flow, two cars drive
# into each other and stop, then a burst of motion no rule explains. Drawn so the local engine names all
# three (WRONG_WAY, COLLISION, SUDDEN_MOTION): a demo shows what the engine tells apart, and a test keeps it.
SAMPLE_EVENTS = (
    ScriptedEvent(1.5, 4.0, "wrong_way"),
    ScriptedEvent(6.5, 8.0, "meet_and_stop"),
    ScriptedEvent(10.5, 11.1, "burst"),
)


def sample_moments() -> dict[str, float]:
    """When each of the sample's events can be seen happening (s): the wrong-way car entering, the two
    cars meeting (`MEET_AT` into their event), the burst starting."""
    return {
        event.kind: event.start
        + (MEET_AT * (event.end - event.start) if event.kind == "meet_and_stop" else 0.0)
        for event in SAMPLE_EVENTS
    }


def make_sample_clip(path: str | Path) -> Path:
    """The dashboard's sample: 12 s of traffic with the `SAMPLE_EVENTS`."""
    return make_clip(path, seconds=12.0, fps=25.0, size=(480, 270), events=SAMPLE_EVENTS, **SCENES["traffic"])
