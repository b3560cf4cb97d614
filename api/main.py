"""The API on its own: `python -m uvicorn api.main:app --port 8080` (`make api`), for integrators and for
the compose `api` service. The same gate as the dashboard's server stands in front, and the same
background work (recovery of interrupted analyses, retention) starts with it.

`create_api()` is also what `server.py` mounts beside the dashboard (there the gate is the server's).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager

from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.gate import Gate, sign_in_routes
from api.routes import open_router, router
from api.zerocopy import ZeroCopyHere, ZeroCopySend
from core import jobs
from core.config import get_settings

DESCRIPTION = """Sigma finds dangerous moments in video (road incidents, industrial safety violations,
fights, falls). Upload a video, follow its analysis as Server-Sent Events, read the events with their
times, search, stream the video with Range, download the DOCX report.

When the server has APP_PASSWORD or API_TOKEN set, send `Authorization: Bearer <API_TOKEN>` (or sign in
at /signin for a session cookie)."""

logger = logging.getLogger(__name__)

# the API's own paths, for a server that serves it beside other apps (server.py)
PATHS = ("/api", "/docs", "/redoc", "/openapi.json", "/static-offline-docs")


@asynccontextmanager
async def background(_app):
    """Recover analyses a previous process left unfinished, then keep recovery and retention running
    (and, when the server stops, stop them, cancelling analyses running in child processes).
    A database that does not answer yet does not stop the server (its pages and health check say
    so); the start is tried again every few seconds until it succeeds."""
    try:
        await run_in_threadpool(jobs.start_background, get_settings())
    except Exception as error:  # noqa: BLE001 - logged; retried below
        logger.warning("background work not started (%s); retrying every %d s", error, RETRY_SEC)
        threading.Thread(target=_start_when_ready, name="sigma-start", daemon=True).start()
    yield
    await run_in_threadpool(jobs.stop_background, get_settings())


RETRY_SEC = 5


def _start_when_ready() -> None:
    while True:
        time.sleep(RETRY_SEC)
        try:
            jobs.start_background(get_settings())
            logger.info("background work started")
            return
        except Exception:
            logger.debug("background work still not started", exc_info=True)


class AllowedMethods:
    """`Allow` on a 405 lists every method of the path. Starlette takes it from the first route whose
    path matched, and FastAPI makes one route per method, so DELETE would be missing beside GET."""

    METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

    def __init__(self, app: ASGIApp, router) -> None:
        self.app = app
        self.router = router

    def allowed(self, scope: Scope) -> list[str]:
        return [
            method
            for method in self.METHODS
            if any(
                route.matches({**scope, "method": method})[0] == Match.FULL for route in self.router.routes
            )
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                MutableHeaders(scope=message)["Allow"] = ", ".join(self.allowed(scope))
            await send(message)

        await self.app(scope, receive, send_with_allow)


def create_api(*, standalone: bool) -> FastAPIOffline:
    """The FastAPI app; `standalone` adds the gate, the sign-in form and the background work that the
    combined server (server.py) otherwise provides for the whole process."""
    app = FastAPIOffline(
        title="Sigma API",
        version="1",
        description=DESCRIPTION,
        routes=sign_in_routes if standalone else None,
        # ZeroCopyHere innermost: no middleware between it and the handlers can drop its messages
        middleware=[Middleware(Gate), Middleware(ZeroCopyHere)] if standalone else [Middleware(ZeroCopyHere)],
        lifespan=background if standalone else None,
    )
    app.include_router(router)
    app.include_router(open_router)
    app.add_middleware(AllowedMethods, router=app.router)
    errors.install(app)
    return app


app = ZeroCopySend(create_api(standalone=True))
