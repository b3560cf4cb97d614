"""The tracker's rule for two objects seen as one region (core.tracks.Tracker), and what the foreground
model gives each object (core.tracks.ForegroundModel)."""

from __future__ import annotations

import numpy as np

from core.tracks import Blob, ForegroundModel, Tracker


def _blob(*boxes: tuple[float, float, float, float], margin: float = 0.0) -> Blob:
    """The region of the boxes, `margin` wider each side."""
    left = min(b[0] for b in boxes) - margin
    top = min(b[1] for b in boxes) - margin
    right = max(b[0] + b[2] for b in boxes) + margin
    bottom = max(b[1] + b[3] for b in boxes) + margin
    box = (left, top, right - left, bottom - top)
    return Blob(box, box[2] * box[3], None, 0.0)


def _run(positions) -> list:
    """Two 20-pixel objects at (x of the first, x of the second) per frame; one region while they touch
    (a few pixels wider than the two: a shadow between them, the threshold's margin)."""
    tracker = Tracker()
    for frame, (xa, xb) in enumerate(positions):
        a, b = (xa, 50.0, 20.0, 20.0), (xb, 53.0, 20.0, 20.0)
        touching = abs(xa - xb) < 26
        tracker.update(frame * 0.1, [_blob(a, b, margin=3.0)] if touching else [_blob(a), _blob(b)])
    return tracker.close()


def test_two_that_cross_head_on_come_out_each_on_its_own_way():
    """Two objects meeting head-on merge into one region and part again: each track goes on with the
    object it followed in (not the one that comes out on its side)."""
    tracks = _run([(2.0 * f, 100.0 - 2.0 * f) for f in range(51)])
    assert len(tracks) == 2
    first, second = tracks  # by id: the one that came from the left first
    assert first.data[0, 1] < second.data[0, 1]
    assert first.data[-1, 1] > 80 and second.data[-1, 1] < 20


def test_two_that_meet_and_stop_stand_still_in_their_region():
    """Two objects that meet head-on and stop stay where they met, each on its own side."""
    tracks = _run([(min(2.0 * f, 40.0), max(100.0 - 2.0 * f, 60.0)) for f in range(50)])
    assert len(tracks) == 2
    first, second = tracks
    assert abs(first.data[-1, 1] - 40.0) <= 3 and abs(second.data[-1, 1] - 60.0) <= 3
    assert (abs(first.data[-20:, 1] - first.data[-1, 1]) < 0.5).all()


def _standing_after(stop_seconds: float, *, stops: bool = True, speed: float = 30.0) -> tuple[list, bool]:
    """The standing objects (`ForegroundModel.standing`) and whether the short-term foreground still
    holds the block, `stop_seconds` after a bright 20×12 block driving in at `speed` px/s (from out of
    the picture while the background is learnt) stops at x=70 (or, with `stops` False, drives on);
    10 frames a second, a flat grey background."""
    model = ForegroundModel((160, 120))
    previous = None
    arrive = 5.0
    for frame in range(round((arrive + stop_seconds) * 10) + 1):
        time = frame / 10
        x = 70.0 + speed * (time - arrive)
        if stops:
            x = min(x, 70.0)
        image = np.full((120, 160), 100, np.uint8)
        if x > -20:
            image[50:62, max(0, int(x)) : max(0, int(x) + 20)] = 200
        change = None if previous is None else (np.abs(image.astype(int) - previous) > 6).astype(np.float32)
        model(image, time, change)
        previous = image.astype(int)
    held = model.foreground is not None and bool(model.foreground[55, 80])
    return model.standing, held


def test_a_block_that_stopped_stands_out_after_the_short_term_background_learnt_it():
    """Ten seconds after it stopped, the short-term background has learnt the block (no foreground
    there); it still stands out as a standing object, on its own box."""
    standing, held = _standing_after(10.0)
    assert not held
    assert len(standing) == 1
    x, y, w, h = standing[0].box
    assert abs(x - 70) <= 2 and abs(y - 50) <= 2 and abs(w - 20) <= 3 and abs(h - 12) <= 3


def test_a_block_driving_by_never_stands():
    """A flat-coloured block driving (only its ends change from frame to frame) is no standing object
    when it drives more than its length in STANDING_STILL_SEC (one slower stands at its rear)."""
    for seconds in (0.5, 1.0, 1.5):
        assert _standing_after(seconds, stops=False, speed=60.0)[0] == []


def test_a_body_is_given_the_change_in_the_patch_that_touches_it():
    """A body close to the camera whose legs are of the floor's brightness: the background model sees
    its upper half only, the change mask all of it moving, as one patch. The changed pixels of that
    patch outside its region are attached to it; a piece thrown aside, a patch of its own, is not."""
    model = ForegroundModel((160, 120))
    floor = np.full((120, 160), 100, np.uint8)
    for frame in range(15):  # 1.4 s of the empty room: the background is learnt
        model(floor, frame / 10, np.zeros((120, 160), np.float32))
    image = floor.copy()
    image[20:40, 50:70] = 30  # the upper body, dark against the floor
    change = np.zeros((120, 160), np.float32)
    change[20:60, 50:70] = 1.0  # all of the body moved, legs too
    change[90:95, 120:125] = 1.0  # a piece thrown aside
    [body] = model(image, 1.5, change)
    assert 18 * 18 <= body.moving <= 20 * 20
    assert 20 * 20 <= body.attached <= 22 * 20  # (the region is a pixel off the block: opened, closed)
