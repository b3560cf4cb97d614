"""Access: the APP_PASSWORD gate (off when unset), and secrets masked wherever they could be shown."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import Settings, mask_url


def _page(password):
    import streamlit as st

    from core.config import Settings
    from dashboard.auth import require_password

    require_password(Settings(_env_file=None, app_password=password))
    st.write("incident list")


def _gated_page(password: str | None) -> AppTest:
    return AppTest.from_function(_page, kwargs={"password": password}, default_timeout=30)


def _shown(app) -> list[str]:
    return [element.value for element in app.markdown]


def test_no_password_no_gate():
    app = _gated_page(None).run()
    assert "incident list" in _shown(app) and not app.text_input


def test_gate_stops_the_page_until_the_right_password():
    app = _gated_page("correct horse").run()
    assert "incident list" not in _shown(app)
    assert app.text_input[0].label in ("Password", "Пароль")

    app.text_input[0].input("wrong guess")
    app.button[0].click().run()
    assert "incident list" not in _shown(app)
    assert app.error and app.error[0].value in ("Wrong password.", "Неверный пароль.")

    app.text_input[0].input("correct horse")
    app.button[0].click().run()
    assert "incident list" in _shown(app) and not app.text_input
    assert "correct horse" not in repr(app.session_state)  # only "signed in" is kept


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
