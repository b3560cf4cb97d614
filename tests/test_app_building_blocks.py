"""The dashboard's pure building blocks: timeline figure, run comparison, display filters and time format
(the catalogues are tests/test_i18n.py's)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from core.config import get_settings
from core.schema import Event, ReviewStatus
from core.timefmt import clock
from dashboard.compare import compare_runs
from dashboard.filters import DisplayFilters
from dashboard.incident_results import sort_events
from dashboard.tables import ROW_CLICK, picked_row
from dashboard.timeline import (
    FAILED_COLOUR,
    REVIEW_SYMBOLS,
    SEVERITY_SIZES,
    SKIPPED_HEIGHT,
    UNIQUE_OUTLINE,
    OtherRun,
    build_timeline,
    tick_positions,
    type_colours,
)

ROOT = Path(__file__).resolve().parents[1]


def _event(id_: int, kind: str, start: float, end: float, confidence: float = 0.8, **extra) -> Event:
    return Event(id=id_, event_type=kind, start_time=start, end_time=end, confidence=confidence, **extra)


WINDOWS = pd.DataFrame(
    {
        "window_index": [0, 1, 2, 3, 4],
        "start_time": [0.0, 1.5, 3.0, 1.5, 4.5],
        "end_time": [1.5, 3.0, 4.5, 2.25, 6.0],
        "description": ["calm <street>", "a car swerves", "", "second look", "skipped: still"],
        "score": [0.1, 0.9, 0.0, 0.7, 0.0],
        "pass_no": [1, 1, 1, 2, 1],
        "failed": [False, False, True, False, False],
        "skipped": [False, False, False, False, True],
    }
)


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("UI_LANGUAGE", "en")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_timeline_markers_carry_the_seek_target_and_show_review_and_uniqueness(english):
    events = [
        _event(1, "COLLISION", 1.6, 2.9, review_status=ReviewStatus.CONFIRMED, severity=2),
        _event(2, "COLLISION", 3.2, 3.4, review_status=ReviewStatus.DISMISSED, severity=0),
        _event(3, "FIGHT", 0.2, 0.9),
    ]
    other = [_event(9, "SUDDEN_MOTION", 1.5, 2.0)]
    comparison = compare_runs(events, other)
    figure = build_timeline(
        WINDOWS, events, duration=4.5, selected_event_id=2,
        other=OtherRun("#7", other), comparison=comparison, revision=5,
    )  # fmt: skip
    traces = {trace.name: trace for trace in figure.data}
    collisions = traces["Collision"]
    assert [list(c) for c in collisions.customdata] == [[1, 1.6], [2, 3.2]]
    assert list(collisions.marker.symbol) == [REVIEW_SYMBOLS["confirmed"], REVIEW_SYMBOLS["dismissed"]]
    assert list(collisions.error_x.array) == pytest.approx([1.3, 0.2])
    assert list(collisions.marker.size) == [SEVERITY_SIZES[2], SEVERITY_SIZES[0]]  # larger: more dangerous
    assert SEVERITY_SIZES[0] < SEVERITY_SIZES[None] < SEVERITY_SIZES[2]
    assert "severity: danger" in collisions.hovertext[0]
    assert list(collisions.marker.line.color) == ["#ffffff", UNIQUE_OUTLINE]  # event 2 overlaps nothing in #7
    assert list(traces["Fight"].marker.line.color) == [UNIQUE_OUTLINE]
    assert list(traces["Sudden motion"].y) == ["#7 · Sudden motion"]
    assert [list(c) for c in traces["Selected"].customdata] == [[2, 3.2]]
    assert list(traces["Windows · pass 1"].x) == [0.0, 1.5] and traces["Windows · pass 1"].offset == 0
    assert len(traces["Windows · pass 2"].x) == 1
    still = traces["Still, not sent"]  # drawn, low and hatched, never taken for a score
    assert list(still.x) == [4.5] and still.marker.pattern.shape == "/" and list(still.y) == [SKIPPED_HEIGHT]
    failed = traces["Failed windows"]
    assert list(failed.x) == [3.0] and failed.marker.color == FAILED_COLOUR
    assert "&lt;street&gt;" in traces["Windows · pass 1"].hovertext[0]  # model text is escaped
    assert figure.layout.meta == {"revision": 5}


def test_the_score_axis_is_fixed_to_0_1_so_low_scores_look_low(english):
    quiet = WINDOWS.assign(score=[0.05, 0.08, 0.0, 0.06, 0.0])
    figure = build_timeline(quiet, [], duration=6.0)
    low, high = figure.layout.yaxis2.range
    assert low == 0 and 1.0 <= high < 1.1


def test_a_click_anywhere_on_a_row_picks_it():
    assert picked_row({"selection": {"rows": [2], "columns": [], "cells": []}}) == 2  # its checkbox
    assert picked_row({"selection": {"rows": [], "columns": [], "cells": [(4, "type")]}}) == 4  # any cell
    assert picked_row({"selection": {"rows": [], "columns": [], "cells": []}}) is None
    assert picked_row(None) is None
    assert {"single-row", "single-cell"} <= set(ROW_CLICK)


def test_comparison_matches_overlapping_spans_whatever_their_type():
    current = [_event(1, "COLLISION", 10.0, 12.0), _event(2, "FIGHT", 30.0, 31.0)]
    other = [_event(5, "SUDDEN_MOTION", 12.1, 13.0), _event(6, "FALL", 50.0, 50.5)]
    result = compare_runs(current, other)
    assert result.only_in_current == {2} and result.only_in_other == {6}


def test_display_filters_keep_what_passes_every_threshold():
    events = [
        _event(1, "COLLISION", 0.0, 2.0, 0.9),
        _event(2, "FIGHT", 3.0, 3.2, 0.9),
        _event(3, "FALL", 5.0, 7.0, 0.3),
        _event(4, "FALL", 8.0, 9.0, 0.95, review_status=ReviewStatus.DISMISSED),
    ]
    assert not DisplayFilters().active
    assert [e.id for e in DisplayFilters(min_confidence=0.5).apply(events)] == [1, 2, 4]
    assert [e.id for e in DisplayFilters(min_duration=1.0).apply(events)] == [1, 3, 4]
    assert [e.id for e in DisplayFilters(hidden_types=frozenset({"FALL"})).apply(events)] == [1, 2]
    assert [e.id for e in DisplayFilters(hide_dismissed=True).apply(events)] == [1, 2, 3]
    rated = [_event(5, "FALL", 1.0, 2.0, severity=2), _event(6, "FALL", 3.0, 4.0, severity=1), *events[:1]]
    assert [e.id for e in DisplayFilters(min_severity=1).apply(rated)] == [5, 6]  # not rated: only at "any"
    assert [e.id for e in DisplayFilters(min_severity=2).apply(rated)] == [5]
    assert [e.id for e in sort_events(rated, "severity")] == [5, 6, 1]
    assert [e.id for e in sort_events(rated, "time")] == [1, 5, 6]


def test_times_and_ticks_read_well():
    assert clock(4.0) == "0:04.00"
    assert clock(3725.5, decimals=1) == "1:02:05.5"
    assert clock(59.999) == "1:00.00"
    assert clock(None) == clock(float("nan")) == "—" and clock(-3) == "0:00.00"
    assert clock(30, decimals=0) == "0:30" and clock(7.5, decimals=1) == "0:07.5"
    assert clock(3725.9996, decimals=3, full=True) == "01:02:06.000"  # WebVTT's form


def test_one_time_format_in_the_dashboard_the_report_and_the_captions():
    """core.timefmt.clock is the only clock: no module of core/ or dashboard/ formats times itself."""
    from core.export import to_vtt

    vtt = to_vtt([_event(1, "FALL", 59.9996, 61.25)])
    assert "00:01:00.000 --> 00:01:01.250" in vtt
    own = [
        path.relative_to(ROOT).as_posix()
        for folder in ("core", "dashboard")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "timefmt.py"
        and re.search(r"def \w*(clock|time_label|timestamp)\w*\(", path.read_text())
    ]
    assert own == []
    assert tick_positions(0, 3600)[:3] == [0, 600, 1200]
    assert tick_positions(0, 12) == [0, 2, 4, 6, 8, 10, 12]
    assert tick_positions(13.4, 40.4) == [15, 20, 25, 30, 35, 40]


def test_type_colours_are_stable_and_distinct():
    first = type_colours(["COLLISION", "FIGHT", "FALL"])
    assert first == type_colours(["FALL", "COLLISION", "FIGHT"])
    assert len(set(first.values())) == 3


def _parameter_inputs_app():
    from core.schema import AnalysisParams
    from dashboard.sidebar import analysis_inputs

    analysis_inputs(
        AnalysisParams(window_sec=1.5, target_fps=10, frames_per_window=5, max_highlights=10), "p"
    )


def test_parameter_inputs_reach_the_limits_the_analysis_accepts_and_no_further(english):
    """The sidebar's bounds come from AnalysisParams: each input's least and greatest value validate,
    and one step beyond either is refused."""
    from pydantic import ValidationError
    from streamlit.testing.v1 import AppTest

    from core.schema import AnalysisParams

    app = AppTest.from_function(_parameter_inputs_app, default_timeout=30)
    app.run()
    assert not app.exception
    base = {"window_sec": 1.5, "target_fps": 10, "frames_per_window": 5, "max_highlights": 10}
    fields = ("window_sec", "target_fps", "frames_per_window", "max_highlights")
    for name, widget in zip(fields, app.number_input, strict=True):
        least, greatest, step = widget.min, widget.max, widget.step
        assert least is not None and greatest is not None, name
        for value in (least, greatest):
            AnalysisParams(**{**base, name: value})
        for value in (least - step, greatest + step):
            with pytest.raises(ValidationError):
                AnalysisParams(**{**base, name: value})
