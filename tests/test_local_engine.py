"""The local engine on generated clips: what it must find, at frame-level times, and what it must
not raise, over several seeds, sizes, frame rates and window settings; then its scoring on
synthetic motion series, where the numbers are known exactly."""

from __future__ import annotations

import re
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from core import repository
from core.db import dispose_engines, get_engine, session_scope
from core.engines.local import (
    SPIKE_Z,
    MotionSeries,
    flag_windows,
    score_motion,
)
from core.jobs import run_analysis
from core.samples import SCENES, ScriptedEvent, make_clip
from core.schema import AnalysisParams
from core.service import register_video
from tests.conftest import make_settings

TOLERANCE = 0.3  # seconds: event times must match the scripted truth this closely

# name: (scene, event kind or None, truth span, fps, size, seed, (window_sec, target_fps))
FOUND = {
    "collision in steady traffic": ("traffic", "collision", (3.0, 4.2), 25, (320, 240), 3, (1.5, 10)),
    "fight on a street": ("street", "fight", (2.5, 4.5), 15, (352, 288), 5, (1.0, 5)),
    "fall under heavy noise": ("noisy", "fall", (4.0, 5.2), 30, (320, 240), 8, (3.0, 15)),
    # at 3 s the light changes fastest (drift period 3 s); at its darkest a red figure has little
    # grey-level contrast left, which is a contrast limit, not a drift one
    "0.3 s flash in strong drift": ("drift", "flash", (3.0, 3.3), 25, (480, 270), 13, (1.5, 10)),
    "0.5 s flash at low bitrate": ("low_bitrate", "flash", (2.2, 2.7), 30, (320, 240), 21, (1.0, 15)),
    "burst among walkers and cars": ("busy", "burst", (3.5, 4.1), 25, (320, 240), 2, (3.0, 5)),
}
QUIET = {
    "steady traffic": ("traffic", {}, 30, (320, 240), 4),
    "people walking": ("walkers", {}, 25, (480, 270), 6),
    "walkers and traffic": ("busy", {}, 15, (320, 240), 9),
    "heavy sensor noise": ("noisy", {}, 25, (320, 240), 10),
    "slow lighting drift": ("street", {"drift": 0.4}, 25, (320, 240), 11),
    "moderate lighting drift": ("drift", {}, 30, (320, 240), 12),
    "low-bitrate encode": ("low_bitrate", {}, 25, (352, 288), 14),
}
SECONDS = 8.0


@pytest.fixture(scope="module")
def scene_clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local_engine")
    clips = {}
    for name, (scene, kind, span, fps, size, seed, _) in FOUND.items():
        clips[name] = make_clip(
            folder / f"found-{len(clips)}.mp4",
            seconds=SECONDS,
            fps=fps,
            size=size,
            seed=seed,
            events=[ScriptedEvent(*span, kind)],
            **SCENES[scene],
        )
    for name, (scene, extra, fps, size, seed) in QUIET.items():
        clips[name] = make_clip(
            folder / f"quiet-{len(clips)}.mp4",
            seconds=SECONDS,
            fps=fps,
            size=size,
            seed=seed,
            **{**SCENES[scene], **extra},
        )
    return clips


