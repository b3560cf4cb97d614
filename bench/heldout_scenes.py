"""An independent generator of held-out clips for the local engine (`bench/bench_local_engine.py`).

Nothing here comes from `core.samples` (the clips the tests use and the thresholds were chosen on):
its own drawing code (filled bodies with a head, legs and arms; vehicles as oriented bodies with a
windscreen and shadow), its own scenes (a road at a random angle across a random ground with
clutter), a camera whose horizon and perspective are drawn at random (objects shrink towards the
horizon), random object sizes and colours, lighting (gain drift, colour cast, vignetting, shadows),
sensor noise, blur and compression, and event times drawn at random. Every clip also records, per
frame, the box of every actor (for the tracker comparison) and the scripted span of its event.

`draw_case(rng, kind)` draws one case; `render(case, path)` writes it as H.264 and returns the
ground-truth boxes. `EXPECTED` maps each kind to the type the engine should name (calm: none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from core.samples import X264_THREADS  # the encoder's settings only: every clip is drawn here

EXPECTED = {
    "collision": "COLLISION",
    "near_miss": "NEAR_MISS",
    "fall": "FALL",
    "fight": "FIGHT",
    "running": "RUNNING",
    "panic": "CROWD_PANIC",
    "wrong_way": "WRONG_WAY",
    "stopped_vehicle": "STOPPED_VEHICLE",
    "debris": "SUDDEN_MOTION",
    "calm": None,
}
KINDS = tuple(EXPECTED)
SIZES = ((320, 240), (426, 240), (480, 360), (640, 360), (640, 480), (854, 480))


# --- the camera and the ground --------------------------------------------------------------------


@dataclass
class Camera:
    """Image-space ground: an object whose feet stand at image row y is `scale(y)` times its size at the
    bottom row (0 at the horizon); `near` is a person's height in pixels at the bottom row."""

    width: int
    height: int
    horizon: float  # image row of the horizon (may be above the picture: a steep camera)
    near: float

    def scale(self, y: float) -> float:
        return max(0.15, (y - self.horizon) / (self.height - self.horizon))

    def person_height(self, y: float) -> float:
        return self.near * self.scale(y)


