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

from core.evidence.audit import Action
from core.export import MEDIA_TYPES, export, file_name
from core.models import Incident
from core.report import build_report
from dashboard.evidence import recorded
from dashboard.i18n import lang, t
from dashboard.resources import session, settings

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def subtitles(incident_id: int) -> str | None:
    """WebVTT captions of the incident's events for `st.video(subtitles=...)`, or None without events."""
    with session() as opened:
        vtt = export(opened, incident_id, "vtt")
    return vtt if "-->" in vtt else None


def download_buttons(incident: Incident) -> None:
    """One button per format, side by side."""
    buttons = {  # format: (label, help, icon)
        "json": (t("download.json"), t("download.json_help"), ":material/data_object:"),
        "csv": (t("download.csv"), t("download.csv_help"), ":material/table:"),
        "vtt": (t("download.vtt"), t("download.vtt_help"), ":material/subtitles:"),
    }
    with session() as opened:
        contents = {fmt: export(opened, incident.id, fmt) for fmt in buttons}
    columns = st.columns(4)
    for column, (fmt, (label, help_text, icon)) in zip(columns, buttons.items()):
        data = contents[fmt].encode(
            "utf-8-sig" if fmt == "csv" else "utf-8"
        )  # BOM: Excel reads Cyrillic right
        column.download_button(
            label,
            recorded(Action.EXPORT, incident.id, fmt, partial(bytes, data)),  # audited when clicked
            file_name=file_name(incident, fmt),
            mime=MEDIA_TYPES[fmt],
            icon=icon,
            help=help_text,
            on_click="ignore",
            key=f"sigma.download.{fmt}.{incident.id}",
            width="stretch",
        )
    viewer_lang = lang()
    columns[3].download_button(
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
    storyboard_col, _ = st.columns(2)
    storyboard_col.download_button(
        t("download.storyboard"),
        recorded(Action.EXPORT, incident.id, "storyboard", partial(_storyboard, incident.id)),
        file_name=file_name(incident, "json").replace(".json", "-storyboard.json"),
        mime=MEDIA_TYPES["storyboard"],
        icon=":material/view_timeline:",
        help=t("download.storyboard_help"),
        on_click="ignore",
        key=f"sigma.download.storyboard.{incident.id}",
        width="stretch",
    )


def _storyboard(incident_id: int) -> str:
    with session() as opened:
        return export(opened, incident_id, "storyboard")
