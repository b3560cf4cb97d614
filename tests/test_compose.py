"""docker-compose.yml, the Dockerfile and .dockerignore agree with the settings and with each other.

No Docker daemon runs on the development machines, so the compose file is checked by parsing it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from core.config import Settings
from core.timeline_image import _FONT_CANDIDATES

ROOT = Path(__file__).resolve().parent.parent
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}")


def _interpolate(value):
    """What compose substitutes with an empty environment: `${NAME:-default}` → default."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: m.group(2) or "", value)
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    return _interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        if field.validation_alias is not None:
            names.update(getattr(field.validation_alias, "choices", [field.validation_alias]))
    return names


def _app_like(compose: dict) -> list[str]:
    return [name for name, service in compose["services"].items() if service.get("image") == "sigma:latest"]


def test_services_and_profiles(compose):
    services = compose["services"]
    assert {"app", "api", "db", "redis", "worker", "vllm", "migrate"} <= set(services)
    assert services["vllm"]["profiles"] == ["gpu"]
    assert all(
        "profiles" not in services[name] for name in ("app", "api", "db", "redis", "worker", "migrate")
    )
    assert sorted(_app_like(compose)) == ["api", "app", "migrate", "worker"]
    for name in _app_like(compose):
        assert services[name]["build"] == "."
    assert services["worker"]["command"] == ["python", "-m", "core", "worker"]
    assert services["migrate"]["command"] == ["python", "-m", "core", "migrate"]
    assert services["api"]["command"][:4] == ["python", "-m", "uvicorn", "api.main:app"]
    assert "--port=8080" in services["api"]["command"] and services["api"]["ports"] == ["8080:8080"]
    assert services["db"]["image"] == "postgres:16"
    assert services["vllm"]["image"].startswith("vllm/vllm-openai:")


def test_environment_names_are_real_settings_and_point_at_the_services(compose):
    known = _setting_names()
    services = compose["services"]
    for name in _app_like(compose):
        environment = services[name]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{name}: not Sigma settings: {unknown}"
        settings = Settings(_env_file=None, **{k: v for k, v in environment.items() if v not in ("", None)})
        database = urlsplit(settings.resolved_database_url)
        db_env = services["db"]["environment"]
        assert database.hostname == "db" and database.port == 5432
        assert (database.username, database.password) == (
            db_env["POSTGRES_USER"],
            db_env["POSTGRES_PASSWORD"],
        )
        assert database.path.lstrip("/") == db_env["POSTGRES_DB"]
        assert urlsplit(settings.redis_url).hostname == "redis"
        assert settings.job_backend == "queue"  # the app enqueues, the worker service runs
        assert settings.engine == "auto"  # vLLM when the gpu profile runs it, else the local engine
        vllm_url = urlsplit(settings.llm_base_url)
        assert vllm_url.hostname == "vllm" and vllm_url.path == "/v1"
        assert f"--port={vllm_url.port}" in services["vllm"]["command"]
        assert str(settings.storage_dir) == "/data"
        assert services[name]["volumes"] == ["sigma-data:/data"]
    gate = {  # only what serves HTTP has a gate
        "APP_PASSWORD", "API_TOKEN", "API_TOKEN_USER", "APP_USERS",
        "OIDC_PROVIDER", "OIDC_ANALYSTS", "OIDC_VIEWERS", "OIDC_DEFAULT_ROLE",
    }  # fmt: skip
    assert services["app"]["environment"].keys() - services["worker"]["environment"].keys() == gate
    assert services["api"]["environment"] == services["app"]["environment"]


def test_volumes_are_declared_and_persist_state(compose):
    declared = set(compose["volumes"])
    mounts = {
        (name, volume.split(":")[0], volume.split(":")[1])
        for name, service in compose["services"].items()
        for volume in service.get("volumes", [])
    }
    assert {source for _, source, _ in mounts} <= declared
    assert ("db", "pg-data", "/var/lib/postgresql/data") in mounts
    assert ("redis", "redis-data", "/data") in mounts
    assert "--appendonly" in compose["services"]["redis"]["command"]


def test_healthchecks_and_start_order(compose, dockerfile):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    port = re.search(r'"--port=(\d+)"', dockerfile).group(1)
    assert '"server:app"' in dockerfile  # the one server: dashboard, API, sign-in
    health_url = f"http://127.0.0.1:{port}/_stcore/health"
    assert health_url in " ".join(services["app"]["healthcheck"]["test"])
    assert health_url in dockerfile.split("HEALTHCHECK", 1)[1]
    assert services["app"]["ports"] == [f"8501:{port}"]
    assert "/health" in " ".join(services["vllm"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8080/api/v1/health" in " ".join(services["api"]["healthcheck"]["test"])
    for name in ("app", "api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
        # waits for the model server under the gpu profile, and starts without it otherwise
        assert depends["vllm"] == {"condition": "service_healthy", "required": False}
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_vllm_serves_a_vision_model_with_room_for_every_pass(compose):
    from core.engines.vlm import pass_plans
    from core.prompts import DOMAIN_FRAMES

    vllm = compose["services"]["vllm"]
    arguments = dict(argument.split("=", 1) for argument in vllm["command"] if "=" in argument)
    assert re.search(r"Qwen.*VL", arguments["--model"])
    limit = yaml.safe_load(arguments["--limit-mm-per-prompt"])  # JSON, the current vLLM syntax
    defaults = Settings(_env_file=None)
    pass1, pass2 = pass_plans(
        defaults.llm_window_sec, defaults.llm_target_fps, defaults.llm_frames_per_window
    )
    needed = max(
        pass1.frames_per_window,
        pass2.frames_per_window,
        defaults.llm_pass3_max_frames,
        DOMAIN_FRAMES,
        defaults.llm_refine_max_frames,
    )
    assert limit["image"] >= needed
    assert "--enable-prefix-caching" in vllm["command"]  # a run's requests share their system prompt
    devices = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_dockerfile(dockerfile):
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert (
        lines.index("COPY requirements.txt .")
        < next(i for i, line in enumerate(lines) if line.startswith("RUN pip install -r requirements.txt"))
        < next(i for i, line in enumerate(lines) if line.startswith("COPY --chown=sigma:sigma . ."))
    )
    assert "ffmpeg" not in " ".join(line for line in lines if "apt-get" in line)  # from the wheel
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # what fonts-dejavu-core installs
    assert "fonts-dejavu-core" in dockerfile and font in _FONT_CANDIDATES  # Cyrillic in the report
    assert "imageio_ffmpeg" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    instructions = dockerfile.replace("\\\n", " ").splitlines()
    assert any(line.startswith("ENV ") and "STORAGE_DIR=/data" in line for line in instructions)


def test_dockerignore_keeps_secrets_and_local_state_out():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env", "data"} <= patterns
    assert "requirements.txt" not in patterns and "core" not in patterns
