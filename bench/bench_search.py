"""Search benchmark → bench/RESULTS.md (section `search`).

10,000 stored windows (5 incidents × 2,000, about what five 50-minute videos give) with English and
Russian descriptions, plus 50 events, written through core.repository as an analysis writes them
(so the full-text index is maintained by the database as in production). Then a set of queries —
common and rare words, both languages, event-type synonyms, a phrase, a query with no full match
(falls back to any word), one incident only — each run repeatedly through `core.search.search`, the
same call the CLI and the dashboard make (query parsing, SQL, snippets). Goal: under 100 ms per
query. Baseline in the same run: a primary-key `SELECT` of one window through the same session.

Run on SQLite (a file in a temporary folder) and on PostgreSQL (a throwaway schema, dropped after).

Then (section `search-stemmer`, alone with `stemmer`) the stemmer: how many of the expected windows
each stemmer finds for queries an investigator types, Snowball against the hand-made endings search
used before (bench/_stemmers.py), on the corpus of bench/search_corpus.py.
Run: `.venv/bin/python -m bench.bench_search [stemmer]`
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import search_corpus
from bench._results import write_section
from bench._stemmers import handmade_stem, snowball_prefix_stem, snowball_stem
from core import repository
from core import search as search_module
from core.db import create_db_engine, migrate, session_scope
from core.schema import AnalysisParams, EngineOutcome, Event, WindowRecord
from core.search import fold, search, words
from core.storage import StoredVideo
from core.video import VideoInfo

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
INCIDENTS, WINDOWS_PER_INCIDENT, EVENTS_PER_INCIDENT = 5, 2000, 10
WINDOW_SEC = 1.5
REPEATS = 15
GOAL_MS = 100.0

QUERIES: list[tuple[str, dict]] = [
    ("car", {}),
    ("машина", {}),
    ("авария", {}),
    ("драка", {}),
    ("forklift reverses", {}),
    ("пешеход переходит", {}),
    ('"two cars collide"', {}),
    ("smoke", {}),
    ("white truck junction", {}),
    ("worker falls", {}),
    ("zebra unicorn crosswalk", {}),  # no window has all: the any-word fallback runs too
    ("cyclist", {"incident_id": 1}),
]

_EN = (
    ("a white car", "a red truck", "two pedestrians", "a cyclist", "a bus", "a worker in a hi-vis vest",
     "a forklift", "a group of people", "a motorcycle", "a delivery van"),
    ("drives through", "waits at", "turns left at", "crosses", "stops near", "walks along", "parks beside",
     "reverses towards", "slows down at", "speeds past"),
    ("the junction", "the crosswalk", "the loading dock", "the entrance", "the parking lot",
     "the warehouse aisle", "the traffic light", "the shelf racks"),
    ("two cars collide", "a fight breaks out", "smoke rises from a vehicle", "a worker falls from a ladder",
     "a pedestrian is hit", "a man without a helmet climbs the scaffold"),
)  # fmt: skip
_RU = (
    ("белая машина", "красный грузовик", "два пешехода", "велосипедист", "автобус", "рабочий в жилете",
     "погрузчик", "группа людей", "мотоцикл", "фургон"),
    ("проезжает", "ждёт у", "поворачивает налево у", "переходит", "останавливается у", "идёт вдоль",
     "паркуется у", "сдаёт назад к"),
    ("перекрёстка", "пешеходного перехода", "погрузочной рампы", "входа", "парковки", "стеллажей", "светофора"),
    ("две машины столкнулись", "началась драка", "из машины идёт дым", "рабочий упал с лестницы",
     "пешехода сбила машина"),
)  # fmt: skip
_EVENT_TYPES = ("COLLISION", "FIGHT", "FIRE_SMOKE", "FALL", "PEDESTRIAN_HIT", "NO_HELMET", "NEAR_MISS")


def _description(rng: random.Random) -> str:
    subjects, verbs, places, incidents = _RU if rng.random() < 0.35 else _EN
    text_ = f"{rng.choice(subjects).capitalize()} {rng.choice(verbs)} {rng.choice(places)}"
    if rng.random() < 0.5:
        text_ += f", {rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(places)}"
    if rng.random() < 0.04:
        text_ += f"; {rng.choice(incidents)}"
    return text_ + "."


def _fake_video(number: int) -> StoredVideo:
    duration = WINDOWS_PER_INCIDENT * WINDOW_SEC
    info = VideoInfo(
        width=1920, height=1080, fps=25.0, duration=duration, frame_count=int(duration * 25), codec="h264"
    )
    return StoredVideo(f"bench-{number}.mp4", f"camera-{number}.mp4", f"{number:064x}", 10**9, info)


def _fill(engine) -> float:
    """Store the incidents; returns the seconds spent writing windows and events (index upkeep included)."""
    rng = random.Random(7)
    params = AnalysisParams(window_sec=WINDOW_SEC, target_fps=10, frames_per_window=5, max_highlights=10)
    spent = 0.0
    for number in range(1, INCIDENTS + 1):
        windows = [
            WindowRecord(
                window_index=i,
                start_time=i * WINDOW_SEC,
                end_time=(i + 1) * WINDOW_SEC,
                description=_description(rng),
                score=rng.random(),
            )
            for i in range(WINDOWS_PER_INCIDENT)
        ]
        events = [
            Event(
                event_type=rng.choice(_EVENT_TYPES),
                start_time=(start := rng.randrange(WINDOWS_PER_INCIDENT) * WINDOW_SEC),
                end_time=start + 3.0,
                confidence=round(rng.uniform(0.4, 0.99), 2),
                description=_description(rng),
            )
            for _ in range(EVENTS_PER_INCIDENT)
        ]
        outcome = EngineOutcome(engine="vlm", model_version="bench", prompt_version="bench", windows=windows)
        with session_scope(engine) as session:
            incident = repository.create_incident(session=session, video=_fake_video(number), params=params)
        started = time.perf_counter()
        with session_scope(engine) as session:
            repository.save_outcome(session, repository.get_incident(session, incident.id), outcome, events)
        spent += time.perf_counter() - started
    return spent


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(engine) -> dict:
    write_sec = _fill(engine)
    per_query: list[tuple[str, int, bool, float, float]] = []
    all_ms: list[float] = []
    with session_scope(engine) as session:
        for query, options in QUERIES:  # warm-up: caches and prepared plans, as a running app has
            search(session, query, **options)
        for query, options in QUERIES:
            timings = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                found = search(session, query, **options)
                timings.append((time.perf_counter() - started) * 1000)
            all_ms += timings
            per_query.append(
                (query, len(found.hits), found.matched_all, statistics.median(timings), max(timings))
            )
        ids = [row[0] for row in session.execute(text("SELECT id FROM timelines"))]
        rng = random.Random(3)
        baseline = []
        for _ in range(REPEATS * len(QUERIES)):
            started = time.perf_counter()
            session.execute(
                text("SELECT id, description FROM timelines WHERE id = :id"), {"id": rng.choice(ids)}
            ).one()
            baseline.append((time.perf_counter() - started) * 1000)
        windows = session.execute(text("SELECT count(*) FROM timelines")).scalar_one()
    return {
        "windows": windows,
        "write_sec": write_sec,
        "per_query": per_query,
        "median": statistics.median(all_ms),
        "p95": _percentile(all_ms, 0.95),
        "worst": max(all_ms),
        "baseline": statistics.median(baseline),
    }


def _sqlite(measure=None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate(engine)
        try:
            return (measure or _measure)(engine)
        finally:
            engine.dispose()


def _postgres(measure=None) -> dict:
    schema = f"sigma_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        migrate(engine)
        return (measure or _measure)(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _table(name: str, result: dict) -> str:
    verdict = "meets" if result["p95"] < GOAL_MS else "MISSES"
    lines = [
        (
            f"**{name}**: {result['windows']:,} windows; median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms, "
            f"worst {result['worst']:.1f} ms per query ({verdict} the {GOAL_MS:.0f} ms goal); baseline primary-key "
            f"SELECT {result['baseline']:.2f} ms (search p95 = {result['p95'] / result['baseline']:.0f}× baseline). "
            f"Writing the windows and events with index upkeep: {result['write_sec']:.2f} s "
            f"({result['windows'] / result['write_sec']:,.0f} windows/s)."
        ),
        "",
        "| query | hits | all words | median ms | worst ms |",
        "|---|---:|:---:|---:|---:|",
    ]
    for query, hits, matched_all, median, worst in result["per_query"]:
        shown = query.replace("|", "\\|")
        lines.append(
            f"| `{shown}` | {hits} | {'yes' if matched_all else 'no'} | {median:.1f} | {worst:.1f} |"
        )
    return "\n".join(lines)


# --- the stemmer: Snowball against the hand-made endings, on expected hits ----------------------------

STEMMERS = {
    "hand-made endings (before)": handmade_stem,
    "Snowball": snowball_stem,
    "Snowball, cut to a prefix of the word": snowball_prefix_stem,
    "core.search.stem (now)": search_module.stem,
}


def _expected(query_lemmas: tuple[str, ...], descriptions: list[str]) -> set[int]:
    """The windows holding some form of every lemma of the query (see bench/search_corpus.py)."""
    forms = [{fold(form) for form in search_corpus.LEMMAS[lemma].split()} for lemma in query_lemmas]
    return {
        index
        for index, description in enumerate(descriptions)
        if all(forms_of & {fold(w) for w in words(description)} for forms_of in forms)
    }


def _store_corpus(engine) -> list[str]:
    """The corpus as one incident's windows, written as an analysis writes them; window i is text i."""
    descriptions = [*search_corpus.RU, *search_corpus.EN]
    windows = [
        WindowRecord(
            window_index=i, start_time=i * WINDOW_SEC, end_time=(i + 1) * WINDOW_SEC, description=text_
        )
        for i, text_ in enumerate(descriptions)
    ]
    params = AnalysisParams(window_sec=WINDOW_SEC, target_fps=10, frames_per_window=5, max_highlights=10)
    outcome = EngineOutcome(engine="vlm", model_version="bench", prompt_version="bench", windows=windows)
    with session_scope(engine) as session:
        incident = repository.create_incident(session=session, video=_fake_video(1), params=params)
    with session_scope(engine) as session:
        repository.save_outcome(session, repository.get_incident(session, incident.id), outcome, [])
    return descriptions


