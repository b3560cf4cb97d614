"""The one server (`server:app`, what `make run` starts) tried as a hostile user would: with
APP_PASSWORD set no path answers without a session (pages, websocket, `/media`, uploads, metrics, the
API, its docs); a deep link survives signing in; guessing is slowed per address and across addresses;
Streamlit's upload route keeps to MAX_UPLOAD_MB. Without a password everything is open, the API too."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest
import websockets
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.gate import UploadLimit, safe_next
from core import service, users
from core.config import get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.evidence.audit import trail_of
from core.models import Incident
from core.schema import AnalysisParams
from tests.conftest import make_settings
from tests.live_server import serve

PASSWORD = "correct horse battery"
TOKEN = "gate-token-5678"
PAGE = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """APP_PASSWORD, API_TOKEN acting as "ci-pipeline", and two integrations with tokens of their own."""
    folder = tmp_path_factory.mktemp("gated")
    users_file = folder / "users.json"
    _, bot = users.add_token(users_file, "ingest-bot", "analyst")
    _, screen = users.add_token(users_file, "wall-screen", "viewer")
    with serve(
        "server:app", folder, APP_PASSWORD=PASSWORD, API_TOKEN=TOKEN, API_TOKEN_USER="ci-pipeline",
        APP_USERS=str(users_file), MAX_UPLOAD_MB="1",
    ) as running:  # fmt: skip
        running.tokens = {"ingest-bot": bot, "wall-screen": screen}
        yield running


def _sign_in(
    base: str, password: str = PASSWORD, target: str = "/", *, address: str | None = None
) -> httpx.Response:
    """POST the sign-in form, from `address` (any 127.x.y.z: each is another client to the server)."""
    transport = httpx.HTTPTransport(local_address=address) if address else None
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.post(f"{base}/signin", data={"name": "", "password": password, "next": target})


def _session(base: str) -> dict[str, str]:
    answer = _sign_in(base)
    assert answer.status_code == 303, answer.text
    return {"sigma_session": answer.cookies["sigma_session"]}


def _stream_socket(base: str, cookies: dict[str, str] | None = None) -> int | str:
    """Open Streamlit's websocket: "open", or the HTTP status it was refused with."""

    async def attempt():
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())} if cookies else None
        try:
            async with websockets.connect(
                base.replace("http", "ws") + "/_stcore/stream",
                subprotocols=["streamlit"],
                additional_headers=headers,
            ):
                return "open"
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(attempt())


def test_no_path_answers_without_a_session(gated):
    base = gated.base
    for path in ("/", "/incidents", "/incident?id=32", "/about"):
        answer = httpx.get(base + path, headers=PAGE)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin?next=")
    for path in (
        "/media/0123456789abcdef.mp4",
        "/_stcore/metrics",
        "/_stcore/host-config",
        "/api/v1/incidents",
        "/api/v1/incidents/1/media",
        "/openapi.json",
        "/static/js/index.js",
    ):
        answer = httpx.get(base + path)
        assert answer.status_code == 401, path
        assert "sign in" in answer.json()["detail"]
    upload = httpx.put(f"{base}/_stcore/upload_file/session/file", files={"file": ("a.mp4", b"x" * 1000)})
    assert upload.status_code == 401
    api_upload = httpx.post(f"{base}/api/v1/incidents/upload", files={"file": ("a.mp4", b"x" * 1000)})
    assert api_upload.status_code == 401
    assert _stream_socket(base) == 403
    assert _stream_socket(base, {"sigma_session": "forged.value.sig"}) == 403
    for path in ("/_stcore/health", "/api/v1/health", "/signin"):
        assert httpx.get(base + path).status_code == 200, path
    health = httpx.get(f"{base}/api/v1/health").text
    assert PASSWORD not in health and TOKEN not in health


def test_a_session_opens_every_path_and_is_a_safe_cookie(gated):
    answer = _sign_in(gated.base)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = SimpleCookie(answer.headers["set-cookie"])["sigma_session"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == 12 * 3600
    assert PASSWORD not in answer.headers["set-cookie"]
    cookies = {"sigma_session": cookie.value}
    with httpx.Client(base_url=gated.base, cookies=cookies, timeout=10) as client:
        assert client.get("/", headers=PAGE).status_code == 200
        assert client.get("/_stcore/metrics").status_code == 200
        assert client.get("/api/v1/incidents").json()["total"] == 0
        assert client.get("/docs").status_code == 200
        assert client.get("/signin").status_code == 303, "signed in already: straight on"
    assert _stream_socket(gated.base, cookies) == "open"
    bearer = httpx.get(f"{gated.base}/api/v1/incidents", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200
    out = httpx.get(f"{gated.base}/signout", cookies=cookies)
    assert out.status_code == 303 and 'sigma_session=""' in out.headers["set-cookie"]


def test_a_deep_link_survives_signing_in(gated):
    asked = httpx.get(f"{gated.base}/incident?id=32&lang=en", headers=PAGE)
    target = asked.headers["location"]
    assert target == "/signin?next=%2Fincident%3Fid%3D32%26lang%3Den"
    form = httpx.get(gated.base + target)
    assert 'name="next" value="/incident?id=32&amp;lang=en"' in form.text
    answer = _sign_in(gated.base, target="/incident?id=32&lang=en")
    assert answer.status_code == 303 and answer.headers["location"] == "/incident?id=32&lang=en"


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/incident?id=3", "/incident?id=3"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/signin?next=/x", "/"),
        ("", "/"),
    ],
)
def test_sign_in_only_ever_sends_you_to_this_server(target, lands):
    assert safe_next(target) == lands


