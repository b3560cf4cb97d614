"""Event clips: an MP4 per event, with pre- and post-roll, cut from the original by presentation times.

A clip covers [event start - pre-roll, event end + post-roll] (CLIP_PRE_ROLL_SEC and
CLIP_POST_ROLL_SEC, 3 s each by default), kept inside the video. It is exact: it starts with the
first frame presented at or after the cut's start, never at an earlier keyframe, and what it covers
is measured from the clip itself (its first frame's time and the end of its last frame).

- When the cut starts on a keyframe of a browser-playable original (H.264, 8-bit 4:2:0), the clip is
  a stream copy: the original's encoded frames, bit for bit, in a new MP4 (fast, and nothing is
  re-encoded). Its end may run a few frames past the cut's end, as far as the original's coding
  order (B-frames) requires.
- Otherwise the span is re-encoded: ffmpeg decodes from the keyframe before the cut, discards the
  frames before it and encodes H.264 (yuv420p, CRF 17) from the exact frame on. An original browsers
  cannot play (MJPEG, HEVC, MPEG-4 Part 2, 10-bit) is always re-encoded.

With CLIP_CUT=keyframe (or `--from-keyframe`) a browser-playable original is never re-encoded: the clip
starts at the keyframe at or before the cut (so the pre-roll is longer, by up to the original's keyframe
interval) and holds the original's encoded frames only; much faster on long, high-resolution videos.

Either way the clip is an MP4 with its index first (`+faststart`), so a browser plays it at once, and
its frames keep the original's timing. Several clips are cut at once (one ffmpeg process each, up to
the number of CPUs, at most MAX_PARALLEL_CUTS). Clips are kept beside the browser copy
(`STORAGE_DIR/derived/<video>/clips/`, removed with the video): a clip asked for again, or put in a
case package, is not cut twice. Several processes may ask at once: a file lock per clip makes one cut.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from core import repository
from core.access import Principal
from core.config import Settings
from core.db import database
from core.errors import InvalidInput, SigmaError
from core.evidence.audit import Action, record
from core.media import derived_dir, read_facts
from core.models import Incident
from core.schema import Event
from core.storage import video_path
from core.video import VideoInfo, ffmpeg_exe, probe
from core.views import IncidentRecord

CLIP_VERSION = "sigma-clip-2"  # changes when the way clips are cut changes (cached clips are redone)
_BROWSER_PIXELS = {"yuv420p", "yuvj420p"}
CutMode = Literal["exact", "keyframe"]
MAX_PARALLEL_CUTS = 4  # ffmpeg processes at once (each holds a 1080p decoder and encoder: ~200 MB)
_FRAME_LINE = re.compile(rb"^\s*\d+,\s*(-?\d+),\s*(-?\d+),")
_TIME_BASE = re.compile(rb"^#tb \d+: (\d+)/(\d+)", re.MULTILINE)
_ENCODE = [
    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "17", "-pix_fmt", "yuv420p",
    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2:out_range=tv,format=yuv420p",
]  # fmt: skip


class ClipError(SigmaError):
    """The clip could not be made (ffmpeg failed, or nothing of the span decodes)."""


@dataclass(frozen=True)
class Cut:
    """A clip file and how it was made, on the original's timeline."""

    path: Path
    start: float  # seconds of the original where the clip starts (its first frame)
    end: float  # where it ends (the end of its last frame)
    frames: int
    method: str  # "stream copy" | "re-encoded"
    reason: str


@dataclass(frozen=True)
class EventClip:
    """The clip of one event of an incident, as every layer names it."""

    number: int  # 1 = the earliest event, as the report and `show` number them
    event: Event
    cut: Cut
    file_name: str  # what the user gets: sigma-12-event-03-COLLISION.mp4


def clip_span(event: Event, duration: float, pre_roll: float, post_roll: float) -> tuple[float, float]:
    """[start, end] of the clip on the original's timeline, kept inside [0, duration]."""
    return max(0.0, event.start_time - pre_roll), min(duration, event.end_time + post_roll)