@dataclass
class Road:
    """A straight road through the picture: a point on it, its direction (unit), its width in pixels at
    the bottom row; lanes at ±a quarter of its width, lane +1 driving along `direction`."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    width: float

    def point(self, s: float, lane: float) -> tuple[float, float]:
        """The point `s` pixels along the road, `lane` (-1..1) of a half-width to its right."""
        dx, dy = self.direction
        nx, ny = -dy, dx
        return self.origin[0] + dx * s + nx * lane * self.width / 4, self.origin[
            1
        ] + dy * s + ny * lane * self.width / 4


# --- actors ---------------------------------------------------------------------------------------


@dataclass
class Actor:
    """Something drawn on the scene: `pose(t)` gives where and how (None: not in the picture)."""

    kind: str  # person | vehicle | debris
    colour: tuple[int, int, int]
    size: float  # person: height at the bottom row; vehicle: length at the bottom row
    pose: object  # callable t -> dict | None
    actor_id: int = 0


def _lerp(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


def _draw_person(
    frame: np.ndarray, camera: Camera, actor: Actor, p: dict
) -> tuple[float, float, float, float]:
    """A filled body: legs as two polygons swinging with `gait`, a torso ellipse, arms, a head; `lean`
    turns the whole body about the feet (±π/2: lying). Returns its box."""
    fx, fy = p["foot"]
    h = camera.person_height(fy) * actor.size
    lean, gait, arms = p.get("lean", 0.0), p.get("gait", 0.0), p.get("arms", 0.0)
    c, s = math.cos(lean), math.sin(lean)

    def at(x: float, y: float) -> tuple[int, int]:  # body coordinates: x right, y up from the feet
        return round(fx + x * c + y * s), round(fy + x * s - y * c)

    width = 0.26 * h
    points = []
    leg = max(2, int(0.09 * h))
    for side in (-1, 1):
        swing = side * gait * 0.22 * h
        hip, foot = at(side * 0.06 * h, 0.48 * h), at(side * 0.06 * h + swing, 0.0)
        cv2.line(frame, hip, foot, _darker(actor.colour, 0.6), leg)
        points += [hip, foot]
    torso = at(0.0, 0.66 * h)
    cv2.ellipse(
        frame,
        torso,
        (max(2, int(width / 2)), max(3, int(0.2 * h))),
        math.degrees(lean),
        0,
        360,
        actor.colour,
        -1,
    )
    arm = max(1, int(0.06 * h))
    for side in (-1, 1):
        angle = side * arms
        shoulder = (side * 0.11 * h, 0.8 * h)
        hand = (shoulder[0] + 0.34 * h * math.sin(angle) * side, shoulder[1] - 0.34 * h * math.cos(angle))
        cv2.line(frame, at(*shoulder), at(*hand), actor.colour, arm)
        points += [at(*hand)]
    head = at(0.0, 0.92 * h)
    cv2.circle(frame, head, max(2, int(0.08 * h)), _skin(actor.actor_id), -1)
    points += [head, at(-width / 2, 0.66 * h), at(width / 2, 0.66 * h), at(0, 1.0 * h)]
    return _box_of(points)


def _draw_vehicle(
    frame: np.ndarray, camera: Camera, actor: Actor, p: dict
) -> tuple[float, float, float, float]:
    """An oriented body (seen from above and a little behind), a windscreen towards its heading, and a
    soft shadow; its length shrinks with distance like everything else. Returns its box."""
    cx, cy = p["centre"]
    length = actor.size * camera.scale(cy)
    breadth = length * p.get("breadth", 0.48)
    heading = p["heading"]
    angle = math.degrees(math.atan2(heading[1], heading[0])) + p.get("spin", 0.0)
    body = cv2.boxPoints(((cx, cy), (length, breadth), angle)).astype(np.int32)
    shadow = cv2.boxPoints(((cx + 0.08 * length, cy + 0.12 * breadth), (length, breadth), angle)).astype(
        np.int32
    )
    cv2.fillConvexPoly(frame, shadow, (30, 30, 30))
    cv2.fillConvexPoly(frame, body, actor.colour)
    rad = math.radians(angle)
    front = (cx + 0.18 * length * math.cos(rad), cy + 0.18 * length * math.sin(rad))
    glass = cv2.boxPoints((front, (0.22 * length, 0.8 * breadth), angle)).astype(np.int32)
    cv2.fillConvexPoly(frame, glass, _darker(actor.colour, 0.35))
    return _box_of(body.tolist())


def _draw_debris(
    frame: np.ndarray, camera: Camera, actor: Actor, p: dict
) -> tuple[float, float, float, float]:
    points = []
    for x, y, r in p["pieces"]:
        cv2.circle(frame, (int(x), int(y)), max(1, int(r)), actor.colour, -1)
        points += [(x - r, y - r), (x + r, y + r)]
    return _box_of(points)


def _box_of(points) -> tuple[float, float, float, float]:
    xs = [float(q[0]) for q in points]
    ys = [float(q[1]) for q in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _darker(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(v * factor) for v in colour)  # type: ignore[return-value]


def _skin(seed: int) -> tuple[int, int, int]:
    tones = ((90, 120, 170), (60, 90, 140), (140, 170, 210), (40, 60, 100))
    return tones[seed % len(tones)]


DRAW = {"person": _draw_person, "vehicle": _draw_vehicle, "debris": _draw_debris}


# --- a case: scene, camera, background actors, the event ------------------------------------------


@dataclass
class Case:
    kind: str
    seconds: float
    fps: float
    size: tuple[int, int]
    camera: Camera
    road: Road | None
    actors: list[Actor]
    truth: tuple[float, float] | None
    noise: float
    drift: float
    drift_period: float
    cast: tuple[float, float, float]
    vignette: float
    blur: bool
    crf: int
    seed: int
    ground: tuple[int, int, int]
    road_colour: tuple[int, int, int]
    clutter: list[tuple[int, int, int, int, tuple[int, int, int]]] = field(default_factory=list)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(20, 235, size=3))  # type: ignore[return-value]


def _unit(angle: float) -> tuple[float, float]:
    return math.cos(angle), math.sin(angle)


def draw_case(rng: np.random.Generator, kind: str) -> Case:
    """One held-out case of `kind`, everything about it drawn from `rng`."""
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    fps = float(rng.choice([12.0, 15.0, 20.0, 25.0, 30.0]))
    seconds = float(rng.uniform(11.0, 15.0))
    horizon = float(rng.uniform(-0.6, 0.35)) * height  # above the picture: looking down steeply
    near = float(rng.uniform(0.28, 0.5)) * height
    camera = Camera(width, height, horizon, near)
    road_angle = float(rng.choice([rng.uniform(-0.5, 0.5), rng.uniform(0.9, 1.3) * rng.choice([-1, 1])]))
    road = Road(
        origin=(width * float(rng.uniform(0.35, 0.65)), height * float(rng.uniform(0.45, 0.7))),
        direction=_unit(road_angle),
        width=float(rng.uniform(0.28, 0.45)) * min(width, height) * 1.6,
    )
    case = Case(
        kind=kind,
        seconds=seconds,
        fps=fps,
        size=(width, height),
        camera=camera,
        road=road,
        actors=[],
        truth=None,
        noise=float(rng.uniform(1.0, 8.0)),
        drift=float(rng.uniform(0.0, 0.25)),
        drift_period=float(rng.uniform(4.0, 20.0)),
        cast=tuple(float(v) for v in rng.uniform(0.85, 1.15, size=3)),  # type: ignore[arg-type]
        vignette=float(rng.uniform(0.0, 0.35)),
        blur=bool(rng.random() < 0.3),
        crf=int(rng.integers(22, 35)),
        seed=int(rng.integers(1 << 30)),
        ground=_colour(rng),
        road_colour=tuple(int(v) for v in np.full(3, rng.integers(50, 140)) + rng.integers(-10, 10, 3)),  # type: ignore[arg-type]
    )
    for _ in range(int(rng.integers(2, 7))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height // 2))
        case.clutter.append(
            (x, y, int(rng.integers(10, width // 4)), int(rng.integers(10, height // 3)), _colour(rng))
        )
    event_at = float(rng.uniform(4.0, seconds - 4.5))
    _background_actors(case, rng, kind, event_at)
    EVENTS[kind](case, rng, event_at)
    for number, actor in enumerate(case.actors, start=1):
        actor.actor_id = number
    return case


def _vehicle_size(case: Case, rng: np.random.Generator) -> float:
    return float(rng.uniform(0.9, 1.4)) * case.camera.near


def _person_scale(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.85, 1.15))


def _drive(case: Case, lane: float, speed: float, enter: float, sign: int | None = None):
    """A pose function: a vehicle that enters the picture at `enter` and drives through it along the road
    in `lane` at `speed` px/s, along the road's direction when `sign` is 1, against it when -1 (by
    default, as a two-way road's traffic keeps to the right: lane > 0 along, lane < 0 against)."""
    road = case.road
    assert road is not None
    span = math.hypot(*case.size) * 0.65
    sign = sign or (1 if lane > 0 else -1)

    def pose(t: float):
        s = -span + (t - enter) * speed * 1.0
        if t < enter or s > span:
            return None
        return {
            "centre": road.point(sign * s, lane),
            "heading": (road.direction[0] * sign, road.direction[1] * sign),
        }

    return pose


