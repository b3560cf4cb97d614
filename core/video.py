"""Video probing, validation by content, and streaming frame sampling with exact timestamps.

Decoding is done by the ffmpeg binary of the imageio-ffmpeg wheel, piping raw frames: it measured
faster than OpenCV's grab/retrieve for 10 fps sampling, and far faster when ffmpeg itself scales
frames down (`max_side`) or keeps only luma (`gray`) — see bench/RESULTS.md (bench:sampling).

Every sampled frame carries the presentation time the decoder reports for it (its pts times the
stream's time base, read from ffmpeg's `showinfo` filter; never a running float sum), so times
stay right on variable-frame-rate phone videos and in hour-long files. Frames are selected inside
ffmpeg (the first frame of each 1/target_fps slot) and read one at a time: memory does not grow with
the video's length.

`probe` reads every packet of the video stream once (no decoding, so it is fast) to learn the true
duration and frame count even when the container has none or lies (mkv/webm, truncated files), and
decodes one frame to prove the file is a video. A truncated file is analysed as far as it decodes.
"""

from __future__ import annotations

import collections
import fcntl
import math
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from core.errors import AnalysisFailed, InvalidInput

_PROBE_TIMEOUT_SEC = 900
_PIPE_BYTES = 1 << 20  # a larger pipe halves the context switches per full-resolution frame
_F_SETPIPE_SZ = 1031
_LOOKBACK_SEC = 1.0  # read_frame_at decodes from this far before the asked time
_SCALE_FLAGS = "area"  # averaging: no aliasing when a 1080p frame becomes 160 px wide

# Leading bytes of common files that are not videos, named so a refusal can say what the file is.
_NOT_VIDEO_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"SQLite format 3\x00", "an SQLite database"),
]


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video stream as Sigma will see its frames (rotation applied).

    `duration` is the end of the last decodable frame on the file's timeline; `fps` is the
    average rate (frames / span), which is the true rate for constant-frame-rate files."""

    width: int
    height: int
    fps: float
    duration: float
    frame_count: int
    codec: str
    container: str = ""


@dataclass(frozen=True)
class Frame:
    """A decoded frame and its presentation time in seconds.

    `image` is BGR (height, width, 3), or (height, width) luma when sampled with `gray=True`;
    `index` is the frame's position among all decoded frames of the video."""

    index: int
    time: float
    image: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Window:
    """A span of the video and the frames sampled from it, in time order."""

    index: int
    start: float
    end: float
    frames: list[Frame]


@cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped in the imageio-ffmpeg wheel (or IMAGEIO_FFMPEG_EXE)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


# --- what a file is ------------------------------------------------------------------------------


def describe_non_video(head: bytes) -> str | None:
    """A refusal for leading bytes that are plainly not a video, or None when they might be one."""
    if not head:
        return "empty file"
    for signature, what in _NOT_VIDEO_SIGNATURES:
        if head.startswith(signature):
            return f"this is {what}, not a video"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "this is a WAV audio file, not a video"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "this is a WebP image, not a video"
    if _looks_like_text(head):
        return "this is a text file, not a video"
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True  # byte-order marks of UTF-8/16 text
    text = head.decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) < len(head) - 3:  # undecodable bytes (allow a cut multi-byte tail)
        return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidInput(f"file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"not a file: {path}")
    with open(path, "rb") as handle:
        refusal = describe_non_video(handle.read(512))
    if refusal:
        raise InvalidInput(refusal)


# --- probe -----------------------------------------------------------------------------------------

_CONTAINER = re.compile(r"^Input #0, ([\w,]+), from", re.MULTILINE)
_SIZE = re.compile(r"\] n:\s*0 .*? s:(\d+)x(\d+)")
_NOMINAL_RATE = re.compile(r"frame_rate: (\d+)/(\d+)")
_AUDIO_STREAM = re.compile(r"^\s*Stream #0:\d+.*: Audio: ", re.MULTILINE)
_DISCARDED = 0x2 | 0x4  # AV_PKT_FLAG_CORRUPT | AV_PKT_FLAG_DISCARD


def probe(path: str | Path) -> VideoInfo:
    """Facts about a decodable video, or `InvalidInput` saying what is wrong with the file."""
    path = Path(path)
    _check_file(path)
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
        # output 1: every packet of the video stream, copied, listed with pts/duration (no decoding)
        "-map", "0:V:0", "-c", "copy", "-f", "framecrc", "-",
        # output 2: decode the first frame, proving the stream decodes and giving its displayed size
        "-map", "0:V:0", "-frames:v", "1", "-vf", "showinfo=checksum=0", "-f", "null", "-",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=_PROBE_TIMEOUT_SEC, check=False)
    except subprocess.TimeoutExpired as error:
        raise InvalidInput(f"reading the video took longer than {_PROBE_TIMEOUT_SEC} s") from error
    except OSError as error:
        raise AnalysisFailed(f"ffmpeg could not be started: {error}") from error
    log = done.stderr.decode("utf-8", errors="replace")
    if "Input #0" not in log:
        raise InvalidInput(_unreadable_reason(log))
    if "matches no streams" in log:
        if _AUDIO_STREAM.search(log):
            raise InvalidInput("no video stream: this is an audio file, not a video")
        raise InvalidInput("no video stream in this file")
    size = _SIZE.search(log)
    if size is None:
        raise InvalidInput(
            "no video frame could be decoded: the video is damaged or its codec is not supported"
        )
    span = _packet_span(done.stdout, _nominal_rate(log))
    if span is None:
        raise InvalidInput("the video stream holds no frames")
    start, end, frame_count, codec = span
    if end <= 0 or end <= start:
        raise InvalidInput("the video has no duration")
    fps = float(frame_count / (end - start))
    container = _CONTAINER.search(log)
    return VideoInfo(
        width=int(size.group(1)),
        height=int(size.group(2)),
        fps=fps,
        duration=float(end),
        frame_count=frame_count,
        codec=codec,
        container=container.group(1) if container else "",
    )


