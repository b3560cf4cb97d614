"""Evidence on the incident page: case details and legal hold, the audit trail, event clips and the
case package, and the audit records of what a person opens, plays and downloads.

Everything is done by core (core.service, core.evidence); this module draws and passes the acting
principal (`dashboard.auth.current_principal`). Downloads are callables Streamlit runs when the button
is clicked, so each download is recorded in the audit trail when it happens, not when the page draws.
Controls that change evidence are not drawn for viewers (core refuses them anyway).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from core import service
from core.access import Principal
from core.config import Settings
from core.evidence.audit import Action, record_now, trail_of
from core.evidence.clips import event_clips, file_name
from core.evidence.package import build_package, package_bytes_name
from core.media import derived_dir
from core.schema import Event
from core.views import IncidentRecord
from dashboard.auth import current_principal
from dashboard.feedback import flash, friendly_errors, safe_callback
from dashboard.fmt import size, when
from dashboard.i18n import lang, t
from dashboard.resources import settings

_OPENED = "sigma.audit.opened"
_PLAYED = "sigma.audit.played"
_PACKAGE = "sigma.package.{id}"
BROWSER_DOWNLOAD_MAX_BYTES = (
    1024**3
)  # bigger packages are fetched with the CLI, not through a browser session


def record_open(incident_id: int) -> None:
    """ "open incident" in the audit trail, once per browser session and incident."""
    _once(_OPENED, incident_id, Action.OPEN, {})


def record_play(incident_id: int, seconds: float) -> None:
    """ "play" in the audit trail the first time this session plays the incident's video."""
    _once(_PLAYED, incident_id, Action.PLAY, {"from": round(seconds, 2)})


def _once(key: str, incident_id: int, action: Action, details: dict) -> None:
    seen = st.session_state.setdefault(key, set())
    if incident_id in seen:
        return
    record_now(settings(), current_principal(), action, incident_id=incident_id, details=details)
    seen.add(incident_id)


def recorded(
    action: Action, incident_id: int, what: str, make: Callable[[], bytes | str]
) -> Callable[[], bytes]:
    """A download callable that records `action` when it is clicked, then returns the bytes."""
    actor, current = current_principal(), settings()

    def download() -> bytes:
        content = make()
        record_now(current, actor, action, incident_id=incident_id, details={"what": what})
        return content.encode("utf-8") if isinstance(content, str) else content

    return download


# --- case details and legal hold ---------------------------------------------------------------------


def hold_badge(incident: IncidentRecord) -> None:
    if incident.hold_reason:
        st.badge(t("hold.badge"), color="orange", icon=":material/gavel:")


def case_and_hold(incident: IncidentRecord) -> None:
    """Case details and legal hold: forms for an analyst; for a viewer the same facts as text and no
    control that changes them (core refuses a viewer anyway)."""
    actor = current_principal()
    with st.expander(t("case.title"), icon=":material/gavel:", expanded=bool(incident.hold_reason)):
        if incident.hold_reason:
            st.warning(
                t(
                    "hold.active",
                    when=when(incident.held_at),
                    who=incident.held_by or "—",
                    reason=incident.hold_reason,
                ),
                icon=":material/gavel:",
            )
        if not actor.can_change:
            _case_text(incident)
            st.caption(t("evidence.viewer"))
            return
        case_col, hold_col = st.columns(2, gap="large")
        with case_col.form(f"case-{incident.id}", border=False):
            number = st.text_input(t("case.number"), value=incident.case_number or "", max_chars=100)
            investigator = st.text_input(
                t("case.investigator"), value=incident.investigator or "", max_chars=200
            )
            note = st.text_area(t("case.note"), value=incident.case_note or "", max_chars=4000, height=80)
            if st.form_submit_button(t("case.save"), icon=":material/save:"):
                _save_case(incident.id, number, investigator, note, actor)
        with hold_col:
            if incident.hold_reason:
                st.button(
                    t("hold.lift"), icon=":material/lock_open:", key=f"hold-lift-{incident.id}",
                    on_click=_lift_hold, args=(incident.id, actor),
                )  # fmt: skip
            else:
                with st.form(f"hold-{incident.id}", border=False):
                    reason = st.text_input(t("hold.reason"), help=t("hold.help"), max_chars=2000)
                    if st.form_submit_button(t("hold.place"), icon=":material/lock:"):
                        _place_hold(incident.id, reason, actor)


def _case_text(incident: IncidentRecord) -> None:
    for label, value in (
        (t("case.number"), incident.case_number),
        (t("case.investigator"), incident.investigator),
        (t("case.note"), incident.case_note),
    ):
        if value:
            st.text(f"{label}: {value}")  # as typed, never read as markdown


def _save_case(incident_id: int, number: str, investigator: str, note: str, actor: Principal) -> None:
    with friendly_errors("case details"):
        service.set_case(
            incident_id, settings(), case_number=number, investigator=investigator, note=note, actor=actor
        )
        flash(t("case.saved"))
        st.rerun()


def _place_hold(incident_id: int, reason: str, actor: Principal) -> None:
    with friendly_errors("legal hold"):
        service.set_hold(incident_id, reason, settings(), actor=actor)
        flash(t("hold.placed"))
        st.rerun()


