"""Search over stored results: window descriptions (the storyboard), event types and descriptions,
review notes, in one incident or across all of them, in Russian and English.

How a query is read:
- words naming an event type in either language ("ДТП", "авария", "драка", "crash") become a group
  that matches the type's code, labels and synonyms in both languages (core.taxonomy_i18n), so a
  Russian question finds an English description and the other way round; the types analysts added
  as concerns (stored events of a type Sigma does not define, such as NO_GLOVES) are named by the
  words of their code ("no gloves") the same way;
- other words are matched by their Snowball stem as a prefix ("аварии" → `авари*` → "авария",
  "аварию"; "crossing" → `cross*`), because neither database stems both languages the same way;
  `"quoted words"` match as a phrase;
- every group must match; when no row matches them all, rows matching any group are shown instead
  (`SearchResults.matched_all` says which).

The database does the matching: SQLite FTS5 (unicode61 tokenizer) or PostgreSQL `to_tsvector('simple')`
with GIN indexes, both kept current by the database itself (migration 0002). The same query builder
serves both, so both databases find the same rows. Snippets and marks are computed here, the same way
for both.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import snowballstemmer
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.models import EventRow
from core.taxonomy_i18n import TYPES, words_for

Kind = Literal["window", "event"]
KINDS: tuple[Kind, ...] = ("window", "event")

_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r'"([^"]*)"')
_CYRILLIC = re.compile(r"[а-я]")

_STOPWORD_TEXT = (
    "a an the of on in at to and or is are was were be by with for from this that it its as into "
    "и в во на с со по к ко у о об из за не что как а но или это то же ли от до при под над для"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SNIPPET_CHARS = 220
_MAX_CODE_WORDS = 6  # an analyst's type code is looked up from runs of at most this many query words ...
_MAX_CODE_QUERY_WORDS = 24  # ... among the query's first words
SHORT_WORD = 2


def fold(word: str) -> str:
    """Lower case, ё as е, accents off Latin letters: how words are compared here."""
    word = word.casefold().replace("ё", "е")
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    kept = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def words(text_: str) -> list[str]:
    """The words of a text, split the way both databases' tokenizers split it (letters and digits)."""
    return _WORD.findall(text_)


_SNOWBALL = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
_SNOWBALL_LOCK = threading.Lock()  # a Snowball stemmer keeps its word in itself while it works


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The Snowball stem (Russian or English), matched as a prefix of the stored words.

    The database indexes words as written, so the stem must be a prefix of the words it should find:
    where Snowball rewrote the stem's last letter ("driving" → "drive", "body" → "bodi") it is cut back
    to the letters it shares with the word ("driv", "bod"); a word Snowball maps to letters that are
    not its own (English exceptions such as "lying" → "lie") is kept whole. bench/bench_search.py
    (`stemmer`) measured this against the hand-made endings used before: bench/RESULTS.md."""
    word = fold(word)
    stemmer = _SNOWBALL["ru" if _CYRILLIC.search(word) else "en"]
    with _SNOWBALL_LOCK:
        stemmed = stemmer.stemWord(word)
    shared = os.path.commonprefix([word, stemmed])
    return shared if shared and len(shared) >= len(stemmed) - 1 else word


@dataclass(frozen=True)
class Term:
    """Words that must all appear: each as a prefix (stems), or together in order (a quoted phrase)."""

    words: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: groups of alternatives (a row matches a group if it matches any term of it)."""

    text: str
    groups: tuple[tuple[Term, ...], ...]
    types: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.groups


def _phrase_index(codes: Iterable[str]) -> tuple[dict[tuple[str, ...], frozenset[str]], int]:
    """Stemmed phrase → the event types it names; and the longest phrase, in words."""
    index: dict[tuple[str, ...], set[str]] = {}
    for code in codes:
        for phrase in words_for(code).phrases:
            key = tuple(stem(w) for w in words(phrase))
            if key:
                index.setdefault(key, set()).add(code)
    return {k: frozenset(v) for k, v in index.items()}, max((len(k) for k in index), default=0)


@lru_cache(maxsize=1)
def _synonym_index() -> tuple[dict[tuple[str, ...], frozenset[str]], int]:
    """The phrase index of the built-in types (made once)."""
    return _phrase_index(TYPES)


def _phrase_term(phrase_words: list[str]) -> Term:
    """A loose term from words: stems, stop words left out (unless nothing else is left)."""
    kept = [w for w in phrase_words if fold(w) not in _STOPWORDS] or phrase_words
    return Term(tuple(stem(w) for w in kept))


