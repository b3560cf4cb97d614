"""A browser-safe copy of a stored video, so the dashboard's player can show any upload.

Browsers play H.264 (yuv420p) in MP4 and VP8/VP9/AV1 in WebM. A stored video that already is one of
those, with its index (`moov`) before the media data so playback and seeking start at once, is used as
it is. H.264 in another container (MKV, AVI, MOV with its index at the end) is remuxed without
re-encoding, which takes seconds even for long files. Anything else (MJPEG, HEVC, MPEG-4 Part 2
"mp4v", 10-bit or 4:2:2 video) is re-encoded to H.264 yuv420p with `+faststart`, using the ffmpeg
binary of the imageio-ffmpeg wheel, scaled to fit 1080p (1920×1080, or 1080×1920 upright): an
8000×8000 MJPEG would otherwise take gigabytes of memory to encode and play nowhere (H.264 larger
than 4096 px on a side is re-encoded for the same reason; bench/RESULTS.md, bench:browser_copy).
Timestamps are kept, so the player's times are the analysis's.

The copy, and the lists' thumbnails (`thumbnail`), live in `storage_dir/derived/<stem>/` (removed with the video); `browser.json` there records
what was decided, so later calls are a file read. Several processes may ask at once: a file lock makes
one of them do the work.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg

from core.config import Settings
from core.errors import SigmaError
from core.storage import video_path
from core.video import read_frame_at, top_level_boxes

_MARKER = "browser.json"
_COPY = "browser.mp4"
_MP4_FAMILY = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
_BROWSER_AUDIO_MP4 = {"aac", "mp3"}
_BROWSER_AUDIO_WEBM = {"opus", "vorbis"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_BROWSER_PIXELS = {"yuv420p", "yuvj420p"}  # 8-bit 4:2:0 (the "j" is only a full-range flag)
BROWSER_MAX_SIDES = (1920, 1080)  # a re-encoded copy fits this box (turned for upright video)
_BROWSER_DECODE_MAX_SIDE = 4096  # H.264 beyond this is not played by browsers' decoders
# fit the box (never enlarge), keep the aspect ratio, even sides as yuv420p needs
_SCALE_TO_BOX = (
    "scale=w='if(gte(iw,ih),min(iw,{long}),min(iw,{short}))':h='if(gte(iw,ih),min(ih,{short}),min(ih,{long}))'"
    ":force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=tv"
).format(long=BROWSER_MAX_SIDES[0], short=BROWSER_MAX_SIDES[1])

ProgressCallback = Callable[[float], None]


class MediaError(SigmaError):
    """The browser copy could not be made (the analysis itself is unaffected)."""


@dataclass(frozen=True)
class StreamFacts:
    """What ffmpeg says about a file: container, first video stream, first audio stream."""

    container: set[str]
    video_codec: str | None
    pixel_format: str | None
    audio_codec: str | None
    duration: float | None
    index_first: bool
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class BrowserVideo:
    """The file the player shows and how it was obtained (`as-is`, `remux` or `transcode`)."""

    path: Path
    mimetype: str
    action: str
    reason: str


def derived_dir(settings: Settings, stored_name: str) -> Path:
    return settings.storage_dir / "derived" / Path(stored_name).stem


THUMB_SIDE = 96  # px, a list thumbnail's longer side (shown 64 px wide; a few KB, resent on refresh)


def thumbnail_path(settings: Settings, stored_name: str, time: float) -> Path:
    return derived_dir(settings, stored_name) / f"thumb-{round(max(0.0, time) * 1000)}.jpg"


def thumbnail(settings: Settings, stored_name: str, time: float) -> bytes | None:
    """A small JPEG of the frame at `time`, made once and kept beside the browser copy (removed with
    the video): lists show one per row without decoding again. None when the video or frame is gone."""
    path = thumbnail_path(settings, stored_name, time)
    if path.is_file():
        return path.read_bytes()
    try:
        frame = read_frame_at(video_path(settings, stored_name), time, max_side=THUMB_SIDE)
    except SigmaError:
        return None
    if frame is None:
        return None
    ok, encoded = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return None
    data = encoded.tobytes()
    keep_derived(path, data)
    return data


def keep_derived(path: Path, data: bytes) -> None:
    """Write a derived file whole or not at all: two makers at once both write the same bytes, and
    a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{os.getpid()}-{threading.get_ident()}.{path.name}.part")
    part.write_bytes(data)
    part.replace(path)