def _crossing_time(case: Case, speed: float) -> float:
    return 2 * math.hypot(*case.size) * 0.65 / speed


def _background_actors(case: Case, rng: np.random.Generator, kind: str, event_at: float) -> None:
    """Traffic on the road (one speed per lane, so nobody catches up), entering at random gaps, and
    people walking along the pavements on either side; a one-way road with more traffic where the
    event needs a flow to go against (leaving the wrong-way vehicle's lane clear while it drives)."""
    one_way = kind == "wrong_way"
    busy = kind in ("wrong_way", "stopped_vehicle")
    on_foot = kind in ("fall", "fight", "running", "panic")  # a square or a pavement: no traffic through them
    for lane in (1, -1):
        if on_foot or (not busy and rng.random() < 0.4):
            continue
        speed = float(rng.uniform(0.5, 1.2)) * case.camera.near
        crossing = _crossing_time(case, speed)
        t = float(rng.uniform(-crossing, 0.5))
        while t < case.seconds:
            clear = one_way and lane == -1 and t + crossing > event_at - 0.5 and t < event_at + 4.0
            if not clear:
                case.actors.append(
                    Actor(
                        "vehicle",
                        _colour(rng),
                        _vehicle_size(case, rng),
                        _drive(case, lane, speed, t, sign=1 if one_way else None),
                    )
                )
            gap = float(rng.uniform(1.0, 3.0)) if busy else float(rng.uniform(2.5, 6.0))
            t += gap + _vehicle_size(case, rng) / speed
    for _ in range(int(rng.integers(0, 4))):
        case.actors.append(_walker(case, rng))


