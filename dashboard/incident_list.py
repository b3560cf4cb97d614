"""The incidents page: every run of every video, filterable; a selected row opens it; delete with a
confirmation. While some analysis is running the table refreshes itself every two seconds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.models import Incident
from core.schema import DOMAINS, Status
from core.timefmt import clock
from dashboard import actions, data
from dashboard.feedback import safe_callback
from dashboard.fmt import local
from dashboard.i18n import t
from dashboard.incident_status import status_label
from dashboard.search_panel import search_panel
from dashboard.sidebar import domain_label, engine_label, run_domain
from dashboard.tables import ROW_CLICK, picked_row

_PENDING_DELETE = "sigma.pending_delete"
_STATUSES = [s.value for s in Status]


def render() -> None:
    st.subheader(t("nav.incidents"), anchor=False)
    incidents, _ = data.list_incidents()
    if not incidents:
        show_no_incidents()
        return
    text_col, status_col, domain_col = st.columns([2, 1, 1])
    needle = text_col.text_input(
        t("incidents.filter"), key="incidents.filter", placeholder=t("incidents.filter_hint")
    )
    statuses = status_col.multiselect(
        t("incidents.status"), _STATUSES, key="incidents.statuses", format_func=status_label,
        placeholder=t("incidents.any"),
    )  # fmt: skip
    domains = domain_col.multiselect(
        t("incidents.domain"), list(DOMAINS), key="incidents.domains", format_func=domain_label,
        placeholder=t("incidents.any"),
    )  # fmt: skip
    live = any(data.is_active(incident) for incident in incidents)
    _table(needle, statuses, domains, run_every=2.0 if live else None)
    search_panel()
    _delete_section(incidents)


def _matches(incident: Incident, needle: str, statuses: list[str], domains: list[str]) -> bool:
    if needle and needle.lower() not in f"#{incident.id} {incident.original_name}".lower():
        return False
    if statuses and incident.status not in statuses:
        return False
    domain = incident.inferred_domain or incident.requested_domain
    return not domains or domain in domains


def _frame(incidents: list[Incident], counts: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [i.id for i in incidents],
            "file": [i.original_name for i in incidents],
            "duration": [clock(i.duration, decimals=0) for i in incidents],
            "status": [status_label(i.status) for i in incidents],
            "progress": [i.progress for i in incidents],
            "events": [counts.get(i.id, 0) if i.status == Status.DONE else None for i in incidents],
            "domain": [run_domain(i.inferred_domain, i.requested_domain) for i in incidents],
            "engine": [engine_label(i.engine or i.requested_engine) for i in incidents],
            "run_of": [f"#{i.run_of_id}" if i.run_of_id else "" for i in incidents],
            "created": [local(i.created_at) for i in incidents],
        }
    )


def _table(needle: str, statuses: list[str], domains: list[str], run_every: float | None) -> None:
    @st.fragment(run_every=run_every)
    def table() -> None:
        incidents, counts = data.list_incidents()
        shown = [i for i in incidents if _matches(i, needle.strip(), statuses, domains)]
        if not shown:
            st.caption(t("incidents.none_match"))
            return
        picked = st.dataframe(
            _frame(shown, counts),
            key="incidents.table",
            on_select="rerun",
            selection_mode=ROW_CLICK,
            hide_index=True,
            width="stretch",
            column_config={
                "id": st.column_config.NumberColumn("#", width="small"),
                "file": st.column_config.TextColumn(t("incidents.file"), width="medium"),
                "duration": st.column_config.TextColumn(t("incidents.duration"), width="small"),
                "status": st.column_config.TextColumn(t("incidents.status"), width="small"),
                "progress": st.column_config.ProgressColumn(
                    t("incidents.progress"), min_value=0, max_value=1, format="percent"
                ),
                "events": st.column_config.NumberColumn(t("incidents.events"), width="small"),
                "domain": st.column_config.TextColumn(t("incidents.domain"), width="small"),
                "engine": st.column_config.TextColumn(t("incidents.engine"), width="small"),
                "run_of": st.column_config.TextColumn(t("incidents.run_of"), width="small"),
                "created": st.column_config.DatetimeColumn(
                    t("incidents.created"), format="YYYY-MM-DD HH:mm:ss"
                ),
            },
        )
        st.caption(t("incidents.help", count=len(shown), total=len(incidents)))
        row = picked_row(picked)
        if row is not None and row < len(shown):
            actions.open_incident(shown[row].id)

    table()


def _delete_section(incidents: list[Incident]) -> None:
    labels = {i.id: f"#{i.id} · {i.original_name} · {status_label(i.status)}" for i in incidents}
    with st.expander(t("incidents.delete_title"), icon=":material/delete:"):
        chosen = st.multiselect(
            t("incidents.delete_pick"), list(labels), key="incidents.delete", format_func=labels.__getitem__,
            placeholder=t("incidents.delete_placeholder"),
        )  # fmt: skip
        st.button(
            t("common.delete"),
            disabled=not chosen,
            key="incidents.delete_button",
            on_click=_ask,
            args=(chosen,),
        )
        pending = [i for i in st.session_state.get(_PENDING_DELETE, []) if i in labels]
        if not pending:
            return
        reruns = [i.id for i in incidents if i.run_of_id in pending and i.id not in pending]
        message = t("incidents.delete_confirm", ids=", ".join(f"#{i}" for i in pending))
        if reruns:
            message += " " + t("incidents.delete_confirm_reruns", ids=", ".join(f"#{i}" for i in reruns))
        st.warning(message, icon=":material/warning:")
        yes, no = st.columns(2)
        yes.button(
            t("common.delete_confirm"), type="primary", key="incidents.delete_yes", width="stretch",
            on_click=_confirmed, args=(pending,),
        )  # fmt: skip
        no.button(t("common.cancel"), key="incidents.delete_no", width="stretch", on_click=_cancel)


def _ask(chosen: list[int]) -> None:
    st.session_state[_PENDING_DELETE] = list(chosen)


def _cancel() -> None:
    st.session_state.pop(_PENDING_DELETE, None)


@safe_callback
def _confirmed(pending: list[int]) -> None:
    _cancel()
    st.session_state["incidents.delete"] = []
    actions.delete_incidents(pending)


def show_no_incidents() -> None:
    """The empty state: nothing analysed yet, and the way to start."""
    st.info(t("incidents.empty"), icon=":material/inbox:")
    st.page_link(actions.ANALYSE_PAGE, label=t("nav.analyse"), icon=":material/upload:")
