"""core.storage: generated names, metadata-only original names, hashing, size limit, atomic writes
that leave nothing behind when they fail."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from core import storage
from core.errors import InvalidInput
from core.storage import remove_partial_uploads, remove_video, store_existing, store_upload, video_path
from core.video import ffmpeg_exe
from tests.conftest import make_settings


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_upload_gets_a_generated_name_and_recorded_facts(settings, clips):
    data = clips["calm"].read_bytes()
    stored = store_upload(io.BytesIO(data), "../../etc/пример 🚗.MOV", settings)
    assert stored.original_name == "../../etc/пример 🚗.MOV"  # metadata only, kept as the user wrote it
    assert stored.stored_name.endswith(".mp4")  # from the container ffmpeg found, not from the name
    assert len(stored.stored_name) == 32 + 4 and "/" not in stored.stored_name
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert stored.info.duration == pytest.approx(8.0)
    path = stored.path(settings)
    assert path.parent == settings.uploads_dir and path.read_bytes() == data
    assert files_in(settings.uploads_dir) == [stored.stored_name]
    assert not (settings.storage_dir.parent / "etc").exists()


def test_original_name_is_cleaned_of_control_characters():
    assert storage.clean_original_name("a\x00b\nc\u202e.mp4") == "abc.mp4"
    assert storage.clean_original_name("\x07") == "unnamed"
    assert len(storage.clean_original_name("x" * 2000)) == 512


def test_same_file_twice_is_two_stored_files(settings, clips):
    first = store_existing(clips["calm"], settings)
    second = store_existing(clips["calm"], settings)
    assert first.stored_name != second.stored_name and first.sha256 == second.sha256
    assert first.original_name == "calm.mp4"


def test_matroska_keeps_a_matroska_suffix(settings, tmp_path, clips):
    mkv = tmp_path / "clip.mp4"  # misnamed: the content decides
    command = [
        ffmpeg_exe(),
        "-loglevel",
        "error",
        "-i",
        str(clips["calm"]),
        "-c",
        "copy",
        "-f",
        "matroska",
        str(mkv),
    ]
    subprocess.run(command, check=True)
    assert store_existing(mkv, settings).stored_name.endswith(".mkv")


def test_too_large_is_refused_before_copying(tmp_path, clips):
    settings = make_settings(tmp_path, max_upload_mb=1)
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(1024 * 1024 + 10))
    with pytest.raises(InvalidInput, match=r"^file is larger than MAX_UPLOAD_MB \(1 MB\): 1\.0 MB$"):
        store_existing(big, settings)
    with pytest.raises(InvalidInput, match=r"^file is larger than MAX_UPLOAD_MB \(1 MB\)$"):
        store_upload(io.BytesIO(big.read_bytes()), "big.mp4", settings)
    assert files_in(settings.uploads_dir) == []


class FailingStream(io.RawIOBase):
    """Gives some bytes of a real video, then fails like a dropped connection."""

    def __init__(self, data: bytes, fail_after: int, error: BaseException) -> None:
        self.data, self.fail_after, self.error, self.position = data, fail_after, error, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.fail_after:
            raise self.error
        chunk = self.data[self.position : self.position + min(size, 4096)]
        self.position += len(chunk)
        return chunk


@pytest.mark.parametrize(
    "error, expected",
    [
        (ConnectionResetError(104, "Connection reset by peer"), InvalidInput),
        (RuntimeError("bug"), RuntimeError),
    ],
)
def test_a_failure_mid_stream_leaves_no_file(settings, clips, error, expected):
    data = clips["calm"].read_bytes()
    with pytest.raises(expected):
        store_upload(FailingStream(data, 8192, error), "clip.mp4", settings)
    assert files_in(settings.uploads_dir) == []


def test_a_failure_at_the_final_rename_leaves_no_file(settings, clips, monkeypatch):
    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", failing_replace)
    with pytest.raises(InvalidInput, match="could not store the upload: No space left on device"):
        store_existing(clips["calm"], settings)
    assert files_in(settings.uploads_dir) == []


def _slowly(read):
    def pause_then_read(size: int = -1) -> bytes:
        time.sleep(0.002)
        return read(size)

    return pause_then_read


def test_a_large_upload_goes_to_disk_while_it_arrives_and_the_last_sync_fails_clearly(
    settings, clips, monkeypatch
):
    """Every WRITEBACK_BYTES written, a data sync runs beside the writer (not all at the end), never
    on a closed descriptor; the final fsync, run while the video is probed, still reports a failing
    disk as a refusal that leaves nothing."""
    data = clips["calm"].read_bytes()
    monkeypatch.setattr(storage, "WRITEBACK_BYTES", len(data) // 4)
    synced_at: list[int] = []
    real_fdatasync = os.fdatasync

    def recorded(descriptor: int) -> None:
        synced_at.append(os.fstat(descriptor).st_size)  # raises on a closed descriptor
        real_fdatasync(descriptor)

    monkeypatch.setattr(storage.os, "fdatasync", recorded)
    arriving = FailingStream(data, len(data) + 1, AssertionError("read past the end"))
    monkeypatch.setattr(arriving, "read", _slowly(arriving.read))  # bytes arriving over a network
    stored = store_upload(arriving, "clip.mp4", settings)
    assert stored.path(settings).read_bytes() == data
    assert synced_at and min(synced_at) < len(data), synced_at

    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(storage.os, "fsync", failing_fsync)
    with pytest.raises(InvalidInput, match="could not store the upload: Input/output error"):
        store_upload(io.BytesIO(data), "clip.mp4", settings)
    assert files_in(settings.uploads_dir) == [stored.stored_name]


def test_storage_dir_under_a_file_is_a_clear_refusal(tmp_path, clips):
    """STORAGE_DIR inside a path whose parent is a file: "Not a directory", said in one line."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the storage dir should be")
    settings = make_settings(tmp_path, storage_dir=blocker / "data")
    with pytest.raises(InvalidInput, match="could not store the upload in .*: Not a directory"):
        store_existing(clips["calm"], settings)