def _walker(case: Case, rng: np.random.Generator) -> Actor:
    """Someone walking along the pavement beside the road at a normal pace (0.5–0.9 heights a second)."""
    road = case.road
    assert road is not None
    side = float(rng.choice([-1, 1])) * float(rng.uniform(2.5, 3.4))  # beyond the kerb (lane ±2)
    scale = _person_scale(rng)
    pace = float(rng.uniform(0.5, 0.9))
    direction = float(rng.choice([-1, 1]))
    s0 = float(rng.uniform(-0.5, 0.5)) * math.hypot(*case.size)
    step_hz = float(rng.uniform(0.8, 1.1))
    phase = float(rng.uniform(0, 2 * math.pi))
    span = math.hypot(*case.size) * 0.65

    def pose(t: float):
        foot = road.point(s0, side)
        h = case.camera.person_height(min(max(foot[1], case.camera.horizon + 1), case.size[1] * 1.5)) * scale
        s = (s0 + direction * pace * h * t + span) % (2 * span) - span
        swing = math.sin(2 * math.pi * step_hz * t + phase)
        return {"foot": road.point(s, side), "gait": swing, "arms": 0.3 * swing}

    return Actor("person", _colour(rng), scale, pose)


# --- the events -----------------------------------------------------------------------------------


def _collision(case: Case, rng: np.random.Generator, at: float) -> None:
    """Two vehicles come from different directions (60–180° apart), meet at `at` and stop within a few
    tenths of a second (one may be shoved and slewed round); the wreck stays."""
    width, height = case.size
    meet = (width * float(rng.uniform(0.35, 0.65)), height * float(rng.uniform(0.5, 0.8)))
    first = float(rng.uniform(0, 2 * math.pi))
    second = first + math.pi + float(rng.uniform(-2.1, 2.1))  # at least 60° apart
    length = _vehicle_size(case, rng)
    shove = float(rng.uniform(0.0, 0.5))
    spin = float(rng.uniform(-60, 60)) if rng.random() < 0.5 else 0.0
    for number, angle in enumerate((first, second)):
        heading = _unit(angle)
        speed = float(rng.uniform(1.0, 2.2)) * length
        reach = length * case.camera.scale(meet[1]) * 0.5

        def pose(t: float, heading=heading, speed=speed, reach=reach, number=number):
            scale = case.camera.scale(meet[1])
            contact = (meet[0] - heading[0] * reach, meet[1] - heading[1] * reach)
            if t < at:
                lead = (at - t) * speed * scale
                return {
                    "centre": (contact[0] - heading[0] * lead, contact[1] - heading[1] * lead),
                    "heading": heading,
                }
            after = min(t - at, 0.4) / 0.4
            push = shove * reach * (1 - (1 - after) ** 2) if number == 0 else 0.0
            return {
                "centre": (contact[0] + heading[0] * push, contact[1] + heading[1] * push),
                "heading": heading,
                "spin": spin * after if number == 0 else 0.0,
            }

        case.actors.append(Actor("vehicle", _colour(rng), length, pose))
    case.truth = (at - 0.3, at + 0.7)


