"""The `/api/v1` endpoints: the seed's eight, and what an integrator needs beside them. Each is a few
lines over `core.service` (the same calls the dashboard and the CLI make), answering views from
`core.views` and `core.schema`; refusals are `api.errors.Problem` bodies.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request, Response, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from starlette.concurrency import run_in_threadpool

from api.errors import problem, responses
from api.media import media_response, open_media
from api.stream import status_stream
from api.uploads import receive_upload, refuse_oversized, upload_form_schema
from core import jobs, service
from core.access import OPEN_ACCESS, Principal, gate_enabled
from core.config import Settings, get_settings
from core.errors import AnalysisFailed, QueueFull
from core.export import MEDIA_TYPES
from core.export import Format as ExportFormat
from core.i18n import DEFAULT_LANGUAGE, Language
from core.schema import AnalysisParams, Event, Status, WindowRecord
from core.views import (
    Accepted,
    Health,
    IncidentDetail,
    IncidentPage,
    IncidentStatus,
    Review,
    SearchHits,
)


def _query_names(dependant) -> set[str]:
    """The query parameters an endpoint and its dependencies declare."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


_KNOWN: dict[int, tuple[object, frozenset[str]]] = {}  # id(route): (route, names); routes are unhashable


def _known_names(route) -> frozenset[str]:
    """The query parameters `route` takes, worked out once per route (every request asks)."""
    found = _KNOWN.get(id(route))
    if found is None or found[0] is not route:
        known = _query_names(route.dependant)
        for parameter in (route.openapi_extra or {}).get("parameters", []):
            known |= {parameter["name"], *parameter.get("x-aliases", [])}
        found = _KNOWN[id(route)] = (route, frozenset(known))
    return found[1]


async def known_query(request: Request) -> None:
    """A query parameter the endpoint does not take is refused (422), not ignored: a misspelt
    `?incident_idd=` must not quietly mean something else."""
    route = request.scope.get("route")
    if route is None or not request.query_params:
        return
    known = _known_names(route)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; {takes}",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


# Documents the bearer token (the gate in front checks it, or the session cookie, before any handler)
bearer = HTTPBearer(auto_error=False, description="API_TOKEN, when the server has one set")
router = APIRouter(
    prefix="/api/v1", responses=responses(401, 429), dependencies=[Security(bearer), Depends(known_query)]
)
open_router = APIRouter(prefix="/api/v1")  # answers without a session or token
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
IncidentId = Annotated[int, PathParam(description="the incident's id", ge=1, le=MAX_ID, examples=[1])]
EventId = Annotated[int, PathParam(description="the event's id", ge=1, le=MAX_ID, examples=[1])]
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def settings() -> Settings:
    """(The dependencies here are `async def`: none blocks, and FastAPI would run each plain `def`
    one in a worker thread of its own, several thread hops per request.)"""
    return get_settings()


async def principal(request: Request) -> Principal:
    """Who is asking, as the gate in front found out; open access only when no gate is configured."""
    found = request.scope.get("state", {}).get("principal")
    if found is not None:
        return found
    if gate_enabled(get_settings()):
        raise HTTPException(401, "sign in or send Authorization: Bearer <API_TOKEN>")
    return OPEN_ACCESS


