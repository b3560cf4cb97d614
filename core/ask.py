"""`Ask the model`: a question in plain words about one incident, answered by the same
OpenAI-compatible server the VLM engine uses, as a text-only chat over the stored storyboard.

Nothing is re-analysed: the model reads the window descriptions and events already stored. Windows
are numbered W1..Wn in time order over the whole storyboard; the model answers JSON naming the
windows it relied on, and only numbers that were actually sent come back as citations, each with
its times so the UI can seek the player there. A storyboard too long for one prompt is cut to the
windows that match the question, then those inside events, then the highest-scored, and the model
is told it sees a selection.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from core import repository
from core.config import Settings
from core.db import database
from core.errors import InvalidInput, SigmaError
from core.llm import ModelClient, RequestFailed, Traffic, chat_request, choose_model, extract_json
from core.schema import Event, Status, WindowRecord
from core.search import search

ASK_SCHEMA_NAME = "sigma_ask"
ASK_MAX_TOKENS = 700
STORYBOARD_MAX_CHARS = 24_000

_SYSTEM_PROMPT = (
    "You help an investigator review one video. You get its storyboard: numbered windows "
    "(W1, W2, ...) with their times in seconds and a description of what each shows, and the events "
    "that were detected. Answer the question only from this text. If the storyboard does not say, "
    "answer that it does not show it. Answer in the language of the question, briefly, with times. "
    'Reply with JSON only: {"answer": "...", "windows": [numbers of the windows your answer relies on]}.'
)
_ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "windows": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    },
    "required": ["answer", "windows"],
    "additionalProperties": False,
}
_WINDOW_MENTION = re.compile(r"\bW(\d+)\b")


class AskUnavailable(SigmaError):
    """The model cannot be asked (no server configured, or it cannot be reached); says why."""


class Citation(BaseModel):
    number: int  # the window's W-number in the storyboard sent
    start_time: float
    end_time: float
    description: str
    pass_no: int = 1


class Answer(BaseModel):
    question: str
    answer: str
    citations: list[Citation]
    model: str
    windows_sent: int
    windows_total: int


class _ModelReply(BaseModel):
    answer: str
    windows: list[int] = []


def unavailable_reason(settings: Settings) -> str | None:
    """Why the model cannot be asked, or None when a server is configured."""
    if not settings.llm_base_url:
        return (
            "Asking the model needs a model server: set LLM_BASE_URL (an OpenAI-compatible API, e.g. vLLM)."
        )
    return None


def _storyboard_lines(windows: list[WindowRecord]) -> list[str]:
    return [
        f"W{number} [{w.start_time:.2f}-{w.end_time:.2f} s] {' '.join(w.description.split()) or '(no description)'}"
        for number, w in enumerate(windows, start=1)
    ]


def _select(
    session: Session,
    incident_id: int,
    question: str,
    windows: list[WindowRecord],
    events: list[Event],
    lines: list[str],
    budget: int,
) -> list[int]:
    """Indexes of the windows to send: all when they fit, else the most relevant that fit, in time order."""
    if sum(len(line) + 1 for line in lines) <= budget:
        return list(range(len(windows)))
    position = {(w.window_index, w.pass_no, round(w.start_time, 3)): i for i, w in enumerate(windows)}
    ranked: list[int] = []
    for hit in search(session, question, incident_id=incident_id, kinds=("window",), limit=200).hits:
        index = position.get((hit.window_index, hit.pass_no, round(hit.start_time, 3)))
        if index is not None:
            ranked.append(index)
    ranked += [
        i
        for i, w in enumerate(windows)
        if any(w.start_time < e.end_time and e.start_time < w.end_time for e in events)
    ]
    ranked += sorted(range(len(windows)), key=lambda i: -windows[i].score)
    chosen, used = set(), 0
    for index in dict.fromkeys(ranked):
        if used + len(lines[index]) + 1 > budget:
            continue
        chosen.add(index)
        used += len(lines[index]) + 1
    return sorted(chosen)


def _parse_reply(content: str) -> _ModelReply:
    """The model's JSON, also when wrapped in prose or a code fence; plain prose as a last resort."""
    found = extract_json(content, "answer")
    if found is not None:
        try:
            return _ModelReply.model_validate(found)
        except ValidationError:
            pass
    return _ModelReply(answer=content.strip(), windows=[int(n) for n in _WINDOW_MENTION.findall(content)])


def _prompt(
    session: Session, incident_id: int, question: str, max_chars: int
) -> tuple[str, list[WindowRecord], list[int]]:
    """The user message, the storyboard's windows and which of them (indexes) the message holds."""
    incident = repository.get_incident(session, incident_id)
    if incident is None:
        raise InvalidInput(f"no incident {incident_id}")
    if incident.status != Status.DONE:
        raise InvalidInput(
            f"incident {incident_id} is {incident.status}: there is no storyboard to ask about yet"
        )
    windows = [w for w in repository.windows_of(session, incident_id) if not w.failed]
    events = repository.events_of(session, incident_id)
    lines = _storyboard_lines(windows)
    chosen = _select(session, incident_id, question, windows, events, lines, max_chars)
    header = f"Video: {incident.original_name}, {incident.duration:.2f} s, {len(windows)} windows."
    if len(chosen) < len(windows):
        header += f" Only {len(chosen)} of them are shown: the ones most related to the question."
    event_lines = [
        f"- {e.event_type} {e.start_time:.2f}-{e.end_time:.2f} s, confidence {e.confidence:.2f}: {e.description}"
        for e in events
    ] or ["- none"]
    prompt = "\n".join(
        [
            header,
            "Storyboard:",
            *(lines[i] for i in chosen),
            "Detected events:",
            *event_lines,
            "",
            f"Question: {question}",
        ]
    )
    return prompt, windows, chosen


def ask_model(
    incident_id: int, question: str, settings: Settings, *, max_chars: int = STORYBOARD_MAX_CHARS
) -> Answer:
    """Ask about one finished incident. Raises `AskUnavailable` (why) or `InvalidInput` (bad request).

    The database is read first and released before the (possibly slow) request to the model."""
    reason = unavailable_reason(settings)
    if reason:
        raise AskUnavailable(reason)
    question = question.strip()
    if not question:
        raise InvalidInput("type a question first")
    with database(settings).session() as session:
        prompt, windows, chosen = _prompt(session, incident_id, question, max_chars)
    messages = [{"role": "system", "content": _SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
    try:  # a person is waiting: no retrying a server that is not there, one retry of a busy one
        with ModelClient(settings, max_retries=min(1, settings.llm_max_retries)) as client:
            model = choose_model(client).model
            body = chat_request(model, messages, ASK_SCHEMA_NAME, _ANSWER_SCHEMA, ASK_MAX_TOKENS)
            content = client.chat(body, Traffic(), retry_connect=False).content
    except RequestFailed as error:
        raise AskUnavailable(f"the model could not be asked: {error}") from None
    reply = _parse_reply(content)
    sent = {i + 1 for i in chosen}
    citations = [
        Citation(
            number=n,
            start_time=windows[n - 1].start_time,
            end_time=windows[n - 1].end_time,
            description=windows[n - 1].description,
            pass_no=windows[n - 1].pass_no,
        )
        for n in dict.fromkeys(reply.windows)
        if n in sent
    ]
    return Answer(
        question=question,
        answer=reply.answer,
        citations=citations,
        model=model,
        windows_sent=len(chosen),
        windows_total=len(windows),
    )
