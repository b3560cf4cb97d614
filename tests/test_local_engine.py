"""The local engine on generated clips: what it must find, at frame-level times, and what it must
not raise, over several seeds, sizes, frame rates and window settings; then its scoring on
synthetic motion series, where the numbers are known exactly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace

import imageio_ffmpeg
import numpy as np
import pytest

from core import behaviour, repository
from core.behaviour import Finding
from core.cli import main as cli_main
from core.config import get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.engines import local
from core.engines.local import SPIKE_Z, MotionSeries, Observation, score_motion
from core.engines.local import analyse as analyse_observation
from core.i18n import catalogue, text
from core.jobs import run_analysis
from core.samples import (
    SAMPLE_EVENTS,
    SCENES,
    ScriptedEvent,
    make_clip,
    make_sample_clip,
    render_frames,
    seen_by_moving_camera,
    write_clip,
)
from core.schema import AnalysisParams
from core.service import register_video
from core.tracks import WARM_UP_SEC, Track
from tests.conftest import make_settings

TOLERANCE = 0.3  # seconds: motion-episode times must match the scripted truth this closely
TYPED_TOLERANCE = 1.0  # seconds: a typed event overlaps its scripted truth within this

# name: (scene, event kind or None, truth span, fps, size, seed, (window_sec, target_fps))
FOUND = {
    "0.3 s flash in strong drift": ("drift", "flash", (3.0, 3.3), 25, (480, 270), 13, (1.5, 10)),
    "0.5 s flash at low bitrate": ("low_bitrate", "flash", (2.2, 2.7), 30, (320, 240), 21, (1.0, 15)),
    "burst among walkers and cars": ("busy", "burst", (3.5, 4.1), 25, (320, 240), 2, (3.0, 5)),
}
# name: (scene, scripted kind, truth span, the type the engine must name, seed)
TYPED = {
    "two cars meet and stop": ("street", "meet_and_stop", (3.0, 5.0), "COLLISION", 5),
    "a person falls": ("noisy", "fall", (4.0, 5.2), "FALL", 5),
    "two people fight": ("street", "fight", (2.5, 4.5), "FIGHT", 5),
    "a walker breaks into a run": ("street", "running", (4.0, 5.5), "RUNNING", 5),
    "a car against the traffic": ("traffic", "wrong_way", (4.0, 7.0), "WRONG_WAY", 5),
    "a car stops in moving traffic": ("traffic", "stopped_vehicle", (4.0, 8.0), "STOPPED_VEHICLE", 5),
}
QUIET = {
    "steady traffic": ("traffic", {}, 30, (320, 240), 4),
    "people walking": ("walkers", {}, 25, (480, 270), 6),
    "heavy sensor noise": ("noisy", {}, 25, (320, 240), 10),
    "slow lighting drift": ("street", {"drift": 0.4}, 25, (320, 240), 11),
    "moderate lighting drift": ("drift", {}, 30, (320, 240), 12),
    "low-bitrate encode": ("low_bitrate", {}, 25, (352, 288), 14),
}
SECONDS = 8.0
TYPED_SECONDS = 10.0


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
    for name, (scene, kind, span, _, seed) in TYPED.items():
        clips[name] = make_clip(
            folder / f"typed-{len(clips)}.mp4",
            seconds=TYPED_SECONDS,
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
def test_unexplained_motion_is_found_at_frame_level(name, scene_clips, settings):
    _, _, span, _, _, _, (window_sec, target_fps) = FOUND[name]
    result, _, events = analyse(scene_clips[name], settings, window_sec=window_sec, target_fps=target_fps)
    assert result["has_event"] is True
    event = assert_one_event_at(events, span)
    assert event.event_type == "SUDDEN_MOTION"
    assert event.confidence >= 0.5 and event.severity in (0, 1)
    assert re.search(r"motion \d+\.\d× this video's median", event.description)
    assert "no tracked object explains it" in event.description


@pytest.mark.parametrize("name", list(TYPED))
def test_names_what_the_tracks_did(name, scene_clips, settings):
    """Each typed event on its clip: the right type overlapping the scripted truth, a box inside the
    frame at its peak, the tracks involved, a severity, and a description with the measured figures."""
    _, _, span, expected, _ = TYPED[name]
    _, windows, events = analyse(scene_clips[name], settings)
    typed = [e for e in events if e.event_type == expected]
    assert typed, [e.seed_dict() for e in events]
    event = typed[0]
    assert event.start_time < span[1] + TYPED_TOLERANCE and event.end_time > span[0] - TYPED_TOLERANCE
    assert event.box is not None  # Box validates 0..1 and inside the frame
    assert event.box.x >= 0 and event.box.x + event.box.w <= 1 and event.box.y + event.box.h <= 1
    assert event.track_ids and {p.track_id for p in event.track_path} <= set(event.track_ids)
    assert event.peak_time is not None and event.start_time <= event.peak_time <= event.end_time
    assert event.severity in (0, 1, 2) and event.confidence >= 0.5
    assert re.search(r"tracks? \d+|\d+ tracks?", event.description)
    assert [e.event_type for e in events].count(expected) == 1
    others = [e for e in events if e.event_type != expected]
    assert not others, [e.seed_dict() for e in others]
    assert any(
        w.score >= 0.5 for w in windows if w.start_time < event.end_time and w.end_time > event.start_time
    )


def test_a_collision_is_described_by_the_measures_that_made_it(scene_clips, settings):
    """Two cars that meet and stop dead lost their speed and did not turn: the description says the
    first and not "turned 0°"; a turn is named only when it is what made the hit (or part of it)."""
    _, _, events = analyse(scene_clips["two cars meet and stop"], settings)
    [collision] = [e for e in events if e.event_type == "COLLISION"]
    assert re.search(r"lost \d+% of its speed", collision.description), collision.description
    assert "turned" not in collision.description, collision.description
    finding = Finding("COLLISION", 1.0, 2.0, 1.5, [1, 2], 1.5)
    texts = {k.removeprefix("local."): v for k, v in catalogue("en").items() if k.startswith("local.")}
    facts = {
        "a": 1,
        "b": 2,
        "kind_a": "vehicle",
        "kind_b": "vehicle",
        "approach": 2.0,
        "before": 1.0,
        "who": 1,
    }
    for slowdown, turn, said in (
        (0.9, 5.0, "lost 90%"),
        (0.2, 80.0, "turned 80°"),
        (0.9, 80.0, "turned 80°"),
    ):
        facts.update(
            slowdown=slowdown, turn=turn, after=1.0 - slowdown, **behaviour._collision_wording(slowdown, turn)
        )
        described = local._describe_finding(replace(finding, facts=dict(facts)), None, texts)
        assert said in described and ("turned" in described) == (turn >= behaviour.COLLISION_TURN_DEG)
        assert ("lost" in described) == (slowdown >= behaviour.COLLISION_SLOWDOWN), described


def test_a_generated_clip_is_the_same_file_whatever_the_cpus(tmp_path):
    """The engine reads exact grey levels, so the clips its tests and figures use must be the same bytes
    on any machine: x264 by default encodes with as many threads as the CPUs allow, and its output
    follows the thread count. One CPU against all of this machine's: the same file."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("one CPU: the encoder's default would match anyway")
    make = "import sys; from core.samples import make_clip; make_clip(sys.argv[1], seconds=2.0, traffic=3)"
    files = []
    for name, allowed in (("one.mp4", {cpus[0]}), ("all.mp4", set(cpus))):
        subprocess.run(
            [sys.executable, "-c", make, str(tmp_path / name)],
            check=True,
            preexec_fn=lambda allowed=allowed: os.sched_setaffinity(0, allowed),
        )
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]


