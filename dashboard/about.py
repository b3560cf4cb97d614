"""The about page: which engine analyses, whether the model server answers (and with which model),
versions, and where storage and the database are. Secrets never show: the database URL's password is
masked and LLM_API_KEY is only used, never printed."""

from __future__ import annotations

import platform
import shutil
from importlib.metadata import PackageNotFoundError, version

import imageio_ffmpeg
import pandas as pd
import streamlit as st

from core import service
from core.config import Settings, mask_url
from core.engines import AVAILABLE_ENGINES
from core.llm import ServerStatus, server_status
from dashboard.fmt import size
from dashboard.i18n import t
from dashboard.resources import settings
from dashboard.sidebar import engine_label

_PACKAGES = (
    "streamlit",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "opencv-python-headless",
    "numpy",
    "plotly",
    "httpx",
)


@st.cache_data(ttl=15, show_spinner=False)
def check_model_server(base_url: str) -> ServerStatus:
    """GET {LLM_BASE_URL}/models through the one model-server client, quickly (cached for 15 s per URL)."""
    return server_status(settings())


def masked_database_url(current: Settings) -> str:
    """The database URL with its password and secret query parameters (`?password=`) masked."""
    return mask_url(current.resolved_database_url)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "—"


def render() -> None:
    current = settings()
    st.subheader(t("about.title"), anchor=False)
    st.caption(t("about.intro"))
    _engine(current)
    _storage(current)
    _versions()


def _engine(current: Settings) -> None:
    st.markdown(f"##### {t('about.engine')}")
    st.write(t("about.engine_in_use", engine=engine_label(current.resolved_engine), setting=current.engine))
    if not current.llm_base_url:
        st.info(t("about.no_server"), icon=":material/cloud_off:")
        return
    check = check_model_server(current.llm_base_url)
    if check.reachable:
        models = ", ".join(check.models) or "—"
        st.success(
            t("about.server_ok", url=mask_url(current.llm_base_url), models=models),
            icon=":material/cloud_done:",
        )
        if current.llm_model and current.llm_model not in check.models:
            st.warning(t("about.model_missing", model=current.llm_model), icon=":material/warning:")
    else:
        st.error(
            t("about.server_down", url=mask_url(current.llm_base_url), detail=check.detail),
            icon=":material/cloud_off:",
        )
    st.caption(t("about.model_setting", model=current.llm_model or t("about.model_auto")))


def _storage(current: Settings) -> None:
    st.markdown(f"##### {t('about.storage')}")
    folder = current.storage_dir.resolve()
    free = shutil.disk_usage(folder).free if folder.exists() else None
    counts = service.status_counts(current)
    revision = service.schema_revision(current)
    rows = [
        (t("about.storage_dir"), str(folder)),
        (t("about.free_space"), size(free)),
        (t("about.database"), masked_database_url(current)),
        (t("about.schema"), revision or "—"),
        (t("about.incidents"), ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "0"),
        (t("about.jobs"), t("about.jobs_value", backend=current.job_backend, running=current.max_concurrent_jobs,
                            queued=current.max_queued_jobs)),
        (t("about.upload_limit"), f"{current.max_upload_mb} MB"),
        (t("about.password"), t("common.on") if current.app_password else t("common.off")),
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows, columns=["name", "value"]), hide_index=True, width="stretch",
                 column_config={"name": t("about.setting"), "value": t("about.value")})  # fmt: skip


def _versions() -> None:
    st.markdown(f"##### {t('about.versions')}")
    rows = [
        *[(engine_label(name), engine.code_version) for name, engine in AVAILABLE_ENGINES.items()],
        ("Python", platform.python_version()),
        ("ffmpeg (imageio-ffmpeg)", imageio_ffmpeg.get_ffmpeg_version()),
        *[(name, _package_version(name)) for name in _PACKAGES],
    ]
    st.dataframe(pd.DataFrame(rows, columns=["name", "value"]), hide_index=True, width="stretch",
                 column_config={"name": t("about.component"), "value": t("about.version")})  # fmt: skip
