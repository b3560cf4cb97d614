"""Dashboard benchmark → bench/RESULTS.md (section `dashboard`).

The incident page of a 1-hour video with 2,400 analysed windows (1.5 s each, VLM-length descriptions,
a few failed) and 50 events of six types, stored in the database as an analysis stores them. The video
is a real 1-hour H.264 file (small frames, so it is quick to make) so the player path is the real one.

Measured with Streamlit's AppTest in this process: the server-side run of the page script (database
reads, filtering, the Plotly figure, tables, the player registering the video), which is what a
visitor waits for before the browser draws. Not measured: network and the browser's drawing.

- page, cold: a new session opens the incident (empty `st.cache_data`, the video's bytes not yet read);
- page, warm: the same page run again (a reload in the same session, caches filled);
- display-filter change: moving the minimum-confidence slider (one rerun of the page);
- baseline in the same run: the Analyse page (the app's frame and a form) in a new session.

Goals: page under 1.5 s, filter change under 300 ms. Each figure is the median of several runs (max in
brackets). Run: `.venv/bin/python -m bench.bench_dashboard`
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

OUT = Path(__file__).with_name("out")
ROOT = Path(__file__).resolve().parents[1]
HOUR_CLIP = OUT / "clip_60min_180p_faststart.mp4"
WINDOWS, EVENTS, WINDOW_SEC = 2400, 50, 1.5
TYPES = ("COLLISION", "NEAR_MISS", "PEDESTRIAN_HIT", "FIGHT", "FALL", "SUDDEN_MOTION")
REPEATS = 7
PAGE_GOAL_S, FILTER_GOAL_S = 1.5, 0.3


def hour_clip() -> Path:
    """A real 1-hour H.264 file (320×180, 5 fps, index first), made once with ffmpeg."""
    if not HOUR_CLIP.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        part = HOUR_CLIP.with_suffix(".part.mp4")
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
             "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=5:duration=3600",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(part)],
            check=True,
        )  # fmt: skip
        part.rename(HOUR_CLIP)
    return HOUR_CLIP


def store_hour(settings) -> int:
    """The stored incident: 2,400 windows and 50 events, written as an engine's outcome is written."""
    from core import repository
    from core.db import get_engine, session_scope
    from core.schema import AnalysisParams, EngineOutcome, Event, Status, WindowRecord
    from core.service import register_video

    rng = random.Random(5)
    words = (
        "car",
        "truck",
        "pedestrian",
        "crossing",
        "lane",
        "signal",
        "queue",
        "cyclist",
        "turns",
        "brakes",
    )
    windows = [
        WindowRecord(
            window_index=i,
            start_time=i * WINDOW_SEC,
            end_time=(i + 1) * WINDOW_SEC,
            description=" ".join(rng.choice(words) for _ in range(28)),
            score=rng.random() ** 3,
            pass_no=1,
            failed=rng.random() < 0.01,
        )
        for i in range(WINDOWS)
    ]
    starts = sorted(rng.uniform(0, 3590) for _ in range(EVENTS))
    events = [
        Event(
            event_type=TYPES[i % len(TYPES)],
            start_time=start,
            end_time=start + rng.uniform(0.3, 6.0),
            confidence=round(rng.uniform(0.3, 0.99), 2),
            description="a white car turns left across the oncoming lane and hits a cyclist who falls",
        )
        for i, start in enumerate(starts)
    ]
    params = AnalysisParams.from_settings(settings)
    incident_id = register_video(hour_clip(), settings, params)
    outcome = EngineOutcome(
        engine="vlm", model_version="bench-model", prompt_version="bench-prompts",
        inferred_domain="traffic", passes_run=[1], windows=windows, events=events,
    )  # fmt: skip
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        repository.set_status(session, incident, Status.PROCESSING, "analysing")
        repository.save_outcome(session, incident, outcome, events)
    return incident_id


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def summary(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (max {max(values) * 1000:.0f})"


def main() -> None:
    with tempfile.TemporaryDirectory(dir=OUT if OUT.exists() else None) as folder:
        os.environ.update(
            STORAGE_DIR=str(Path(folder) / "data"), DATABASE_URL="", ENGINE="local", LLM_BASE_URL="",
            APP_PASSWORD="", JOB_BACKEND="thread", UI_LANGUAGE="en",
        )  # fmt: skip
        import streamlit as st
        from streamlit.testing.v1 import AppTest

        from bench._results import write_section
        from core.config import get_settings

        get_settings.cache_clear()
        settings = get_settings()
        hour_clip()
        incident_id = store_hour(settings)
        app = str(ROOT / "streamlit_app.py")

        def new_session(page: str, **query: str) -> AppTest:
            at = AppTest.from_file(app, default_timeout=60)
            at.query_params.update(query)
            if page != "analyse":
                at.switch_page(f"app_pages/{page}.py")
            return at

        new_session(
            "analyse"
        ).run()  # imports and first-use work (migrations, registries) outside the timings

        baseline, cold, warm, filter_change = [], [], [], []
        shown_counts = set()
        for _ in range(REPEATS):
            st.cache_data.clear()
            st.cache_resource.clear()
            baseline.append(timed(new_session("analyse").run))
            at = new_session("incident", id=str(incident_id))
            cold.append(timed(at.run))
            assert not at.exception and not at.error, [e.value for e in at.exception] + [
                e.value for e in at.error
            ]
            warm.append(timed(at.run))
            for threshold in (0.5, 0.8, 0.0):
                slider = at.slider(key="w.filter.min_confidence").set_value(threshold)
                filter_change.append(timed(slider.run))
                shown_counts.add(next(m.value for m in at.metric if m.label == "Events shown"))
        spec_kb = len(at.get("plotly_chart")[0].proto.spec) / 1024

    page = statistics.median(cold)
    change = statistics.median(filter_change)
    rows = [
        ("Baseline: Analyse page, new session", summary(baseline), ""),
        ("Incident page, new session (cold caches)", summary(cold), _verdict(page, PAGE_GOAL_S)),
        ("Incident page, rerun (warm)", summary(warm), _verdict(statistics.median(warm), PAGE_GOAL_S)),
        ("Display-filter change (min confidence)", summary(filter_change), _verdict(change, FILTER_GOAL_S)),
    ]
    table = "\n".join(f"| {name} | {value} | {verdict} |" for name, value, verdict in rows)
    markdown = f"""### Dashboard: incident page of a 1-hour video (`bench/bench_dashboard.py`)

{WINDOWS:,} windows, {EVENTS} events of {len(TYPES)} types, a real 1-hour H.264 file (320×180) on SQLite;
server-side page runs under Streamlit's AppTest, median of {REPEATS} sessions (max in brackets).
Filter changes showed {", ".join(sorted(shown_counts))} events; the timeline figure is {spec_kb:.0f} KB of JSON.

| Measure | Time | Goal |
|---|---|---|
{table}

Ratios to the baseline (same run): cold page {page / statistics.median(baseline):.1f}×, filter change
{change / statistics.median(baseline):.1f}×. Load average at the end of the run: {os.getloadavg()[0]:.1f}
(absolute times grow with it on a shared machine; the ratios much less)."""
    write_section("dashboard", markdown)
    print(markdown)


def _verdict(seconds: float, goal: float) -> str:
    return f"< {goal * 1000:.0f} ms: {'met' if seconds < goal else 'NOT met'}"


if __name__ == "__main__":
    main()
