"""The catalogues (core/i18n/<code>.py): every language has the same keys with the same placeholders,
English has no Russian in it and Russian no English leftovers, every key the UI uses exists and none
is dead, and no module keeps translations of its own."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from core.i18n import LANGUAGE_NAMES, LANGUAGES, Message, catalogue, say, text

ROOT = Path(__file__).resolve().parents[1]
CYRILLIC = re.compile("[а-яА-ЯёЁ]")
# keys the UI builds from a name (`t(f"status.{status}")`) and keys of core, read by prefix
CORE_PREFIXES = (
    "report.",
    "local.",
    "type.",
    "review.",
    "severity.",
    "example.",
    "log.",
    "stage.",
    "reason.",
    "refusal.",
    "language.",
)


def _fields(words: str) -> list[tuple[str, str]]:
    return sorted(
        (name, spec or "") for _, name, spec, _ in string.Formatter().parse(words) if name is not None
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_has_the_same_keys_and_placeholders_as_english(lang):
    english, other = catalogue("en"), catalogue(lang)
    assert other.keys() - english.keys() == set(), "keys English lacks"
    assert english.keys() - other.keys() == set(), f"keys {lang} lacks"
    for key, words in other.items():
        assert words, key
        assert _fields(words) == _fields(english[key]), key
    assert LANGUAGE_NAMES[lang]


def test_english_has_no_russian():
    assert [key for key, words in catalogue("en").items() if CYRILLIC.search(words)] == []


def _latin_words(words: str) -> set[str]:
    """Lower-case Latin words a reader would take for English, leaving out what stays as written in
    any language: placeholders, commands to type, file extensions, acronyms and product names."""
    plain = re.sub(r"\{[^}]*\}", " ", words)
    plain = re.sub(r"python -m core[^)»]*", " ", plain)
    plain = re.sub(r"[A-Z_]+=\w+", " ", plain)  # a setting and its value: LLM_REFINE=false
    plain = re.sub(r"\.\w+", " ", plain)
    return {w for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", plain) if w.islower() and len(w) > 2}


def test_russian_has_no_english_left_in_it():
    # what an analyst types (a file name, a search word), names written as they are (an MP4 box, a program)
    examples = {"camera", "fight", "moov", "gzip"}
    leftovers = {
        key: found for key, words in catalogue("ru").items() if (found := _latin_words(words) - examples)
    }
    assert leftovers == {}
    words_without_russian = [
        key
        for key, words in catalogue("ru").items()
        if not CYRILLIC.search(words) and re.search("[A-Za-z]{3}", re.sub(r"\{[^}]*\}", "", words))
    ]
    # names and codes that read the same in Russian
    assert set(words_without_russian) <= {
        "about.model_setting",
        "auth.title",
        "report.sha256",
        "engine.short.vlm",
    }, words_without_russian


def test_the_heuristic_catches_an_english_leftover():
    assert _latin_words("измерено движение, measuring motion (python -m core export 3)") == {
        "measuring",
        "motion",
    }


# Placeholders that hold a count, and the words that may follow one whatever its value (no noun).
COUNTS = {"n", "count", "tracks", "cells", "vehicles", "people", "shown", "changes", "began", "frames",
          "pairs", "episodes", "flagged", "sent", "open", "total"}  # fmt: skip
WORDS_AFTER_ANY_COUNT = {"из", "не", "за"}


def _counts_before_nouns(words: str) -> list[str]:
    """A count followed by a noun ("{n} окон"): right for some numbers only ("1 окон", "5 трека") —
    Russian nouns take three forms after a number. Counts go after a colon or in brackets instead."""
    return [
        match.group(0)
        for match in re.finditer(r"\{(\w+)(?::[^}]*)?\} ([а-яё]+)", words)
        if match.group(1) in COUNTS and match.group(2) not in WORDS_AFTER_ANY_COUNT
    ]


def test_russian_puts_no_count_before_a_noun():
    found = {key: hits for key, words in catalogue("ru").items() if (hits := _counts_before_nouns(words))}
    assert found == {}


def test_the_count_check_catches_a_count_before_a_noun():
    assert _counts_before_nouns("{tracks} трека перешли на бег; окон: {n}; {shown} из {total}") == [
        "{tracks} трека"
    ]


def _ui_sources() -> list[Path]:
    return [
        ROOT / "streamlit_app.py",
        ROOT / "api" / "gate.py",  # the sign-in form
        *(ROOT / "dashboard").glob("*.py"),
        *(ROOT / "app_pages").glob("*.py"),
    ]


def _keys_used_by_the_ui() -> set[str]:
    code = "\n".join(path.read_text() for path in _ui_sources())
    keys = set(re.findall(r"\b(?:t\(|escaped\(|text\(\s*\w+\s*,)\s*f?[\"']([A-Za-z_.{}]+)[\"']", code))
    from core.engines import ENGINE_CHOICES
    from core.export import EXPORTERS
    from core.schema import DOMAINS, Status

    placeholders = {  # a key made from a name: every name it can take, from the name's own list
        "{status}": [s.value for s in Status],
        "{engine}": ENGINE_CHOICES,
        "{unit}": ("B", "KB", "MB", "GB"),
        "{domain}": ("auto", *DOMAINS),
        "{fmt}": EXPORTERS,
    }
    expanded = set()
    for key in keys:
        placeholder = next((p for p in placeholders if p in key), None)
        if placeholder is None:
            expanded.add(key)
        else:
            expanded |= {key.replace(placeholder, name) for name in placeholders[placeholder]}
    return expanded


def test_every_key_the_ui_uses_exists_and_none_is_dead():
    used = _keys_used_by_the_ui()
    ui_keys = {key for key in catalogue("en") if not key.startswith(CORE_PREFIXES)}
    assert used - catalogue("en").keys() == set(), "keys used but missing from the catalogues"
    assert ui_keys - used == set(), "catalogue entries nothing uses"


def test_no_module_keeps_translations_of_its_own():
    """Every text lives in core/i18n's catalogues, so a new language is one new file."""
    sources = [*_ui_sources(), *(ROOT / "core").rglob("*.py"), *(ROOT / "api").glob("*.py")]
    private = sorted(
        path.relative_to(ROOT).as_posix()
        for path in sources
        if "i18n" not in path.parts and re.search(r"[\"'](ru|en)[\"']\s*:\s*[\"'(]", path.read_text())
    )
    assert private == []


