"""The video player and how anything on the page makes it seek.

How to seek (for every building block: timeline markers, the events table, search hits, ...):

    from dashboard.player import request_seek, set_seek
    request_seek(incident_id, 12.4, event_id=7)   # in the script body: stores the seek, then st.rerun()
    set_seek(incident_id, 12.4, event_id=7)       # inside a widget callback (on_click, on_select, ...),
                                                  # where Streamlit reruns by itself afterwards

`event_id` (optional) also selects that event: it is highlighted on the timeline and in the events
table and shown in the review card. The seek is kept in `st.session_state` for the incident page; the
player reads it with `current_seek(incident_id)`.

The video itself streams from the API's media endpoint (`/api/v1/incidents/{id}/media?variant=browser`,
HTTP Range, the same sign-in), so opening an incident costs this process nothing per byte of video.

Why a seeker beside `st.video`: `st.video(start_time=...)` takes whole seconds (its message field is an
integer; floats are rounded down), and the browser only re-seeks when that number changes, so a second
click on the same marker, or two events within one second, would not move the player. `st.video` is
given the whole second before the target (a fair fallback, e.g. without JavaScript), and a tiny
`st.components.v2` component, rendered after it, sets the `<video>` element's `currentTime` to the exact
time on every new seek (also after the video's metadata loads, since the player then resets itself to
`start_time`) and plays from there. The same component draws a playhead over the timeline chart at the
video's current time (from Plotly's own axis, every animation frame) and takes the keys: space plays or
pauses, ←/→ step a frame (Shift: a second), `n`/`p` ask this process for the next or previous event
(a trigger value), which is then seeked like a click.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin

import streamlit as st

from core.errors import SigmaError
from core.media import BrowserVideo, browser_copies, usable_now
from dashboard.i18n import t
from dashboard.resources import settings

_SEEK_KEY = "sigma.seek"
PLAYER_KEY = "sigma-player"
_CONTROLS_KEY = "sigma-player-controls"

_PLAYER_JS = """
// One state per browser tab: the seek last carried out (so a remount does not seek again), the latest
// events and timeline, and the listeners, installed once.
const S = (window.__sigmaPlayer = window.__sigmaPlayer || { nonce: 0, installed: false });
const video = () => document.querySelector(".st-key-%(key)s video");

function typing(target) {
  const tag = (target && target.tagName) || "";
  return /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(tag) || (target && target.isContentEditable) ||
    (target && target.closest && target.closest('[role="slider"]'));
}

function onKey(e) {
  const v = video();
  if (!v || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  const inTable = e.target && e.target.closest && e.target.closest('[data-testid="stDataFrame"]');
  if (inTable && e.key.startsWith("Arrow")) return; // a table's arrows move between its cells
  const step = e.shiftKey ? 1 : 1 / (S.fps || 25);
  if (e.key === " ") {
    v.paused ? v.play().catch(() => {}) : v.pause();
  } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    v.pause();
    const to = v.currentTime + (e.key === "ArrowRight" ? step : -step);
    v.currentTime = Math.min(Math.max(0, to), v.duration || to);
  } else if ((e.key === "n" || e.key === "p") && S.events && S.events.length && S.pick) {
    const now = v.currentTime;
    const next = e.key === "n"
      ? S.events.find(([, start]) => start > now + 0.05)
      : [...S.events].reverse().find(([, start]) => start < now - 0.5);
    if (!next) return;
    S.pick("event", next[0]);
  } else {
    return;
  }
  e.preventDefault();
  e.stopPropagation(); // seen first (capture): a focused table must not take space, n or p too
}

function playhead() {
  // A thin line over the timeline at the video's current time (Plotly's own axes give the pixels).
  const v = video();
  const plot = S.timeline && document.querySelector(".st-key-" + S.timeline + " .js-plotly-plot");
  const layout = plot && plot._fullLayout;
  const axis = layout && (layout.xaxis2 || layout.xaxis);
  const box = plot && plot.querySelector(".svg-container");
  if (!v || !axis || !box || !layout._size) return;
  let line = box.querySelector(".sigma-playhead");
  if (!line) {
    line = document.createElement("div");
    line.className = "sigma-playhead";
    line.style.cssText = "position:absolute;width:2px;background:#d62728;pointer-events:none;z-index:5";
    box.appendChild(line);
  }
  const [lo, hi] = axis.range;
  const t = v.currentTime;
  line.style.display = t >= lo && t <= hi ? "block" : "none";
  line.style.left = axis._offset + axis.l2p(t) - 1 + "px";
  line.style.top = layout._size.t + "px";
  line.style.height = layout._size.h + "px";
  line.dataset.time = t.toFixed(3);
}