def _near_miss(case: Case, rng: np.random.Generator, at: float) -> None:
    """Two vehicles on crossing paths (45–135° apart) at speed; at `at` the second passes behind the
    first with a gap of 15–50 % of a vehicle's breadth; both keep going."""
    width, height = case.size
    cross = (width * float(rng.uniform(0.4, 0.6)), height * float(rng.uniform(0.5, 0.75)))
    first = float(rng.uniform(0, 2 * math.pi))
    second = first + float(rng.choice([-1, 1])) * float(rng.uniform(math.pi / 4, 3 * math.pi / 4))
    length = _vehicle_size(case, rng)
    scale = case.camera.scale(cross[1])
    breadth = 0.48 * length * scale
    gap = float(rng.uniform(0.15, 0.5)) * breadth
    speed_a = float(rng.uniform(1.5, 2.5)) * length
    speed_b = float(rng.uniform(1.5, 2.5)) * length
    a_dir, b_dir = _unit(first), _unit(second)
    # at `at`, B is at the crossing point; A has just passed it: its rear is `gap` beyond B's side
    cos_between = abs(a_dir[0] * b_dir[0] + a_dir[1] * b_dir[1])
    sin_between = math.sqrt(max(1e-6, 1 - cos_between**2))
    ahead = length * scale / 2 + (breadth / 2 + gap) / sin_between + breadth / 2 * cos_between / sin_between
    for heading, speed, offset in ((a_dir, speed_a, ahead), (b_dir, speed_b, 0.0)):

        def pose(t: float, heading=heading, speed=speed, offset=offset):
            s = offset + (t - at) * speed * scale
            if abs(s) > math.hypot(width, height):
                return None
            return {"centre": (cross[0] + heading[0] * s, cross[1] + heading[1] * s), "heading": heading}

        case.actors.append(Actor("vehicle", _colour(rng), length, pose))
    case.truth = (at - 0.5, at + 0.5)


def _fall(case: Case, rng: np.random.Generator, at: float) -> None:
    """Someone walks in (or stands), stops, and at `at` falls sideways or forwards within 0.4–0.9 s;
    they lie there afterwards, now and then moving a little."""
    width, height = case.size
    foot = (width * float(rng.uniform(0.25, 0.75)), height * float(rng.uniform(0.6, 0.92)))
    scale = _person_scale(rng)
    duration = float(rng.uniform(0.4, 0.9))
    side = float(rng.choice([-1, 1]))
    walk_in = rng.random() < 0.6
    pace = float(rng.uniform(0.5, 0.8))
    stand_from = at - float(rng.uniform(0.5, 2.0))

    def pose(t: float):
        h = case.camera.person_height(foot[1]) * scale
        if t < stand_from:
            if not walk_in:
                return {"foot": foot}
            x = foot[0] - side * pace * h * (stand_from - t)
            swing = math.sin(2 * math.pi * 0.9 * t)
            return {"foot": (x, foot[1]), "gait": swing, "arms": 0.3 * swing}
        if t < at:
            return {"foot": foot}
        f = min((t - at) / duration, 1.0)
        lean = side * (math.pi / 2) * f * f
        twitch = 0.15 * math.sin(2 * math.pi * 2.0 * t) if f >= 1.0 and (t - at) < duration + 1.0 else 0.0
        return {"foot": foot, "lean": lean, "arms": 1.2 * f + twitch, "gait": 0.3 * f}

    case.actors.append(Actor("person", _colour(rng), scale, pose))
    case.truth = (at, at + duration)


