"""VLM engine benchmarks → bench/RESULTS.md (section `vlm`).

1. Concurrency: 200 windows against the loopback model server (its own process) answering after
   0.2 s, at the default LLM_MAX_CONCURRENCY. Ideal wall time = 200 × 0.2 / concurrency; goal
   ≥ 0.85 of ideal. Measured twice: the request path alone (frames encoded beforehand), and pass 1
   end to end on a 300-second clip (decoding, resizing and encoding included), with the time that
   decoding and encoding alone take measured in the same run.
2. Image tokens per window at the defaults, counted as Qwen2.5-VL counts them (its smart_resize,
   one token per 28×28 patch, plus vision start/end), for common frame shapes; cross-checked
   against the token usage the server reports from its own count. Goal ≤ 1,000 per pass-1 window.

Run: `.venv/bin/python -m bench.bench_vlm`
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench._results import write_section
from core.config import Settings
from core.engines.base import RunContext
from core.engines.vlm import (
    ModelClient,
    VLMEngine,
    WindowJob,
    _Run,
    encode_frame,
    image_size_for,
    qwen_image_tokens,
)
from core.prompts import DOMAIN_FRAMES
from core.samples import ScriptedEvent, make_clip
from core.schema import AnalysisParams
from core.video import iter_windows, probe

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("out")
WINDOWS = 200
LATENCY = 0.2
REPEATS = 3


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_vlm_server", "--latency", str(latency)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        raise RuntimeError(f"the fake server did not start: {url!r}")
    return process, url


def five_minute_clip() -> Path:
    """300 s of 480x270 at 25 fps with one incident near the start, so only pass 1 runs: 200 windows."""
    path = OUT / "vlm_300s_480x270.mp4"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.mp4")
        make_clip(part, seconds=300, fps=25, size=(480, 270), events=[ScriptedEvent(10.0, 11.0, "collision")])
        part.rename(path)
    return path


class _Collect:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []

    def progress(self, *args, **kwargs) -> None:
        pass

    def log(self, step: str, message: str, level: str = "INFO") -> None:
        self.logs.append((step, message, level))


def context(path: Path, settings: Settings, sink: _Collect) -> RunContext:
    return RunContext(
        video_path=path,
        video=probe(path),
        params=AnalysisParams.from_settings(settings, domain="traffic"),
        settings=settings,
        progress=sink.progress,
        log=sink.log,
    )


def request_path_only(url: str, settings: Settings, clip: Path) -> float:
    """Wall seconds for 200 prepared windows through the engine's concurrent request path."""
    info = probe(clip)
    size = image_size_for(info.width, info.height, settings.llm_image_max_side)
    first = next(
        iter_windows(clip, duration=info.duration, window_sec=1.5, target_fps=10, frames_per_window=5)
    )
    images = [encode_frame(f.image, size) for f in first.frames]
    times = [f.time for f in first.frames]
    jobs = [
        WindowJob(1, i, i * 1.5, i * 1.5 + 1.5, [t + i * 1.5 for t in times], images) for i in range(WINDOWS)
    ]
    sink = _Collect()
    engine = VLMEngine(settings)
    engine.check()
    stop = threading.Event()
    with ModelClient(settings, stop=stop) as client:
        run = _Run(context(clip, settings, sink), client, engine._model, size, stop)
        started = time.perf_counter()
        replies = run._run_jobs(1, jobs, WINDOWS, "traffic", fail_limit=True)
        wall = time.perf_counter() - started
    assert len(replies) == WINDOWS and not any(r.failed for r in replies)
    return wall


def decode_and_encode_only(clip: Path, settings: Settings) -> float:
    info = probe(clip)
    size = image_size_for(info.width, info.height, settings.llm_image_max_side)
    started = time.perf_counter()
    for window in iter_windows(
        clip, duration=info.duration, window_sec=1.5, target_fps=10, frames_per_window=5
    ):
        for frame in window.frames:
            encode_frame(frame.image, size)
    return time.perf_counter() - started


def pass1_end_to_end(clip: Path, settings: Settings) -> tuple[float, _Collect, object]:
    sink = _Collect()
    engine = VLMEngine(settings)
    engine.check()
    started = time.perf_counter()
    outcome = engine.analyze(context(clip, settings, sink))
    wall = time.perf_counter() - started
    assert outcome.passes_run == [1] and len(outcome.windows) == WINDOWS, (
        outcome.passes_run,
        len(outcome.windows),
    )
    return wall, sink, outcome


