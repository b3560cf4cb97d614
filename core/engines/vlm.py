"""The VLM engine: a vision-language model behind an OpenAI-compatible server (vLLM) looks at
windows of frames, zero-shot, in up to three passes.

Pass 1 sends windows of `LLM_FRAMES_PER_WINDOW` frames. Only when it finds nothing, pass 2 looks
closer: half-overlapping windows holding twice the frames (every frame sampled at
`LLM_TARGET_FPS`), with a prompt that asks for brief or uncertain incidents. Only when that finds
nothing too, pass 3 sends OpenCV keyframes of the whole video in one request. The model answers
with frame numbers; times always come from the frames' own timestamps. Requests run concurrently
(`LLM_MAX_CONCURRENCY` in flight, which vLLM batches); faults are retried, repaired or recorded
as failed windows. The wire protocol and prompts live in `core.prompts`, the HTTP client in
`core.llm`.

The analyst's concerns and site context (`AnalysisParams`) enter every prompt. With
`LLM_SKIP_STILL_WINDOWS`, pass 1 does not send windows whose frames change no more than the video's
own noise (measured on the frames already decoded). After the pass that found events, each of the
kept events gets one closer look (`LLM_REFINE`): every frame sampled from a window before it to a
window after it, asking for the first and last frame that show it.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import cv2
import numpy as np

from core.config import Settings, mask_url
from core.engines.base import AnalysisEngine, RunContext
from core.engines.local import ChangeMeter
from core.errors import AnalysisFailed, EngineUnavailable
from core.i18n import say, text
from core.keyframes import frames_at, select_keyframes
from core.llm import ModelClient, RequestFailed, Traffic, chat_request, choose_model
from core.pipeline import cap_highlights, frame_span, merge_detections, repair_frame_range
from core.prompts import (
    DOMAIN_FRAMES,
    DOMAIN_MAX_TOKENS,
    DOMAIN_SCHEMA_NAME,
    PROMPT_VERSION,
    REFINE_MAX_TOKENS,
    REFINE_SCHEMA_NAME,
    TAXONOMY,
    WINDOW_MAX_TOKENS,
    WINDOW_SCHEMA_NAME,
    UnusableAnswer,
    chat_body,
    domain_schema,
    domain_system_prompt,
    normalize_event_type,
    parse_domain_answer,
    parse_refine_answer,
    parse_window_answer,
    prompt_fingerprint,
    refine_content,
    refine_schema,
    refine_system_prompt,
    window_schema,
    window_system_prompt,
    with_repair_request,
)
from core.schema import AnalysisParams, EngineOutcome, Event, WindowRecord
from core.video import Frame, frames_between, iter_windows, spread, window_count

Answer = TypeVar("Answer")  # what a parser makes of the model's reply

PATCH = 28  # Qwen2-VL-class models: 14-pixel patches merged 2×2 into one token
JPEG_QUALITY = 85
_LOGGED_NOTES_PER_PASS = 25
# Progress bar shares: domain inference, then the passes (later passes only when earlier ones found nothing).
# Refinement runs from the end of the pass that found events to the end of the bar.
_PROGRESS = {0: (0.0, 0.05), 1: (0.05, 0.6), 2: (0.6, 0.95), 3: (0.95, 1.0)}
# A pass-1 window is still when no pair of its frames (the previous window's last one included) has
# more than this fraction of the frame changed beyond that pair's own noise, as the local engine
# measures change (core.engines.local.ChangeMeter) on grey copies at most STILL_MEASURE_SIDE pixels.
# Chosen on random generated clips that the tests do not use (bench/RESULTS.md, section vlm-skip).
STILL_MAX_CHANGE = 0.005
STILL_MEASURE_SIDE = 160


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


class StillnessMeter:
    """How much consecutive frames change beyond the video's own noise: the local engine's change
    measure (lighting drift compensated, each pair thresholded above its own noise level) on small
    grey copies of frames already decoded for the model. Carries the last frame across windows, so
    a change between two windows counts for the second."""

    def __init__(self) -> None:
        self._meter: ChangeMeter | None = None

    def largest_change(self, images: list[np.ndarray]) -> float:
        """The largest changed fraction between consecutive images (1.0 for the very first)."""
        largest = 0.0
        for image in images:
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
            height, width = gray.shape
            scale = min(1.0, STILL_MEASURE_SIDE / max(height, width))
            if scale < 1.0:
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
            if self._meter is None:
                self._meter = ChangeMeter((gray.shape[1], gray.shape[0]))
            measured = self._meter(gray)
            largest = max(largest, 1.0 if measured is None else measured[0])
        return largest


# --- Windows and passes ---------------------------------------------------------------------------


@dataclass
class WindowJob:
    """One request's worth of frames: their times and JPEGs, and the span of video they stand for.
    A job with `skipped` set is not sent: it says why (pass 1's still windows)."""

    pass_no: int
    index: int
    start: float
    end: float
    times: list[float]
    images: list[str]
    skipped: str | None = None

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
    skipped: bool = False
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
            skipped=self.skipped,
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


def refine_spans(
    start: float, end: float, *, margin: float, duration: float, target_fps: float, max_frames: int
) -> list[tuple[float, float, float]]:
    """What a closer look at an event [start, end] decodes: (from, to, fps) spans.

    Every frame sampled at `target_fps` from `margin` (a window) before the event to `margin` after
    it; when that is more than `max_frames`, the frames around its two edges matter (the question is
    where it begins and ends): a span around each edge, sampled more sparsely if still too many."""
    first, last = max(0.0, start - margin), min(duration, end + margin)
    spans = [(first, last)]
    if last - first > 2 * (2 * margin) and (last - first) * target_fps > max_frames:
        spans = [(first, min(duration, start + margin)), (max(0.0, end - margin), last)]
    share = max_frames / len(spans)
    return [(a, b, min(target_fps, share / max(b - a, 1e-6))) for a, b in spans]


@dataclass
class _Refined:
    """One closer look: the event (with refined times, or as it was), what it cost, and what happened."""

    event: Event
    refined: bool = False
    reasks: int = 0
    traffic: Traffic = field(default_factory=Traffic)


class VLMEngine(AnalysisEngine):
    name = "vlm"
    code_version = PROMPT_VERSION

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
        try:
            with ModelClient(settings) as client:
                choice = choose_model(client)
        except RequestFailed as error:
            raise EngineUnavailable(str(error)) from None
        self._model, self._model_note = choice.model, choice.note

    def versions(self) -> tuple[str, str]:
        if self._model is None:
            self.check()
        assert self._model is not None
        return self._model, PROMPT_VERSION

    def versions_for(self, params: AnalysisParams) -> tuple[str, str]:
        """The model, and the prompt version with the hash of this run's concerns and site context."""
        model, _ = self.versions()
        return model, prompt_fingerprint(params.concerns, params.site_context)

    # -- the analysis

    def analyze(self, ctx: RunContext) -> EngineOutcome:
        model, fingerprint = self.versions_for(ctx.params)
        ctx.set_versions(model, fingerprint)
        settings, params, video = self.settings, ctx.params, ctx.video
        if self._model_note:
            ctx.log("model", self._model_note, "WARNING")
        if params.concerns or params.site_context:
            codes = ", ".join(c.code for c in params.concerns) or say("log.none")
            context = (
                say("log.vlm_context_chars", n=len(params.site_context))
                if params.site_context
                else say("log.none")
            )
            ctx.log(
                "prompt",
                say(
                    "log.vlm_prompt",
                    fingerprint=fingerprint,
                    version=PROMPT_VERSION,
                    codes=codes,
                    context=context,
                ),
            )
        size = image_size_for(video.width, video.height, settings.llm_image_max_side)
        plans = pass_plans(params.window_sec, params.target_fps, params.frames_per_window)
        tokens = qwen_image_tokens(*size)
        ctx.log(
            "model",
            say(
                "log.vlm_model",
                model=model,
                url=mask_url(settings.llm_base_url),
                width=size[0],
                height=size[1],
                tokens=tokens,
                window_tokens=tokens * params.frames_per_window,
                concurrency=settings.llm_max_concurrency,
            ),
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
            if events and settings.llm_refine:
                events = run.refine(events, domain, found_by=passes_run[-1])
            elif events:
                ctx.log("refine", say("log.vlm_refine_off"))
        finally:
            stop.set()
            client.close()
        return EngineOutcome(
            engine="vlm",
            model_version=model,
            prompt_version=fingerprint,
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
        self.concerns, self.site_context = ctx.params.concerns, ctx.params.site_context
        self._system_prompts: dict[tuple, str] = {}

    def _system_prompt(self, domain: str | None, pass_no: int) -> str:
        """The window prompt of a pass, made once: identical across the pass's requests, so the model
        server's prefix cache serves every window after the first."""
        key = (domain, pass_no)
        if key not in self._system_prompts:
            self._system_prompts[key] = window_system_prompt(
                domain, pass_no, self.settings.analysis_language, self.concerns, self.site_context
            )
        return self._system_prompts[key]

    # -- domain inference

    def domain(self) -> tuple[str | None, str]:
        """The requested domain, or the one the model infers from frames spread over the video.

        When inference fails the analysis goes on with every domain's event types."""
        requested = self.ctx.params.domain
        if requested != "auto":
            self.ctx.log("domain", say("log.vlm_domain_requested", domain=requested))
            return requested, text("en", "reason.domain_chosen")
        self._progress(0, 0.0, text("en", "stage.domain"))
        started = time.monotonic()
        frames = frames_at(
            self.ctx.video_path, [(i + 0.5) * self.duration / DOMAIN_FRAMES for i in range(DOMAIN_FRAMES)]
        )
        traffic = Traffic()
        body = chat_body(
            self.model,
            domain_system_prompt(self.settings.analysis_language, self.concerns, self.site_context),
            [(f.time, encode_frame(f.image, self.size)) for f in frames],
            DOMAIN_SCHEMA_NAME,
            domain_schema(),
            DOMAIN_MAX_TOKENS,
        )
        try:
            answer, _ = self._ask(body, traffic, parse_domain_answer, "domain inference")
        except (RequestFailed, UnusableAnswer) as error:
            self._log_notes("domain", traffic.notes)
            reason = say("reason.domain_failed", error=str(error))
            self.ctx.log("domain", reason, "WARNING")
            return None, reason.text("en")
        self._log_notes("domain", traffic.notes)
        reason = answer.reason.strip() or text("en", "reason.domain_none")
        inferred = say(
            "log.vlm_domain_inferred",
            domain=answer.domain,
            frames=len(frames),
            seconds=time.monotonic() - started,
            prompt=traffic.usage.prompt_tokens,
            completion=traffic.usage.completion_tokens,
            reason=answer.reason.strip() or say("reason.domain_none"),
        )
        self.ctx.log("domain", inferred)
        self._progress(0, 1.0, text("en", "stage.domain_done"))
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
        self._progress(3, 0.0, text("en", "stage.keyframes"))
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
        counted = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        self.ctx.log("pass 3", say("log.vlm_keyframes", n=len(keyframes), reasons=counted))
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
        stillness = StillnessMeter() if plan.pass_no == 1 and self.settings.llm_skip_still_windows else None
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
            if stillness is not None:
                change = stillness.largest_change([f.image for f in window.frames])
                if change <= STILL_MAX_CHANGE:
                    yield WindowJob(
                        pass_no=plan.pass_no,
                        index=window.index,
                        start=window.start,
                        end=window.end,
                        times=[f.time for f in window.frames],
                        images=[],
                        skipped=(
                            f"skipped: still (at most {change:.2%} of the frame changed beyond the video's "
                            "noise between frames)"
                        ),
                    )
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
        pending: set[Future] = set()
        replies: list[WindowReply] = []
        failed = skipped = 0
        self._progress(
            pass_no, 0.0, text("en", "stage.pass", pass_no=pass_no, done=0, total=total), pass_no, 0, total
        )

        def collect(done: Iterable[Future | WindowReply]) -> None:
            nonlocal failed
            for future in done:
                reply: WindowReply = future if isinstance(future, WindowReply) else future.result()
                replies.append(reply)
                budget.log(reply.traffic.notes)
                if reply.failed:
                    failed += 1
                    budget.log([f"pass {pass_no} window {reply.index + 1} failed: {reply.error}"])
                    sent = total - skipped  # at least the windows this pass sends (skipping only lowers it)
                    if fail_limit and failed * 100 > self.settings.llm_max_failed_windows_pct * sent:
                        raise AnalysisFailed(
                            f"{failed} of {sent} windows of pass {pass_no} failed, more than "
                            f"LLM_MAX_FAILED_WINDOWS_PCT={self.settings.llm_max_failed_windows_pct:g}%; "
                            f"last error: {reply.error}"
                        )
                count = len(replies)
                self._progress(
                    pass_no,
                    count / max(total, 1),
                    text("en", "stage.pass", pass_no=pass_no, done=count, total=total),
                    pass_no,
                    count,
                    total,
                )

        with self._requests(f"p{pass_no}", f"pass {pass_no}") as (pool, budget):
            for job in jobs:
                if job.skipped:
                    skipped += 1
                    collect(
                        [WindowReply(job.pass_no, job.index, job.start, job.end, job.skipped, skipped=True)]
                    )
                    continue
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
        return sorted(replies, key=lambda reply: reply.index)

    @contextmanager
    def _requests(self, name: str, notes_label: str) -> Iterator[tuple[ThreadPoolExecutor, _NoteBudget]]:
        """A pool for one step's requests and the budget of its log notes. On any failure (a window
        limit, a cancel) the engine stops and the queued requests are dropped, not waited for."""
        pool = ThreadPoolExecutor(
            max_workers=self.settings.llm_max_concurrency, thread_name_prefix=f"sigma-vlm-{name}"
        )
        budget = _NoteBudget(self.ctx, notes_label)
        try:
            yield pool, budget
        except BaseException:
            self.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            budget.flush()
        pool.shutdown(wait=True)

    def _ask(
        self, body: dict, traffic: Traffic, parse: Callable[[str], Answer], label: str
    ) -> tuple[Answer, bool]:
        """Ask, and read the answer with `parse`; an unusable answer is noted in `traffic` and asked
        once more with the broken answer and what was wrong with it. Returns the answer and whether it
        had to be asked again; `RequestFailed` or `UnusableAnswer` when the second try fails too."""
        completion = self.client.chat(body, traffic)
        try:
            return parse(completion.content), False
        except UnusableAnswer as error:
            cut = " (cut off at max_tokens)" if completion.finish_reason == "length" else ""
            traffic.notes.append(f"{label}: {error}{cut}; asking once more")
            repaired = self.client.chat(with_repair_request(body, completion.content), traffic)
            return parse(repaired.content), True

    def _ask_window(self, job: WindowJob, domain: str | None) -> WindowReply:
        """One window: ask, validate, repair; never raises (a failure becomes a failed window)."""
        reply = WindowReply(job.pass_no, job.index, job.start, job.end)
        traffic = reply.traffic
        body = chat_body(
            self.model,
            self._system_prompt(domain, job.pass_no),
            list(zip(job.times, job.images)),
            WINDOW_SCHEMA_NAME,
            window_schema(len(job.times)),
            WINDOW_MAX_TOKENS,
        )
        try:
            answer, reasked = self._ask(body, traffic, parse_window_answer, job.label)
            reply.reasks += reasked
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
            event_type, replaced = normalize_event_type(event.event_type, domain, self.concerns)
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
                    severity=event.severity,
                    description=description,
                    pass_no=job.pass_no,
                )
            )
        return detections

    # -- refinement

    def refine(self, events: list[Event], domain: str | None, *, found_by: int) -> list[Event]:
        """A closer look at each event the run keeps (at most `max_highlights` requests): every frame
        sampled from a window before it to a window after it, asking for the first and last frame that
        show it. A failed or unusable look keeps the event's first-look times, with a note."""
        params = self.ctx.params
        started = time.monotonic()
        chosen = cap_highlights(events, params.max_highlights)
        rest = [event for event in events if all(event is not kept for kept in chosen)]
        low = _PROGRESS[found_by][1]
        total = len(chosen)
        self.ctx.progress(low, text("en", "stage.refine", done=0, total=total))
        system = refine_system_prompt(domain, self.concerns, self.site_context)
        results: list[_Refined] = []
        with self._requests("refine", "refine") as (pool, budget):
            futures = []
            for event in chosen:  # decoding here, one event at a time; the requests run in the pool
                futures.append(pool.submit(self._refine_one, event, self._refine_frames(event), system))
            for future in futures:
                results.append(future.result())
                budget.log(results[-1].traffic.notes)
                done = len(results)
                self.ctx.progress(
                    low + (1.0 - low) * done / max(total, 1),
                    text("en", "stage.refine", done=done, total=total),
                )
        traffic = Traffic()
        for result in results:
            traffic.add(result.traffic)
        moved = [
            (abs(r.event.start_time - e.start_time), abs(r.event.end_time - e.end_time))
            for r, e in zip(results, chosen)
            if r.refined
        ]
        shifts = (
            f"; start moved by {np.median([m[0] for m in moved]):.2f} s and end by "
            f"{np.median([m[1] for m in moved]):.2f} s (medians)"
            if moved
            else ""
        )
        self.ctx.log(
            "refine",
            f"refinement: {total} of {len(events)} events looked at closer (at most {params.max_highlights}), "
            f"{traffic.requests} requests ({traffic.retries} retries, {sum(r.reasks for r in results)} "
            f"re-asked), {traffic.usage.prompt_tokens} prompt + {traffic.usage.completion_tokens} completion "
            f"tokens, {time.monotonic() - started:.1f} s; {len(moved)} refined, {total - len(moved)} kept "
            f"their first-look times{shifts}",
        )
        return merge_detections([r.event for r in results] + rest, gap=0.0)

    def _refine_frames(self, event: Event) -> list[Frame]:
        params = self.ctx.params
        frames: list[Frame] = []
        for first, last, fps in refine_spans(
            event.start_time,
            event.end_time,
            margin=params.window_sec,
            duration=self.duration,
            target_fps=params.target_fps,
            max_frames=self.settings.llm_refine_max_frames,
        ):
            taken = frames_between(self.ctx.video_path, first, last, target_fps=fps, max_side=max(self.size))
            frames += [f for f in taken if not frames or f.time > frames[-1].time]
        return spread(frames, self.settings.llm_refine_max_frames)

    def _refine_one(self, event: Event, frames: list[Frame], system: str) -> _Refined:
        """One closer look; never raises (a failure keeps the event as the first look found it)."""
        result = _Refined(event)
        notes = result.traffic.notes
        what = f"refine {event.event_type} {event.highlight}"
        if len(frames) < 2:
            notes.append(f"{what}: too few frames around it to look closer; first-look times kept")
            return result
        times = [f.time for f in frames]
        content = refine_content(
            self._event_label(event), [(f.time, encode_frame(f.image, self.size)) for f in frames]
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": content}]
        body = chat_request(
            self.model, messages, REFINE_SCHEMA_NAME, refine_schema(len(frames)), REFINE_MAX_TOKENS
        )
        try:
            answer, reasked = self._ask(body, result.traffic, parse_refine_answer, what)
            result.reasks += reasked
        except (RequestFailed, UnusableAnswer) as error:
            notes.append(f"{what}: {error}; first-look times kept")
            return result
        except Exception as error:  # noqa: BLE001  (one bad look must not lose the event)
            notes.append(f"{what}: internal error {type(error).__name__}: {error}; first-look times kept")
            return result
        count = len(frames)
        first, last = answer.first_frame, answer.last_frame
        if not answer.visible:
            notes.append(f"{what}: the closer look did not see it; first-look times kept")
            return result
        if not (1 <= first <= count and 1 <= last <= count):
            notes.append(
                f"{what}: refined frames {first}..{last} lie outside 1..{count}; dropped, first-look times kept"
            )
            return result
        if first > last:
            first, last = last, first
            notes.append(f"{what}: first and last frame swapped")
        start, end = frame_span(times, first, last, fallback_step=1.0 / self.ctx.params.target_fps)
        start = min(max(start, 0.0), self.duration)
        result.event = event.model_copy(
            update={"start_time": start, "end_time": min(max(end, start), self.duration)}
        )
        result.refined = True
        return result

    def _event_label(self, event: Event) -> str:
        """The event as the closer look names it: type, its definition, and what the first look saw."""
        definitions = {c.code: c.definition for c in self.concerns}
        for types in TAXONOMY.values():
            definitions.update(types)
        definition = definitions.get(event.event_type)
        label = event.event_type + (f" ({definition})" if definition else "")
        return f"{label}: {event.description}" if event.description else label

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
        skipped = sum(reply.skipped for reply in replies)
        summary = say(
            "log.vlm_pass",
            pass_no=pass_no,
            layout=layout,
            windows=len(replies),
            still=say("log.vlm_still", n=skipped) if skipped else "",
            requests=traffic.requests,
            retries=traffic.retries,
            reasks=reasks,
            prompt=traffic.usage.prompt_tokens,
            completion=traffic.usage.completion_tokens,
            seconds=time.monotonic() - started,
            detections=len(detections),
            events=len(events),
            failed=failed,
        )
        self.ctx.log(f"pass {pass_no}", summary, "WARNING" if failed else "INFO")


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
            self.ctx.log(self.step, say("log.vlm_skipped", n=self.skipped), "WARNING")
