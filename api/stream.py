"""The status stream (Server-Sent Events): the database is polled a few times a second and every change
of status, progress, pass, stage, windows or queue position becomes one `status` message (the
`IncidentStatus` JSON); a comment keeps the connection alive when nothing changes; the stream ends
after DONE or FAILED (FAILED carries its reason). A client that connects after the end gets the
final state at once. Nothing is shared with the job: the database is the single source of truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from core import service
from core.config import Settings
from core.errors import NotFound

POLL_SEC = 0.25
KEEP_ALIVE_SEC = 10  # a comment at least this often: proxies and clients do not time the stream out


async def status_messages(
    incident_id: int, settings: Settings, poll_sec: float = POLL_SEC
) -> AsyncIterator[ServerSentEvent]:
    last = None
    number = 0
    while True:
        try:
            status = await run_in_threadpool(service.incident_status, incident_id, settings)
        except NotFound:
            yield ServerSentEvent(event="deleted", data=f'{{"incident_id": {incident_id}}}')
            return
        if status != last:
            number += 1
            yield ServerSentEvent(event="status", id=str(number), data=status.model_dump_json())
            last = status
        if status.finished:
            return
        await asyncio.sleep(poll_sec)


def status_stream(incident_id: int, settings: Settings) -> EventSourceResponse:
    return EventSourceResponse(
        status_messages(incident_id, settings),
        ping=KEEP_ALIVE_SEC,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
