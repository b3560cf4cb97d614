"""Uploads: written under a generated name, atomically, hashed, and validated by content.

The user's file name is kept only as metadata (cleaned of control characters, never used in a
path), so path traversal is impossible; the stored file's extension comes from the container ffmpeg
recognised, not from the name. The bytes go to a temporary `.upload-*.part` file in the uploads
directory and are renamed into place only after validation: a refused, interrupted or failed
write leaves no file behind. A process killed mid-write cannot clean up: its part file stays
locked (`flock`) only while the writer lives, and `remove_orphans` (run at every start and
hourly, core.recovery) deletes unlocked parts and stored videos no row points to, once they are
a few minutes old.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from core.config import Settings
from core.errors import InvalidInput, StorageFailed, TooLarge
from core.i18n import Message, say
from core.video import VideoInfo, describe_non_video, probe

__all__ = [
    "StoredVideo",
    "UploadWriter",
    "content_type",
    "describe_non_video",
    "remove_orphans",
    "remove_partial_uploads",
    "remove_video",
    "store_existing",
    "store_upload",
    "video_path",
]

_CHUNK = 1024 * 1024
_HEAD_BYTES = 512
WRITEBACK_BYTES = 64 * 1024 * 1024  # an upload goes to disk in the background every this many bytes
_PARTIAL_PREFIX, _PARTIAL_SUFFIX = ".upload-", ".part"
ORPHAN_MIN_AGE_SEC = 300.0  # leftovers younger than this may belong to a store still under way
_ORIGINAL_NAME_MAX = 512  # incidents.original_name is String(512)

# ffmpeg demuxer name -> the extension the stored copy gets (browsers and players go by it)
_CONTAINER_SUFFIX = {
    "mov": ".mp4",
    "matroska": ".mkv",
    "avi": ".avi",
    "mpegts": ".ts",
    "mpeg": ".mpg",
    "flv": ".flv",
    "asf": ".wmv",
    "ogg": ".ogv",
    "h264": ".h264",
    "hevc": ".hevc",
}
_WEB_CODECS = {"vp8", "vp9", "av1"}
# stored extension -> the content type the file is served with
_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".mpg": "video/mpeg",
    ".flv": "video/x-flv",
    ".wmv": "video/x-ms-wmv",
    ".ogv": "video/ogg",
    ".h264": "video/h264",
    ".hevc": "video/h265",
}


@dataclass(frozen=True)
class StoredVideo:
    """A validated video in storage and the facts recorded about it."""

    stored_name: str
    original_name: str
    sha256: str
    size_bytes: int
    info: VideoInfo

    def path(self, settings: Settings) -> Path:
        return video_path(settings, self.stored_name)


def video_path(settings: Settings, stored_name: str) -> Path:
    """Where a stored video lives; `stored_name` is always one we generated."""
    return settings.uploads_dir / Path(stored_name).name


def content_type(stored_name: str) -> str:
    """The content type a stored video is served with (its extension came from its container)."""
    return _CONTENT_TYPES.get(Path(stored_name).suffix, "application/octet-stream")


def store_upload(source: BinaryIO | str | Path, original_name: str, settings: Settings) -> StoredVideo:
    """Copy `source` (a binary stream or a path) into storage and validate it by content.

    Raises `InvalidInput` saying what is wrong (empty, not a video, too large, unwritable storage),
    leaving no file behind; any other exception while copying also leaves none."""
    if isinstance(source, (str, Path)) and Path(source).is_file():
        size = Path(source).stat().st_size
        if size > settings.max_upload_bytes:
            raise TooLarge.said(_too_large(settings, size))
    with UploadWriter(settings) as writer:
        # a path is opened and closed here; a caller's stream is left open for the caller
        with open(source, "rb") if isinstance(source, (str, Path)) else nullcontext(source) as reader:
            try:
                while chunk := reader.read(_CHUNK):
                    writer.write(chunk)
            except OSError as error:
                raise StorageFailed(f"could not store the upload: {error.strerror or error}") from error
        return writer.finish(original_name)


class UploadWriter:
    """An upload received chunk by chunk (from a file, or from an HTTP request as it arrives) into a
    temporary `.upload-*.part` file beside the stored videos, hashed and counted on the way; `write`
    refuses as soon as MAX_UPLOAD_MB is passed, so an oversized upload never lands whole on disk.
    `finish` validates by content and renames into place under a generated name. Leaving the `with`
    block without `finish` (a refusal, an error, a dropped connection) removes the partial file.

    The file is synced to disk while it arrives (`_Writeback`), and the last sync runs while the
    video is probed, so answering after `finish` waits for little more than receiving the bytes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.size = 0
        self._digest = hashlib.sha256()
        self._head = b""
        self._out: BinaryIO | None = None
        self._temp_path: Path | None = None
        self._writeback: _Writeback | None = None

    def __enter__(self) -> Self:
        directory = self.settings.uploads_dir
        try:
            directory.mkdir(parents=True, exist_ok=True)
            remove_partial_uploads(self.settings)
            handle, temp_name = tempfile.mkstemp(
                prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX, dir=directory
            )
        except OSError as error:
            raise StorageFailed(
                f"could not store the upload in {directory}: {error.strerror or error}"
            ) from error
        self._temp_path = Path(temp_name)
        self._out = os.fdopen(handle, "wb")
        fcntl.flock(self._out, fcntl.LOCK_EX)  # "a writer lives" (remove_orphans): held until the end
        self._writeback = _Writeback(self._out.fileno())
        return self

    def check_size(self, size: int) -> None:
        """`TooLarge` when an upload of `size` bytes would pass MAX_UPLOAD_MB: for a caller that
        counts bytes as they arrive, before they reach `write`."""
        if size > self.settings.max_upload_bytes:
            raise TooLarge.said(_too_large(self.settings))

    def write(self, chunk: bytes) -> None:
        """Append `chunk`; `TooLarge` once the upload passes MAX_UPLOAD_MB."""
        if len(self._head) < _HEAD_BYTES:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        self.size += len(chunk)
        self.check_size(self.size)
        self._digest.update(chunk)
        try:
            self._out.write(chunk)
        except OSError as error:
            raise StorageFailed(f"could not store the upload: {error.strerror or error}") from error
        self._writeback.written(self.size)

    def finish(self, original_name: str) -> StoredVideo:
        """Validate what was written by content and move it into place; `InvalidInput` when it is not
        a video (the `with` block then removes it)."""
        refusal = describe_non_video(self._head)
        if refusal:
            raise InvalidInput.said(refusal)
        try:
            self._out.flush()
            self._writeback.stop()
            with ThreadPoolExecutor(1, thread_name_prefix="sigma-fsync") as syncing:
                synced = syncing.submit(os.fsync, self._out.fileno())  # the disk works while we probe
                try:
                    info = probe(self._temp_path)  # still locked: a sweep leaves a part being probed alone
                finally:
                    synced.result()
            stored_name = f"{uuid.uuid4().hex}{_suffix_for(info)}"
            os.replace(self._temp_path, self.settings.uploads_dir / stored_name)
            os.utime(self.settings.uploads_dir / stored_name)  # its age counts from now: its row comes next
        except OSError as error:
            raise StorageFailed(f"could not store the upload: {error.strerror or error}") from error
        self._temp_path = None
        return StoredVideo(
            stored_name, clean_original_name(original_name), self._digest.hexdigest(), self.size, info
        )

    def __exit__(self, *_exc) -> None:
        if self._writeback is not None:
            self._writeback.stop()
        if self._out is not None:
            self._out.close()
        if self._temp_path is not None:
            self._temp_path.unlink(missing_ok=True)


