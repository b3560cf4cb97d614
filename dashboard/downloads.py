"""Download buttons for a finished incident (JSON, CSV, WebVTT, DOCX report) and the WebVTT captions
the player shows. All from stored results; nothing is re-analysed.

    from dashboard.downloads import download_buttons, subtitles
    download_buttons(incident)                             # in the incident page's downloads tab
    render_player(incident.id, incident.stored_name, subtitles=subtitles(incident.id))

The report is built only when its button is clicked (Streamlit runs the callable then, off the page
script), in the viewer's language, so the page does not wait for keyframes to be decoded.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.export import MEDIA_TYPES, export, file_name
from core.models import Incident
from core.report import build_report
from dashboard.i18n import lang
from dashboard.resources import session, settings

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_TEXT = {
    "json": {"en": "Result JSON", "ru": "Результат JSON"},
    "csv": {"en": "Events CSV", "ru": "События CSV"},
    "vtt": {"en": "Captions WebVTT", "ru": "Субтитры WebVTT"},
    "docx": {"en": "Report DOCX", "ru": "Отчёт DOCX"},
    "json.help": {
        "en": "The analysis result exactly as `python -m core analyze --json` prints it.",
        "ru": "Результат анализа в точности как печатает `python -m core analyze --json`.",
    },
    "csv.help": {
        "en": "One row per event: type, times, confidence, description, review.",
        "ru": "Строка на событие: тип, время, уверенность, описание, проверка.",
    },
    "vtt.help": {
        "en": "One caption per event, for any video player.",
        "ru": "Субтитр на каждое событие — для любого видеоплеера.",
    },
    "docx.help": {
        "en": "Summary, video and analysis facts, events, a keyframe per event, timeline, storyboard and log.",
        "ru": "Итог, сведения о видео и анализе, события, кадр каждого события, шкала времени, раскадровка, журнал.",
    },
}


def _t(key: str) -> str:
    return _TEXT[key][lang()]


def subtitles(incident_id: int) -> str | None:
    """WebVTT captions of the incident's events for `st.video(subtitles=...)`, or None without events."""
    with session() as opened:
        vtt = export(opened, incident_id, "vtt")
    return vtt if "-->" in vtt else None


def download_buttons(incident: Incident) -> None:
    """One button per format, side by side."""
    with session() as opened:
        contents = {fmt: export(opened, incident.id, fmt) for fmt in ("json", "csv", "vtt")}
    icons = {"json": ":material/data_object:", "csv": ":material/table:", "vtt": ":material/subtitles:"}
    columns = st.columns(4)
    for column, fmt in zip(columns, ("json", "csv", "vtt")):
        column.download_button(
            _t(fmt),
            contents[fmt].encode("utf-8-sig" if fmt == "csv" else "utf-8"),  # BOM: Excel reads Cyrillic right
            file_name=file_name(incident, fmt),
            mime=MEDIA_TYPES[fmt],
            icon=icons[fmt],
            help=_t(f"{fmt}.help"),
            on_click="ignore",
            key=f"sigma.download.{fmt}.{incident.id}",
            width="stretch",
        )
    viewer_lang = lang()
    columns[3].download_button(
        _t("docx"),
        partial(build_report, incident.id, settings(), lang=viewer_lang),
        file_name=file_name(incident, "docx").replace(".docx", f"-{viewer_lang}.docx"),
        mime=DOCX_MEDIA_TYPE,
        icon=":material/description:",
        help=_t("docx.help"),
        on_click="ignore",
        key=f"sigma.download.docx.{incident.id}.{viewer_lang}",
        width="stretch",
    )
