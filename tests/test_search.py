"""Search over stored windows and events (SQLite FTS5 and PostgreSQL tsvector), and "Ask the model"."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import text

from core import repository
from core import search as search_module
from core.access import OPEN_ACCESS
from core.ask import AskUnavailable, ask_model, unavailable_reason
from core.cli import main as cli_main
from core.config import get_settings
from core.db import create_db_engine, get_engine, migrate, run_migrations, session_scope
from core.jobs import run_analysis
from core.schema import AnalysisParams, EngineOutcome, Event, ReviewStatus, WindowRecord
from core.search import parse_query, search
from core.service import delete, register_video
from core.taxonomy_i18n import TYPES, type_label
from tests.conftest import make_settings
from tests.stored_results import store_incident

JUNCTION_WINDOWS = [
    (0.0, 1.5, "Cars wait at a red light, a cyclist on the right"),
    (1.5, 3.0, "Two cars collide at the junction; debris on the road"),
    (3.0, 4.5, "Машины стоят после столкновения, водитель выходит"),
]
YARD_WINDOWS = [
    (0.0, 1.5, "Двое мужчин дерутся у входа в магазин"),
    (1.5, 3.0, "People walking past the entrance"),
]


def _store_two(settings, clip) -> tuple[int, int]:
    junction = store_incident(
        settings,
        clip,
        name="junction.mp4",
        windows=JUNCTION_WINDOWS,
        events=[
            Event(
                event_type="COLLISION",
                start_time=1.5,
                end_time=3.0,
                confidence=0.9,
                description="two cars collide at the junction",
            )
        ],
    )
    yard = store_incident(
        settings,
        clip,
        name="yard.mp4",
        domain="violence",
        windows=YARD_WINDOWS,
        events=[
            Event(
                event_type="FIGHT", start_time=0.0, end_time=1.5, confidence=0.8, description="Драка у входа"
            )
        ],
    )
    return junction, yard


def _search(settings, query, **kwargs):
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        return search(session, query, **kwargs)


def _marked_words(hit) -> list[str]:
    return [hit.snippet[a:b] for a, b in hit.marks]


def test_search_across_languages_incidents_and_kinds(db_settings, clips):
    junction, yard = _store_two(db_settings, clips["calm"])

    # "авария" names COLLISION: the event, the English window and the Russian one are found
    found = _search(db_settings, "авария")
    assert found.types == ["COLLISION"] and found.matched_all
    assert {h.incident_id for h in found.hits} == {junction}
    top = found.hits[0]
    assert (top.kind, top.event_type, top.start_time, top.end_time) == ("event", "COLLISION", 1.5, 3.0)
    assert top.original_name == "junction.mp4" and top.score >= 0.5
    windows = {h.window_index: h for h in found.hits if h.kind == "window"}
    assert set(windows) == {1, 2}
    assert _marked_words(windows[1]) == ["collide"]
    assert _marked_words(windows[2]) == ["столкновения"]
    scores = [h.score for h in found.hits]
    assert scores == sorted(scores, reverse=True)

    # "ДТП" too, and "драка" finds the fight in the other incident, Russian window marked
    assert {h.incident_id for h in _search(db_settings, "ДТП").hits} == {junction}
    fight = _search(db_settings, "драка")
    assert fight.hits[0].kind == "event" and fight.hits[0].event_type == "FIGHT"
    assert fight.hits[0].incident_id == yard
    fight_window = next(h for h in fight.hits if h.kind == "window")
    assert (fight_window.start_time, _marked_words(fight_window)) == (0.0, ["дерутся"])
    assert _search(db_settings, "fight", incident_id=junction).hits == []
    assert len(_search(db_settings, "драка", incident_id=yard, kinds=("window",)).hits) == 1

    # plain words by stem, several words all required, phrases in order
    assert [h.window_index for h in _search(db_settings, "cyclists").hits] == [0]
    assert [h.window_index for h in _search(db_settings, "водители выходят").hits] == [2]
    assert [h.window_index for h in _search(db_settings, '"red light"', kinds=("window",)).hits] == [0]
    assert _search(db_settings, '"light red"').hits == []

    # no row has every word: the rows with some are shown, and the result says so
    partial = _search(db_settings, "junction zebra")
    assert not partial.matched_all and partial.hits
    assert all("junction" in h.snippet for h in partial.hits)
    assert _search(db_settings, "  !!! ").hits == []


def test_a_concern_type_is_searched_like_a_built_in_one(db_settings, clips):
    """An analyst's concern (NO_GLOVES) is named by its code's words and its events come first."""
    press = store_incident(
        db_settings,
        clips["calm"],
        name="press.mp4",
        domain="industrial",
        windows=[(0.0, 1.5, "a worker at the press"), (1.5, 3.0, "the worker's hands are bare")],
        events=[
            Event(
                event_type="NO_GLOVES", start_time=1.5, end_time=3.0, confidence=0.7, description="bare hands"
            )
        ],
    )
    found = _search(db_settings, "no gloves")
    assert found.types == ["NO_GLOVES"]
    top = found.hits[0]
    assert (top.kind, top.event_type, top.incident_id) == ("event", "NO_GLOVES", press)
    assert top.score >= 0.9  # the query named its type: the strongest evidence, as for built-in types
    assert type_label("NO_GLOVES", "ru") == "No gloves"


def test_search_index_follows_every_write(db_settings, clips):
    junction, _yard = _store_two(db_settings, clips["calm"])
    url = db_settings.resolved_database_url
    with session_scope(get_engine(url)) as session:
        event_id = repository.events_of(session, junction)[0].id
        repository.set_review(session, event_id, ReviewStatus.CONFIRMED, "Подтверждено инспектором ГИБДД")
    hits = _search(db_settings, "инспектор").hits
    assert [(h.kind, h.event_id, h.review_status) for h in hits] == [("event", event_id, "confirmed")]
    assert _marked_words(hits[0]) == ["инспектором"]

    # a new outcome replaces the old rows: old words are gone from the index, new ones are in
    with session_scope(get_engine(url)) as session:
        incident = repository.get_incident(session, junction)
        outcome = EngineOutcome(
            engine="vlm",
            model_version="m",
            prompt_version="p",
            windows=[
                WindowRecord(window_index=0, start_time=0, end_time=2, description="a tram passes slowly")
            ],
        )
        repository.save_outcome(session, incident, outcome, [])
    assert _search(db_settings, "junction").hits == []
    assert [h.incident_id for h in _search(db_settings, "tram").hits] == [junction]

    delete(junction, db_settings, actor=OPEN_ACCESS)
    assert _search(db_settings, "tram").hits == []
    assert _search(db_settings, "драка").hits  # the other incident is untouched


def test_search_finds_what_the_local_engine_stored(settings, clips):
    params = AnalysisParams.from_settings(settings, engine="local")
    incident_id = register_video(clips["collision"], settings, params)
    run_analysis(incident_id, settings)
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        events = repository.events_of(session, incident_id)
    assert events, "the collision clip should raise an event"
    assert all(e.event_type in TYPES for e in events), "every local engine type needs RU/EN words"
    event = events[0]
    hits = _search(settings, type_label(event.event_type, "ru")).hits
    assert any(h.kind == "event" and h.event_id == event.id for h in hits)


def test_every_produced_event_type_has_words_and_every_word_entry_a_producer():
    """The types the VLM's taxonomy names and the local engine writes (one text per type it
    produces) have words in both languages; an entry no engine produces is dead and must go."""
    from core.i18n import catalogue
    from core.prompts import OTHER, TAXONOMY

    produced = {*(t for types in TAXONOMY.values() for t in types), OTHER}
    local = {key.removeprefix("local.") for key in catalogue("en") if key.startswith("local.")}
    produced |= {key for key in local if key.isupper()}
    assert set(TYPES) == produced, f"no producer: {set(TYPES) - produced}; no words: {produced - set(TYPES)}"
    for code in sorted(produced):
        ru, en = type_label(code, "ru"), type_label(code, "en")
        assert ru and en and ru != en
        assert parse_query(ru).types >= {code}, code
        assert parse_query(en).types >= {code}, code


def test_query_is_never_an_injection():
    query = parse_query("crash\" OR NOT x* NEAR(a b) '; DROP TABLE events; -- :* & |")
    assert '"' not in "".join(w for g in query.groups for t in g for w in t.words)
    for syntax in (search_module.FTS5, search_module.TSQUERY):
        expression = search_module.match_expression(query, syntax)
        assert "DROP" not in expression and ";" not in expression


def test_migration_indexes_rows_stored_before_it(tmp_path):
    """Results stored under the first schema are searchable after migrating (FTS5 'rebuild')."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_db_engine(url)
    run_migrations(engine, "upgrade", "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incidents (id, original_name, stored_name, sha256, size_bytes, duration, width, height,"
                " fps, frame_count, codec, status, progress, stage, windows_done, windows_total, requested_domain,"
                " requested_engine, params, created_at, updated_at) VALUES (1, 'old.mp4', 'x.mp4', 'ab', 1, 3, 2, 2,"
                " 25, 75, 'h264', 'DONE', 1, 'done', 1, 1, 'auto', 'auto', '{}', '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO timelines (incident_id, window_index, start_time, end_time, description, score,"
                " pass_no, failed) VALUES (1, 0, 0, 1.5, 'a forklift reverses towards a worker', 0.5, 1, 0)"
            )
        )
    migrate(engine)
    with session_scope(engine) as session:
        hits = search(session, "погрузчик").hits
    assert [(h.original_name, h.kind) for h in hits] == [("old.mp4", "window")]
    run_migrations(engine, "downgrade", "0001")  # and the migration can be undone and redone
    with engine.connect() as connection:
        assert not connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '%fts%'")).all()
    migrate(engine)
    with session_scope(engine) as session:
        assert len(search(session, "forklift").hits) == 1
    engine.dispose()


