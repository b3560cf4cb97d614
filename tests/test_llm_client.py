"""The one model-server client (core.llm): every caller goes through it, and no message it gives
shows a password inside LLM_BASE_URL or the API key, whatever the server answers."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.ask import AskUnavailable, ask_model
from core.config import get_settings
from core.engines.vlm import VLMEngine
from core.errors import EngineUnavailable
from core.llm import ModelClient, Traffic, choose_model, server_status
from core.llm import client as llm_client
from tests.app_harness import configured_app, new_app
from tests.conftest import make_settings
from tests.fake_vlm_server import FakeVLMServer, dead_port_url
from tests.stored_results import store_incident

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "hunter2-Very-Secret"
API_KEY = "sk-live-key-0042"


def with_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"sigma:{PASSWORD}@{parts.netloc}").geturl()


class _EchoingHandler(BaseHTTPRequestHandler):
    """A server that answers every request with an error that repeats what it was sent: the URL,
    the Authorization header (as some proxies do), and a stack of its own."""

    status = 500

    def log_message(self, *args) -> None:
        pass

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        message = f"upstream failed for {self.path} with {self.headers.get('Authorization')}"
        body = json.dumps({"error": {"message": message}}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _echo


@pytest.fixture
def echoing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _stored(settings, clip) -> int:
    return store_incident(
        settings, clip, name="gate.mp4", windows=[(0.0, 1.5, "two cars collide")], events=[]
    )


def test_ask_the_model_never_shows_a_password_in_the_url_or_the_key(tmp_path, clips, echoing_server):
    dead = make_settings(tmp_path, llm_base_url=with_password(dead_port_url()), llm_api_key=API_KEY)
    fast = {"llm_retry_backoff_sec": 0.01}
    incident_id = _stored(dead, clips["calm"])
    with pytest.raises(AskUnavailable) as nobody_there:
        ask_model(incident_id, "what happens?", dead)
    echoed = make_settings(
        tmp_path, llm_base_url=with_password(echoing_server), llm_api_key=API_KEY, llm_model="m", **fast
    )
    with pytest.raises(AskUnavailable) as echoing:
        ask_model(incident_id, "what happens?", echoed)
    for error in (nobody_there.value, echoing.value):
        message = str(error)
        assert PASSWORD not in message and API_KEY not in message, message
        assert "sigma:***@127.0.0.1:" in message, message  # the server is still named, masked
    assert "HTTP 500" in str(echoing.value)


def test_the_about_check_and_the_engine_mask_the_same_way(tmp_path, echoing_server):
    settings = make_settings(
        tmp_path, llm_base_url=with_password(echoing_server), llm_api_key=API_KEY, llm_retry_backoff_sec=0.01
    )
    status = server_status(settings)
    assert not status.reachable and "HTTP 500" in status.detail
    with pytest.raises(EngineUnavailable) as failure:
        VLMEngine(settings).check()
    for text in (status.detail, str(failure.value)):
        assert PASSWORD not in text and API_KEY not in text and "sigma:***@" in text, text


def test_model_lookup_is_one_rule_for_every_caller(tmp_path):
    with FakeVLMServer(model="served/model") as server:
        first = make_settings(tmp_path, llm_base_url=server.url)
        named = make_settings(tmp_path, llm_base_url=server.url, llm_model="other/model")
        with ModelClient(first) as client:
            assert choose_model(client).model == "served/model"
        with ModelClient(named) as client:
            choice = choose_model(client)
    assert choice.model == "other/model" and "not among the models the server lists" in choice.note


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def test_every_call_to_the_model_server_goes_through_the_one_client(
    tmp_path, clips, monkeypatch, app_settings
):
    """The VLM engine, "Ask the model" and the About page: each one's requests pass ModelClient._send."""
    seen: list[tuple[str, str]] = []
    original = llm_client.ModelClient._send

    def recording(self, method, path, body, traffic, **options):
        seen.append((method, path))
        return original(self, method, path, body, traffic, **options)

    monkeypatch.setattr(llm_client.ModelClient, "_send", recording)
    with FakeVLMServer(model="fake-vlm") as server:
        settings = make_settings(tmp_path, llm_base_url=server.url)
        VLMEngine(settings).check()
        assert seen == [("GET", "/models")]

        incident_id = _stored(settings, clips["calm"])
        seen.clear()
        with pytest.raises(AskUnavailable):  # the fake speaks Sigma's video protocol and refuses sigma_ask
            ask_model(incident_id, "what happens?", settings)
        assert seen == [("GET", "/models"), ("POST", "/chat/completions")]

        seen.clear()
        monkeypatch.setenv("LLM_BASE_URL", server.url)
        get_settings.cache_clear()
        new_app("about")
        assert seen == [("GET", "/models")]


def test_no_other_module_talks_http_to_the_model_server():
    """The rule the client exists for: only core/llm imports an HTTP client. (bench/ and tests/ also
    call Sigma's own HTTP API, which is not the model server.)"""
    offenders = []
    for folder in ("core", "dashboard", "app_pages", "api"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(ROOT / "core" / "llm"):
                continue
            if re.search(
                r"^\s*(import|from)\s+(httpx|requests|urllib\.request|openai)\b",
                path.read_text(),
                re.MULTILINE,
            ):
                offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_a_chat_through_the_client_counts_its_cost(tmp_path):
    with FakeVLMServer(model="m") as server:
        settings = make_settings(tmp_path, llm_base_url=server.url)
        traffic = Traffic()
        with ModelClient(settings) as client, pytest.raises(llm_client.RequestFailed, match="HTTP 400"):
            client.chat({"model": "m", "messages": []}, traffic)  # not Sigma's protocol: refused, not retried
    assert traffic.requests == 1 and traffic.retries == 0