@safe_callback
def _lift_hold(incident_id: int, actor: Principal) -> None:
    service.lift_hold(incident_id, settings(), actor=actor)
    flash(t("hold.lifted"))


# --- audit trail -------------------------------------------------------------------------------------


def audit_panel(incident_id: int) -> None:
    """Who did what to this incident's video (every run), newest first."""
    with st.expander(t("audit.title"), icon=":material/history:"):
        entries = list(reversed(trail_of(settings(), incident_id)))
        if not entries:
            st.caption(t("audit.none"))
            return
        st.dataframe(
            pd.DataFrame(
                {
                    "when": [when(e.at) for e in entries],
                    "who": [e.actor for e in entries],
                    "role": [e.role for e in entries],
                    "action": [e.action for e in entries],
                    "incident": [f"#{e.incident_id}" if e.incident_id is not None else "" for e in entries],
                    "target": [e.target for e in entries],
                    "details": [e.details_text() for e in entries],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "when": st.column_config.TextColumn(t("audit.when"), width="small"),
                "who": st.column_config.TextColumn(t("audit.who"), width="small"),
                "role": st.column_config.TextColumn(t("audit.role"), width="small"),
                "action": st.column_config.TextColumn(t("audit.action"), width="small"),
                "incident": st.column_config.TextColumn("#", width="small"),
                "target": st.column_config.TextColumn(t("audit.target")),
                "details": st.column_config.TextColumn(t("audit.details"), width="large"),
            },
        )
        st.caption(t("audit.help"))


# --- clips and the case package ---------------------------------------------------------------------


def clip_button(incident: IncidentRecord, number: int, event: Event) -> None:
    """Download this event's clip (cut when clicked, then kept)."""
    current = settings()
    st.download_button(
        t("clip.one"),
        partial(_clip_bytes, current, incident.id, number, current_principal()),
        file_name=file_name(incident, number, event),
        mime="video/mp4",
        icon=":material/movie:",
        help=t("clip.one_help", pre=f"{current.clip_pre_roll_sec:g}", post=f"{current.clip_post_roll_sec:g}"),
        on_click="ignore",
        key=f"sigma.clip.{incident.id}.{event.id}",
        width="stretch",
    )


def _clip_bytes(current: Settings, incident_id: int, number: int, actor: Principal) -> bytes:
    return event_clips(current, incident_id, [number], actor=actor)[0].cut.path.read_bytes()


def _all_clips_zip(current: Settings, incident_id: int, actor: Principal) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for clip in event_clips(current, incident_id, actor=actor):
            archive.write(clip.cut.path, clip.file_name)
    return buffer.getvalue()


def evidence_downloads(incident: IncidentRecord, events: list[Event]) -> None:
    """Clips of every event (ZIP) and the case package (built on the server, then downloaded)."""
    current, actor = settings(), current_principal()
    clips_col, package_col = st.columns(2)
    clips_col.download_button(
        t("clip.all"),
        partial(_all_clips_zip, current, incident.id, actor),
        file_name=package_bytes_name(incident).replace("-case.zip", "-clips.zip"),
        mime="application/zip",
        icon=":material/video_library:",
        help=t("clip.all_help"),
        on_click="ignore",
        disabled=not events,
        key=f"sigma.clips.{incident.id}",
        width="stretch",
    )
    with package_col:
        _package(incident, current, actor)


def _package_path(current: Settings, incident: IncidentRecord) -> Path:
    return derived_dir(current, incident.stored_name) / "packages" / package_bytes_name(incident)


def _package(incident: IncidentRecord, current: Settings, actor: Principal) -> None:
    key = _PACKAGE.format(id=incident.id)
    if st.button(t("package.build"), icon=":material/inventory_2:", key=f"{key}.build", width="stretch",
                 help=t("package.help")):  # fmt: skip
        with friendly_errors("case package"):
            bar = st.progress(0.0, text=t("package.building"))
            made = build_package(
                incident.id, _package_path(current, incident), current, actor=actor, lang=lang(),
                progress=lambda fraction, stage: bar.progress(min(1.0, fraction), text=stage),
            )  # fmt: skip
            bar.empty()
            st.session_state[key] = {"path": str(made.path), "files": len(made.files), "signed": made.signed}
    made = st.session_state.get(key)
    if not made or not Path(made["path"]).is_file():
        return
    path = Path(made["path"])
    bytes_ = path.stat().st_size
    signed = t("package.signed") if made["signed"] else t("package.unsigned")
    st.caption(t("package.ready", files=made["files"], size=size(bytes_), signed=signed))
    if bytes_ > BROWSER_DOWNLOAD_MAX_BYTES:
        st.info(
            t("package.too_large", size=size(bytes_), path=str(path), id=incident.id), icon=":material/info:"
        )
        return
    st.download_button(
        t("package.download"),
        path.read_bytes,
        file_name=path.name,
        mime="application/zip",
        icon=":material/download:",
        on_click="ignore",
        key=f"{key}.download",
        width="stretch",
    )