def _fight(case: Case, rng: np.random.Generator, at: float) -> None:
    """Two people walk up to each other; from `at`, for 1.5–3 s, they lunge, shove and swing at each
    other in place; then one walks off."""
    width, height = case.size
    centre = (width * float(rng.uniform(0.3, 0.7)), height * float(rng.uniform(0.6, 0.9)))
    scale = _person_scale(rng)
    duration = float(rng.uniform(1.5, 3.0))
    freq = float(rng.uniform(1.5, 3.0))
    for side in (-1, 1):
        phase = float(rng.uniform(0, 2 * math.pi))

        def pose(t: float, side=side, phase=phase):
            h = case.camera.person_height(centre[1]) * scale
            stand = centre[0] + side * 0.3 * h
            if t < at - 1.5:
                x = stand + side * 0.8 * h * (at - 1.5 - t)
                if abs(x - stand) > 3 * h:
                    return None
                swing = math.sin(2 * math.pi * 0.9 * t)
                return {"foot": (x, centre[1]), "gait": swing, "arms": 0.3 * swing}
            if t < at:
                return {"foot": (stand, centre[1])}
            if t < at + duration:
                lunge = math.sin(2 * math.pi * freq * t + phase)
                jab = math.sin(2 * math.pi * 2.1 * freq * t + 2 * phase)
                return {
                    "foot": (stand + side * 0.2 * h * lunge, centre[1]),
                    "lean": -side * 0.35 * max(lunge, 0.0),
                    "arms": 1.6 + 0.9 * jab,
                    "gait": 0.5 * lunge,
                }
            if side < 0:
                return {"foot": (stand, centre[1])}
            x = stand + 0.8 * h * (t - at - duration)
            swing = math.sin(2 * math.pi * 0.9 * t)
            return {"foot": (x, centre[1]), "gait": swing, "arms": 0.3 * swing}

        case.actors.append(Actor("person", _colour(rng), scale, pose))
    case.truth = (at, at + duration)


def _running(case: Case, rng: np.random.Generator, at: float) -> None:
    """Someone walks across at a normal pace and at `at` breaks into a run (2.5–4 heights a second)."""
    width, height = case.size
    y = height * float(rng.uniform(0.6, 0.92))
    scale = _person_scale(rng)
    direction = float(rng.choice([-1, 1]))
    walk, run = float(rng.uniform(0.5, 0.8)), float(rng.uniform(2.5, 4.0))
    x_at = width * (0.3 if direction > 0 else 0.7) + float(rng.uniform(-0.1, 0.1)) * width

    def pose(t: float):
        h = case.camera.person_height(y) * scale
        if t < at:
            x = x_at - direction * walk * h * (at - t)
            hz, amp = 0.9, 0.3
        else:
            x = x_at + direction * run * h * (t - at)
            hz, amp = 2.4, 0.9
        if x < -2 * h or x > width + 2 * h:
            return None
        swing = math.sin(2 * math.pi * hz * t)
        lean = direction * 0.15 if t >= at else 0.0
        return {"foot": (x, y), "gait": amp * swing, "arms": amp * swing, "lean": lean}

    case.actors.append(Actor("person", _colour(rng), scale, pose))
    case.truth = (at, at + 1.5)


def _panic(case: Case, rng: np.random.Generator, at: float) -> None:
    """Four to seven people stand or mill about; at `at` (each within half a second) they all run
    away from one point."""
    width, height = case.size
    origin = (width * float(rng.uniform(0.35, 0.65)), height * float(rng.uniform(0.62, 0.85)))
    for _ in range(int(rng.integers(4, 8))):
        angle = float(rng.uniform(0, 2 * math.pi))
        spot = (origin[0] + math.cos(angle) * float(rng.uniform(0.4, 1.3)) * case.camera.near,
                origin[1] + math.sin(angle) * float(rng.uniform(0.1, 0.3)) * case.camera.near)  # fmt: skip
        away = _unit(math.atan2(spot[1] - origin[1], spot[0] - origin[0]))
        start = at + float(rng.uniform(0.0, 0.5))
        speed = float(rng.uniform(2.5, 4.0))
        scale = _person_scale(rng)
        sway_phase = float(rng.uniform(0, 2 * math.pi))

        def pose(
            t: float, spot=spot, away=away, start=start, speed=speed, scale=scale, sway_phase=sway_phase
        ):
            h = case.camera.person_height(spot[1]) * scale
            if t < start:
                sway = 0.05 * h * math.sin(0.7 * t + sway_phase)
                return {"foot": (spot[0] + sway, spot[1])}
            run = speed * h * (t - start)
            swing = math.sin(2 * math.pi * 2.4 * t + sway_phase)
            return {
                "foot": (spot[0] + away[0] * run, spot[1] + 0.4 * away[1] * run),
                "gait": 0.9 * swing,
                "arms": 0.9 * swing,
            }

        case.actors.append(Actor("person", _colour(rng), scale, pose))
    case.truth = (at, at + 1.5)