SAMPLE_TYPES = {"wrong_way": "WRONG_WAY", "meet_and_stop": "COLLISION", "burst": "SUDDEN_MOTION"}


def test_the_dashboard_sample_is_named_event_by_event(tmp_path, settings):
    """What "Try a sample" shows first in a demo: each scripted event named with its type, in order,
    overlapping its span, and nothing else raised."""
    _, _, events = analyse(make_sample_clip(tmp_path / "sample.mp4"), settings)
    found = [(e.event_type, e.start_time, e.end_time) for e in events]
    assert [kind for kind, _, _ in found] == [SAMPLE_TYPES[e.kind] for e in SAMPLE_EVENTS], found
    for (_, start, end), scripted in zip(found, SAMPLE_EVENTS, strict=True):
        assert start < scripted.end + TYPED_TOLERANCE and end > scripted.start - TYPED_TOLERANCE, found


@pytest.mark.parametrize("name", list(QUIET))
def test_raises_nothing_on_a_quiet_scene(name, scene_clips, settings):
    result, windows, _ = analyse(scene_clips[name], settings)
    assert result["has_event"] is False, result["events"]
    assert result["events"] == []
    assert windows and all(w.score < 0.5 for w in windows)


@pytest.mark.parametrize("window_sec, target_fps", [(0.5, 10), (2.0, 30), (6.0, 2)])
def test_window_settings_do_not_move_the_event(window_sec, target_fps, scene_clips, settings):
    span = TYPED["two people fight"][2]
    _, _, events = analyse(
        scene_clips["two people fight"], settings, window_sec=window_sec, target_fps=target_fps
    )
    [event] = events
    assert event.event_type == "FIGHT"
    assert event.start_time < span[1] + TYPED_TOLERANCE and event.end_time > span[0] - TYPED_TOLERANCE