class _Writeback:
    """Syncs a file being written to disk from a thread of its own each time WRITEBACK_BYTES more were
    written, so the dirty pages of a large upload go to disk while the rest still arrives instead
    of all at the final fsync (the writer never waits for it). A failed sync is left to the final
    fsync, which reports it."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self._next = WRITEBACK_BYTES
        self._due = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def written(self, size: int) -> None:
        if size >= self._next:
            self._next = size + WRITEBACK_BYTES
            if self._thread is None:
                self._thread = threading.Thread(target=self._sync, name="sigma-writeback", daemon=True)
                self._thread.start()
            self._due.set()

    def stop(self) -> None:
        """Before the descriptor is closed: no sync may run on it afterwards."""
        self._stopped = True
        self._due.set()
        if self._thread is not None:
            self._thread.join()

    def _sync(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._stopped:
                return
            try:
                os.fdatasync(self.descriptor)
            except OSError:
                return


def _too_large(settings: Settings, size: int | None = None) -> Message:
    """The refusal; `size` when known (a path), not for a stream cut off at the limit."""
    if size is None:
        return say("refusal.too_large", limit=settings.max_upload_mb)
    return say("refusal.too_large_size", limit=settings.max_upload_mb, size=f"{size / (1024 * 1024):,.1f}")


def _suffix_for(info: VideoInfo) -> str:
    demuxer = info.container.split(",")[0]
    if demuxer == "matroska" and info.codec in _WEB_CODECS:
        return ".webm"
    return _CONTAINER_SUFFIX.get(demuxer, ".video")


def clean_original_name(name: str) -> str:
    """The user's file name as metadata: control characters dropped, length capped, else verbatim
    (unicode and `../` are kept as text; they never reach a path)."""
    cleaned = "".join(ch for ch in str(name) if ch.isprintable()).strip()
    return cleaned[:_ORIGINAL_NAME_MAX] or "unnamed"


def store_existing(path: str | Path, settings: Settings) -> StoredVideo:
    """Store a file from disk (the CLI), refusing missing paths clearly."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"not a file: {path}")
    return store_upload(path, path.name, settings)


