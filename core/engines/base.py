"""The engine interface: a small abstract class, one required method; engines are found by name in
the registry of `core.engines`, which imports them (this module never does).

An engine turns a stored video into an `EngineOutcome` (windows for the timeline, events with
times from the pipeline). It reports progress and log lines through the `RunContext` the job gives
it and never touches the database itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from core.config import Settings
from core.i18n import Message
from core.schema import AnalysisParams, EngineOutcome
from core.video import VideoInfo


class ProgressSink(Protocol):
    def __call__(
        self,
        fraction: float,
        stage: str,
        *,
        pass_no: int | None = None,
        windows_done: int | None = None,
        windows_total: int | None = None,
    ) -> None: ...


class LogSink(Protocol):
    """A log line: a `Message` (worded in each reader's language), or plain text (model notes)."""

    def __call__(self, step: str, message: str | Message, level: str = "INFO") -> None: ...


@dataclass
class RunContext:
    """Everything one analysis run needs, and the two ways it talks back to the job."""

    video_path: Path
    video: VideoInfo
    params: AnalysisParams
    settings: Settings
    progress: ProgressSink
    log: LogSink
    versions: dict[str, str] = field(default_factory=dict)

    def set_versions(self, model_version: str, prompt_version: str) -> None:
        """Tell the job which model and prompts are in use: every later log row carries them."""
        self.versions.update(model_version=model_version, prompt_version=prompt_version)


class AnalysisEngine(ABC):
    """One way of analysing a video. Engines are listed by name in `core.engines.AVAILABLE_ENGINES`."""

    name: ClassVar[str]  # how settings, the CLI, the database and the UI name the engine
    code_version: ClassVar[str]  # the version of the engine's own code or prompts (the About page)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self) -> None:  # noqa: B027 - a hook: engines that need nothing outside leave it empty
        """Raise `EngineUnavailable` when the engine cannot run at all (e.g. no model server)."""

    @abstractmethod
    def versions(self) -> tuple[str, str]:
        """(model version, prompt version), known once `check()` has passed: every log row carries them."""

    def versions_for(self, params: AnalysisParams) -> tuple[str, str]:
        """The versions a run with `params` records: by default `versions()`; an engine whose prompts
        carry the analyst's concerns adds their hash to the prompt version."""
        return self.versions()

    @abstractmethod
    def analyze(self, ctx: RunContext) -> EngineOutcome:
        """Analyse the video in `ctx`; raise `AnalysisFailed` with a reason a person can act on."""