def test_every_window_has_a_row_with_figures_and_a_score(scene_clips, settings):
    _, windows, events = analyse(scene_clips["two cars meet and stop"], settings, window_sec=1.0)
    assert [w.window_index for w in windows] == list(range(10))
    assert windows[0].start_time == 0 and windows[-1].end_time == pytest.approx(TYPED_SECONDS, abs=0.05)
    [event] = events
    for window in windows:
        assert 0.0 <= window.score <= 1.0
        assert re.search(r"motion \d+\.\d× this video's median", window.description)
        assert re.search(
            r"tracked objects: \d+ \(\d+ person-like, \d+ vehicle-like, \d+ other\)", window.description
        )
        overlaps_event = window.start_time < event.end_time and window.end_time > event.start_time
        assert (window.score >= 0.5) == overlaps_event, (window, event.highlight)


def test_domain_is_passed_through_and_named_only_when_tracks_make_it_plain(scene_clips, settings):
    requested, _, _ = analyse(scene_clips["people walking"], settings, domain="traffic")
    automatic, _, _ = analyse(scene_clips["people walking"], settings)
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
        _, windows, events = analyse(clips["burst"], settings)
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            [incident] = repository.list_incidents(session)
            reason = incident.domain_reason
            start = repository.logs_of(session, incident.id)[0]
        dispose_engines()
        named = text("en", f"language.{language}")
        assert start.step == "start" and f"descriptions in {named}" in start.message  # the run says which
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
    assert en_reason.startswith("not plain from the tracks (")


def test_times_come_from_presentation_times_on_a_variable_rate_clip(tmp_path, settings):
    """Frames 0–49 at 25 fps, then 12.5 fps: the fall scripted at frames 60–85 happens at
    2.8–4.8 s of the played video (at 2.4–3.4 s if frames were counted at a constant rate)."""
    constant = make_clip(tmp_path / "cfr.mp4", seconds=8, fps=25, events=[ScriptedEvent(2.4, 3.4, "fall")])
    variable = tmp_path / "vfr.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-i",
            str(constant),
            "-vf",
            "setpts='if(lt(N,50),N/25,2+(N-50)/12.5)/TB'",
            "-fps_mode",
            "passthrough",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            str(variable),
        ],
        check=True,
    )
    _, _, events = analyse(variable, settings)
    [event] = events
    assert event.start_time >= 2.8 - TOLERANCE and event.end_time >= 3.8, event.highlight


# --- scoring on synthetic series ------------------------------------------------------------------


def synthetic_series(bumps, *, pairs=300, fps=10.0, cells=48, seed=0):
    """A calm video (a little change everywhere) with `bumps`: (first pair, pair count, changed
    fraction of the first four cells) on top."""
    rng = np.random.default_rng(seed)
    values = np.clip(rng.normal(0.01, 0.004, size=(pairs, cells)), 0, 1).astype(np.float32)
    for first, count, fraction in bumps:
        values[first : first + count, :4] = fraction
    times = np.arange(pairs + 1) / fps
    series = MotionSeries(
        before=times[:-1],
        after=times[1:],
        area=values.mean(axis=1),
        cells=values,
        size=(160, 120),
        grid=(8, 6),
    )
    return Observation(series, [], times, (160, 120))


