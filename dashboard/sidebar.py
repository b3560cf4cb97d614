"""The sidebar's two kinds of knobs, kept apart, and the language switch.

- Display filters act on stored results at once (no re-analysis, nothing written).
- Analysis parameters change what is computed: they sit in a form whose only action is "Re-analyse",
  which creates a new run of the same video.

Filter values live under their own session keys, not the widgets' keys, so they survive visits to other
pages (Streamlit forgets the state of widgets that a run does not draw).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from core import service
from core.concerns import (
    EXAMPLES,
    MAX_CONCERNS,
    SITE_CONTEXT_MAX_CHARS,
    concern_lines,
    examples,
    parse_concern,
    readable_error,
)
from core.config import AUTO_ENGINE
from core.engines import ENGINE_CHOICES
from core.i18n import LANGUAGE_NAMES, LANGUAGES, Language, reword, text
from core.schema import DOMAINS, SEVERITY_LEVELS, AnalysisParams
from core.taxonomy_i18n import type_label
from dashboard.filters import DisplayFilters
from dashboard.i18n import LANG_KEY, chosen_before, lang, per_language, streamlit_words, t
from dashboard.resources import settings

_FILTER_KEY = "sigma.filters"
DOMAIN_CHOICES = ("auto", *DOMAINS)


def language_switch() -> None:
    if st.session_state.get(LANG_KEY) not in LANGUAGES:
        st.session_state[LANG_KEY] = lang()
    st.sidebar.segmented_control(
        t("sidebar.language"),
        LANGUAGES,
        key=LANG_KEY,
        format_func=LANGUAGE_NAMES.__getitem__,
        selection_mode="single",
        required=True,
        label_visibility="collapsed",
        width="stretch",
    )
    # in the URL: a reload, a copied link and every page move (which starts with a bare URL) keep it
    if st.query_params.get("lang") != st.session_state[LANG_KEY]:
        st.query_params["lang"] = st.session_state[LANG_KEY]
    streamlit_words()


def current_filters() -> DisplayFilters:
    return st.session_state.get(_FILTER_KEY) or DisplayFilters()


def _store(**changes: object) -> None:
    values = current_filters().__dict__ | changes
    st.session_state[_FILTER_KEY] = DisplayFilters(**values)


def _copy_widget(widget_key: str, field: str) -> None:
    _store(**{field: st.session_state[widget_key]})


def _copy_types(widget_key: str, present: list[str]) -> None:
    shown = set(st.session_state[widget_key] or [])
    hidden = (set(current_filters().hidden_types) - set(present)) | (set(present) - shown)
    _store(hidden_types=frozenset(hidden))


def display_filters(present_types: list[str], score_label: str, place=None) -> DisplayFilters:
    """Draw the display filters (in `place`, default the sidebar) and return them; the types offered
    are those present, the score slider named for the engines' scores (`score_label`)."""
    filters = current_filters()
    box = (place or st.sidebar).container(border=True)
    box.markdown(f"**{t('filters.title')}**")
    box.caption(t("filters.help"))
    st.session_state["w.filter.min_confidence"] = filters.min_confidence
    box.slider(
        score_label,
        0.0,
        1.0,
        step=0.05,
        key="w.filter.min_confidence",
        on_change=_copy_widget,
        args=("w.filter.min_confidence", "min_confidence"),
    )
    st.session_state["w.filter.min_duration"] = filters.min_duration
    box.slider(
        t("filters.min_duration"),
        0.0,
        10.0,
        step=0.1,
        format=t("unit.seconds", value="%.1f"),
        key="w.filter.min_duration",
        on_change=_copy_widget,
        args=("w.filter.min_duration", "min_duration"),
    )
    present = sorted(set(present_types))
    if not present:
        box.caption(t("filters.no_types"))
    else:
        _type_filter(box, present, filters)
    st.session_state["w.filter.min_severity"] = filters.min_severity
    box.select_slider(
        t("filters.min_severity"),
        options=SEVERITY_LEVELS,
        format_func=_severity_choice,
        key="w.filter.min_severity",
        on_change=_copy_widget,
        args=("w.filter.min_severity", "min_severity"),
    )
    st.session_state["w.filter.hide_dismissed"] = filters.hide_dismissed
    box.toggle(
        t("filters.hide_dismissed"),
        key="w.filter.hide_dismissed",
        on_change=_copy_widget,
        args=("w.filter.hide_dismissed", "hide_dismissed"),
    )
    if filters.active:
        box.button(t("filters.reset"), on_click=_store_defaults, icon=":material/restart_alt:")
    return filters


