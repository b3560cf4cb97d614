"""The top of the incident page: which video and run this is, its live status, and what to do if it failed.

Live status is a fragment that reruns every second and reads the database, so only it refreshes while
the analysis runs, and a reload or a second tab shows the same truth. When the run finishes the whole
page reruns once to show the results.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.i18n import FAILURE_REASONS, reword
from core.schema import AnalysisParams, Status
from core.storage import video_path
from core.timefmt import clock, seconds
from core.video import cut_short
from core.views import IncidentRecord
from dashboard import actions, data
from dashboard.auth import current_principal
from dashboard.feedback import friendly_errors
from dashboard.fmt import as_utc, size, span, when
from dashboard.i18n import lang, t
from dashboard.resources import settings
from dashboard.sidebar import domain_label, engine_label, engine_refusal

STATUS_COLOURS = {
    Status.SAVED: "gray",
    Status.QUEUED: "gray",
    Status.PROCESSING: "blue",
    Status.DONE: "green",
    Status.FAILED: "red",
}
_CONFIRM_KEY = "sigma.confirm_delete"


def status_label(status: str) -> str:
    return t(f"status.{status}")


def run_label(run: IncidentRecord) -> str:
    params = run.params or {}
    engine = run.engine or run.requested_engine
    return t(
        "incident.run_label",
        id=run.id,
        engine=engine_label(engine),
        window=params.get("window_sec", "?"),
        status=status_label(run.status),
        started=when(run_started(run)),
    )


def run_started(run: IncidentRecord) -> datetime:
    """When this run started (a re-run's own start, never its video's upload); asked for, if not yet."""
    return run.started_at or run.created_at


def header(incident: IncidentRecord, runs: list[IncidentRecord]) -> None:
    """Title, facts about the video, the run selector and the delete action."""
    title_col, action_col = st.columns([5, 1], vertical_alignment="bottom")
    with title_col:
        st.subheader(incident.original_name, anchor=False)
        st.badge(status_label(incident.status), color=STATUS_COLOURS.get(incident.status, "gray"))
        st.caption(
            t(
                "incident.facts",
                id=incident.id,
                duration=clock(incident.duration, decimals=1),
                width=incident.width,
                height=incident.height,
                fps=f"{incident.fps:.2f}",
                size=size(incident.size_bytes),
                when=t("incident.rerun_started", of=incident.run_of_id, started=when(run_started(incident)))
                if incident.run_of_id
                else t("incident.uploaded", created=when(incident.created_at)),
            )
        )
        declared = _cut_short(incident.stored_name, incident.duration)
        if declared is not None:
            st.warning(
                t("incident.truncated", decoded=seconds(incident.duration), declared=seconds(declared)),
                icon=":material/content_cut:",
            )
    if current_principal().can_change:  # a viewer gets no delete at all
        with action_col:
            if st.button(
                t("incident.delete"), icon=":material/delete:", key=f"delete-{incident.id}", width="stretch"
            ):
                st.session_state[_CONFIRM_KEY] = incident.id
        if st.session_state.get(_CONFIRM_KEY) == incident.id:
            _confirm_delete(incident, runs)
    if len(runs) > 1:
        _run_selector(incident, refresh_every(runs))


RUNS_REFRESH_SEC = 2.0


def refresh_every(runs: list[IncidentRecord]) -> float | None:
    """How often the run selector reads the runs again: while one of them runs, so its label follows
    it to done (or failed) without a click; never when all are finished."""
    return RUNS_REFRESH_SEC if any(data.is_active(run) for run in runs) else None


def _run_selector(incident: IncidentRecord, every: float | None) -> None:
    @st.fragment(run_every=every)
    def selector() -> None:
        runs = data.load_runs(incident)
        ids = [run.id for run in runs]
        if incident.id not in ids:
            st.rerun()  # deleted meanwhile: the page says so
        labels = {run.id: run_label(run) for run in runs}
        chosen = st.selectbox(
            t("incident.runs", count=len(runs)),
            ids,
            index=ids.index(incident.id),
            format_func=labels.__getitem__,
            key=f"runs-{incident.id}",
        )
        if chosen != incident.id:
            actions.open_incident(chosen)
        if every is not None and refresh_every(runs) is None:
            st.rerun()  # the last run finished: the whole page once (comparison choices), then no more polling

    selector()


@st.cache_data(show_spinner=False, max_entries=64)
def _cut_short(stored_name: str, decoded: float) -> float | None:
    """The header's duration of a file that decodes only in part (a stored file never changes)."""
    return cut_short(video_path(settings(), stored_name), decoded)


