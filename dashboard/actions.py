"""What the buttons do: start an analysis, re-analyse, delete. Each ends in a page switch or a message.

Writes go through `core.service` and `core.jobs`; a refusal (bad file, full queue) is shown as it is.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import BinaryIO

import streamlit as st

from core import jobs, service
from core.errors import SigmaError
from core.samples import make_sample_clip
from core.schema import AnalysisParams
from dashboard.auth import current_principal
from dashboard.feedback import describe_error, flash
from dashboard.i18n import lang, t
from dashboard.resources import settings, submit_analysis

ANALYSE_PAGE = "app_pages/analyse.py"
INCIDENT_PAGE = "app_pages/incident.py"
INCIDENTS_PAGE = "app_pages/incidents.py"
SAMPLE_NAME = "sigma-sample.mp4"


def open_incident(incident_id: int) -> None:
    st.switch_page(INCIDENT_PAGE, query_params={"id": str(incident_id), "lang": lang()})


def _start(incident_id: int, *, admitted: bool = False) -> None:
    """Dispatch, then open the incident; a refused dispatch is recorded FAILED by core and shown there."""
    try:
        if admitted:
            jobs.dispatch(incident_id, settings())
        else:
            submit_analysis(incident_id)
    except SigmaError as error:
        flash(t("analyse.not_started", reason=describe_error(error)), "error")
    open_incident(incident_id)


def analyse_upload(source: BinaryIO, original_name: str, params: AnalysisParams) -> None:
    """Store and validate an upload, create its incident and start it. A bad file raises `InvalidInput`
    (nothing is left behind) for the caller to show."""
    # admitted before anything is stored, and again as its row is written: a full queue leaves nothing
    incident_id = service.register_video(
        source, settings(), params, original_name=original_name, admit=True, actor=current_principal()
    )
    _start(incident_id, admitted=True)


def sample_path() -> Path:
    """The sample clip, made once per storage dir (written atomically, so two first visits are safe)."""
    folder = settings().storage_dir / "samples"
    path = folder / SAMPLE_NAME
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{uuid.uuid4().hex}.part.mp4"
        make_sample_clip(partial)
        partial.replace(path)
    return path


def analyse_sample(params: AnalysisParams) -> None:
    with open(sample_path(), "rb") as handle:
        incident_id = service.register_video(
            handle, settings(), params, original_name=SAMPLE_NAME, admit=True, actor=current_principal()
        )
    _start(incident_id, admitted=True)


def reanalyse(incident_id: int, params: AnalysisParams) -> None:
    new_id = service.rerun(incident_id, settings(), params, actor=current_principal())
    flash(t("incident.reanalyse_started", id=new_id, previous=incident_id), "success")
    _start(new_id)


def delete_incidents(incident_ids: list[int]) -> int:
    """Delete each; a refusal (legal hold, a viewer) is shown and the others still go. Returns how many went."""
    deleted = 0
    for incident_id in incident_ids:
        try:
            service.delete(incident_id, settings(), actor=current_principal())
            deleted += 1
        except SigmaError as error:
            flash(describe_error(error), "error")
    if deleted:
        flash(t("incidents.deleted", count=deleted), "success")
    return deleted