def test_a_short_spike_a_sustained_burst_and_a_lone_glitch():
    seen = synthetic_series([(50, 3, 0.6), (150, 15, 0.15), (250, 1, 0.9)])
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert [(e.event_type, round(e.start_time, 2), round(e.end_time, 2)) for e in analysis.events] == [
        ("SUDDEN_MOTION", 5.05, 5.25),  # pairs 50–52: frames 5.0–5.3, times are the pair middles
        ("MOTION_BURST", 15.05, 16.45),
    ]  # the lone pair at 25 s is a glitch (a keyframe refresh), not motion
    burst = next(e for e in analysis.report.episodes if e.start > 14)
    assert burst.peak_z < SPIKE_Z  # flagged for lasting, not for its peak
    assert len(analysis.windows) == 20
    assert all(w.score < 0.5 for w in analysis.windows if w.start_time >= 24.0)
    for event in analysis.events:  # the box of the cells that moved unusually: the first four, top left
        assert event.box is not None and event.box.x == 0 and event.box.y == 0 and event.box.w == 0.5


def test_a_spike_amid_ordinary_motion_stays_a_sudden_motion():
    """A spike of 0.3 s inside 1.6 s of moderate motion just above the low threshold (a car driving
    past where something was thrown): one episode, named by how long it stood out: SUDDEN_MOTION."""
    seen = synthetic_series([(100, 16, 0.13), (106, 3, 0.6)])
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    flagged = [e for e in analysis.report.episodes if e.flagged]
    assert len(flagged) == 1 and flagged[0].end - flagged[0].start >= 1.4
    assert [e.event_type for e in analysis.events] == ["SUDDEN_MOTION"]


def _cells_moving_a_little(cells: list[tuple[int, int]], *, first=100, count=3, fraction=0.07):
    """A calm series where, for `count` pairs, the given (row, column) cells of the 8×6 grid change a
    little more than their normal: each alone far from a spike (small fragments crossing them)."""
    seen = synthetic_series([])
    for row, column in cells:
        seen.series.cells[first : first + count, row * 8 + column] = fraction
    seen.series.area[:] = seen.series.cells.mean(axis=1)
    return seen


def test_a_burst_of_small_fragments_from_one_point_is_sudden_motion():
    """Debris flying out of one point (issue 11): a patch of twelve touching cells, each only a little
    above its normal, for 0.3 s. Its unusual-motion z stays far below a spike; the patch stands out."""
    patch = [(row, column) for row in (2, 3, 4) for column in (2, 3, 4, 5)]
    analysis = analyse_observation(_cells_moving_a_little(patch), 30.0, 1.5, language="en")
    [event] = analysis.events
    assert event.event_type == "SUDDEN_MOTION" and 9.9 <= event.start_time <= event.end_time <= 10.4
    [episode] = [e for e in analysis.report.episodes if e.flagged]
    assert episode.peak_z < SPIKE_Z / 2 and episode.peak_cells == 12
    assert "12 touching grid cells" in event.description
    assert event.box is not None and event.box.x == 0.25 and event.box.w == 0.5


def test_as_many_cells_moving_a_little_here_and_there_are_no_event():
    """The same twelve cells' worth of small change, none touching another (noise, flicker): nothing."""
    scattered = [(row, column) for row in (0, 2, 4) for column in (0, 2, 4, 6)]
    analysis = analyse_observation(_cells_moving_a_little(scattered), 30.0, 1.5, language="en")
    assert analysis.events == []


def test_fragments_counts_separate_small_patches_only():
    """Pieces of a burst each make their own small patch of change; specks of noise are smaller, and a
    person or a car is one large patch, however much of the frame it moves."""
    mask = np.zeros((120, 160), np.float32)
    for k in range(6):  # six pieces of 5×5 px (0.13 % of the frame each)
        mask[10:15, 10 + 20 * k : 15 + 20 * k] = 1.0
    for k in range(10):  # ten specks of 2×2 px (0.02 %)
        mask[40:42, 5 + 15 * k : 7 + 15 * k] = 1.0
    mask[60:110, 40:70] = 1.0  # one walker-sized region (7.8 %)
    assert local.fragments(mask) == 6


def _fragments_burst(counts: list[int], *, first=100) -> Observation:
    """A calm series (one or two fragments a pair) where pairs from `first` on show `counts` fragments:
    the cells' change and its patch stay as calm as everywhere else."""
    seen = synthetic_series([])
    rng = np.random.default_rng(1)
    seen.series.fragments = rng.integers(0, 3, len(seen.series)).astype(np.float64)
    seen.series.fragments[first : first + len(counts)] = counts
    return seen