def _wrong_way(case: Case, rng: np.random.Generator, at: float) -> None:
    """On a road whose traffic all drives one way (lane +1), a vehicle drives against it, entering the
    picture at `at`."""
    road = case.road
    assert road is not None
    length = _vehicle_size(case, rng)
    speed = float(rng.uniform(0.6, 1.2)) * case.camera.near
    span = math.hypot(*case.size) * 0.65

    def pose(t: float):  # in lane -1, which the one-way traffic keeps clear while it passes
        s = span - (t - at) * speed
        if t < at or s < -span:
            return None
        return {"centre": road.point(s, -1.0), "heading": (-road.direction[0], -road.direction[1])}

    case.actors.append(Actor("vehicle", _colour(rng), length, pose))
    case.truth = (at, at + min(3.0, 2 * span / speed))


def _stopped_vehicle(case: Case, rng: np.random.Generator, at: float) -> None:
    """On the road (traffic on both lanes), a vehicle in a lane of its own drives, brakes and stands from
    `at` for 3–6 s, while the traffic keeps moving; then it drives on."""
    road = case.road
    assert road is not None
    length = _vehicle_size(case, rng)
    speed = float(rng.uniform(0.6, 1.1)) * case.camera.near
    stand = float(rng.uniform(3.0, 6.0))
    brake = float(rng.uniform(0.4, 0.9))
    stop_s = float(rng.uniform(-0.15, 0.15)) * math.hypot(*case.size)
    lane = 1.8  # the hard shoulder or a turning lane: nobody follows it

    def pose(t: float):
        if t < at - brake:
            s = stop_s - speed * brake / 2 - speed * (at - brake - t)
        elif t < at:
            left = at - t
            s = stop_s - speed * left * left / (2 * brake)
        elif t < at + stand:
            s = stop_s
        else:
            s = stop_s + 0.5 * speed * (t - at - stand) ** 2
        if abs(s) > math.hypot(*case.size):
            return None
        return {"centre": road.point(s, lane), "heading": road.direction}

    case.actors.append(Actor("vehicle", _colour(rng), length, pose))
    case.truth = (at, at + stand)


def _debris(case: Case, rng: np.random.Generator, at: float) -> None:
    """At `at`, a burst of 8–20 fragments flies out of one point for 0.3–0.7 s and is gone (something
    thrown, shattering): motion that no followed object explains."""
    width, height = case.size
    origin = (width * float(rng.uniform(0.25, 0.75)), height * float(rng.uniform(0.3, 0.8)))
    duration = float(rng.uniform(0.3, 0.7))
    count = int(rng.integers(8, 21))
    angles = rng.uniform(0, 2 * math.pi, count)
    speeds = rng.uniform(0.8, 2.5, count) * min(width, height)
    radius = max(2.0, 0.025 * min(width, height))

    def pose(t: float):
        if not at <= t < at + duration:
            return None
        dt = t - at
        pieces = [
            (
                origin[0] + math.cos(a) * v * dt,
                origin[1] + math.sin(a) * v * dt + 0.5 * height * dt * dt,
                radius,
            )
            for a, v in zip(angles, speeds)
        ]
        return {"pieces": pieces}

    case.actors.append(Actor("debris", _colour(rng), 1.0, pose))
    case.truth = (at, at + duration)


def _calm(case: Case, rng: np.random.Generator, at: float) -> None:
    """Nothing happens beyond the background traffic and walkers."""


