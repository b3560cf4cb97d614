"""The REST API against a real uvicorn on a loopback port (`api.main:app`, as `make api` starts it), on
SQLite and on PostgreSQL: upload to DONE through the status stream, every endpoint, Range, every
refusal with nothing left behind, the bearer token, and the dashboard's data layer seeing API uploads
(and the API seeing the dashboard's)."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import imageio_ffmpeg
import pytest
from httpx_sse import connect_sse
from sqlalchemy import func, select

from core import repository, service
from core.access import SYSTEM
from core.db import dispose_engines, get_engine, session_scope
from core.models import Incident
from core.schema import AnalysisParams
from tests.conftest import throwaway_schema
from tests.live_server import serve

TOKEN = "api-token-for-tests-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENVIRONMENT = {"API_TOKEN": TOKEN, "MAX_UPLOAD_MB": "1", "MAX_CONCURRENT_JOBS": "1", "MAX_QUEUED_JOBS": "3"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "postgresql":
        with (
            throwaway_schema() as url,
            serve("api.main:app", folder, database_url=url, **ENVIRONMENT) as running,
        ):
            yield running
    else:
        with serve("api.main:app", folder, **ENVIRONMENT) as running:
            yield running
    dispose_engines()


@pytest.fixture
def client(api):
    with httpx.Client(base_url=api.base, headers=AUTH, timeout=30) as opened:
        yield opened


def stored_files(settings) -> list[str]:
    folder = settings.uploads_dir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def incident_count(settings) -> int:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def upload(client, path, **fields):
    with open(path, "rb") as handle:
        return client.post(
            "/api/v1/incidents/upload", files={"file": (path.name, handle, "video/mp4")}, data=fields
        )


def follow(client, incident_id: int) -> list[dict]:
    """Every status message until the stream ends."""
    with connect_sse(client, "GET", f"/api/v1/incidents/{incident_id}/status/stream") as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [json.loads(event.data) for event in source.iter_sse() if event.event == "status"]


@pytest.fixture(scope="module")
def done(api, clips):
    """One incident analysed to DONE through the API (the clip with a scripted collision)."""
    with httpx.Client(base_url=api.base, headers=AUTH, timeout=30) as opened:
        answer = upload(opened, clips["collision"], domain="traffic", window_sec="1.0")
        assert answer.status_code == 201, answer.text
        incident_id = answer.json()["incident_id"]
        messages = follow(opened, incident_id)
    return incident_id, messages


def test_upload_runs_to_done_and_the_stream_reports_each_change(api, done, client):
    incident_id, messages = done
    assert messages[-1]["status"] == "DONE" and messages[-1]["progress"] == 1.0
    assert all(m["incident_id"] == incident_id for m in messages)
    assert all(a != b for a, b in itertools.pairwise(messages)), "one message per change, no repeats"
    progress = [m["progress"] for m in messages]
    assert progress == sorted(progress)
    again = follow(client, incident_id)
    assert len(again) == 1 and again[0] == messages[-1], "after the end: the final state at once"


def test_the_incident_carries_the_seed_result_exactly(api, done, client):
    incident_id, _ = done
    detail = client.get(f"/api/v1/incidents/{incident_id}").json()
    with session_scope(get_engine(api.settings.resolved_database_url)) as session:
        expected = repository.result_json(repository.get_incident(session, incident_id))
    assert detail["result"] == expected
    assert detail["result"]["has_event"] is True
    assert detail["status"]["status"] == "DONE" and detail["engine"] == "local"
    assert detail["params"]["window_sec"] == 1.0 and detail["requested_domain"] == "traffic"
    assert detail["video"]["original_name"] == "collision.mp4" and detail["video"]["duration"] > 7
    assert detail["runs"] == [incident_id] and detail["events"] == len(expected["events"])
    assert detail["created_at"].endswith(("Z", "+00:00"))
    exported = client.get(f"/api/v1/incidents/{incident_id}/export", params={"format": "json"})
    assert exported.status_code == 200 and exported.json() == expected


def test_events_timelines_search_exports_and_report(api, done, client):
    incident_id, _ = done
    events = client.get("/api/v1/events/", params={"incident_iid": incident_id}).json()
    assert events and {"event_type", "start_time", "end_time", "confidence", "highlight", "id"} <= set(
        events[0]
    )
    assert client.get("/api/v1/events", params={"incident_id": incident_id}).json() == events
    collision = min(events, key=lambda e: abs(e["start_time"] - 4.0))
    assert 3.0 <= collision["start_time"] <= 5.0
    windows = client.get("/api/v1/timelines/", params={"incident_iid": incident_id}).json()
    assert len(windows) >= 7 and windows[0]["start_time"] == 0.0

    reviewed = client.patch(f"/api/v1/events/{collision['id']}", json={"status": "confirmed", "note": "seen"})
    assert reviewed.status_code == 200 and reviewed.json()["review_status"] == "confirmed"
    assert reviewed.json()["review_note"] == "seen"

    found = client.post(f"/api/v1/incidents/{incident_id}/search", params={"prompt": collision["event_type"]})
    assert found.status_code == 200 and found.json()["hits"]
    assert all(hit["incident_id"] == incident_id for hit in found.json()["hits"])

    csv = client.get(f"/api/v1/incidents/{incident_id}/export", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and "confirmed" in csv.text
    assert 'filename="sigma-' in csv.headers["content-disposition"]
    vtt = client.get(f"/api/v1/incidents/{incident_id}/export", params={"format": "vtt"})
    assert vtt.text.startswith("WEBVTT") and "-->" in vtt.text

    report = client.get(f"/api/v1/incidents/{incident_id}/report", params={"lang": "en"})
    assert report.status_code == 200 and report.content[:2] == b"PK"
    assert report.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert report.headers["content-disposition"].endswith("-en.docx")

    page = client.get("/api/v1/incidents", params={"limit": 1}).json()
    assert page["limit"] == 1 and page["total"] >= 1 and len(page["items"]) == 1
    listed = {row["incident_id"]: row for row in client.get("/api/v1/incidents").json()["items"]}
    assert listed[incident_id]["events"] == len(events) and listed[incident_id]["status"] == "DONE"


def test_range_requests_on_the_media(api, done, client, clips):
    incident_id, _ = done
    url = f"/api/v1/incidents/{incident_id}/media"
    original = clips["collision"].read_bytes()
    size = len(original)

    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "video/mp4"
    etag = whole.headers["etag"]

    first = client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == original[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    suffix = client.get(url, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206 and suffix.content == original[-500:]
    assert suffix.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"
    tail = client.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert tail.content == original[-10:]
    past = client.get(url, headers={"Range": f"bytes={size}-{size + 10}"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    assert "outside the file" in past.json()["detail"]
    two = client.get(url, headers={"Range": "bytes=0-9,20-29"})
    assert two.status_code == 206 and two.headers["content-type"].startswith("multipart/byteranges")
    assert original[:10] in two.content and original[20:30] in two.content

    same = client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert same.status_code == 206 and same.content == original[10:20]
    changed = client.get(url, headers={"Range": "bytes=10-19", "If-Range": '"another-version"'})
    assert changed.status_code == 200 and changed.content == original
    nonsense = client.get(url, headers={"Range": "bytes=abc"})
    assert nonsense.status_code == 200 and nonsense.content == original

    browser = client.get(url, params={"variant": "browser"}, headers={"Range": "bytes=0-3"})
    assert browser.status_code == 206 and browser.headers["content-type"] == "video/mp4"
    assert client.get(url, params={"variant": "poster"}).status_code == 422


def test_ranges_larger_than_a_piece_arrive_exact_and_a_client_leaving_mid_body_harms_nothing(
    api, client, tmp_path
):
    """The body goes by `sendfile` in pieces of PIECE_BYTES, the next read ahead (api/media.py,
    api/zerocopy.py): a range spanning several pieces, from an odd offset, is byte-exact; a client
    that hangs up in the middle of one leaves the server answering, with nothing in its log."""
    from api.media import PIECE_BYTES

    noise = tmp_path / "noise.avi"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi",
            "-i", "color=c=gray:s=1280x720:r=25,noise=alls=100:allf=t+u", "-frames:v", "30",
            "-c:v", "mjpeg", "-q:v", "2", str(noise),
        ],
        check=True,
    )  # fmt: skip
    original = noise.read_bytes()
    assert len(original) > 2 * PIECE_BYTES + 1000
    roomy = api.settings.model_copy(update={"max_upload_mb": 1000})
    incident_id = service.register_video(noise, roomy, AnalysisParams.from_settings(roomy))
    url = f"/api/v1/incidents/{incident_id}/media"
    try:
        first, last = 12345, 2 * PIECE_BYTES + 999
        answer = client.get(url, headers={"Range": f"bytes={first}-{last}"})
        assert answer.status_code == 206 and answer.content == original[first : last + 1]
        assert client.get(url).content == original

        host, port = urlsplit(api.base).hostname, urlsplit(api.base).port
        for _ in range(3):
            with socket.create_connection((host, port)) as leaving:
                leaving.sendall(
                    f"GET {url} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH['Authorization']}\r\n\r\n".encode()
                )
                assert leaving.recv(65536).startswith(b"HTTP/1.1 200")
        tail = client.get(url, headers={"Range": "bytes=-1000"})
        assert tail.status_code == 206 and tail.content == original[-1000:]
        time.sleep(0.5)
        log = api.log.read_text()
        assert "Exception in ASGI application" not in log and "Traceback" not in log
    finally:
        service.delete(incident_id, api.settings, actor=SYSTEM)


def test_a_piece_on_disk_is_read_in_off_the_event_loop_before_it_is_sent(tmp_path):
    """`sendfile` runs on the event loop: a piece not in the page cache (told apart with RWF_NOWAIT)
    is first read in by a worker thread, so no request waits for the disk there."""
    from api.media import _in_page_cache, _page_in

    path = tmp_path / "piece.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024))
    with open(path, "rb") as file:
        descriptor = file.fileno()
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        assert not _in_page_cache(descriptor, 1000, 2_000_000)
        _page_in(descriptor, 1000, 2_000_000)
        assert _in_page_cache(descriptor, 1000, 2_000_000)


def test_an_api_upload_is_in_the_dashboards_data_and_a_dashboard_upload_in_the_api(
    api, done, client, clips, monkeypatch
):
    from core.config import get_settings
    from dashboard import data

    incident_id, _ = done
    monkeypatch.setenv("STORAGE_DIR", str(api.settings.storage_dir))
    monkeypatch.setenv("DATABASE_URL", api.settings.database_url or "")
    get_settings.cache_clear()
    try:
        incidents, _ = data.list_incidents()
        assert incident_id in [i.id for i in incidents]
        assert data.load_incident(incident_id).status == "DONE"
        assert [e.id for e in data.load_events(incident_id)] == [
            e["id"] for e in client.get("/api/v1/events/", params={"incident_iid": incident_id}).json()
        ]
        # what the dashboard's Analyse button calls: core.service.register_video, then submit
        params = AnalysisParams.from_settings(api.settings)
        with open(clips["calm"], "rb") as handle:
            dashboard_id = service.register_video(handle, get_settings(), params, original_name="from-ui.mp4")
    finally:
        get_settings.cache_clear()
    seen = client.get(f"/api/v1/incidents/{dashboard_id}").json()
    assert seen["video"]["original_name"] == "from-ui.mp4" and seen["status"]["status"] == "SAVED"
    assert client.delete(f"/api/v1/incidents/{dashboard_id}").status_code == 204


def test_reanalyze_makes_a_new_run_and_delete_removes_it(api, done, client):
    incident_id, _ = done
    answer = client.post(f"/api/v1/incidents/{incident_id}/reanalyze", json={"window_sec": 2.0})
    assert answer.status_code == 201, answer.text
    rerun_id = answer.json()["incident_id"]
    assert answer.headers["location"] == f"/api/v1/incidents/{rerun_id}"
    assert follow(client, rerun_id)[-1]["status"] == "DONE"
    rerun = client.get(f"/api/v1/incidents/{rerun_id}").json()
    assert rerun["run_of_id"] == incident_id and rerun["params"]["window_sec"] == 2.0
    assert rerun["params"]["domain"] == "traffic", "parameters not named are the run's own"
    bad = client.post(f"/api/v1/incidents/{incident_id}/reanalyze", json={"window_sec": 0})
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/incidents/{rerun_id}").status_code == 204
    assert client.get(f"/api/v1/incidents/{rerun_id}").status_code == 404
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 200, "the first run stays"


@pytest.mark.parametrize(
    "fields, status, words",
    [
        ({"window_sec": "0.01"}, 422, "greater than or equal to 0.25"),
        ({"domain": "mars"}, 422, "traffic"),
        ({"frames_per_window": "many"}, 422, "integer"),
        ({"windowsec": "1"}, 422, "unknown form field"),
    ],
)
def test_bad_parameters_are_422_and_leave_nothing(api, client, clips, fields, status, words):
    before = (incident_count(api.settings), stored_files(api.settings))
    answer = upload(client, clips["calm"], **fields)
    assert answer.status_code == status and words in answer.text
    assert (incident_count(api.settings), stored_files(api.settings)) == before


def test_refused_uploads_leave_nothing_behind(api, client, tmp_path):
    before = (incident_count(api.settings), stored_files(api.settings))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    answer = upload(client, text)
    assert answer.status_code == 415 and answer.json()["detail"] == "this is a text file, not a video"
    png = tmp_path / "frame.mp4"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    assert upload(client, png).status_code == 415
    large = tmp_path / "large.mp4"
    large.write_bytes(bytes(2 * 1024 * 1024))
    answer = upload(client, large)
    assert answer.status_code == 413 and "MAX_UPLOAD_MB (1 MB)" in answer.json()["detail"]
    not_multipart = client.post(
        "/api/v1/incidents/upload", content=b"raw", headers={"content-type": "video/mp4"}
    )
    assert not_multipart.status_code == 415 and "multipart/form-data" in not_multipart.json()["detail"]
    no_file = client.post("/api/v1/incidents/upload", files={"domain": (None, "traffic")})
    assert no_file.status_code == 422 and "no `file` field" in no_file.text
    assert (incident_count(api.settings), stored_files(api.settings)) == before


def test_an_oversized_stream_is_refused_before_it_is_all_sent(api):
    """No Content-Length (chunked): the server answers 413 while the client has sent only a little
    over the limit, and keeps nothing."""
    before = stored_files(api.settings)
    host, port = urlsplit(api.base).hostname, urlsplit(api.base).port
    boundary = "sigmaboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(
            (
                "POST /api/v1/incidents/upload HTTP/1.1\r\n"
                f"Host: {host}\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
            ).encode()
        )
        piece = head + bytes(256 * 1024 - len(head))
        for _ in range(6):  # 1.5 MB of a declared-endless body; the limit is 1 MB
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            piece = bytes(256 * 1024)
        reply = b""
        while b"}" not in reply and (chunk := sock.recv(4096)):
            reply += chunk
        reply = reply.decode("latin-1")
    assert reply.startswith("HTTP/1.1 413"), reply
    assert "MAX_UPLOAD_MB" in reply
    assert stored_files(api.settings) == before


def test_unknown_ids_are_404_and_unfinished_results_409(api, client, clips):
    for method, path in [
        ("GET", "/api/v1/incidents/999999"),
        ("GET", "/api/v1/incidents/999999/status/stream"),
        ("GET", "/api/v1/incidents/999999/media"),
        ("GET", "/api/v1/incidents/999999/report"),
        ("GET", "/api/v1/incidents/999999/export"),
        ("POST", "/api/v1/incidents/999999/search?prompt=car"),
        ("POST", "/api/v1/incidents/999999/reanalyze"),
        ("DELETE", "/api/v1/incidents/999999"),
        ("GET", "/api/v1/events/?incident_iid=999999"),
        ("GET", "/api/v1/timelines/?incident_iid=999999"),
        ("PATCH", "/api/v1/events/999999"),
    ]:
        answer = client.request(method, path, json={"status": "confirmed"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["detail"].startswith("no ")
    params = AnalysisParams.from_settings(api.settings)
    waiting = service.register_video(clips["calm"], api.settings, params)  # SAVED, never submitted
    try:
        for path in ("report", "export"):
            answer = client.get(f"/api/v1/incidents/{waiting}/{path}")
            assert answer.status_code == 409 and "no results" in answer.json()["detail"]
    finally:
        service.delete(waiting, api.settings, actor=SYSTEM)


def test_a_full_queue_is_503_with_retry_after_and_the_stream_keeps_alive(api, client, clips, request):
    """MAX_QUEUED_JOBS=3 and one slot: four waiting analyses fill it. Meanwhile a stream on a waiting
    one reports a change written to the database, and (once, on SQLite: the database plays no part in
    it) sends a keep-alive comment while nothing changes."""
    wait_for_keep_alive = "sqlite" in request.node.name
    params = AnalysisParams.from_settings(api.settings)
    db = get_engine(api.settings.resolved_database_url)
    waiting = [service.register_video(clips["calm"], api.settings, params) for _ in range(4)]
    try:
        with session_scope(db) as session:
            for incident_id in waiting:
                repository.mark_queued(session, incident_id)
        before = (incident_count(api.settings), stored_files(api.settings))
        answer = upload(client, clips["calm"])
        assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
        assert "queue is full" in answer.json()["detail"]
        refused = client.post(f"/api/v1/incidents/{waiting[0]}/reanalyze")
        assert refused.status_code == 503
        assert (incident_count(api.settings), stored_files(api.settings)) == before

        lines = []
        with client.stream("GET", f"/api/v1/incidents/{waiting[-1]}/status/stream") as stream:
            started = time.monotonic()
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data:") and '"stage":"queued"' in line:
                    with session_scope(db) as session:
                        repository.update_progress(
                            session, waiting[-1], fraction=0.0, stage="waiting for a slot"
                        )
                kept_alive = any(seen.startswith(":") for seen in lines) or not wait_for_keep_alive
                if kept_alive and any("waiting for a slot" in seen for seen in lines):
                    break
                assert time.monotonic() - started < 16, lines
        if wait_for_keep_alive:
            assert any(line.startswith(":") for line in lines), "a keep-alive comment within 15 s"
        changed = next(line for line in lines if "waiting for a slot" in line)
        assert json.loads(changed.removeprefix("data:"))["queue_position"] == 4
    finally:
        for incident_id in waiting:
            service.delete(incident_id, api.settings, actor=SYSTEM)


def test_the_bearer_token_is_required_and_compared(api):
    plain = httpx.get(f"{api.base}/api/v1/incidents")
    assert plain.status_code == 401 and plain.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{api.base}/api/v1/incidents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert httpx.get(f"{api.base}/api/v1/incidents", headers=AUTH).status_code == 200
    health = httpx.get(f"{api.base}/api/v1/health")
    assert health.status_code == 200 and health.json()["database"]["ok"] is True
    assert TOKEN not in health.text
    docs = httpx.get(f"{api.base}/docs", headers=AUTH)
    assert docs.status_code == 200 and "cdn." not in docs.text, "the docs work in a closed network"
    assert httpx.get(f"{api.base}/openapi.json", headers=AUTH).json()["info"]["title"] == "Sigma API"
