"""Video probing, validation by content, and streaming frame sampling with exact timestamps.

Decoding is done by the ffmpeg binary of the imageio-ffmpeg wheel, piping raw frames: it measured
faster than OpenCV's grab/retrieve for 10 fps sampling, and far faster when ffmpeg itself scales
frames down (`max_side`) or keeps only luma (`gray`) — see bench/RESULTS.md (bench:sampling).

Every sampled frame carries the presentation time the decoder reports for it (its pts times the
stream's time base, read from ffmpeg's `showinfo` filter; never a running float sum), so times
stay right on variable-frame-rate phone videos and in hour-long files. Frames are selected inside
ffmpeg (the first frame of each 1/target_fps slot) and read one at a time: memory does not grow with
the video's length.

`probe` reads every packet of the video stream once through PyAV (no decoding, so it is fast) to
learn the true duration and frame count even when the container has none or lies (mkv/webm,
truncated files, XviD AVI whose packed B-frames carry no presentation times), and decodes one frame
to prove the file is a video. A truncated file is analysed as far as it decodes.

Windows follow the frames that exist: a window is made only where a sampled frame falls, so a
video whose frames are days apart gives a few windows and gaps, never a window per 1.5 s of an
empty timeline (`iter_windows`, `occupied_windows`).
"""

from __future__ import annotations

import collections
import fcntl
import math
import os
import queue
import re
import subprocess
import threading
from array import array
from collections.abc import Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

from core.errors import AnalysisFailed, InvalidInput
from core.i18n import Message, say

_PIPE_BYTES = 1 << 20  # a larger pipe halves the context switches per full-resolution frame
_F_SETPIPE_SZ = 1031
_LOOKBACK_SEC = 1.0  # read_frame_at decodes from this far before the asked time
# averaging: no aliasing when a 1080p frame becomes 160 px wide; bit-exact: the scaler's SIMD paths (SSE2,
# AVX2 ...) round differently, and the local engine's rules read exact grey levels, so without it the same
# video gave other events on another machine (development clips 7031-7034, same code and seeds: 79/120
# found on the last machine, 76 on this one)
_SCALE_FLAGS = "area+bitexact"

