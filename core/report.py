"""The DOCX report of one incident, built from stored results alone (regenerating it never re-runs
the analysis): the case (number, investigator, note, legal hold), summary, video and analysis facts,
events table with reviews (who and when), a keyframe per event, the timeline picture, the storyboard
around the events, the processing log and the audit trail. Russian or English throughout: event
types, statuses, engines, domains, log steps and units are words in the report's language, not codes.

Model text can hold anything: every string passes through `xml_safe` (characters XML 1.0 forbids
are dropped, so the file always opens in Word and LibreOffice) and very long unbroken words get
break opportunities, so descriptions wrap inside their table cells.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from core import repository
from core.config import Settings
from core.db import database
from core.engines import ENGINE_NAMES
from core.engines.local import camera_caveat_of
from core.errors import InvalidInput, NotFound, NotReady
from core.evidence.audit import AuditEntry, trail
from core.i18n import DOMAIN_REASONS, FAILURE_REASONS, LANGUAGES, Language, reword, text, word, worded
from core.models import Incident, LogRow
from core.overlay import event_pictures, keyframe_time
from core.schema import ACTIVE_STATUSES, Event, WindowRecord, params_in_words
from core.storage import video_path
from core.taxonomy_i18n import TYPES, review_label, severity_label, type_label
from core.timefmt import clock, seconds
from core.timeline_image import render_timeline
from core.video import cut_short

# Characters XML 1.0 allows; everything else (control characters, lone surrogates, U+FFFE/FFFF) is dropped.
_XML_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LONG_WORD = re.compile(r"\S{40,}")
_ZERO_WIDTH_SPACE = "\u200b"
STORYBOARD_MAX_ROWS = 500
STORYBOARD_MARGIN_SEC = 10.0  # windows this close to an event stay in the report's storyboard
STORYBOARD_TOP_WITHOUT_EVENTS = 20


def xml_safe(value: object) -> str:
    """Text that python-docx accepts and Word opens: characters XML 1.0 forbids are dropped."""
    return _XML_FORBIDDEN.sub("", str(value))


def wrappable(text: str) -> str:
    """Model text with break opportunities in unbroken runs of 40+ characters, so table cells wrap.
    Only for free text: identifiers such as the sha256 stay intact for copying."""
    return _LONG_WORD.sub(
        lambda m: _ZERO_WIDTH_SPACE.join(m.group()[i : i + 20] for i in range(0, len(m.group()), 20)), text
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # SQLite gives back naive datetimes; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(size_bytes: int, lang: Language = "en") -> str:
    spaced = f"{size_bytes:,}".replace(",", " ")
    return text(lang, "report.megabytes", mb=f"{size_bytes / 1024 / 1024:.1f}", bytes=spaced)


class _Report:
    """One document being written; `t(key)` is the label in the report's language."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang
        self.doc = Document()
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(1.6))
        section.top_margin = section.bottom_margin = Cm(1.5)
        normal = self.doc.styles["Normal"]
        normal.font.name = "Liberation Sans"
        normal.font.size = Pt(10)
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Liberation Sans")

    def t(self, key: str, **values: object) -> str:
        return text(self.lang, f"report.{key}", **values)

    def heading(self, text: str, level: int = 1) -> None:
        self.doc.add_heading(xml_safe(text), level)

    def paragraph(self, text: str, *, italic: bool = False, size: float | None = None):
        paragraph = self.doc.add_paragraph()
        run = paragraph.add_run(xml_safe(text))
        run.italic = italic
        if size:
            run.font.size = Pt(size)
        return paragraph

    def table(
        self, header: list[str] | None, rows: list[list[str]], widths_cm: list[float], font_pt: float = 9
    ):
        table = self.doc.add_table(rows=0, cols=len(widths_cm))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table)
        for column, width in zip(table.columns, widths_cm):
            column.width = Cm(width)  # the grid LibreOffice lays out by; cell widths are Word's
        for index, cells in enumerate(([header] if header else []) + rows):
            row = table.add_row()
            is_header = header is not None and index == 0
            if is_header:
                _repeat_as_header(row)
            for cell, value, width in zip(row.cells, cells, widths_cm):
                cell.width = Cm(width)
                run = cell.paragraphs[0].add_run(xml_safe(value))
                run.font.size = Pt(font_pt)
                run.bold = is_header
                if is_header:
                    _shade(cell, "D9E2F3")
        return table

    def facts(self, pairs: list[tuple[str, str]]) -> None:
        table = self.table(None, [[k, v] for k, v in pairs], [5.0, 12.8], font_pt=9.5)
        for row in table.rows:
            row.cells[0].paragraphs[0].runs[0].bold = True

    def picture(self, png_or_jpeg: bytes, width_cm: float, caption: str) -> None:
        self.doc.add_picture(io.BytesIO(png_or_jpeg), width=Cm(width_cm))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph = self.paragraph(caption, italic=True, size=8.5)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _fixed_layout(table) -> None:
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def _repeat_as_header(row) -> None:
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _shade(cell, colour_hex: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour_hex)
    cell._tc.get_or_add_tcPr().append(shading)


