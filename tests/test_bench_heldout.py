"""The held-out bench's pooled figures: the interval and the verdict it gives a kind."""

from collections import Counter

import pytest

from bench import heldout_scenes
from bench.bench_local_heldout import pooled_section, wilson_interval


@pytest.mark.parametrize(
    ("found", "clips", "low", "high"),
    [(0, 8, 0.0, 0.3244), (8, 8, 0.6756, 1.0), (5, 10, 0.2366, 0.7634), (45, 48, 0.8316, 0.9785)],
)
def test_wilson_interval_matches_the_textbook_values(found, clips, low, high):
    assert wilson_interval(found, clips) == pytest.approx((low, high), abs=1e-4)


def _tally(found_per_kind: dict[str, int], per_kind: int = 8) -> dict:
    rows = {
        kind: {"clips": per_kind, "found": found_per_kind.get(kind, 0)}
        for kind in heldout_scenes.KINDS
        if heldout_scenes.EXPECTED[kind]
    }
    return {
        "rows": rows,
        "raised_by_type": Counter({"COLLISION": 4, "FALL": 1}),
        "right_by_type": Counter({"COLLISION": 1}),
        "false_alarms": 3,
        "minutes": 2.0,
        "clips": per_kind * len(heldout_scenes.KINDS),
    }


def test_pooled_section_adds_the_sets_and_says_when_the_goal_is_out_of_reach():
    kinds = [kind for kind in heldout_scenes.KINDS if heldout_scenes.EXPECTED[kind]]
    first, second = kinds[0], kinds[1]
    text = pooled_section({1: _tally({first: 8, second: 1}), 2: _tally({first: 7, second: 2})})
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| 16 | 15 (94%) |" in rows[first] and "88%–100%" in rows[first]
    assert rows[first].endswith("| met |")
    assert "| 16 | 3 (19%) |" in rows[second] and "12%–25%" in rows[second]
    assert rows[second].endswith("| not met: 90% is above the interval |")
    assert "6 in 4.0 min (1.50 per minute)" in text
    assert "| COLLISION | 8 | 2 | 25% (7%–59%) |" in text and "| FALL | 2 | 0 | 0% (0%–66%) |" in text
