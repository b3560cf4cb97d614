"""Talking to the model server: chat completions and the model list, retried, masked and bounded.

Thread-safe: one `ModelClient` serves all of an analysis's worker threads over one connection pool.
Every message it raises or notes names the server by its masked URL and passes through the
settings' redaction, so neither a password inside LLM_BASE_URL nor LLM_API_KEY is ever shown.
"""

from __future__ import annotations

import email.utils
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

import httpx

from core.config import Settings, mask_url
from core.errors import SigmaError

_RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_BACKOFF_SEC = 30.0
_MAX_RETRY_AFTER_SEC = 120.0
CHECK_TIMEOUT_SEC = 3.0  # the About page's check: a person is waiting for the page


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass
class Traffic:
    """What talking to the server cost: requests sent, retries among them, tokens, and what went wrong."""

    requests: int = 0
    retries: int = 0
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)

    def add(self, other: Traffic) -> None:
        self.requests += other.requests
        self.retries += other.retries
        self.usage.add(other.usage)
        self.notes += other.notes


@dataclass
class Completion:
    content: str
    finish_reason: str | None


class RequestFailed(SigmaError):
    """A request that could not get an answer: retries exhausted, or refused for good (4xx)."""


class ServerUnreachable(RequestFailed):
    """Nothing listens at the server's address (connection refused, unknown host)."""


def chat_request(model: str, messages: list[dict], schema_name: str, schema: dict, max_tokens: int) -> dict:
    """One chat-completions request body: deterministic, bounded, asking for schema-shaped JSON."""
    return {
        "model": model,
        "temperature": 0,
        "max_tokens": max_tokens,
        "messages": messages,
        "response_format": {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema}},
    }


