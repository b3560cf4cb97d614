"""The media endpoint's response: the file streamed from disk in 1 MB pieces with HTTP Range (Starlette's
FileResponse: `206 Partial Content`, `Content-Range`, suffix ranges, several ranges, ETag, If-Range),
never read whole into memory. A range outside the file is refused here first, as JSON like every
other refusal (416 with `Content-Range: bytes */size`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from fastapi.responses import FileResponse, JSONResponse

from api.errors import problem

_RANGE_PART = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class VideoFileResponse(FileResponse):
    """FileResponse with larger pieces, answering `range_header` (already checked) instead of the
    request's own: None serves the whole file."""

    chunk_size = 1024 * 1024  # fewer, larger writes: loopback throughput close to reading the file

    def __init__(self, *args, range_header: str | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.range_header = range_header

    async def __call__(self, scope, receive, send) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"range"]
        if self.range_header:
            headers.append((b"range", self.range_header.encode("latin-1")))
        await super().__call__({**scope, "headers": headers}, receive, send)


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


def media_response(
    path: Path, media_type: str, file_name: str, range_header: str | None, if_range: str | None
) -> FileResponse | JSONResponse:
    """The file, whole (200) or in the asked ranges (206); 416 JSON when every range is past the end.
    An `If-Range` that no longer matches (the file changed) means the whole file, as RFC 9110 says."""
    stat = path.stat()
    response = VideoFileResponse(
        path,
        media_type=media_type,
        filename=file_name,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=3600"},
        stat_result=stat,
        range_header=None,
    )
    if if_range is not None and if_range not in (response.headers["etag"], response.headers["last-modified"]):
        return response
    ranges = satisfiable_ranges(range_header, stat.st_size)
    if ranges is False:
        return problem(
            416,
            f"the range {range_header!r} lies outside the file ({stat.st_size} bytes)",
            {"Content-Range": f"bytes */{stat.st_size}"},
        )
    response.range_header = ranges
    return response
