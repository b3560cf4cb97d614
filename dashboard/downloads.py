"""Download buttons for a finished incident (JSON, CSV, WebVTT, DOCX report, storyboard JSON) and the
WebVTT captions the player shows. All from stored results; nothing is re-analysed. Each download is
recorded in the audit trail when it is clicked ("export", "report").

    from dashboard.downloads import download_buttons, subtitles
    download_buttons(incident)                             # in the incident page's downloads tab
    render_player(incident.id, incident.stored_name, subtitles=subtitles(incident.id))

The report is built only when its button is clicked (Streamlit runs the callable then, off the page
script), in the viewer's language, so the page does not wait for keyframes to be decoded.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from core import service
from core.evidence.audit import Action
from core.export import EXPORTERS, file_name
from core.report import build_report
from core.views import IncidentRecord
from dashboard.evidence import recorded
from dashboard.i18n import lang, t
from dashboard.resources import settings

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ICONS = {
    "json": ":material/data_object:",
    "csv": ":material/table:",
    "vtt": ":material/subtitles:",
    "storyboard": ":material/view_timeline:",
}


def subtitles(incident_id: int) -> str | None:
    """WebVTT captions of the incident's events for `st.video(subtitles=...)`, or None without events."""
    return service.subtitles(incident_id, settings())


def download_buttons(incident: IncidentRecord) -> None:
    """One button per export format (core.export.EXPORTERS), then the report's, side by side. Each file
    is made when its button is clicked, and the click is recorded in the audit trail."""
    columns = st.columns(len(EXPORTERS) + 1)
    for column, (fmt, exporter) in zip(columns, EXPORTERS.items()):
        column.download_button(
            t(f"download.{fmt}"),
            recorded(Action.EXPORT, incident.id, fmt, partial(_exported, incident.id, fmt)),
            file_name=file_name(incident, exporter.extension),
            mime=exporter.media_type,
            icon=_ICONS.get(fmt, ":material/download:"),
            help=t(f"download.{fmt}_help"),
            on_click="ignore",
            key=f"sigma.download.{fmt}.{incident.id}",
            width="stretch",
        )
    viewer_lang = lang()
    columns[-1].download_button(
        t("download.docx"),
        recorded(
            Action.REPORT,
            incident.id,
            f"docx ({viewer_lang})",
            partial(build_report, incident.id, settings(), lang=viewer_lang),
        ),
        file_name=file_name(incident, "docx").replace(".docx", f"-{viewer_lang}.docx"),
        mime=DOCX_MEDIA_TYPE,
        icon=":material/description:",
        help=t("download.docx_help"),
        on_click="ignore",
        key=f"sigma.download.docx.{incident.id}.{viewer_lang}",
        width="stretch",
    )


def _exported(incident_id: int, fmt: str) -> bytes:
    content, _name = service.export_incident(incident_id, fmt, settings())
    return content.encode("utf-8-sig" if fmt == "csv" else "utf-8")  # BOM: Excel reads Cyrillic right
