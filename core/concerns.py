"""The analyst's own concerns and site context, checked before anything runs.

A concern is an extra event type for one analysis: a code the model answers with (upper case, like
the built-in types, and never one of them) and a one-line definition the model reads beside the
taxonomy ("NO_GLOVES: a person works at the press without gloves"). The site context says what the
camera shows and what is normal there. Both enter the VLM engine's prompts and its recorded prompt
fingerprint (core.prompts); the local engine measures motion and cannot look for them.

Every limit here exists so a typo or a pasted essay is refused with a message saying what to change,
not discovered as a confused model or a prompt too long for the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.i18n import Language, text
from core.taxonomy_i18n import TYPES

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
CODE_MAX_CHARS = 40
DEFINITION_MIN_CHARS = 3
DEFINITION_MAX_CHARS = 200
SITE_CONTEXT_MAX_CHARS = 600
MAX_CONCERNS = 8
STORED_RUN = "stored_run"  # validation context: parameters read back from a stored run
_SEPARATOR = re.compile(r"\s*[=:]\s*")


def builtin_types() -> frozenset[str]:
    """Every event type Sigma itself uses (every domain's taxonomy, OTHER, what the local engine
    measures): the single list of words, labels and synonyms in core.taxonomy_i18n."""
    return frozenset(TYPES)


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces: a definition is one line."""
    return " ".join(str(text).split())


class Concern(BaseModel):
    """One extra event type: its code and the one-line definition the model reads."""

    model_config = ConfigDict(frozen=True)

    # the schema says what it can (for API clients and /docs); the validators say the rest in words
    code: str = Field(
        json_schema_extra={"pattern": CODE_PATTERN.pattern, "minLength": 2, "maxLength": CODE_MAX_CHARS}
    )
    definition: str = Field(
        json_schema_extra={
            "pattern": r"^\S(.*\S)?$",
            "minLength": DEFINITION_MIN_CHARS,
            "maxLength": DEFINITION_MAX_CHARS,
        }
    )

    @field_validator("code", mode="before")
    @classmethod
    def _valid_code(cls, value: object, info: ValidationInfo) -> str:
        code = str(value).strip()
        if not 2 <= len(code) <= CODE_MAX_CHARS or not CODE_PATTERN.match(code):
            raise ValueError(
                f"concern code {code!r} is not valid: use {CODE_MAX_CHARS} or fewer upper-case letters, "
                "digits and _, starting with a letter (e.g. NO_GLOVES)"
            )
        # a stored run keeps a code that Sigma has made a built-in type since (STORED_RUN context)
        if code in builtin_types() and not (info.context or {}).get(STORED_RUN):
            raise ValueError(
                f"concern code {code} is a built-in event type: the model already looks for it; name your "
                f"concern differently (e.g. {code}_AT_GATE)"
            )
        return code

    @field_validator("definition", mode="before")
    @classmethod
    def _valid_definition(cls, value: object, info: ValidationInfo) -> str:
        definition = one_line(value)
        code = info.data.get("code", "the concern")
        if len(definition) < DEFINITION_MIN_CHARS:
            raise ValueError(f"{code} needs a definition: one line saying what the model should look for")
        if len(definition) > DEFINITION_MAX_CHARS:
            raise ValueError(
                f"the definition of {code} is too long ({len(definition)} characters; at most "
                f"{DEFINITION_MAX_CHARS}): one line saying what to look for"
            )
        return definition


def check_concerns(concerns: Iterable[Concern]) -> list[Concern]:
    """The list as given, or `ValueError` when it is too long or names a code twice."""
    concerns = list(concerns)
    if len(concerns) > MAX_CONCERNS:
        raise ValueError(f"at most {MAX_CONCERNS} concerns per analysis (got {len(concerns)})")
    seen: set[str] = set()
    for concern in concerns:
        if concern.code in seen:
            raise ValueError(f"concern {concern.code} is listed twice")
        seen.add(concern.code)
    return concerns


def check_site_context(text: object) -> str:
    """The site context with its whitespace tidied, or `ValueError` when it is too long."""
    context = "\n".join(" ".join(line.split()) for line in str(text or "").strip().splitlines()).strip()
    if len(context) > SITE_CONTEXT_MAX_CHARS:
        raise ValueError(
            f"the site context is too long ({len(context)} characters; at most {SITE_CONTEXT_MAX_CHARS}): "
            "say in a few sentences what the camera shows and what is normal there"
        )
    return context


def parse_concern(text: str) -> Concern:
    """A concern from `CODE=definition` or `CODE: definition` (the CLI's --concern, a line of the
    dashboard's box); quotes around the definition are dropped. `ValueError` says what is wrong."""
    parts = _SEPARATOR.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0]:
        raise ValueError(
            f"concern {text.strip()!r} has no definition: write it as CODE=definition "
            '(e.g. NO_GLOVES="a person works at the press without gloves")'
        )
    code, definition = parts
    definition = definition.strip()
    if len(definition) >= 2 and definition[0] == definition[-1] and definition[0] in "\"'":
        definition = definition[1:-1]
    return Concern(code=code, definition=definition)


def parse_concern_lines(text: str) -> list[Concern]:
    """Concerns from text with one `CODE: definition` per line (blank lines ignored), checked as a list."""
    return check_concerns(parse_concern(line) for line in text.splitlines() if line.strip())


def concern_lines(concerns: Iterable[Concern]) -> str:
    """The text `parse_concern_lines` reads back: one `CODE: definition` per line."""
    return "\n".join(f"{concern.code}: {concern.definition}" for concern in concerns)


def readable_error(error: Exception) -> str:
    """One line from a `ValueError` or a pydantic `ValidationError` about concerns or parameters."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        messages = []
        for item in errors():
            message = str(item.get("msg", "")).removeprefix("Value error, ")
            if item.get("type") != "value_error":  # pydantic's own words need the field's name
                where = ".".join(str(part) for part in item.get("loc", ()) if not isinstance(part, int))
                message = f"{where}: {message}"
            messages.append(message)
        return "; ".join(dict.fromkeys(messages))
    return str(error)


# Ready examples per domain, offered on the Analyse page and in Re-analyse (definitions in the
# catalogues, `example.CODE`, in the dashboard's language; the model reads them as written).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "traffic": ("VAN_STOPS_AT_GATE", "TRUCK_IN_LEFT_LANE", "CROSSING_OFF_ZEBRA"),
    "industrial": ("NO_GLOVES", "BLOCKED_EXIT", "PHONE_WHILE_DRIVING"),
    "violence": ("THROWN_OBJECT", "PERSON_ON_GROUND", "LINGERS_AT_DOOR"),
}


def examples(domain: str, lang: Language) -> list[Concern]:
    """The ready examples of a domain (every domain's for "auto"), with definitions in `lang`."""
    domains = [domain] if domain in EXAMPLES else list(EXAMPLES)
    return [
        Concern(code=code, definition=text(lang, f"example.{code}")) for d in domains for code in EXAMPLES[d]
    ]