def test_cli_search_json(settings, clips, monkeypatch, capsys):
    junction, _ = _store_two(settings, clips["calm"])
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("ENGINE", "local")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli_main(["search", "авария", "--incident", str(junction), "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows[0]["event_type"] == "COLLISION" and rows[0]["incident_id"] == junction
        assert {"snippet", "marks", "score", "start_time", "end_time", "kind", "original_name"} <= set(
            rows[0]
        )
        assert cli_main(["search", "авария"]) == 0
        assert "junction.mp4" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


# --- "Ask the model" against a loopback OpenAI-compatible server --------------------------------


class _AskHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"object": "list", "data": [{"id": "fake-vlm", "object": "model"}]})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(request)
        storyboard = request["messages"][-1]["content"]
        cited = [
            int(line.split()[0][1:])
            for line in storyboard.splitlines()
            if "collide" in line and line.startswith("W")
        ]
        answer = {"answer": f"The cars collide in W{cited[0]}.", "windows": [*cited, 99]}
        # answered as prose around a code fence, as real models sometimes do
        self._send(
            {
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "content": f"Sure:\n```json\n{json.dumps(answer)}\n```",
                        }
                    }
                ]
            }
        )


@pytest.fixture
def ask_server():
    _AskHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AskHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_ask_the_model_cites_stored_windows(tmp_path, clips, ask_server):
    settings = make_settings(tmp_path, llm_base_url=ask_server)
    junction, _ = _store_two(settings, clips["calm"])
    answer = ask_model(junction, "When do the cars collide?", settings)
    assert answer.model == "fake-vlm" and "collide" in answer.answer
    assert [(c.number, c.start_time, c.end_time) for c in answer.citations] == [(2, 1.5, 3.0)]  # W99 dropped
    assert (answer.windows_sent, answer.windows_total) == (3, 3)
    request = _AskHandler.requests[-1]
    assert request["response_format"]["json_schema"]["name"] == "sigma_ask"
    assert all(isinstance(m["content"], str) for m in request["messages"]), "text only, no images"
    assert "COLLISION 1.50-3.00 s" in request["messages"][-1]["content"]

    # a storyboard over the budget keeps the windows that match the question
    small = ask_model(junction, "debris on the road?", settings, max_chars=100)
    assert small.windows_sent == 1 and [c.number for c in small.citations] == [2]


