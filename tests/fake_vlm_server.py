"""A model server on loopback that speaks Sigma's wire protocol, for tests and benchmarks.

It is a real HTTP server (threads, keep-alive): `GET /v1/models` and `POST /v1/chat/completions`
with image parts and `response_format`. It checks every request against the protocol (400 with the
reason otherwise), decodes the JPEG frames and "sees" the pure-red objects that `core.samples`
draws for scripted events: a window answer reports each run of frames where red is visible, with
the first event type named in the system prompt and severity 2. Domain requests answer `domain`.

A scripted concern: built with `concern="CODE"`, it also sees pure-blue objects (`concern_clip`
draws them) and reports them as CODE with severity 1, but only when the system prompt lists CODE
among the event types (as an analyst's concern does): without the concern, blue is nothing.
Refinement requests (`sigma_refine`) are answered with the first and last frame in which the named
event's colour is visible.

Rules make it misbehave on purpose, for a number of requests or for good: HTTP 500, 429 with
Retry-After, 400, slow answers, prose around the JSON, code fences, broken JSON, schema
violations, frame numbers out of range (refinement too), unknown event types, severities out of
range, or a blind model that sees nothing.
"""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import cv2
import numpy as np

_LABEL = re.compile(r"^Frame (\d+), t=(\d+\.\d\d) s$")
_DATA_URL = "data:image/jpeg;base64,"
BLUE_BGR = (255, 0, 0)  # the scripted concern's object
BEHAVIOURS = (
    "ok",
    "http500",
    "http429",
    "http400",
    "slow",
    "prose",
    "fence",
    "broken",
    "schema",
    "out_of_range",
    "unknown_type",
    "bad_severity",
    "blind",
)