EVENTS = {
    "collision": _collision,
    "near_miss": _near_miss,
    "fall": _fall,
    "fight": _fight,
    "running": _running,
    "panic": _panic,
    "wrong_way": _wrong_way,
    "stopped_vehicle": _stopped_vehicle,
    "debris": _debris,
    "calm": _calm,
}


# --- rendering ------------------------------------------------------------------------------------


def _scene(case: Case) -> np.ndarray:
    width, height = case.size
    rng = np.random.default_rng(case.seed)
    small = rng.normal(0, 1, size=(max(2, height // 24), max(2, width // 24), 1))
    texture = cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    scene = np.array(case.ground, np.float32)[None, None, :] * (1.0 + 0.15 * texture)
    scene += rng.normal(0, 6, size=(height, width, 1)).astype(np.float32)
    for x, y, w, h, colour in case.clutter:
        cv2.rectangle(scene, (x, y), (x + w, y + h), tuple(float(v) for v in colour), -1)
    if case.road is not None:
        a = case.road.point(-3 * max(width, height), 0)
        b = case.road.point(3 * max(width, height), 0)
        cv2.line(scene, tuple(int(v) for v in a), tuple(int(v) for v in b), tuple(float(v) for v in case.road_colour),
                 int(case.road.width))  # fmt: skip
        for k in range(-40, 40):  # dashed centre line
            p = case.road.point(k * 40.0, 0)
            q = case.road.point(k * 40.0 + 18.0, 0)
            cv2.line(scene, tuple(int(v) for v in p), tuple(int(v) for v in q), (210, 210, 210), 2)
    return np.clip(scene, 0, 255).astype(np.uint8)


def frames(case: Case):
    """(frame BGR, {actor id: (kind, box)}) for every frame of the case."""
    width, height = case.size
    rng = np.random.default_rng(case.seed + 1)
    scene = _scene(case)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = ((xx - width / 2) / (width / 2)) ** 2 + ((yy - height / 2) / (height / 2)) ** 2
    light = (1.0 - case.vignette * np.clip(radius, 0, 2) / 2)[..., None] * np.array(case.cast, np.float32)
    order = sorted(case.actors, key=lambda a: a.kind != "vehicle")  # people and debris over vehicles
    for index in range(round(case.seconds * case.fps)):
        t = index / case.fps
        world = scene.copy()
        boxes = {}
        drawn = []
        for actor in order:
            pose = actor.pose(t)
            if pose is None:
                continue
            key = pose.get("foot", pose.get("centre", (0, 0)))[1] if "pieces" not in pose else 1e9
            drawn.append((key, actor, pose))
        for _, actor, pose in sorted(drawn, key=lambda item: item[0]):  # nearer (lower) drawn last
            box = DRAW[actor.kind](world, case.camera, actor, pose)
            x, y, w, h = box
            if x + w > 0 and y + h > 0 and x < width and y < height:
                boxes[actor.actor_id] = (actor.kind, box)
        gain = 1.0 + case.drift * math.sin(2 * math.pi * t / case.drift_period)
        frame = world.astype(np.float32) * light * gain
        frame += rng.normal(0, case.noise, size=(height, width, 1)).astype(np.float32)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        if case.blur:
            frame = cv2.GaussianBlur(frame, (3, 3), 0)
        yield frame, boxes


def render(case: Case, path: Path) -> list[dict[int, tuple[str, tuple[float, float, float, float]]]]:
    """Write the case as H.264 (its crf) to `path`; returns the actors' boxes per frame."""
    width, height = case.size
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (width, height),
        fps=case.fps,
        codec="libx264",
        pix_fmt_in="bgr24",
        pix_fmt_out="yuv420p",
        quality=None,
        bitrate=None,
        macro_block_size=1,
        output_params=[
            *("-preset", "veryfast", "-crf", str(case.crf), "-threads", str(X264_THREADS)),
            *("-movflags", "+faststart"),
        ],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    truth = []
    for frame, boxes in frames(case):
        writer.send(np.ascontiguousarray(frame))
        truth.append(boxes)
    writer.close()
    return truth
