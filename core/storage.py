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
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.config import Settings
from core.errors import InvalidInput
from core.video import VideoInfo, describe_non_video, probe

__all__ = [
    "StoredVideo",
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


def store_upload(source: BinaryIO | str | Path, original_name: str, settings: Settings) -> StoredVideo:
    """Copy `source` (a binary stream or a path) into storage and validate it by content.

    Raises `InvalidInput` saying what is wrong (empty, not a video, too large, unwritable storage),
    leaving no file behind; any other exception while copying also leaves none."""
    limit = settings.max_upload_bytes
    if isinstance(source, (str, Path)) and Path(source).is_file() and Path(source).stat().st_size > limit:
        raise InvalidInput(_too_large(settings, Path(source).stat().st_size))
    directory = settings.uploads_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        remove_partial_uploads(settings)
        handle, temp_name = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX, dir=directory)
    except OSError as error:
        raise InvalidInput(f"could not store the upload in {directory}: {error.strerror or error}") from error
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # "a writer lives": held until this function returns
            digest, size, head = _copy(source, out, limit, settings)
            out.flush()
            os.fsync(out.fileno())
            refusal = describe_non_video(head)
            if refusal:
                raise InvalidInput(refusal)
            info = probe(temp_path)
            stored_name = f"{uuid.uuid4().hex}{_suffix_for(info)}"
            os.replace(temp_path, directory / stored_name)
            os.utime(directory / stored_name)  # its age counts from now: its row is written next
    except OSError as error:
        temp_path.unlink(missing_ok=True)
        raise InvalidInput(f"could not store the upload: {error.strerror or error}") from error
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StoredVideo(stored_name, clean_original_name(original_name), digest, size, info)


def _copy(source: BinaryIO | str | Path, out: BinaryIO, limit: int, settings: Settings):
    """Stream `source` into `out`; (sha256 hex, size, leading bytes). Stops as soon as it is too large."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    # a path is opened and closed here; a caller's stream is left open for the caller
    with open(source, "rb") if isinstance(source, (str, Path)) else nullcontext(source) as reader:
        while chunk := reader.read(_CHUNK):
            if len(head) < _HEAD_BYTES:
                head += chunk[: _HEAD_BYTES - len(head)]
            size += len(chunk)
            if size > limit:
                raise InvalidInput(_too_large(settings))
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size, head


def _too_large(settings: Settings, size: int | None = None) -> str:
    """The refusal; `size` when known (a path), not for a stream cut off at the limit."""
    actual = f": {size / (1024 * 1024):,.1f} MB" if size is not None else ""
    return f"file is larger than MAX_UPLOAD_MB ({settings.max_upload_mb} MB){actual}"


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
