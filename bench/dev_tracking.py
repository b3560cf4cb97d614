"""Whether the scripted event's actors are tracked at all (development seeds only; printed).

`python -m bench.dev_tracking [--seeds 7031,7032] [--kinds collision,fall] [--totals] [module.NAME=value ...]`
prints, per development clip and per actor of its scripted event: the frames of the scripted span
(±0.5 s) in which some track's box overlaps the actor's true box (IoU ≥ 0.25), the distinct track ids
that did, and the actor's size in analysed pixels; then the events raised near the span. It tells a
miss of perception (the actor is not followed) from a miss of a rule (it is, and no rule fired). The
event's actors are found by replaying the generator's draws (`heldout_scenes.draw_case` from the
seed): those it adds for the event itself, after the background traffic and walkers. The last line
sums over every actor: the share of its frames covered and the track ids per actor (how fragmented
the tracks are, the figure a tracker change should lower without losing coverage); --totals prints
only that line. Each clip's tracks are kept and replayed as `dev_local --replay` does.

`--classes` prints instead how tracks were classed against what they followed, over every actor of
every clip of the kinds (calm included): a confusion table of the actor's true label (as the generator
names it: person, vehicle, debris) by the track's class, counting each (track, actor) pair once where
the track's box overlapped that actor's best (IoU >= 0.25) in COVERING_ROWS of its own frames or more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from bench import bench_local_heldout as heldout
from bench import heldout_scenes
from bench.dev_local import development_parser, development_run, observation_key
from core.behaviour import OTHER, PERSON, VEHICLE, classify, view_of
from core.tracks import MATCHED, H, T, X, iou

COVERED_IOU = 0.25
MARGIN_SEC = 0.5
COVERING_ROWS = 5  # analysed frames (a quarter to half a second): a track this long on an actor followed it


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


@dataclass
class Coverage:
    """How one actor was followed over the scripted span."""

    actor: int
    covered: int  # frames in which a track's box overlapped it (IoU >= COVERED_IOU)
    seen: int  # frames in which it was in the picture
    track_ids: int  # distinct tracks that did
    size: float  # its median size (longer side) in analysed pixels

    def __str__(self) -> str:
        return (
            f"actor {self.actor}: {self.covered}/{self.seen} frames, {self.track_ids} track id(s), "
            f"{self.size:.0f} px"
        )


def totals(coverages: list[Coverage]) -> str:
    """Summed over actors: the share of frames covered, and the track ids per actor and per followed
    actor (one per actor when nothing is fragmented)."""
    covered = sum(c.covered for c in coverages)
    seen = sum(c.seen for c in coverages)
    ids = sum(c.track_ids for c in coverages)
    followed = sum(1 for c in coverages if c.track_ids)
    return (
        f"totals: {len(coverages)} actors, {covered}/{seen} frames covered ({covered / max(seen, 1):.3f}), "
        f"{ids} track ids ({ids / max(len(coverages), 1):.2f} per actor, "
        f"{ids / max(followed, 1):.2f} per actor followed at all)"
    )


def coverage(tracks, boxes: list[dict], actor: int, frames: range, fps: float, scale: float) -> Coverage:
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
    return Coverage(actor, covered, seen, len(track_ids), size)


def followed_actors(tracks, boxes: list[dict], fps: float, scale: float) -> list[tuple[object, str]]:
    """(track, the true label of an actor it followed) for each pair where, in COVERING_ROWS of the
    track's matched frames or more, that actor was the one its box overlapped best (IoU >= COVERED_IOU)."""
    pairs = []
    for track in tracks:
        rows: dict[tuple[str, str], int] = {}
        for row in track.data[track.data[:, MATCHED] > 0]:
            frame = round(row[T] * fps)
            if frame >= len(boxes):
                continue
            box = tuple(row[X : H + 1])
            best, best_actor = COVERED_IOU, None
            for actor, (label, actor_box) in boxes[frame].items():
                overlap = iou(box, [value / scale for value in actor_box])
                if overlap >= best:
                    best, best_actor = overlap, (actor, label)
            if best_actor is not None:
                rows[best_actor] = rows.get(best_actor, 0) + 1
        pairs.extend((track, label) for (_, label), count in rows.items() if count >= COVERING_ROWS)
    return pairs


def confusion(pairs: list[tuple[str, str]]) -> str:
    """A table of true label by class, each row's share of its pairs called as its own class."""
    classes = (PERSON, VEHICLE, OTHER)
    lines = [f"{'true / classed':>16}" + "".join(f"{kind:>9}" for kind in classes) + "    right"]
    for label in sorted({label for label, _ in pairs}):
        counts = [sum(1 for true, kind in pairs if true == label and kind == c) for c in classes]
        right = counts[classes.index(label)] if label in classes else counts[classes.index(OTHER)]
        lines.append(
            f"{label:>16}" + "".join(f"{count:>9}" for count in counts) + f"   {right}/{sum(counts)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = development_parser(__doc__.splitlines()[0], heldout_scenes.KINDS)
    parser.add_argument("--totals", action="store_true", help="print only the totals over all actors")
    parser.add_argument("--classes", action="store_true", help="print how the tracks were classed")
    args, seeds, kinds = development_run(parser, argv)
    if args.classes:
        print(confusion(classed(args, seeds, kinds)))
        return
    every: list[Coverage] = []
    for seed in seeds:
        actors = event_actor_ids(seed)
        for index, clip in enumerate(heldout.held_out_clips(seed, heldout.CLIPS_PER_KIND_DEV)):
            kind = clip["kind"]
            if kind not in kinds or clip["truth"] is None:
                continue
            truth = json.loads(clip["path"].with_suffix(".json").read_text())
            _, analysis, seen = heldout.analyse(clip["path"], replay=observation_key(args.overrides))
            start, end = truth["truth"]
            fps = truth["fps"]
            frames = range(int((start - MARGIN_SEC) * fps), int((end + MARGIN_SEC) * fps))
            scale = truth["size"][0] / seen.size[0]
            parts = [
                coverage(seen.tracks, truth["boxes"], actor, frames, fps, scale)
                for actor in actors[(index // len(heldout_scenes.KINDS), kind)]
            ]
            every.extend(parts)
            if args.totals:
                continue
            near = [
                e.event_type for e in analysis.events if e.start_time < end + 1 and e.end_time > start - 1
            ]
            print(
                f"{seed}/{clip['path'].name}: {'; '.join(map(str, parts))} | raised near: {', '.join(near) or 'nothing'}"
            )
    print(totals(every))


def classed(args, seeds: list[int], kinds: list[str]) -> list[tuple[str, str]]:
    """(true label, class) for every track following an actor in the clips (see followed_actors)."""
    pairs = []
    for seed in seeds:
        for clip in heldout.held_out_clips(seed, heldout.CLIPS_PER_KIND_DEV):
            if clip["kind"] not in kinds:
                continue
            truth = json.loads(clip["path"].with_suffix(".json").read_text())
            _, _, seen = heldout.analyse(clip["path"], replay=observation_key(args.overrides))
            scale = truth["size"][0] / seen.size[0]
            for track, label in followed_actors(seen.tracks, truth["boxes"], truth["fps"], scale):
                pairs.append((label, classify(view_of(track)).kind))
    return pairs


if __name__ == "__main__":
    main()