def _summary(report: _Report, incident: Incident, events: list[Event]) -> None:
    t = report.t
    report.heading(t("summary"), 1)
    duration = clock(incident.duration)
    if incident.status == "FAILED":
        report.paragraph(t("failed", reason=reword(report.lang, FAILURE_REASONS, incident.error or "?")))
    if events:
        counts = Counter(e.event_type for e in events)
        types = ", ".join(f"{type_label(code, report.lang)} × {n}" for code, n in counts.most_common())
        report.paragraph(t("events_found", n=len(events), duration=duration, types=types))
        reviews = Counter(e.review_status.value if e.review_status else None for e in events)
        report.paragraph(
            t("reviewed", confirmed=reviews["confirmed"], dismissed=reviews["dismissed"], open=reviews[None])
        )
    elif incident.status != "FAILED":
        engine = incident.engine or incident.requested_engine
        key = f"no_events_{engine}" if engine in ENGINE_NAMES else "no_events"
        report.paragraph(t(key, duration=duration))
    domain = incident.inferred_domain or incident.requested_domain
    if domain and domain != "auto":
        report.paragraph(t("domain_line", domain=word(report.lang, "report.domain", domain)))


def _about(report: _Report, incident: Incident, logs: list[LogRow]) -> None:
    """Which engine ran, what it can see and what it cannot (and, when the local engine measured the
    camera moving, that it cannot judge a moving camera): read before the events."""
    engine = incident.engine or incident.requested_engine
    if engine not in ENGINE_NAMES:
        return
    t = report.t
    report.heading(t("about"), 1)
    report.facts(
        [
            (t("about_engine"), t(f"engine_{engine}")),
            (t("about_sees"), t(f"sees_{engine}")),
            (t("about_cannot"), t(f"cannot_{engine}")),
            *(
                [(t("about_camera"), t("camera_local", share=camera["share"], withheld=camera["withheld"]))]
                if engine == "local" and (camera := camera_caveat_of(logs)) is not None
                else []
            ),
        ]
    )


def _video_facts(report: _Report, incident: Incident, uploaded: datetime, settings: Settings) -> None:
    t = report.t
    report.heading(t("video"), 1)
    duration = f"{clock(incident.duration)} ({t('seconds', value=f'{incident.duration:.2f}')})"
    declared = cut_short(video_path(settings, incident.stored_name), incident.duration)
    if declared is not None:  # a truncated file, analysed as far as it decodes
        duration += " — " + t("truncated", decoded=seconds(incident.duration), declared=seconds(declared))
    report.facts(
        [
            (t("file"), incident.original_name),
            (t("duration"), duration),
            (t("resolution"), f"{incident.width} × {incident.height}"),
            (t("fps"), t("frames_per_second", value=f"{incident.fps:.3f}".rstrip("0").rstrip("."))),
            (t("frames"), str(incident.frame_count)),
            (t("codec"), incident.codec or "—"),
            (t("size"), _size(incident.size_bytes, report.lang)),
            (t("sha256"), incident.sha256),
            (t("uploaded"), _when(uploaded)),  # the video's upload: a re-run's own start is under Analysis
        ]
    )


