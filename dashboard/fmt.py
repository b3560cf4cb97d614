"""How times, sizes and dates read on screen: video times as `m:ss.ss` (core.timefmt.clock, the same
as in the report and the captions), units in the viewer's language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from dashboard.i18n import t


def span(seconds: float) -> str:
    """A length of time in plain units: `0.6 s`, `4 min 05 s`, `1 h 02 min` (units in the viewer's language)."""
    if seconds < 60:
        return t("unit.seconds", value=f"{seconds:.1f}")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return t("unit.minutes", minutes=minutes, seconds=f"{secs:02d}")
    hours, minutes = divmod(minutes, 60)
    return t("unit.hours", hours=hours, minutes=f"{minutes:02d}")


def size(num_bytes: int | None) -> str:
    if num_bytes is None:
        return "—"
    value = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return t(f"unit.{unit}", value=f"{value:.0f}" if unit == "B" else f"{value:.1f}")
        value /= 1024
    return t("unit.GB", value=f"{value:.1f}")


def as_utc(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back without a zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local(moment: datetime | None) -> datetime | None:
    """A stored time in the viewer's browser time zone (UTC when the browser did not say)."""
    moment = as_utc(moment)
    if moment is None:
        return None
    try:
        zone = ZoneInfo(st.context.timezone) if st.context.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone)


def when(moment: datetime | None) -> str:
    shown = local(moment)
    return shown.strftime("%Y-%m-%d %H:%M:%S") if shown else "—"
