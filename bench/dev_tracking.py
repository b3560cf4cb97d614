"""Whether the scripted event's actors are tracked at all (development seeds only; printed).

`python -m bench.dev_tracking [--seeds 7031,7032] [--kinds collision,fall] [module.NAME=value ...]`
prints, per development clip and per actor of its scripted event: the frames of the scripted span
(±0.5 s) in which some track's box overlaps the actor's true box (IoU ≥ 0.25), the distinct track ids
that did, and the actor's size in analysed pixels; then the events raised near the span. It tells a
miss of perception (the actor is not followed) from a miss of a rule (it is, and no rule fired). The
event's actors are found by replaying the generator's draws (`heldout_scenes.draw_case` from the
seed): those it adds for the event itself, after the background traffic and walkers.
"""

from __future__ import annotations

import json

import numpy as np

from bench import bench_local_heldout as heldout
from bench import heldout_scenes
from bench.dev_local import development_parser, development_run
from core.tracks import MATCHED, H, T, X, iou

COVERED_IOU = 0.25
MARGIN_SEC = 0.5


def event_actor_ids(seed: int) -> dict[tuple[int, str], list[int]]:
    """Per (clip index, kind) of a development seed: the ids of the actors its event added."""
    first_event_actor: dict[str, int] = {}
    originals = dict(heldout_scenes.EVENTS)

    def recording(kind):
        def draw(case, rng, at):
            first_event_actor["n"] = len(case.actors)
            originals[kind](case, rng, at)

        return draw

    heldout_scenes.EVENTS.update({kind: recording(kind) for kind in originals})
    try:
        rng = np.random.default_rng(seed)
        ids = {}
        for index in range(heldout.CLIPS_PER_KIND_DEV):
            for kind in heldout_scenes.KINDS:
                case = heldout_scenes.draw_case(rng, kind)
                ids[(index, kind)] = list(range(first_event_actor["n"] + 1, len(case.actors) + 1))
        return ids
    finally:
        heldout_scenes.EVENTS.update(originals)


def coverage(tracks, boxes: list[dict], actor: int, frames: range, fps: float, scale: float) -> str:
    covered, track_ids, sizes, seen = 0, set(), [], 0
    for frame in frames:
        entry = boxes[frame].get(str(actor)) if frame < len(boxes) else None
        if not entry:
            continue
        box = [value / scale for value in entry[1]]
        sizes.append(max(box[2], box[3]))
        seen += 1
        time, best, best_id = frame / fps, 0.0, None
        for track in tracks:
            data = track.data
            k = int(np.searchsorted(data[:, T], time - 0.06))
            if k < len(data) and abs(data[k, T] - time) < 0.06 and data[k, MATCHED]:
                overlap = iou(tuple(data[k, X : H + 1]), box)
                if overlap > best:
                    best, best_id = overlap, track.id
        if best >= COVERED_IOU:
            covered += 1
            track_ids.add(best_id)
    size = float(np.median(sizes)) if sizes else 0.0
    return f"actor {actor}: {covered}/{seen} frames, {len(track_ids)} track id(s), {size:.0f} px"


def main(argv: list[str] | None = None) -> None:
    events = tuple(kind for kind in heldout_scenes.KINDS if heldout_scenes.EXPECTED[kind])
    _, seeds, kinds = development_run(development_parser(__doc__.splitlines()[0], events), argv)
    for seed in seeds:
        actors = event_actor_ids(seed)
        for index, clip in enumerate(heldout.held_out_clips(seed, heldout.CLIPS_PER_KIND_DEV)):
            kind = clip["kind"]
            if kind not in kinds or clip["truth"] is None:
                continue
            truth = json.loads(clip["path"].with_suffix(".json").read_text())
            _, analysis, seen = heldout.analyse(clip["path"])
            start, end = truth["truth"]
            fps = truth["fps"]
            frames = range(int((start - MARGIN_SEC) * fps), int((end + MARGIN_SEC) * fps))
            scale = truth["size"][0] / seen.size[0]
            parts = [
                coverage(seen.tracks, truth["boxes"], actor, frames, fps, scale)
                for actor in actors[(index // len(heldout_scenes.KINDS), kind)]
            ]
            near = [
                e.event_type for e in analysis.events if e.start_time < end + 1 and e.end_time > start - 1
            ]
            print(
                f"{seed}/{clip['path'].name}: {'; '.join(parts)} | raised near: {', '.join(near) or 'nothing'}"
            )


if __name__ == "__main__":
    main()