def test_permission_denied_is_a_clear_refusal(settings, clips, monkeypatch):
    def denied(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(storage.tempfile, "mkstemp", denied)
    with pytest.raises(InvalidInput, match="could not store the upload in .*: Permission denied"):
        store_existing(clips["calm"], settings)
    assert files_in(settings.uploads_dir) == []


def test_unwritable_storage_is_a_clear_refusal(settings, clips):
    """A storage folder that cannot be written (here a file stands where the folder should be, which
    stops root too) is refused with a clear line and leaves nothing behind."""
    settings.storage_dir.mkdir(parents=True)
    settings.uploads_dir.write_bytes(b"not a folder")
    with pytest.raises(InvalidInput, match="could not store the upload"):
        store_existing(clips["calm"], settings)
    assert settings.uploads_dir.read_bytes() == b"not a folder"


def test_stale_partial_uploads_are_swept(settings):
    settings.uploads_dir.mkdir(parents=True)
    stale = settings.uploads_dir / ".upload-dead.part"
    fresh = settings.uploads_dir / ".upload-live.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    assert remove_partial_uploads(settings) == 1
    assert files_in(settings.uploads_dir) == [fresh.name]


def test_remove_video_takes_its_derived_files(settings, clips):
    stored = store_existing(clips["calm"], settings)
    derived = settings.storage_dir / "derived" / Path(stored.stored_name).stem
    derived.mkdir(parents=True)
    (derived / "thumb.jpg").write_bytes(b"jpeg")
    remove_video(settings, stored.stored_name)
    assert not video_path(settings, stored.stored_name).exists() and not derived.exists()


def test_video_path_cannot_escape_storage(settings):
    assert video_path(settings, "../../etc/passwd").parent == settings.uploads_dir