def analyse(path, settings, *, window_sec=1.5, target_fps=10.0, domain="auto"):
    params = AnalysisParams.from_settings(
        settings, engine="local", window_sec=window_sec, target_fps=target_fps, domain=domain
    )
    incident_id = register_video(path, settings, params)
    result = run_analysis(incident_id, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        windows = repository.windows_of(session, incident_id)
        events = repository.events_of(session, incident_id)
    return result, windows, events


def assert_one_event_at(events, span):
    assert len(events) == 1, [e.seed_dict() for e in events]
    event = events[0]
    assert abs(event.start_time - span[0]) <= TOLERANCE, (event.highlight, span)
    assert abs(event.end_time - span[1]) <= TOLERANCE, (event.highlight, span)
    return event


@pytest.mark.parametrize("name", list(FOUND))
def test_finds_the_scripted_event_at_frame_level(name, scene_clips, settings):
    _, _, span, _, _, _, (window_sec, target_fps) = FOUND[name]
    result, _, events = analyse(scene_clips[name], settings, window_sec=window_sec, target_fps=target_fps)
    assert result["has_event"] is True
    event = assert_one_event_at(events, span)
    if span[1] - span[0] >= 1.5:
        assert event.event_type == "MOTION_BURST"
    if span[1] - span[0] <= 0.6:
        assert event.event_type == "SUDDEN_MOTION"
    assert event.confidence >= 0.5
    assert re.search(r"motion \d+\.\d× this video's median", event.description)


@pytest.mark.parametrize("name", list(QUIET))
def test_raises_nothing_on_a_quiet_scene(name, scene_clips, settings):
    result, windows, _ = analyse(scene_clips[name], settings)
    assert result["has_event"] is False, result["events"]
    assert result["events"] == []
    assert windows and all(w.score < 0.5 for w in windows)


@pytest.mark.parametrize("window_sec, target_fps", [(0.5, 10), (2.0, 30), (6.0, 2)])
def test_window_settings_do_not_move_the_event(window_sec, target_fps, scene_clips, settings):
    span = FOUND["fight on a street"][2]
    _, _, events = analyse(
        scene_clips["fight on a street"], settings, window_sec=window_sec, target_fps=target_fps
    )
    assert_one_event_at(events, span)


def test_every_window_has_a_row_with_figures_and_a_score(scene_clips, settings):
    span = FOUND["collision in steady traffic"][2]
    _, windows, events = analyse(scene_clips["collision in steady traffic"], settings, window_sec=1.0)
    assert [w.window_index for w in windows] == list(range(8))
    assert windows[0].start_time == 0 and windows[-1].end_time == pytest.approx(SECONDS, abs=0.05)
    for window in windows:
        assert 0.0 <= window.score <= 1.0
        assert re.search(r"motion \d+\.\d× this video's median", window.description)
        overlaps_event = window.start_time < events[0].end_time and window.end_time > events[0].start_time
        assert (window.score >= 0.5) == overlaps_event, (window, events[0].highlight)
    assert any(w.start_time < span[1] and w.end_time > span[0] and w.score >= 0.5 for w in windows)


def test_domain_is_passed_through_never_guessed(scene_clips, settings):
    requested, _, _ = analyse(scene_clips["steady traffic"], settings, domain="traffic")
    automatic, _, _ = analyse(scene_clips["steady traffic"], settings)
    assert requested["inferred_domain"] == "traffic"
    assert automatic["inferred_domain"] is None


CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def test_texts_are_written_in_the_analysis_language_with_the_same_figures(clips, tmp_path):
    """ANALYSIS_LANGUAGE picks the language of descriptions and the domain reason; the figures and
    their formatting stay the same, and so do the event type codes."""
    written = {}
    for language in ("ru", "en"):
        settings = make_settings(tmp_path / language, analysis_language=language)
        _, windows, events = analyse(clips["collision"], settings)
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            [incident] = repository.list_incidents(session)
            reason = incident.domain_reason
            start = repository.logs_of(session, incident.id)[0]
        dispose_engines()
        assert start.step == "start" and f"descriptions in {language}" in start.message  # the run says which
        [event] = events
        written[language] = (event, windows, reason)

    ru_event, ru_windows, ru_reason = written["ru"]
    en_event, en_windows, en_reason = written["en"]
    assert ru_event.event_type == en_event.event_type and ru_event.event_type in (
        "SUDDEN_MOTION",
        "MOTION_BURST",
    )
    assert re.search(
        r"движение \d+\.\d× медианы этого видео \(на пике меняется \d+\.\d% кадра", ru_event.description
    )
    assert re.search(r"длилось \d+\.\d\d с, пик на \d+\.\d\d с", ru_event.description)
    assert re.search(r"motion \d+\.\d× this video's median \(\d+\.\d% of the frame", en_event.description)
    assert re.search(r"lasted \d+\.\d\d s, peak at \d+\.\d\d s", en_event.description)
    assert NUMBERS.findall(ru_event.description) == NUMBERS.findall(en_event.description)
    assert len(NUMBERS.findall(en_event.description)) == 5  # ratio, area, z, duration, peak time
    assert all(CYRILLIC.search(w.description) for w in ru_windows)
    assert not any(CYRILLIC.search(w.description) for w in en_windows)
    assert [NUMBERS.findall(w.description) for w in ru_windows] == [
        NUMBERS.findall(w.description) for w in en_windows
    ]
    assert CYRILLIC.search(ru_reason) and "область" in ru_reason
    assert en_reason == "the local engine measures motion and cannot infer the domain"


def test_times_come_from_presentation_times_on_a_variable_rate_clip(tmp_path, settings):
    """Frames 0–49 at 25 fps, then 12.5 fps: the fall scripted at frames 60–85 happens at
    2.8–4.8 s of the played video (at 2.4–3.4 s if frames were counted at a constant rate)."""
    constant = make_clip(tmp_path / "cfr.mp4", seconds=8, fps=25, events=[ScriptedEvent(2.4, 3.4, "fall")])
    variable = tmp_path / "vfr.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(constant),
         "-vf", "setpts='if(lt(N,50),N/25,2+(N-50)/12.5)/TB'", "-fps_mode", "passthrough",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p", str(variable)],
        check=True,
    )  # fmt: skip
    _, _, events = analyse(variable, settings)
    assert_one_event_at(events, (2.8, 4.8))