async def analyst(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """Writing endpoints (upload, delete, re-analyse, review) need an analyst; viewers only read."""
    if not who.can_change:
        raise HTTPException(403, f"{who.name} may view but not change incidents (role {who.role})")
    return who


Config = Annotated[Settings, Depends(settings)]
Analyst = Annotated[Principal, Depends(analyst)]
Reader = Annotated[Principal, Depends(principal)]


def _params_patch() -> type[BaseModel]:
    """`AnalysisParams` with every field optional: a re-analysis changes only what it names."""
    fields = {}
    for name, info in AnalysisParams.model_fields.items():
        optional = copy.copy(info)
        optional.default, optional.default_factory = None, None
        fields[name] = (info.annotation | None, optional)
    return create_model("AnalysisParamsChange", **fields)


AnalysisParamsChange = _params_patch()


def _start(incident_id: int, config: Settings, who: Principal, *, admitted: bool) -> Accepted:
    """Hand the incident to the jobs (admitted: it is QUEUED already; else it is SAVED and admitted
    now); a refusal (queue full, queue unreachable) deletes it again, so a refused request leaves
    nothing behind (but its lines in the audit trail)."""
    try:
        if admitted:
            jobs.dispatch(incident_id, config)
        else:
            jobs.submit(incident_id, config)
    except (QueueFull, AnalysisFailed) as error:
        service.delete(incident_id, config, actor=who, reason=f"not started: {error}")
        raise
    return Accepted(incident_id=incident_id, status=service.incident_status(incident_id, config).status)


def _created(accepted: Accepted, response: Response) -> Accepted:
    response.headers["Location"] = f"/api/v1/incidents/{accepted.incident_id}"
    return accepted


@router.post(
    "/incidents/upload",
    status_code=201,
    summary="Upload a video and start its analysis",
    responses=responses(403, 413, 415, 422, 503, 507),
    openapi_extra=upload_form_schema(),
)
async def upload(request: Request, response: Response, config: Config, who: Analyst) -> Accepted:
    """Multipart field `file` (the video) and, optionally, the analysis parameters as form fields
    (`domain`, `engine`, `window_sec`, ...; defaults: the server's LLM_* settings). The file is judged
    by its content, stored, and its analysis starts at once. 201 with the new incident's id."""
    refuse_oversized(request, config)
    await run_in_threadpool(jobs.check_capacity, config)  # before a byte of a large file is stored
    stored, params = await receive_upload(request, config)
    # admitted again as its row is written, serialised with everyone else admitting
    incident_id = await run_in_threadpool(
        partial(service.register_stored, stored, config, params, admit=True, actor=who)
    )
    return _created(
        await run_in_threadpool(partial(_start, incident_id, config, who, admitted=True)), response
    )


@router.get("/incidents", summary="List incidents, newest first")
def list_incidents(
    config: Config,
    _who: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    status: Status | None = None,
) -> IncidentPage:
    return service.incident_list(config, limit=limit, offset=offset, status=status)


@router.get("/incidents/{incident_id:int}", summary="One incident with its result", responses=responses(404))
async def incident(incident_id: IncidentId, config: Config, _who: Reader) -> IncidentDetail:
    """File facts, status, parameters, engine, versions, and `result`: the seed's JSON exactly as
    `python -m core analyze --json` prints it (null until DONE)."""
    # (async with one explicit hop: a plain `def` costs two, the answer's check being the second;
    # clients poll this, and on a busy machine each hop is a wait for a CPU)
    return await run_in_threadpool(service.incident_detail, incident_id, config)


@router.delete(
    "/incidents/{incident_id:int}",
    status_code=204,
    summary="Delete an incident",
    responses=responses(403, 404, 409),
)
def delete_incident(incident_id: IncidentId, config: Config, who: Analyst) -> Response:
    """The run with its rows; its video too when no other run uses it. 409 while it is on legal hold."""
    if not service.delete(incident_id, config, actor=who):
        return problem(404, f"no incident {incident_id}")
    return Response(status_code=204)


@router.post(
    "/incidents/{incident_id:int}/reanalyze",
    status_code=201,
    summary="Analyse the same video again with other parameters",
    responses=responses(400, 403, 404, 503),
)
def reanalyze(
    incident_id: IncidentId,
    response: Response,
    config: Config,
    who: Analyst,
    change: Annotated[AnalysisParamsChange | None, Body()] = None,
) -> Accepted:
    """A new run (a new incident id) of the stored video; parameters not given are this run's."""
    current = service.incident_detail(incident_id, config).params
    given = change.model_dump(exclude_none=True) if change is not None else {}
    try:
        params = AnalysisParams.model_validate({**current.model_dump(), **given})
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False, include_context=False)) from None
    jobs.check_capacity(config)
    new_id = service.rerun(incident_id, config, params, actor=who)
    return _created(_start(new_id, config, who, admitted=False), response)


@router.get(
    "/incidents/{incident_id:int}/status",
    summary="Where the analysis stands (one reading)",
    responses=responses(404),
)
async def status(incident_id: IncidentId, config: Config, _who: Reader) -> IncidentStatus:
    return await run_in_threadpool(service.incident_status, incident_id, config)  # as `incident` above


@router.get(
    "/incidents/{incident_id:int}/status/stream",
    summary="Follow the analysis (Server-Sent Events)",
    response_class=Response,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`event: status` messages with the IncidentStatus JSON, one per change; "
            "comments keep the connection alive; the stream ends after DONE or FAILED",
        },
        **responses(404),
    },
)
def status_events(incident_id: IncidentId, config: Config, _who: Reader) -> Response:
    service.incident_status(incident_id, config)  # 404 before the stream starts
    return status_stream(incident_id, config)


_INCIDENT = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_ID)])
INCIDENT_QUERY = {
    "parameters": [
        {
            "name": "incident_iid",
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "description": "the incident (the seed's spelling; `incident_id` is accepted too)",
            "x-aliases": ["incident_id"],
        }
    ]
}