def test_many_fragments_at_once_in_two_pairs_running_is_sudden_motion():
    """Debris whose pieces each move too little of any cell to stand out (issue 11): twelve fragments
    in three pairs running, where one or two is the video's usual count."""
    analysis = analyse_observation(_fragments_burst([12, 14, 11]), 30.0, 1.5, language="en")
    [event] = analysis.events
    assert event.event_type == "SUDDEN_MOTION" and 9.9 <= event.start_time <= event.end_time <= 10.4
    [episode] = [e for e in analysis.report.episodes if e.flagged]
    assert episode.peak_z < SPIKE_Z / 2 and episode.peak_spread < local.SPREAD_Z
    assert episode.peak_fragments >= 11 and episode.by_fragments
    assert "separate small patches of change at once" in event.description


def test_fragments_are_not_explained_by_the_traffic_driving_through():
    """The same burst of fragments while a car the tracker follows for seconds drives through and makes
    most of the changed area (debris falling on a busy road): the car's area does not explain pieces
    that are each too small to be it; still SUDDEN_MOTION."""
    seen = _fragments_burst([12, 14, 11])
    car = Track(1)
    for k in range(150):  # 5 s to 20 s, 20 x 20 px, driving steadily left to right
        x = 5.0 + 0.8 * k
        car.rows.append([(50 + k) / 10, x, 50.0, 20.0, 20.0, x, 50.0, 20.0, 20.0, 0.6 * 400.0, 0.0, 1.0, 0.0])
    car.matched_frames = 150
    car.finish()
    seen.tracks = [car]
    pixels = seen.size[0] * seen.size[1]
    assert local.EXPLAINED_SHARE * float(seen.series.area[100:103].max()) * pixels <= 0.6 * 400.0
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert [e.event_type for e in analysis.events] == ["SUDDEN_MOTION"]


def _followed(
    seen: Observation, box, shares: dict[int, tuple[float, float]], first=50, last=250, track_id=1
) -> Track:
    """A track followed in every pair from `first` to `last` at `box`; at the pairs in `shares`, (inside,
    attached) shares of the pair's changed pixels: inside its region, and outside it in the patches of
    change that touch it (`core.tracks.ATTACHED`)."""
    pixels = seen.size[0] * seen.size[1]
    track = Track(track_id)
    for k in range(first, last + 1):
        changed = float(seen.series.area[k]) * pixels
        inside, attached = shares.get(k, (0.0, 0.0))
        row = [float(seen.series.after[k]), *box, *box, inside * changed, 0.0, 1.0, attached * changed]
        track.rows.append(row)
    track.matched_frames = last - first + 1
    track.finish()
    return track


def test_a_body_close_to_the_camera_explains_its_change_outside_its_region():
    """Someone walking close to the camera across a room that is empty most of the time: 1.5 s of
    motion far above the video's usual, 40 % of it inside the region the background model sees (the
    head against the wall) and the rest in the same patch of change (the body over a floor of its
    brightness, and where it just left): the motion of a followed object, no MOTION_BURST."""
    seen = synthetic_series([(100, 15, 0.6)])
    seen.tracks = [_followed(seen, (40.0, 20.0, 30.0, 60.0), dict.fromkeys(range(95, 120), (0.4, 0.5)))]
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert analysis.events == [] and analysis.explained == 1


@pytest.mark.parametrize(
    ("piece", "raised"), [((60.0, 25.0, 18.0, 40.0), []), ((60.0, 25.0, 6.0, 6.0), ["MOTION_BURST"])]
)
def test_a_large_piece_a_followed_body_breaks_into_is_that_body(piece, raised):
    """Someone close to the camera, followed for seconds, turns: 1.5 s of motion far above the video's
    usual, the first half inside their region; then the region breaks up and a new track, a large piece
    of it (its first box inside the body's, a third of it), holds the motion for 0.7 s. A piece of the
    followed body, followed as long as it: its motion, no event. A piece a fortieth of the body (debris
    thrown off it) is no part of it: the burst stays."""
    seen = synthetic_series([(100, 15, 0.6)])
    body = _followed(seen, (40.0, 20.0, 40.0, 60.0), dict.fromkeys(range(95, 108), (0.8, 0.0)))
    pieces = _followed(seen, piece, dict.fromkeys(range(108, 116), (0.8, 0.0)), 108, 115, track_id=2)
    seen.tracks = [body, pieces]
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert [e.event_type for e in analysis.events] == raised


