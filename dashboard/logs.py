"""The processing log of a run: one row per step, with the model and prompt versions in use."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.i18n import word, worded
from core.views import IncidentRecord
from dashboard import data
from dashboard.fmt import when
from dashboard.i18n import lang, t
from dashboard.sidebar import engine_label


def logs_view(incident: IncidentRecord) -> None:
    st.caption(
        t(
            "logs.versions",
            engine=engine_label(incident.engine or incident.requested_engine),
            model=incident.model_version or "—",
            prompt=incident.prompt_version or "—",
        )
    )
    lines = data.load_logs(incident.id)
    if not lines:
        st.caption(t("logs.none"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                "time": [when(line.started_at) for line in lines],
                "step": [word(lang(), "report.step", line.step) for line in lines],
                "level": [word(lang(), "report.level", line.level) for line in lines],
                "message": [worded(lang(), line.words, line.message) for line in lines],
                "model": [line.model_version or "" for line in lines],
                "prompt": [line.prompt_version or "" for line in lines],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "time": st.column_config.TextColumn(t("logs.time"), width="small"),
            "step": st.column_config.TextColumn(t("logs.step"), width="small"),
            "level": st.column_config.TextColumn(t("logs.level"), width="small"),
            "message": st.column_config.TextColumn(t("logs.message"), width="large"),
            "model": st.column_config.TextColumn(t("logs.model")),
            "prompt": st.column_config.TextColumn(t("logs.prompt")),
        },
    )
