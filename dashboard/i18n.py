"""The viewer's language and `t(key)`, over core's catalogues (`core/i18n/<code>.py`).

The language is the sidebar switch, first set from `?lang=` in the URL or UI_LANGUAGE; the switch
writes it back to the URL, so it survives reloads, links and page moves. Event type and review
labels come from `core.taxonomy_i18n`, shared with the report and the exports.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.config import get_settings
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, reword, text

LANG_KEY = "sigma.lang"


def lang() -> Language:
    """The viewer's language: chosen in the sidebar, else `?lang=` in the URL, else UI_LANGUAGE."""
    if get_script_run_ctx(suppress_warning=True) is not None:  # outside a run (AppTest formatting) no state
        chosen = st.session_state.get(LANG_KEY)
        if chosen in LANGUAGES:
            return chosen
        asked = st.query_params.get("lang")
        if asked in LANGUAGES:
            return asked
    try:
        return get_settings().ui_language
    except Exception:  # noqa: BLE001 - broken settings are reported by the page; the words still show
        return DEFAULT_LANGUAGE


def t(key: str, **values: object) -> str:
    return text(lang(), key, **values)


def described(words: str | None) -> str | None:
    """An event's or a window's description in the viewer's language when the local engine wrote it
    (its catalogue's words); a model's own words as it wrote them."""
    return reword(lang(), "local.", words) if isinstance(words, str) else words


def per_language(key: str) -> str:
    """The key of a widget whose options are worded (`format_func`): one per language, because the
    browser keeps showing a keyed select box's label from before a switch of language."""
    return f"{key}.{lang()}"


def chosen_before(key: str, default: object) -> object:
    """What the widget `per_language(key)` held under any language's key in the last run, else
    `default`: the choice survives a switch of language."""
    for other in (lang(), *LANGUAGES):
        if f"{key}.{other}" in st.session_state:
            return st.session_state[f"{key}.{other}"]
    return default


def _css_string(words: str) -> str:
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'


def streamlit_words() -> None:
    """Streamlit's own words in the file uploader (its "Upload" button and "200MB per file"), which it
    offers no setting for, replaced by the catalogue's through CSS. ("Drag and drop a file here", shown
    only while a file is dragged over, has no element CSS can single out.)"""
    limit = get_settings().max_upload_mb
    button, limit_text = _css_string(t("uploader.button")), _css_string(t("uploader.limit", limit=limit))
    zone = '[data-testid="stFileUploaderDropzone"]'
    st.html(
        f"""<style>
{zone} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p {{ display: none; }}
{zone} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"]::after {{ content: {button}; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div > span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{ content: {limit_text}; }}
</style>"""
    )
