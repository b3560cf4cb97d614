"""The VLM engine: a vision-language model behind an OpenAI-compatible server (vLLM) looks at
windows of frames, zero-shot, in up to three passes.

Pass 1 sends windows of `LLM_FRAMES_PER_WINDOW` frames. Only when it finds nothing, pass 2 looks
closer: half-overlapping windows holding twice the frames (every frame sampled at
`LLM_TARGET_FPS`), with a prompt that asks for brief or uncertain incidents. Only when that finds
nothing too, pass 3 sends OpenCV keyframes of the whole video in one request. The model answers
with frame numbers; times always come from the frames' own timestamps. Requests run concurrently
(`LLM_MAX_CONCURRENCY` in flight, which vLLM batches); faults are retried, repaired or recorded
as failed windows. The wire protocol and prompts live in `core.prompts`.
"""

from __future__ import annotations

import base64
import email.utils
import math
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

import cv2
import httpx
import numpy as np

from core.config import Settings, mask_url
from core.engines.base import AnalysisEngine, RunContext, register
from core.errors import AnalysisFailed, EngineUnavailable
from core.keyframes import frames_at, select_keyframes
from core.pipeline import frame_span, merge_detections, repair_frame_range
from core.prompts import (
    DOMAIN_FRAMES,
    DOMAIN_MAX_TOKENS,
    DOMAIN_SCHEMA_NAME,
    PROMPT_VERSION,
    WINDOW_MAX_TOKENS,
    WINDOW_SCHEMA_NAME,
    UnusableAnswer,
    chat_body,
    domain_schema,
    domain_system_prompt,
    normalize_event_type,
    parse_domain_answer,
    parse_window_answer,
    window_schema,
    window_system_prompt,
    with_repair_request,
)
from core.schema import EngineOutcome, Event, WindowRecord
from core.video import iter_windows, window_count

PATCH = 28  # Qwen2-VL-class models: 14-pixel patches merged 2×2 into one token
JPEG_QUALITY = 85
_RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_BACKOFF_SEC = 30.0
_MAX_RETRY_AFTER_SEC = 120.0
_LOGGED_NOTES_PER_PASS = 25
# Progress bar shares: domain inference, then the passes (later passes only when earlier ones found nothing).
_PROGRESS = {0: (0.0, 0.05), 1: (0.05, 0.6), 2: (0.6, 0.95), 3: (0.95, 1.0)}


# --- Images ---------------------------------------------------------------------------------------