def test_pieces_thrown_off_a_followed_car_at_the_peak_stay_sudden_motion():
    """A car followed for seconds whose patch of change touches the pieces thrown off it: over the
    episode most of the change is in the car's patches, but at the peak, the pieces flying, it is not."""
    seen = synthetic_series([(100, 3, 0.5), (101, 1, 0.8)])
    shares = {100: (0.3, 0.6), 101: (0.1, 0.1), 102: (0.3, 0.6)}
    seen.tracks = [_followed(seen, (40.0, 40.0, 20.0, 20.0), shares)]
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert [e.event_type for e in analysis.events] == ["SUDDEN_MOTION"]


def test_a_car_in_view_from_the_start_is_followed_since_tracking_began():
    """A car already driving through when the video starts: the background model learns the first
    second (WARM_UP_SEC) and the tracker follows the car from the first frame after it, 0.3 s before
    its motion peaks. It was not made by a jolt at the peak (no track could begin earlier): its motion,
    no event."""
    seen = synthetic_series([(5, 13, 0.4), (12, 2, 0.6)])  # 0.6-1.8 s, peaking at 1.3 s
    first = int(np.searchsorted(seen.series.after, seen.times[0] + WARM_UP_SEC))
    seen.tracks = [
        _followed(seen, (40.0, 40.0, 30.0, 20.0), dict.fromkeys(range(first, 30), (0.4, 0.5)), first)
    ]
    [episode] = [e for e in score_motion(seen.series).episodes if e.flagged]
    assert seen.tracks[0].data[0, 0] > episode.peak_time - local.EXPLAINED_BEFORE_PEAK_SEC
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert analysis.events == [] and analysis.explained == 1


@pytest.mark.parametrize(
    ("box", "raised"), [((0.0, 0.0, 30.0, 40.0), []), ((60.0, 40.0, 30.0, 40.0), ["SUDDEN_MOTION"])]
)
def test_a_region_born_at_the_picture_edge_at_the_peak_came_into_view(box, raised):
    """A hand reaching in close to the camera: its region begins at the picture's edge 0.1 s before the
    motion peaks, and holds most of the change from then on. It came into view (no region a jolt made
    inside the view): its motion, no event. The same region born inside the view at the peak (two
    crashing cars part and merge anew) is still the jolt's."""
    seen = synthetic_series([(100, 8, 0.5), (103, 1, 0.8)])
    seen.tracks = [_followed(seen, box, dict.fromkeys(range(102, 108), (0.4, 0.5)), first=102, last=140)]
    analysis = analyse_observation(seen, 30.0, 1.5, language="en")
    assert [e.event_type for e in analysis.events] == raised


def test_fragments_are_not_explained_by_one_body_running_nearby():
    """The same burst of fragments while a typed event of one body (someone running past) is raised
    a moment later: many pieces, each far smaller than a person, are not that runner's motion; an
    event of several (a fight) near it still takes it as its own."""
    analysis = analyse_observation(_fragments_burst([12, 14, 11]), 30.0, 1.5, language="en")
    [episode] = [e for e in analysis.report.episodes if e.flagged]
    assert episode.by_fragments
    runner = Finding("RUNNING", episode.end + 0.3, episode.end + 1.0, episode.end + 0.5, [7], 1.2)
    fight = Finding("FIGHT", episode.end + 0.3, episode.end + 2.0, episode.end + 0.5, [7, 8], 1.2)
    seen = analysis.report.series
    assert not local._explained(episode, analysis.report, [], {}, [runner], seen.size)
    assert local._explained(episode, analysis.report, [], {}, [fight], seen.size)


def test_a_short_spike_ten_deviations_high_is_sudden_motion_one_of_eight_is_not():
    """Where the flagging threshold lies: a short jolt (a piece flying off a vehicle, one frame pair
    ten robust deviations above the video's unusual motion, its neighbours a little) is a
    SUDDEN_MOTION; two pairs at about eight deviations are not (noise of busy traffic reaches that)."""
    jolt = analyse_observation(
        synthetic_series([(50, 1, 0.05), (51, 1, 0.28), (52, 1, 0.05)]), 30.0, 1.5, language="en"
    )
    assert [e.event_type for e in jolt.events] == ["SUDDEN_MOTION"]
    assert 9.5 <= jolt.report.episodes[0].peak_z <= 10.5
    ordinary = analyse_observation(synthetic_series([(50, 2, 0.24)]), 30.0, 1.5, language="en")
    assert ordinary.events == [] and 8.0 <= ordinary.report.episodes[0].peak_z <= 8.5