def remove_video(settings: Settings, stored_name: str) -> None:
    video_path(settings, stored_name).unlink(missing_ok=True)
    shutil.rmtree(settings.storage_dir / "derived" / Path(stored_name).stem, ignore_errors=True)


def remove_partial_uploads(settings: Settings, max_age_sec: float = ORPHAN_MIN_AGE_SEC) -> int:
    """Delete temporary upload files left by a process that died mid-write (no writer holds their
    lock, older than `max_age_sec`); returns how many."""
    removed = 0
    for partial in settings.uploads_dir.glob(f"{_PARTIAL_PREFIX}*{_PARTIAL_SUFFIX}"):
        if _remove_if_abandoned(partial, max_age_sec):
            removed += 1
    return removed


def remove_orphans(
    settings: Settings, referenced: set[str], *, min_age_sec: float = ORPHAN_MIN_AGE_SEC
) -> list[str]:
    """Delete what no live process and no incident row accounts for: abandoned upload parts, stored
    videos whose name is not in `referenced`, and derived folders whose video is gone; only files
    older than `min_age_sec`. Returns the names removed."""
    removed: list[str] = []
    uploads = settings.uploads_dir
    if uploads.is_dir():
        for path in uploads.iterdir():
            if path.name.startswith(_PARTIAL_PREFIX) and path.name.endswith(_PARTIAL_SUFFIX):
                if _remove_if_abandoned(path, min_age_sec):
                    removed.append(path.name)
            elif path.is_file() and path.name not in referenced and _older_than(path, min_age_sec):
                remove_video(settings, path.name)
                removed.append(path.name)
    derived = settings.storage_dir / "derived"
    if derived.is_dir():
        stems = {Path(name).stem for name in referenced}
        for folder in derived.iterdir():
            if folder.is_dir() and folder.name not in stems and _older_than(folder, min_age_sec):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"derived/{folder.name}")
    return removed


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return path.stat().st_mtime < time.time() - seconds
    except FileNotFoundError:
        return False


def _remove_if_abandoned(partial: Path, min_age_sec: float) -> bool:
    """Delete an upload part whose writer is gone (its lock is free) and that is old enough."""
    if not _older_than(partial, min_age_sec):
        return False
    try:
        with open(partial, "rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # a live process is still writing or probing it
            partial.unlink()
            return True
    except FileNotFoundError:
        return False
