"""The wire protocol between the VLM engine and the model server, with the prompts and taxonomies.

This module is the contract (issue 4): frames numbered 1..N per request, each a text part
"Frame k, t=12.40 s" followed by a JPEG `image_url` part; `response_format` json_schema named
`sigma_window` (events by frame number, each with a severity), `sigma_domain` (domain inference) or
`sigma_refine` (the first and last frame of one event, asked with every frame around it; its user
message starts with one text part naming the event). Any change to a prompt, a taxonomy, a schema
or the message layout bumps `PROMPT_VERSION`; a run's analyst concerns and site context add a
short hash of themselves to it (`prompt_fingerprint`), and every log row carries that beside the
model id, so two runs with different concerns are never confused.

Prefix reuse: a run's system prompts begin with the same text (who the model is, the site context,
the event types with the analyst's concerns) and put what differs last (the task, a pass's
guidance), and the frames follow in the user message, so vLLM's automatic prefix caching computes
that common beginning once for every window of the run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from core.concerns import Concern
from core.i18n import ENGLISH_NAMES, Language
from core.llm import chat_request, extract_json
from core.schema import DOMAINS

PROMPT_VERSION = "sigma-prompts-3"

WINDOW_SCHEMA_NAME = "sigma_window"
DOMAIN_SCHEMA_NAME = "sigma_domain"
REFINE_SCHEMA_NAME = "sigma_refine"
WINDOW_MAX_TOKENS = 800
DOMAIN_MAX_TOKENS = 200
REFINE_MAX_TOKENS = 60
DOMAIN_FRAMES = 8
OTHER = "OTHER"

# Each domain's event types with the one-line definition the model reads in the system prompt.
TAXONOMY: dict[str, dict[str, str]] = {
    "traffic": {
        "COLLISION": "vehicles hit each other or a fixed object",
        "NEAR_MISS": "road users come dangerously close without touching",
        "PEDESTRIAN_HIT": "a vehicle strikes a pedestrian or cyclist",
        "WRONG_WAY": "a vehicle drives against the direction of traffic",
        "RED_LIGHT": "a vehicle enters an intersection against a red signal",
        "DANGEROUS_MANEUVER": "sudden swerving, cutting in, reckless overtaking or U-turn",
        "VEHICLE_FIRE": "smoke or fire from a vehicle",
        "ROAD_OBSTRUCTION": "debris, a fallen load or a stopped vehicle blocking a lane",
    },
    "industrial": {
        "NO_HELMET": "a worker in a work zone without a hard hat",
        "NO_VEST": "a worker without a high-visibility vest where one is required",
        "FALL": "a person falls, slips or trips",
        "FORKLIFT_NEAR_MISS": "a forklift or other vehicle comes dangerously close to a person",
        "FIRE_SMOKE": "fire, smoke or sparks where they should not be",
        "RESTRICTED_ZONE": "a person enters a marked hazardous or restricted area",
        "FALLING_OBJECT": "a load or object falls or is dropped",
        "UNSAFE_LIFTING": "a suspended load moves over people or a person lifts unsafely",
    },
    "violence": {
        "FIGHT": "two or more people exchange blows or wrestle",
        "ASSAULT": "one person attacks another who does not fight back",
        "WEAPON": "a knife, gun, bat or other weapon is shown or used",
        "ROBBERY": "property is taken by force or threat",
        "VANDALISM": "someone deliberately damages property",
        "CROWD_PANIC": "a crowd suddenly runs, pushes or scatters",
    },
}
_OTHER_DEFINITION = "something dangerous that none of the types above describes (say what in the description)"
# Severity, as Frigate rates a threat: what the model answers for each event.
SEVERITY_GUIDE = (
    "0 = note (worth a look, no one at risk yet), 1 = concern (a risk or a rule broken), "
    "2 = danger (someone is or could be hurt, or property is destroyed)"
)

_PASS_GUIDANCE = {
    1: (
        "The frames are consecutive samples from one short stretch of the video. Report an event "
        "only when the frames show it."
    ),
    2: (
        "This is a second, closer look: the frames are every sampled frame of a short stretch, and a "
        "first look over the video found nothing. Report even brief or uncertain incidents, including "
        "ones visible in a single frame; express doubt with a lower confidence instead of leaving "
        "the incident out."
    ),
    3: (
        "These are keyframes chosen from across the whole video (moments of sudden motion and scene "
        "changes), not consecutive frames: time jumps between them. Two closer looks found nothing, "
        "so report anything that could be an incident, with a confidence that reflects your doubt."
    ),
}


def event_types(domain: str | None, concerns: Sequence[Concern] = ()) -> list[str]:
    """The event types the model may use: the domain's (every domain's when it is unknown), the
    analyst's concerns, and OTHER."""
    domains = [domain] if domain else list(DOMAINS)
    types = [name for d in domains for name in TAXONOMY[d]]
    return [*dict.fromkeys(types), *(c.code for c in concerns), OTHER]


