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

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Message:
    """A text to word later, in whoever reads it's language: a catalogue key and its values. Values that
    are themselves messages (a reason inside a sentence) are worded in the same language."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, lang: Language) -> str:
        worded = {k: v.text(lang) if isinstance(v, Message) else v for k, v in self.values.items()}
        return text(lang, self.key, **worded)

    def to_json(self) -> dict:
        values = {k: v.to_json() if isinstance(v, Message) else v for k, v in self.values.items()}
        return {"key": self.key, "values": values}

    @classmethod
    def from_json(cls, stored: object) -> Message | None:
        """The message a column holds, or None for anything else (rows written before messages)."""
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                return None
        if not isinstance(stored, dict) or not isinstance(stored.get("key"), str):
            return None
        values = stored.get("values") or {}
        return cls(
            stored["key"],
            {k: cls.from_json(v) or v if isinstance(v, dict) else v for k, v in values.items()},
        )


def say(key: str, **values: object) -> Message:
    """A message to record now and word when read: `say("log.events", n=3)`."""
    return Message(key, values)
