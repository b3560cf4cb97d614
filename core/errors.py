"""Typed errors. Each carries a message a person can act on; the CLI and the API show it as is, and
the dashboard in the viewer's language when the error was raised with its catalogue words (`said`)."""

from __future__ import annotations

from typing import Self

from core.i18n import Message


class SigmaError(Exception):
    """Base of the errors Sigma raises on purpose."""

    words: Message | None = None

    @classmethod
    def said(cls, words: Message) -> Self:
        """The error with `words` from the catalogue: in English as its message, worded for each viewer
        by the dashboard."""
        error = cls(words.text("en"))
        error.words = words
        return error

    def text(self, lang) -> str:
        """The message in `lang` when the error has its words, else as it was raised."""
        return self.words.text(lang) if self.words is not None else str(self)


class InvalidInput(SigmaError):
    """The user's file or request is unusable (CLI exit 2)."""


class AnalysisFailed(SigmaError):
    """The analysis could not finish (CLI exit 3)."""


class EngineUnavailable(AnalysisFailed):
    """The model server cannot be reached at all (under ENGINE=auto the local engine takes over)."""


class QueueFull(SigmaError):
    """Too many analyses are already waiting."""


class RunLost(AnalysisFailed):
    """This run no longer owns its incident (recovered as interrupted while it was paused, deleted,
    or taken over): it stops without writing anything more."""


class DatabaseUnavailable(SigmaError):
    """DATABASE_URL is malformed, or the database cannot be reached or migrated (CLI exit 2)."""


class Cancelled(BaseException):
    """A signal (SIGINT, SIGTERM) asked this process to stop; a running analysis is recorded FAILED
    "cancelled" on the way out."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class Forbidden(SigmaError):
    """The signed-in user's role does not allow this (a viewer asked to change something)."""


class OnHold(InvalidInput):
    """The incident is on legal hold: it cannot be deleted until the hold is lifted."""


# --- refusals the HTTP API tells apart by status code (each still an InvalidInput for the CLI) -------


class NotFound(InvalidInput, LookupError):
    """No such incident or event."""


class NotReady(InvalidInput):
    """The incident has no results yet (still running, or failed): nothing to report or export."""


class TooLarge(InvalidInput):
    """The upload is larger than MAX_UPLOAD_MB."""


class StorageFailed(InvalidInput):
    """The upload could not be written to storage (disk full, no permission): not the file's fault."""


class MediaPreparing(SigmaError):
    """The browser-playable copy of a video is being made; ask again shortly."""

    def __init__(self, progress: float) -> None:
        self.progress = progress
        super().__init__(
            f"the browser-playable copy is being made ({progress * 100:.0f}% done); try again shortly"
        )
