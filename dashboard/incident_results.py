"""A finished incident: player, selected event, timeline, events, storyboard, search, logs, comparison,
downloads.

The display filters decide which stored events are shown everywhere on the page; nothing is written
when they change. Clicking a timeline marker or window, or selecting a row of the events table or the
storyboard, seeks the player (see `dashboard.player`) and selects the event in all of them.
"""

from __future__ import annotations

import math
from functools import partial

import pandas as pd
import streamlit as st

from core.engines.local import camera_caveat_of
from core.i18n import DOMAIN_REASONS, reword
from core.overlay import event_picture
from core.schema import AnalysisParams, Event, Status
from core.taxonomy_i18n import review_label, severity_label, type_label
from core.timefmt import clock
from core.views import IncidentRecord
from dashboard import data
from dashboard.compare import RunComparison, compare_runs
from dashboard.downloads import download_buttons, subtitles
from dashboard.evidence import evidence_downloads
from dashboard.filters import DisplayFilters
from dashboard.fmt import as_utc, span
from dashboard.i18n import described, lang, t
from dashboard.incident_status import run_label
from dashboard.logs import logs_view
from dashboard.player import current_seek, render_player, seek_revision, set_seek
from dashboard.resources import settings
from dashboard.review import event_card
from dashboard.search_panel import ask_panel, safe_html, search_panel
from dashboard.sidebar import display_filters, domain_label, engine_label
from dashboard.tables import ROW_CLICK, picked_row, selected_rows
from dashboard.timeline import OtherRun, build_timeline, type_colours

_COMPARE_KEY = "sigma.compare"
VIEW_SLIDER_FROM_SEC = 120.0
VIEW_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)


def results(incident: IncidentRecord, runs: list[IncidentRecord], filters_place) -> None:
    events = data.load_events(incident.id)
    windows = data.load_windows(incident.id, str(incident.finished_at))
    other_run = _compare_choice(incident, runs)
    other_events = data.load_events(other_run.id) if other_run else []

    engines = {run.engine for run in (incident, other_run) if run is not None}
    if engines == {"local"}:
        score_label = t("filters.min_strength")
    elif "local" in engines:
        score_label = t("filters.min_confidence_or_strength")
    else:
        score_label = t("filters.min_confidence")
    filters = display_filters([e.event_type for e in events + other_events], score_label, filters_place)
    shown = filters.apply(events)
    other_shown = filters.apply(other_events)
    comparison = compare_runs(shown, other_shown) if other_run else None

    seek = current_seek(incident.id)
    by_id = {e.id: e for e in shown + other_shown}
    selected = by_id.get(seek.event_id) if seek and seek.event_id is not None else None
    colours = type_colours([e.event_type for e in shown + other_shown])

    _summary(incident, events, shown, filters)
    timeline_key = f"timeline-{incident.id}"

    player_col, card_col = st.columns([3, 2], gap="medium")
    with player_col:
        render_player(
            incident.id,
            incident.stored_name,
            subtitles=subtitles(incident.id),
            events=[(e.id, e.start_time) for e in shown if e.id is not None],
            fps=incident.fps,
            timeline_key=timeline_key,
        )
    with card_col:
        event_card(
            incident.id,
            selected,
            shown,
            colours.get(selected.event_type) if selected else None,
            local=incident.engine == "local",
        )
        if selected is not None and (selected.box or selected.track_path):
            _event_keyframe(incident, selected)

    view = _view_choice(incident)
    figure = build_timeline(
        windows,
        shown,
        duration=incident.duration,
        selected_event_id=selected.id if selected else None,
        other=OtherRun(f"#{other_run.id}", other_shown) if other_run else None,
        comparison=comparison,
        view=view,
        revision=seek_revision(),
        score_label=t("timeline.anomaly_score") if incident.engine == "local" else None,
    )
    st.plotly_chart(
        figure,
        key=timeline_key,
        on_select=partial(_on_timeline_select, timeline_key, incident.id),
        selection_mode="points",
        config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"], "scrollZoom": False},
        width="stretch",
    )
    st.caption(t("timeline.legend"))

    tab_names = [t("tabs.events", count=len(shown)), t("tabs.storyboard"), t("tabs.search"), t("tabs.logs")]
    if other_run:
        tab_names.append(t("tabs.compare"))
    tab_names.append(t("tabs.downloads"))
    tabs = st.tabs(tab_names)
    local = incident.engine == "local"
    with tabs[0]:
        _events_table(incident.id, shown, selected, comparison, local=local)
    with tabs[1]:
        _storyboard(incident.id, windows, local=local)
    with tabs[2]:
        search_panel(incident_id=incident.id)
        st.divider()
        ask_panel(incident.id)
    with tabs[3]:
        logs_view(incident)
    if other_run:
        with tabs[4]:
            _comparison_table(incident, other_run, shown, other_shown, comparison)
    with tabs[-1]:
        download_buttons(incident)
        st.divider()
        evidence_downloads(incident, events)