@dataclass
class Rule:
    """Misbehave with `behaviour` on matching requests: `kind` window|domain|refine|any; `count`
    requests (None: all); only when the system prompt contains `system_contains`, if given."""

    behaviour: str
    count: int | None = None
    kind: str = "window"
    system_contains: str | None = None
    retry_after: str = "1"
    delay: float = 2.0

    def matches(self, kind: str, system: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.kind != "any" and self.kind != kind:
            return False
        return self.system_contains is None or self.system_contains in system


@dataclass
class SeenRequest:
    """What the server received (without the image bytes) and how it answered."""

    kind: str
    headers: dict[str, str]
    body: dict
    labels: list[str]
    times: list[float]
    image_sizes: list[tuple[int, int]]
    red_frames: list[int]
    behaviour: str
    received_at: float
    repair: bool = False
    event: str = ""  # the event a refinement request names


@dataclass
class _State:
    rules: list[Rule] = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeVLMServer:
    def __init__(
        self,
        *,
        model: str = "fake/qwen2.5-vl-7b-instruct",
        domain: str = "traffic",
        latency: float = 0.0,  # seconds from a chat request's arrival to its answer
        api_key: str | None = None,
        concern: str | None = None,  # the scripted concern's code: blue objects, when the prompt has it
    ) -> None:
        self.model, self.domain, self.latency, self.api_key = model, domain, latency, api_key
        self.concern = concern
        self.state = _State()
        self._httpd: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle

    def start(self) -> Self:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-vlm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- scripting and inspection

    def add_rule(self, behaviour: str, **options: object) -> Rule:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        rule = Rule(behaviour, **options)  # type: ignore[arg-type]
        with self.state.lock:
            self.state.rules.append(rule)
        return rule

    @property
    def requests(self) -> list[SeenRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def window_requests(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.kind == "window"]

    def refine_requests(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.kind == "refine"]

    @property
    def max_in_flight(self) -> int:
        return self.state.max_in_flight

    def _behaviour_for(self, kind: str, system: str) -> tuple[str, Rule | None]:
        with self.state.lock:
            for rule in self.state.rules:
                if rule.matches(kind, system):
                    if rule.count is not None:
                        rule.count -= 1
                    return rule.behaviour, rule
        return "ok", None


def dead_port_url() -> str:
    """The URL of a loopback port nobody listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def qwen_smart_resize(height: int, width: int, factor: int = 28) -> tuple[int, int]:
    """Qwen2.5-VL's image resize (transformers' Qwen2VLImageProcessor defaults)."""
    min_pixels, max_pixels = 56 * 56, 28 * 28 * 1280
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def red_visible(image: np.ndarray) -> bool:
    """Whether the scripted pure-red objects show (JPEG and H.264 leave them clearly red)."""
    b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
    mask = (r > 170) & (g < 90) & (b < 90)
    return float(mask.mean()) > 0.003


def blue_visible(image: np.ndarray) -> bool:
    """Whether the scripted concern's pure-blue object shows (no background or actor is that blue)."""
    b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
    mask = (b > 200) & (g < 70) & (r < 70)
    return float(mask.mean()) > 0.003


def concern_clip(
    path, *, seconds: float, fps: float = 25.0, concern: tuple[float, float], size=(320, 240), **clip
) -> object:
    """`core.samples.make_clip`, plus a pure-blue object standing in the frame during `concern`
    [start, end): the thing an analyst's scripted concern asks about (a van at the gate)."""
    from core.samples import render_frames, write_clip

    width, height = size

    def frames():
        for i, frame in enumerate(render_frames(seconds=seconds, fps=fps, size=size, **clip)):
            if concern[0] <= i / fps < concern[1]:
                cv2.rectangle(frame, (width // 8, height // 2), (width // 8 + width // 5, height // 2 + height // 6),
                              BLUE_BGR, -1)  # fmt: skip
            yield frame

    return write_clip(path, frames(), fps=fps, size=size)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that timed out and left: expected with the "slow" behaviour
        super().handle_error(request, client_address)


class ProtocolError(ValueError):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    fake: FakeVLMServer

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.fake.api_key and self.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
            self._reply(401, {"error": {"message": "invalid API key", "code": 401}})
            return False
        return True

    def do_GET(self) -> None:
        if self.path != "/v1/models":
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        if self._authorized():
            self._reply(200, {"object": "list", "data": [{"id": self.fake.model, "object": "model"}]})

    def do_POST(self) -> None:
        received = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/v1/chat/completions":
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        if not self._authorized():
            return
        state = self.fake.state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self._chat(raw, received)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _chat(self, raw: bytes, received: float) -> None:
        try:
            body = json.loads(raw)
            kind, system, labels, times, images, repair, event = _check_protocol(body, self.fake.model)
        except (ValueError, ProtocolError) as error:
            self._reply(400, {"error": {"message": f"protocol violation: {error}", "code": 400}})
            return
        behaviour, rule = self.fake._behaviour_for(kind, system)
        red = [k for k, image in enumerate(images, start=1) if red_visible(image)]
        seen = SeenRequest(
            kind=kind,
            headers=dict(self.headers.items()),
            body={**body, "messages": [_strip_images(m) for m in body["messages"]]},
            labels=labels,
            times=times,
            image_sizes=[(image.shape[1], image.shape[0]) for image in images],
            red_frames=red,
            behaviour=behaviour,
            received_at=received,
            repair=repair,
            event=event,
        )
        with self.fake.state.lock:
            self.fake.state.requests.append(seen)
        if self.fake.latency:  # the answer leaves `latency` seconds after the request arrived
            time.sleep(max(0.0, self.fake.latency - (time.monotonic() - received)))
        if behaviour == "http500":
            self._reply(500, {"error": {"message": "internal server error (scripted)", "code": 500}})
            return
        if behaviour == "http429":
            self._reply(
                429, {"error": {"message": "too many requests (scripted)"}}, {"Retry-After": rule.retry_after}
            )
            return
        if behaviour == "http400":
            self._reply(
                400,
                {
                    "error": {
                        "message": f"At most 2 image(s) may be provided in one request (got {len(images)})"
                    }
                },
            )
            return
        if behaviour == "slow":
            time.sleep(rule.delay)
        concern = self.fake.concern if self.fake.concern and f"- {self.fake.concern}:" in system else None
        if kind == "domain":
            answer = {
                "domain": self.fake.domain,
                "reason": f"scripted: the frames look like {self.fake.domain} footage",
            }
        elif kind == "refine":
            looks_blue = concern is not None and event.startswith(concern)
            seen = [
                k
                for k, image in enumerate(images, start=1)
                if (blue_visible if looks_blue else red_visible)(image)
            ]
            answer = _refine_answer(seen, len(images), behaviour)
        else:
            blue = [k for k, image in enumerate(images, start=1) if blue_visible(image)] if concern else []
            answer = _window_answer(system, red, len(images), behaviour, concern, blue)
        content = _wrap(json.dumps(answer), behaviour)
        image_tokens = sum(
            (h // 28) * (w // 28) + 2 for h, w in (qwen_smart_resize(i.shape[0], i.shape[1]) for i in images)
        )
        prompt_tokens = image_tokens + (len(system) + sum(len(label) for label in labels)) // 4
        self._reply(
            200,
            {
                "id": f"chatcmpl-{len(self.fake.state.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.fake.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(content) // 4 + 1,
                    "total_tokens": prompt_tokens + len(content) // 4 + 1,
                    "image_tokens": image_tokens,
                },
            },
        )


def _strip_images(message: dict) -> dict:
    content = message.get("content")
    if isinstance(content, list):
        content = [p if p.get("type") != "image_url" else {"type": "image_url"} for p in content]
    return {**message, "content": content}


def _check_protocol(body: dict, model: str):
    """The request's kind, system prompt, frame labels, times and decoded images; `ProtocolError`
    naming the first departure from the wire protocol."""
    if body.get("model") != model:
        raise ProtocolError(f"model {body.get('model')!r} is not served (serving {model!r})")
    if body.get("temperature") != 0:
        raise ProtocolError(f"temperature must be 0, got {body.get('temperature')!r}")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or not 1 <= max_tokens <= 4096:
        raise ProtocolError(f"max_tokens must be a bounded integer, got {max_tokens!r}")
    response_format = body.get("response_format") or {}
    spec = response_format.get("json_schema") or {}
    kinds = {"sigma_window": "window", "sigma_domain": "domain", "sigma_refine": "refine"}
    if response_format.get("type") != "json_schema" or spec.get("name") not in kinds:
        raise ProtocolError(
            f"response_format must be json_schema sigma_window|sigma_domain|sigma_refine, got {response_format!r}"
        )
    if not isinstance(spec.get("schema"), dict):
        raise ProtocolError("response_format.json_schema.schema missing")
    kind = kinds[spec["name"]]
    messages = body.get("messages") or []
    if len(messages) < 2 or messages[0].get("role") != "system" or messages[1].get("role") != "user":
        raise ProtocolError("messages must start with a system message and a user message")
    repair = len(messages) > 2
    if repair and ([m.get("role") for m in messages[2:]] != ["assistant", "user"]):
        raise ProtocolError("a repair request adds exactly one assistant and one user message")
    parts = messages[1].get("content")
    event = ""
    if kind == "refine":  # one text part naming the event, then the frames
        first = parts[0] if isinstance(parts, list) and parts else {}
        if first.get("type") != "text" or not first.get("text", "").startswith("Event: "):
            raise ProtocolError("a refinement's user message must start with the text 'Event: <the event>'")
        event, parts = first["text"].removeprefix("Event: "), parts[1:]
    if not isinstance(parts, list) or not parts or len(parts) % 2:
        raise ProtocolError("the user message must hold (text, image_url) pairs")
    labels, times, images = [], [], []
    for k in range(1, len(parts) // 2 + 1):
        text, image = parts[2 * k - 2], parts[2 * k - 1]
        match = _LABEL.match(text.get("text", "")) if text.get("type") == "text" else None
        if not match or int(match.group(1)) != k:
            raise ProtocolError(
                f"part {2 * k - 1} must be the text 'Frame {k}, t=<seconds with 2 decimals> s', got {text!r}"
            )
        url = (image.get("image_url") or {}).get("url", "") if image.get("type") == "image_url" else ""
        if not url.startswith(_DATA_URL):
            raise ProtocolError(f"part {2 * k} must be an image_url with a data:image/jpeg;base64 URL")
        decoded = cv2.imdecode(
            np.frombuffer(base64.b64decode(url[len(_DATA_URL) :]), np.uint8), cv2.IMREAD_COLOR
        )
        if decoded is None:
            raise ProtocolError(f"frame {k} is not a decodable JPEG")
        labels.append(text["text"])
        times.append(float(match.group(2)))
        images.append(decoded)
    if times != sorted(times):
        raise ProtocolError(f"frames must be in time order, got {times}")
    return kind, messages[0].get("content", ""), labels, times, images, repair, event


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _refine_answer(seen: list[int], count: int, behaviour: str) -> dict:
    if behaviour == "out_of_range":
        return {"visible": True, "first_frame": count + 3, "last_frame": count + 5}
    if behaviour == "blind" or not seen:
        return {"visible": False, "first_frame": 1, "last_frame": 1}
    return {"visible": True, "first_frame": seen[0], "last_frame": seen[-1]}


def _window_answer(
    system: str, red: list[int], count: int, behaviour: str, concern: str | None = None, blue: list[int] = ()
) -> dict:
    types = re.findall(r"^- ([A-Z_]+):", system, re.MULTILINE)
    event_type = types[0] if types else "OTHER"
    runs = [] if behaviour == "blind" else _runs(red)
    events: list[object] = [
        {
            "event_type": event_type,
            "first_frame": first,
            "last_frame": last,
            "confidence": 0.9,
            "severity": 2,
            "description": f"red objects collide in frames {first}-{last}",
        }
        for first, last in runs
    ]
    if concern and behaviour != "blind":
        events += [
            {
                "event_type": concern,
                "first_frame": first,
                "last_frame": last,
                "confidence": 0.8,
                "severity": 1,
                "description": f"a blue object stands there in frames {first}-{last}",
            }
            for first, last in _runs(list(blue))
        ]
    description = (
        f"a textured scene; red objects in frames {', '.join(map(str, red))}"
        if runs
        else "a textured scene with steady traffic, nothing unusual"
    )
    if behaviour == "unknown_type":
        for event in events:
            event["event_type"] = "SPILLED_PAINT"  # type: ignore[index]
    elif behaviour == "bad_severity":
        for event in events:
            event["severity"] = 5  # type: ignore[index]
    elif behaviour == "schema":
        events += [
            {
                "event_type": event_type,
                "first_frame": "first",
                "last_frame": 2,
                "confidence": 0.5,
                "description": "x",
            },
            {
                "event_type": event_type,
                "first_frame": 1,
                "last_frame": 2,
                "confidence": 7,
                "description": "y",
            },
            "not an event",
        ]
    elif behaviour == "out_of_range":
        for event in events:
            first, last = event["first_frame"], event["last_frame"]  # type: ignore[index]
            if first == 1 or last == count:
                event.update(
                    first_frame=0 if first == 1 else first, last_frame=count + 2 if last == count else last
                )  # type: ignore[union-attr]
            else:
                event.update(first_frame=last, last_frame=first)  # type: ignore[union-attr]
        events.append(
            {
                "event_type": event_type,
                "first_frame": count + 3,
                "last_frame": count + 5,
                "confidence": 0.8,
                "description": "beyond the frames",
            }
        )
    return {"description": description, "events": events}


def _wrap(text: str, behaviour: str) -> str:
    if behaviour == "prose":
        return f"Here is my analysis of the frames you sent.\n{text}\nLet me know if you need anything else."
    if behaviour == "fence":
        return f"```json\n{text}\n```"
    if behaviour == "broken":
        return text[: max(1, len(text) * 2 // 3)]
    return text


def main(argv: list[str] | None = None) -> None:
    """Serve in a process of its own (benchmarks): prints the URL, serves until stdin closes."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.fake_vlm_server")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every chat answer")
    parser.add_argument("--domain", default="traffic")
    args = parser.parse_args(argv)
    with FakeVLMServer(latency=args.latency, domain=args.domain) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