def cut(source: Path, start: float, end: float, folder: Path, *, fps: float, mode: CutMode = "exact") -> Cut:
    """The clip [start, end] of `source` in `folder` (made now unless already there); `fps` is the
    original's frame rate (a cut within half a frame of a keyframe starts on it). With `mode="keyframe"`
    a browser-playable original is never re-encoded: the clip starts earlier, at the keyframe before."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"clip-{round(start * 1000):09d}-{round(end * 1000):09d}" + (
        "-keyframe" if mode == "keyframe" else ""
    )
    target, marker = folder / f"{stem}.mp4", folder / f"{stem}.json"
    with open(folder / f".{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = _made(target, marker)
        if made:
            return made
        facts = read_facts(source)
        playable = facts.video_codec == "h264" and facts.pixel_format in _BROWSER_PIXELS
        keyframe = keyframe_at_or_before(source, start) if playable else None
        frame = 1 / max(1.0, fps)
        on_keyframe = keyframe is not None and (mode == "keyframe" or start - keyframe <= frame / 2)
        copy = _copy_extent(source, keyframe, end) if on_keyframe else None
        if copy is not None:
            method = "stream copy"
            reason = (
                "the cut starts on a keyframe of an H.264 original"
                if start - keyframe <= frame / 2
                else f"started {start - keyframe:.2f} s early, at the keyframe before the cut (CLIP_CUT=keyframe)"
            )
            start, (packets, copy_end) = keyframe, copy
            made = _ffmpeg(source, start, copy_end, target, ["-c:v", "copy", "-frames:v", str(packets)])
        else:
            method = "re-encoded"
            reason = (
                f"the original's {facts.video_codec or 'video'} ({facts.pixel_format or '?'}) "
                "does not play in browsers"
                if not playable
                else "the cut does not start on a keyframe"
            )
            made = _ffmpeg(source, start, end, target, _ENCODE)
        result = Cut(
            target, round(start, 6), round(start + made.duration, 6), made.frame_count, method, reason
        )
        marker.write_text(json.dumps({**asdict(result), "path": target.name, "version": CLIP_VERSION}))
        return result


def _made(target: Path, marker: Path) -> Cut | None:
    try:
        record_ = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if record_.get("version") != CLIP_VERSION or not target.is_file():
        return None
    return Cut(
        target, record_["start"], record_["end"], record_["frames"], record_["method"], record_["reason"]
    )


def keyframe_at_or_before(source: Path, time: float) -> float | None:
    """The presentation time of the last keyframe at or before `time` (what ffmpeg's input seek lands
    on), from the first packet a stream copy seeked there writes; None when it cannot tell."""
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-ss", f"{time:.6f}",
        "-i", str(source), "-map", "0:V:0", "-c", "copy", "-frames:v", "1", "-f", "framecrc", "-",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    base = _TIME_BASE.search(done.stdout)
    for line in done.stdout.splitlines():
        found = _FRAME_LINE.match(line)
        if found and base:
            pts = int(found.group(2))  # relative to the seek point: <= 0 for the keyframe before
            return time + pts * int(base.group(1)) / int(base.group(2))
    return None


def _copy_extent(source: Path, keyframe: float, end: float) -> tuple[int, float] | None:
    """For a stream copy from `keyframe`: how many packets (in decoding order) to take so the clip shows
    every frame before `end` and no frame is missing in between (B-frames are decoded after the frames
    they point to, so cutting by time could drop one), and where the frames shown then end. None when
    the packets cannot be listed."""
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-ss", f"{keyframe:.6f}",
        "-i", str(source), "-map", "0:V:0", "-c", "copy", "-t", f"{end - keyframe + 2.0:.6f}",
        "-f", "framecrc", "-",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=300, check=False)
    base = _TIME_BASE.search(done.stdout)
    if done.returncode != 0 or base is None:
        return None
    unit = int(base.group(1)) / int(base.group(2))
    packets = []  # (pts, duration) in decoding order, seconds from the keyframe
    for line in done.stdout.splitlines():
        fields = line.split(b",")
        if _FRAME_LINE.match(line) and len(fields) >= 4:
            packets.append((int(fields[2]) * unit, int(fields[3]) * unit))
    wanted = end - keyframe - 1e-6
    every_pts = sorted(pts for pts, _ in packets)
    taken: list[float] = []
    for count, (pts, _) in enumerate(packets, start=1):
        taken.append(pts)
        shown = sorted(taken)
        if (max(shown) >= wanted or count == len(packets)) and shown == every_pts[: len(shown)]:
            last = max(packets[:count], key=lambda packet: packet[0])  # the video may end before `end`
            return count, keyframe + last[0] + last[1]
    return None


def _ffmpeg(source: Path, start: float, end: float, target: Path, video_args: list[str]) -> VideoInfo:
    """Cut [start, end] of `source` into `target` (atomically) and return what the clip holds. Input
    seeking with re-encoding is exact (frames before `start` are decoded and dropped); a stream copy
    starts at the keyframe (the caller checked it is at `start`)."""
    partial = target.with_name(f".{target.name}.part")
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{start:.6f}", "-i", str(source), "-t", f"{end - start:.6f}",
        "-map", "0:V:0", "-map", "0:a:0?", *video_args, "-c:a", "aac", "-b:a", "160k",
        "-fps_mode", "passthrough", "-movflags", "+faststart", "-f", "mp4", str(partial),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=3600, check=False
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["ffmpeg failed"])[-1]
        raise ClipError(f"the clip could not be cut: {last}")
    try:
        made = probe(partial)
    except InvalidInput as error:
        partial.unlink(missing_ok=True)
        raise ClipError(
            f"the clip came out unreadable ({error}): nothing of {start:.2f}-{end:.2f} s decodes"
        ) from error
    os.replace(partial, target)
    return made


def file_name(incident: Incident | IncidentRecord, number: int, event: Event) -> str:
    """sigma-12-event-03-COLLISION.mp4 (only safe characters)."""
    kind = "".join(c if c.isalnum() or c in "-_" else "-" for c in event.event_type)[:40] or "event"
    return f"sigma-{incident.id}-event-{number:02d}-{kind}.mp4"


def event_clips(
    settings: Settings,
    incident_id: int,
    numbers: list[int] | None = None,
    *,
    pre_roll: float | None = None,
    post_roll: float | None = None,
    mode: CutMode | None = None,
    actor: Principal | None = None,
) -> list[EventClip]:
    """Clips of the incident's events (`numbers`, 1-based as the report numbers them; all when None).
    `InvalidInput` for an unknown incident or event, an event outside the video, or a video no longer
    stored. With `actor`, each clip is recorded in the audit trail ("clip")."""
    pre = settings.clip_pre_roll_sec if pre_roll is None else pre_roll
    post = settings.clip_post_roll_sec if post_roll is None else post_roll
    mode = mode or settings.clip_cut
    if pre < 0 or post < 0:
        raise InvalidInput("pre- and post-roll cannot be negative")
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise InvalidInput(f"no incident {incident_id}")
        events = repository.events_of(session, incident_id)
    wanted = list(range(1, len(events) + 1)) if numbers is None else numbers
    for number in wanted:
        if not 1 <= number <= len(events):
            count = len(events)
            have = {0: "no events", 1: "one event (number 1)"}.get(
                count, f"{count} events (numbers 1-{count})"
            )
            raise InvalidInput(f"incident {incident_id} has {have}; there is no event {number}")
    source = video_path(settings, incident.stored_name)
    if not source.is_file():
        raise InvalidInput(
            f"the original video of incident {incident_id} ({incident.original_name}) is no longer in "
            "storage: clips are cut from it, so none can be made"
        )
    spans = []
    for number in wanted:
        event = events[number - 1]
        start, end = clip_span(event, incident.duration, pre, post)
        if event.start_time >= incident.duration or end <= start:
            raise InvalidInput(
                f"event {number} ({event.start_time:.2f}-{event.end_time:.2f} s) lies outside the video "
                f"({incident.duration:.2f} s long): no clip can be cut"
            )
        spans.append((start, end))
    folder = derived_dir(settings, incident.stored_name) / "clips"
    # one ffmpeg process per clip, several at once: each is mostly one core's decoding and encoding
    with ThreadPoolExecutor(
        max_workers=max(1, min(len(spans), os.cpu_count() or 1, MAX_PARALLEL_CUTS))
    ) as pool:
        cuts = list(pool.map(lambda span: cut(source, *span, folder, fps=incident.fps, mode=mode), spans))
    clips = [
        EventClip(number, events[number - 1], made, file_name(incident, number, events[number - 1]))
        for number, made in zip(wanted, cuts)
    ]
    if actor is not None:
        with database(settings).session() as session:
            for clip in clips:
                record(
                    session, actor, Action.CLIP, incident_id=incident_id,
                    target=f"event {clip.event.id} ({clip.event.event_type} {clip.event.highlight})",
                    details={"number": clip.number, "from": clip.cut.start, "to": clip.cut.end,
                             "method": clip.cut.method},
                )  # fmt: skip
    return clips
