"""The VLM engine end to end: core.jobs.run_analysis against a real HTTP model server on loopback
(tests/fake_vlm_server.py) that sees the red objects of the scripted events in the frames it gets.
Every time asserted here comes from the pipeline, through the database, to the seed's JSON."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import repository
from core.db import dispose_engines, get_engine, session_scope
from core.engines.vlm import VLMEngine
from core.errors import AnalysisFailed, EngineUnavailable
from core.jobs import run_analysis
from core.prompts import PROMPT_VERSION, TAXONOMY, window_system_prompt
from core.samples import ScriptedEvent, make_clip
from core.schema import AnalysisParams
from core.service import register_video
from core.video import iter_windows
from tests.conftest import make_settings
from tests.fake_vlm_server import FakeVLMServer, dead_port_url, red_visible

ROOT = Path(__file__).resolve().parents[1]
SECONDS, FPS = 6.0, 25.0
# Pass 1 at the defaults (1.5 s windows, 5 frames chosen among those sampled at 10 fps): frames
# lie up to ~0.4 s apart, so an event can be timed to within one such step.
PASS1_STEP = 0.4


@pytest.fixture(scope="session")
def vlm_clips(tmp_path_factory):
    """6-second clips: an event at 3.0-4.0 s, nothing at all, and a 0.3 s event placed where
    pass 1's frames step over it (found from pass 1's actual frame times)."""
    folder = tmp_path_factory.mktemp("vlm_clips")
    calm = make_clip(folder / "calm.mp4", seconds=SECONDS, fps=FPS)
    event = make_clip(
        folder / "event.mp4", seconds=SECONDS, fps=FPS, events=[ScriptedEvent(3.0, 4.0, "burst")]
    )
    sent = _pass1_frames(calm)
    gaps = [(a, b) for a, b in itertools.pairwise(sent) if b - a >= 0.38 and a >= 1.0]
    assert gaps, f"pass 1 sends frames too densely for a 0.3 s event to fall between them: {sent}"
    before, after = gaps[0]
    start = before + 0.5 / FPS
    brief_event = ScriptedEvent(start, start + 0.3, "burst")
    assert brief_event.end < after
    brief = make_clip(folder / "brief.mp4", seconds=SECONDS, fps=FPS, events=[brief_event])
    return {"calm": calm, "event": event, "brief": brief, "brief_event": brief_event}


def _pass1_frames(path: Path, *, images: bool = False):
    windows = iter_windows(path, duration=SECONDS, window_sec=1.5, target_fps=10.0, frames_per_window=5)
    frames = [frame for window in windows for frame in window.frames]
    return frames if images else [frame.time for frame in frames]


@pytest.fixture
def server():
    with FakeVLMServer(api_key="test-key") as fake:
        yield fake
    dispose_engines()


@dataclass
class Run:
    result: dict | None
    error: str | None
    incident: dict
    windows: list
    events: list
    logs: list
    stages: list


def analyse(tmp_path: Path, clip: Path, url: str, *, domain: str = "traffic", **overrides) -> Run:
    """Register `clip` and run the real job function with the VLM engine pointed at `url`."""
    values = {"engine": "vlm", "llm_base_url": url, "llm_api_key": "test-key", "llm_retry_backoff_sec": 0.01}
    values.update(overrides)
    settings = make_settings(tmp_path, **values)
    incident_id = register_video(clip, settings, AnalysisParams.from_settings(settings, domain=domain))
    stages: list[tuple[float, str]] = []
    result = error = None
    try:
        result = run_analysis(
            incident_id, settings, echo=lambda fraction, stage: stages.append((fraction, stage))
        )
    except AnalysisFailed as failure:
        error = str(failure)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        facts = {
            name: getattr(incident, name)
            for name in (
                "status",
                "error",
                "engine",
                "inferred_domain",
                "domain_reason",
                "passes_run",
                "model_version",
            )
        }
        windows = repository.windows_of(session, incident_id)
        events = repository.events_of(session, incident_id)
        logs = [
            (log.level, log.step, log.message, log.model_version, log.prompt_version)
            for log in repository.logs_of(session, incident_id)
        ]
    return Run(result, error, facts, windows, events, logs, stages)


def log_text(run: Run) -> str:
    return "\n".join(f"{level} {step}: {message}" for level, step, message, *_ in run.logs)


# --- Passes and times -----------------------------------------------------------------------------


def test_pass_1_times_come_from_the_frames(tmp_path, server, vlm_clips):
    run = analyse(tmp_path, vlm_clips["event"], server.url, llm_image_max_side=224)

    assert run.error is None, run.error
    assert run.incident["status"] == "DONE" and run.incident["engine"] == "vlm"
    assert run.incident["passes_run"] == [1]
    [event] = run.result["events"]
    assert event["event_type"] == "COLLISION"
    assert abs(event["start_time"] - 3.0) <= PASS1_STEP and abs(event["end_time"] - 4.0) <= PASS1_STEP
    assert event["highlight"] == f"{event['start_time']:.2f}-{event['end_time']:.2f}"

    # The wire protocol, as the server received it.
    requests = server.window_requests()
    assert len(requests) == len(run.windows) == 4
    for request in requests:
        assert request.headers["Authorization"] == "Bearer test-key"
        assert request.body["temperature"] == 0 and request.body["max_tokens"] <= 1000
        assert request.body["response_format"]["json_schema"]["name"] == "sigma_window"
        assert len(request.labels) == 5 and request.labels[0].startswith("Frame 1, t=")
        assert all(max(size) <= 224 for size in request.image_sizes)

    # Model and prompt versions on every log row, the job's "start" and "done" included; per-pass figures.
    assert run.logs and all(row[3] == server.model and row[4] == PROMPT_VERSION for row in run.logs)
    assert run.incident["model_version"] == server.model
    assert any("pass 1 (" in row[2] and "4 requests" in row[2] and "prompt +" in row[2] for row in run.logs)

    # The storyboard: the model's descriptions, scores from the events' confidence.
    described = {round(w.start_time, 2): w for w in run.windows}
    assert described[3.0].score == pytest.approx(0.9) and "red objects" in described[3.0].description
    assert described[0.0].score == 0 and "nothing unusual" in described[0.0].description

    # Progress names the pass and the windows, and never goes backwards.
    assert "pass 1: 4/4 windows" in [stage for _, stage in run.stages]
    fractions = [fraction for fraction, _ in run.stages]
    assert fractions == sorted(fractions)


def test_a_sub_second_event_is_found_by_pass_2(tmp_path, server, vlm_clips):
    scripted = vlm_clips["brief_event"]
    pass1_frames = _pass1_frames(vlm_clips["brief"], images=True)
    assert not any(red_visible(frame.image) for frame in pass1_frames), "pass 1 must step over the event"

    run = analyse(tmp_path, vlm_clips["brief"], server.url)

    assert run.incident["passes_run"] == [1, 2]
    [event] = run.events
    assert event.pass_no == 2
    step = 0.1  # pass 2 sends every frame sampled at 10 fps
    assert abs(event.start_time - scripted.start) <= step and abs(event.end_time - scripted.end) <= step
    pass2 = [w for w in run.windows if w.pass_no == 2]
    assert len(pass2) == 11 and pass2[1].start_time == pytest.approx(0.5)  # 1 s windows, half overlapping
    assert max(len(r.labels) for r in server.window_requests()) == 10  # twice pass 1's frames
    assert any(stage.startswith("pass 2: ") for _, stage in run.stages)


def test_a_clip_with_nothing_runs_all_three_passes_concurrently(tmp_path, vlm_clips):
    with FakeVLMServer(latency=0.2) as slow_server:  # answers slower than frames are prepared
        run = analyse(
            tmp_path,
            vlm_clips["calm"],
            slow_server.url,
            llm_api_key=None,
            llm_max_concurrency=3,
            llm_pass3_max_frames=6,
        )
        requests = slow_server.window_requests()
        in_flight = slow_server.max_in_flight
    dispose_engines()

    assert run.result["has_event"] is False and run.result["events"] == []
    assert run.incident["passes_run"] == [1, 2, 3]
    assert [len([w for w in run.windows if w.pass_no == p]) for p in (1, 2, 3)] == [4, 11, 1]
    assert all("Authorization" not in r.headers for r in requests)
    keyframes = requests[-1]
    assert 1 <= len(keyframes.labels) <= 6 and keyframes.times == sorted(keyframes.times)
    assert 2 <= in_flight <= 3
    pass2 = sorted((w for w in run.windows if w.pass_no == 2), key=lambda w: w.window_index)
    assert [w.window_index for w in pass2] == list(range(11))
    assert [w.start_time for w in pass2] == sorted(w.start_time for w in pass2)
    assert "pass 3 (keyframes in one request)" in log_text(run)


def test_pass_3_keyframes_find_what_the_windows_missed(tmp_path, server, vlm_clips):
    for pass_no in (1, 2):  # a model that sees nothing in the windows
        server.add_rule("blind", system_contains=window_system_prompt("traffic", pass_no, "en"))

    run = analyse(tmp_path, vlm_clips["event"], server.url, llm_pass3_max_frames=16)

    assert run.incident["passes_run"] == [1, 2, 3]
    [event] = run.events
    assert event.pass_no == 3
    assert 2.5 <= event.start_time <= 3.5 and 3.5 <= event.end_time <= 4.5
    assert "keyframes:" in log_text(run)


def test_domain_is_inferred_from_frames_spread_over_the_video(tmp_path, vlm_clips):
    with FakeVLMServer(domain="industrial") as industrial:
        run = analyse(tmp_path, vlm_clips["event"], industrial.url, domain="auto", llm_api_key=None)
        domain_request = next(r for r in industrial.requests if r.kind == "domain")
    dispose_engines()

    assert run.result["inferred_domain"] == "industrial"
    assert run.incident["domain_reason"] == "scripted: the frames look like industrial footage"
    assert 6 <= len(domain_request.labels) <= 8
    assert domain_request.times[0] < 1.0 and domain_request.times[-1] > SECONDS - 1.0
    assert domain_request.body["response_format"]["json_schema"]["name"] == "sigma_domain"
    assert "domain industrial, inferred from" in log_text(run)
    [event] = run.events
    assert event.event_type in TAXONOMY["industrial"]


def test_every_prompt_asks_for_text_in_the_analysis_language(tmp_path, vlm_clips):
    with FakeVLMServer() as fake:
        run = analyse(
            tmp_path,
            vlm_clips["calm"],
            fake.url,
            domain="auto",
            llm_api_key=None,
            llm_pass3_max_frames=6,
            analysis_language="ru",
        )
        requests = fake.requests
    dispose_engines()

    assert run.incident["passes_run"] == [1, 2, 3]
    domain = run.result["inferred_domain"]
    systems = [r.body["messages"][0]["content"] for r in requests]
    [domain_system] = [system for r, system in zip(requests, systems) if r.kind == "domain"]
    window_systems = {system for r, system in zip(requests, systems) if r.kind == "window"}
    assert domain_system.endswith("Write the reason in Russian.")
    assert window_systems == {window_system_prompt(domain, p, "ru") for p in (1, 2, 3)}
    assert all("Write every description in Russian;" in system for system in window_systems)
    assert not any("English" in system for system in systems)
    assert run.logs and all(row[4] == PROMPT_VERSION for row in run.logs)


def test_failed_domain_inference_goes_on_with_every_domain(tmp_path, server, vlm_clips):
    server.add_rule("broken", kind="domain")

    run = analyse(tmp_path, vlm_clips["event"], server.url, domain="auto")

    assert run.incident["status"] == "DONE" and run.result["inferred_domain"] is None
    assert "domain inference failed" in run.incident["domain_reason"]
    assert any(
        level == "WARNING" and "domain inference failed" in message for level, _, message, *_ in run.logs
    )
    assert len(run.events) == 1


# --- Faults -----------------------------------------------------------------------------------------


def test_server_errors_rate_limits_and_timeouts_are_retried(tmp_path, server, vlm_clips):
    server.add_rule("http500", count=2)
    server.add_rule("http429", count=1, retry_after="1")
    server.add_rule("slow", count=1, delay=1.5)

    run = analyse(tmp_path, vlm_clips["event"], server.url, llm_timeout_sec=0.5)

    assert run.error is None, run.error
    [event] = run.result["events"]
    assert abs(event["start_time"] - 3.0) <= PASS1_STEP and abs(event["end_time"] - 4.0) <= PASS1_STEP
    text = log_text(run)
    assert "HTTP 500" in text and "HTTP 429" in text and "(Retry-After)" in text
    assert "no answer from the model server within LLM_TIMEOUT_SEC=0.5 s" in text
    assert "(4 retries" in text
    requests = server.window_requests()
    limited = next(r for r in requests if r.behaviour == "http429")
    retried = next(r for r in requests if r.labels == limited.labels and r.received_at > limited.received_at)
    assert retried.received_at - limited.received_at >= 0.95  # Retry-After: 1 honoured


def test_prose_and_code_fences_around_the_json_are_accepted(tmp_path, server, vlm_clips):
    server.add_rule("prose", count=2)
    server.add_rule("fence")

    run = analyse(tmp_path, vlm_clips["event"], server.url)

    assert len(run.result["events"]) == 1
    assert len(server.window_requests()) == 4  # no re-asks
    assert not any(w.failed for w in run.windows)


def test_broken_json_is_asked_once_more_then_the_window_fails(tmp_path, server, vlm_clips):
    server.add_rule("broken", count=3)  # one request at a time: window 1 twice, window 2 once

    run = analyse(
        tmp_path, vlm_clips["event"], server.url, llm_max_concurrency=1, llm_max_failed_windows_pct=30
    )

    assert run.incident["status"] == "DONE"  # 1 of 4 windows failed: within 30%
    failed = [w for w in run.windows if w.failed]
    assert [w.window_index for w in failed] == [0]
    assert failed[0].description.startswith("window failed: the model's answer is not valid JSON")
    repairs = [r for r in server.window_requests() if r.repair]
    assert len(repairs) == 2
    assert "asking once more" in log_text(run)
    assert len(run.events) == 1  # windows 3 and 4 still see the event


def test_schema_violations_keep_the_valid_events(tmp_path, server, vlm_clips):
    server.add_rule("schema")

    run = analyse(tmp_path, vlm_clips["event"], server.url)

    [event] = run.result["events"]
    assert abs(event["start_time"] - 3.0) <= PASS1_STEP
    text = log_text(run)
    assert "event dropped (first_frame:" in text and "event dropped (confidence:" in text
    assert not any(w.failed for w in run.windows)


def test_frame_numbers_out_of_range_are_repaired_or_dropped(tmp_path, server, vlm_clips):
    server.add_rule("out_of_range")

    run = analyse(tmp_path, vlm_clips["event"], server.url)

    [event] = run.result["events"]
    assert abs(event["start_time"] - 3.0) <= PASS1_STEP and abs(event["end_time"] - 4.0) <= PASS1_STEP
    assert all(0 <= e.start_time <= e.end_time <= SECONDS for e in run.events)
    text = log_text(run)
    assert "repaired:" in text and "lie outside 1..5" in text


def test_unknown_event_types_become_other_with_the_models_words(tmp_path, server, vlm_clips):
    server.add_rule("unknown_type")

    run = analyse(tmp_path, vlm_clips["event"], server.url)

    [event] = run.result["events"]
    assert event["event_type"] == "OTHER" and event["description"].startswith("SPILLED_PAINT: red objects")


def test_too_many_failed_windows_fail_the_analysis_with_the_last_error(tmp_path, server, vlm_clips):
    server.add_rule("broken")

    run = analyse(tmp_path, vlm_clips["event"], server.url)

    assert run.incident["status"] == "FAILED"
    assert "LLM_MAX_FAILED_WINDOWS_PCT=20%" in run.error and "not valid JSON" in run.error
    assert run.incident["error"] == run.error


def test_a_refused_request_is_not_retried_and_its_message_is_quoted(tmp_path, server, vlm_clips):
    server.add_rule("http400")

    run = analyse(tmp_path, vlm_clips["event"], server.url, llm_max_concurrency=1)

    assert run.incident["status"] == "FAILED"
    assert "HTTP 400" in run.error and "At most 2 image(s)" in run.error
    requests = server.window_requests()
    assert len({tuple(r.labels) for r in requests}) == len(requests)  # no window asked twice
    assert len(requests) < 4  # the first failure already made 1 of 4 > 20%: the rest were cancelled


def test_a_wrong_api_key_is_reported_as_unavailable(tmp_path, server, vlm_clips):
    run = analyse(tmp_path, vlm_clips["event"], server.url, llm_api_key="wrong")

    assert run.incident["status"] == "FAILED"
    assert "HTTP 401" in run.error and server.url in run.error


# --- A model server that is not there ----------------------------------------------------------------


def test_dead_port_fails_fast_naming_the_url(tmp_path, vlm_clips):
    url = dead_port_url()
    run = analyse(tmp_path, vlm_clips["calm"], url)
    dispose_engines()

    assert run.incident["status"] == "FAILED"
    assert url in run.error and "Connection refused" in run.error


def test_dead_port_under_engine_auto_falls_back_to_local(tmp_path, vlm_clips):
    url = dead_port_url()
    run = analyse(tmp_path, vlm_clips["event"], url, engine="auto")
    dispose_engines()

    assert run.incident["status"] == "DONE" and run.incident["engine"] == "local"
    assert any(
        level == "WARNING" and url in message and "local" in message for level, _, message, *_ in run.logs
    )


def test_cli_exits_3_with_one_line_naming_the_url(tmp_path, vlm_clips):
    url = dead_port_url()
    env = {**os.environ, "STORAGE_DIR": str(tmp_path / "data"), "ENGINE": "vlm", "LLM_BASE_URL": url}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "core", "analyze", str(vlm_clips["calm"]), "--json"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0], done.stderr
    assert done.stdout == ""
    shown = subprocess.run(
        [sys.executable, "-m", "core", "list", "--json"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(shown.stdout)[0]["status"] == "FAILED"


def test_an_unknown_host_is_unavailable_naming_the_url(tmp_path):
    url = "http://sigma-model-server.invalid:8000/v1"
    with pytest.raises(EngineUnavailable, match="sigma-model-server.invalid:8000/v1"):
        VLMEngine(make_settings(tmp_path, engine="vlm", llm_base_url=url, llm_timeout_sec=5)).check()


def test_a_model_the_server_does_not_list_is_warned_about_and_its_refusal_quoted(tmp_path, server, vlm_clips):
    run = analyse(
        tmp_path, vlm_clips["event"], server.url, llm_model="someone/else-7b", llm_max_concurrency=1
    )

    assert run.incident["status"] == "FAILED"
    assert "HTTP 400" in run.error and "'someone/else-7b' is not served" in run.error
    assert any(
        level == "WARNING" and "LLM_MODEL=someone/else-7b is not among the models" in message
        for level, _, message, *_ in run.logs
    )
