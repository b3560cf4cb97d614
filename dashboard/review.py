"""The selected event: what it is, stepping to the previous or next one, and the investigator's review.

A review (confirmed / dismissed, and a note) is stored with who and when by `core.service.review` (which
also records it in the audit trail) and shows on the timeline (marker shape), in the table and in the
report.
"""

from __future__ import annotations

import html

import streamlit as st

from core import service
from core.schema import Event, ReviewStatus
from core.taxonomy_i18n import review_label, severity_label, type_label
from core.timefmt import clock
from dashboard.auth import current_principal
from dashboard.data import load_events, load_incident
from dashboard.evidence import clip_button
from dashboard.feedback import flash
from dashboard.fmt import when
from dashboard.i18n import described, lang, t
from dashboard.player import set_seek
from dashboard.resources import settings

REVIEW_CHOICES = ("none", ReviewStatus.CONFIRMED.value, ReviewStatus.DISMISSED.value)


def save_review(event_id: int, choice: str, note: str) -> None:
    status = None if choice == "none" else ReviewStatus(choice)
    service.review(event_id, settings(), status=status, note=note, actor=current_principal())


def event_card(
    incident_id: int, event: Event | None, shown: list[Event], colour: str | None, *, local: bool = False
) -> None:
    if event is None:
        if not shown:
            st.caption(t("card.hint_no_events"))
            return
        st.info(t("card.hint"), icon=":material/touch_app:")
        first = shown[0]
        st.button(
            t("card.first_event", time=clock(first.start_time)),
            on_click=set_seek,
            args=(incident_id, first.start_time),
            kwargs={"event_id": first.id},
            icon=":material/skip_next:",
            key=f"card-first-{incident_id}",
        )
        _next_unreviewed_button(incident_id, None, shown)
        return
    dot = f"<span style='color:{colour}'>●</span> " if colour else ""
    st.markdown(f"#### {dot}{html.escape(type_label(event.event_type, lang()))}", unsafe_allow_html=True)
    figures = {
        "start": clock(event.start_time),
        "end": clock(event.end_time),
        "duration": f"{event.duration:.2f}",
        "confidence": f"{event.confidence:.2f}",
        "pass_no": event.pass_no,
    }
    st.markdown(t("card.times_local", **figures) if local else t("card.times", **figures))
    if event.severity is not None:
        st.markdown(t("card.severity", severity=severity_label(event.severity, lang())))
    if event.description:
        st.write(described(event.description))
    _step_buttons(incident_id, event, shown)
    _next_unreviewed_button(incident_id, event, shown)
    if current_principal().can_change:
        _review_form(event)
    else:
        _review_text(event)
    _reviewed_by(event)
    incident = load_incident(incident_id)
    if incident is not None:
        numbers = [e.id for e in load_events(incident_id)]
        if event.id in numbers:
            clip_button(incident, numbers.index(event.id) + 1, event)


def _review_text(event: Event) -> None:
    """A viewer sees the verdict and the note, with no form to change them."""
    status = event.review_status.value if event.review_status else None
    st.markdown(f"**{t('card.review')}:** {review_label(status, lang())}")
    if event.review_note:
        st.text(f"{t('card.note')}: {event.review_note}")  # as typed, never read as markdown


def _reviewed_by(event: Event) -> None:
    """Who gave the verdict and when (and whether it came from an earlier run)."""
    if not event.reviewed_by or not (event.review_status or event.review_note):
        return
    line = t("card.reviewed_by", who=event.reviewed_by, when=when(event.reviewed_at))
    if event.review_carried_from:
        line += " " + t("card.carried_over", event=event.review_carried_from)
    st.caption(line)


def _step_buttons(incident_id: int, event: Event, shown: list[Event]) -> None:
    ids = [e.id for e in shown]
    position = ids.index(event.id) if event.id in ids else None
    before = shown[position - 1] if position not in (None, 0) else None
    after = shown[position + 1] if position is not None and position + 1 < len(shown) else None
    back, replay, forward = st.columns(3)
    for column, target, label, icon, name in (
        (back, before, t("card.previous"), ":material/skip_previous:", "prev"),
        (replay, event, t("card.replay"), ":material/replay:", "replay"),
        (forward, after, t("card.next"), ":material/skip_next:", "next"),
    ):
        _seek_button(column, label, icon, incident_id, target, key=f"card-{name}-{event.id}")


def next_unreviewed(current: Event | None, shown: list[Event]) -> Event | None:
    """The first event without a verdict after `current` in time (from the start again past the last
    one), so an investigator can work through a run event by event."""
    open_ = [e for e in shown if e.review_status is None and (current is None or e.id != current.id)]
    if current is None:
        return open_[0] if open_ else None
    key = (current.start_time, current.end_time, current.id or 0)
    return next(
        (e for e in open_ if (e.start_time, e.end_time, e.id or 0) > key), open_[0] if open_ else None
    )


def _next_unreviewed_button(incident_id: int, current: Event | None, shown: list[Event]) -> None:
    target = next_unreviewed(current, shown)
    left = sum(e.review_status is None for e in shown)
    label = t("card.next_unreviewed", count=left) if target else t("card.all_reviewed")
    _seek_button(st, label, ":material/rule:", incident_id, target, key=f"card-unreviewed-{incident_id}")


def _seek_button(container, label: str, icon: str, incident_id: int, target: Event | None, key: str) -> None:
    """A button that selects `target` and plays from its start (disabled when there is none)."""
    container.button(
        label,
        icon=icon,
        disabled=target is None,
        on_click=set_seek,
        args=(incident_id, target.start_time if target else 0.0),
        kwargs={"event_id": target.id if target else None},
        key=key,
        width="stretch",
    )


def _review_form(event: Event) -> None:
    current = event.review_status.value if event.review_status else "none"
    with st.form(f"review-{event.id}", border=True):
        choice = st.radio(
            t("card.review"),
            REVIEW_CHOICES,
            index=REVIEW_CHOICES.index(current),
            format_func=lambda value: review_label(None if value == "none" else value, lang()),
            horizontal=True,
            key=f"review-choice-{event.id}",
        )
        note = st.text_area(
            t("card.note"), value=event.review_note or "", key=f"review-note-{event.id}", height=80,
            max_chars=2000,
        )  # fmt: skip
        if st.form_submit_button(t("card.save_review"), icon=":material/save:"):
            save_review(event.id, choice, note)
            flash(t("card.review_saved", label=review_label(None if choice == "none" else choice, lang())))
            st.rerun()
