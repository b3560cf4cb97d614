"""The colours of a timeline, the same on the dashboard's chart (dashboard/timeline.py) and in the
report's picture (core/timeline_image.py), so an analyst who learnt one reads the other: a colour per
event type, one per analysis pass for the windows' bars, and the marks of failed and skipped windows.
Colours are hex strings, which Plotly and Pillow both take."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

TYPE_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#393b79", "#ad494a", "#637939", "#7b4173",
)  # fmt: skip
PASS_COLOURS = {1: "#9fb3c8", 2: "#f2a65a", 3: "#a98bd6"}  # the windows' bars, by the pass that made them
OTHER_PASS_COLOUR = "#999999"
FAILED_COLOUR = "#d62728"  # a window the model gave no usable answer for
SKIPPED_COLOUR = "#c7c7c7"  # a still window pass 1 did not send


def type_colours(codes: Iterable[str]) -> dict[str, str]:
    """A colour per type: the same for a type wherever it appears (a hash of its code, not Python's
    per-process `hash()`), and distinct within one figure while the palette lasts."""
    colours: dict[str, str] = {}
    for code in sorted(set(codes)):
        index = zlib.crc32(code.encode()) % len(TYPE_PALETTE)
        for step in range(len(TYPE_PALETTE)):
            candidate = TYPE_PALETTE[(index + step) % len(TYPE_PALETTE)]
            if candidate not in colours.values() or len(colours) >= len(TYPE_PALETTE):
                colours[code] = candidate
                break
    return colours


def pass_colour(pass_no: int) -> str:
    return PASS_COLOURS.get(pass_no, OTHER_PASS_COLOUR)