def _type_filter(box, present: list[str], filters: DisplayFilters) -> None:
    st.session_state["w.filter.types"] = [code for code in present if code not in filters.hidden_types]
    box.multiselect(
        t("filters.types"),
        present,
        key="w.filter.types",
        format_func=partial(type_label, lang=lang()),
        on_change=_copy_types,
        args=("w.filter.types", present),
        placeholder=t("filters.types_none"),
    )


def _severity_choice(level: int) -> str:
    if level == 2:
        return t("filters.severity_danger")
    if level == 1:
        return t("filters.severity_concern")
    return t("filters.severity_all")


def _store_defaults() -> None:
    st.session_state[_FILTER_KEY] = DisplayFilters()


def engine_label(engine: str, language: Language | None = None) -> str:
    language = language or lang()  # bound when a widget is drawn: its labels stay in that run's language
    return text(language, f"engine.{engine}")


def engine_short(engine: str) -> str:
    """The engine's name for a narrow column."""
    return t(f"engine.short.{engine}")


def domain_label(domain: str, language: Language | None = None) -> str:
    language = language or lang()  # bound when a widget is drawn: its labels stay in that run's language
    return text(language, f"domain.{domain}")


def run_domain(inferred: str | None, requested: str) -> str:
    """A run's domain in a few words: the inferred one, else the requested one ("auto" stays short)."""
    domain = inferred or requested
    return t("domain.short.auto") if domain == "auto" else domain_label(domain)


def param_bounds(name: str, step: float) -> tuple[float | None, float | None]:
    """The range `AnalysisParams` accepts for the field `name`, as a number input's min and max (None:
    unbounded); an exclusive bound becomes the first step inside it (gt=0 with step 0.25 → 0.25)."""
    low = high = None
    for rule in AnalysisParams.model_fields[name].metadata:
        if getattr(rule, "ge", None) is not None:
            low = rule.ge
        elif getattr(rule, "gt", None) is not None:
            low = rule.gt + step
        elif getattr(rule, "le", None) is not None:
            high = rule.le
        elif getattr(rule, "lt", None) is not None:
            high = rule.lt - step
    kind = type(step)
    return (None if low is None else kind(low)), (None if high is None else kind(high))


def analysis_inputs(defaults: AnalysisParams, key: str, container=st) -> AnalysisParams:
    """The analysis parameters as inputs (inside a form), defaulting to `defaults`; returns the choice.
    Their bounds are the ones `AnalysisParams` checks."""
    window_sec = container.number_input(
        t("params.window_sec"), *param_bounds("window_sec", 0.25), float(defaults.window_sec), 0.25,
        key=f"{key}.window_sec", help=t("params.window_sec_help"),
    )  # fmt: skip
    target_fps = container.number_input(
        t("params.target_fps"), *param_bounds("target_fps", 0.5), float(defaults.target_fps), 0.5,
        key=f"{key}.target_fps", help=t("params.target_fps_help"),
    )  # fmt: skip
    frames = container.number_input(
        t("params.frames_per_window"), *param_bounds("frames_per_window", 1), int(defaults.frames_per_window), 1,
        key=f"{key}.frames", help=t("params.frames_per_window_help"),
    )  # fmt: skip
    highlights = container.number_input(
        t("params.max_highlights"), *param_bounds("max_highlights", 1), int(defaults.max_highlights), 1,
        key=f"{key}.highlights", help=t("params.max_highlights_help"),
    )  # fmt: skip
    return AnalysisParams(
        window_sec=window_sec,
        target_fps=target_fps,
        frames_per_window=int(frames),
        max_highlights=int(highlights),
        engine=defaults.engine,
        domain=defaults.domain,
    )


def concern_inputs(defaults: AnalysisParams, key: str, container=st) -> tuple[str, str, list[str]]:
    """The site context, the analyst's concerns (one `CODE: definition` per line) and the ready
    examples picked, as typed: `with_concerns` checks them once the form is submitted."""
    container.caption(t("concerns.help"))
    if not settings().llm_base_url:
        container.caption(t("concerns.local_only"))
    context = container.text_area(
        t("concerns.context"), value=defaults.site_context, max_chars=SITE_CONTEXT_MAX_CHARS,
        key=f"{key}.context", placeholder=t("concerns.context_placeholder"),
        help=t("concerns.context_help", limit=SITE_CONTEXT_MAX_CHARS),
    )  # fmt: skip
    lines = container.text_area(
        t("concerns.list"), value=concern_lines(defaults.concerns), key=f"{key}.concerns",
        placeholder=t("concerns.list_placeholder"), help=t("concerns.list_help", count=MAX_CONCERNS),
    )  # fmt: skip
    first = [defaults.domain] if defaults.domain in EXAMPLES else []
    options = [f"{d}/{code}" for d in dict.fromkeys([*first, *EXAMPLES]) for code in EXAMPLES[d]]
    picked = container.multiselect(
        t("concerns.examples"), options, key=f"{key}.examples", format_func=partial(_example_label, language=lang()),
        help=t("concerns.examples_help"), placeholder=t("concerns.examples_placeholder"),
    )  # fmt: skip
    return context, lines, picked