def token_table(settings: Settings) -> list[str]:
    side = settings.llm_image_max_side
    rows = [
        "| source frame | sent as | tokens/image | pass-1 window (×5) | pass-2 window (×10) | pass 3 (×16) | domain (×8) |",
        "|---|---|---|---|---|---|---|",
    ]
    for width, height, name in [
        (1920, 1080, "1920×1080 (16:9)"),
        (1280, 720, "1280×720 (16:9)"),
        (640, 480, "640×480 (4:3)"),
        (1080, 1920, "1080×1920 (9:16 phone)"),
        (1000, 1000, "1000×1000 (1:1)"),
        (320, 240, "320×240 (4:3, small)"),
    ]:
        w, h = image_size_for(width, height, side)
        t = qwen_image_tokens(w, h)
        f = settings.llm_frames_per_window
        rows.append(
            f"| {name} | {w}×{h} | {t} | **{t * f}** | {t * 2 * f} | {t * settings.llm_pass3_max_frames} | "
            f"{t * DOMAIN_FRAMES} |"
        )
    return rows


def _spread(walls: list[float]) -> str:
    return f"{statistics.median(walls):.2f} s ({min(walls):.2f} s)"


def _ratios(ideal: float, walls: list[float]) -> str:
    return f"**{ideal / statistics.median(walls):.2f}** ({ideal / min(walls):.2f})"


def main() -> None:
    defaults = Settings(_env_file=None)
    clip = five_minute_clip()
    server, url = start_server(LATENCY)
    try:
        settings = Settings(_env_file=None, llm_base_url=url, engine="vlm")
        concurrency = settings.llm_max_concurrency
        ideal = WINDOWS * LATENCY / concurrency
        requests_walls = sorted(request_path_only(url, settings, clip) for _ in range(REPEATS))
        decode_walls = sorted(decode_and_encode_only(clip, settings) for _ in range(REPEATS))
        e2e_runs = sorted((pass1_end_to_end(clip, settings) for _ in range(REPEATS)), key=lambda run: run[0])
        e2e_walls = [run[0] for run in e2e_runs]
        _, sink, outcome = e2e_runs[0]
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    load = os.getloadavg()[0]
    pass_line = next(message for step, message, _ in sink.logs if step == "pass 1")
    prompt_tokens = int(pass_line.split(" prompt + ")[0].rsplit(" ", 1)[1])
    info = probe(clip)
    size = image_size_for(info.width, info.height, defaults.llm_image_max_side)
    per_window_estimate = qwen_image_tokens(*size) * defaults.llm_frames_per_window
    lines = [
        "## VLM engine (`bench/bench_vlm.py`)",
        "",
        (
            f"Loopback model server in its own process, {LATENCY} s per answer; LLM_MAX_CONCURRENCY={concurrency} "
            f"(default); {WINDOWS} windows. Ideal wall time {WINDOWS} × {LATENCY} / {concurrency} = {ideal:.2f} s; "
            "goal ≥ 0.85 of ideal."
        ),
        "",
        f"Each measured {REPEATS} times in this run: median (best).",
        "",
        "| measurement | wall time | ideal ÷ wall |",
        "|---|---|---|",
        f"| request path alone (frames encoded beforehand) | {_spread(requests_walls)} | {_ratios(ideal, requests_walls)} |",
        (
            f"| pass 1 end to end, 300 s 480×270 clip (decode + resize + JPEG + requests) | {_spread(e2e_walls)} | "
            f"{_ratios(ideal, e2e_walls)} |"
        ),
        f"| of which decoding and encoding alone (same clip, no requests) | {_spread(decode_walls)} | — |",
        "",
        (
            f"Load average during the run: {load:.1f} on {os.cpu_count()} CPUs shared with other work; the end-to-end "
            "figure competes with decoding for the same cores, the request path alone does not."
        ),
        "",
        (
            f"End to end, the server's usage (its own port of Qwen2.5-VL's smart_resize) reports "
            f"{prompt_tokens} prompt tokens for the {WINDOWS} windows, {prompt_tokens / WINDOWS:.0f} per window: "
            f"{per_window_estimate} image tokens ({info.width}×{info.height} frames sent at {size[0]}×{size[1]}, "
            f"5 per window) and ≈{prompt_tokens / WINDOWS - per_window_estimate:.0f} of text (system prompt and "
            f"frame labels, estimated as characters ÷ 4). {len(outcome.events)} event found (scripted: 1)."
        ),
        "",
        (
            f"Image tokens at the defaults (LLM_IMAGE_MAX_SIDE={defaults.llm_image_max_side}, "
            f"LLM_FRAMES_PER_WINDOW={defaults.llm_frames_per_window}, LLM_PASS3_MAX_FRAMES={defaults.llm_pass3_max_frames}), "
            "counted as Qwen2.5-VL counts them (smart_resize to 28-pixel multiples, one token per 28×28 patch, "
            "+2 vision start/end). Frames are sent at 28-pixel multiples with no more tokens than a 4:3 frame at "
            "the max side, so the server does not resample them. Goal ≤ 1,000 per pass-1 window:"
        ),
        "",
        *token_table(defaults),
    ]
    markdown = "\n".join(lines)
    write_section("vlm", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
