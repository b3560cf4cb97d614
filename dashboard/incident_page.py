"""The incident page: one run of one video, chosen by `?id=` in the URL (so a link or a reload opens it)."""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.schema import AnalysisParams, Status
from dashboard import actions, data, evidence, incident_list
from dashboard.auth import current_principal
from dashboard.fmt import when
from dashboard.i18n import t
from dashboard.incident_results import results
from dashboard.incident_status import failed, header, live_status, status_label
from dashboard.player import render_player
from dashboard.sidebar import reanalyse_form


def incident_id_from_url() -> int | None:
    raw = st.query_params.get("id")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def render() -> None:
    incident_id = incident_id_from_url()
    if incident_id is None:
        _pick()
        return
    incident = data.load_incident(incident_id)
    if incident is None:
        st.warning(t("incident.not_found", id=incident_id), icon=":material/search_off:")
        st.page_link(actions.INCIDENTS_PAGE, label=t("nav.incidents"), icon=":material/list:")
        return
    runs = data.load_runs(incident)
    header(incident, runs)
    evidence.hold_badge(incident)
    evidence.record_open(incident.id)
    evidence.case_and_hold(incident)
    filters_place = st.sidebar.container()  # display filters first, above the analysis parameters
    if current_principal().can_change:
        reanalyse_form(
            AnalysisParams.of_run(incident.params), incident.id, partial(actions.reanalyse, incident.id)
        )
    if data.is_active(incident):
        live_status(incident.id)
    elif incident.status == Status.FAILED:
        failed(incident)
        render_player(incident.id, incident.stored_name)  # the video stays viewable when its analysis failed
    else:
        results(incident, runs, filters_place)
    evidence.audit_panel(incident.id)


def _pick() -> None:
    """No incident in the URL: offer the latest ones."""
    st.subheader(t("nav.incident"), anchor=False)
    incidents, _ = data.list_incidents()
    if not incidents:
        incident_list.show_no_incidents()
        return
    labels = {
        i.id: f"#{i.id} · {i.original_name} · {status_label(i.status)} · {when(i.created_at)}"
        for i in incidents
    }
    chosen = st.selectbox(
        t("incident.pick"),
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=t("incident.pick_placeholder"),
    )
    if chosen is not None:
        actions.open_incident(chosen)
