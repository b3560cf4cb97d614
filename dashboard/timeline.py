"""The timeline figure (Plotly): windows along the video's time axis, events as clickable markers.

Top lane: one row per event type, a marker at each event's start with a bar to its end, coloured by
type, shaped by review (circle: not reviewed, diamond: confirmed, x: dismissed), sized by severity
(larger: more dangerous); a red outline marks an event that only one of two compared runs found.
Bottom: one bar per analysed window, its height the window's score, its colour the pass that produced
it; still windows pass 1 did not send are low hatched grey bars, failed windows red crosses.
Every event marker carries `customdata = [event_id, start_seconds]`; a window bar's x is its start.
The page turns a click on either into a seek.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.palette import FAILED_COLOUR, SKIPPED_COLOUR, pass_colour, type_colours
from core.schema import Event
from core.taxonomy_i18n import review_label, severity_label, type_label
from core.timefmt import clock
from dashboard.compare import RunComparison
from dashboard.i18n import described, lang, t

UNIQUE_OUTLINE = FAILED_COLOUR
SELECTED_COLOUR = "#111111"
REVIEW_SYMBOLS = {None: "circle", "confirmed": "diamond", "dismissed": "x"}
SEVERITY_SIZES = {None: 13, 0: 10, 1: 14, 2: 19}  # marker size: larger is more dangerous
SKIPPED_HEIGHT = 0.04  # score units: visible on the axis, never mistaken for a score
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
_HOVER_DESCRIPTION_CHARS = 160
_HOVER_BUDGET_CHARS = 120_000


@dataclass(frozen=True)
class OtherRun:
    """A second run drawn on the same timeline for comparison."""

    label: str
    events: list[Event]


def tick_positions(start: float, end: float, target: int = 10) -> list[float]:
    """Round times (every 1, 2, 5, 10, 15, 30 s, 1, 2, 5 min...) from `start` to `end`, about `target` of them."""
    step = next((s for s in _TICK_STEPS if (end - start) / s <= target), _TICK_STEPS[-1])
    first = math.ceil(start / step)
    return [i * step for i in range(first, math.floor(end / step) + 1)]


def hover_chars(window_count: int) -> int:
    """How much of each window's description its hover shows: all of a short video's, less of a long
    one's, so the figure sent on every rerun stays around a few hundred kilobytes."""
    return max(40, min(_HOVER_DESCRIPTION_CHARS, _HOVER_BUDGET_CHARS // max(window_count, 1)))


def _short(text: str, limit: int = _HOVER_DESCRIPTION_CHARS) -> str:
    text = " ".join(text.split())
    return html.escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _event_hover(event: Event, language: str, unique: bool, run_label: str | None) -> str:
    lines = [
        f"<b>{html.escape(type_label(event.event_type, language))}</b>"
        + (f" · {html.escape(run_label)}" if run_label else ""),
        f"{clock(event.start_time)} – {clock(event.end_time)} ({t('unit.seconds', value=f'{event.duration:.2f}')})",
        (
            f"{t('timeline.confidence')}: {event.confidence:.2f} · {t('timeline.pass')} {event.pass_no}"
            f" · {review_label(event.review_status, language)}"
        ),
        f"{t('timeline.severity')}: {severity_label(event.severity, language)}",
    ]
    if event.description:
        lines.append(_short(described(event.description)))
    if event.review_note:
        lines.append(f"<i>{_short(event.review_note, 100)}</i>")
    if unique:
        lines.append(f"<b>{t('timeline.only_in_this_run')}</b>")
    return "<br>".join(lines)


def _span(event: Event, **style: object) -> dict:
    """A shape over the windows panel (row 2) from the event's start to its end."""
    return {
        "type": "rect", "xref": "x2", "yref": "y2 domain", "y0": 0, "y1": 1, "layer": "below",
        "x0": event.start_time, "x1": max(event.end_time, event.start_time + 0.05), **style,
    }  # fmt: skip


def build_timeline(
    windows: pd.DataFrame,
    events: list[Event],
    *,
    duration: float,
    selected_event_id: int | None = None,
    other: OtherRun | None = None,
    comparison: RunComparison | None = None,
    view: tuple[float, float] | None = None,
    revision: int = 0,
    score_label: str | None = None,
) -> go.Figure:
    """The figure for one run (and optionally a second run's events); `revision` makes each seek a
    new figure so the chart's selection starts empty again and the same marker can be clicked twice.
    `view` is the span of the video shown (all of it by default); zooming in the chart itself lasts until
    the next seek, which redraws the chart. `score_label` names the windows' score (the local engine's
    is an anomaly score)."""
    language = lang()
    runs: list[tuple[str | None, list[Event]]] = [(None, events)]
    if other is not None:
        runs.append((other.label, other.events))
    colours = type_colours([e.event_type for _, run_events in runs for e in run_events])

    lanes: list[str] = []
    for run_label, run_events in runs:
        for code in sorted({e.event_type for e in run_events}, key=lambda c: type_label(c, language)):
            lane = (
                type_label(code, language)
                if run_label is None
                else f"{run_label} · {type_label(code, language)}"
            )
            if lane not in lanes:
                lanes.append(lane)
    lane_count = max(1, len(lanes))
    lane_height, windows_height = 26, 190
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[lane_count * lane_height + 30, windows_height],
    )

    shapes: list[dict] = []  # event spans shaded under the window bars, set at once (add_vrect is slow)
    for run_label, run_events in runs:
        by_type: dict[str, list[Event]] = {}
        for event in run_events:
            by_type.setdefault(event.event_type, []).append(event)
        for code, typed in sorted(by_type.items()):
            lane = (
                type_label(code, language)
                if run_label is None
                else f"{run_label} · {type_label(code, language)}"
            )
            unique = [comparison.is_unique(e.id) if comparison else False for e in typed]
            figure.add_trace(
                go.Scatter(
                    x=[e.start_time for e in typed],
                    y=[lane] * len(typed),
                    mode="markers",
                    name=type_label(code, language),
                    legendgroup=code,
                    showlegend=run_label is None or code not in {e.event_type for e in events},
                    marker={
                        "size": [SEVERITY_SIZES.get(e.severity, 13) for e in typed],
                        "color": colours[code],
                        "symbol": [REVIEW_SYMBOLS.get(e.review_status, "circle") for e in typed],
                        "opacity": [0.45 if e.review_status == "dismissed" else 1.0 for e in typed],
                        "line": {
                            "width": [3 if u else 1 for u in unique],
                            "color": [UNIQUE_OUTLINE if u else "#ffffff" for u in unique],
                        },
                    },
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [e.duration for e in typed],
                        "arrayminus": [0.0] * len(typed),
                        "thickness": 6,
                        "width": 0,
                        "color": colours[code],
                    },
                    customdata=[[e.id if e.id is not None else -1, e.start_time] for e in typed],
                    hovertext=[_event_hover(e, language, u, run_label) for e, u in zip(typed, unique)],
                    hoverinfo="text",
                    unselected={"marker": {"opacity": 1.0}},
                ),
                row=1,
                col=1,
            )
            if run_label is None:
                shapes += [
                    _span(event, fillcolor=colours[code], opacity=0.14, line={"width": 0}) for event in typed
                ]

    selected = next((e for _, run in runs for e in run if e.id == selected_event_id), None)
    if selected is not None:
        selected_run = next(label for label, run in runs if any(e.id == selected.id for e in run))
        lane = (
            type_label(selected.event_type, language)
            if selected_run is None
            else f"{selected_run} · {type_label(selected.event_type, language)}"
        )
        figure.add_trace(
            go.Scatter(
                x=[selected.start_time],
                y=[lane],
                mode="markers",
                name=t("timeline.selected"),
                showlegend=False,
                marker={"size": 26, "symbol": "circle-open", "color": SELECTED_COLOUR, "line": {"width": 3}},
                customdata=[[selected.id, selected.start_time]],
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
        shapes.append(
            _span(
                selected,
                fillcolor="rgba(0,0,0,0)",
                line={"color": SELECTED_COLOUR, "width": 1, "dash": "dot"},
            )
        )

    _add_windows(figure, windows, score_label or t("timeline.score"))
    figure.update_layout(shapes=shapes)

    start, end = view or (0.0, max(duration, 0.1))
    ticks = tick_positions(start, end)
    figure.update_xaxes(
        range=[start, end],
        tickvals=ticks,
        ticktext=[clock(tick, decimals=0) for tick in ticks],
        showgrid=True,
        gridcolor="rgba(128,128,128,0.15)",
    )
    figure.update_xaxes(title_text=t("timeline.time"), row=2, col=1)
    figure.update_yaxes(
        categoryorder="array",
        categoryarray=list(reversed(lanes)),
        range=[-0.7, lane_count - 0.3],
        fixedrange=True,
        row=1,
        col=1,
    )
    figure.update_yaxes(  # scores are 0..1: a fixed axis keeps a run of low scores looking low
        title_text=score_label or t("timeline.score"), fixedrange=True, range=[0, 1.02], row=2, col=1
    )
    figure.update_layout(
        height=lane_count * lane_height + windows_height + 140,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        barmode="overlay",
        bargap=0,
        hovermode="closest",
        clickmode="event+select",
        dragmode="zoom",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0, "title_text": ""},
        meta={"revision": revision},
        uirevision="timeline",
    )
    return figure


def _add_windows(figure: go.Figure, windows: pd.DataFrame, score_label: str) -> None:
    if windows.empty:
        return
    skipped = windows["skipped"].astype(bool)
    ok = windows[~windows["failed"].astype(bool) & ~skipped]
    limit = hover_chars(len(windows))
    for pass_no, group in ok.groupby("pass_no", sort=True):
        starts, ends = group["start_time"].to_numpy(), group["end_time"].to_numpy()
        figure.add_trace(
            go.Bar(
                x=starts,  # with offset 0 a bar spans [start, end] and a click reports its start
                offset=0,
                width=ends - starts,
                y=group["score"].to_numpy(),
                name=f"{t('timeline.windows')} · {t('timeline.pass')} {int(pass_no)}",
                marker={"color": pass_colour(int(pass_no)), "line": {"width": 0}},
                hovertext=[
                    f"{clock(s)} – {clock(e)}<br>{_short(described(str(text)), limit)}"
                    for s, e, text in zip(starts, ends, group["description"])
                ],
                hovertemplate=(
                    f"%{{hovertext}}<br>{score_label} %{{y:.2f}} · {t('timeline.pass')} {int(pass_no)}"
                    "<extra></extra>"
                ),
                unselected={"marker": {"opacity": 1.0}},
            ),
            row=2,
            col=1,
        )
    still = windows[skipped]
    if not still.empty:
        starts, ends = still["start_time"].to_numpy(), still["end_time"].to_numpy()
        figure.add_trace(
            go.Bar(
                x=starts,
                offset=0,
                width=ends - starts,
                y=[SKIPPED_HEIGHT] * len(still),
                name=t("timeline.skipped_windows"),
                marker={"color": SKIPPED_COLOUR, "line": {"width": 0}, "pattern": {"shape": "/"}},
                hovertext=[
                    f"{clock(s)} – {clock(e)}<br>{_short(str(text), limit)}"
                    for s, e, text in zip(starts, ends, still["description"])
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                unselected={"marker": {"opacity": 1.0}},
            ),
            row=2,
            col=1,
        )
    failed = windows[windows["failed"].astype(bool)]
    if not failed.empty:
        figure.add_trace(
            go.Scatter(
                x=failed["start_time"].to_numpy(),
                y=[0.0] * len(failed),
                mode="markers",
                name=t("timeline.failed_windows"),
                marker={"symbol": "x-thin-open", "size": 10, "color": FAILED_COLOUR, "line": {"width": 2}},
                customdata=[[-1, float(s)] for s in failed["start_time"]],
                hovertext=[
                    f"{clock(s)} – {clock(e)} · <b>{t('timeline.failed_window')}</b><br>{_short(str(text))}"
                    for s, e, text in zip(failed["start_time"], failed["end_time"], failed["description"])
                ],
                hoverinfo="text",
            ),
            row=2,
            col=1,
        )