def _event_keyframe(incident: IncidentRecord, event: Event) -> None:
    shown = event_picture(settings(), incident.stored_name, event)  # drawn once, kept beside the video
    if shown is None:
        return
    jpeg, time = shown
    st.image(jpeg, caption=t("card.keyframe", time=clock(time)), width="stretch")
    if event.track_ids:
        st.caption(t("card.tracks", ids=", ".join(f"#{i}" for i in event.track_ids)))


def _view_choice(incident: IncidentRecord) -> tuple[float, float] | None:
    """For a long video, the span of it the timeline shows: a zoom that lasts across seeks and filters."""
    if incident.duration <= VIEW_SLIDER_FROM_SEC:
        return None
    step = next((s for s in VIEW_STEPS if incident.duration / s <= 720), VIEW_STEPS[-1])
    stops = [i * step for i in range(math.ceil(incident.duration / step) + 1)]
    stops[-1] = incident.duration
    start, end = st.select_slider(
        t("timeline.view"),
        stops,
        value=(stops[0], stops[-1]),
        format_func=lambda seconds: clock(seconds, decimals=0),
        key=f"timeline-view-{incident.id}",
    )
    return (start, end) if end > start else None


def _compare_choice(incident: IncidentRecord, runs: list[IncidentRecord]) -> IncidentRecord | None:
    others = [run for run in runs if run.id != incident.id and run.status == Status.DONE]
    if not others:
        return None
    options = [None, *[run.id for run in others]]
    labels = {run.id: run_label(run) for run in others}
    key = f"{_COMPARE_KEY}.{incident.id}"
    chosen = st.selectbox(
        t("compare.with"),
        options,
        key=key,
        format_func=lambda value: t("compare.none") if value is None else labels[value],
    )
    return next((run for run in others if run.id == chosen), None)


def _summary(
    incident: IncidentRecord, events: list[Event], shown: list[Event], filters: DisplayFilters
) -> None:
    events_col, passes_col, took_col, facts_col = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    events_col.metric(
        t("summary.events"),
        f"{len(shown)} / {len(events)}" if filters.active else str(len(events)),
        help=t("summary.events_help"),
    )
    passes_col.metric(t("summary.passes"), ", ".join(str(p) for p in (incident.passes_run or [])) or "—")
    started, finished = as_utc(incident.started_at), as_utc(incident.finished_at)
    took = (finished - started).total_seconds() if started and finished else None
    took_col.metric(t("summary.took"), span(took) if took is not None else "—")
    if incident.inferred_domain:
        domain = t("summary.domain_inferred", domain=domain_label(incident.inferred_domain))
    elif incident.requested_domain != "auto":
        domain = domain_label(incident.requested_domain)
    else:
        domain = "—"
    facts_col.markdown(
        t(
            "summary.facts",
            engine=engine_label(incident.engine or incident.requested_engine),
            domain=domain,
            model=incident.model_version or "—",
            prompt=incident.prompt_version or "—",
        )
    )
    if incident.domain_reason:
        facts_col.caption(reword(lang(), DOMAIN_REASONS, incident.domain_reason))
    params = AnalysisParams.of_run(incident.params)
    if params.site_context:
        facts_col.caption(t("summary.site_context", text=safe_html(params.site_context)))
    if params.concerns:
        items = "; ".join(f"{c.code} — {c.definition}" for c in params.concerns)
        facts_col.caption(t("summary.concerns", items=safe_html(items)))
    if incident.engine == "local":
        st.caption(t("summary.local_measures"))
        # the record says whether the camera moved; its log line, read only then, says how much
        camera = camera_caveat_of(data.load_logs(incident.id)) if incident.camera_moved else None
        if camera is not None:
            st.warning(
                t("summary.local_camera", share=camera.get("share", 0.0), withheld=camera.get("withheld", 0)),
                icon=":material/videocam:",
            )
    if not events:
        if incident.engine == "local":
            nothing = t("summary.no_events_local")
        elif incident.engine == "vlm":
            nothing = t("summary.no_events_vlm")
        else:
            nothing = t("summary.no_events")
        st.info(nothing, icon=":material/info:")
    elif not shown:
        st.info(t("summary.all_filtered", count=len(events)), icon=":material/filter_alt:")


