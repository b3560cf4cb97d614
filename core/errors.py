"""Typed errors. Each carries a message a person can act on; the CLI and UI show it as is."""


class SigmaError(Exception):
    """Base of the errors Sigma raises on purpose."""


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
