"""Access (core.access): sessions that cannot be forged, kept past their time or outlive a changed
password; guessing slowed per client and overall; the dashboard drawing nothing without a session; and
secrets masked wherever they could be shown. The HTTP gate itself is tested in tests/test_gate.py."""

from __future__ import annotations

import stat

import itsdangerous
import pytest
from streamlit.testing.v1 import AppTest

from core.access import (
    OPEN_ACCESS,
    SESSION_MAX_AGE_SEC,
    GuessLimiter,
    Principal,
    issue_session,
    principal_for_session,
    session_secret,
    sign_in,
)
from core.config import Settings, get_settings, mask_url
from tests.app_harness import configured_app


def _settings(tmp_path, **values) -> Settings:
    return Settings(_env_file=None, storage_dir=tmp_path / "data", **values)


def test_a_session_names_its_principal_and_cannot_be_forged(tmp_path):
    settings = _settings(tmp_path, app_password="correct horse")
    who = sign_in(None, "correct horse", settings)
    assert who == Principal(name="shared-password", role="analyst", via="password")
    cookie = issue_session(who, settings)
    assert "correct horse" not in cookie
    assert principal_for_session(cookie, settings) == who
    payload, _, signature = cookie.rpartition(".")
    assert principal_for_session(f"{payload}.{signature[::-1]}", settings) is None
    forged = itsdangerous.URLSafeTimedSerializer(b"guessed key", salt="sigma.session.v1").dumps(
        {"n": "admin", "r": "analyst", "v": "password", "s": "x"}
    )
    assert principal_for_session(forged, settings) is None
    assert principal_for_session("", settings) is None and principal_for_session(None, settings) is None


def test_a_session_ends_with_its_time_and_with_a_changed_password(tmp_path, monkeypatch):
    settings = _settings(tmp_path, app_password="correct horse")
    cookie = issue_session(sign_in(None, "correct horse", settings), settings)
    assert principal_for_session(cookie, _settings(tmp_path, app_password="new password")) is None
    assert principal_for_session(cookie, _settings(tmp_path)) is None, "no gate: no sessions"
    later = itsdangerous.timed.time.time() + SESSION_MAX_AGE_SEC + 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert principal_for_session(cookie, settings) is None


def test_the_signing_key_is_one_private_file_per_storage_folder(tmp_path):
    settings = _settings(tmp_path, app_password="pw")
    key = session_secret(settings)
    path = settings.storage_dir / ".session-secret"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes.fromhex(path.read_text()) == key
    other_folder = _settings(tmp_path / "elsewhere", app_password="pw")
    assert principal_for_session(issue_session(sign_in(None, "pw", settings), settings), other_folder) is None


def test_the_api_token_signs_in_too_and_wrong_words_do_not(tmp_path):
    settings = _settings(tmp_path, api_token="token-abc")
    assert sign_in(None, "token-abc", settings).via == "token"
    assert sign_in("someone", "token-ab", settings) is None
    assert sign_in(None, "", _settings(tmp_path)) is None


def test_guessing_is_slowed_per_client_and_overall():
    now = [0.0]
    limiter = GuessLimiter(
        per_client=3, client_refill_sec=10, overall=5, overall_refill_sec=2, clock=lambda: now[0]
    )
    for _ in range(3):
        assert limiter.wait_seconds("a") == 0
        limiter.failed("a")
    assert limiter.wait_seconds("a") == pytest.approx(10)
    assert limiter.wait_seconds("b") == 0, "another client is not held up by a's guesses"
    limiter.failed("b")
    limiter.failed("c")
    assert limiter.wait_seconds("d") == pytest.approx(2), "all clients together: the shared bucket is empty"
    now[0] = 10.0
    assert limiter.wait_seconds("a") == 0 and limiter.wait_seconds("d") == 0


def test_the_limiter_forgets_clients_once_it_holds_too_many():
    limiter = GuessLimiter(per_client=1, overall=10**6, max_clients=100, clock=lambda: 0.0)
    for number in range(1000):
        limiter.failed(f"10.0.{number // 250}.{number % 250}")
    assert len(limiter._buckets) <= 100


def _page():
    import streamlit as st

    from dashboard.auth import require_principal

    who = require_principal()
    st.write(f"incident list for {who.name}")


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def test_the_dashboard_draws_nothing_without_a_session(app_settings, monkeypatch):
    """The gate keeps requests without a session out; should one reach a page anyway (the entry point
    run without server.py), the page stops at a link to the sign-in form."""
    monkeypatch.setenv("APP_PASSWORD", "correct horse")
    get_settings.cache_clear()
    app = AppTest.from_function(_page, default_timeout=30).run()
    assert not [m for m in app.markdown if "incident list" in m.value]
    assert app.warning and app.warning[0].value in (
        "Your session has ended: sign in again.",
        "Сеанс завершён: войдите снова.",
    )
    monkeypatch.setenv("APP_PASSWORD", "")
    get_settings.cache_clear()
    app = AppTest.from_function(_page, default_timeout=30).run()
    assert [m.value for m in app.markdown] == [f"incident list for {OPEN_ACCESS.name}"]


def test_urls_and_settings_hide_their_secrets():
    assert (
        mask_url("postgresql+psycopg://sigma:pa%40ss@db:5432/sigma")
        == "postgresql+psycopg://sigma:***@db:5432/sigma"
    )
    assert mask_url("redis://:hunter22@redis:6379/0") == "redis://:***@redis:6379/0"
    assert mask_url("http://vllm:8000/v1") == "http://vllm:8000/v1"
    settings = Settings(
        _env_file=None,
        database_url="postgresql+psycopg://sigma:pa%40ss@db/sigma",
        llm_api_key="sk-live-123456",
        app_password="open sesame",
    )
    text = "key sk-live-123456, db pa@ss / pa%40ss, gate open sesame"
    assert settings.redact(text) == "key ***, db *** / ***, gate ***"