def _analysis_facts(report: _Report, incident: Incident, windows: list[WindowRecord]) -> None:
    t, lang = report.t, report.lang
    report.heading(t("analysis"), 1)
    params = incident.params or {}
    described = [words.text(lang) for words in params_in_words(params)]
    failed = sum(w.failed for w in windows)
    window_text = str(len(windows)) + (f" ({t('windows_failed', n=failed)})" if failed else "")
    requested, inferred = incident.requested_domain, incident.inferred_domain
    pairs = [
        (t("status"), word(lang, "report.status", incident.status)),
        (t("engine"), word(lang, "report.engine", incident.engine or incident.requested_engine)),
        (t("model_version"), incident.model_version or "—"),
        (t("prompt_version"), incident.prompt_version or "—"),
        (t("parameters"), "; ".join(described) or "—"),
        (t("domain"), " → ".join(word(lang, "report.domain", d) for d in (requested, inferred))),
    ]
    if incident.domain_reason:
        pairs.append((t("domain_reason"), reword(lang, DOMAIN_REASONS, incident.domain_reason)))
    if params.get("site_context"):
        pairs.append((t("site_context"), wrappable(params["site_context"])))
    if params.get("concerns"):
        concerns = [
            f"{c.get('code')} — {c.get('definition')}" for c in params["concerns"] if isinstance(c, dict)
        ]
        pairs.append((t("concerns"), wrappable("\n".join(concerns))))
    pairs += [
        (t("passes"), ", ".join(str(p) for p in incident.passes_run or []) or "—"),
        (t("windows"), window_text),
        (t("started"), _when(incident.started_at)),
        (t("finished"), _when(incident.finished_at)),
    ]
    if incident.run_of_id:
        pairs.append((t("run_of"), str(incident.run_of_id)))
    report.facts(pairs)


def _events_table(report: _Report, events: list[Event], engine: str | None) -> None:
    t, lang = report.t, report.lang
    report.heading(t("events"), 1)
    if not events:
        report.paragraph(t("none"))
        return
    header = [
        t(k)
        for k in (
            "col_no",
            "col_type",
            "col_time",
            "col_highlight",
            "col_strength" if engine == "local" else "col_confidence",
            "col_severity",
            "col_description",
            "col_review",
        )
    ]
    rows = []
    for number, event in enumerate(events, start=1):
        review = _review_text(report, event)
        rows.append(
            [
                str(number),
                type_label(event.event_type, lang),
                f"{clock(event.start_time)} – {clock(event.end_time)}",
                event.highlight,
                f"{event.confidence:.2f}",
                severity_label(event.severity, lang),
                wrappable(reword(lang, "local.", event.description)),
                wrappable(review),
            ]
        )
    report.table(header, rows, [0.8, 2.9, 2.6, 2.0, 1.1, 1.6, 4.1, 2.7], font_pt=8.5)


def _keyframes(report: _Report, incident: Incident, events: list[Event], settings: Settings) -> None:
    t, lang = report.t, report.lang
    if not events:
        return
    report.heading(t("keyframes"), 1)
    pictures = event_pictures(settings, incident.stored_name, events)
    for (number, event), frame in zip(enumerate(events, start=1), pictures):
        start, end = clock(event.start_time), clock(event.end_time)
        label = type_label(event.event_type, lang)
        if event.severity is not None:
            label += f", {severity_label(event.severity, lang)}"
        report.heading(t("event_heading", n=number, label=label, start=start, end=end), 2)
        if frame is None:
            report.paragraph(t("no_frame", time=clock(keyframe_time(event))), italic=True)
        else:
            jpeg, shown_at = frame
            caption = "frame_caption_box" if event.box or event.track_path else "frame_caption"
            seconds = t("seconds", value=f"{shown_at:.2f}")
            report.picture(jpeg, 11.0, t(caption, time=f"{clock(shown_at)} ({seconds})"))
        if event.description:  # the local engine's words in the report's language; a model's as written
            report.paragraph(wrappable(reword(lang, "local.", event.description)))
        report.paragraph(f"{t('col_review')}: {wrappable(_review_text(report, event))}")


