"""The engines, found by name: a registry built by explicit imports, as PySceneDetect builds its
`AVAILABLE_BACKENDS`, so `engines/base.py` never imports its engines.

Every list of engines reads this one: settings and analysis parameters check `ENGINE` against it,
the CLI's `--engine` and the dashboard's choices offer `ENGINE_CHOICES`, the About page lists each
engine's version. Adding an engine: write its module (an `AnalysisEngine` with a `name` and a
`code_version`), import it here and list it below, and give it words where engines are named
(`engine.<name>` in dashboard/i18n.py; `engine_<name>`, `sees_<name>`, `cannot_<name>` and
`no_events_<name>` in core/report.py's TEXT): tests/test_engines.py checks that each has them.

    from core.engines import AVAILABLE_ENGINES, create_engine_by_name
    engine = create_engine_by_name("local", settings)
"""

from __future__ import annotations

from core.config import AUTO_ENGINE, Settings
from core.engines.base import AnalysisEngine
from core.engines.local import LocalEngine
from core.engines.vlm import VLMEngine

AVAILABLE_ENGINES: dict[str, type[AnalysisEngine]] = {
    engine.name: engine for engine in (LocalEngine, VLMEngine)
}
ENGINE_NAMES: tuple[str, ...] = tuple(AVAILABLE_ENGINES)
ENGINE_CHOICES: tuple[str, ...] = (AUTO_ENGINE, *ENGINE_NAMES)  # "auto": settings.resolved_engine decides


def create_engine_by_name(name: str, settings: Settings) -> AnalysisEngine:
    try:
        return AVAILABLE_ENGINES[name](settings)
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINE_NAMES)}") from None