def _on_timeline_select(key: str, incident_id: int) -> None:
    state = st.session_state.get(key)
    points = state.selection.points if state else []
    if not points:
        return
    event_id, start = points[0].get("customdata") or (-1, points[0].get("x", 0.0))
    set_seek(
        incident_id, float(start), event_id=int(event_id) if event_id is not None and event_id >= 0 else None
    )


def _on_table_select(key: str, incident_id: int, rows: list[tuple[int | None, float]]) -> None:
    picked = picked_row(st.session_state.get(key))
    if picked is None or picked >= len(rows):
        return
    event_id, start = rows[picked]
    set_seek(incident_id, start, event_id=event_id)


def _events_table(
    incident_id: int,
    shown: list[Event],
    selected: Event | None,
    comparison: RunComparison | None,
    *,
    local: bool = False,
) -> None:
    if not shown:
        st.caption(t("events.none"))
        return
    order = st.segmented_control(
        t("events.sort"),
        ["time", "severity", "confidence"],
        default="time",
        format_func=lambda order: _sort_label(order, local=local),
        key=f"events-sort-{incident_id}",
    )
    shown = sort_events(shown, order or "time")
    frame = pd.DataFrame(
        {
            "id": [e.id for e in shown],
            "type": [type_label(e.event_type, lang()) for e in shown],
            "start": [clock(e.start_time) for e in shown],
            "end": [clock(e.end_time) for e in shown],
            "duration": [round(e.duration, 2) for e in shown],
            "confidence": [e.confidence for e in shown],
            "severity": [severity_label(e.severity, lang()) for e in shown],
            "pass": [e.pass_no for e in shown],
            "review": [
                review_label(e.review_status.value if e.review_status else None, lang()) for e in shown
            ],
            "note": [e.review_note or "" for e in shown],
            "reviewed_by": [e.reviewed_by or "" if e.review_status or e.review_note else "" for e in shown],
            "description": [described(e.description) for e in shown],
        }
    )
    if comparison is not None:
        frame.insert(1, "only", [comparison.is_unique(e.id) for e in shown])
    key = f"events-{incident_id}"
    wanted = [i for i, e in enumerate(shown) if selected is not None and e.id == selected.id]
    current = st.session_state.get(key)
    if current is None or current != selected_rows(wanted):
        st.session_state[key] = selected_rows(wanted)  # the selected event's row, also after a cell click
    st.dataframe(
        frame,
        key=key,
        on_select=partial(_on_table_select, key, incident_id, [(e.id, e.start_time) for e in shown]),
        selection_mode=ROW_CLICK,
        hide_index=True,
        width="stretch",
        column_config={
            "id": st.column_config.NumberColumn("#", width="small"),
            "only": st.column_config.CheckboxColumn(t("events.only_here"), width="small"),
            "type": st.column_config.TextColumn(t("events.type")),
            "start": st.column_config.TextColumn(t("events.start"), width="small"),
            "end": st.column_config.TextColumn(t("events.end"), width="small"),
            "duration": st.column_config.NumberColumn(t("events.duration"), format="%.2f s", width="small"),
            "confidence": st.column_config.ProgressColumn(
                t("events.strength" if local else "events.confidence"),
                min_value=0,
                max_value=1,
                format="%.2f",
            ),
            "severity": st.column_config.TextColumn(t("events.severity"), width="small"),
            "pass": st.column_config.NumberColumn(t("events.pass"), width="small"),
            "review": st.column_config.TextColumn(t("events.review")),
            "note": st.column_config.TextColumn(t("events.note")),
            "reviewed_by": st.column_config.TextColumn(t("events.reviewed_by"), width="small"),
            "description": st.column_config.TextColumn(t("events.description"), width="large"),
        },
    )
    st.caption(t("events.help"))


def sort_events(events: list[Event], order: str) -> list[Event]:
    """The events table's order: by time, by severity (most dangerous first, unrated last) or by
    confidence; ties by time."""
    if order == "severity":
        return sorted(events, key=lambda e: (-(e.severity if e.severity is not None else -1), e.start_time))
    if order == "confidence":
        return sorted(events, key=lambda e: (-e.confidence, e.start_time))
    return sorted(events, key=lambda e: (e.start_time, e.end_time))


