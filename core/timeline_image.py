"""A picture of an incident's timeline drawn with Pillow (no browser, no kaleido): window scores along
the time axis coloured by pass, and one lane per event type with each event as a bar. For the DOCX
report, and anywhere else a static picture is wanted."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.i18n import Language, text
from core.palette import FAILED_COLOUR, PASS_COLOURS, pass_colour, type_colours
from core.schema import Event, WindowRecord
from core.taxonomy_i18n import type_label
from core.timefmt import clock

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
_NICE_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_TEXT, _GRID = "#282828", "#e1e1e1"


@lru_cache(maxsize=8)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A font and whether it can draw Cyrillic (else labels fall back to type codes)."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size), True
    return ImageFont.load_default(size=size), False


def render_timeline(
    duration: float,
    windows: list[WindowRecord],
    events: list[Event],
    *,
    lang: Language = "en",
    width: int = 1800,
) -> bytes:
    """PNG bytes of the timeline."""
    duration = max(duration, max((e.end_time for e in events), default=0.0), 0.1)
    lanes = sorted({e.event_type for e in events})
    font, unicode_ok = _font(30)
    small, _ = _font(26)
    lane_names = [type_label(t, lang) if unicode_ok else t for t in lanes]
    left = 40 + max((int(draw_width(small, name)) for name in lane_names), default=120)
    right, top = 50, 20
    score_height, lane_height, axis_height, legend_height = 170, 56, 60, 50
    height = top + score_height + 16 + lane_height * max(1, len(lanes)) + axis_height + legend_height
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    plot_width = width - left - right

    def x(t: float) -> float:
        return left + plot_width * min(max(t, 0.0), duration) / duration

    # grid and time axis
    step = next((s for s in _NICE_STEPS if duration / s <= 12), _NICE_STEPS[-1])
    axis_y = top + score_height + 16 + lane_height * max(1, len(lanes))
    tick = 0.0
    while tick <= duration + 1e-9:
        draw.line([(x(tick), top), (x(tick), axis_y)], fill=_GRID, width=1)
        draw.line([(x(tick), axis_y), (x(tick), axis_y + 8)], fill=_TEXT, width=2)
        label = clock(tick, decimals=0 if step >= 1 else 1)
        draw.text((x(tick), axis_y + 12), label, fill=_TEXT, font=small, anchor="mt")
        tick += step
    draw.line([(left, axis_y), (left + plot_width, axis_y)], fill=_TEXT, width=2)

    # window scores: one bar per window, coloured by pass (as on the dashboard); failed windows outlined
    # in the dashboard's failed colour at full height (no score is known there)
    baseline = top + score_height
    words = lang if unicode_ok else "en"  # without a font for other scripts: English words
    score_label = text(words, "report.timeline_score")
    draw.text((10, top + score_height // 2), score_label, fill=_TEXT, font=small, anchor="lm")
    for window in windows:
        x0, x1 = x(window.start_time), max(x(window.end_time) - 1, x(window.start_time) + 1)
        if window.failed:
            draw.rectangle([x0, top, x1, baseline], outline=FAILED_COLOUR, width=1)
            continue
        bar_top = baseline - score_height * min(max(window.score, 0.0), 1.0)
        draw.rectangle([x0, min(bar_top, baseline - 1), x1, baseline], fill=pass_colour(window.pass_no))
    draw.line([(left, baseline), (left + plot_width, baseline)], fill=_TEXT, width=1)

    # events: one lane per type, in the type's colour on the dashboard; dismissed events drawn hollow,
    # confirmed ones outlined in black
    colours = type_colours(lanes)
    for lane, (event_type, name) in enumerate(zip(lanes, lane_names)):
        y0 = baseline + 16 + lane * lane_height
        draw.text((left - 10, y0 + lane_height / 2), name, fill=_TEXT, font=small, anchor="rm")
        for event in (e for e in events if e.event_type == event_type):
            x0 = x(event.start_time)
            x1 = max(x(event.end_time), x0 + 4)
            box = [x0, y0 + 6, x1, y0 + lane_height - 6]
            colour = colours[event_type]
            review = event.review_status.value if event.review_status else None
            if review == "dismissed":
                draw.rectangle(box, outline=colour, width=3)
            else:
                draw.rectangle(
                    box, fill=colour, outline=(0, 0, 0) if review == "confirmed" else colour, width=3
                )

    # legend: passes
    legend_y = axis_y + axis_height + 8
    cursor = left
    for pass_no, colour in PASS_COLOURS.items():
        if not any(w.pass_no == pass_no for w in windows):
            continue
        draw.rectangle([cursor, legend_y, cursor + 30, legend_y + 30], fill=colour)
        label = text(words, "report.timeline_pass", n=pass_no)
        draw.text((cursor + 40, legend_y + 15), label, fill=_TEXT, font=font, anchor="lm")
        cursor += 60 + int(draw_width(font, label))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def draw_width(font, text_: str) -> float:
    return font.getlength(text_)