def test_fragments_in_a_single_pair_are_no_event():
    """As many fragments in one pair only, between ordinary ones (a keyframe's specks, a flicker): nothing."""
    analysis = analyse_observation(_fragments_burst([2, 14, 1]), 30.0, 1.5, language="en")
    assert analysis.events == []


def test_confidence_grows_with_how_far_it_stands_out():
    analysis = analyse_observation(
        synthetic_series([(50, 3, 0.35), (150, 3, 0.5), (250, 3, 1.0)]), 30.0, 1.5, language="en"
    )
    assert len(analysis.events) == 3
    peaks = [e.peak_z for e in analysis.report.episodes if e.flagged]
    assert peaks == sorted(peaks) and peaks[0] >= SPIKE_Z
    confidences = [e.confidence for e in analysis.events]
    assert confidences == sorted(confidences) and len(set(confidences)) == 3
    assert all(0.5 <= c <= 0.99 for c in confidences)


def test_an_empty_series_gives_calm_windows():
    empty = MotionSeries(np.zeros(0), np.zeros(0), np.zeros(0, np.float32), np.zeros((0, 48), np.float32))
    seen = Observation(empty, [], np.array([0.0, 1.0, 2.0, 2.9]), (160, 120))
    analysis = analyse_observation(seen, 3.0, 1.5, language="en")
    assert analysis.events == [] and [w.score for w in analysis.windows] == [0.0, 0.0]


def test_windows_follow_the_frames_not_the_claimed_duration():
    """Three frames days apart (issue 13): three windows, not hundreds of thousands."""
    empty = MotionSeries(np.zeros(0), np.zeros(0), np.zeros(0, np.float32), np.zeros((0, 48), np.float32))
    seen = Observation(empty, [], np.array([0.0, 300000.0, 600000.0]), (160, 120))
    analysis = analyse_observation(seen, 600001.0, 1.5, language="en")
    assert [w.start_time for w in analysis.windows] == [0.0, 300000.0, 600000.0]
    assert [w.window_index for w in analysis.windows] == [0, 1, 2]


def test_a_file_whose_timestamps_jump_by_days_is_analysed_within_bounds(tmp_path, settings):
    gap = tmp_path / "gap.mkv"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=1",
            "-frames:v",
            "3",
            "-vf",
            "setpts=N*300000/TB",
            "-fps_mode",
            "passthrough",
            str(gap),
        ],
        check=True,
    )
    result, windows, _ = analyse(gap, settings)
    assert len(windows) <= 3, len(windows)
    assert result["has_event"] is False


def test_a_jolt_just_before_a_vehicle_stops_is_not_absorbed_by_the_stop(tmp_path):
    """A crash whose cars then stand still: the stop (STOPPED_VEHICLE, a state that begins after the
    jolt) must not count as the explanation of the jolt, which would hide the crash's own moment."""
    from core.engines import local
    from core.video import probe

    clip = make_clip(tmp_path / "crash.mp4", seconds=12, events=[ScriptedEvent(5.0, 6.0, "collision")])
    info = probe(clip)
    seen = local.observe(clip, fps=local.analysis_fps(10, info.fps))
    events = analyse_observation(seen, info.duration, 1.5, language="en").events
    assert any(e.start_time < 6.0 and e.end_time > 5.0 for e in events), [
        (e.event_type, e.start_time, e.end_time) for e in events
    ]


def test_a_person_lying_still_after_a_fall_is_no_stopped_vehicle(tmp_path):
    """The fallen body's box turned from tall to wide as it stopped: a vehicle keeps its shape when it
    stops, so this is the FALL it is, not a STOPPED_VEHICLE as well."""
    from core.engines import local
    from core.video import probe

    clip = make_clip(tmp_path / "fall.mp4", seconds=12, events=[ScriptedEvent(5.0, 6.0, "fall")])
    info = probe(clip)
    seen = local.observe(clip, fps=local.analysis_fps(10, info.fps))
    found = [
        (e.event_type, e.start_time, e.end_time)
        for e in analyse_observation(seen, info.duration, 1.5, language="en").events
    ]
    assert any(kind == "FALL" for kind, _, _ in found), found
    assert not any(kind == "STOPPED_VEHICLE" for kind, _, _ in found), found