def normalize_event_type(raw: str, domain: str | None, concerns: Sequence[Concern] = ()) -> tuple[str, bool]:
    """The type name for the model's `raw` type (case and spacing forgiven); OTHER when unknown.

    Returns the name and whether the model's word was replaced.
    """
    candidate = re.sub(r"[\s\-]+", "_", raw.strip()).upper()
    if candidate in event_types(domain, concerns):
        return candidate, False
    return OTHER, True


def prompt_fingerprint(concerns: Sequence[Concern] = (), site_context: str = "") -> str:
    """`PROMPT_VERSION`, plus a short hash of the analyst's concerns and site context when there are
    any: recorded with every log row of a run, so runs asked different questions never look alike."""
    if not concerns and not site_context:
        return PROMPT_VERSION
    canonical = json.dumps(
        {"concerns": [[c.code, c.definition] for c in concerns], "site_context": site_context},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f"{PROMPT_VERSION}+{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def window_schema(frame_count: int) -> dict:
    """The JSON schema of a window answer: frame numbers are 1..`frame_count` of this request."""
    frame = {"type": "integer", "minimum": 1, "maximum": frame_count}
    return {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "event_type": {"type": "string"},
                        "first_frame": frame,
                        "last_frame": frame,
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "severity": {"type": "integer", "minimum": 0, "maximum": 2},
                        "description": {"type": "string"},
                    },
                    "required": [
                        "event_type",
                        "first_frame",
                        "last_frame",
                        "confidence",
                        "severity",
                        "description",
                    ],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["description", "events"],
        "additionalProperties": False,
    }


def refine_schema(frame_count: int) -> dict:
    """The JSON schema of a refinement answer: whether the event shows, and its first and last frame."""
    frame = {"type": "integer", "minimum": 1, "maximum": frame_count}
    return {
        "type": "object",
        "properties": {"visible": {"type": "boolean"}, "first_frame": frame, "last_frame": frame},
        "required": ["visible", "first_frame", "last_frame"],
        "additionalProperties": False,
    }


def domain_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "domain": {"type": "string", "enum": list(DOMAINS)},
            "reason": {"type": "string"},
        },
        "required": ["domain", "reason"],
        "additionalProperties": False,
    }


def _preamble(domain: str | None, concerns: Sequence[Concern], site_context: str) -> list[str]:
    """The beginning every window and refinement prompt of a run shares (vLLM caches it once): who
    the model is, what the analyst says about the site, the event types with the analyst's own."""
    scope = f"the {domain} domain" if domain else "traffic, industrial safety and violence"
    lines = [f"You are a safety analyst reviewing video frames for dangerous incidents in {scope}."]
    if site_context:
        lines += ["About this camera, in the analyst's words (what it shows and what is normal there):"]
        lines += [f"  {line}" for line in site_context.splitlines()]
    lines.append("Event types you may report:")
    definitions = {
        name: text for d in ([domain] if domain else DOMAINS) for name, text in TAXONOMY[d].items()
    }
    lines += [f"- {name}: {definitions[name]}" for name in event_types(domain) if name != OTHER]
    if concerns:
        lines.append("Event types the analyst asked you to look for as well:")
        lines += [f"- {concern.code}: {concern.definition}" for concern in concerns]
        lines.append("And for anything else:")
    lines.append(f"- {OTHER}: {_OTHER_DEFINITION}")
    return lines


