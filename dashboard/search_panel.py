"""Search box with its hits, and the "Ask the model" box: Streamlit building blocks over core.search
and core.ask.

    from dashboard.search_panel import search_panel, ask_panel
    search_panel(incident_id=12)      # incident page: a hit seeks this incident's player
    search_panel()                    # incidents page: across all incidents; a hit opens the incident there
    ask_panel(12)                     # incident page: a question about the stored storyboard

Each hit shows where (incident, time), what (window or event type), the snippet with the matched words
marked, and its score. Both panels are fragments: typing reruns only them; a click that seeks reruns
the page so the player moves.
"""

from __future__ import annotations

import html

import streamlit as st

from core import service
from core.ask import AskUnavailable, ask_model, unavailable_reason
from core.errors import InvalidInput
from core.search import Hit
from core.taxonomy_i18n import type_label
from core.timefmt import clock
from dashboard.actions import open_incident
from dashboard.i18n import lang, t
from dashboard.player import request_seek, set_seek
from dashboard.resources import settings

SEARCH_LIMIT = 30


def safe_html(text: str) -> str:
    """Text shown as is inside st.markdown: HTML escaped, and Markdown, LaTeX and Streamlit directives
    (`*`, `_`, `` ` ``, `$`, `:`, `[`...) turned into entities so model text cannot format the page."""
    escaped = html.escape(text, quote=False)
    return "".join(f"&#{ord(c)};" if c in "\\`*_{}[]()#+-.!|$:~<>" else c for c in escaped.replace("\n", " "))


def snippet_html(hit: Hit) -> str:
    return hit.marked("<mark>", "</mark>", escape=safe_html)


def _hit_heading(hit: Hit, across: bool) -> str:
    where = f"#{hit.incident_id} · {safe_html(hit.original_name)} · " if across else ""
    times = f"{clock(hit.start_time)}–{clock(hit.end_time)}"
    if hit.kind == "event" and hit.event_type:
        what = f"{t('search.event')}: <b>{safe_html(type_label(hit.event_type, lang()))}</b>"
    else:
        what = t("search.window") + (f" {hit.window_index + 1}" if hit.window_index is not None else "")
    return f"{where}{times} · {what}"


@st.fragment
def search_panel(*, incident_id: int | None = None, key: str = "sigma.search") -> None:
    """The search box and its hits, in one incident (`incident_id`) or across all of them."""
    across = incident_id is None
    query = st.text_input(
        t("search.label_all") if across else t("search.label"),
        key=f"{key}.query.{incident_id}",
        placeholder=t("search.placeholder"),
        icon=":material/search:",
    )
    if not query.strip():
        return
    found = service.search_incidents(query, settings(), incident_id=incident_id, limit=SEARCH_LIMIT)
    if not found.hits:
        st.caption(t("search.none", query=query.strip()))
        return
    notes = [t("search.count", n=len(found.hits))]
    if found.event_types:
        notes.append(
            t("search.types", types=", ".join(type_label(code, lang()) for code in found.event_types))
        )
    st.caption(" · ".join(notes))
    if not found.matched_all:
        st.caption(t("search.partial"))
    for number, hit in enumerate(found.hits):
        play_col, text_col = st.columns([1, 6], vertical_alignment="center")
        clicked = play_col.button(
            clock(hit.start_time),
            key=f"{key}.hit.{incident_id}.{number}",
            icon=":material/play_arrow:",
            help=t("search.open", id=hit.incident_id, time=clock(hit.start_time))
            if across
            else t("search.play", time=clock(hit.start_time)),
            width="stretch",
        )
        text_col.markdown(
            f"{_hit_heading(hit, across)} · <small>{t('search.score', score=hit.score)}</small><br>"
            f"{snippet_html(hit)}",
            unsafe_allow_html=True,
        )
        if clicked:
            if across:
                set_seek(hit.incident_id, hit.start_time, event_id=hit.event_id)
                open_incident(hit.incident_id)
            else:
                request_seek(hit.incident_id, hit.start_time, event_id=hit.event_id)


def _answer_key(key: str, incident_id: int) -> str:
    return f"{key}.answer.{incident_id}"


@st.fragment
def ask_panel(incident_id: int, *, key: str = "sigma.ask") -> None:
    """A question about the incident's stored storyboard; the answer's cited windows seek the player.
    Without a model server it says why it is unavailable."""
    current = settings()
    if unavailable_reason(current):
        st.info(t("ask.no_server"), icon=":material/cloud_off:")
        return
    with st.form(key=f"{key}.form.{incident_id}", border=False):
        question = st.text_input(
            t("ask.label"), placeholder=t("ask.placeholder"), key=f"{key}.q.{incident_id}"
        )
        asked = st.form_submit_button(t("ask.submit"), icon=":material/forum:")
    if asked and question.strip():
        try:
            with st.spinner(t("ask.thinking")):
                answer = ask_model(incident_id, question, current)
            st.session_state[_answer_key(key, incident_id)] = answer.model_dump()
        except (AskUnavailable, InvalidInput) as error:
            st.session_state.pop(_answer_key(key, incident_id), None)
            st.warning(t("ask.failed", reason=str(error)), icon=":material/error:")
            return
    answer = st.session_state.get(_answer_key(key, incident_id))
    if not answer:
        return
    st.markdown(f"**{safe_html(answer['question'])}**")
    st.markdown(safe_html(answer["answer"]))
    if answer["windows_sent"] < answer["windows_total"]:
        st.caption(t("ask.selection", sent=answer["windows_sent"], total=answer["windows_total"]))
    st.caption(t("ask.model", model=answer["model"]))
    if not answer["citations"]:
        st.caption(t("ask.no_sources"))
        return
    st.caption(t("ask.sources"))
    for citation in answer["citations"]:
        button_col, text_col = st.columns([1, 6], vertical_alignment="center")
        label = f"W{citation['number']} · {clock(citation['start_time'])}"
        if button_col.button(
            label,
            key=f"{key}.cite.{incident_id}.{citation['number']}",
            icon=":material/play_arrow:",
            width="stretch",
        ):
            request_seek(incident_id, citation["start_time"])
        text_col.markdown(
            f"{clock(citation['start_time'])}–{clock(citation['end_time'])} · {safe_html(citation['description'])}",
            unsafe_allow_html=True,
        )