def _timeline(report: _Report, incident: Incident, windows: list[WindowRecord], events: list[Event]) -> None:
    report.heading(report.t("timeline"), 1)
    png = render_timeline(incident.duration, windows, events, lang=report.lang)
    report.picture(png, 17.8, report.t("timeline_caption"))


def condensed_storyboard(windows: list[WindowRecord], events: list[Event]) -> list[WindowRecord]:
    """The windows the report lists: those within STORYBOARD_MARGIN_SEC of an event (in time order), or
    without events the STORYBOARD_TOP_WITHOUT_EVENTS that scored highest."""
    if not events:
        top = sorted(windows, key=lambda w: w.score, reverse=True)[:STORYBOARD_TOP_WITHOUT_EVENTS]
        return sorted(top, key=lambda w: (w.start_time, w.pass_no))
    spans = [(e.start_time - STORYBOARD_MARGIN_SEC, e.end_time + STORYBOARD_MARGIN_SEC) for e in events]
    return [w for w in windows if any(w.start_time <= end and w.end_time >= start for start, end in spans)]


def _storyboard(
    report: _Report,
    incident_id: int,
    all_windows: list[WindowRecord],
    events: list[Event],
    engine: str | None,
) -> None:
    t = report.t
    report.heading(t("storyboard"), 1)
    windows = condensed_storyboard(all_windows, events)
    if len(windows) < len(all_windows):
        key = "storyboard_condensed" if events else "storyboard_top"
        margin = t("seconds", value=f"{STORYBOARD_MARGIN_SEC:g}")
        report.paragraph(
            t(key, shown=len(windows), n=len(all_windows), margin=margin, id=incident_id), italic=True
        )
    if len(windows) > STORYBOARD_MAX_ROWS:
        report.paragraph(t("storyboard_omitted", n=len(windows), shown=STORYBOARD_MAX_ROWS), italic=True)
    score = t("col_anomaly") if engine == "local" else t("col_score")
    header = [t("col_window"), t("col_time"), t("col_pass"), score, t("col_description")]
    rows = [
        [
            str(w.window_index + 1),
            f"{clock(w.start_time)} – {clock(w.end_time)}",
            str(w.pass_no),
            f"{w.score:.2f}",
            t("failed_window") if w.failed else wrappable(reword(report.lang, "local.", w.description)),
        ]
        for w in windows[:STORYBOARD_MAX_ROWS]
    ]
    report.table(header, rows, [1.4, 3.4, 1.7, 1.5, 9.8], font_pt=8)


def _log(report: _Report, logs: list[LogRow]) -> None:
    t = report.t
    report.heading(t("log"), 1)
    header = [t("col_when"), t("col_step"), t("col_level"), t("col_message"), t("col_versions")]
    rows = [
        [
            _when(row.started_at).removesuffix(" UTC"),
            word(report.lang, "report.step", row.step),
            word(report.lang, "report.level", row.level),
            wrappable(worded(report.lang, row.words, row.message)),
            f"{row.model_version or '—'} / {row.prompt_version or '—'}",
        ]
        for row in logs
    ]
    table = report.table(header, rows, [3.2, 2.0, 1.5, 7.9, 3.2], font_pt=7.5)
    for row, log in zip(table.rows[1:], logs):
        if log.level in ("ERROR", "WARNING"):
            for run in row.cells[2].paragraphs[0].runs:
                run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)


def _case(report: _Report, incident: Incident) -> None:
    """Case number, investigator, note and legal hold, on the first page when any is set."""
    t = report.t
    pairs = [
        (t(label), value)
        for label, value in (
            ("case_number", incident.case_number),
            ("investigator", incident.investigator),
            ("case_note", incident.case_note),
        )
        if value
    ]
    if incident.hold_reason:
        held = t(
            "hold_value",
            when=_when(incident.held_at),
            who=incident.held_by or "—",
            reason=incident.hold_reason,
        )
        pairs.append((t("legal_hold"), held))
    if pairs:
        report.heading(t("case"), 1)
        report.facts(pairs)