def test_ask_the_model_says_why_it_is_unavailable(tmp_path, clips):
    settings = make_settings(tmp_path)
    junction, _ = _store_two(settings, clips["calm"])
    assert "LLM_BASE_URL" in unavailable_reason(settings)
    with pytest.raises(AskUnavailable, match="LLM_BASE_URL"):
        ask_model(junction, "what happens?", settings)
    dead = make_settings(tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout_sec=2)
    assert unavailable_reason(dead) is None
    with pytest.raises(AskUnavailable, match="127.0.0.1:9"):
        ask_model(junction, "what happens?", dead)


# --- the dashboard's search and ask panels (Streamlit AppTest) -----------------------------------


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Settings the dashboard reads (environment, like a deployment), on this test's storage."""

    def configure(**env: str):
        monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("ENGINE", "local")
        monkeypatch.setenv("LLM_BASE_URL", "")
        monkeypatch.delenv("DATABASE_URL", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return get_settings()

    yield configure
    get_settings.cache_clear()


def _panel_app():
    import streamlit as st

    from dashboard.search_panel import ask_panel, search_panel

    incident_id = st.session_state.get("incident")
    search_panel(incident_id=incident_id)
    if incident_id is not None:
        ask_panel(incident_id)


def test_search_panel_marks_matches_and_a_hit_seeks_the_player(app_env, clips):
    from streamlit.testing.v1 import AppTest

    settings = app_env()
    _junction, yard = _store_two(settings, clips["calm"])
    app = AppTest.from_function(_panel_app, default_timeout=30)
    app.session_state["incident"] = yard
    app.run()
    assert "LLM_BASE_URL" in app.info[0].value  # ask the model: unavailable, and why
    app.text_input[0].input("драка").run()
    shown = " ".join(m.value for m in app.markdown)
    assert "<mark>Драка</mark>" in shown and "<mark>дерутся</mark>" in shown
    assert len(app.button) == 2  # one per hit: the event and the window
    app.button[0].click().run()
    seek = app.session_state["sigma.seek"]
    assert (seek["incident_id"], seek["seconds"]) == (yard, 0.0) and seek["event_id"] is not None


def test_ask_panel_answers_with_clickable_windows(app_env, clips, ask_server):
    from streamlit.testing.v1 import AppTest

    settings = app_env(LLM_BASE_URL=ask_server)
    junction, _yard = _store_two(settings, clips["calm"])
    app = AppTest.from_function(_panel_app, default_timeout=30)
    app.session_state["incident"] = junction
    app.run()
    app.text_input[1].input("When do the cars collide?")
    app.button[0].click().run()  # the form's submit button (no search typed: no hit buttons)
    shown = " ".join(m.value for m in app.markdown)
    assert "collide in W2" in shown.replace("&#46;", ".")
    citation = next(b for b in app.button if b.label.startswith("W2"))
    citation.click().run()
    assert app.session_state["sigma.seek"]["seconds"] == 1.5


def test_inflected_forms_find_each_other(db_settings, clips):
    """Snowball stems, matched as prefixes: forms the hand-made endings missed ("ножом" → "нож",
    "дерущиеся" → "дерущихся") are found, and a word Snowball rewrites is still found as typed."""
    incident = store_incident(
        db_settings,
        clips["calm"],
        name="shop.mp4",
        windows=[
            (0.0, 1.5, "У мужчины в руке нож, покупатели отходят"),
            (1.5, 3.0, "Охранники разнимают дерущихся"),
            (3.0, 4.5, "A person is lying on the floor"),
            (4.5, 6.0, "Smoke fills the corridor"),
        ],
        events=[],
    )
    for query, start in (("ножом", 0.0), ("дерущиеся", 1.5), ("lying", 3.0), ("smoking", 4.5)):
        hits = _search(db_settings, query, incident_id=incident, kinds=("window",)).hits
        assert [h.start_time for h in hits] == [start], query
    for word in ("driving", "body", "lying", "машиной", "перекрёстке"):
        assert search_module.fold(word).startswith(search_module.stem(word)), word
