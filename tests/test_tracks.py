"""The tracker's rule for two objects seen as one region (core.tracks.Tracker)."""

from __future__ import annotations

from core.tracks import Blob, Tracker


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