def image_size_for(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size frames are sent at: long side at most `max_side`, never more tokens than a 4:3 frame
    at that size, never enlarged beyond rounding, and both sides multiples of 28 so a Qwen2-VL-class
    server keeps the image as it is instead of resampling it again."""
    max_tokens = (max_side // PATCH) * ((max_side * 3 // 4) // PATCH)
    scale = min(1.0, max_side / max(width, height), math.sqrt(max_tokens * PATCH * PATCH / (width * height)))
    limit = max(PATCH, max_side // PATCH * PATCH)
    w = min(limit, max(PATCH, round(width * scale / PATCH) * PATCH))
    h = min(limit, max(PATCH, round(height * scale / PATCH) * PATCH))
    while (w // PATCH) * (h // PATCH) > max_tokens:
        if w >= h:
            w -= PATCH
        else:
            h -= PATCH
    return w, h


def qwen_image_tokens(width: int, height: int) -> int:
    """Tokens Qwen2.5-VL spends on one image of this size: its `smart_resize` (sides rounded to
    multiples of 28, pixels kept within 56×56 … 1280×28×28), one token per 28×28 patch, plus the
    vision-start and vision-end tokens."""
    min_pixels, max_pixels = 56 * 56, 1280 * PATCH * PATCH
    h = max(PATCH, round(height / PATCH) * PATCH)
    w = max(PATCH, round(width / PATCH) * PATCH)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(PATCH, math.floor(height / beta / PATCH) * PATCH)
        w = max(PATCH, math.floor(width / beta / PATCH) * PATCH)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / PATCH) * PATCH
        w = math.ceil(width * beta / PATCH) * PATCH
    return (h // PATCH) * (w // PATCH) + 2


def encode_frame(image: np.ndarray, size: tuple[int, int]) -> str:
    """A BGR frame as base64 JPEG at `size` (width, height)."""
    if (image.shape[1], image.shape[0]) != size:
        interpolation = cv2.INTER_AREA if size[0] < image.shape[1] else cv2.INTER_LINEAR
        image = cv2.resize(image, size, interpolation=interpolation)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise AnalysisFailed("could not encode a frame as JPEG")
    return base64.b64encode(data.tobytes()).decode("ascii")


# --- Talking to the server ------------------------------------------------------------------------


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


class RequestFailed(Exception):
    """A request that could not get an answer: retries exhausted, or refused for good (4xx)."""


class ServerUnreachable(RequestFailed):
    """Nothing listens at the server's address (connection refused, unknown host)."""


class ModelClient:
    """Chat completions and the model list, with bounded retries, exponential backoff and jitter.

    Thread-safe: one client serves all the engine's worker threads over one connection pool.
    """

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        self.base_url = settings.llm_base_url or ""
        self.shown_url = mask_url(self.base_url)  # what messages show: never a password inside the URL
        self.settings = settings
        self.stop = stop or threading.Event()
        headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
        connections = settings.llm_max_concurrency + 2
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.llm_timeout_sec, connect=min(settings.llm_timeout_sec, 10.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def list_models(self) -> list[str]:
        """Model ids the server serves; raises `ServerUnreachable` at once when nobody answers."""
        traffic = Traffic()
        response = self._send("GET", "/models", None, traffic, retry_connect=False)
        try:
            return [str(item["id"]) for item in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise RequestFailed(f"GET {self.shown_url}/models did not return a model list") from None

    def chat(self, body: dict, traffic: Traffic) -> Completion:
        """One chat completion (retried as needed); `traffic` is updated with what it cost."""
        response = self._send("POST", "/chat/completions", body, traffic, retry_connect=True)
        try:
            data = response.json()
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
            finish_reason = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise RequestFailed(
                f"the server's reply is not a chat completion: {response.text[:200]!r}"
            ) from None
        usage = data.get("usage") or {}
        traffic.usage.add(
            Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        )
        return Completion(content=content, finish_reason=finish_reason)

    def _send(self, method: str, path: str, body: dict | None, traffic: Traffic, *, retry_connect: bool):
        max_attempts = 1 + self.settings.llm_max_retries
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
                    raise ServerUnreachable(problem) from None
            except httpx.TimeoutException:
                limit = self.settings.llm_timeout_sec
                problem = f"no answer from the model server within LLM_TIMEOUT_SEC={limit:g} s"
            except httpx.TransportError as error:
                problem = f"the connection to the model server failed: {_reason(error)}"
            else:
                if response.status_code < 400:
                    return response
                where = f"{method} {self.shown_url}{path}"
                problem = f"HTTP {response.status_code} from {where}: {_server_message(response)}"
                if response.status_code not in _RETRY_STATUSES:
                    raise RequestFailed(problem)
                retry_after = _retry_after(response)
            if attempt == max_attempts:
                raise RequestFailed(problem + f" (gave up after {max_attempts} attempts)")
            delay = self._backoff(attempt, retry_after)
            source = "Retry-After" if retry_after is not None else "backoff"
            traffic.notes.append(f"{problem}; retry {attempt}/{max_attempts - 1} in {delay:.2f} s ({source})")
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
    except ValueError:
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


# --- Windows and passes ---------------------------------------------------------------------------


@dataclass
class WindowJob:
    """One request's worth of frames: their times and JPEGs, and the span of video they stand for."""

    pass_no: int
    index: int
    start: float
    end: float
    times: list[float]
    images: list[str]

    @property
    def label(self) -> str:
        return f"pass {self.pass_no} window {self.index + 1} ({self.start:.2f}-{self.end:.2f} s)"


@dataclass
class WindowReply:
    pass_no: int
    index: int
    start: float
    end: float
    description: str = ""
    detections: list[Event] = field(default_factory=list)
    failed: bool = False
    error: str | None = None
    reasks: int = 0
    traffic: Traffic = field(default_factory=Traffic)

    def record(self) -> WindowRecord:
        return WindowRecord(
            window_index=self.index,
            start_time=self.start,
            end_time=self.end,
            description=self.description if not self.failed else f"window failed: {self.error}",
            score=max((d.confidence for d in self.detections), default=0.0),
            pass_no=self.pass_no,
            failed=self.failed,
        )


@dataclass
class PassPlan:
    """How one windowed pass cuts the video."""

    pass_no: int
    window_sec: float
    overlap: float
    frames_per_window: int

    def window_count(self, duration: float, frame_count: int | None = None) -> int:
        """At most this many windows (windows follow frames: never more than the frames can open)."""
        return window_count(duration, self.window_sec, self.window_sec * (1 - self.overlap), frame_count)


def pass_plans(window_sec: float, target_fps: float, frames_per_window: int) -> tuple[PassPlan, PassPlan]:
    """Pass 1 as configured; pass 2 with twice the frames, every frame sampled at `target_fps`:
    windows just long enough to hold them (never longer than pass 1's), overlapping by half."""
    closer_sec = min(window_sec, 2 * frames_per_window / target_fps)
    return (
        PassPlan(1, window_sec, 0.0, frames_per_window),
        PassPlan(2, closer_sec, 0.5, 2 * frames_per_window),
    )


@register
class VLMEngine(AnalysisEngine):
    name = "vlm"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._model: str | None = None
        self._model_note: str | None = None

    # -- start-up

    def check(self) -> None:
        """Reach the server and settle the model id; `EngineUnavailable` names the URL when it cannot."""
        settings = self.settings
        if not settings.llm_base_url:
            raise EngineUnavailable(
                "the VLM engine needs LLM_BASE_URL, the model server's address (e.g. http://localhost:8000/v1)"
            )
        with ModelClient(settings) as client:
            try:
                models = client.list_models()
            except ServerUnreachable as error:
                raise EngineUnavailable(str(error)) from None
            except RequestFailed as error:
                if not settings.llm_model:
                    raise EngineUnavailable(
                        f"the model server at {client.shown_url} did not list its models: {error}"
                    ) from None
                models = []
                self._model_note = f"could not list the server's models ({error}); using LLM_MODEL as given"
        if settings.llm_model:
            self._model = settings.llm_model
            if models and settings.llm_model not in models:
                listed = ", ".join(models)
                self._model_note = (
                    f"LLM_MODEL={settings.llm_model} is not among the models the server lists ({listed})"
                )
        elif models:
            self._model = models[0]
        else:
            raise EngineUnavailable(f"the model server at {mask_url(settings.llm_base_url)} serves no model")

    def versions(self) -> tuple[str, str]:
        if self._model is None:
            self.check()
        assert self._model is not None
        return self._model, PROMPT_VERSION

    # -- the analysis

    def analyze(self, ctx: RunContext) -> EngineOutcome:
        model, _ = self.versions()
        ctx.set_versions(*self.versions())
        settings, params, video = self.settings, ctx.params, ctx.video
        if self._model_note:
            ctx.log("model", self._model_note, "WARNING")
        size = image_size_for(video.width, video.height, settings.llm_image_max_side)
        plans = pass_plans(params.window_sec, params.target_fps, params.frames_per_window)
        tokens = qwen_image_tokens(*size)
        ctx.log(
            "model",
            f"model {model} at {mask_url(settings.llm_base_url)}; frames sent at {size[0]}x{size[1]} "
            f"(≈{tokens} image tokens each as Qwen2.5-VL counts them: "
            f"≈{tokens * params.frames_per_window} per pass-1 window); "
            f"up to {settings.llm_max_concurrency} requests in flight",
        )
        stop = threading.Event()
        client = ModelClient(settings, stop=stop)
        run = _Run(ctx, client, model, size, stop)
        try:
            domain, reason = run.domain()
            windows: list[WindowRecord] = []
            events: list[Event] = []
            passes_run: list[int] = []
            for plan in plans:
                passes_run.append(plan.pass_no)
                replies, events = run.windowed_pass(plan, domain)
                windows += [reply.record() for reply in replies]
                if events:
                    break
            else:
                passes_run.append(3)
                replies, events = run.keyframe_pass(domain)
                windows += [reply.record() for reply in replies]
        finally:
            stop.set()
            client.close()
        return EngineOutcome(
            engine="vlm",
            model_version=model,
            prompt_version=PROMPT_VERSION,
            inferred_domain=domain,
            domain_reason=reason,
            passes_run=passes_run,
            windows=windows,
            events=events,
        )


class _Run:
    """One analysis in progress: the client, the model, the frame size, and the per-pass bookkeeping."""

    def __init__(
        self, ctx: RunContext, client: ModelClient, model: str, size: tuple[int, int], stop: threading.Event
    ) -> None:
        self.ctx, self.client, self.model, self.size, self.stop = ctx, client, model, size, stop
        self.settings = ctx.settings
        self.duration = ctx.video.duration

    # -- domain inference

    def domain(self) -> tuple[str | None, str]:
        """The requested domain, or the one the model infers from frames spread over the video.

        When inference fails the analysis goes on with every domain's event types."""
        requested = self.ctx.params.domain
        if requested != "auto":
            self.ctx.log("domain", f"domain {requested}, as requested")
            return requested, "chosen by the user"
        self._progress(0, 0.0, "inferring the domain")
        started = time.monotonic()
        frames = frames_at(
            self.ctx.video_path, [(i + 0.5) * self.duration / DOMAIN_FRAMES for i in range(DOMAIN_FRAMES)]
        )
        traffic = Traffic()
        body = chat_body(
            self.model,
            domain_system_prompt(self.settings.analysis_language),
            [(f.time, encode_frame(f.image, self.size)) for f in frames],
            DOMAIN_SCHEMA_NAME,
            domain_schema(),
            DOMAIN_MAX_TOKENS,
        )
        try:
            completion = self.client.chat(body, traffic)
            try:
                answer = parse_domain_answer(completion.content)
            except UnusableAnswer as error:
                traffic.notes.append(f"domain inference: {error}; asking once more")
                answer = parse_domain_answer(
                    self.client.chat(with_repair_request(body, completion.content), traffic).content
                )
        except (RequestFailed, UnusableAnswer) as error:
            self._log_notes("domain", traffic.notes)
            reason = f"domain inference failed ({error}); every domain's event types are used"
            self.ctx.log("domain", reason, "WARNING")
            return None, reason
        self._log_notes("domain", traffic.notes)
        reason = answer.reason.strip() or "(the model gave no reason)"
        self.ctx.log(
            "domain",
            f"domain {answer.domain}, inferred from {len(frames)} frames in {time.monotonic() - started:.1f} s "
            f"({traffic.usage.prompt_tokens} prompt + {traffic.usage.completion_tokens} completion tokens): "
            f"{reason}",
        )
        self._progress(0, 1.0, "domain inferred")
        return answer.domain, reason

    # -- passes

    def windowed_pass(self, plan: PassPlan, domain: str | None) -> tuple[list[WindowReply], list[Event]]:
        params = self.ctx.params
        started = time.monotonic()
        jobs = self._window_jobs(plan)
        replies = self._run_jobs(
            plan.pass_no,
            jobs,
            plan.window_count(self.duration, self.ctx.video.frame_count),
            domain,
            fail_limit=True,
        )
        detections = [d for reply in replies for d in reply.detections]
        events = merge_detections(detections, gap=plan.window_sec / 2)
        layout = (
            f"{plan.window_sec:g} s windows, overlap {plan.overlap:.0%}, "
            f"up to {plan.frames_per_window} frames at {params.target_fps:g} fps"
        )
        self._log_pass(plan.pass_no, replies, detections, events, layout, started)
        return replies, events

    def keyframe_pass(self, domain: str | None) -> tuple[list[WindowReply], list[Event]]:
        settings, params = self.settings, self.ctx.params
        started = time.monotonic()
        self._progress(3, 0.0, "pass 3: choosing keyframes")
        keyframes = select_keyframes(
            self.ctx.video_path,
            duration=self.duration,
            target_fps=params.target_fps,
            max_frames=settings.llm_pass3_max_frames,
            max_side=max(self.size),
        )
        reasons = {}
        for keyframe in keyframes:
            reasons[keyframe.reason] = reasons.get(keyframe.reason, 0) + 1
        self.ctx.log(
            "pass 3",
            f"{len(keyframes)} keyframes: "
            + ", ".join(f"{count} {reason}" for reason, count in reasons.items()),
        )
        if not keyframes:
            return [], []
        job = WindowJob(
            pass_no=3,
            index=0,
            start=0.0,
            end=self.duration,
            times=[k.frame.time for k in keyframes],
            images=[encode_frame(k.frame.image, self.size) for k in keyframes],
        )
        replies = self._run_jobs(3, [job], 1, domain, fail_limit=False)
        events = merge_detections([d for reply in replies for d in reply.detections], gap=0.0)
        self._log_pass(3, replies, replies[0].detections, events, "keyframes in one request", started)
        return replies, events

    def _window_jobs(self, plan: PassPlan) -> Iterator[WindowJob]:
        params = self.ctx.params
        # Pass 2 sends every sampled frame; its frame count only caps variable-frame-rate surprises.
        for window in iter_windows(
            self.ctx.video_path,
            duration=self.duration,
            window_sec=plan.window_sec,
            target_fps=params.target_fps,
            frames_per_window=plan.frames_per_window,
            overlap=plan.overlap,
            max_side=max(self.size),  # the decoder shrinks; encode_frame only fits the exact size
        ):
            if not window.frames:
                continue
            yield WindowJob(
                pass_no=plan.pass_no,
                index=window.index,
                start=window.start,
                end=window.end,
                times=[f.time for f in window.frames],
                images=[encode_frame(f.image, self.size) for f in window.frames],
            )

    def _run_jobs(
        self, pass_no: int, jobs: Iterable[WindowJob], total: int, domain: str | None, *, fail_limit: bool
    ) -> list[WindowReply]:
        """Ask about every job with up to LLM_MAX_CONCURRENCY requests in flight; replies in time order.

        With `fail_limit`, raises `AnalysisFailed` as soon as more than LLM_MAX_FAILED_WINDOWS_PCT of
        the pass's windows have failed (the rest are cancelled)."""
        concurrency = self.settings.llm_max_concurrency
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"sigma-vlm-p{pass_no}")
        pending: set[Future] = set()
        replies: list[WindowReply] = []
        budget = _NoteBudget(self.ctx, f"pass {pass_no}")
        failed = 0
        self._progress(pass_no, 0.0, f"pass {pass_no}: 0/{total} windows", pass_no, 0, total)

        def collect(done: Iterable[Future]) -> None:
            nonlocal failed
            for future in done:
                reply: WindowReply = future.result()
                replies.append(reply)
                budget.log(reply.traffic.notes)
                if reply.failed:
                    failed += 1
                    budget.log([f"pass {pass_no} window {reply.index + 1} failed: {reply.error}"])
                    if fail_limit and failed * 100 > self.settings.llm_max_failed_windows_pct * total:
                        raise AnalysisFailed(
                            f"{failed} of {total} windows of pass {pass_no} failed, more than "
                            f"LLM_MAX_FAILED_WINDOWS_PCT={self.settings.llm_max_failed_windows_pct:g}%; "
                            f"last error: {reply.error}"
                        )
                count = len(replies)
                self._progress(
                    pass_no,
                    count / max(total, 1),
                    f"pass {pass_no}: {count}/{total} windows",
                    pass_no,
                    count,
                    total,
                )

        try:
            for job in jobs:
                pending.add(pool.submit(self._ask_window, job, domain))
                done = {future for future in pending if future.done()}
                if len(pending) - len(done) >= 2 * concurrency:
                    more, _ = wait(pending - done, return_when=FIRST_COMPLETED)
                    done |= more
                pending -= done
                collect(done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
        except BaseException:
            self.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            budget.flush()
        pool.shutdown(wait=True)
        return sorted(replies, key=lambda reply: reply.index)

    def _ask_window(self, job: WindowJob, domain: str | None) -> WindowReply:
        """One window: ask, validate, repair; never raises (a failure becomes a failed window)."""
        reply = WindowReply(job.pass_no, job.index, job.start, job.end)
        traffic = reply.traffic
        body = chat_body(
            self.model,
            window_system_prompt(domain, job.pass_no, self.settings.analysis_language),
            list(zip(job.times, job.images)),
            WINDOW_SCHEMA_NAME,
            window_schema(len(job.times)),
            WINDOW_MAX_TOKENS,
        )
        try:
            completion = self.client.chat(body, traffic)
            try:
                answer = parse_window_answer(completion.content)
            except UnusableAnswer as error:
                cut = " (cut off at max_tokens)" if completion.finish_reason == "length" else ""
                traffic.notes.append(f"{job.label}: {error}{cut}; asking once more")
                reply.reasks += 1
                answer = parse_window_answer(
                    self.client.chat(with_repair_request(body, completion.content), traffic).content
                )
        except (RequestFailed, UnusableAnswer) as error:
            reply.failed, reply.error = True, str(error)
            return reply
        except Exception as error:  # noqa: BLE001  (a bug in one window must not hang or kill the pass)
            reply.failed, reply.error = True, f"internal error: {type(error).__name__}: {error}"
            return reply
        reply.description = answer.description
        traffic.notes += [f"{job.label}: {problem}" for problem in answer.problems]
        reply.detections = self._detections(job, answer.events, domain, traffic.notes)
        return reply

    def _detections(self, job: WindowJob, events, domain: str | None, notes: list[str]) -> list[Event]:
        """The model's events with times from the frames' timestamps (never the model's)."""
        detections = []
        count = len(job.times)
        for event in events:
            repaired = repair_frame_range(event.first_frame, event.last_frame, count)
            if repaired is None:
                notes.append(
                    f"{job.label}: {event.event_type} dropped: frames {event.first_frame}..{event.last_frame} "
                    f"lie outside 1..{count}"
                )
                continue
            first, last, note = repaired
            if note:
                notes.append(f"{job.label}: {event.event_type} repaired: {note}")
            event_type, replaced = normalize_event_type(event.event_type, domain)
            description = event.description.strip()
            if replaced:
                description = (
                    f"{event.event_type.strip()}: {description}" if description else event.event_type.strip()
                )
            start, end = frame_span(job.times, first, last, fallback_step=1.0 / self.ctx.params.target_fps)
            start = min(max(start, 0.0), self.duration)
            detections.append(
                Event(
                    event_type=event_type,
                    start_time=start,
                    end_time=min(max(end, start), self.duration),
                    confidence=event.confidence,
                    description=description,
                    pass_no=job.pass_no,
                )
            )
        return detections

    # -- reporting

    def _progress(
        self,
        pass_no: int,
        fraction: float,
        stage: str,
        shown_pass: int | None = None,
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        low, high = _PROGRESS[pass_no]
        self.ctx.progress(
            low + (high - low) * fraction, stage, pass_no=shown_pass, windows_done=done, windows_total=total
        )

    def _log_notes(self, step: str, notes: list[str]) -> None:
        for note in notes:
            self.ctx.log(step, note, "WARNING")

    def _log_pass(
        self, pass_no: int, replies: list[WindowReply], detections, events, layout: str, started: float
    ) -> None:
        traffic = Traffic()
        for reply in replies:
            traffic.add(reply.traffic)
        failed = sum(reply.failed for reply in replies)
        reasks = sum(reply.reasks for reply in replies)
        seconds = time.monotonic() - started
        self.ctx.log(
            f"pass {pass_no}",
            f"pass {pass_no} ({layout}): {len(replies)} windows, {traffic.requests} requests "
            f"({traffic.retries} retries, {reasks} re-asked), {traffic.usage.prompt_tokens} prompt + "
            f"{traffic.usage.completion_tokens} completion tokens, {seconds:.1f} s; "
            f"{len(detections)} detections "
            f"→ {len(events)} events; {failed} failed windows",
            "WARNING" if failed else "INFO",
        )


class _NoteBudget:
    """Logs a pass's warnings, at most a fixed number of rows, then one line counting the rest."""

    def __init__(self, ctx: RunContext, step: str) -> None:
        self.ctx, self.step = ctx, step
        self.logged = self.skipped = 0

    def log(self, notes: list[str]) -> None:
        for note in notes:
            if self.logged < _LOGGED_NOTES_PER_PASS:
                self.ctx.log(self.step, note, "WARNING")
                self.logged += 1
            else:
                self.skipped += 1

    def flush(self) -> None:
        if self.skipped:
            self.ctx.log(self.step, f"{self.skipped} more warnings like the above were not logged", "WARNING")