def _simplest(own: Term, alternatives: Iterable[Term]) -> tuple[Term, ...]:
    """The user's own words, then the alternatives without redundancy: a term needing all the words of
    a simpler one and more adds nothing to an OR (A or (A and B) = A) but costs another index lookup.
    The user's own words always stay: they find nothing more, but rank the rows that have them higher."""
    unique = [t for t in dict.fromkeys(alternatives) if t != own]
    return (own,) + tuple(
        t for t in unique if not any(o is not t and set(o.words) < set(t.words) for o in (own, *unique))
    )


def _type_terms(codes: Iterable[str]) -> list[Term]:
    return [
        _phrase_term(words(phrase))
        for code in sorted(codes)
        for phrase in words_for(code).phrases
        if words(phrase)
    ]


def parse_query(query_text: str, extra_types: Iterable[str] = ()) -> Query:
    """Read a query as the module docstring describes; `extra_types` are the stored types that are
    not built in (analysts' concerns), named by the words of their codes."""
    groups: list[tuple[Term, ...]] = []
    for phrase in _QUOTED.findall(query_text):
        phrase_words = tuple(fold(w) for w in words(phrase))
        if phrase_words:
            groups.append((Term(phrase_words, phrase=True),))
    loose = [fold(w) for w in words(_QUOTED.sub(" ", query_text))]
    stems = [stem(w) for w in loose]
    index, longest = _synonym_index()
    extra, extra_longest = _phrase_index(code for code in extra_types if code not in TYPES)
    if extra:
        index = {
            key: index.get(key, frozenset()) | extra.get(key, frozenset()) for key in index.keys() | extra
        }
        longest = max(longest, extra_longest)
    types: set[str] = set()
    plain: list[str] = []
    position = 0
    while position < len(stems):
        for length in range(min(longest, len(stems) - position), 0, -1):
            codes = index.get(tuple(stems[position : position + length]))
            if codes:
                types |= codes
                own = _phrase_term(loose[position : position + length])
                groups.append(_simplest(own, _type_terms(codes)))
                position += length
                break
        else:
            plain.append(loose[position])
            position += 1
    meaningful = [w for w in plain if w not in _STOPWORDS] or ([] if groups else plain)
    groups.extend((Term((stem(w),)),) for w in dict.fromkeys(meaningful))
    return Query(query_text, tuple(groups), frozenset(types))


def _yo_variants(word: str) -> list[str]:
    """`word` and its spellings with ё in place of one е (documents may use either)."""
    if len(word) < 4:
        return [word]
    return [word] + [word[:i] + "ё" + word[i + 1 :] for i, char in enumerate(word) if char == "е"][:3]


def _as_prefix(word: str) -> bool:
    """Words of one or two letters match exactly: as prefixes they would match half the vocabulary."""
    return len(word) > SHORT_WORD


@dataclass(frozen=True)
class MatchSyntax:
    """How a database's full-text query language spells the same query."""

    quote: str
    prefix: str
    any_of: str
    all_of: str
    phrase: Callable[[list[str]], str]


FTS5 = MatchSyntax(  # SQLite MATCH
    quote='"', prefix="*", any_of=" OR ", all_of=" AND ", phrase=lambda words: '"' + " ".join(words) + '"'
)
TSQUERY = MatchSyntax(  # PostgreSQL to_tsquery('simple', ...)
    quote="'", prefix=":*", any_of=" | ", all_of=" & ",
    phrase=lambda words: "(" + " <-> ".join(f"'{w}'" for w in words) + ")",
)  # fmt: skip


def match_expression(query: Query, syntax: MatchSyntax, *, any_group: bool = False) -> str:
    """The query in a database's full-text syntax; every word is quoted, so no operator injection."""
    q = syntax.quote

    def word(w: str) -> str:
        variants = [f"{q}{v}{q}" + (syntax.prefix if _as_prefix(v) else "") for v in _yo_variants(w)]
        return variants[0] if len(variants) == 1 else "(" + syntax.any_of.join(variants) + ")"

    def term(t: Term) -> str:
        if t.phrase:
            return syntax.phrase(t.words)
        return "(" + syntax.all_of.join(word(w) for w in t.words) + ")"

    joiner = syntax.any_of if any_group else syntax.all_of
    return joiner.join("(" + syntax.any_of.join(term(t) for t in group) + ")" for group in query.groups)