def test_a_wrong_password_is_refused_without_a_session(gated):
    answer = _sign_in(gated.base, password="wrong", address="127.0.0.77")
    assert answer.status_code == 401 and "Wrong name or password" in answer.text
    assert "sigma_session" not in answer.headers.get("set-cookie", "")


def test_streamlits_upload_route_keeps_to_max_upload_mb(gated):
    cookies = _session(gated.base)
    answer = httpx.put(
        f"{gated.base}/_stcore/upload_file/session/file",
        files={"file": ("big.mp4", bytes(2 * 1024 * 1024))},
        cookies=cookies,
    )
    assert answer.status_code == 413 and "MAX_UPLOAD_MB (1 MB)" in answer.text


def test_a_streamed_upload_is_cut_off_at_the_limit(monkeypatch):
    """Without a Content-Length the body is counted as it arrives and refused once it passes the limit,
    before the route behind has it all (a route that reads everything, as Streamlit's does)."""
    read = []

    async def take_everything(request):
        async for chunk in request.stream():
            read.append(len(chunk))
        return PlainTextResponse("stored")

    app = Starlette(routes=[Route("/_stcore/upload_file/{s}/{f}", take_everything, methods=["PUT"])],
                    middleware=[Middleware(UploadLimit)])  # fmt: skip

    async def body():
        for _ in range(40):
            yield bytes(64 * 1024)

    async def send():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sigma") as client:
            return await client.put("/_stcore/upload_file/s/f", content=body())

    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    try:
        answer = asyncio.run(send())
    finally:
        monkeypatch.delenv("MAX_UPLOAD_MB")
        get_settings.cache_clear()
    assert answer.status_code == 413
    assert sum(read) <= 1024 * 1024 + 64 * 1024


