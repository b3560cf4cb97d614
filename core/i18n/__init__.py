"""Every text Sigma shows people, one catalogue per language (`core/i18n/<code>.py`: `NAME` and `TEXTS`).

Core (the report, the engines' descriptions and log lines, stage names, refusal reasons), the
dashboard and the sign-in form read their words from here, by key, formatted with `str.format`.
Adding a language means adding its catalogue file with the same keys and placeholders
(tests/test_i18n.py holds them to each other) and naming it in `Language` and `_CATALOGUES` below.

What a run records for people to read later (log lines, the domain's reason, the stage) is kept as a
`Message` (key and values) and worded when shown, so each screen and report is in its viewer's
language; text recorded before that (plain strings) shows as it was written.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Literal, get_args

from core.i18n import en, ru

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "ru"
_CATALOGUES: dict[Language, Mapping[str, str]] = {"ru": ru.TEXTS, "en": en.TEXTS}
LANGUAGE_NAMES: dict[Language, str] = {"ru": ru.NAME, "en": en.NAME}
# what the model is asked to write in (ANALYSIS_LANGUAGE), named in the prompts' English
ENGLISH_NAMES: dict[Language, str] = {"ru": ru.ENGLISH_NAME, "en": en.ENGLISH_NAME}


def catalogue(lang: Language) -> Mapping[str, str]:
    return _CATALOGUES[lang]


def as_language(value: object) -> Language:
    """`value` when it names a language Sigma speaks, else the default."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE  # type: ignore[return-value]


def has(key: str) -> bool:
    return key in _CATALOGUES[DEFAULT_LANGUAGE]


def text(lang: Language, key: str, **values: object) -> str:
    """`key` in `lang`, formatted with `values`; an unknown key shows as itself (never a crash)."""
    words = _CATALOGUES[as_language(lang)].get(key)
    if words is None:
        return key
    return words.format(**values) if values else words


def word(lang: Language, prefix: str, code: object) -> str:
    """A code in words (`prefix.code`), or the code itself when there are no words for it."""
    if code is None:
        return "—"
    key = f"{prefix}.{code}"
    return text(lang, key) if has(key) else str(code)


# the keys of the domain's reasons an engine records (as English text): worded again for each reader
DOMAIN_REASONS = ("local.domain_", "reason.domain_")
# ... and of why a run failed: a refusal of the file, an interruption (with the stage it stopped in)
FAILURE_REASONS = ("refusal.", "reason.", "stage.", "log.cancelled")


def reword(lang: Language, prefix: str | tuple[str, ...], recorded: str) -> str:
    """Text recorded in the words of `prefix` keys in any language (a stage, the domain's reason, the
    local engine's descriptions, several joined by "; "), in `lang`'s words, values that are such words
    themselves too; text that is no such key's (a model's own words) as it was written."""
    worded = _reworded(lang, prefix, recorded)
    return recorded if worded is None else worded


@lru_cache(maxsize=4096)
def _reworded(lang: Language, prefix: str | tuple[str, ...], recorded: str) -> str | None:
    for pattern, key in _templates(prefix):
        match = pattern.fullmatch(recorded)
        if match:
            values = {name: reword(lang, prefix, value) for name, value in match.groupdict().items()}
            return _plain(_CATALOGUES[lang][key]).format(**values)
    start = recorded.find("; ")
    while start != -1:  # texts joined by "; ": the first that is a key's words, then the rest
        head = _reworded(lang, prefix, recorded[:start])
        tail = _reworded(lang, prefix, recorded[start + 2 :]) if head is not None else None
        if tail is not None:
            return f"{head}; {tail}"
        start = recorded.find("; ", start + 2)
    return None


@cache
def _templates(prefix: str | tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """A pattern per language per `prefix` key, its values captured; the most specific first."""
    found = []
    for lang in LANGUAGES:
        for key, words in _CATALOGUES[lang].items():
            if not key.startswith(prefix):
                continue
            pattern, names = "", set()
            for literal, name, _spec, _conversion in string.Formatter().parse(words):
                pattern += re.escape(literal)
                if name is not None:
                    # a value never holds "; ", which joins several texts
                    pattern += f"(?P={name})" if name in names else f"(?P<{name}>(?:(?!; ).)+?)"
                    names.add(name)
            found.append((re.compile(pattern, re.DOTALL), key))
    return tuple(sorted(found, key=lambda item: -len(item[0].pattern)))


def _plain(words: str) -> str:
    """`words` with its placeholders' formats dropped: recorded values come back already formatted."""
    return "".join(
        literal.replace("{", "{{").replace("}", "}}") + ("" if name is None else "{" + name + "}")
        for literal, name, _spec, _conversion in string.Formatter().parse(words)
    )


@dataclass(frozen=True)
class Message:
    """A text to word later, in its reader's language: a catalogue key and its values. A value that is
    itself a message (a reason inside a sentence) is worded in the same language, and a list of them is
    worded item by item and joined with "; "."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, lang: Language) -> str:
        return text(lang, self.key, **{k: _worded(v, lang) for k, v in self.values.items()})

    def redacted(self, redact: Callable[[str], str]) -> Message:
        """The same message with `redact` applied to its text values (a secret inside an error)."""
        return Message(self.key, {k: _mapped(v, redact) for k, v in self.values.items()})

    def to_json(self) -> dict:
        return {"key": self.key, "values": {k: _stored(v) for k, v in self.values.items()}}

    @classmethod
    def from_json(cls, stored: object) -> Message | None:
        """The message a column holds, or None for anything else (rows written before messages)."""
        if not isinstance(stored, dict) or not isinstance(stored.get("key"), str):
            return None
        return cls(stored["key"], {k: _loaded(v) for k, v in (stored.get("values") or {}).items()})


def _worded(value: object, lang: Language) -> object:
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, list):
        return "; ".join(str(_worded(item, lang)) for item in value)
    return value


def _mapped(value: object, redact: Callable[[str], str]) -> object:
    if isinstance(value, Message):
        return value.redacted(redact)
    if isinstance(value, list):
        return [_mapped(item, redact) for item in value]
    return redact(value) if isinstance(value, str) else value


def _stored(value: object) -> object:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, list):
        return [_stored(item) for item in value]
    return value


def _loaded(value: object) -> object:
    if isinstance(value, list):
        return [_loaded(item) for item in value]
    return Message.from_json(value) or value if isinstance(value, dict) else value


def worded(lang: Language, words: object, plain: str) -> str:
    """A recorded line in `lang`: from its stored message (`words`) when it has one, else its plain text
    (rows written before messages, a model's own notes)."""
    message = Message.from_json(words)
    return message.text(lang) if message is not None else plain


def say(key: str, **values: object) -> Message:
    """A message to record now and word when read: `say("log.events", n=3)`."""
    return Message(key, values)
