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

from core.ask import AskUnavailable, ask_model, unavailable_reason
from core.errors import InvalidInput
from core.search import Hit, search
from core.taxonomy_i18n import type_label
from dashboard.actions import open_incident
from dashboard.fmt import clock
from dashboard.i18n import lang
from dashboard.player import request_seek, set_seek
from dashboard.resources import session, settings

SEARCH_LIMIT = 30

_TEXT = {
    "search.label": {"en": "Search the storyboard and events", "ru": "Поиск по раскадровке и событиям"},
    "search.label_all": {"en": "Search all incidents", "ru": "Поиск по всем инцидентам"},
    "search.placeholder": {
        "en": 'e.g. collision, драка, "red car"',
        "ru": 'например: ДТП, драка, fight, "красная машина"',
    },
    "search.count": {"en": "{n} hit(s)", "ru": "Найдено: {n}"},
    "search.types": {"en": "Also matched event types: {types}", "ru": "Найдены также типы событий: {types}"},
    "search.partial": {
        "en": "No place has every word; showing places with some of them.",
        "ru": "Нет мест со всеми словами; показаны места, где есть часть слов.",
    },
    "search.none": {"en": "Nothing found for «{query}».", "ru": "По запросу «{query}» ничего не найдено."},
    "search.window": {"en": "window", "ru": "окно"},
    "search.event": {"en": "event", "ru": "событие"},
    "search.score": {"en": "score {score:.2f}", "ru": "оценка {score:.2f}"},
    "search.play": {"en": "Play from {time}", "ru": "Смотреть с {time}"},
    "search.open": {"en": "Open incident #{id} at {time}", "ru": "Открыть инцидент №{id} на {time}"},
    "ask.label": {"en": "Ask the model about this video", "ru": "Спросить модель об этом видео"},
    "ask.placeholder": {
        "en": "e.g. When does the white car appear?",
        "ru": "например: когда появляется белая машина?",
    },
    "ask.submit": {"en": "Ask", "ru": "Спросить"},
    "ask.thinking": {"en": "The model is reading the storyboard…", "ru": "Модель читает раскадровку…"},
    "ask.no_server": {
        "en": "Asking the model needs a model server: set LLM_BASE_URL (an OpenAI-compatible API such as vLLM). "
        "Search works without one.",
        "ru": "Чтобы спрашивать модель, нужен сервер модели: задайте LLM_BASE_URL (API, совместимый с OpenAI, "
        "например vLLM). Поиск работает и без него.",
    },
    "ask.failed": {"en": "The model could not answer: {reason}", "ru": "Модель не смогла ответить: {reason}"},
    "ask.sources": {"en": "Windows the answer relies on:", "ru": "Окна, на которые опирается ответ:"},
    "ask.no_sources": {"en": "The answer cites no window.", "ru": "Ответ не ссылается ни на одно окно."},
    "ask.selection": {
        "en": "The model saw {sent} of {total} windows (those closest to the question).",
        "ru": "Модель видела {sent} из {total} окон (ближайшие к вопросу).",
    },
    "ask.model": {"en": "Answered by {model}", "ru": "Ответила модель {model}"},
}


def _t(key: str, **values: object) -> str:
    return _TEXT[key][lang()].format(**values)


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
        what = f"{_t('search.event')}: <b>{safe_html(type_label(hit.event_type, lang()))}</b>"
    else:
        what = _t("search.window") + (f" {hit.window_index + 1}" if hit.window_index is not None else "")
    return f"{where}{times} · {what}"


@st.fragment
def search_panel(*, incident_id: int | None = None, key: str = "sigma.search") -> None:
    """The search box and its hits, in one incident (`incident_id`) or across all of them."""
    across = incident_id is None
    query = st.text_input(
        _t("search.label_all" if across else "search.label"),
        key=f"{key}.query.{incident_id}",
        placeholder=_t("search.placeholder"),
        icon=":material/search:",
    )
    if not query.strip():
        return
    with session() as opened:
        found = search(opened, query, incident_id=incident_id, limit=SEARCH_LIMIT)
    if not found.hits:
        st.caption(_t("search.none", query=query.strip()))
        return
    notes = [_t("search.count", n=len(found.hits))]
    if found.types:
        notes.append(_t("search.types", types=", ".join(type_label(code, lang()) for code in found.types)))
    st.caption(" · ".join(notes))
    if not found.matched_all:
        st.caption(_t("search.partial"))
    for number, hit in enumerate(found.hits):
        play_col, text_col = st.columns([1, 6], vertical_alignment="center")
        clicked = play_col.button(
            clock(hit.start_time),
            key=f"{key}.hit.{incident_id}.{number}",
            icon=":material/play_arrow:",
            help=_t("search.open", id=hit.incident_id, time=clock(hit.start_time))
            if across
            else _t("search.play", time=clock(hit.start_time)),
            width="stretch",
        )
        text_col.markdown(
            f"{_hit_heading(hit, across)} · <small>{_t('search.score', score=hit.score)}</small><br>"
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
        st.info(_t("ask.no_server"), icon=":material/cloud_off:")
        return
    with st.form(key=f"{key}.form.{incident_id}", border=False):
        question = st.text_input(
            _t("ask.label"), placeholder=_t("ask.placeholder"), key=f"{key}.q.{incident_id}"
        )
        asked = st.form_submit_button(_t("ask.submit"), icon=":material/forum:")
    if asked and question.strip():
        try:
            with st.spinner(_t("ask.thinking")):
                answer = ask_model(incident_id, question, current)
            st.session_state[_answer_key(key, incident_id)] = answer.model_dump()
        except (AskUnavailable, InvalidInput) as error:
            st.session_state.pop(_answer_key(key, incident_id), None)
            st.warning(_t("ask.failed", reason=str(error)), icon=":material/error:")
            return
    answer = st.session_state.get(_answer_key(key, incident_id))
    if not answer:
        return
    st.markdown(f"**{safe_html(answer['question'])}**")
    st.markdown(safe_html(answer["answer"]))
    if answer["windows_sent"] < answer["windows_total"]:
        st.caption(_t("ask.selection", sent=answer["windows_sent"], total=answer["windows_total"]))
    st.caption(_t("ask.model", model=answer["model"]))
    if not answer["citations"]:
        st.caption(_t("ask.no_sources"))
        return
    st.caption(_t("ask.sources"))
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
