"""The engine registry is the one list of engines: settings, analysis parameters, the CLI, the
report and the dashboard's labels all follow it, and engines/base.py never imports its engines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

import core.engines
from core.cli import _parser
from core.config import Settings
from core.engines import AVAILABLE_ENGINES, ENGINE_CHOICES, ENGINE_NAMES, create_engine_by_name
from core.engines.base import AnalysisEngine
from core.i18n import LANGUAGES, catalogue
from core.schema import AnalysisParams, EngineOutcome

BASE = Path(core.engines.__file__).with_name("base.py")


def test_base_imports_none_of_its_engines():
    imported = set()
    for node in ast.walk(ast.parse(BASE.read_text())):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if name.startswith("core.engines")}


def test_registry_names_each_engine_class_by_its_own_name(tmp_path):
    assert ENGINE_NAMES == ("local", "vlm") and ENGINE_CHOICES == ("auto", "local", "vlm")
    settings = Settings(_env_file=None, storage_dir=tmp_path)
    for name, engine in AVAILABLE_ENGINES.items():
        assert issubclass(engine, AnalysisEngine) and engine.name == name and engine.code_version
        assert create_engine_by_name(name, settings).name == name
    with pytest.raises(ValueError, match="unknown engine 'nope'; known: local, vlm"):
        create_engine_by_name("nope", settings)


def test_every_engine_has_its_words_in_both_languages():
    for lang in LANGUAGES:
        words = catalogue(lang)
        for name in ENGINE_CHOICES:
            assert words.get(f"engine.{name}"), (lang, name)
        for name in ENGINE_NAMES:
            for key in (f"engine_{name}", f"sees_{name}", f"cannot_{name}", f"no_events_{name}"):
                assert words.get(f"report.{key}"), (lang, key)


def test_an_unknown_engine_is_refused_everywhere_with_the_choices(tmp_path):
    for make in (
        lambda: Settings(_env_file=None, storage_dir=tmp_path, engine="gpt"),
        lambda: AnalysisParams(
            window_sec=1, target_fps=1, frames_per_window=1, max_highlights=1, engine="gpt"
        ),
        lambda: EngineOutcome(engine="auto", model_version="m", prompt_version="p"),
    ):
        with pytest.raises(ValidationError, match="unknown engine .*: use one of (auto, )?local, vlm"):
            make()
    with pytest.raises(SystemExit):
        _parser().parse_args(["analyze", "clip.mp4", "--engine", "gpt"])


def test_the_lists_follow_the_registry(tmp_path, monkeypatch):
    """An engine added to the registry is accepted by settings and parameters, with no other list to edit."""
    monkeypatch.setattr(core.engines, "ENGINE_NAMES", (*ENGINE_NAMES, "thermal"))
    assert Settings(_env_file=None, storage_dir=tmp_path, engine="thermal").engine == "thermal"
    params = AnalysisParams(
        window_sec=1, target_fps=1, frames_per_window=1, max_highlights=1, engine="thermal"
    )
    assert params.engine == "thermal"
    assert EngineOutcome(engine="thermal", model_version="m", prompt_version="p").engine == "thermal"


def test_the_api_schema_and_the_cli_list_the_engines():
    properties = AnalysisParams.model_json_schema()["properties"]
    assert properties["engine"]["enum"] == list(ENGINE_CHOICES)
    assert EngineOutcome.model_json_schema()["properties"]["engine"]["enum"] == list(ENGINE_NAMES)
    cli_choices = next(
        action.choices
        for command in _parser()._subparsers._group_actions[0].choices.values()
        for action in command._actions
        if action.dest == "engine"
    )
    assert tuple(cli_choices) == ENGINE_CHOICES
