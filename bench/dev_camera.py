"""Development runs of the local engine's camera-motion measure (printed, never written to RESULTS.md).

`python -m bench.dev_camera [--real] [module.NAME=value ...]` renders generated clips under
bench/out/camera/ once (fixed-camera scenes with traffic, walkers, noise, drift and a coarse encode,
and the same scenes seen by a camera that pans, tilts, moves forward (zooms) or is held by hand), and
prints per clip the share of frame pairs in which the camera moved, the per-pair shift's quantiles, and
the events raised. The threshold (`CAMERA_SHIFT_PX`, `CAMERA_MOVING_SHARE`) is chosen on these, not on
real footage; --real prints the same for the real clips afterwards.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.dev_local import apply_overrides
from core.samples import SCENES, ScriptedEvent, render_frames, seen_by_moving_camera, write_clip

OUT = Path(__file__).resolve().parent / "out" / "camera"
SIZE = (320, 240)
FPS = 25.0
SECONDS = 12.0
EVENT = ScriptedEvent(6.0, 7.5, "collision")


def _shake(seed: int, amplitude: float):
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, amplitude, size=(int(SECONDS * FPS) + 1, 2))
    walk = np.cumsum(steps, axis=0)
    walk -= np.linspace(0, 1, len(walk))[:, None] * walk[-1]  # comes back: stays inside the margin
    return lambda t: (*walk[min(int(t * FPS), len(walk) - 1)], 1.0)


MOTIONS = {
    "fixed": lambda t: (0.0, 0.0, 1.0),
    "pan 4 px/s": lambda t: (-24 + 4 * t, 0.0, 1.0),
    "pan 8 px/s": lambda t: (-48 + 8 * t, 0.0, 1.0),
    "pan 15 px/s": lambda t: (-75 + 15 * t, 0.0, 1.0),
    "tilt 6 px/s": lambda t: (0.0, -36 + 6 * t, 1.0),
    "forward 2 %/s": lambda t: (0.0, 0.0, 1.0 + 0.02 * t),
    "forward 5 %/s": lambda t: (0.0, 0.0, 1.0 + 0.05 * t),
    "hand-held 0.7 px": None,  # random walk, 0.7 px std per frame at 25 fps
    "hand-held 0.3 px": None,
}


def clips() -> list[tuple[str, str, Path]]:
    """(scene, motion, path): every generated clip, rendered on first use."""
    made = []
    for scene in ("street", "traffic", "busy", "noisy", "drift", "low_bitrate"):
        settings = dict(SCENES[scene])
        crf, keyint = settings.pop("crf", 28), settings.pop("keyint", None)
        for motion_name, motion in MOTIONS.items():
            if motion is None:
                motion = _shake(len(made), float(motion_name.split()[1]))
            path = OUT / f"{scene}-{motion_name.replace(' ', '_').replace('/', '')}.mp4"
            if not path.exists():
                big = (round(SIZE[0] * 1.5), round(SIZE[1] * 1.5))
                frames = render_frames(
                    seconds=SECONDS, fps=FPS, size=big, events=[EVENT], seed=11, **settings
                )
                write_clip(
                    path,
                    seen_by_moving_camera(frames, fps=FPS, size=SIZE, motion=motion),
                    fps=FPS,
                    size=SIZE,
                    crf=crf,
                    keyint=keyint,
                )
            made.append((scene, motion_name, path))
    return made


def describe(path: Path) -> str:
    from bench import bench_local_heldout as heldout

    _, analysis, seen = heldout.analyse(path)
    shift = seen.series.camera if seen.series.camera is not None else np.zeros(0)
    measured = shift[~np.isnan(shift)]
    q = np.percentile(measured, [10, 50, 90]) if len(measured) else [np.nan] * 3
    share = analysis.camera_share
    raised = ", ".join(f"{e.event_type} {e.start_time:.1f}" for e in analysis.events) or "none"
    dropped = ", ".join(f"{e.event_type} {e.start:.1f}" for e in analysis.withheld) or "-"
    return (
        f"moving {share:5.1%} | shift p10/50/90 {q[0]:.2f}/{q[1]:.2f}/{q[2]:.2f} px | "
        f"unmeasured {np.mean(np.isnan(shift)) if len(shift) else 0:.0%} | views {len(seen.view_changes)} | "
        f"caveat {'YES' if analysis.camera_note() else 'no'} | events: {raised} | dropped: {dropped}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--no-generated", action="store_true")
    parser.add_argument(
        "--seeds", default="", help="development seeds: every clip's camera share, totals only"
    )
    parser.add_argument("overrides", nargs="*", help="module.NAME=value")
    args = parser.parse_args(argv)
    apply_overrides(args.overrides)
    if not args.no_generated:
        for scene, motion, path in clips():
            print(f"{scene:12s} {motion:17s} {describe(path)}", flush=True)
    if args.seeds:
        from bench import bench_local_heldout as heldout

        shares, caveats, withheld, clips_seen = [], 0, 0, 0
        for seed in (int(seed) for seed in args.seeds.split(",")):
            for clip in heldout.held_out_clips(seed, heldout.CLIPS_PER_KIND_DEV):
                _, analysis, _ = heldout.analyse(clip["path"], replay="")
                clips_seen += 1
                shares.append(analysis.camera_share)
                caveats += analysis.camera_note() is not None
                withheld += len(analysis.withheld)
        print(
            f"seeds {args.seeds}: {clips_seen} clips, camera moving share max {max(shares):.1%} "
            f"mean {np.mean(shares):.2%}, caveats {caveats}, events withheld {withheld}",
            flush=True,
        )
    if args.real:
        from bench import bench_local_heldout as heldout

        for path in (path for paths in heldout.real_clips().values() for path in paths):
            if path.is_file():
                print(f"{path.parent.name}/{path.name}: {describe(path)}", flush=True)


if __name__ == "__main__":
    main()