def read_facts(path: str | Path) -> StreamFacts:
    """Container and codecs from `ffmpeg -i`, plus whether an MP4's index comes before its data."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,  # `ffmpeg -i` without an output always exits 1; its report is on stderr
    )
    text = result.stderr
    container_match = re.search(r"^Input #0, ([^ ]+), from", text, re.MULTILINE)
    container = set(container_match.group(1).rstrip(",").split(",")) if container_match else set()
    video = re.search(r"Stream #0:\d+.*?: Video: (\w+)[^,]*(?:, (\w+))?", text)
    audio = re.search(r"Stream #0:\d+.*?: Audio: (\w+)", text)
    duration = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    seconds = None
    if duration:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    size = re.search(r"Stream #0:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})\b", text)
    pixel_format = video.group(2) if video and video.group(2) else None
    if pixel_format:
        pixel_format = pixel_format.split("(")[0]
    return StreamFacts(
        container=container,
        video_codec=video.group(1) if video else None,
        pixel_format=pixel_format,
        audio_codec=audio.group(1) if audio else None,
        duration=seconds,
        index_first=_mp4_index_first(Path(path)) if container & _MP4_FAMILY else False,
        width=int(size.group(1)) if size else None,
        height=int(size.group(2)) if size else None,
    )


def _mp4_index_first(path: Path) -> bool:
    """True when the top-level `moov` box comes before `mdat` (what `+faststart` arranges)."""
    kinds = (kind for kind, _offset, _size in top_level_boxes(path) if kind in (b"moov", b"mdat"))
    return next(kinds, None) == b"moov"


def decide(facts: StreamFacts) -> tuple[str, str]:
    """(`as-is` | `remux` | `transcode`, why) for a file with these facts."""
    codec, pixels, audio = facts.video_codec, facts.pixel_format, facts.audio_codec
    if codec is None:
        return "transcode", "no video stream recognised"
    plain_pixels = pixels in _BROWSER_PIXELS
    if codec == "h264" and max(facts.width or 0, facts.height or 0) > _BROWSER_DECODE_MAX_SIDE:
        return "transcode", f"H.264 at {facts.width}x{facts.height} is larger than browsers decode"
    if facts.container & _MP4_FAMILY and codec == "h264" and plain_pixels:
        if audio not in (None, *_BROWSER_AUDIO_MP4):
            return "remux", f"audio codec {audio} does not play in browsers"
        if not facts.index_first:
            return "remux", "the MP4 index is at the end of the file (no faststart)"
        return "as-is", "H.264 yuv420p MP4 with faststart"
    if (
        "webm" in facts.container
        and codec in _WEBM_VIDEO
        and plain_pixels
        and audio in (None, *_BROWSER_AUDIO_WEBM)
    ):
        return "as-is", f"{codec.upper()} in WebM"
    if codec == "h264" and plain_pixels:
        return "remux", f"H.264 in a container browsers do not play ({'/'.join(sorted(facts.container))})"
    return "transcode", f"video codec {codec} ({pixels or 'unknown pixel format'}) does not play in browsers"


def existing_browser_video(settings: Settings, stored_name: str) -> BrowserVideo | None:
    """The browser-safe video when it is already decided and made; None when work is still needed."""
    marker = derived_dir(settings, stored_name) / _MARKER
    try:
        record = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if record["action"] == "as-is":
        path = video_path(settings, stored_name)
    else:
        path = derived_dir(settings, stored_name) / Path(record["path"]).name
    if not path.is_file():
        return None
    return BrowserVideo(path, record["mimetype"], record["action"], record["reason"])


def usable_now(settings: Settings, stored_name: str) -> BrowserVideo | None:
    """The browser-safe video if it needs no work (already made, or the original plays as it is; this
    costs one `ffmpeg -i`); None when a copy must be made first."""
    return ensure_browser_video(settings, stored_name, convert=False)


def ensure_browser_video(
    settings: Settings,
    stored_name: str,
    *,
    on_progress: ProgressCallback | None = None,
    convert: bool = True,
) -> BrowserVideo | None:
    """The browser-safe video for a stored one, made now if needed (blocking; safe to call concurrently).
    With `convert=False` nothing is remuxed or re-encoded: None is returned when that would be needed."""
    ready = existing_browser_video(settings, stored_name)
    if ready:
        return ready
    source = video_path(settings, stored_name)
    if not source.is_file():
        raise MediaError(f"the stored video is missing: {source.name}")
    folder = derived_dir(settings, stored_name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".browser.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if convert else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a copy is being made right now (by another thread or process)
        ready = existing_browser_video(settings, stored_name)
        if ready:
            return ready
        facts = read_facts(source)
        action, reason = decide(facts)
        if action != "as-is" and not convert:
            return None
        if action == "as-is":
            mimetype = (
                "video/webm" if "webm" in facts.container and facts.video_codec != "h264" else "video/mp4"
            )
            result = BrowserVideo(source, mimetype, action, reason)
            record_path = source.name
        else:
            target = folder / _COPY
            _run_ffmpeg(source, target, facts, action, on_progress)
            result = BrowserVideo(target, "video/mp4", action, reason)
            record_path = _COPY
        record = {**asdict(result), "path": record_path}
        temp = folder / f".{_MARKER}.part"
        temp.write_text(json.dumps(record))
        os.replace(temp, folder / _MARKER)
        return result


def _run_ffmpeg(
    source: Path, target: Path, facts: StreamFacts, action: str, on_progress: ProgressCallback | None
) -> None:
    """Remux or re-encode `source` into `target` (H.264 yuv420p, AAC, +faststart), atomically."""
    partial = target.with_name(f".{target.name}.part")
    if action == "remux":
        video_args = ["-c:v", "copy"]
    else:
        video_args = [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-vf", f"{_SCALE_TO_BOX},format=yuv420p",
        ]  # fmt: skip
    audio_args = (
        ["-c:a", "copy"] if facts.audio_codec in _BROWSER_AUDIO_MP4 else ["-c:a", "aac", "-b:a", "128k"]
    )
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?", *video_args, *audio_args,
        "-movflags", "+faststart", "-f", "mp4", "-progress", "pipe:1", "-nostats", str(partial),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if on_progress and facts.duration and line.startswith("out_time_us="):
                value = line.split("=", 1)[1].strip()
                if value.isdigit():
                    on_progress(min(1.0, int(value) / 1e6 / facts.duration))
        errors = process.stderr.read() if process.stderr else ""
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        partial.unlink(missing_ok=True)
        raise
    if code != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        last = (errors.strip().splitlines() or ["ffmpeg failed"])[-1]
        raise MediaError(f"could not make a browser-playable copy: {last}")
    os.replace(partial, target)


# --- browser copies made in the background, shared by the dashboard's sessions and the API's requests --


class BrowserCopies:
    """Makes browser copies in one background thread per storage folder (one ffmpeg at a time: a
    transcode uses every core), so a page or a request never waits for one; `progress` says how far
    the copy of a video is while it runs. A failed copy is remembered (its error is the answer) until
    the process restarts: a file ffmpeg cannot convert is not converted again on every request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigma-media")
        self._futures: dict[str, Future] = {}
        self._progress: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self, stored_name: str) -> Future:
        """The copy of `stored_name`, started now unless it is running or made (its result: BrowserVideo)."""
        with self._lock:
            future = self._futures.get(stored_name)
            if future is None:
                self._progress[stored_name] = 0.0

                def report(fraction: float) -> None:
                    self._progress[stored_name] = fraction

                future = self._pool.submit(
                    ensure_browser_video, self.settings, stored_name, on_progress=report
                )
                self._futures[stored_name] = future
            return future

    def progress(self, stored_name: str) -> float:
        return min(1.0, self._progress.get(stored_name, 0.0))


_copiers: dict[str, BrowserCopies] = {}
_copiers_lock = threading.Lock()


def browser_copies(settings: Settings) -> BrowserCopies:
    """The process-wide maker of browser copies for these settings' storage folder."""
    key = str(settings.storage_dir.resolve())
    with _copiers_lock:
        if key not in _copiers:
            _copiers[key] = BrowserCopies(settings)
        return _copiers[key]
