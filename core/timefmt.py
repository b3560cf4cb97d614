"""How a time in a video reads, everywhere Sigma shows one: the dashboard, the report and its
timeline picture, the CLI, and the WebVTT captions (`full=True`, the format WebVTT requires).

    clock(67.25)                      # "1:07.25"
    clock(3725.5, decimals=1)         # "1:02:05.5"
    clock(30, decimals=0)             # "0:30"
    clock(1.5, decimals=3, full=True) # "00:00:01.500"
    seconds(10.0), seconds(3.956)     # "10", "3.96" (a length: "decoded 3.96 s of 10 s")
"""

from __future__ import annotations

import math

NO_TIME = "—"


def clock(seconds: float | None, *, decimals: int = 2, full: bool = False) -> str:
    """`m:ss.ff`, or `h:mm:ss.ff` past an hour, rounded once (59.999 s reads 1:00.00, never 0:60.00);
    `full`: always `hh:mm:ss.fff...` with two-digit hours. No time (None, NaN) reads "—"; negative
    times read as 0."""
    if seconds is None or not math.isfinite(seconds):
        return NO_TIME
    scale = 10**decimals
    whole, fraction = divmod(round(max(0.0, seconds) * scale), scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{fraction:0{decimals}d}" if decimals else ""
    if full:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}{tail}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{minutes}:{secs:02d}{tail}"


def seconds(value: float) -> str:
    """A length in seconds with as few digits as it needs, to two decimals: "3.96", "10", "0.5"."""
    return f"{max(0.0, value):.2f}".rstrip("0").rstrip(".")
