"""Stemmers for the search stemmer bench: the hand-made one core/search.py used before Snowball
(kept here unchanged as the baseline: one Russian or English ending stripped, the rest matched as a
prefix) and Snowball's (the `snowballstemmer` package, pure Python)."""

from __future__ import annotations

import os
import re

import snowballstemmer

from core.search import fold

_CYRILLIC = re.compile(r"[а-я]")
# Russian endings, longest first; one is stripped (leaving 4+ letters) and the rest matched as a prefix.
_RU_ENDINGS = sorted(
    frozenset(
        (  # noqa: SIM905 (kept as it stood in core/search.py)
            "иями ями ами ыми ими его ого ему ому ией ием ии ия ию ях ах ов ев ей ий ый ой ая яя ое ее ые ие "
            "ую юю ом ем ам ям ья ье ью ьи ется ются утся ятся тся ешь ет ют ут ит ат ят ись ась ось ся сь "
            "ала ила ыла али или ало ило ал ил ыл ла ли ло а я о е ы и у ю ь й"
        ).split()
    ),
    key=len,
    reverse=True,
)
_EN_ENDINGS = ("ings", "ing", "ies", "ed", "es", "ly", "s")


def handmade_stem(word: str) -> str:
    word = fold(word)
    if _CYRILLIC.search(word):
        for ending in _RU_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                return word[: -len(ending)]
        return word
    for ending in _EN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3 and not word.endswith("ss"):
            base = word[: -len(ending)]
            if ending in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                base = base[:-1]  # "stopped" → "stop", "running" → "run"
            return base
    return word


_SNOWBALL = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}


def snowball_stem(word: str) -> str:
    """Snowball's stem as it stands (not always a prefix of the word: "driving" → "drive")."""
    word = fold(word)
    return _SNOWBALL["ru" if _CYRILLIC.search(word) else "en"].stemWord(word)


def snowball_prefix_stem(word: str) -> str:
    """Snowball's stem cut back to the part it shares with the word, so a prefix match finds the word."""
    word = fold(word)
    return os.path.commonprefix([word, snowball_stem(word)]) or word