def _sort_label(order: str, *, local: bool) -> str:
    if order == "severity":
        return t("events.sort_severity")
    if order == "confidence":  # a local run's scores are measured strengths
        return t("events.sort_strength") if local else t("events.sort_confidence")
    return t("events.sort_time")


def _storyboard(incident_id: int, windows: pd.DataFrame, *, local: bool = False) -> None:
    if windows.empty:
        st.caption(t("storyboard.none"))
        return
    needle = st.text_input(
        t("storyboard.filter"),
        key=f"storyboard-filter-{incident_id}",
        placeholder=t("storyboard.filter_hint"),
    )
    view = windows.assign(description=windows["description"].map(described))
    if needle.strip():
        view = view[view["description"].str.contains(needle.strip(), case=False, regex=False, na=False)]
    frame = pd.DataFrame(
        {
            "start": [clock(s) for s in view["start_time"]],
            "end": [clock(e) for e in view["end_time"]],
            "score": view["score"].round(2).to_numpy(),
            "pass": view["pass_no"].to_numpy(),
            "failed": view["failed"].astype(bool).to_numpy(),
            "skipped": view["skipped"].astype(bool).to_numpy(),
            "description": view["description"].to_numpy(),
        }
    )
    key = f"storyboard-{incident_id}-{seek_revision()}"
    st.dataframe(
        frame,
        key=key,
        on_select=partial(_on_table_select, key, incident_id, [(None, float(s)) for s in view["start_time"]]),
        selection_mode=ROW_CLICK,
        hide_index=True,
        width="stretch",
        height=360,
        column_config={
            "start": st.column_config.TextColumn(t("events.start"), width="small"),
            "end": st.column_config.TextColumn(t("events.end"), width="small"),
            "score": st.column_config.NumberColumn(
                t("timeline.anomaly_score" if local else "timeline.score"), format="%.2f", width="small"
            ),
            "pass": st.column_config.NumberColumn(t("events.pass"), width="small"),
            "failed": st.column_config.CheckboxColumn(t("storyboard.failed"), width="small"),
            "skipped": st.column_config.CheckboxColumn(t("storyboard.skipped"), width="small"),
            "description": st.column_config.TextColumn(t("events.description"), width="large"),
        },
    )
    st.caption(t("storyboard.help", count=len(view), total=len(windows)))


def _comparison_table(
    incident: IncidentRecord,
    other_run: IncidentRecord,
    shown: list[Event],
    other_shown: list[Event],
    comparison: RunComparison | None,
) -> None:
    assert comparison is not None
    st.markdown(
        t(
            "compare.summary",
            current=incident.id,
            other=other_run.id,
            only_current=len(comparison.only_in_current),
            only_other=len(comparison.only_in_other),
            both=len(shown) - len(comparison.only_in_current),
        )
    )
    unique = [(incident.id, e) for e in shown if e.id in comparison.only_in_current] + [
        (other_run.id, e) for e in other_shown if e.id in comparison.only_in_other
    ]
    if not unique:
        st.caption(t("compare.same"))
        return
    unique.sort(key=lambda pair: pair[1].start_time)
    key = f"compare-{incident.id}-{seek_revision()}"
    st.dataframe(
        pd.DataFrame(
            {
                "run": [f"#{run_id}" for run_id, _ in unique],
                "type": [type_label(e.event_type, lang()) for _, e in unique],
                "start": [clock(e.start_time) for _, e in unique],
                "end": [clock(e.end_time) for _, e in unique],
                "confidence": [e.confidence for _, e in unique],
                "description": [described(e.description) for _, e in unique],
            }
        ),
        key=key,
        on_select=partial(_on_table_select, key, incident.id, [(e.id, e.start_time) for _, e in unique]),
        selection_mode=ROW_CLICK,
        hide_index=True,
        width="stretch",
        column_config={
            "run": st.column_config.TextColumn(t("compare.run"), width="small"),
            "type": st.column_config.TextColumn(t("events.type")),
            "start": st.column_config.TextColumn(t("events.start"), width="small"),
            "end": st.column_config.TextColumn(t("events.end"), width="small"),
            "confidence": st.column_config.NumberColumn(t("events.confidence"), format="%.2f"),
            "description": st.column_config.TextColumn(t("events.description"), width="large"),
        },
    )
