"""The pieces of the VLM engine that need no server: answer parsing and validation, frame-number
repair, times from frames, image sizes and their token cost, pass layout, keyframe choice."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from core.engines.vlm import encode_frame, image_size_for, pass_plans, qwen_image_tokens
from core.keyframes import FrameScore, choose_keyframes, frames_at, select_keyframes
from core.llm import extract_json
from core.pipeline import frame_span, repair_frame_range
from core.prompts import (
    OTHER,
    UnusableAnswer,
    chat_body,
    event_types,
    normalize_event_type,
    parse_domain_answer,
    parse_window_answer,
    window_schema,
    window_system_prompt,
)
from tests.fake_vlm_server import qwen_smart_resize

ANSWER = {
    "description": "two cars meet at a crossing",
    "events": [
        {
            "event_type": "COLLISION",
            "first_frame": 2,
            "last_frame": 4,
            "confidence": 0.8,
            "description": "crash",
        }
    ],
}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(ANSWER),
        f"Sure, here is what I see:\n{json.dumps(ANSWER)}\nHope this helps.",
        f"```json\n{json.dumps(ANSWER, indent=2)}\n```",
        f"Answer:\n```\n{json.dumps(ANSWER)}\n```",
    ],
)
def test_the_answer_is_found_in_prose_and_code_fences(text):
    assert extract_json(text, "events") == ANSWER


def test_a_truncated_answer_is_unusable_even_when_it_holds_a_complete_inner_object():
    whole = json.dumps({**ANSWER, "events": [*ANSWER["events"], *ANSWER["events"]]})
    truncated = whole[: whole.rindex("{") + 5]
    assert extract_json(truncated, "events") is None
    with pytest.raises(UnusableAnswer, match="not valid JSON"):
        parse_window_answer(truncated)


def test_schema_violations_keep_the_valid_events_and_name_the_rest():
    answer = parse_window_answer(
        json.dumps(
            {
                "description": "a street",
                "events": [
                    ANSWER["events"][0],
                    {"event_type": "NEAR_MISS", "first_frame": 1, "last_frame": 2, "confidence": 1.7},
                    {"first_frame": 1, "last_frame": 2, "confidence": 0.5},
                    "not an event",
                ],
            }
        )
    )
    assert [e.event_type for e in answer.events] == ["COLLISION"]
    assert len(answer.problems) == 3
    assert "confidence" in answer.problems[0] and "event_type" in answer.problems[1]


def test_a_description_that_is_not_text_and_events_that_are_not_a_list_are_reported():
    answer = parse_window_answer('{"description": 3, "events": {"a": 1}}')
    assert answer.description == "" and answer.events == []
    assert len(answer.problems) == 2


def test_domain_answers_are_validated():
    assert parse_domain_answer('{"domain": " Traffic ", "reason": "cars"}').domain == "traffic"
    with pytest.raises(UnusableAnswer, match="no known domain"):
        parse_domain_answer('{"domain": "kitchen", "reason": "pots"}')


def test_event_types_are_normalised_and_unknown_ones_become_other():
    assert normalize_event_type("near miss", "traffic") == ("NEAR_MISS", False)
    assert normalize_event_type("pedestrian-hit", "traffic") == ("PEDESTRIAN_HIT", False)
    assert normalize_event_type("FIGHT", "traffic") == (OTHER, True)
    assert normalize_event_type("FIGHT", None) == ("FIGHT", False)  # no domain: every taxonomy
    assert event_types("violence")[-1] == OTHER


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (2, 4, (2, 4, None)),
        (4, 2, (2, 4, "first and last frame swapped")),
        (0, 7, (1, 5, "frames 0..7 clamped to 1..5")),
        (6, 9, None),
        (-3, 0, None),
    ],
)
def test_frame_numbers_are_repaired_or_dropped(first, last, expected):
    assert repair_frame_range(first, last, 5) == expected


def test_times_are_the_frames_timestamps_widened_by_half_the_local_step():
    times = [3.0, 3.4, 3.72, 4.0, 4.4]
    assert frame_span(times, 2, 4, fallback_step=0.1) == pytest.approx((3.2, 4.2))
    assert frame_span(times, 1, 1, fallback_step=0.1) == pytest.approx((2.8, 3.2))
    assert frame_span([7.0], 1, 1, fallback_step=0.1) == pytest.approx((6.95, 7.05))


def test_the_request_follows_the_wire_protocol():
    body = chat_body(
        "m",
        window_system_prompt("traffic", 1, "en"),
        [(0.0, "AAA"), (12.4, "BBB")],
        "sigma_window",
        window_schema(2),
        800,
    )
    parts = body["messages"][1]["content"]
    assert parts[0] == {"type": "text", "text": "Frame 1, t=0.00 s"}
    assert parts[3] == {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,BBB"}}
    assert parts[2]["text"] == "Frame 2, t=12.40 s"
    assert body["temperature"] == 0 and body["response_format"]["json_schema"]["name"] == "sigma_window"
    frame = body["response_format"]["json_schema"]["schema"]["properties"]["events"]["items"]["properties"]
    assert frame["first_frame"]["maximum"] == 2
    for name in ("COLLISION", "NEAR_MISS", "PEDESTRIAN_HIT", "WRONG_WAY", "RED_LIGHT", OTHER):
        assert f"- {name}:" in body["messages"][0]["content"]


@pytest.mark.parametrize(
    "size", [(1920, 1080), (1280, 720), (640, 480), (320, 240), (1080, 1920), (1000, 1000)]
)
def test_frames_stay_within_the_side_and_token_budget(size):
    width, height = image_size_for(*size, 448)
    assert max(width, height) <= 448 and width % 28 == 0 and height % 28 == 0
    assert abs(width / height - size[0] / size[1]) / (size[0] / size[1]) < 0.15
    # Qwen2.5-VL keeps a 28-multiple image as it is: the server's count equals ours.
    assert qwen_smart_resize(height, width) == (height, width)
    assert qwen_image_tokens(width, height) == (height // 28) * (width // 28) + 2
    assert 5 * qwen_image_tokens(width, height) <= 1000  # a pass-1 window at the defaults


def test_qwen_token_count_matches_its_smart_resize_for_any_size():
    for width, height in [(333, 211), (4000, 3000), (30, 30), (1919, 1081)]:
        h, w = qwen_smart_resize(height, width)
        assert qwen_image_tokens(width, height) == (h // 28) * (w // 28) + 2


def test_encoded_frames_have_the_requested_size():
    import base64

    import cv2

    image = np.zeros((480, 640, 3), np.uint8)
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(encode_frame(image, (448, 336))), np.uint8), 1)
    assert decoded.shape == (336, 448, 3)


def test_pass_2_sends_twice_the_frames_in_half_overlapping_windows():
    first, second = pass_plans(1.5, 10.0, 5)
    assert (first.window_sec, first.overlap, first.frames_per_window) == (1.5, 0.0, 5)
    assert (second.window_sec, second.overlap, second.frames_per_window) == (1.0, 0.5, 10)
    assert second.window_count(6.0) == 11
    assert pass_plans(1.5, 2.0, 5)[1].window_sec == 1.5  # never longer than pass 1's windows


def _scores(motion, scene=None):
    scene = scene or [0.05] * len(motion)
    return [FrameScore(i, i * 0.1, m, s) for i, (m, s) in enumerate(zip(motion, scene, strict=True))]


def test_keyframes_take_scene_changes_then_motion_peaks_then_context():
    motion = [1.0] * 100
    motion[30], motion[70] = 9.0, 6.0
    scene = [0.05] * 100
    scene[50] = 0.8
    chosen = choose_keyframes(_scores(motion, scene), 6, min_gap=0.5)
    reasons = {score.index: reason for score, reason in chosen}
    assert reasons[50] == "scene change" and reasons[30] == reasons[70] == "motion peak"
    assert len(chosen) == 6 and [s.time for s, _ in chosen] == sorted(s.time for s, _ in chosen)
    times = [s.time for s, _ in chosen]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.5


def test_keyframes_never_exceed_the_limit():
    rng = np.random.default_rng(1)
    chosen = choose_keyframes(_scores(list(rng.random(300) * 5)), 16, min_gap=0.2)
    assert len(chosen) == 16


def test_keyframes_and_frames_at_read_the_video(clips):
    keyframes = select_keyframes(clips["collision"], duration=8.0, target_fps=5.0, max_frames=8)
    assert 1 <= len(keyframes) <= 8
    # The red objects bursting in change the colours: chosen for that, not by chance.
    assert any(4.0 <= k.frame.time <= 5.2 for k in keyframes if k.reason == "scene change")
    frames = frames_at(clips["collision"], [0.5, 2.5, 7.9, 99.0])
    assert [round(f.time, 1) for f in frames] == [0.5, 2.5, 7.9]