class Hit(BaseModel):
    """One place that matched: a window of the storyboard or an event, with where and how well."""

    incident_id: int
    original_name: str
    kind: Kind
    start_time: float
    end_time: float
    score: float
    snippet: str
    marks: list[tuple[int, int]] = []
    event_type: str | None = None
    event_id: int | None = None
    window_index: int | None = None
    pass_no: int = 1
    confidence: float | None = None  # events: the detection's confidence
    window_score: float | None = None  # windows: the engine's score for the window
    review_status: str | None = None

    def marked(self, open_: str = "[", close: str = "]", escape=lambda s: s) -> str:
        """The snippet with each matched word wrapped in `open_`/`close`, the rest passed through `escape`."""
        out, cursor = [], 0
        for start, end in self.marks:
            out += [escape(self.snippet[cursor:start]), open_, escape(self.snippet[start:end]), close]
            cursor = end
        out.append(escape(self.snippet[cursor:]))
        return "".join(out)


@dataclass
class SearchResults:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    matched_all: bool = True  # False: no row matched every word; these rows match some

    @property
    def types(self) -> list[str]:
        """Event types the query named (for "also searched for ..." in the UI)."""
        return sorted(self.query.types)


def _marks(source: str, query: Query) -> list[tuple[int, int]]:
    """Spans of the words of `source` that satisfy a term of the query (all of a term's words present;
    a phrase's words in order), so a word is never marked for a term the text does not match."""
    tokens = [(fold(m.group()), m.span()) for m in _WORD.finditer(source)]
    marked: set[tuple[int, int]] = set()
    for group in query.groups:
        for term in group:
            if term.phrase:
                size = len(term.words)
                for i in range(len(tokens) - size + 1):
                    if tuple(t for t, _ in tokens[i : i + size]) == term.words:
                        marked.update(span for _, span in tokens[i : i + size])
                continue
            found = [
                [
                    span
                    for token, span in tokens
                    if token.startswith(word)
                    if _as_prefix(word) or token == word
                ]
                for word in term.words
            ]
            if all(found):
                marked.update(span for spans in found for span in spans)
    return sorted(marked)