def _unreadable_reason(log: str) -> str:
    if "moov atom not found" in log:
        return "the video is truncated or damaged: its MP4 index (moov atom) is missing"
    if "Invalid data found when processing input" in log:
        return "not a video: the file's format is not recognised"
    last = [line for line in log.splitlines() if line.strip()]
    return f"the file could not be read as a video ({last[-1].strip() if last else 'ffmpeg failed'})"


def _nominal_rate(log: str) -> Fraction | None:
    found = _NOMINAL_RATE.search(log)
    if found and int(found.group(1)) > 0 and int(found.group(2)) > 0:
        return Fraction(int(found.group(1)), int(found.group(2)))
    return None


def _packet_span(listing: bytes, nominal_rate: Fraction | None) -> tuple[Fraction, Fraction, int, str] | None:
    """(first pts, end of last frame in seconds, frame count, codec) from ffmpeg's framecrc listing."""
    time_base = Fraction(1, 1000)
    codec = ""
    starts: list[int] = []
    ends: list[int] = []
    for line in listing.splitlines():
        if line.startswith(b"#"):
            if line.startswith(b"#tb 0:"):
                time_base = Fraction(line.split(b":", 1)[1].strip().decode())
            elif line.startswith(b"#codec_id 0:"):
                codec = line.split(b":", 1)[1].strip().decode()
            continue
        fields = line.split(b",")
        if len(fields) < 6 or not fields[2].strip().lstrip(b"-").isdigit():
            continue
        if len(fields) > 6 and int(fields[6].strip().removeprefix(b"F=") or b"0", 16) & _DISCARDED:
            continue
        pts, length = int(fields[2]), int(fields[3])
        starts.append(pts)
        ends.append(pts + length if length > 0 else -1)
    shown = [i for i, pts in enumerate(starts) if pts >= 0] or list(range(len(starts)))
    if not shown:
        return None
    starts = [starts[i] for i in shown]
    ends = [ends[i] for i in shown]
    if min(ends) < 0:  # some packets carry no duration: give them the typical frame interval
        ordered = sorted(set(starts))
        gaps = np.diff(ordered)
        if len(gaps):
            typical = int(np.median(gaps))
        elif nominal_rate:
            typical = max(1, round(1 / (nominal_rate * time_base)))
        else:
            typical = max(1, round(Fraction(1, 25) / time_base))
        ends = [end if end >= 0 else start + typical for start, end in zip(starts, ends)]
    return min(starts) * time_base, max(ends) * time_base, len(starts), codec


# --- sampling ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sampled:
    index: int
    time: float
    width: int
    height: int


_FRAME_FACTS = re.compile(rb"\] n:\s*(\d+) pts:\s*(-?\d+|NOPTS) .*? s:(\d+)x(\d+)")
_TIME_BASE = re.compile(rb"config in time_base: (\d+)/(\d+), frame_rate: (\d+)/(\d+)")