# --- scoring on synthetic series ------------------------------------------------------------------


def synthetic_series(bumps, *, pairs=300, fps=10.0, cells=48, seed=0):
    """A calm video (a little change everywhere) with `bumps`: (first pair, pair count, changed
    fraction of the first four cells) on top."""
    rng = np.random.default_rng(seed)
    values = np.clip(rng.normal(0.01, 0.004, size=(pairs, cells)), 0, 1).astype(np.float32)
    for first, count, fraction in bumps:
        values[first : first + count, :4] = fraction
    times = np.arange(pairs + 1) / fps
    return MotionSeries(before=times[:-1], after=times[1:], area=values.mean(axis=1), cells=values)


def test_a_short_spike_a_sustained_burst_and_a_lone_glitch():
    series = synthetic_series([(50, 3, 0.6), (150, 15, 0.15), (250, 1, 0.9)])
    report = score_motion(series)
    windows, events = flag_windows(report, duration=30.0, window_sec=1.5, language="en")
    assert [(e.event_type, round(e.start_time, 2), round(e.end_time, 2)) for e in events] == [
        ("SUDDEN_MOTION", 5.05, 5.25),  # pairs 50–52: frames 5.0–5.3, times are the pair middles
        ("MOTION_BURST", 15.05, 16.45),
    ]  # the lone pair at 25 s is a glitch (a keyframe refresh), not motion
    burst = next(e for e in report.episodes if e.start > 14)
    assert burst.peak_z < SPIKE_Z  # flagged for lasting, not for its peak
    assert len(windows) == 20
    assert all(w.score < 0.5 for w in windows if w.start_time >= 24.0)


def test_confidence_grows_with_how_far_it_stands_out():
    report = score_motion(synthetic_series([(50, 3, 0.35), (150, 3, 0.5), (250, 3, 1.0)]))
    _, events = flag_windows(report, duration=30.0, window_sec=1.5, language="en")
    assert len(events) == 3
    peaks = [e.peak_z for e in report.episodes if e.flagged]
    assert peaks == sorted(peaks) and peaks[0] >= SPIKE_Z
    confidences = [e.confidence for e in events]
    assert confidences == sorted(confidences) and len(set(confidences)) == 3
    assert all(0.5 <= c <= 0.99 for c in confidences)


def test_an_empty_series_gives_calm_windows():
    empty = MotionSeries(np.zeros(0), np.zeros(0), np.zeros(0, np.float32), np.zeros((0, 48), np.float32))
    windows, events = flag_windows(score_motion(empty), duration=3.0, window_sec=1.5, language="en")
    assert events == [] and [w.score for w in windows] == [0.0, 0.0]