def make_snippet(source: str, query: Query, width: int = _SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """A piece of `source` around its first matched word, and the (start, end) of each matched word."""
    marks = _marks(source, query)
    if len(source) <= width:
        return source, marks
    first = marks[0][0] if marks else 0
    start = max(0, first - width // 3)
    if start:
        space = source.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(source), start + width)
    if end < len(source):
        space = source.rfind(" ", start + width // 2, end)
        end = space if space != -1 else end
    lead, tail = ("…" if start else ""), ("…" if end < len(source) else "")
    shift = len(lead) - start
    inside = [(a + shift, b + shift) for a, b in marks if a >= start and b <= end]
    return lead + source[start:end] + tail, inside


def _text_score(raw: float, dialect: str) -> float:
    """0..1, larger is better: FTS5's bm25 is negative and unbounded; ts_rank_cd(…, 32) is 0..1 already."""
    if dialect == "sqlite":
        relevance = max(0.0, -raw)
        return relevance / (relevance + 1.0)
    return max(0.0, min(1.0, raw))


# Ranks are rounded before ordering so that equally relevant rows (a common word, where bm25 is ~0)
# fall back to the engine's own judgement: the window's score, the event's confidence.
_SQLITE_WINDOWS = """
SELECT t.incident_id, i.original_name, t.window_index, t.start_time, t.end_time, t.description,
       t.pass_no, t.score, round(bm25(timelines_fts), 3) AS rank
FROM timelines_fts JOIN timelines t ON t.id = timelines_fts.rowid JOIN incidents i ON i.id = t.incident_id
WHERE timelines_fts MATCH :q AND t.failed = 0 {incident}
ORDER BY rank, t.score DESC LIMIT :limit
"""
_SQLITE_EVENTS = """
SELECT e.incident_id, i.original_name, e.id, e.event_type, e.start_time, e.end_time, e.description,
       e.pass_no, e.confidence, e.review_status, e.review_note, round(bm25(events_fts, 2.0, 1.0, 1.0), 3) AS rank
FROM events_fts JOIN events e ON e.id = events_fts.rowid JOIN incidents i ON i.id = e.incident_id
WHERE events_fts MATCH :q {incident}
ORDER BY rank, e.confidence DESC LIMIT :limit
"""
# `search_vector`: the stored to_tsvector('simple', ...) of migration 0002, GIN-indexed.
_PG_WINDOWS = """
SELECT t.incident_id, i.original_name, t.window_index, t.start_time, t.end_time, t.description,
       t.pass_no, t.score, round(ts_rank_cd(t.search_vector, q, 32)::numeric, 4)::float8 AS rank
FROM timelines t JOIN incidents i ON i.id = t.incident_id, to_tsquery('simple', :q) AS q
WHERE t.search_vector @@ q AND NOT t.failed {incident}
ORDER BY rank DESC, t.score DESC LIMIT :limit
"""
_PG_EVENTS = """
SELECT e.incident_id, i.original_name, e.id, e.event_type, e.start_time, e.end_time, e.description,
       e.pass_no, e.confidence, e.review_status, e.review_note,
       round(ts_rank_cd(e.search_vector, q, 32)::numeric, 4)::float8 AS rank
FROM events e JOIN incidents i ON i.id = e.incident_id, to_tsquery('simple', :q) AS q
WHERE e.search_vector @@ q {incident}
ORDER BY rank DESC, e.confidence DESC LIMIT :limit
"""


def _run(
    session: Session,
    query: Query,
    *,
    incident_id: int | None,
    kinds: Iterable[Kind],
    limit: int,
    any_group: bool,
) -> list[Hit]:
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    expression = match_expression(query, FTS5 if sqlite else TSQUERY, any_group=any_group)
    params: dict[str, object] = {"q": expression, "limit": limit}
    for_incident = ""
    if incident_id is not None:
        params["incident_id"] = incident_id
        for_incident = "AND {alias}.incident_id = :incident_id"
    hits: list[Hit] = []
    if "window" in kinds:
        sql = (_SQLITE_WINDOWS if sqlite else _PG_WINDOWS).format(incident=for_incident.format(alias="t"))
        for row in session.execute(text(sql), params):
            snippet, marks = make_snippet(row.description, query)
            hits.append(
                Hit(
                    incident_id=row.incident_id,
                    original_name=row.original_name,
                    kind="window",
                    start_time=row.start_time,
                    end_time=row.end_time,
                    score=round(_text_score(row.rank, dialect), 4),
                    snippet=snippet,
                    marks=marks,
                    window_index=row.window_index,
                    pass_no=row.pass_no,
                    window_score=row.score,
                )
            )
    if "event" in kinds:
        sql = (_SQLITE_EVENTS if sqlite else _PG_EVENTS).format(incident=for_incident.format(alias="e"))
        for row in session.execute(text(sql), params):
            snippet, marks = make_snippet(row.description, query)
            if not marks and row.review_note:
                note_snippet, note_marks = make_snippet(row.review_note, query)
                if note_marks:
                    snippet, marks = note_snippet, note_marks
            relevance = _text_score(row.rank, dialect)
            if row.event_type in query.types:  # the query named this event's type: the strongest evidence
                relevance = 0.9 + 0.1 * relevance
            hits.append(
                Hit(
                    incident_id=row.incident_id,
                    original_name=row.original_name,
                    kind="event",
                    start_time=row.start_time,
                    end_time=row.end_time,
                    score=round(relevance, 4),
                    snippet=snippet,
                    marks=marks,
                    event_type=row.event_type,
                    event_id=row.id,
                    pass_no=row.pass_no,
                    confidence=row.confidence,
                    review_status=row.review_status,
                )
            )
    # equal relevance (common words): the more anomalous window or the more confident event first
    hits.sort(
        key=lambda h: (-h.score, -(h.confidence or h.window_score or 0.0), -h.incident_id, h.start_time)
    )
    return hits[:limit]


def _named_custom_types(session: Session, query_text: str) -> list[str]:
    """Stored event types Sigma does not define itself (the analysts' concerns) that the query names
    by the words of their code ("no gloves" → NO_GLOVES): one indexed lookup of the codes that runs
    of its words spell."""
    loose = [fold(w) for w in words(_QUOTED.sub(" ", query_text))][:_MAX_CODE_QUERY_WORDS]
    spelled = {
        "_".join(loose[i:j]).upper()
        for i in range(len(loose))
        for j in range(i + 1, min(len(loose), i + _MAX_CODE_WORDS) + 1)
    }
    candidates = sorted(code for code in spelled - TYPES.keys() if code.isascii())
    if not candidates:
        return []
    return sorted(
        session.scalars(select(EventRow.event_type).where(EventRow.event_type.in_(candidates)).distinct())
    )


def search(
    session: Session,
    query_text: str,
    *,
    incident_id: int | None = None,
    kinds: Iterable[Kind] = KINDS,
    limit: int = 50,
) -> SearchResults:
    """Hits for `query_text`, best first: in one incident or (incident_id None) across all of them."""
    query = parse_query(query_text, _named_custom_types(session, query_text))
    if query.empty:
        return SearchResults(query)
    kinds = tuple(kinds)
    hits = _run(session, query, incident_id=incident_id, kinds=kinds, limit=limit, any_group=False)
    if hits or len(query.groups) == 1:
        return SearchResults(query, hits)
    hits = _run(session, query, incident_id=incident_id, kinds=kinds, limit=limit, any_group=True)
    return SearchResults(query, hits, matched_all=False)
