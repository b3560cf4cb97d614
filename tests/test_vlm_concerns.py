"""The analyst's concerns and site context, severity, the closer look at event boundaries, and
still windows skipped, end to end against the loopback model server (tests/fake_vlm_server.py):
it reports the scripted concern (a blue object) only when the prompt lists it, rates severities,
and answers refinement requests from the frames it is sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from core.cli import main as cli_main
from core.concerns import Concern, builtin_types, examples, parse_concern, parse_concern_lines
from core.config import Settings, get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.engines.vlm import refine_spans
from core.models import Incident
from core.prompts import PROMPT_VERSION, prompt_fingerprint, refine_system_prompt, window_system_prompt
from core.samples import ScriptedEvent, make_clip
from core.schema import DOMAINS, AnalysisParams
from tests.fake_vlm_server import FakeVLMServer, blue_visible, concern_clip
from tests.test_vlm_engine import ROOT, analyse, log_text

CONCERN = "VAN_AT_GATE"
DEFINITION = "a van stands at the depot gate"
TRUTH = (3.0, 4.2)  # the blue van's scripted stay
CONTEXT = "The gate of a depot.\nVans pass through it all day."


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concern_clips")
    return {
        "van": concern_clip(folder / "van.mp4", seconds=6.0, fps=25.0, concern=TRUTH),
        "two": make_clip(
            folder / "two.mp4",
            seconds=9.0,
            fps=25.0,
            events=[ScriptedEvent(1.7, 2.5, "collision"), ScriptedEvent(6.2, 6.9, "burst")],
        ),
        # a still scene (no traffic) with one event in the middle
        "still": make_clip(
            folder / "still.mp4", seconds=15.0, fps=25.0, traffic=0, events=[ScriptedEvent(7.1, 7.9, "fight")]
        ),
        "still_calm": make_clip(folder / "still_calm.mp4", seconds=6.0, fps=25.0, traffic=0),
    }


@pytest.fixture
def server():
    with FakeVLMServer(concern=CONCERN) as fake:
        yield fake
    dispose_engines()


# --- concerns -------------------------------------------------------------------------------------


def test_a_concern_is_found_only_when_the_analyst_asks_for_it(tmp_path, server, clips):
    asked = analyse(
        tmp_path / "asked",
        clips["van"],
        server.url,
        llm_concerns={CONCERN: DEFINITION},
        llm_site_context=CONTEXT,
    )
    asked_requests, asked_refines = server.window_requests(), server.refine_requests()
    server.state.requests.clear()
    plain = analyse(tmp_path / "plain", clips["van"], server.url)

    assert asked.error is None and plain.error is None
    [event] = asked.events
    assert event.event_type == CONCERN and event.severity == 1
    assert abs(event.start_time - TRUTH[0]) <= 0.2 and abs(event.end_time - TRUTH[1]) <= 0.2
    assert plain.events == [] and plain.incident["passes_run"] == [1, 2, 3]  # blue alone is nothing

    # the concern and the context sit in every prompt, and one system prompt serves every window
    pass1 = [r for r in asked_requests if not r.repair]
    systems = {r.body["messages"][0]["content"] for r in pass1}
    assert len(systems) == 1
    [system] = systems
    assert f"- {CONCERN}: {DEFINITION}" in system and "Vans pass through it all day." in system
    # refinement prompts begin with the same text as the window prompts: the cacheable prefix
    refine = asked_refines[0].body["messages"][0]["content"]
    shared = len(os.path.commonprefix([system, refine]))
    assert system[:shared].rstrip().endswith("(say what in the description)")

    # the fingerprint of the prompts (version + short hash) on every row of the run, and different runs apart
    fingerprint = prompt_fingerprint([Concern(code=CONCERN, definition=DEFINITION)], CONTEXT)
    assert fingerprint.startswith(f"{PROMPT_VERSION}+") and len(fingerprint) == len(PROMPT_VERSION) + 9
    assert {row[4] for row in asked.logs} == {fingerprint}
    assert {row[4] for row in plain.logs} == {PROMPT_VERSION}
    assert f"prompts {fingerprint}" in log_text(asked)


def test_concerns_and_context_are_stored_with_the_run_parameters(tmp_path, server, clips):
    run = analyse(
        tmp_path,
        clips["van"],
        server.url,
        llm_concerns={CONCERN: DEFINITION},
        llm_site_context="a depot gate",
    )
    settings = Settings(_env_file=None, storage_dir=tmp_path / "data")
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        stored = AnalysisParams.model_validate(session.scalar(select(Incident.params)))
    assert stored.concerns == [Concern(code=CONCERN, definition=DEFINITION)]
    assert stored.site_context == "a depot gate"
    assert run.incident["status"] == "DONE"


def test_prompt_fingerprints_tell_concerns_and_contexts_apart():
    van = [Concern(code=CONCERN, definition=DEFINITION)]
    prints = {
        prompt_fingerprint(),
        prompt_fingerprint(van),
        prompt_fingerprint(van, "a depot"),
        prompt_fingerprint([Concern(code=CONCERN, definition="a van stops at the gate")]),
        prompt_fingerprint([], "a depot"),
    }
    assert len(prints) == 5 and prompt_fingerprint() == PROMPT_VERSION
    assert prompt_fingerprint(van, "a depot") == prompt_fingerprint(list(van), "a depot")  # stable


def test_window_prompts_keep_what_differs_last():
    """Passes 1, 2 and 3 and the refinement share everything up to the task: the prefix vLLM caches."""
    van = [Concern(code=CONCERN, definition=DEFINITION)]
    prompts = [window_system_prompt("traffic", p, "en", van, "a depot") for p in (1, 2, 3)]
    prompts.append(refine_system_prompt("traffic", van, "a depot"))
    shared = os.path.commonprefix(prompts)
    assert f"- {CONCERN}: {DEFINITION}" in shared and "a depot" in shared and "COLLISION" in shared


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no_gloves=a person without gloves", "not valid"),
        ("NO GLOVES=a person without gloves", "not valid"),
        ("FALL=a worker falls off the press", "built-in event type"),
        ("COLLISION=cars", "built-in event type"),
        ("NO_GLOVES", "no definition"),
        ("NO_GLOVES=", "needs a definition"),
        ("NO_GLOVES=ab", "needs a definition"),
        ("NO_GLOVES=" + "x" * 201, "too long"),
        ("X" * 41 + "=a very long code", "not valid"),
        ("_NO=leading underscore", "not valid"),
    ],
)
def test_malformed_or_clashing_concerns_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_concern(text)


def test_concern_lists_and_contexts_are_bounded():
    assert parse_concern('NO_GLOVES="a person at the press without gloves"').definition == (
        "a person at the press without gloves"
    )
    assert parse_concern("NO_GLOVES: a person\twithout  gloves").definition == "a person without gloves"
    with pytest.raises(ValueError, match="listed twice"):
        parse_concern_lines("A1: one thing\nA1: another thing")
    with pytest.raises(ValueError, match="at most 8 concerns"):
        parse_concern_lines("\n".join(f"C{i}: thing number {i}" for i in range(9)))
    with pytest.raises(ValueError, match="site context is too long"):
        AnalysisParams(
            window_sec=1, target_fps=1, frames_per_window=1, max_highlights=1, site_context="x" * 601
        )
    with pytest.raises(ValueError, match="JSON object"):
        Settings(_env_file=None, llm_concerns="NO_GLOVES=no json")
    with pytest.raises(ValueError, match="built-in event type"):
        Settings(_env_file=None, llm_concerns='{"FIGHT": "two people fight"}')


def test_every_ready_example_is_a_valid_concern_in_both_languages():
    for domain in DOMAINS:
        for lang in ("ru", "en"):
            chosen = examples(domain, lang)
            assert len(chosen) >= 3 and all(c.code not in builtin_types() for c in chosen)
    assert len(examples("auto", "en")) == sum(len(examples(d, "en")) for d in DOMAINS)


def test_the_cli_refuses_bad_concerns_before_anything_is_stored(tmp_path, clips, monkeypatch, capsys):
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.setenv("LLM_BASE_URL", "")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        for arguments, message in [
            (["--concern", "FIGHT=two people fight"], "FIGHT is a built-in event type"),
            (["--concern", "white van=stops at the gate"], "not valid"),
            (["--context", "y" * 700], "site context is too long (700 characters; at most 600)"),
        ]:
            assert cli_main(["analyze", str(clips["van"]), *arguments]) == 2
            lines = capsys.readouterr().err.strip().splitlines()
            assert len(lines) == 1 and message in lines[0], lines
        assert not (tmp_path / "data" / "videos").exists() or not any(
            (tmp_path / "data" / "videos").iterdir()
        )
    finally:
        get_settings.cache_clear()


def test_the_cli_takes_concerns_and_context_as_flags(tmp_path, server, clips):
    env = {
        **os.environ,
        "STORAGE_DIR": str(tmp_path / "data"),
        "ENGINE": "vlm",
        "LLM_BASE_URL": server.url,
        "LLM_CONCERNS": '{"NOT_USED": "replaced by the flags"}',
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "core", "analyze", str(clips["van"]), "--json", "--quiet", "--domain", "traffic",
         "--concern", f'{CONCERN}="{DEFINITION}"', "--context", "a depot gate"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [e["event_type"] for e in json.loads(done.stdout)["events"]] == [CONCERN]
    system = server.window_requests()[0].body["messages"][0]["content"]
    assert f"- {CONCERN}: {DEFINITION}" in system and "NOT_USED" not in system


def test_the_local_engine_says_it_cannot_look_for_concerns(tmp_path, clips):
    run = analyse(tmp_path, clips["van"], "", engine="local", llm_concerns={CONCERN: DEFINITION})
    assert run.incident["status"] == "DONE"
    assert "cannot look for the analyst's concerns" in log_text(run)


# --- severity -------------------------------------------------------------------------------------


def test_severities_are_asked_for_and_stored(tmp_path, server, clips):
    run = analyse(tmp_path, clips["two"], server.url)
    assert [e.severity for e in run.events] == [2, 2]
    schema = server.window_requests()[0].body["response_format"]["json_schema"]["schema"]
    item = schema["properties"]["events"]["items"]
    assert item["properties"]["severity"] == {"type": "integer", "minimum": 0, "maximum": 2}
    assert "severity" in item["required"]


def test_out_of_range_severities_drop_the_event_with_a_note_and_keep_the_window(tmp_path, server, clips):
    server.add_rule("bad_severity")  # every event the model reports comes with severity 5
    run = analyse(tmp_path, clips["two"], server.url)
    assert run.incident["status"] == "DONE" and run.events == []
    assert "event dropped (severity: Input should be less than or equal to 2)" in log_text(run)
    assert run.windows and not any(w.failed for w in run.windows)
    assert any("red objects" in w.description for w in run.windows)  # the windows' words are kept


# --- refinement -----------------------------------------------------------------------------------


def _errors(events, truth):
    return [abs(e.start_time - t[0]) for e, t in zip(events, truth)] + [
        abs(e.end_time - t[1]) for e, t in zip(events, truth)
    ]


def test_refinement_tightens_event_boundaries_with_one_request_per_event(tmp_path, server, clips):
    truth = [(1.7, 2.5), (6.2, 6.9)]
    coarse = analyse(tmp_path / "coarse", clips["two"], server.url, llm_refine=False)
    assert server.refine_requests() == []
    assert "refinement off (LLM_REFINE=false)" in log_text(coarse)
    refined = analyse(tmp_path / "refined", clips["two"], server.url)

    # the two requests run concurrently: the server may receive either first
    refines = sorted(server.refine_requests(), key=lambda request: request.times[0])
    assert len(refines) == 2 == len(refined.events) == len(coarse.events)
    assert refines[0].event.startswith("COLLISION (vehicles hit each other or a fixed object): red objects")
    assert max(len(r.labels) for r in refines) <= Settings(_env_file=None).llm_refine_max_frames
    # every frame from a window (1.5 s) before the event to a window after it
    first = refines[0]
    assert first.times[0] <= truth[0][0] - 1.2 and first.times[-1] >= truth[0][1] + 1.2
    assert max(_errors(refined.events, truth)) <= 0.1 < max(_errors(coarse.events, truth))
    text = log_text(refined)
    assert "refine: refinement: 2 of 2 events looked at closer" in text and "2 refined" in text


def test_refinement_is_bounded_by_max_highlights(tmp_path, server, clips):
    run = analyse(tmp_path, clips["two"], server.url, llm_max_highlights=1)
    assert len(server.refine_requests()) == 1 and len(run.events) == 1


def test_refined_frames_outside_the_request_keep_the_first_look(tmp_path, server, clips):
    coarse = analyse(tmp_path / "coarse", clips["two"], server.url, llm_refine=False)
    server.add_rule("out_of_range", kind="refine")
    run = analyse(tmp_path / "run", clips["two"], server.url)
    assert run.incident["status"] == "DONE"
    assert [(e.start_time, e.end_time) for e in run.events] == [
        (e.start_time, e.end_time) for e in coarse.events
    ]
    assert "lie outside 1..32; dropped, first-look times kept" in log_text(run)


def test_refine_spans_look_a_window_around_and_keep_long_events_edges():
    spans = refine_spans(10.0, 11.0, margin=1.5, duration=60, target_fps=10, max_frames=32)
    assert [(a, b) for a, b, _ in spans] == [(8.5, 12.5)] and spans[0][2] == pytest.approx(8.0)
    spans = refine_spans(10.0, 11.0, margin=1.5, duration=60, target_fps=5, max_frames=32)
    assert spans[0][2] == 5  # few enough frames: every sampled one
    long = refine_spans(10.0, 40.0, margin=1.5, duration=60, target_fps=10, max_frames=32)
    assert [(a, b) for a, b, _ in long] == [(8.5, 11.5), (38.5, 41.5)]
    assert all(fps * (b - a) <= 16 + 1e-9 for a, b, fps in long)
    assert refine_spans(0.2, 1.0, margin=1.5, duration=1.5, target_fps=10, max_frames=32)[0][:2] == (0.0, 1.5)


# --- still windows --------------------------------------------------------------------------------


def test_still_windows_are_skipped_in_pass_1_and_drawn_as_such(tmp_path, server, clips):
    sent_all = analyse(tmp_path / "all", clips["still"], server.url)
    all_requests = len(server.window_requests())
    server.state.requests.clear()
    skipping = analyse(tmp_path / "skip", clips["still"], server.url, llm_skip_still_windows=True)
    skip_requests = len(server.window_requests())

    assert all_requests == len(sent_all.windows) == 10
    skipped = [w for w in skipping.windows if w.skipped]
    assert len(skipped) >= 6 and skip_requests == 10 - len(skipped)
    assert all(w.description.startswith("skipped: still") and w.score == 0 for w in skipped)
    [event] = skipping.events
    assert event.start_time == pytest.approx(sent_all.events[0].start_time)  # the event is still found
    assert f"({len(skipped)} skipped as still: LLM_SKIP_STILL_WINDOWS)" in log_text(skipping)


def test_pass_2_still_runs_over_every_window_when_pass_1_skipped_and_found_nothing(tmp_path, server, clips):
    run = analyse(tmp_path, clips["still_calm"], server.url, llm_skip_still_windows=True)
    assert run.incident["passes_run"] == [1, 2, 3]
    pass1 = [w for w in run.windows if w.pass_no == 1]
    pass2 = [w for w in run.windows if w.pass_no == 2]
    assert sum(w.skipped for w in pass1) >= 2 and not any(w.skipped for w in pass2)
    assert len([r for r in server.window_requests() if len(r.labels) == 10]) == len(pass2) == 11


def test_the_scripted_concern_is_visible_only_in_its_span(clips):
    from core.video import iter_frames

    seen = [f.time for f in iter_frames(clips["van"], 10) if blue_visible(f.image)]
    assert seen and TRUTH[0] - 0.05 <= seen[0] and seen[-1] < TRUTH[1]