def test_api_writes_are_audited_as_the_tokens_named_service_user(gated, clips):
    settings = gated.settings
    params = AnalysisParams.from_settings(settings)
    first, second = (service.register_video(clips["calm"], settings, params) for _ in range(2))

    def delete(incident_id: int, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.delete(f"{gated.base}/api/v1/incidents/{incident_id}", headers=headers, timeout=30)

    assert delete(first, TOKEN).status_code == 204
    refused = delete(second, gated.tokens["wall-screen"])
    assert refused.status_code == 403 and refused.json()["detail"].startswith(
        "wall-screen may view but not change"
    )
    assert delete(second, gated.tokens["ingest-bot"]).status_code == 204
    deleted = [(e.incident_id, e.actor, e.via) for e in trail_of(settings) if e.action == "delete"]
    assert deleted == [(first, "ci-pipeline", "token"), (second, "ingest-bot", "token")]


def test_a_wrong_token_is_a_failed_login_that_says_nothing_of_why(gated):
    before = len(trail_of(gated.settings))
    answers = [
        httpx.get(f"{gated.base}/api/v1/incidents", headers={"Authorization": f"Bearer {wrong}"})
        for wrong in (TOKEN[:-1], gated.tokens["ingest-bot"][:-1], "sigma_" + "x" * 43)
    ]
    assert {(a.status_code, a.json()["detail"]) for a in answers} == {(401, "the bearer token is not valid")}
    failed = trail_of(gated.settings)[before:]
    assert [(e.actor, e.action, e.target, e.details) for e in failed] == [
        ("anonymous", "failed login", "", {"where": "api bearer token"})
    ] * 3
    assert TOKEN[:-1] not in str([e.model_dump() for e in failed])


# The guessing tests come last on this server: each uses addresses of its own, and the last one
# empties the bucket all addresses share.


def test_guessing_is_slowed_per_address_even_across_sessions(gated):
    """Forty guesses from forty fresh sessions (no cookies) of one address: five are checked, the rest
    wait; meanwhile even the right password is not checked from there."""
    statuses = [_sign_in(gated.base, f"guess {n}", address="127.0.0.10").status_code for n in range(40)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    held = _sign_in(gated.base, address="127.0.0.10")
    assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
    assert "wait" in held.text
    elsewhere = _sign_in(gated.base, address="127.0.0.11")
    assert elsewhere.status_code == 303, "another address still signs in"


def test_token_guessing_is_slowed_too(gated):
    """Wrong bearer tokens draw on the same buckets as wrong passwords."""
    transport = httpx.HTTPTransport(local_address="127.0.2.1")
    with httpx.Client(base_url=gated.base, transport=transport) as client:
        statuses = [
            client.get("/api/v1/incidents", headers={"Authorization": f"Bearer wrong-{n}"}).status_code
            for n in range(8)
        ]
    assert 429 in statuses and statuses[0] == 401


def test_guessing_is_slowed_across_addresses(gated):
    """One guess each from many addresses: the shared bucket (20) runs out too."""
    started = time.monotonic()
    statuses = []
    for number in range(30):
        statuses.append(_sign_in(gated.base, f"guess {number}", address=f"127.0.1.{number + 1}").status_code)
    refilled = (time.monotonic() - started) / 3.0 + 1  # the shared bucket regains one every 3 s
    assert 429 in statuses
    assert statuses.count(401) <= 20 + refilled, statuses


@pytest.fixture(scope="module")
def open_server(tmp_path_factory, clips):
    """Started over a database that holds an analysis a crashed server left PROCESSING an hour ago."""
    folder = tmp_path_factory.mktemp("open")
    before = make_settings(folder)
    stale = service.register_video(clips["calm"], before, AnalysisParams.from_settings(before))
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(get_engine(before.resolved_database_url)) as session:
        session.execute(
            update(Incident).where(Incident.id == stale).values(status="PROCESSING", heartbeat_at=hour_ago)
        )
    dispose_engines()
    with serve("server:app", folder) as running:
        running.stale_id = stale
        yield running


def test_recovery_runs_when_the_server_starts_not_on_a_page_view(open_server):
    """Only the health check has been asked: the interrupted analysis is FAILED already."""
    with session_scope(get_engine(open_server.settings.resolved_database_url)) as session:
        incident = session.get(Incident, open_server.stale_id)
        assert incident.status == "FAILED" and incident.error.startswith("interrupted:")


def test_without_a_password_everything_is_open_and_the_api_is_beside_the_dashboard(open_server, clips):
    base = open_server.base
    assert httpx.get(base + "/", headers=PAGE).status_code == 200
    assert httpx.get(base + "/_stcore/metrics").status_code == 200
    assert httpx.get(base + "/docs").status_code == 200
    assert _stream_socket(base) == "open"
    with open(clips["calm"], "rb") as handle:
        answer = httpx.post(
            f"{base}/api/v1/incidents/upload", files={"file": ("calm.mp4", handle)}, timeout=30
        )
    assert answer.status_code == 201
    listed = httpx.get(f"{base}/api/v1/incidents").json()
    assert [row["incident_id"] for row in listed["items"]] == [
        answer.json()["incident_id"],
        open_server.stale_id,
    ]
    assert "paths" in httpx.get(f"{base}/openapi.json").json()


@pytest.mark.parametrize("encoding", ["gzip, deflate", "identity"])
def test_the_media_streams_through_the_dashboards_middleware(open_server, clips, encoding):
    """Streamlit's server puts a gzip middleware in front of every route, which drops ASGI messages
    it does not know: the media endpoint's bytes (sent by `sendfile`, api/zerocopy.py) still arrive
    whole and exact, ranges and all, whatever the client accepts."""
    settings = open_server.settings
    incident_id = service.register_video(clips["collision"], settings, AnalysisParams.from_settings(settings))
    original = clips["collision"].read_bytes()
    url = f"{open_server.base}/api/v1/incidents/{incident_id}/media"
    with httpx.Client(timeout=30, headers={"Accept-Encoding": encoding}) as client:
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == original
        part = client.get(url, headers={"Range": "bytes=100-20099"})
        assert part.status_code == 206 and part.content == original[100:20100]
        assert client.get(url, headers={"Range": "bytes=-10"}).content == original[-10:]


@pytest.mark.parametrize("ranged", [True, False])
def test_the_one_servers_media_sends_the_bytes_to_a_browser_that_accepts_gzip(open_server, clips, ranged):
    """Under st.App every response passes Streamlit's GZip layer, which forwards only body messages:
    a zero-copy message would be dropped there and the player would wait for ever (it did)."""
    expected = clips["calm"].read_bytes()
    headers = {"Accept-Encoding": "gzip, deflate, br"} | ({"Range": "bytes=100-"} if ranged else {})
    answer = httpx.get(
        f"{open_server.base}/api/v1/incidents/{open_server.stale_id}/media?variant=original",
        headers=headers,
        timeout=10,
    )
    assert answer.status_code == (206 if ranged else 200)
    assert answer.content == (expected[100:] if ranged else expected)