def _measure_stemmers(engine) -> dict:
    """Every query through `core.search.search` (windows only) with each stemmer in turn: the windows
    each finds, the expected ones among them, and the rest."""
    descriptions = _store_corpus(engine)
    original = search_module.stem
    found: dict[str, list[set[int]]] = {}
    try:
        for name, stemmer in STEMMERS.items():
            search_module.stem = stemmer
            search_module._synonym_index.cache_clear()  # the taxonomy's phrases are stemmed too
            with session_scope(engine) as session:
                found[name] = [
                    {
                        round(h.start_time / WINDOW_SEC)
                        for h in search(session, q, kinds=("window",), limit=200).hits
                    }
                    for q, _ in search_corpus.QUERIES
                ]
    finally:
        search_module.stem = original
        search_module._synonym_index.cache_clear()
    expected = [_expected(lemmas, descriptions) for _, lemmas in search_corpus.QUERIES]
    return {"expected": expected, "found": found}


def _stemmer_markdown(sqlite: dict, postgres: dict) -> str:
    expected = sqlite["expected"]
    total = sum(len(e) for e in expected)
    names = list(STEMMERS)
    summary = ["| stemmer | expected hits found | of | other hits |", "|---|---:|---:|---:|"]
    for name in names:
        hits = sqlite["found"][name]
        right = sum(len(h & e) for h, e in zip(hits, expected))
        other = sum(len(h - e) for h, e in zip(hits, expected))
        summary.append(f"| {name} | {right} | {total} | {other} |")
    same = all(sqlite["found"][n] == postgres["found"][n] for n in names)
    rows = [
        "| query | expected | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for (query, _), wanted, *hits in zip(
        search_corpus.QUERIES, expected, *(sqlite["found"][n] for n in names)
    ):
        cells = [f"{len(h & wanted)} (+{len(h - wanted)})" for h in hits]
        rows.append(f"| `{query}` | {len(wanted)} | " + " | ".join(cells) + " |")
    return "\n".join(
        [
            "### Search stemmer: Snowball against the hand-made endings (`bench/bench_search.py stemmer`)",
            "",
            (
                f"{len(search_corpus.RU)} Russian and {len(search_corpus.EN)} English window descriptions stored as an "
                f"analysis stores them; {len(search_corpus.QUERIES)} queries as an investigator types them, each "
                "through `core.search.search` (windows only) with each stemmer in turn. Corpus, queries and expected "
                "hits (bench/search_corpus.py) were written before any stemmer ran on them; a window is expected when "
                "it holds some form of every word the query means (the word's paradigm, irregular forms included), "
                "so the expected set does not depend on either stemmer. 'Other hits' are windows found that hold "
                "no such form: words sharing letters with another word, or the taxonomy's synonyms in either "
                "language (the same mechanism for every stemmer). The candidate, chosen before measuring, is "
                "Snowball cut to a prefix of the word: the database matches a query stem as a prefix of unstemmed "
                'text, and Snowball\'s stem is not always a prefix ("driving" → "drive", "body" → "bodi"). '
                'The first run showed it losing `lying` (Porter2\'s exception list maps it to "lie", whose shared '
                'prefix is "l"), so `core.search.stem` keeps a word whole when Snowball\'s stem is not its own '
                "letters but for the last; that rule was added after seeing this corpus, so its row is not a "
                "held-out figure."
            ),
            "",
            *summary,
            "",
            f"PostgreSQL found the same windows as SQLite for every query and stemmer: {'yes' if same else 'NO'}.",
            "",
            "Per query (SQLite): expected windows found (+ other windows found).",
            "",
            *rows,
        ]
    )


def stemmer_main() -> None:
    markdown = _stemmer_markdown(_sqlite(_measure_stemmers), _postgres(_measure_stemmers))
    write_section("search-stemmer", markdown)
    print(markdown)


def main() -> None:
    sqlite, postgres = _sqlite(), _postgres()
    markdown = "\n".join(
        [
            "### Search over 10,000 stored windows (`bench/bench_search.py`)",
            "",
            (
                f"{len(QUERIES)} queries × {REPEATS} runs each through `core.search.search` (parse, SQL, snippets; "
                "at most 50 hits). SQLite: FTS5 kept current by triggers; PostgreSQL: GIN index on a stored "
                "generated `to_tsvector('simple', …)` column. Goal: under 100 ms per query."
            ),
            "",
            _table("SQLite", sqlite),
            "",
            _table("PostgreSQL", postgres),
        ]
    )
    write_section("search", markdown)
    print(markdown)
    stemmer_main()


if __name__ == "__main__":
    stemmer_main() if sys.argv[1:] == ["stemmer"] else main()