class ModelClient:
    """Chat completions and the model list, with bounded retries, exponential backoff and jitter.

    `timeout` and `max_retries` default to LLM_TIMEOUT_SEC and LLM_MAX_RETRIES; a caller with a
    person waiting (About, "Ask the model") passes smaller ones. `stop` cancels waits between retries.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stop: threading.Event | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = settings.llm_base_url or ""
        self.shown_url = mask_url(self.base_url)  # what messages show: never a password inside the URL
        self.stop = stop or threading.Event()
        self.timeout = timeout or settings.llm_timeout_sec
        self.max_retries = settings.llm_max_retries if max_retries is None else max_retries
        headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
        connections = settings.llm_max_concurrency + 2
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            )
        except (httpx.InvalidURL, ValueError, TypeError):
            raise ServerUnreachable(
                self._safe(f"LLM_BASE_URL is not a usable URL: {self.shown_url}")
            ) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def list_models(self) -> list[str]:
        """Model ids the server serves; raises `ServerUnreachable` at once when nobody answers."""
        response = self._send("GET", "/models", None, Traffic(), retry_connect=False)
        try:
            return [str(item["id"]) for item in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise RequestFailed(f"GET {self.shown_url}/models did not return a model list") from None

    def chat(self, body: dict, traffic: Traffic, *, retry_connect: bool = True) -> Completion:
        """One chat completion (retried as needed); `traffic` is updated with what it cost.
        `retry_connect=False` gives up at once when nothing listens (a person is waiting)."""
        response = self._send("POST", "/chat/completions", body, traffic, retry_connect=retry_connect)
        try:
            data = response.json()
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
            finish_reason = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise RequestFailed(
                self._safe(f"the server's reply is not a chat completion: {response.text[:200]!r}")
            ) from None
        usage = data.get("usage") or {}
        traffic.usage.add(
            Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        )
        return Completion(content=content, finish_reason=finish_reason)

    def _timeout_text(self) -> str:
        if self.timeout == self.settings.llm_timeout_sec:
            return f"LLM_TIMEOUT_SEC={self.timeout:g} s"
        return f"{self.timeout:g} s"

    def _safe(self, text: str) -> str:
        """`text` fit to show: every secret of the settings masked (URLs are shown masked already)."""
        return self.settings.redact(text)

    def _send(self, method: str, path: str, body: dict | None, traffic: Traffic, *, retry_connect: bool):
        max_attempts = 1 + self.max_retries
        for attempt in range(1, max_attempts + 1):
            if self.stop.is_set():
                raise RequestFailed("the analysis was stopped")
            traffic.requests += 1
            retry_after = None
            try:
                response = self._http.request(method, path, json=body)
            except httpx.ConnectError as error:
                problem = f"cannot connect to the model server at {self.shown_url}: {_reason(error)}"
                if not retry_connect:
                    raise ServerUnreachable(self._safe(problem)) from None
            except httpx.TimeoutException:
                problem = f"no answer from the model server within {self._timeout_text()}"
            except (httpx.TransportError, httpx.InvalidURL) as error:
                problem = f"the connection to the model server at {self.shown_url} failed: {_reason(error)}"
                if isinstance(error, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
                    raise ServerUnreachable(self._safe(problem)) from None
            else:
                if response.status_code < 400:
                    return response
                where = f"{method} {self.shown_url}{path}"
                problem = f"HTTP {response.status_code} from {where}: {_server_message(response)}"
                if response.status_code not in _RETRY_STATUSES:
                    raise RequestFailed(self._safe(problem))
                retry_after = _retry_after(response)
            if attempt == max_attempts:
                suffix = f" (gave up after {max_attempts} attempts)" if max_attempts > 1 else ""
                raise RequestFailed(self._safe(problem + suffix))
            delay = self._backoff(attempt, retry_after)
            source = "Retry-After" if retry_after is not None else "backoff"
            traffic.notes.append(
                self._safe(f"{problem}; retry {attempt}/{max_attempts - 1} in {delay:.2f} s ({source})")
            )
            traffic.retries += 1
            if self.stop.wait(delay):
                raise RequestFailed("the analysis was stopped")
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_AFTER_SEC)
        base = min(_MAX_BACKOFF_SEC, self.settings.llm_retry_backoff_sec * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.5)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:200]


def _server_message(response: httpx.Response) -> str:
    try:
        data = response.json()
        message = data.get("error", data.get("message", data))
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except (ValueError, AttributeError):
        text = response.text
    return " ".join(text.split())[:300] or response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


# --- which model, and is the server there -----------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    """The model every request names, and a warning worth logging about how it was chosen."""

    model: str
    note: str | None = None


def choose_model(client: ModelClient) -> ModelChoice:
    """LLM_MODEL, checked against the models the server lists; without it, the first one listed.

    Raises `ServerUnreachable` when nobody answers, `RequestFailed` when no model can be settled."""
    wanted = client.settings.llm_model
    try:
        models = client.list_models()
    except ServerUnreachable:
        raise
    except RequestFailed as error:
        if not wanted:
            raise RequestFailed(
                f"the model server at {client.shown_url} did not list its models: {error}"
            ) from None
        return ModelChoice(wanted, f"could not list the server's models ({error}); using LLM_MODEL as given")
    if wanted:
        if models and wanted not in models:
            listed = ", ".join(models)
            return ModelChoice(
                wanted, f"LLM_MODEL={wanted} is not among the models the server lists ({listed})"
            )
        return ModelChoice(wanted)
    if models:
        return ModelChoice(models[0])
    raise RequestFailed(f"the model server at {client.shown_url} serves no model")


@dataclass(frozen=True)
class ServerStatus:
    """Whether the model server answers its model list, what it serves, and why not (masked)."""

    reachable: bool
    models: tuple[str, ...]
    detail: str = ""


def server_status(settings: Settings, *, timeout: float = CHECK_TIMEOUT_SEC) -> ServerStatus:
    """One quick `GET /models` (no retries): for a page a person is looking at."""
    try:
        with ModelClient(settings, timeout=timeout, max_retries=0) as client:
            models = client.list_models()
    except RequestFailed as error:
        return ServerStatus(False, (), str(error))
    return ServerStatus(True, tuple(models))