function install() {
  if (S.installed) return;
  S.installed = true;
  document.addEventListener("keydown", onKey, true);
  const tick = () => { playhead(); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}

function seekAndPlay(target) {
  let tries = 0;
  const land = (v) => {
    if (Math.abs(v.currentTime - target) > 0.04) v.currentTime = target;
  };
  const attach = () => {
    const v = video();
    if (!v) {
      if (tries++ < 100) setTimeout(attach, 50);
      return;
    }
    const go = () => { land(v); v.play().catch(() => {}); };
    if (v.readyState >= 1) go();
    // the player puts itself on the whole second when metadata loads: land on the exact time after it
    v.addEventListener("loadedmetadata", () => setTimeout(go, 0), { once: true });
    setTimeout(() => {
      if (v.readyState >= 1 && Math.abs(v.currentTime - Math.floor(target)) < 0.04) land(v);
    }, 150);
  };
  attach();
}

export default function ({ data, setTriggerValue }) {
  install();
  S.fps = Number(data.fps) || 25;
  S.events = data.events || [];
  S.timeline = data.timeline;
  S.pick = setTriggerValue;
  const target = Number(data.t);
  const nonce = Number(data.nonce) || 0;
  if (nonce && nonce !== S.nonce && Number.isFinite(target)) {
    S.nonce = nonce;
    seekAndPlay(target);
  }
}
""".replace("%(key)s", PLAYER_KEY)

_controls = st.components.v2.component("sigma_player", js=_PLAYER_JS)


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


def media_url(incident_id: int) -> str:
    """The API's media endpoint for this incident's browser-playable copy, as the browser reaches this
    server: the player streams it with HTTP Range (behind the same sign-in), nothing passes through
    this process's memory."""
    return urljoin(
        st.context.url or "http://localhost/", f"/api/v1/incidents/{incident_id}/media?variant=browser"
    )


def render_player(
    incident_id: int,
    stored_name: str,
    *,
    subtitles: str | None = None,
    events: Sequence[tuple[int, float]] = (),
    fps: float = 25.0,
    timeline_key: str | None = None,
) -> None:
    """The player of a finished incident, at the current seek; a notice while a browser copy is made.
    `events` (id, start) are where `n`/`p` go; `timeline_key` is the chart the playhead is drawn on."""
    try:
        ready = usable_now(settings(), stored_name)
    except SigmaError as error:
        st.warning(t("player.unplayable", reason=str(error)), icon=":material/videocam_off:")
        return
    if ready is None:
        future = browser_copies(settings()).start(stored_name)
        if not future.done():
            _conversion_progress(stored_name)
            return
        try:
            ready = future.result()
        except SigmaError as error:
            st.warning(t("player.unplayable", reason=str(error)), icon=":material/videocam_off:")
            return
    _show(incident_id, ready, subtitles, sorted(events, key=lambda e: e[1]), fps, timeline_key)


def _show(
    incident_id: int,
    video: BrowserVideo,
    subtitles: str | None,
    events: list[tuple[int, float]],
    fps: float,
    timeline_key: str | None,
) -> None:
    seek = current_seek(incident_id)
    target = seek.seconds if seek else 0.0
    with st.container(key=PLAYER_KEY):
        st.video(
            media_url(incident_id),
            format=video.mimetype,
            start_time=math.floor(target),
            subtitles=subtitles or None,
        )
        _controls(
            key=_CONTROLS_KEY,
            data={
                "t": target,
                "nonce": seek.nonce if seek else 0,
                "fps": fps if fps and fps > 0 else 25.0,
                "events": [[event_id, start] for event_id, start in events],
                "timeline": timeline_key,
            },
            on_event_change=partial(_on_key_pick, incident_id, dict(events)),
        )
    st.caption(t("player.keys"))
    if video.action != "as-is":
        st.caption(t("player.converted", reason=video.reason))


def _on_key_pick(incident_id: int, starts: dict[int, float]) -> None:
    """`n`/`p` in the browser named the next or previous event: select it and play from its start."""
    picked = (st.session_state.get(_CONTROLS_KEY) or {}).get("event")
    if picked is not None and int(picked) in starts:
        set_seek(incident_id, starts[int(picked)], event_id=int(picked))


@st.fragment(run_every=1.0)
def _conversion_progress(stored_name: str) -> None:
    copies = browser_copies(settings())
    if copies.start(stored_name).done():
        st.rerun()
    st.info(t("player.preparing"), icon=":material/movie:")
    st.progress(copies.progress(stored_name))
