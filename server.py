"""The one server: the dashboard (`streamlit_app.py`) and, beside it, the REST API (`/api/v1/...`, its
docs at `/docs`), with one gate in front of every path (api/gate.py) and the background work
(recovery of interrupted analyses, retention) started with the server, not by the first page view.

    python -m uvicorn server:app --host 127.0.0.1 --port 8501     # what `make run` does

Streamlit's `st.App` is the ASGI application; the API's paths are handed to the FastAPI app as they
are (so its OpenAPI paths are the same as when it runs alone, `api.main:app`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from api.gate import Gate, UploadLimit, sign_in_routes
from api.main import PATHS, background, create_api
from api.zerocopy import ZeroCopySend

ENTRY_POINT = Path(__file__).with_name("streamlit_app.py")


class ApiPaths(BaseRoute):
    """Every request under the API's paths goes to the FastAPI app, its path unchanged."""

    def __init__(self, api) -> None:
        self.api = api

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope["type"] == "http" and any(
            path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in PATHS
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.api(scope, receive, send)


# ZeroCopySend outermost hands uvicorn's request cycle past st.App's GZip layer (which drops messages
# it does not know) to the API's own ZeroCopyHere, so the player's video goes by sendfile here too
app = ZeroCopySend(
    st.App(
        ENTRY_POINT,
        routes=[*sign_in_routes, ApiPaths(create_api(standalone=False))],
        middleware=[Middleware(Gate), Middleware(UploadLimit)],
        lifespan=background,
    )
)
