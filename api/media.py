"""The media endpoint's response: the file streamed from disk (by `sendfile`, or in 8 MiB pieces) with
HTTP Range (Starlette's FileResponse: `206 Partial Content`, `Content-Range`, suffix ranges, several
ranges, ETag, If-Range), never read whole into memory. A range outside the file is refused here first, as JSON like every
other refusal (416 with `Content-Range: bytes */size`)."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import anyio
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import Send

from api.errors import problem
from api.zerocopy import EXTENSION
from core import service
from core.config import Settings
from core.errors import NotFound
from core.service import MediaVariant

PIECE_BYTES = 8 * 1024 * 1024
READ_AHEAD_BYTES = 2 * PIECE_BYTES  # after a range: the disk is already reading the next two pieces

_RANGE_PART = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class VideoFileResponse(FileResponse):
    """FileResponse answering `range_header` (already checked) instead of the request's own (None
    serves the whole file), whose body goes by `sendfile` where the server offers it (api/zerocopy.py)
    and otherwise in large pieces read in a worker thread. Either way the disk already reads the next
    piece while one is being sent (`POSIX_FADV_WILLNEED`), after the last piece of a range the piece
    that follows it (what a player asks for next), and the event loop never waits for it: a
    piece not yet in the page cache is read in by a worker thread before `sendfile` sends it."""

    chunk_size = PIECE_BYTES  # several ranges in one answer (multipart/byteranges): Starlette's own loop

    def __init__(self, opened: OpenedMedia, *, range_header: str | None, **kwargs) -> None:
        super().__init__(
            opened.path, media_type=opened.media_type, filename=opened.name, stat_result=opened.stat, **kwargs
        )
        self.file = opened.file
        self.range_header = range_header
        self.zero_copy = False

    async def __call__(self, scope, receive, send) -> None:
        self.zero_copy = EXTENSION in (scope.get("extensions") or {})
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"range"]
        if self.range_header:
            headers.append((b"range", self.range_header.encode("latin-1")))
        try:
            await super().__call__({**scope, "headers": headers}, receive, send)
        finally:
            self.file.close()

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        if send_header_only or send_pathsend:
            await super()._handle_simple(send, send_header_only, send_pathsend)
            return
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await self._send_span(send, 0, self.stat_result.st_size)

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        if send_header_only:
            await super()._handle_single_range(send, start, end, file_size, send_header_only)
            return
        headers = MutableHeaders(raw=list(self.raw_headers))
        headers["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        await self._send_span(send, start, end)

    async def _send_span(self, send: Send, start: int, end: int) -> None:
        """Bytes `start` to `end` (exclusive) of the file as the response's body."""
        if start == end:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        file = self.file
        descriptor = file.fileno()
        os.posix_fadvise(descriptor, start, min(PIECE_BYTES, end - start), os.POSIX_FADV_WILLNEED)
        for first in range(start, end, PIECE_BYTES):
            last = min(end, first + PIECE_BYTES)
            if last < end:  # the next piece comes from the disk while this one is sent
                os.posix_fadvise(descriptor, last, min(PIECE_BYTES, end - last), os.POSIX_FADV_WILLNEED)
            elif end < self.stat_result.st_size:  # a player asks for what follows next: read it meanwhile
                os.posix_fadvise(descriptor, end, READ_AHEAD_BYTES, os.POSIX_FADV_WILLNEED)
            if self.zero_copy:
                if not _in_page_cache(descriptor, first, last):  # sendfile would wait for the disk
                    await anyio.to_thread.run_sync(_page_in, descriptor, first, last)
                message = {"type": EXTENSION, "file": file, "offset": first, "count": last - first}
            else:
                body = await anyio.to_thread.run_sync(os.pread, descriptor, last - first, first)
                if len(body) != last - first:
                    raise RuntimeError(f"{self.path} is shorter than expected")
                message = {"type": "http.response.body", "body": body}
            await send({**message, "more_body": last < end})


def _in_page_cache(descriptor: int, first: int, last: int) -> bool:
    """Whether bytes `first` and `last - 1` are in the page cache (a read with `RWF_NOWAIT` fails
    rather than wait for the disk); False where the file system cannot say."""
    probe = bytearray(1)
    try:
        return all(os.preadv(descriptor, [probe], at, os.RWF_NOWAIT) == 1 for at in (first, last - 1))
    except OSError:
        return False


_page_buffer = threading.local()


def _page_in(descriptor: int, first: int, last: int) -> None:
    """Read bytes `first` to `last` into the page cache, in a worker thread: `sendfile` runs on the
    event loop, and there a wait for the disk (or a network file system) would hold every request.
    Through one small buffer per thread, reused: what is read is thrown away, only the cache counts."""
    view = getattr(_page_buffer, "view", None)
    if view is None:
        view = _page_buffer.view = memoryview(bytearray(1024 * 1024))
    while first < last:
        got = os.preadv(descriptor, [view[: last - first]], first)
        if got <= 0:
            return
        first += got


def satisfiable_ranges(range_header: str | None, size: int) -> str | None | Literal[False]:
    """The `bytes=` ranges of a Range header that lie (at least partly) inside a file of `size` bytes,
    as a header again; None to serve the whole file (no header, another unit, or an invalid one, which
    RFC 9110 says to ignore); False when every range lies past the end (416)."""
    if not range_header or not range_header.strip().lower().startswith("bytes="):
        return None
    specs = [_RANGE_PART.match(part) for part in range_header.split("=", 1)[1].split(",")]
    if any(spec is None or spec.groups() == ("", "") for spec in specs):
        return None
    kept = []
    for spec in specs:
        first, last = spec.groups()
        if first and last and int(last) < int(first):
            return None  # an invalid range-spec makes the whole header invalid
        if (first == "" and int(last) > 0 and size > 0) or (first != "" and int(first) < size):
            kept.append(f"{first}-{last}")
    return f"bytes={','.join(kept)}" if kept else False


@dataclass
class OpenedMedia:
    """A video opened for an answer, with what the answer's headers need."""

    path: Path
    file: BinaryIO
    stat: os.stat_result
    media_type: str
    name: str


def open_media(incident_id: int, variant: MediaVariant, settings: Settings) -> OpenedMedia:
    """Everything a media answer asks of the database and the disk before it starts, in one call for
    one worker thread (each hop from the event loop is, on a busy machine, a wait for a CPU)."""
    path, media_type, name = service.media_file(incident_id, variant, settings)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed when the answer has been sent
    except FileNotFoundError:
        raise NotFound(f"the video of incident {incident_id} is missing from storage") from None
    return OpenedMedia(path, file, os.fstat(file.fileno()), media_type, name)


def media_response(
    opened: OpenedMedia, range_header: str | None, if_range: str | None
) -> FileResponse | JSONResponse:
    """The file, whole (200) or in the asked ranges (206); 416 JSON when every range is past the end.
    An `If-Range` that no longer matches (the file changed) means the whole file, as RFC 9110 says."""
    response = VideoFileResponse(
        opened,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=3600"},
        range_header=None,
    )
    if if_range is not None and if_range not in (response.headers["etag"], response.headers["last-modified"]):
        return response
    size = opened.stat.st_size
    ranges = satisfiable_ranges(range_header, size)
    if ranges is False:
        opened.file.close()
        return problem(
            416,
            f"the range {range_header!r} lies outside the file ({size} bytes)",
            {"Content-Range": f"bytes */{size}"},
        )
    response.range_header = ranges
    return response
