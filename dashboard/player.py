"""The video player and how anything on the page makes it seek.

How to seek (for every building block: timeline markers, the events table, search hits, ...):

    from dashboard.player import request_seek, set_seek
    request_seek(incident_id, 12.4, event_id=7)   # in the script body: stores the seek, then st.rerun()
    set_seek(incident_id, 12.4, event_id=7)       # inside a widget callback (on_click, on_select, ...),
                                                  # where Streamlit reruns by itself afterwards

`event_id` (optional) also selects that event: it is highlighted on the timeline and in the events
table and shown in the review card. The seek is kept in `st.session_state` for the incident page; the
player reads it with `current_seek(incident_id)`.

Why a seeker beside `st.video`: `st.video(start_time=...)` takes whole seconds (its message field is an
integer; floats are rounded down), and the browser only re-seeks when that number changes, so a second
click on the same marker, or two events within one second, would not move the player. `st.video` is
given the whole second before the target (a fair fallback, e.g. without JavaScript), and a tiny
`st.components.v2` component, rendered after it, sets the `<video>` element's `currentTime` to the exact
time on every new seek (also after the video's metadata loads, since the player then resets itself to
`start_time`).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.errors import SigmaError
from core.media import BrowserVideo, ensure_browser_video, usable_now
from dashboard.i18n import t
from dashboard.resources import settings

_SEEK_KEY = "sigma.seek"
PLAYER_KEY = "sigma-player"

_SEEKER_JS = """
export default function ({ data, parentElement }) {
  const target = Number(data && data.t);
  const nonce = data && data.nonce;
  if (!nonce || !Number.isFinite(target)) return;
  const host = parentElement.host || parentElement;
  if (host.dataset && host.dataset.sigmaNonce === String(nonce)) return;
  if (host.dataset) host.dataset.sigmaNonce = String(nonce);
  const whole = Math.floor(target);
  let tries = 0;
  const find = () => document.querySelector(".st-key-%(key)s video");
  const land = (video) => {
    // The player sets itself to the whole second on new metadata; put it on the exact time after.
    if (Math.abs(video.currentTime - target) > 0.04) video.currentTime = target;
  };
  const attach = () => {
    const video = find();
    if (!video) {
      if (tries++ < 100) setTimeout(attach, 50);
      return;
    }
    if (video.readyState >= 1) land(video);
    const onMeta = () => setTimeout(() => land(video), 0);
    video.addEventListener("loadedmetadata", onMeta, { once: true });
    // If the player's own effect runs after this one, it moves to the whole second: correct it once.
    setTimeout(() => {
      if (video.readyState >= 1 && Math.abs(video.currentTime - whole) < 0.04) land(video);
    }, 150);
  };
  attach();
}
""".replace("%(key)s", PLAYER_KEY)

_seeker = st.components.v2.component("sigma_seeker", js=_SEEKER_JS)


@dataclass(frozen=True)
class Seek:
    seconds: float
    event_id: int | None
    nonce: int


def set_seek(incident_id: int, seconds: float, *, event_id: int | None = None) -> None:
    """Ask the player of `incident_id` to go to `seconds` (and select `event_id`); use in callbacks."""
    from dashboard.evidence import record_play  # the first play of an incident is in the audit trail

    record_play(incident_id, seconds)
    previous = st.session_state.get(_SEEK_KEY) or {}
    st.session_state[_SEEK_KEY] = {
        "incident_id": incident_id,
        "seconds": max(0.0, float(seconds)),
        "event_id": event_id,
        "nonce": int(previous.get("nonce", 0)) + 1,
    }


def request_seek(incident_id: int, seconds: float, *, event_id: int | None = None) -> None:
    """`set_seek`, then rerun the app so the player moves now; use in the script body."""
    set_seek(incident_id, seconds, event_id=event_id)
    st.rerun()


def current_seek(incident_id: int) -> Seek | None:
    state = st.session_state.get(_SEEK_KEY)
    if not state or state.get("incident_id") != incident_id:
        return None
    return Seek(state["seconds"], state.get("event_id"), state["nonce"])


def seek_revision() -> int:
    """Changes with every seek: building blocks that must start fresh after a seek key on it."""
    return int((st.session_state.get(_SEEK_KEY) or {}).get("nonce", 0))


@st.cache_resource(show_spinner=False)
def _conversions() -> tuple[ThreadPoolExecutor, dict[str, Future], dict[str, float], threading.Lock]:
    """One background worker makes browser copies (one ffmpeg at a time), shared by all sessions."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigma-media"), {}, {}, threading.Lock()


def _start_conversion(stored_name: str) -> Future:
    pool, futures, progress, lock = _conversions()
    current = settings()
    with lock:
        future = futures.get(stored_name)
        if future is None or (future.done() and future.exception() is not None):
            progress[stored_name] = 0.0

            def report(fraction: float) -> None:
                progress[stored_name] = fraction

            future = pool.submit(ensure_browser_video, current, stored_name, on_progress=report)
            futures[stored_name] = future
        return future


@st.cache_resource(show_spinner=False, max_entries=2, ttl=3600)
def _video_bytes(path: str, mtime_ns: int, size: int) -> bytes:
    """The browser file's bytes, read once: `st.video` would otherwise re-read (and re-register) the
    whole file on every rerun, which for an hour of video costs more than the rest of the page."""
    return Path(path).read_bytes()


def render_player(incident_id: int, stored_name: str, *, subtitles: str | None = None) -> None:
    """The player of a finished incident, at the current seek; a notice while a browser copy is made."""
    try:
        ready = usable_now(settings(), stored_name)
    except SigmaError as error:
        st.warning(t("player.unplayable", reason=str(error)), icon=":material/videocam_off:")
        return
    if ready is None:
        future = _start_conversion(stored_name)
        if not future.done():
            _conversion_progress(stored_name)
            return
        try:
            ready = future.result()
        except SigmaError as error:
            st.warning(t("player.unplayable", reason=str(error)), icon=":material/videocam_off:")
            return
    _show(incident_id, ready, subtitles)


def _show(incident_id: int, video: BrowserVideo, subtitles: str | None) -> None:
    seek = current_seek(incident_id)
    target = seek.seconds if seek else 0.0
    stat = video.path.stat()
    with st.container(key=PLAYER_KEY):
        st.video(
            _video_bytes(str(video.path), stat.st_mtime_ns, stat.st_size),
            format=video.mimetype,
            start_time=math.floor(target),
            subtitles=subtitles or None,
        )
        _seeker(key="sigma-seeker", data={"t": target, "nonce": seek.nonce if seek else 0})
    if video.action != "as-is":
        st.caption(t("player.converted", reason=video.reason))


@st.fragment(run_every=1.0)
def _conversion_progress(stored_name: str) -> None:
    _, futures, progress, _ = _conversions()
    future = futures.get(stored_name)
    if future is None or future.done():
        st.rerun()
    st.info(t("player.preparing"), icon=":material/movie:")
    st.progress(min(1.0, progress.get(stored_name, 0.0)))
