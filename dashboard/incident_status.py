"""The top of the incident page: which video and run this is, its live status, and what to do if it failed.

Live status is a fragment that reruns every second and reads the database, so only it refreshes while
the analysis runs, and a reload or a second tab shows the same truth. When the run finishes the whole
page reruns once to show the results.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.i18n import FAILURE_REASONS, reword
from core.models import Incident
from core.schema import AnalysisParams, Status
from core.timefmt import clock
from dashboard import actions, data
from dashboard.feedback import friendly_errors
from dashboard.fmt import as_utc, size, span, when
from dashboard.i18n import lang, t
from dashboard.resources import settings
from dashboard.sidebar import domain_label, engine_label

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


def run_label(run: Incident) -> str:
    params = run.params or {}
    engine = run.engine or run.requested_engine
    return t(
        "incident.run_label",
        id=run.id,
        engine=engine_label(engine),
        window=params.get("window_sec", "?"),
        status=status_label(run.status),
    )


def header(incident: Incident, runs: list[Incident]) -> None:
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
                created=when(incident.created_at),
            )
        )
    with action_col:
        if st.button(
            t("incident.delete"), icon=":material/delete:", key=f"delete-{incident.id}", width="stretch"
        ):
            st.session_state[_CONFIRM_KEY] = incident.id
    if st.session_state.get(_CONFIRM_KEY) == incident.id:
        _confirm_delete(incident, runs)
    if len(runs) > 1:
        ids = [run.id for run in runs]
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


def _confirm_delete(incident: Incident, runs: list[Incident]) -> None:
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


def eta_seconds(incident: Incident, now: datetime) -> float | None:
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


def _status_body(incident: Incident) -> None:
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


def failed(incident: Incident) -> None:
    st.error(
        t(
            "incident.failed",
            reason=reword(lang(), FAILURE_REASONS, incident.error or t("incident.failed_unknown")),
        ),
        icon=":material/error:",
    )
    if st.button(
        t("incident.rerun_same"), icon=":material/replay:", type="primary", key=f"rerun-{incident.id}"
    ):
        actions.reanalyse(incident.id, AnalysisParams.of_run(incident.params))
