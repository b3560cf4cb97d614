"""Bad input never leaves a trace of damage: through the CLI each gets exit 2 and exactly one clear
line on stderr (no traceback) and leaves no incident and no file; through `register_video` each is
refused with the same message on SQLite and on PostgreSQL, leaving nothing.

A truncated MP4 whose index comes first is analysed as far as it decodes; one whose index was at
the cut-off end cannot be read at all and is refused, saying so."""

from __future__ import annotations

import io
import json
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from core import repository
from core.db import get_engine, session_scope
from core.errors import InvalidInput
from core.schema import AnalysisParams
from core.service import register_video
from core.video import ffmpeg_exe
from tests.test_cli_smoke import run_cli

ROOT = Path(__file__).resolve().parents[1]
SIZE_LIMIT_MB = 1


@dataclass(frozen=True)
class BadInput:
    path: Path
    message: str  # the refusal, exactly
    env: dict[str, str]


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", *args], check=True)


def make_bad_inputs(folder: Path, clip: Path) -> dict[str, BadInput]:
    """Every kind of bad input the issue names, each under a video-looking name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("Meeting notes: review the camera footage on Monday.\n")
    _, png = cv2.imencode(".png", np.full((40, 60, 3), 128, np.uint8))
    (folder / "picture.mp4").write_bytes(png.tobytes())
    (folder / "random.mp4").write_bytes(random.Random(3).randbytes(64 * 1024))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", "-f", "mp4",
           str(folder / "voice.mp4"))  # fmt: skip
    (folder / "folder.mp4").mkdir(exist_ok=True)
    (folder / "huge.mp4").write_bytes(clip.read_bytes() + bytes(SIZE_LIMIT_MB * 1024 * 1024))
    index_last = folder / "index_last.mov"
    ffmpeg("-i", str(clip), "-c", "copy", "-movflags", "-faststart", "-f", "mp4", str(index_last))
    data = index_last.read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    index_last.unlink()
    missing = folder / "no such clip.mp4"
    limit = {"MAX_UPLOAD_MB": str(SIZE_LIMIT_MB)}
    huge_mb = (folder / "huge.mp4").stat().st_size / (1024 * 1024)
    return {
        "empty": BadInput(folder / "empty.mp4", "empty file", {}),
        "text": BadInput(folder / "notes.mp4", "this is a text file, not a video", {}),
        "png": BadInput(folder / "picture.mp4", "this is a PNG image, not a video", {}),
        "random bytes": BadInput(
            folder / "random.mp4", "not a video: the file's format is not recognised", {}
        ),
        "audio only": BadInput(
            folder / "voice.mp4", "no video stream: this is an audio file, not a video", {}
        ),
        "missing path": BadInput(missing, f"file not found: {missing}", {}),
        "a directory": BadInput(folder / "folder.mp4", f"not a file: {folder / 'folder.mp4'}", {}),
        "too large": BadInput(
            folder / "huge.mp4", f"file is larger than MAX_UPLOAD_MB (1 MB): {huge_mb:.1f} MB", limit
        ),
        "truncated, index lost": BadInput(
            folder / "truncated.mp4",
            "the video is truncated or damaged: its MP4 index (moov atom) is missing",
            {},
        ),
    }


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, clips) -> dict[str, BadInput]:
    return make_bad_inputs(tmp_path_factory.mktemp("bad"), clips["calm"])


@pytest.fixture(scope="module")
def cli_runs(bad_inputs, tmp_path_factory):
    """Every bad input through `python -m core analyze`, all against one storage dir, in parallel."""
    storage = tmp_path_factory.mktemp("cli-storage")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(run_cli, "analyze", str(bad.path), "--json", storage=storage, env_extra=bad.env)
            for name, bad in bad_inputs.items()
        }
        return storage, {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize(
    "name",
    ["empty", "text", "png", "random bytes", "audio only", "missing path", "a directory", "too large",
     "truncated, index lost"],
)  # fmt: skip
def test_cli_refuses_with_exit_2_and_one_clear_line(cli_runs, bad_inputs, name):
    _, runs = cli_runs
    done = runs[name]
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"error: {bad_inputs[name].message}"]
    assert done.stdout == ""


def test_cli_refusals_leave_no_incident_and_no_file(cli_runs):
    storage, _ = cli_runs
    listed = run_cli("list", "--json", storage=storage)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    uploads = storage / "videos"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_cli_analyses_a_truncated_mp4_as_far_as_it_decodes(tmp_path, clips):
    index_first = tmp_path / "index_first.mp4"
    ffmpeg("-i", str(clips["collision"]), "-c", "copy", "-movflags", "+faststart", str(index_first))
    cut = tmp_path / "cut.mp4"
    data = index_first.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.7)])
    done = run_cli("analyze", str(cut), "--json", "--quiet", storage=tmp_path / "storage")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    shown = run_cli("show", str(result["incident_id"]), storage=tmp_path / "storage")
    summary = json.loads(shown.stdout)
    assert summary["status"] == "DONE"
    assert 2.0 < summary["duration"] < 7.0  # the decodable part of the 8 s clip, not the header's 8 s
    assert all(event["end_time"] <= summary["duration"] + 1e-6 for event in result["events"])


def test_register_video_refuses_each_and_leaves_nothing(db_settings, bad_inputs):
    params = AnalysisParams.from_settings(db_settings)
    small_limit = db_settings.model_copy(update={"max_upload_mb": SIZE_LIMIT_MB})
    for name, bad in bad_inputs.items():
        settings = small_limit if bad.env else db_settings
        with pytest.raises(InvalidInput) as refused:
            register_video(str(bad.path), settings, params)
        assert str(refused.value) == bad.message, name
        if bad.path.is_file():  # the upload path: a stream and the user's name
            with open(bad.path, "rb") as stream, pytest.raises(InvalidInput) as refused:
                register_video(stream, settings, params, original_name=bad.path.name)
            expected = "file is larger than MAX_UPLOAD_MB (1 MB)" if bad.env else bad.message
            assert str(refused.value) == expected, name
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        assert repository.list_incidents(session) == []
    uploads = db_settings.uploads_dir
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_register_video_keeps_names_as_metadata_only(db_settings, clips):
    params = AnalysisParams.from_settings(db_settings)
    name = "../../../tmp/камера №2 🚦.mp4"
    with open(clips["calm"], "rb") as stream:
        incident_id = register_video(stream, db_settings, params, original_name=name)
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
        assert incident.original_name == name
        assert incident.status == "SAVED"
        stored = db_settings.uploads_dir / incident.stored_name
    assert stored.is_file() and stored.parent == db_settings.uploads_dir
    assert list(db_settings.uploads_dir.iterdir()) == [stored]


def test_register_video_removes_the_file_when_the_database_fails(settings, clips, monkeypatch):
    def broken_insert(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(repository, "create_incident", broken_insert)
    with pytest.raises(RuntimeError):
        register_video(str(clips["calm"]), settings, AnalysisParams.from_settings(settings))
    assert list(settings.uploads_dir.iterdir()) == []


def test_stream_upload_of_an_in_memory_file(settings, clips):
    """What the UI does: a file-like object from the browser with the user's name."""
    incident_id = register_video(
        io.BytesIO(clips["calm"].read_bytes()), settings, AnalysisParams.from_settings(settings),
        original_name="clip.mp4",
    )  # fmt: skip
    assert incident_id > 0