def _confirm_delete(incident: IncidentRecord, runs: list[IncidentRecord]) -> None:
    dependants = [run.id for run in runs if run.run_of_id == incident.id]
    with st.container(border=True):
        if dependants:
            st.warning(t("incident.delete_confirm_with_runs", id=incident.id, count=len(dependants)))
        else:
            st.warning(t("incident.delete_confirm", id=incident.id))
        yes, no = st.columns(2)
        if yes.button(t("common.delete"), type="primary", key=f"delete-yes-{incident.id}", width="stretch"):
            st.session_state.pop(_CONFIRM_KEY, None)
            if actions.delete_incidents([incident.id]):
                st.switch_page(actions.INCIDENTS_PAGE)
            st.rerun()  # refused (legal hold): stay, with the reason shown
        if no.button(t("common.cancel"), key=f"delete-no-{incident.id}", width="stretch"):
            st.session_state.pop(_CONFIRM_KEY, None)
            st.rerun()


def eta_seconds(incident: IncidentRecord, now: datetime) -> float | None:
    """Time left at the speed so far; None until there is enough progress to say."""
    started = as_utc(incident.started_at)
    if started is None or incident.progress < 0.02:
        return None
    elapsed = (now - started).total_seconds()
    return max(0.0, elapsed * (1 - incident.progress) / incident.progress)


@st.fragment(run_every=1.0)
def live_status(incident_id: int) -> None:
    with friendly_errors("live status"):
        incident = data.load_incident(incident_id)
        if incident is None or not data.is_active(incident):
            st.rerun()
        _status_body(incident)


def _status_body(incident: IncidentRecord) -> None:
    now = datetime.now(UTC)
    stage = reword(lang(), "stage.", incident.stage) if incident.stage else status_label(incident.status)
    with st.container(border=True):
        st.progress(
            min(1.0, max(0.0, incident.progress)),
            text=t("status.progress", pct=round(incident.progress * 100), stage=stage),
        )
        pass_col, windows_col, elapsed_col, eta_col = st.columns(4)
        pass_col.metric(t("status.pass"), incident.pass_no or "—")
        windows = f"{incident.windows_done} / {incident.windows_total}" if incident.windows_total else "—"
        windows_col.metric(t("status.windows"), windows)
        started = as_utc(incident.started_at)
        elapsed_col.metric(t("status.elapsed"), span((now - started).total_seconds()) if started else "—")
        eta = eta_seconds(incident, now)
        eta_col.metric(t("status.eta"), span(eta) if eta is not None else "—")
        if incident.status == Status.QUEUED:
            position = data.queue_position(incident.id)
            if position:
                st.info(t("status.queued", position=position), icon=":material/hourglass_top:")
        beat = as_utc(incident.heartbeat_at)
        if beat and (now - beat).total_seconds() > settings().heartbeat_stale_sec:
            st.warning(
                t("status.stale", seconds=round((now - beat).total_seconds())), icon=":material/warning:"
            )
        st.caption(
            t(
                "status.params",
                engine=engine_label(incident.requested_engine),
                domain=domain_label(incident.requested_domain),
            )
        )


def failed(incident: IncidentRecord) -> None:
    st.error(
        t(
            "incident.failed",
            reason=reword(lang(), FAILURE_REASONS, incident.error or t("incident.failed_unknown")),
        ),
        icon=":material/error:",
    )
    if not current_principal().can_change:  # a viewer cannot run it again
        return
    params = AnalysisParams.of_run(incident.params)
    refusal = engine_refusal(params.engine)  # the same run would fail the same way: say why first
    if refusal:
        st.warning(refusal, icon=":material/cloud_off:")
    if st.button(
        t("incident.rerun_same"),
        icon=":material/replay:",
        type="primary",
        key=f"rerun-{incident.id}",
        disabled=refusal is not None,
    ):
        actions.reanalyse(incident.id, params)