@pytest.mark.parametrize("box", [(1, 63, 159, 31), (0.5, 0.5, 159.5, 119.5), (3, 7, 157, 113)])
def test_a_box_reaching_the_frames_edge_stays_inside_it_once_normalised(box):
    """Rounding the left edge up and the width up must not push a full-width box past the edge (an
    event the database refuses would fail the whole analysis)."""
    normalised = local._normalised(box, (160, 120))
    assert normalised is not None
    assert normalised.x + normalised.w <= 1 + 1e-9 and normalised.y + normalised.h <= 1 + 1e-9


# --- a moving camera (dashcam, body camera, hand-held): the engine assumes a fixed one ---------------


def _camera_clip(path, scene: str, motion):
    """12 s of a generated scene with a collision at 6.0-7.5 s, seen by a camera that follows `motion`."""
    size, fps = (320, 240), 25.0
    frames = render_frames(
        seconds=12.0,
        fps=fps,
        size=(480, 360),
        events=[ScriptedEvent(6.0, 7.5, "collision")],
        seed=11,
        **SCENES[scene],
    )
    return write_clip(
        path, seen_by_moving_camera(frames, fps=fps, size=size, motion=motion), fps=fps, size=size
    )


def test_the_cli_warns_that_it_cannot_judge_a_moving_camera(tmp_path, settings, capsys, monkeypatch):
    """A command-line user sees no events on dashcam footage: the same warning as the page, on stderr, so
    `--json`'s stdout stays the specification's JSON."""
    clip = _camera_clip(tmp_path / "forward.mp4", "street", lambda t: (0.0, 0.0, 1.0 + 0.05 * t))
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("ANALYSIS_LANGUAGE", "en")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli_main(["analyze", "--engine", "local", "--json", "--quiet", str(clip)]) == 0
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert json.loads(out)["events"] == []
    assert err.startswith("warning: The camera moved during") and "cannot judge" in err, err


def _camera_logs(settings, incident_id):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return [r for r in repository.logs_of(session, incident_id) if r.step == "camera"]


def test_a_camera_moving_forward_is_measured_and_its_events_are_withheld(tmp_path, settings):
    # a dashcam's view: the scene grows 5 % a second; the motion it makes raised a SUDDEN_MOTION
    clip = _camera_clip(tmp_path / "forward.mp4", "street", lambda t: (0.0, 0.0, 1.0 + 0.05 * t))
    result, _, events = analyse(clip, settings)
    assert events == []
    (line,) = _camera_logs(settings, result["incident_id"])
    assert line.level == "WARNING" and line.words["key"] == "log.local_camera_moving"
    values = local.camera_caveat_of([line])
    assert values["share"] >= 0.8 and values["withheld"] >= 1
    assert "cannot judge" in text(
        "en", "summary.local_camera", share=values["share"], withheld=values["withheld"]
    )


def test_a_fixed_busy_scene_has_no_camera_caveat_and_keeps_its_events(tmp_path, settings):
    clip = _camera_clip(tmp_path / "fixed.mp4", "busy", lambda t: (0.0, 0.0, 1.0))
    result, _, events = analyse(clip, settings)
    assert events, "the fixed scene's events are kept"
    assert _camera_logs(settings, result["incident_id"]) == []


def test_a_pan_is_told_from_noise_by_the_median_around_each_pair():
    pairs = 100
    times = np.arange(pairs + 1) / 10.0
    shift = np.full(pairs, 0.05)
    shift[40:90] = 0.5  # a pan of 5 s ...
    shift[10] = 3.0  # ... and one jerky pair (a keyframe's jump), no pan
    series = MotionSeries(
        before=times[:-1], after=times[1:], area=np.zeros(pairs), cells=np.zeros((pairs, 48)), camera=shift
    )
    moved = series.camera_moved()
    assert not moved[:38].any() and moved[42:88].all() and not moved[92:].any()
    assert local.camera_moving_share(series.camera_moved()) == pytest.approx(0.5, abs=0.03)