def _example_label(option: str, language: Language) -> str:
    domain, code = option.split("/", 1)
    concern = next(c for c in examples(domain, language) if c.code == code)
    return f"{domain_label(domain, language)} · {concern.code}: {concern.definition}"


def with_concerns(params: AnalysisParams, context: str, lines: str, picked: list[str]) -> AnalysisParams:
    """`params` with the context and concerns typed and the examples picked; `ValueError` with a
    reason a person can act on when they are refused (nothing has run or been stored then)."""
    try:
        concerns = [parse_concern(line) for line in lines.splitlines() if line.strip()]
        for option in picked:
            domain, code = option.split("/", 1)
            if all(c.code != code for c in concerns):
                concerns += [c for c in examples(domain, lang()) if c.code == code]
        return AnalysisParams.model_validate(
            {**params.model_dump(), "site_context": context, "concerns": [c.model_dump() for c in concerns]}
        )
    except ValueError as error:  # pydantic's ValidationError too
        raise ValueError(readable_error(error)) from None


def engine_and_domain(defaults: AnalysisParams, key: str, container=st) -> tuple[str, str]:
    engine = container.selectbox(
        t("params.engine"), ENGINE_CHOICES, key=per_language(f"{key}.engine"),
        index=ENGINE_CHOICES.index(chosen_before(f"{key}.engine", defaults.engine)),
        format_func=partial(engine_label, language=lang()), help=t("params.engine_help"),
    )  # fmt: skip
    domain = container.selectbox(
        t("params.domain"), DOMAIN_CHOICES, key=per_language(f"{key}.domain"),
        index=DOMAIN_CHOICES.index(chosen_before(f"{key}.domain", defaults.domain)),
        format_func=partial(domain_label, language=lang()), help=t("params.domain_help"),
    )  # fmt: skip
    if engine == "vlm" and not settings().llm_base_url:
        container.caption(t("params.vlm_unconfigured"))
    return engine, domain


def engine_refusal(engine: str) -> str | None:
    """Why an analysis with `engine` cannot start now, said before anything is stored: the VLM engine
    (chosen, or what `auto` means here) with no model server configured, or one that does not answer."""
    current = settings()
    if (current.resolved_engine if engine == AUTO_ENGINE else engine) != "vlm":
        return None
    if not current.llm_base_url:
        return t("params.vlm_refused_unconfigured")
    check = service.model_server(current)  # a short timeout, kept a few seconds
    if check is not None and not check.ok:
        return t("params.vlm_refused_unreachable", detail=check.detail)
    return None


def reanalyse_form(
    run_params: AnalysisParams, incident_id: int, on_submit: Callable[[AnalysisParams], None]
) -> None:
    """The analysis parameters of this run; "Re-analyse" makes a new run with the values chosen."""
    box = st.sidebar.container(border=True)
    box.markdown(f"**{t('params.title')}**")
    box.caption(t("params.help"))
    with box.form(f"reanalyse-{incident_id}", border=False):
        engine, domain = engine_and_domain(run_params, f"reanalyse-{incident_id}")
        chosen = analysis_inputs(run_params, f"reanalyse-{incident_id}")
        with st.expander(t("concerns.title"), icon=":material/checklist:"):
            typed = concern_inputs(run_params, f"reanalyse-{incident_id}")
        if st.form_submit_button(t("params.reanalyse"), icon=":material/replay:", width="stretch"):
            try:
                params = with_concerns(chosen.model_copy(update={"engine": engine, "domain": domain}), *typed)
            except ValueError as error:
                box.error(
                    t("concerns.refused", reason=reword(lang(), "refusal.", str(error))),
                    icon=":material/block:",
                )
            else:
                if refusal := engine_refusal(engine):
                    box.error(refusal, icon=":material/cloud_off:")
                else:
                    on_submit(params)
