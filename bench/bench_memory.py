"""Peak memory benchmark → bench/RESULTS.md (section `memory`).

1. `python -m core analyze CLIP --engine local` end to end (store the upload: copy, hash and probe;
   analyse; write the rows) in a subprocess, on generated 1080p30 clips of 10 and 60 minutes
   (`bench/_clips.long_1080p`).
2. The sampler alone, as the VLM engine uses it: `core.video.iter_windows` (1.5 s windows, 10 fps,
   5 frames per window, frames shrunk by the decoder to 448 px) over the same clips, in a
   subprocess that also reports the number of windows and frames and the last frame's time (an
   hour of 30 fps video must end at 3599.9 s exactly: no drift).

The process tree's resident memory is polled from /proc every POLL_SEC: the Python process, the
ffmpeg processes it starts, and their sum. Goal: peak RSS under 1 GB and flat — the same at 60
minutes of video as at 10, and not rising during the hour.

Run: `.venv/bin/python -m bench.bench_memory [--minutes 10 60]`
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._clips import OUT, long_1080p
from bench._results import write_section

ROOT = Path(__file__).resolve().parents[1]
POLL_SEC = 0.25
MB = 1024 * 1024


@dataclass
class Sample:
    elapsed: float
    python_rss: int
    ffmpeg_rss: int

    @property
    def total(self) -> int:
        return self.python_rss + self.ffmpeg_rss


@dataclass
class Run:
    what: str
    minutes: int
    wall: float
    exit_code: int
    output: str
    error: str
    samples: list[Sample] = field(default_factory=list)

    def peak(self, attribute: str) -> int:
        return max((getattr(s, attribute) for s in self.samples), default=0)

    def python_rss_at(self, fraction: float) -> int:
        """The Python process's RSS at `fraction` of the run's wall time."""
        target = fraction * self.wall
        return min(self.samples, key=lambda s: abs(s.elapsed - target)).python_rss


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def watch(what: str, minutes: int, command: list[str], env: dict[str, str]) -> Run:
    """Run `command`, polling the RSS of it and its descendants until it exits."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        samples = []
        while process.poll() is None:
            children = _descendants(process.pid)
            samples.append(
                Sample(time.monotonic() - started, _rss(process.pid), sum(_rss(p) for p in children))
            )
            time.sleep(POLL_SEC)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        run = Run(what, minutes, wall, process.returncode, out.read(), err.read(), samples)
    status = "ok" if run.exit_code == 0 else f"exit {run.exit_code}: {run.error.strip()[-300:]}"
    print(
        f"{what}, {minutes} min: {status}, {wall:.0f} s, peak python {run.peak('python_rss') / MB:.0f} MB, "
        f"ffmpeg {run.peak('ffmpeg_rss') / MB:.0f} MB, total {run.peak('total') / MB:.0f} MB",
        flush=True,
    )
    return run


def analyse(clip: Path, minutes: int) -> Run:
    with tempfile.TemporaryDirectory(dir=OUT, prefix="memory-") as storage:
        env = {
            **os.environ,
            "STORAGE_DIR": storage,
            "ENGINE": "local",
            "LLM_BASE_URL": "",
            "MAX_UPLOAD_MB": "4096",
        }
        env.pop("DATABASE_URL", None)
        command = [
            sys.executable,
            "-m",
            "core",
            "analyze",
            str(clip),
            "--engine",
            "local",
            "--json",
            "--quiet",
        ]
        return watch("analyze (local engine)", minutes, command, env)


def sample(clip: Path, minutes: int) -> Run:
    command = [sys.executable, "-m", "bench.bench_memory", "--sample-windows", str(clip)]
    return watch("iter_windows, 448 px", minutes, command, dict(os.environ))


def sample_windows(clip: str) -> None:
    """(The subprocess of `sample`.) Every window of the clip as the VLM engine asks for them."""
    from core.video import iter_windows, probe

    info = probe(clip)
    windows = frames = 0
    last_time = 0.0
    for window in iter_windows(
        clip, duration=info.duration, window_sec=1.5, target_fps=10, frames_per_window=5, max_side=448
    ):
        windows += 1
        frames += len(window.frames)
        last_time = window.frames[-1].time if window.frames else last_time
    print(
        json.dumps({"windows": windows, "frames": frames, "last_time": last_time, "duration": info.duration})
    )


def _largest_child() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB


def _row(run: Run) -> str:
    if run.exit_code != 0:
        result = f"exit {run.exit_code}"
    elif run.what.startswith("analyze"):
        result = f"done, {len(json.loads(run.output)['events'])} event(s)"
    else:
        facts = json.loads(run.output)
        result = (
            f"{facts['windows']:,} windows, {facts['frames']:,} frames, last at {facts['last_time']:.3f} s"
        )
    return (
        f"| {run.what} | {run.minutes} min | {run.peak('python_rss') / MB:.0f} MB | {run.peak('ffmpeg_rss') / MB:.0f} MB "
        f"| **{run.peak('total') / MB:.0f} MB** | {run.wall:.0f} s ({run.minutes * 60 / run.wall:.1f}× realtime) | {result} |"
    )


def _flatness(runs: list[Run], what: str) -> str:
    mine = sorted((r for r in runs if r.what == what), key=lambda r: r.minutes)
    if len(mine) < 2:
        return ""
    short, long_ = mine[0], mine[-1]
    during = " → ".join(f"{long_.python_rss_at(f) / MB:.0f}" for f in (0.25, 0.5, 0.75, 0.95))
    return (
        f"- {what}: Python peak {short.peak('python_rss') / MB:.0f} MB at {short.minutes} min of video, "
        f"{long_.peak('python_rss') / MB:.0f} MB at {long_.minutes} min; during the {long_.minutes}-minute run "
        f"(25 / 50 / 75 / 95 % of its wall time) {during} MB."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 60])
    parser.add_argument("--sample-windows", metavar="CLIP", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample_windows:
        sample_windows(args.sample_windows)
        return
    runs = []
    for minutes in args.minutes:
        clip = long_1080p(minutes)
        runs.append(analyse(clip, minutes))
        runs.append(sample(clip, minutes))

    peak_total = max(r.peak("total") for r in runs)
    flat_lines = [line for what in dict.fromkeys(r.what for r in runs) if (line := _flatness(runs, what))]
    markdown = f"""## Peak memory (`bench/bench_memory.py`)

Generated 1080p30 H.264 clips; the process tree's RSS polled from /proc every {POLL_SEC} s. Goal: peak
under 1 GB and flat.

- **analyze (local engine)**: `python -m core analyze CLIP --engine local --json`, end to end
  (upload copied, hashed and probed; local engine; rows written).
- **iter_windows, 448 px**: `core.video.iter_windows` with the VLM engine's sampling (1.5 s
  windows, 10 fps, 5 frames per window) and `max_side=448` (the decoder shrinks the frames); the
  last sampled frame's time shows whether an hour of timestamps drifted.

| run | video | Python peak | ffmpeg peak | tree peak | wall | result |
|---|---|---:|---:|---:|---:|---|
{chr(10).join(_row(r) for r in runs)}

{chr(10).join(flat_lines)}

Largest single process of all runs (getrusage, not polled): {_largest_child() / MB:.0f} MB. Tree peak
over all runs {peak_total / MB:.0f} MB: {"under" if peak_total < 1024 * MB else "OVER"} the 1 GB goal.

Load average at the end: {os.getloadavg()[0]:.1f} (2 CPUs, shared with other work)."""
    write_section("memory", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
