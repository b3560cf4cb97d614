"""The incidents page: every run of every video, filterable; a selected row opens it; delete with a
confirmation. While some analysis is running the table refreshes itself every two seconds."""

from __future__ import annotations

import base64

import pandas as pd
import streamlit as st

from core.media import thumbnail
from core.schema import DOMAINS, Status
from core.timefmt import clock
from core.views import IncidentRecord, ReviewProgress
from dashboard import actions, data
from dashboard.auth import current_principal
from dashboard.feedback import safe_callback
from dashboard.fmt import local
from dashboard.i18n import t
from dashboard.incident_status import status_label
from dashboard.resources import settings
from dashboard.search_panel import search_panel
from dashboard.sidebar import domain_label, engine_short, run_domain
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
    if current_principal().can_change:
        _delete_section(incidents)


def _matches(incident: IncidentRecord, needle: str, statuses: list[str], domains: list[str]) -> bool:
    if needle and needle.lower() not in f"#{incident.id} {incident.original_name}".lower():
        return False
    if statuses and incident.status not in statuses:
        return False
    domain = incident.inferred_domain or incident.requested_domain
    return not domains or domain in domains


def _frame(
    incidents: list[IncidentRecord], progress: dict[int, ReviewProgress], thumbs: dict[int, str]
) -> pd.DataFrame:
    none = ReviewProgress()
    done = [i.status == Status.DONE for i in incidents]
    reviews = [progress.get(i.id, none) for i in incidents]
    return pd.DataFrame(
        {  # the order a reader needs them; each column wide enough for what it holds
            "id": [i.id for i in incidents],
            "thumbnail": [thumbs.get(i.id) for i in incidents],
            "file": [i.original_name for i in incidents],
            "status": [status_label(i.status) for i in incidents],
            "progress": [i.progress for i in incidents],
            "events": [r.events if ok else None for r, ok in zip(reviews, done)],
            "review": [
                " · ".join(
                    ([t("incidents.camera_moved")] if i.camera_moved else [])
                    + (
                        [
                            t(
                                "incidents.review_cell",
                                open=r.unreviewed,
                                confirmed=r.confirmed,
                                dismissed=r.dismissed,
                            )
                        ]
                        if ok and r.events
                        else []
                    )
                )
                for i, r, ok in zip(incidents, reviews, done)
            ],
            "top_score": [r.top_score if ok else None for r, ok in zip(reviews, done)],
            "engine": [engine_short(i.engine or i.requested_engine) for i in incidents],
            "domain": [run_domain(i.inferred_domain, i.requested_domain) for i in incidents],
            "duration": [clock(i.duration, decimals=0) for i in incidents],
            "run_of": [f"#{i.run_of_id}" if i.run_of_id else "" for i in incidents],
            "created": [local(i.created_at) for i in incidents],
        }
    )


_FINISHED = (Status.DONE, Status.FAILED)  # a failed run's video is still there to see
THUMBS_PER_RUN = 6  # new thumbnails made per run of the table; the rest come on its next runs
_THUMBS_TRIED = "sigma.thumbs_tried"


def _thumb_spot(incident: IncidentRecord, progress: dict[int, ReviewProgress]) -> tuple[str, float]:
    """Which frame stands for a run: its top event's start, or a tenth into the video without events."""
    top = progress.get(incident.id)
    time = top.top_time if top is not None and top.top_time is not None else incident.duration / 10
    return incident.stored_name, round(time, 2)


def _thumbnails(
    incidents: list[IncidentRecord], progress: dict[int, ReviewProgress]
) -> tuple[dict[int, str], bool]:
    """Data URLs of the finished (done or failed) runs' frames, and whether some are still to be made: each is decoded
    once (a few per run of the table), then read from disk."""
    tried: set[tuple[str, float]] = st.session_state.setdefault(_THUMBS_TRIED, set())
    spots = {i.id: _thumb_spot(i, progress) for i in incidents if i.status in _FINISHED}
    for spot in [spot for spot in dict.fromkeys(spots.values()) if spot not in tried][:THUMBS_PER_RUN]:
        tried.add(spot)
    urls = {incident_id: _thumbnail_url(*spot) for incident_id, spot in spots.items() if spot in tried}
    return {i: url for i, url in urls.items() if url}, any(spot not in tried for spot in spots.values())


@st.cache_data(show_spinner=False, max_entries=2000)
def _thumbnail_url(stored_name: str, time: float) -> str | None:
    jpeg = thumbnail(settings(), stored_name, time)
    return f"data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}" if jpeg else None


def _table(needle: str, statuses: list[str], domains: list[str], run_every: float | None) -> None:
    @st.fragment(run_every=run_every)
    def table() -> None:
        incidents, progress = data.list_incidents()
        shown = [i for i in incidents if _matches(i, needle.strip(), statuses, domains)]
        if not shown:
            st.caption(t("incidents.none_match"))
            return
        thumbs, pending = _thumbnails(shown, progress)
        picked = st.dataframe(
            _frame(shown, progress, thumbs),
            key="incidents.table",
            on_select="rerun",
            selection_mode=ROW_CLICK,
            hide_index=True,
            width="stretch",
            row_height=48,
            column_config={
                "id": st.column_config.NumberColumn("#", width=40),
                "thumbnail": st.column_config.ImageColumn(t("incidents.thumbnail"), width=64),
                "file": st.column_config.TextColumn(t("incidents.file"), width=170),
                "status": st.column_config.TextColumn(t("incidents.status"), width=100),
                "progress": st.column_config.ProgressColumn(
                    t("incidents.progress"), min_value=0, max_value=1, format="percent", width=90
                ),
                "events": st.column_config.NumberColumn(t("incidents.events"), width=60),
                "review": st.column_config.TextColumn(
                    t("incidents.review"), help=t("incidents.review_help"), width=150
                ),
                "top_score": st.column_config.ProgressColumn(
                    t("incidents.top_score"),
                    help=t("incidents.top_score_help"),
                    min_value=0,
                    max_value=1,
                    format="%.2f",
                    width=90,
                ),
                "engine": st.column_config.TextColumn(
                    t("incidents.engine"), help=t("incidents.engine_help"), width=60
                ),
                "domain": st.column_config.TextColumn(t("incidents.domain"), width=80),
                "duration": st.column_config.TextColumn(t("incidents.duration"), width=70),
                "run_of": st.column_config.TextColumn(t("incidents.run_of"), width=80),
                "created": st.column_config.DatetimeColumn(
                    t("incidents.created"), format="YYYY-MM-DD HH:mm", width=140
                ),
            },
        )
        st.caption(t("incidents.help", count=len(shown), total=len(incidents)))
        row = picked_row(picked)
        if row is not None and row < len(shown):
            actions.open_incident(shown[row].id)
        if pending and run_every is None:
            st.rerun(scope="fragment")  # the next thumbnails, a few per run

    table()


def _delete_section(incidents: list[IncidentRecord]) -> None:
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
    if current_principal().can_change:  # viewers have no analyse page
        st.page_link(actions.ANALYSE_PAGE, label=t("nav.analyse"), icon=":material/upload:")
