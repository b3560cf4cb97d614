"""Uploads: written under a generated name, atomically, hashed, and validated by content.

The user's file name is kept only as metadata, so path traversal is impossible. A refused or
failed write leaves no file behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.config import Settings
from core.errors import InvalidInput
from core.video import VideoInfo, probe

_CHUNK = 1024 * 1024

# Leading bytes of common files that are not videos, named so a refusal can say what the file is.
_NOT_VIDEO_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF8", 0, "a GIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"fLaC", 0, "a FLAC audio file"),
    (b"OggS", 0, "an Ogg file with no video"),
]


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


def describe_non_video(head: bytes) -> str | None:
    """A refusal for bytes that are plainly not a video, or None when they might be one."""
    if not head:
        return "empty file"
    for signature, offset, what in _NOT_VIDEO_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return f"this is {what}, not a video"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "this is a WAV audio file, not a video"
    if _looks_like_text(head):
        return "this is a text file, not a video"
    return None


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def store_upload(source: BinaryIO | str | Path, original_name: str, settings: Settings) -> StoredVideo:
    """Copy `source` into storage and validate it; `InvalidInput` (and no file left) if it is no video."""
    directory = settings.uploads_dir
    directory.mkdir(parents=True, exist_ok=True)
    limit = settings.max_upload_bytes
    digest = hashlib.sha256()
    size = 0
    handle, temp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=directory)
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            reader = open(source, "rb") if isinstance(source, (str, Path)) else source
            try:
                head = b""
                while chunk := reader.read(_CHUNK):
                    if not head:
                        head = chunk[:64]
                    size += len(chunk)
                    if size > limit:
                        raise InvalidInput(f"file is larger than MAX_UPLOAD_MB ({settings.max_upload_mb} MB)")
                    digest.update(chunk)
                    out.write(chunk)
            finally:
                if reader is not source:
                    reader.close()
            out.flush()
            os.fsync(out.fileno())
        refusal = describe_non_video(head)
        if refusal:
            raise InvalidInput(refusal)
        info = probe(temp_path)
        stored_name = f"{uuid.uuid4().hex}{_safe_suffix(original_name)}"
        os.replace(temp_path, directory / stored_name)
    except OSError as error:
        temp_path.unlink(missing_ok=True)
        raise InvalidInput(f"could not store the upload: {error.strerror or error}") from error
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StoredVideo(stored_name, original_name, digest.hexdigest(), size, info)


def _safe_suffix(original_name: str) -> str:
    suffix = Path(original_name).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ".video"


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
