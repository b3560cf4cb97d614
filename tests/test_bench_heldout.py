"""The held-out bench's pooled figures (the interval and the verdict it gives a kind) and how it gets the
real clips it cannot download."""

import subprocess
from collections import Counter

import pytest

from bench import bench_local_heldout as bench
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
        kind: {
            "clips": per_kind,
            "found": found_per_kind.get(kind, 0),
            "instead": Counter({"nothing": 1, "RUNNING": per_kind - found_per_kind.get(kind, 0) - 1}),
        }
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
    scripted = 2 * 8 * len(kinds)
    assert (
        f"no event of any type pointed at (nothing raised within ±1 s): {2 * len(kinds)} / {scripted}" in text
    )
    assert "| COLLISION | 8 | 2 | 25% (7%–59%) |" in text and "| FALL | 2 | 0 | 0% (0%–66%) |" in text


def test_a_github_clip_is_taken_from_a_snapshot_pinned_by_its_blob_id_and_other_bytes_count_as_missing(
    tmp_path, monkeypatch
):
    mirror = tmp_path / "mirror" / "someone+clips" / "repo"
    subprocess.run(["git", "init", "-q", "--bare", str(mirror)], check=True)
    blob = (
        subprocess.run(
            ["git", "-C", str(mirror), "hash-object", "-w", "--stdin"],
            input=b"pretend video bytes",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    assert bench.git_blob_id(b"pretend video bytes") == blob
    monkeypatch.setattr(bench, "OUT", tmp_path / "out")
    monkeypatch.setattr(bench, "GITHUB_MIRRORS", tmp_path / "mirror")

    taken = bench.github_clip("someone/clips", "data/cam.mp4", blob)
    assert taken.read_bytes() == b"pretend video bytes"
    assert bench.clip_label(taken) == "cam.mp4 (someone/clips)"

    taken.write_bytes(b"another version of the clip")
    assert not bench.github_clip("someone/clips", "data/cam.mp4", blob).exists()
    assert not bench.github_clip("someone/absent", "cam.mp4", blob).exists()