# Leading bytes of common files that are not videos, named (`refusal.what.*`) so a refusal can say what it is.
_NOT_VIDEO_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"\x7fELF", "elf"),
    (b"ID3", "mp3"),
    (b"fLaC", "flac"),
    (b"SQLite format 3\x00", "sqlite"),
]


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video stream as Sigma will see its frames (rotation applied).

    `duration` is the end of the last decodable frame on the file's timeline; `fps` is the
    average rate where there are frames (frames / span, stretches without any frame left out),
    which is the true rate for constant-frame-rate files."""

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


def describe_non_video(head: bytes) -> Message | None:
    """A refusal for leading bytes that are plainly not a video, or None when they might be one."""
    if not head:
        return say("refusal.empty")
    what = next((what for signature, what in _NOT_VIDEO_SIGNATURES if head.startswith(signature)), None)
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        what = "wav" if head[8:12] == b"WAVE" else "webp"
    elif what is None and _looks_like_text(head):
        what = "text"
    return None if what is None else say("refusal.not_video", what=say(f"refusal.what.{what}"))


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
        raise InvalidInput.said(refusal)


# --- probe -----------------------------------------------------------------------------------------

_NO_TIME = -(1 << 63)
_ATTACHED_PICTURE = 1 << 10  # AV_DISPOSITION_ATTACHED_PIC: cover art, not the video
_MP4_BRANDS = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
GAP_MIN_SEC = 2.0  # a stretch without frames at least this long (and 10 frame intervals) is a gap
_GAP_INTERVALS = 10


def probe(path: str | Path) -> VideoInfo:
    """Facts about a decodable video, or `InvalidInput` saying what is wrong with the file.

    PyAV (FFmpeg's libraries in-process) reads every packet of the video stream once, without
    decoding, for the times of all frames, and decodes the first frame to prove the stream decodes
    and to learn its displayed size. A packet's time is its presentation time, or its decoding time
    when the container gives none (AVI: XviD's packed B-frames carry no pts), so every frame the
    decoder will output is counted; bench/RESULTS.md (bench:probe) compares this with parsing the
    ffmpeg binary's log and with decoding every frame."""
    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as error:
        raise InvalidInput.said(_unreadable_reason(path, error)) from error
    with container:
        stream = next(
            (s for s in container.streams.video if not s.disposition & _ATTACHED_PICTURE),
            None,
        )
        if stream is None:
            if container.streams.audio:
                raise InvalidInput.said(say("refusal.audio_only"))
            raise InvalidInput.said(say("refusal.no_video_stream"))
        times, first = _scan_packets(container, stream)
    if first is None:
        raise InvalidInput.said(say("refusal.undecodable"))
    if not times.count:
        raise InvalidInput.said(say("refusal.no_frames"))
    start, end = times.span()
    if end <= 0 or end <= start:
        raise InvalidInput.said(say("refusal.no_duration"))
    width, height = first
    return VideoInfo(
        width=width,
        height=height,
        fps=times.rate(),
        duration=end,
        frame_count=times.count,
        codec=stream.codec_context.name,
        container=container.format.name,
    )


def declared_duration(path: str | Path) -> float | None:
    """How long the file's header says its video lasts, or None when it does not say (or cannot be read).
    The video stream's own duration first: the container's may include a longer audio track."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = next((s for s in container.streams.video if not s.disposition & _ATTACHED_PICTURE), None)
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return container.duration / av.time_base if container.duration else None
    except (av.error.FFmpegError, OSError):
        return None


def cut_short(path: str | Path, decoded: float) -> float | None:
    """The header's duration when the frames clearly end before it (a truncated file, analysed as far
    as it decodes, as `probe` measures it), else None: the page and the report say how much was seen."""
    declared = declared_duration(path)
    return declared if declared and declared - decoded > max(0.5, 0.02 * declared) else None


class _FrameTimes:
    """The start and end of every frame (in the stream's time base) as packets come in."""

    def __init__(self, time_base: Fraction, nominal_rate: Fraction | None) -> None:
        self.time_base = time_base
        self.nominal_rate = nominal_rate
        self.pts = array("q")  # _NO_TIME where a packet has none
        self.dts = array("q")
        self.lengths = array("q")

    @property
    def count(self) -> int:
        return len(self.lengths)

    def add(self, packet) -> None:
        self.pts.append(_NO_TIME if packet.pts is None else packet.pts)
        self.dts.append(_NO_TIME if packet.dts is None else packet.dts)
        self.lengths.append(packet.duration or 0)

    def _starts(self) -> np.ndarray | None:
        """One clock for every frame: presentation times, or decoding times when some frames have
        none (XviD's packed B-frames in AVI), or None when the stream has no times at all."""
        pts, dts = np.array(self.pts, dtype=np.int64), np.array(self.dts, dtype=np.int64)
        if (pts != _NO_TIME).all():
            return pts
        if (dts != _NO_TIME).all():
            return dts
        mixed = np.where(pts != _NO_TIME, pts, dts)
        return mixed[mixed != _NO_TIME] if (mixed != _NO_TIME).any() else None

    def _typical_interval(self, ordered: np.ndarray) -> int:
        steps = np.diff(ordered)
        steps = steps[steps > 0]
        if len(steps):
            return int(np.median(steps))
        rate = self.nominal_rate or Fraction(25)
        return max(1, round(1 / (rate * self.time_base)))

    def _shown(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the frames that are shown: those at or after 0 (edit-list pre-roll is not)."""
        starts = self._starts()
        lengths = np.array(self.lengths, dtype=np.int64)
        if starts is None:  # no timestamps at all (raw H.264/HEVC): frames follow each other
            typical = int(np.median(lengths[lengths > 0])) if (lengths > 0).any() else 0
            step = typical or max(1, round(1 / ((self.nominal_rate or Fraction(25)) * self.time_base)))
            starts = np.arange(len(lengths), dtype=np.int64) * step
            return starts, starts + step
        lengths = lengths[: len(starts)]
        shown = starts >= 0
        if shown.any():
            starts, lengths = starts[shown], lengths[shown]
        if (lengths <= 0).any():
            typical = self._typical_interval(np.sort(starts))
            lengths = np.where(lengths > 0, lengths, typical)
        return starts, starts + lengths

    def span(self) -> tuple[float, float]:
        """(first frame's time, end of the last frame) in seconds."""
        starts, ends = self._shown()
        return float(starts.min() * self.time_base), float(ends.max() * self.time_base)

    def rate(self) -> float:
        """Frames per second where there are frames: stretches without any (a camera that paused,
        timestamps days apart) do not dilute it. Equals frames / span when there is no gap."""
        starts, ends = self._shown()
        ordered = np.sort(starts)
        steps = np.diff(ordered)
        if len(steps):
            typical = max(1, int(np.median(steps)))
            gap = max(_GAP_INTERVALS * typical, GAP_MIN_SEC / self.time_base)
            covered = int(ends.max() - ordered[0]) - int(steps[steps > gap].sum())
        else:
            covered = int(ends.max() - ordered[0])
        seconds = float(max(covered, 1) * self.time_base)
        return len(starts) / seconds


def _scan_packets(container, stream) -> tuple[_FrameTimes, tuple[int, int] | None]:
    """Every packet's time, and the displayed size of the first frame that decodes."""
    nominal = stream.average_rate or stream.base_rate
    times = _FrameTimes(Fraction(stream.time_base), Fraction(nominal) if nominal else None)
    first: tuple[int, int] | None = None
    decoder = stream.codec_context
    try:
        for packet in container.demux(stream):
            if first is None:
                first = _first_frame_size(decoder, packet)
            if packet.size == 0 or packet.is_corrupt or packet.is_discard:
                continue  # the demuxer's end marker; damaged or dropped packets are never shown
            times.add(packet)
    except av.error.FFmpegError:
        pass  # a damaged or truncated tail: the frames before it are the video
    if first is None:
        first = _first_frame_size(decoder, None)
    return times, first


def _first_frame_size(decoder, packet) -> tuple[int, int] | None:
    """(width, height) as shown (rotation applied) of a frame this packet completes, if any."""
    try:
        frames = decoder.decode(packet)
    except av.error.FFmpegError:
        return None
    for frame in frames:
        if abs(getattr(frame, "rotation", 0) or 0) % 180 == 90:
            return frame.height, frame.width
        return frame.width, frame.height
    return None


def _unreadable_reason(path: Path, error: Exception) -> Message:
    with open(path, "rb") as handle:
        head = handle.read(12)
    if head[4:8] in _MP4_BRANDS and not _has_top_level_box(path, b"moov"):
        return say("refusal.truncated_mp4")
    if isinstance(error, av.error.InvalidDataError):
        return say("refusal.unrecognised")
    return say("refusal.unreadable", error=str(getattr(error, "strerror", None) or error))


def top_level_boxes(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """(kind, offset, size) of each top-level box of an MP4/MOV file, in file order, read from the
    headers alone (a 64-bit size is read; size 0 means "to the end of the file"). A box may claim
    more bytes than the file has (a truncated file); the walk stops at a size that cannot be."""
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        offset = 0
        while offset + 8 <= total:
            handle.seek(offset)
            header = handle.read(16)
            size = int.from_bytes(header[:4], "big")
            if size == 1 and len(header) == 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = total - offset
            yield header[4:8], offset, size
            if size < 8:
                return
            offset += size


def _has_top_level_box(path: Path, kind: bytes) -> bool:
    """Whether an MP4/MOV file has a complete top-level box of this kind."""
    total = path.stat().st_size
    return any(offset + size <= total for found, offset, size in top_level_boxes(path) if found == kind)


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
    with suppress(OSError):  # the default pipe size only costs a little speed
        fcntl.fcntl(process.stdout.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
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
    """Windows of `window_sec` on a grid from t=0 (overlapping by the fraction `overlap`), each with
    `frames_per_window` frames chosen evenly from those sampled at `target_fps` (all of them when
    `frames_per_window` is None). The grid's windows cover [0, duration), but only those holding a
    sampled frame are made: a stretch of the timeline without frames gives no window at all, so the
    work follows what was decoded. A window's `index` is its place on the grid. Only the open
    windows' frames are held at a time."""
    hop = window_sec * (1.0 - overlap)
    last = _last_index(duration, window_sec, hop)
    open_windows: dict[int, list[Frame]] = {}
    for frame in iter_frames(path, target_fps, max_side=max_side, gray=gray):
        holding = [index for index in _windows_holding(frame.time, window_sec, hop) if index <= last]
        for index in sorted(open_windows):
            if holding and index >= holding[0]:
                break
            yield _make_window(index, hop, window_sec, duration, open_windows.pop(index), frames_per_window)
        for index in holding:
            open_windows.setdefault(index, []).append(frame)
    for index in sorted(open_windows):
        yield _make_window(index, hop, window_sec, duration, open_windows.pop(index), frames_per_window)


def _grid_start(index: int, hop: float) -> float:
    return round(index * hop, 6)


def _windows_holding(time: float, window_sec: float, hop: float) -> list[int]:
    """Grid indexes of the windows [start, start + window_sec) that hold `time`, in order."""
    last = max(0, math.floor(time / hop + 1e-9))
    indexes = []
    index = last
    while index >= 0 and _grid_start(index, hop) + window_sec > time + 1e-9:
        if _grid_start(index, hop) <= time + 1e-9:
            indexes.append(index)
        index -= 1
    return indexes[::-1]


def occupied_windows(
    times: Iterable[float], window_sec: float, hop: float | None = None, *, duration: float | None = None
) -> list[tuple[int, float]]:
    """(grid index, start) of the windows that hold at least one of `times`, in order: the windows
    an analysis of frames at these times makes (see `iter_windows`); with `duration`, only the
    windows of the grid that covers [0, duration)."""
    hop = window_sec if hop is None else hop
    last = _last_index(duration, window_sec, hop)
    indexes = {i for time in times for i in _windows_holding(float(time), window_sec, hop) if i <= last}
    return [(index, _grid_start(index, hop)) for index in sorted(indexes)]


def _last_index(duration: float | None, window_sec: float, hop: float) -> float:
    """The last grid index of the windows covering [0, duration) (no limit without a duration)."""
    return window_count(duration, window_sec, hop) - 1 if duration and duration > 0 else math.inf


def window_count(duration: float, window_sec: float, hop: float, frame_count: int | None = None) -> int:
    """How many windows an analysis makes at most: those covering [0, duration), but never more than
    the video's frames can open (windows follow frames), so a nearly empty timeline stays cheap."""
    count = max(1, math.ceil((duration - window_sec) / hop - 1e-9) + 1) if duration > window_sec else 1
    if frame_count:
        count = min(count, frame_count * max(1, math.ceil(window_sec / hop - 1e-9)))
    return count


def window_starts(duration: float, window_sec: float, hop: float) -> list[float]:
    """Start times of the windows that cover [0, duration)."""
    return [_grid_start(i, hop) for i in range(window_count(duration, window_sec, hop))]


def _make_window(
    index: int, hop: float, window_sec: float, duration: float, frames: list[Frame], count: int | None
) -> Window:
    start = _grid_start(index, hop)
    end = min(start + window_sec, duration) if duration > 0 else start + window_sec
    return Window(index, start, max(end, start), spread(frames, count) if count else frames)


def read_frame_at(path: str | Path, time: float, *, max_side: int | None = None) -> Frame | None:
    """The frame on screen at `time` seconds (the last one starting at or before it), for report
    pictures and thumbnails; None when `time` is more than a second past the end or the file no longer
    reads as a video. Its `index` is estimated from the stream's nominal frame rate.

    In-process (PyAV): seek to the keyframe at or before `time`, decode from there without converting
    anything, and convert only the frame wanted (rotation applied as ffmpeg applies it). The ffmpeg
    binary converted and piped every full-size frame of the last second instead: 180 MB per 1080p
    picture, most of a case package's report time (bench/RESULTS.md, package)."""
    path = Path(path)
    _check_file(path)
    target = max(0.0, float(time))
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError:
        return None  # a picture is missing, not the report or the page around it
    with container:
        stream = next((s for s in container.streams.video if not s.disposition & _ATTACHED_PICTURE), None)
        if stream is None:
            return None
        stream.thread_type = "AUTO"
        found = _frame_on_screen(container, stream, target)
    if found is None or found[1] < target - _LOOKBACK_SEC:
        return None
    frame, at = found
    rate = stream.average_rate or stream.base_rate or 0
    return Frame(round(at * float(rate)), round(at, 6), _bgr(frame, max_side))


def _frame_on_screen(container, stream, target: float):
    """(frame, seconds) of the last frame starting at or before `target` (or the first frame, when
    none does). Times are counted from the file's start, as the ffmpeg binary counts them. A seek that
    lands past `target` (a keyframe found by decoding time) is retried from further back."""
    time_base = Fraction(stream.time_base)
    offset = Fraction(container.start_time or 0, av.time_base)
    back = 0.0
    while True:
        seek_to = max(0.0, target - back)
        container.seek(int((Fraction(seek_to) + offset) / time_base), stream=stream, backward=True)
        shown = None
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                at = float(frame.pts * time_base - offset)
                if at > target + 1e-6:
                    if shown is None and seek_to > 0:
                        break  # landed after the frame wanted: seek again from further back
                    return shown or (frame, at)
                shown = (frame, at)
        except av.error.FFmpegError:
            pass  # a damaged or truncated tail: what decoded before it is what there is
        if shown is not None or seek_to == 0:
            return shown
        back = max(1.0, back * 2)


def _bgr(frame, max_side: int | None) -> np.ndarray:
    """The frame as BGR, turned upright as ffmpeg's autorotate turns it, shrunk as `_scale_filter`."""
    turns = round(-(getattr(frame, "rotation", 0) or 0) / 90) % 4  # clockwise quarter turns to show it
    width, height = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
    if max_side and max(width, height) > max_side:
        if width >= height:
            width, height = int(max_side), round(height * max_side / width / 2) * 2
        else:
            width, height = round(width * max_side / height / 2) * 2, int(max_side)
    stored = (height, width) if turns % 2 else (width, height)
    image = frame.to_ndarray(format="bgr24", width=stored[0], height=stored[1], interpolation="AREA")
    return np.ascontiguousarray(np.rot90(image, k=-turns)) if turns else image


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