def test_a_message_is_worded_in_the_readers_language_and_survives_storage():
    message = say("report.failed", reason=say("report.windows_failed", n=2))
    stored = message.to_json()
    again = Message.from_json(stored)
    assert again == message
    assert again.text("en") == text("en", "report.failed", reason=text("en", "report.windows_failed", n=2))
    assert CYRILLIC.search(again.text("ru")) and not CYRILLIC.search(again.text("en"))
    assert Message.from_json("an old plain log line") is None
    assert text("en", "no.such.key") == "no.such.key"


def _russian_literals(path: Path) -> list[str]:
    """String literals with Cyrillic in them, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CYRILLIC.search(node.value)
        and id(node) not in docstrings
    ]


def test_no_module_writes_russian_words_of_its_own():
    """Words people read come from the catalogues; only search data (synonyms and stop words people
    type, in every language at once) holds Russian words outside them."""
    search_data = {"core/search.py", "core/taxonomy_i18n.py"}
    sources = [*_ui_sources(), *(ROOT / "core").rglob("*.py"), *(ROOT / "api").glob("*.py")]
    own = {
        path.relative_to(ROOT).as_posix(): found
        for path in sources
        if "i18n" not in path.parts
        and path.relative_to(ROOT).as_posix() not in search_data
        and (found := _russian_literals(path))
    }
    assert own == {}
