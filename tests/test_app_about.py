"""The about page: engine in use, the model server reachable or not (with its model id), storage and
database; secrets never shown (API key, passwords in URLs)."""

from __future__ import annotations

import pytest

from core.config import Settings
from dashboard.about import masked_database_url
from tests.app_harness import configured_app, new_app, problems
from tests.fake_vlm_server import FakeVLMServer, dead_port_url

API_KEY = "sk-very-secret-key-123"


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def _page_text(at) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.success] + [e.value for e in at.error]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [c.value for c in at.caption]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(str(part) for part in parts)


def _about(monkeypatch, **environment: str):
    from core.config import get_settings

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return new_app("about")


def test_a_reachable_server_is_named_with_its_model_and_the_key_never_shows(app_settings, monkeypatch):
    with FakeVLMServer(model="fake/qwen2.5-vl-7b", api_key=API_KEY) as server:
        url = server.url
        at = _about(monkeypatch, LLM_BASE_URL=url, LLM_API_KEY=API_KEY, ENGINE="auto")
    assert not problems(at)
    text = _page_text(at)
    assert f"Model server {url} is reachable. Models served: fake/qwen2.5-vl-7b." in text
    assert "VLM (model server)" in text  # ENGINE=auto with a server configured
    assert API_KEY not in text
    assert str(app_settings.storage_dir.resolve()) in text


def test_an_unreachable_server_says_so(app_settings, monkeypatch):
    url = dead_port_url()
    at = _about(monkeypatch, LLM_BASE_URL=url, ENGINE="auto")
    assert next(e.value for e in at.error).startswith(f"Model server {url} is not reachable")
    assert not at.exception


def test_database_passwords_are_masked():
    settings = Settings(_env_file=None, database_url="postgresql://sigma:hunter2@db:5432/sigma")
    shown = masked_database_url(settings)
    assert "hunter2" not in shown and shown == "postgresql+psycopg://sigma:***@db:5432/sigma"