def window_system_prompt(
    domain: str | None,
    pass_no: int,
    language: Language,
    concerns: Sequence[Concern] = (),
    site_context: str = "",
) -> str:
    """Who the model is, the event types it may report (the analyst's concerns among them), the
    answer format, the language of its descriptions, and last this pass's guidance."""
    lines = _preamble(domain, concerns, site_context)
    lines += [
        "",
        "Each frame is introduced by its number and time. Answer with one JSON object and nothing else:",
        (
            '{"description": "<one or two sentences on what these frames show>", "events": [{"event_type": '
            '"<a type above>", "first_frame": <number of the first frame showing it>, "last_frame": <number '
            'of the last frame showing it>, "confidence": <0 to 1>, "severity": <0, 1 or 2>, '
            '"description": "<what happens>"}]}'
        ),
        f"Severity: {SEVERITY_GUIDE}.",
        (
            'Use "events": [] when nothing dangerous happens. Frame numbers are the numbers given above the '
            "frames, never times."
        ),
        (
            f"Write every description in {ENGLISH_NAMES[language]}; keep the event types and the JSON keys "
            "exactly as given above."
        ),
        "",
        _PASS_GUIDANCE[pass_no],
    ]
    return "\n".join(lines)


def refine_system_prompt(domain: str | None, concerns: Sequence[Concern] = (), site_context: str = "") -> str:
    """The closer look at one event: the same beginning as the window prompts, then the task."""
    lines = _preamble(domain, concerns, site_context)
    lines += [
        "",
        (
            "A first look found the event named before the frames. The frames are every sampled frame from a "
            "little before it to a little after it, each introduced by its number and time. Find the first "
            "and the last frame in which this event is visible."
        ),
        (
            'Answer with one JSON object and nothing else: {"visible": true, "first_frame": <number>, '
            '"last_frame": <number>}, or {"visible": false, "first_frame": 1, "last_frame": 1} when no frame '
            "shows it. Frame numbers are the numbers given above the frames, never times."
        ),
    ]
    return "\n".join(lines)


def refine_content(event_label: str, frames: list[tuple[float, str]]) -> list[dict]:
    """The user message of a refinement: the event to find, then the frames."""
    return [{"type": "text", "text": f"Event: {event_label}"}, *frames_content(frames)]


_DOMAIN_SYSTEM_PROMPT = (
    "You are a safety analyst. The frames are spread over a whole video. Decide which kind of "
    "footage it is: traffic (roads, vehicles, pedestrians at streets), industrial (factories, "
    "warehouses, construction sites, workers) or violence (people in public or private spaces where "
    "aggression between people is the concern). Answer with one JSON object and nothing else: "
    '{"domain": "traffic" | "industrial" | "violence", "reason": "<one sentence: what you saw that decided it>"}'
)


def domain_system_prompt(language: Language, concerns: Sequence[Concern] = (), site_context: str = "") -> str:
    """The domain-inference instructions, with what the analyst said about the site and looks for, and
    the language of the reason (the domain names stay English)."""
    lines = [_DOMAIN_SYSTEM_PROMPT]
    if site_context:
        lines.append(f"The analyst describes this camera: {' '.join(site_context.split())}")
    if concerns:
        lines.append(
            "The analyst also looks for: " + "; ".join(f"{c.code} ({c.definition})" for c in concerns) + "."
        )
    lines.append(f"Write the reason in {ENGLISH_NAMES[language]}.")
    return " ".join(lines)


REPAIR_PROMPT = (
    "That answer was not a valid JSON object of the requested form. Reply again with the JSON object "
    "only: no prose, no code fence."
)


def frame_label(number: int, time: float) -> str:
    return f"Frame {number}, t={time:.2f} s"


