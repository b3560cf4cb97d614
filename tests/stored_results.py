"""Stored incidents with chosen windows and events, written through core.repository as an engine's
outcome would be: for tests of what is built from stored results (search, report, exports)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core import repository
from core.config import Settings
from core.db import get_engine, session_scope
from core.schema import AnalysisParams, EngineOutcome, Event, Status, WindowRecord
from core.service import register_video
from core.video import ffmpeg_exe


def cut_clip(clip: Path, folder: Path, keep: float = 0.5) -> Path:
    """`clip` with its index first, cut after `keep` of its bytes: a truncated file that still opens and
    decodes its first part, while its header keeps the whole duration."""
    index_first, cut = folder / f"index-first-{clip.name}", folder / f"cut-{clip.name}"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-c", "copy", "-movflags", "+faststart",
         str(index_first)],
        check=True,
    )  # fmt: skip
    data = index_first.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    return cut


def store_incident(
    settings: Settings,
    clip: Path,
    *,
    name: str,
    windows: list[tuple[float, float, str]],
    events: list[Event],
    domain: str = "traffic",
    engine: str = "vlm",
    logs: list[tuple[str, str]] = (),
) -> int:
    """Register `clip` as `name` and save the given windows and events as its finished analysis."""
    incident_id = register_video(clip, settings, AnalysisParams.from_settings(settings), original_name=name)
    outcome = EngineOutcome(
        engine=engine,
        model_version="test-model-7b",
        prompt_version="test-prompts-1",
        inferred_domain=domain,
        passes_run=[1],
        windows=[
            WindowRecord(window_index=i, start_time=s, end_time=e, description=d, score=0.1 * (i % 10))
            for i, (s, e, d) in enumerate(windows)
        ],
        events=events,
    )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        for step, message in logs:
            repository.add_log(session, incident_id, step, message, model_version="test-model-7b")
        incident = repository.get_incident(session, incident_id)
        repository.set_status(session, incident, Status.PROCESSING, "analysing")
        repository.save_outcome(session, incident, outcome, events)
    return incident_id
