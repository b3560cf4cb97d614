"""The analyse page: upload a video (or try the sample the app makes itself), choose domain, engine and
analysis parameters (defaults: the `.env` values), and start; the incident page then shows the progress."""

from __future__ import annotations

import streamlit as st

from core.errors import InvalidInput, SigmaError
from core.i18n import reword
from core.samples import sample_moments
from core.schema import AnalysisParams
from core.timefmt import clock
from dashboard import actions
from dashboard.feedback import describe_error
from dashboard.i18n import lang, t
from dashboard.resources import settings
from dashboard.sidebar import (
    analysis_inputs,
    concern_inputs,
    engine_and_domain,
    engine_label,
    engine_refusal,
    with_concerns,
)


def render() -> None:
    current = settings()
    st.subheader(t("analyse.title"), anchor=False)
    st.caption(t("analyse.intro", limit=current.max_upload_mb))
    defaults = AnalysisParams.from_settings(current)
    with st.form("analyse", border=True):
        upload = st.file_uploader(
            t("analyse.file"),
            key="analyse.file",
            help=t("analyse.file_help"),
            max_upload_size=current.max_upload_mb,
        )
        left, right = st.columns(2)
        with left:
            engine, domain = engine_and_domain(defaults, "analyse")
        with right:
            st.caption(t("analyse.engine_now", engine=engine_label(current.resolved_engine)))
            if not current.llm_base_url:
                st.caption(t("analyse.no_model_server"))
        with st.expander(t("analyse.params"), icon=":material/tune:"):
            st.caption(t("analyse.params_help"))
            params = analysis_inputs(defaults, "analyse")
        with st.expander(t("concerns.title"), icon=":material/checklist:"):
            typed = concern_inputs(defaults, "analyse")
        go, sample = st.columns(2)
        start = go.form_submit_button(
            t("analyse.start"), type="primary", icon=":material/play_arrow:", width="stretch"
        )
        try_sample = sample.form_submit_button(t("analyse.sample"), icon=":material/movie:", width="stretch")
    chosen = params.model_copy(update={"engine": engine, "domain": domain})
    if start or try_sample:  # the analyst's words are checked before anything is stored or run
        try:
            chosen = with_concerns(chosen, *typed)
        except ValueError as error:
            st.error(
                t("concerns.refused", reason=reword(lang(), "refusal.", str(error))), icon=":material/block:"
            )
            return
        if refusal := engine_refusal(engine):
            st.error(refusal, icon=":material/cloud_off:")
            return
    if start:
        if upload is None:
            st.warning(t("analyse.no_file"), icon=":material/upload_file:")
            return
        try:
            with st.spinner(t("analyse.storing")):
                actions.analyse_upload(upload, upload.name, chosen)
        except InvalidInput as error:
            reason = error.text(lang())
            st.error(t("analyse.refused", name=upload.name, reason=reason), icon=":material/block:")
        except SigmaError as error:
            st.error(describe_error(error), icon=":material/error:")
    if try_sample:
        with st.spinner(t("analyse.making_sample")):
            actions.analyse_sample(chosen)
    moments = {kind: clock(at, decimals=0) for kind, at in sample_moments().items()}
    st.caption(
        t(
            "analyse.sample_help",
            wrong_way=moments["wrong_way"],
            crash=moments["meet_and_stop"],
            burst=moments["burst"],
        )
    )