def _review_text(report: _Report, event: Event) -> str:
    """The review in words: `confirmed — alice, 2026-11-30 12:00:00 UTC (carried over ...): note`."""
    text = review_label(event.review_status.value if event.review_status else None, report.lang)
    if event.reviewed_by and (event.review_status or event.review_note):
        text += " — " + report.t("reviewed_by", who=event.reviewed_by, when=_when(event.reviewed_at))
    if event.review_carried_from:
        text += f" ({report.t('carried_over', event=event.review_carried_from)})"
    if event.review_note:
        text += f": {event.review_note}"
    return text


def _audit(report: _Report, entries: list[AuditEntry]) -> None:
    t = report.t
    report.heading(t("audit"), 1)
    report.paragraph(t("audit_intro"), italic=True)
    header = [t("col_when"), t("col_who"), t("col_action"), t("col_target"), t("col_details")]
    rows = [
        [
            _when(e.at).removesuffix(" UTC"),
            f"{e.actor} ({e.role})",
            word(report.lang, "report.action", e.action),
            _type_words(_audit_target(e, report.lang), report.lang),
            wrappable(_type_words(e.details_text(), report.lang)),
        ]
        for e in entries
    ]
    report.table(header, rows, [3.0, 3.0, 2.6, 3.6, 5.6], font_pt=7.5)


def _audit_target(entry: AuditEntry, lang: Language) -> str:
    """ "No. 12" for the incident itself, "No. 12: event 45 (...)" for something in it."""
    if entry.incident_id is None:
        return entry.target
    number = text(lang, "report.number", id=entry.incident_id)
    return number if entry.target == f"incident {entry.incident_id}" else f"{number}: {entry.target}"


_CODE = re.compile(r"\b[A-Z][A-Z_]{2,}\b")


def _type_words(recorded: str, lang: Language) -> str:
    """Recorded text with the event type codes in it (COLLISION) named in words (Collision)."""
    return _CODE.sub(lambda m: type_label(m.group(), lang) if m.group() in TYPES else m.group(), recorded)


def build_report(incident_id: int, settings: Settings, *, lang: Language = "en") -> bytes:
    """The DOCX bytes for one incident (a failed run's too). `NotFound`, or `NotReady` while it runs."""
    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown report language {lang!r}: use {' or '.join(LANGUAGES)}")
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.status in {s.value for s in ACTIVE_STATUSES}:
            raise NotReady(
                f"incident {incident_id} is still {incident.status}: no results to report until it is done"
            )
        first = repository.get_incident(session, incident.run_of_id) if incident.run_of_id else None
        uploaded = (first or incident).created_at
        events = repository.events_of(session, incident_id)
        windows = repository.windows_of(session, incident_id)
        logs = repository.logs_of(session, incident_id)
        audit = trail(session, incident_id=incident_id)

    report = _Report(lang)
    report.doc.core_properties.title = xml_safe(report.t("title", id=incident.id))
    report.doc.core_properties.subject = xml_safe(incident.original_name)
    report.heading(report.t("title", id=incident.id), 0)
    generated = report.t("generated", when=_when(datetime.now(UTC)))
    report.paragraph(f"{incident.original_name} · {generated}", italic=True)
    _case(report, incident)
    engine = incident.engine or incident.requested_engine
    _summary(report, incident, events)
    _about(report, incident, logs)
    _video_facts(report, incident, uploaded, settings)
    _analysis_facts(report, incident, windows)
    _events_table(report, events, engine)
    _keyframes(report, incident, events, settings)
    if windows or events:
        _timeline(report, incident, windows, events)
    _storyboard(report, incident.id, windows, events, engine)
    _log(report, logs)
    _audit(report, audit)
    return report.save()