def frames_content(frames: list[tuple[float, str]]) -> list[dict]:
    """The user message: for each (time, base64 JPEG) in time order, its label then its image."""
    parts: list[dict] = []
    for number, (time, jpeg_base64) in enumerate(frames, start=1):
        parts.append({"type": "text", "text": frame_label(number, time)})
        parts.append({"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{jpeg_base64}"}})
    return parts


def chat_body(
    model: str, system: str, frames: list[tuple[float, str]], schema_name: str, schema: dict, max_tokens: int
) -> dict:
    """One chat-completions request body: deterministic, bounded, asking for schema-shaped JSON."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": frames_content(frames)}]
    return chat_request(model, messages, schema_name, schema, max_tokens)


def with_repair_request(body: dict, broken_answer: str) -> dict:
    """The same request once more, showing the model its unusable answer and asking for JSON only."""
    messages = [
        *body["messages"],
        {"role": "assistant", "content": broken_answer},
        {"role": "user", "content": REPAIR_PROMPT},
    ]
    return {**body, "messages": messages}


# --- Answers --------------------------------------------------------------------------------------


class DetectedEvent(BaseModel):
    """One event as the model reports it: frame numbers of this request, not times."""

    event_type: str = Field(min_length=1)
    first_frame: int
    last_frame: int
    confidence: float = Field(ge=0, le=1)
    severity: int | None = Field(default=None, ge=0, le=2)
    description: str = ""


class RefineAnswer(BaseModel):
    """The closer look's answer: whether the event shows, and its first and last frame numbers."""

    visible: bool = True
    first_frame: int
    last_frame: int


class DomainAnswer(BaseModel):
    domain: Literal["traffic", "industrial", "violence"]
    reason: str = ""


@dataclass
class WindowAnswer:
    """A window answer after validation: what it shows, the valid events, and what was wrong."""

    description: str
    events: list[DetectedEvent]
    problems: list[str] = field(default_factory=list)


class UnusableAnswer(ValueError):
    """The answer holds no JSON object at all (the engine asks once more, then fails the window)."""


def _short(value: object, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_window_answer(text: str) -> WindowAnswer:
    """Validate a window answer: keep the valid events, describe every invalid part.

    Raises `UnusableAnswer` when the text holds no JSON object.
    """
    data = extract_json(text, "events")
    if data is None:
        raise UnusableAnswer(f"the model's answer is not valid JSON: {_short(text.strip() or '(empty)')}")
    problems: list[str] = []
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description is not text: {_short(description)}")
        description = ""
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        problems.append(f"events is not a list: {_short(raw_events)}")
        raw_events = []
    events: list[DetectedEvent] = []
    for raw in raw_events:
        try:
            events.append(DetectedEvent.model_validate(raw))
        except ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()
            )
            problems.append(f"event dropped ({reasons}): {_short(raw)}")
    return WindowAnswer(description=description.strip(), events=events, problems=problems)


def parse_refine_answer(text: str) -> RefineAnswer:
    """The refinement answer; raises `UnusableAnswer` when it holds no JSON or not the asked fields."""
    data = extract_json(text, "first_frame")
    if data is None:
        raise UnusableAnswer(f"the model's answer is not valid JSON: {_short(text.strip() or '(empty)')}")
    try:
        return RefineAnswer.model_validate(data)
    except ValidationError:
        raise UnusableAnswer(f"the model's answer names no frames: {_short(data)}") from None


def parse_domain_answer(text: str) -> DomainAnswer:
    """The inferred domain; raises `UnusableAnswer` when the answer does not name one of the domains."""
    data = extract_json(text, "domain")
    if data is None:
        raise UnusableAnswer(f"the model's answer is not valid JSON: {_short(text.strip() or '(empty)')}")
    if isinstance(data.get("domain"), str):
        data = {**data, "domain": data["domain"].strip().lower()}
    try:
        return DomainAnswer.model_validate(data)
    except ValidationError:
        raise UnusableAnswer(f"the model named no known domain: {_short(data)}") from None