async def incident_query(request: Request) -> int:
    """`?incident_iid=` as the seed spells it, or `?incident_id=`."""
    name = "incident_iid" if "incident_iid" in request.query_params else "incident_id"
    raw = request.query_params.get(name)
    if raw is None:
        raise RequestValidationError(
            [{"loc": ("query", "incident_iid"), "msg": "Field required", "type": "missing"}]
        )
    try:
        return _INCIDENT.validate_python(raw, strict=False)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("query", name)} for e in error.errors(include_url=False, include_context=False)]
        ) from None


QueriedIncident = Annotated[int, Depends(incident_query)]


@router.get("/events", include_in_schema=False, openapi_extra=INCIDENT_QUERY)
@router.get(
    "/events/",
    summary="The events of an incident",
    responses=responses(404, 422),
    openapi_extra=INCIDENT_QUERY,
)
def events(config: Config, _who: Reader, incident_id: QueriedIncident) -> list[Event]:
    """Times, type, description, confidence, highlight, severity, box and review of every event."""
    return service.incident_events(incident_id, config)


@router.patch("/events/{event_id:int}", summary="Review an event", responses=responses(400, 403, 404))
def review(event_id: EventId, verdict: Review, config: Config, who: Analyst) -> Event:
    """`{"status": "confirmed" | "dismissed" | null, "note": "..."}`: an analyst's verdict, recorded
    with who and when."""
    return service.review(event_id, config, status=verdict.status, note=verdict.note, actor=who)


@router.get("/timelines", include_in_schema=False, openapi_extra=INCIDENT_QUERY)
@router.get(
    "/timelines/",
    summary="The storyboard: every analysed window",
    responses=responses(404, 422),
    openapi_extra=INCIDENT_QUERY,
)
def timelines(config: Config, _who: Reader, incident_id: QueriedIncident) -> list[WindowRecord]:
    return service.incident_windows(incident_id, config)


@router.get(
    "/incidents/{incident_id:int}/media",
    summary="The video, streamed with HTTP Range",
    response_class=Response,
    responses={
        200: {"content": {"video/*": {}}, "description": "the whole file"},
        206: {"content": {"video/*": {}}, "description": "the asked byte range(s)"},
        **responses(404, 416, 503),
    },
)
async def media(
    incident_id: IncidentId,
    config: Config,
    _who: Reader,
    variant: Literal["original", "browser"] = "original",
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Response:
    """`original`: the stored upload as it is; `browser`: a copy every browser plays (H.264 MP4, made
    in the background the first time; 503 with Retry-After until it is ready)."""
    opened = await run_in_threadpool(open_media, incident_id, variant, config)
    return media_response(opened, range_, if_range)


@router.post(
    "/incidents/{incident_id:int}/search", summary="Search within an incident", responses=responses(404)
)
def search(
    incident_id: IncidentId,
    config: Config,
    _who: Reader,
    prompt: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SearchHits:
    """The dashboard's search: words in Russian or English, event types by name and synonym,
    "quoted phrases"; hits are windows and events with their times, kind and a snippet."""
    return service.search_incidents(prompt, config, incident_id=incident_id, limit=limit)


def _attachment(content: bytes, media_type: str, file_name: str) -> Response:
    from urllib.parse import quote

    ascii_name = file_name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=utf-8''{quote(file_name)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/incidents/{incident_id:int}/report",
    summary="The DOCX report",
    response_class=Response,
    responses={200: {"content": {DOCX_MEDIA_TYPE: {}}, "description": "the report"}, **responses(404, 409)},
)
def report(
    incident_id: IncidentId, config: Config, _who: Reader, lang: Language = DEFAULT_LANGUAGE
) -> Response:
    """Built from stored results (nothing is re-analysed), in Russian or English."""
    content, name = service.report_docx(incident_id, config, lang=lang)
    return _attachment(content, DOCX_MEDIA_TYPE, name)


@router.get(
    "/incidents/{incident_id:int}/export",
    summary="The results as JSON, CSV or WebVTT",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the export"},
        **responses(404, 409),
    },
)
def export(
    incident_id: IncidentId,
    config: Config,
    _who: Reader,
    format: ExportFormat = "json",
) -> Response:
    """json: exactly what `python -m core analyze --json` printed; csv: one row per event; vtt: one
    caption per event."""
    content, name = service.export_incident(incident_id, format, config)
    return _attachment(content.encode("utf-8"), MEDIA_TYPES[format], name)


@open_router.get(
    "/health",
    summary="Is Sigma able to work",
    response_model=Health,
    responses={503: {"model": Health, "description": "the database does not answer"}},
)
def health(config: Config) -> Response:
    """Open without a session (for load balancers and compose): database and model server
    reachability, the engine and job backend in use, versions. Secrets never appear."""
    found = service.health(config)
    return JSONResponse(found.model_dump(mode="json"), status_code=503 if found.status == "down" else 200)
