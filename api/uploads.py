"""The upload endpoint's body: multipart/form-data parsed as it arrives, the video written straight into
storage in 8 MB batches (core.storage.UploadWriter), never held in memory and never on disk beyond
MAX_UPLOAD_MB. Form fields are the analysis parameters, validated by `AnalysisParams` itself; any
refusal (too large, not a video, bad parameters, a dropped connection) leaves no file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Self

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from api.errors import NotAVideo
from core.config import Settings
from core.errors import InvalidInput, StorageFailed, TooLarge
from core.schema import AnalysisParams
from core.storage import StoredVideo, UploadWriter

FILE_FIELD = "file"
PARAM_FIELDS = tuple(AnalysisParams.model_fields)
FIELD_MAX_BYTES = 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and the parameter fields around the video
_FLUSH_BYTES = 8 * 1024 * 1024  # fewer hand-overs to the writer's thread: each costs a wake-up


class NotMultipart(NotAVideo):
    """The body is not multipart/form-data."""


def upload_form_schema() -> dict:
    """The request body as OpenAPI describes it: the file and the analysis parameters' own bounds."""
    properties = {
        name: {key: value for key, value in schema.items() if key != "title"}
        for name, schema in AnalysisParams.model_json_schema()["properties"].items()
    }
    for schema in properties.values():
        if "default" not in schema:
            schema["description"] = "default: the server's LLM_* setting"
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FILE_FIELD],
                        "properties": {FILE_FIELD: {"type": "string", "format": "binary"}, **properties},
                    }
                }
            },
        }
    }


def refuse_oversized(request: Request, settings: Settings) -> None:
    """413 at once when the declared length is already too large (before a byte is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + FORM_OVERHEAD_BYTES:
        size_mb = int(declared) / (1024 * 1024)
        raise TooLarge(
            f"file is larger than MAX_UPLOAD_MB ({settings.max_upload_mb} MB): the request is {size_mb:,.1f} MB"
        )


def _form_error(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", name), "msg": message, "type": "value_error"}])


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)


class _Events:
    """Collects what the (synchronous) multipart parser reports, for the async loop to act on."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []
        self._header_field = bytearray()
        self._header_value = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": lambda: self.items.append(("begin", b"")),
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self.items.append(("data", bytes(data[start:end]))),
            "on_part_end": lambda: self.items.append(("end", b"")),
        }

    def _header_end(self) -> None:
        if bytes(self._header_field).strip().lower() == b"content-disposition":
            self.items.append(("disposition", bytes(self._header_value)))
        self._header_field.clear()
        self._header_value.clear()


async def receive_upload(request: Request, settings: Settings) -> tuple[StoredVideo, AnalysisParams]:
    """Read the multipart body into storage; (the validated stored video, the analysis parameters).
    Raises `TooLarge` (413), `NotAVideo` (415), `RequestValidationError` (422) or `StorageFailed`."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise NotMultipart(
            f"send the video as multipart/form-data with the field `{FILE_FIELD}` (got "
            f"{content_type.decode('latin-1') or 'no content type'})"
        )
    events = _Events()
    parser = MultipartParser(boundary, events.callbacks())
    fields: dict[str, str] = {}
    with UploadWriter(settings) as writer:
        async with _Background(writer) as disk:
            file_name = await _read_parts(request, parser, events, disk, fields)
        if file_name is None:
            raise _form_error(
                FILE_FIELD, f"no `{FILE_FIELD}` field: attach the video as {FILE_FIELD}=@clip.mp4"
            )
        params = _params(fields, settings)
        try:
            stored = await run_in_threadpool(writer.finish, file_name)
        except (StorageFailed, TooLarge):
            raise
        except InvalidInput as error:
            raise NotAVideo(str(error)) from None
    return stored, params


async def _read_parts(
    request: Request, parser: MultipartParser, events: _Events, disk: _Background, fields: dict[str, str]
) -> str | None:
    """Feed the body to the parser: the file's bytes to `disk`, the other fields into `fields`;
    returns the file's name (None when there was no file)."""
    part: _Part | None = None
    file_name: str | None = None
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            for kind, data in events.items:
                if kind == "begin":
                    part = _Part()
                elif kind == "disposition":
                    _, params = parse_options_header(data)
                    part.name = params.get(b"name", b"").decode("utf-8", "replace")
                    raw_name = params.get(b"filename")
                    part.filename = raw_name.decode("utf-8", "replace") if raw_name is not None else None
                    if part.name == FILE_FIELD:
                        if file_name is not None:
                            raise _form_error(FILE_FIELD, "send one file per upload")
                        file_name = part.filename or "upload"
                    elif part.name not in PARAM_FIELDS:
                        raise _form_error(
                            part.name,
                            f"unknown form field; the fields are {FILE_FIELD}, {', '.join(PARAM_FIELDS)}",
                        )
                elif kind == "data" and part is not None and part.name == FILE_FIELD:
                    await disk.add(data)
                elif kind == "data" and part is not None:
                    part.value += data
                    if len(part.value) > FIELD_MAX_BYTES:
                        raise _form_error(part.name, f"longer than {FIELD_MAX_BYTES} bytes")
                elif kind == "end" and part is not None and part.name != FILE_FIELD:
                    fields[part.name] = part.value.decode("utf-8", "replace").strip()
            events.items.clear()
        parser.finalize()
    except MultipartParseError as error:
        raise _form_error(FILE_FIELD, f"the multipart body is malformed: {error}") from None
    await disk.drain()
    return file_name


class _Background:
    """Hands the file's bytes to the writer (hash and disk) in a worker thread, about 8 MB at
    a time, while the request keeps arriving: one batch in flight, so order is kept and at most
    16 MB wait in memory. A refusal from the writer (TooLarge, StorageFailed) surfaces at the
    next `add` or at `drain`."""

    def __init__(self, writer: UploadWriter) -> None:
        self.writer = writer
        self._batch: list[bytes] = []
        self._size = 0
        self._received = 0
        self._in_flight: asyncio.Future | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc) -> None:
        if self._in_flight is not None:  # never leave the thread writing to a file about to be removed
            with contextlib.suppress(Exception):  # the refusal on the way out is the one that counts
                await self._in_flight

    async def add(self, data: bytes) -> None:
        self._received += len(data)
        self.writer.check_size(self._received)  # at once, not when the thread gets to it
        self._batch.append(data)
        self._size += len(data)
        if self._size >= _FLUSH_BYTES:
            await self._hand_over()

    async def drain(self) -> None:
        await self._hand_over()
        await self._wait()

    async def _hand_over(self) -> None:
        await self._wait()
        batch, self._batch, self._size = self._batch, [], 0
        if batch:
            loop = asyncio.get_running_loop()
            self._in_flight = loop.run_in_executor(None, self._write, batch)

    async def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            await in_flight

    def _write(self, batch: list[bytes]) -> None:
        for data in batch:
            self.writer.write(data)


def _params(fields: dict[str, str], settings: Settings) -> AnalysisParams:
    """The form's parameters over the server's defaults; an empty field counts as not given."""
    given = {name: value for name, value in fields.items() if value != ""}
    try:
        return AnalysisParams.from_settings(settings, **given)
    except ValidationError as error:
        raise RequestValidationError(
            [
                {"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in error.errors(include_url=False)
            ]
        ) from None
