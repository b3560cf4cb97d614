"""Development runs of the local engine's rules (printed, never written to RESULTS.md).

`python -m bench.dev_local [--seeds 7031,7032,7033,7034] [--kinds collision,fall] [-v] [--replay] [module.NAME=value ...]`
analyses the development clips (3 per kind and seed, rendered once under bench/out/) of the chosen
kinds and prints, per kind, how many were found with the right type (as the held-out bench counts),
how many scripted moments any event at all pointed at, the other events raised per minute, and with -v every clip's events, with --real the real footage's
section. NAME=value pairs override a module constant for the run (to try a threshold without
editing). --replay keeps each clip's tracks and replays them, for trying core.behaviour's rules in
seconds. The held-out seeds are refused: their
clips are run once, by bench_local_heldout, when the code is final.
"""

from __future__ import annotations

import argparse
import ast
import importlib
from collections import Counter

from bench import bench_local_heldout as heldout
from bench import heldout_scenes


def development_parser(description: str, kinds: tuple[str, ...]) -> argparse.ArgumentParser:
    """The options every development run takes: seeds, kinds and constant overrides."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", default=",".join(map(str, heldout.DEV_SEEDS)))
    parser.add_argument("--kinds", default=",".join(kinds))
    parser.add_argument("overrides", nargs="*", help="module.NAME=value")
    return parser


def apply_overrides(overrides: list[str]) -> None:
    """Set each `module.NAME=value` (a Python literal) for this run: a threshold tried without editing."""
    for item in overrides:
        name, value = item.split("=", 1)
        module, attribute = name.rsplit(".", 1)
        setattr(importlib.import_module(module), attribute, ast.literal_eval(value))


def development_run(parser: argparse.ArgumentParser, argv: list[str] | None):
    """Parsed options, the overrides applied, and the seeds and kinds to run (the held-out seed refused)."""
    args = parser.parse_args(argv)
    apply_overrides(args.overrides)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    if set(heldout.HELD_OUT) & set(seeds):
        parser.error("the held-out seeds are run by bench_local_heldout, once, on final code")
    return args, seeds, args.kinds.split(",")


def observation_key(overrides: list[str]) -> str:
    """The overrides that can change what `observe` saw (any but core.behaviour's)."""
    return " ".join(item for item in overrides if not item.startswith("core.behaviour."))


def main(argv: list[str] | None = None) -> None:
    parser = development_parser(__doc__.splitlines()[0], heldout_scenes.KINDS)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--real", action="store_true", help="also the real footage (every event a false alarm)"
    )
    parser.add_argument(
        "--replay",
        action="store_true",
        help="keep each clip's tracks under bench/out/observed/ and replay them while only core.behaviour changes",
    )
    args, seeds, kinds = development_run(parser, argv)
    found, clips, others, minutes = Counter(), Counter(), 0, 0.0
    pointed, scripted = 0, 0  # scripted moments any event (of any type) points at, within MATCH_SEC
    for seed in seeds:
        for clip in heldout.held_out_clips(seed, heldout.CLIPS_PER_KIND_DEV):
            if clip["kind"] not in kinds:
                continue
            info, analysis, _ = heldout.analyse(
                clip["path"], replay=observation_key(args.overrides) if args.replay else None
            )
            truth, expected = clip["truth"], heldout_scenes.EXPECTED[clip["kind"]]
            near = [
                e
                for e in analysis.events
                if truth is not None
                and e.start_time < truth[1] + heldout.MATCH_SEC
                and e.end_time > truth[0] - heldout.MATCH_SEC
            ]
            right = [e for e in near if e.event_type == expected]
            scripted += truth is not None
            pointed += bool(near)
            clips[clip["kind"]] += 1
            found[clip["kind"]] += bool(right)
            others += len(analysis.events) - len(right)
            minutes += info.duration / 60
            if args.verbose:
                span = f"{truth[0]:.1f}-{truth[1]:.1f}" if truth else "-"
                raised = ", ".join(
                    f"{e.event_type} {e.start_time:.1f}-{e.end_time:.1f}" for e in analysis.events
                )
                print(
                    f"{seed}/{clip['path'].name}: {span} {'ok' if right else 'MISSED'}; {raised or 'none'}",
                    flush=True,
                )
    summary = " ".join(f"{kind}={found[kind]}/{clips[kind]}" for kind in clips)
    if args.real:
        print(heldout.real_footage_section())
    print(
        f"{summary} | total {sum(found.values())}/{sum(clips.values())} | any event at the scripted moment "
        f"{pointed}/{scripted} | other {others / max(minutes, 1e-9):.2f}/min"
    )


if __name__ == "__main__":
    main()
