"""Peak memory benchmark → bench/RESULTS.md (section `memory`).

`python -m core analyze CLIP --engine local` end to end (store the upload: copy, hash and probe;
analyse; write the rows) in a subprocess, on generated 1080p30 clips of 10 and 60 minutes
(`bench/_clips.long_1080p`). The process tree's resident memory is polled from /proc every
POLL_SEC: the Python process, the ffmpeg processes it starts, and their sum. Goal: peak RSS under
1 GB and flat — the same at 60 minutes of video as at 10, and not rising during the hour.

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
    minutes: int
    wall: float
    exit_code: int
    events: int
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


def analyse(clip: Path, minutes: int) -> Run:
    with tempfile.TemporaryDirectory(dir=OUT, prefix="memory-") as storage:
        env = {**os.environ, "STORAGE_DIR": storage, "ENGINE": "local", "LLM_BASE_URL": "", "MAX_UPLOAD_MB": "4096"}
        env.pop("DATABASE_URL", None)
        out_path = Path(storage) / "result.json"
        with open(out_path, "w") as out:
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "core", "analyze", str(clip), "--engine", "local", "--json", "--quiet"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            samples = []
            while process.poll() is None:
                children = _descendants(process.pid)
                samples.append(
                    Sample(time.monotonic() - started, _rss(process.pid), sum(_rss(pid) for pid in children))
                )
                time.sleep(POLL_SEC)
            wall = time.monotonic() - started
            error = process.stderr.read()
        if process.returncode != 0:
            print(f"analysis of {clip.name} failed (exit {process.returncode}): {error.strip()}", file=sys.stderr)
            events = 0
        else:
            events = len(json.loads(out_path.read_text())["events"])
    return Run(minutes, wall, process.returncode, events, samples)


def _largest_child() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 60])
    minutes_list = parser.parse_args().minutes
    runs = []
    for minutes in minutes_list:
        clip = long_1080p(minutes)
        print(f"analysing {clip.name} …", flush=True)
        run = analyse(clip, minutes)
        print(
            f"{minutes} min: exit {run.exit_code}, {run.wall:.0f} s, peak python {run.peak('python_rss') / MB:.0f} MB, "
            f"ffmpeg {run.peak('ffmpeg_rss') / MB:.0f} MB, total {run.peak('total') / MB:.0f} MB",
            flush=True,
        )
        runs.append(run)

    rows = [
        f"| {r.minutes} min ({r.minutes * 60 * 30:,} frames) | {r.peak('python_rss') / MB:.0f} MB "
        f"| {r.peak('ffmpeg_rss') / MB:.0f} MB | **{r.peak('total') / MB:.0f} MB** "
        f"| {r.wall:.0f} s ({r.minutes * 60 / r.wall:.1f}× realtime) "
        f"| {'ok' if r.exit_code == 0 else f'exit {r.exit_code}'}, {r.events} event(s) |"
        for r in runs
    ]
    longest = max(runs, key=lambda r: r.minutes)
    quarters = " → ".join(f"{longest.python_rss_at(f) / MB:.0f}" for f in (0.25, 0.5, 0.75, 0.95))
    peak_total = max(r.peak("total") for r in runs)
    flat = max(r.peak("python_rss") for r in runs) / max(1, min(r.peak("python_rss") for r in runs))
    verdict = "meets" if peak_total < 1024 * MB and flat < 1.25 else "misses"
    markdown = f"""## Peak memory (`bench/bench_memory.py`)

`python -m core analyze CLIP --engine local --json` end to end (upload copied, hashed and probed,
local engine, rows written) on generated 1080p30 H.264 clips; the process tree's RSS polled from
/proc every {POLL_SEC} s. Goal: peak under 1 GB and flat.

| video | Python process peak | ffmpeg peak | tree peak | wall | result |
|---|---:|---:|---:|---:|---|
{chr(10).join(rows)}

Python process RSS during the {longest.minutes}-minute run at 25 / 50 / 75 / 95 % of its wall time:
{quarters} MB. Largest single process of all runs (getrusage, not polled): {_largest_child() / MB:.0f} MB.
Peak of the tree {peak_total / MB:.0f} MB; Python peak at the longest ÷ shortest video {flat:.2f}: {verdict} the goal.

Load average at the end: {os.getloadavg()[0]:.1f} (2 CPUs, shared with other work)."""
    write_section("memory", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
