"""Every refusal is a JSON body `{"detail": "..."}` with a status that says what kind it is; secrets are
masked in every message, and nothing unexpected ever shows a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from core.config import get_settings
from core.errors import (
    AnalysisFailed,
    Forbidden,
    InvalidInput,
    MediaPreparing,
    NotFound,
    NotReady,
    OnHold,
    QueueFull,
    SigmaError,
    StorageFailed,
    TooLarge,
)
from core.media import MediaError

logger = logging.getLogger(__name__)

QUEUE_RETRY_AFTER_SEC = 30
MEDIA_RETRY_AFTER_SEC = 2


class Problem(BaseModel):
    """What went wrong, in a sentence a person can act on."""

    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """Which parameter or form field is wrong, and why (FastAPI's shape)."""

    detail: list[FieldProblem]


class NotAVideo(InvalidInput):
    """The upload is readable but is not a video (415)."""


# most specific first: the first class an error is an instance of decides its status
_STATUS: tuple[tuple[type[SigmaError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (NotReady, 409),
    (OnHold, 409),
    (TooLarge, 413),
    (NotAVideo, 415),
    (MediaError, 415),
    (StorageFailed, 507),
    (QueueFull, 503),
    (MediaPreparing, 503),
    (AnalysisFailed, 503),
    (InvalidInput, 400),
    (SigmaError, 400),
)


def status_of(error: SigmaError) -> int:
    return next(status for kind, status in _STATUS if isinstance(error, kind))


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": get_settings().redact(detail)}, status_code=status, headers=headers)


def sigma_error_response(error: SigmaError) -> JSONResponse:
    headers = None
    if isinstance(error, QueueFull):
        headers = {"Retry-After": str(QUEUE_RETRY_AFTER_SEC)}
    elif isinstance(error, MediaPreparing):
        headers = {"Retry-After": str(MEDIA_RETRY_AFTER_SEC)}
    return problem(status_of(error), str(error), headers)


async def _sigma_error(_request: Request, error: SigmaError) -> JSONResponse:
    return sigma_error_response(error)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path)
    return problem(500, f"internal error ({type(error).__name__}); it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SigmaError, _sigma_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI entries for the refusals an endpoint can give."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": _DESCRIPTIONS[status],
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "the request cannot be used as it is",
    401: "no session or bearer token (when APP_PASSWORD or API_TOKEN is set)",
    403: "a viewer may look but not change anything",
    404: "no such incident or event",
    409: "the incident has no results yet (still running, or failed)",
    413: "the upload is larger than MAX_UPLOAD_MB",
    415: "the upload is not a video (or not multipart/form-data); or no browser copy can be made of it",
    416: "the byte range lies outside the file",
    422: "a parameter or form field is missing or out of bounds",
    429: "too many wrong passwords or tokens: wait (Retry-After) and try again",
    503: "busy: the queue is full, or the browser copy is being made (Retry-After says when to retry)",
    507: "the upload could not be written to storage",
}