class _FfmpegLog:
    """Reads ffmpeg's stderr in a thread. Lines of the `showinfo@decoded` filter (every decoded
    frame) count frames; lines of `showinfo@sampled` (each frame written to stdout, in order)
    become `_Sampled` facts; the last other lines are kept to explain a failure."""

    def __init__(self, stream) -> None:
        self.facts: queue.SimpleQueue[_Sampled | None] = queue.SimpleQueue()
        self.tail: collections.deque[str] = collections.deque(maxlen=12)
        self.frame_rate: Fraction | None = None
        self._stream = stream
        self._thread = threading.Thread(target=self._read, name="ffmpeg-log", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        decoded = -1
        time_base = Fraction(1, 1)
        last_time = 0.0
        try:
            for line in self._stream:
                if line.startswith(b"[showinfo@decoded"):
                    found = _FRAME_FACTS.search(line)
                    if found:
                        decoded = int(found.group(1))
                elif line.startswith(b"[showinfo@sampled"):
                    found = _FRAME_FACTS.search(line)
                    if found:
                        pts = found.group(2)
                        last_time = last_time if pts == b"NOPTS" else float(int(pts) * time_base)
                        index = decoded if decoded >= 0 else int(found.group(1))
                        self.facts.put(_Sampled(index, last_time, int(found.group(3)), int(found.group(4))))
                    elif config := _TIME_BASE.search(line):
                        time_base = Fraction(int(config.group(1)), int(config.group(2)))
                        if int(config.group(3)) and int(config.group(4)):
                            self.frame_rate = Fraction(int(config.group(3)), int(config.group(4)))
                elif line.strip():
                    self.tail.append(line.decode("utf-8", errors="replace").strip())
        finally:
            self.facts.put(None)

    def join(self) -> None:
        self._thread.join(timeout=10)

    def reason(self) -> str:
        errors = [line for line in self.tail if not line.startswith(("Input #", "Output #", "Stream"))]
        return errors[-1] if errors else "ffmpeg produced no frames"


def _select_filter(target_fps: float) -> str:
    """Keep the first frame of each 1/target_fps slot (slots counted from t=0 on the pts timeline)."""
    rate = repr(float(target_fps))
    slot = f"floor(t*{rate}+1e-6)"
    return f"select='if(isnan(prev_selected_t),1,gte({slot}-floor(prev_selected_t*{rate}+1e-6),1))'"


def _scale_filter(max_side: int) -> str:
    """Shrink so the longer side is at most `max_side` (never enlarge), keeping the aspect ratio."""
    side = int(max_side)
    return (
        f"scale=w='if(gte(iw,ih),min(iw,{side}),-2)':h='if(gte(iw,ih),-2,min(ih,{side}))'"
        f":flags={_SCALE_FLAGS}"
    )


def _decode(
    path: str | Path,
    *,
    target_fps: float | None,
    max_side: int | None,
    gray: bool,
    seek: float = 0.0,
    max_frames: int | None = None,
) -> Iterator[Frame]:
    """Frames from one ffmpeg process, read from its stdout one at a time."""
    pixel_format, channels = ("gray", 1) if gray else ("bgr24", 3)
    filters = ["showinfo@decoded=checksum=0"]
    if target_fps:
        filters.append(_select_filter(target_fps))
    if max_side:
        filters.append(_scale_filter(max_side))
    filters += [f"format={pixel_format}", "showinfo@sampled=checksum=0"]
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
    if seek > 0:
        command += ["-ss", f"{seek:.6f}"]
    command += ["-i", str(path), "-map", "0:V:0", "-vf", ",".join(filters), "-fps_mode", "passthrough"]
    if max_frames:
        command += ["-frames:v", str(max_frames)]
    command += ["-f", "rawvideo", "-pix_fmt", pixel_format, "-"]
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as error:
        raise AnalysisFailed(f"ffmpeg could not be started: {error}") from error
    try:
        fcntl.fcntl(process.stdout.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:
        pass  # the default pipe size only costs a little speed
    log = _FfmpegLog(process.stderr)
    delivered = 0
    try:
        while (fact := log.facts.get()) is not None:
            shape = (fact.height, fact.width) if gray else (fact.height, fact.width, channels)
            image = np.empty(shape, dtype=np.uint8)
            if not _read_into(process.stdout, image):
                break
            delivered += 1
            if seek:  # frames are counted from the seek point: estimate the index from the rate
                time = round(seek + fact.time, 6)
                yield Frame(round(time * float(log.frame_rate or 0)), time, image)
            else:
                yield Frame(fact.index, fact.time, image)
        process.stdout.close()
        returncode = process.wait()
        log.join()
        if returncode < 0:
            raise AnalysisFailed(f"decoding stopped: ffmpeg was killed by signal {-returncode}")
        if delivered == 0 and returncode != 0 and not seek:
            raise InvalidInput(f"the video could not be decoded ({log.reason()})")
        # frames then a non-zero exit: the file's tail is damaged; what decoded has been delivered
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        log.join()
        process.stderr.close()


def _read_into(stream, image: np.ndarray) -> bool:
    """Fill `image` from `stream`; False at the end of the stream."""
    view = memoryview(image).cast("B")
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:])
        if not count:
            return False
        filled += count
    return True


