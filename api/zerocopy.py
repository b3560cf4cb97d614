"""File bodies sent by the kernel (`sendfile`), not read into Python and written back: the ASGI
"zero copy send" extension (`http.response.zerocopysend`), which uvicorn does not offer itself.

Two parts, because a middleware that does not know the extension drops its messages (Starlette's
GZipMiddleware, which Streamlit's server puts in front of every route, does): `ZeroCopySend` stands
outermost, where it still holds uvicorn's own request cycle, and only passes it down in the scope;
`ZeroCopyHere` stands right in front of the API's handlers, advertises the extension there and
answers its messages on that cycle's socket with `loop.sendfile`. The bytes go straight to the
socket only once the response's start has reached uvicorn (a middleware that held it back to
rewrite the body gets the bytes as ordinary body messages instead); everything else passes through
the middlewares as usual. A connection that is not uvicorn's httptools one (h11, a test client)
gets no extension, and the media endpoint reads the file in large pieces (api/media.py).

This reaches into uvicorn's request cycle (its transport, flow control and the Content-Length it
counts down), so uvicorn is pinned in requirements.txt; the Range tests (tests/test_api.py, and the
browser test through the dashboard's server) run through it.
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXTENSION = "http.response.zerocopysend"
_CYCLE = "sigma.uvicorn_cycle"  # scope key: uvicorn's request cycle, from ZeroCopySend to ZeroCopyHere
_CYCLE_MODULE = "uvicorn.protocols.http.httptools_impl"
_PIECE_BYTES = 4 * 1024 * 1024


class ZeroCopySend:
    """Outermost: hands uvicorn's request cycle (httptools connections only) down in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(send, "__self__", None)
        if scope["type"] == "http" and type(cycle).__module__ == _CYCLE_MODULE:
            scope = {**scope, _CYCLE: cycle}
        await self.app(scope, receive, send)


class ZeroCopyHere:
    """In front of the handlers: advertises `http.response.zerocopysend` when ZeroCopySend found a
    cycle, and answers its messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get(_CYCLE) if scope["type"] == "http" else None
        if cycle is not None:
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: {}}}
            send = _Sender(cycle, send)
        await self.app(scope, receive, send)


class _Sender:
    """The `send` in front of the handlers, plus the zero-copy message: the file's bytes go from the
    page cache to uvicorn's socket; the Content-Length uvicorn counts is counted down as a body
    message would, and the body's end goes through the middlewares like any."""

    def __init__(self, cycle, send: Send) -> None:
        self.cycle, self.send = cycle, send

    async def __call__(self, message: Message) -> None:
        if message["type"] != EXTENSION:
            await self.send(message)
            return
        file: BinaryIO = message["file"]
        offset = message.get("offset") or 0
        count = message.get("count")
        if count is None:
            count = os.fstat(file.fileno()).st_size - offset
        more_body = message.get("more_body", False)
        cycle = self.cycle
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()
        if cycle.disconnected or cycle.transport.is_closing():
            return
        if (
            count > 0
            and cycle.response_started
            and not cycle.chunked_encoding
            and cycle.scope["method"] != "HEAD"
        ):
            if count > cycle.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            try:
                sent = await asyncio.get_running_loop().sendfile(
                    cycle.transport, file, offset, count, fallback=False
                )
            except ConnectionError:
                cycle.transport.abort()  # the client went away mid-body: uvicorn sees the disconnect
                return
            except RuntimeError:  # no native sendfile on this socket (TLS): nothing was sent
                sent = 0
            if sent:
                if sent != count:
                    raise RuntimeError(f"{file.name} is shorter than the response says")
                cycle.expected_content_length -= sent
                offset, count = offset + sent, 0
        while count > 0:  # the bytes through Python after all, a piece at a time
            piece = await asyncio.to_thread(os.pread, file.fileno(), min(_PIECE_BYTES, count), offset)
            if not piece:
                raise RuntimeError(f"{file.name} is shorter than the response says")
            offset, count = offset + len(piece), count - len(piece)
            await self.send({"type": "http.response.body", "body": piece, "more_body": True})
        await self.send({"type": "http.response.body", "body": b"", "more_body": more_body})