def iter_frames(
    path: str | Path,
    target_fps: float | None,
    *,
    max_side: int | None = None,
    gray: bool = False,
) -> Iterator[Frame]:
    """Frames at about `target_fps` (the first frame of each 1/target_fps slot; every frame when
    None), each with its own presentation time, decoded one at a time.

    `max_side` has ffmpeg shrink frames so their longer side is at most that many pixels; `gray`
    delivers luma only (2-D arrays). Both are far cheaper inside the decoder than afterwards."""
    _check_file(Path(path))
    yield from _decode(path, target_fps=target_fps, max_side=max_side, gray=gray)


def spread(items: list, count: int) -> list:
    """`count` items chosen evenly from `items`, first and last included, order kept."""
    if count >= len(items):
        return list(items)
    if count == 1:
        return [items[len(items) // 2]]
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in dict.fromkeys(picks.tolist())]


def iter_windows(
    path: str | Path,
    *,
    duration: float,
    window_sec: float,
    target_fps: float,
    frames_per_window: int | None,
    overlap: float = 0.0,
    max_side: int | None = None,
    gray: bool = False,
) -> Iterator[Window]:
    """Windows of `window_sec` (overlapping by the fraction `overlap`), each with
    `frames_per_window` frames chosen evenly from those sampled at `target_fps`
    (all of them when `frames_per_window` is None). Only one window's frames are held at a time."""
    hop = window_sec * (1.0 - overlap)
    starts = window_starts(duration, window_sec, hop)
    pending: list[Frame] = []
    next_window = 0
    for frame in iter_frames(path, target_fps, max_side=max_side, gray=gray):
        pending.append(frame)
        while next_window < len(starts) and frame.time >= starts[next_window] + window_sec:
            yield _make_window(
                next_window, starts[next_window], window_sec, duration, pending, frames_per_window
            )
            next_window += 1
            if next_window < len(starts):
                pending = [f for f in pending if f.time >= starts[next_window]]
    while next_window < len(starts):
        yield _make_window(next_window, starts[next_window], window_sec, duration, pending, frames_per_window)
        next_window += 1
        if next_window < len(starts):
            pending = [f for f in pending if f.time >= starts[next_window]]


def window_starts(duration: float, window_sec: float, hop: float) -> list[float]:
    """Start times of the windows that cover [0, duration)."""
    count = max(1, math.ceil((duration - window_sec) / hop - 1e-9) + 1) if duration > window_sec else 1
    return [round(i * hop, 6) for i in range(count)]


def _make_window(
    index: int, start: float, window_sec: float, duration: float, frames: list[Frame], count: int | None
) -> Window:
    end = min(start + window_sec, duration) if duration > 0 else start + window_sec
    inside = [f for f in frames if start <= f.time < start + window_sec]
    return Window(index, start, max(end, start), spread(inside, count) if count else inside)


def read_frame_at(path: str | Path, time: float, *, max_side: int | None = None) -> Frame | None:
    """The frame on screen at `time` seconds (the last one starting at or before it), for report
    pictures and thumbnails; None when `time` is more than a second past the end. Its `index` is
    estimated from the stream's nominal frame rate."""
    _check_file(Path(path))
    target = max(0.0, float(time))
    seek = max(0.0, target - _LOOKBACK_SEC)
    shown: Frame | None = None
    with closing(_decode(path, target_fps=None, max_side=max_side, gray=False, seek=seek)) as frames:
        for frame in frames:
            if frame.time > target + 1e-6:
                return shown or frame  # `frame` when the video's first frame comes after `time`
            shown = frame
    return shown


def frames_between(
    path: str | Path, start: float, end: float, *, target_fps: float, max_side: int | None = None
) -> list[Frame]:
    """The frames sampled at about `target_fps` from `start` to `end` seconds (BGR, each with its
    presentation time), decoded from just before `start` instead of from the beginning: a closer look
    at a few seconds of a long video. The caller bounds the count through `target_fps`."""
    _check_file(Path(path))
    frames: list[Frame] = []
    seek = max(0.0, start)
    with closing(_decode(path, target_fps=target_fps, max_side=max_side, gray=False, seek=seek)) as decoded:
        for frame in decoded:
            if frame.time > end + 1e-6:
                break
            if frame.time >= start - 1e-6:
                frames.append(frame)
    return frames
