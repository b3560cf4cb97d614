"""Settings: the one place configuration is read (environment and `.env`).

Names are the seed's (`LLM_*`), so existing `.env` files keep working. `DB_URL`, the seed's old
name, is accepted for `DATABASE_URL`, and its async driver names are mapped to sync ones.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.concerns import Concern, check_concerns, check_site_context

EngineChoice = Literal["auto", "local", "vlm"]
JobBackend = Literal["thread", "queue"]
AnalysisLanguage = Literal["ru", "en"]

_ASYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "DB_URL"))
    storage_dir: Path = Path("./data")
    engine: EngineChoice = "auto"

    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_window_sec: float = Field(1.5, gt=0)
    llm_target_fps: float = Field(10.0, gt=0)
    llm_frames_per_window: int = Field(5, ge=1)
    llm_max_highlights: int = Field(10, ge=1)
    llm_image_max_side: int = Field(448, ge=28)
    llm_pass3_max_frames: int = Field(16, ge=1)
    llm_max_concurrency: int = Field(8, ge=1)
    llm_timeout_sec: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(4, ge=0)
    llm_max_failed_windows_pct: float = Field(20.0, ge=0, le=100)
    llm_retry_backoff_sec: float = Field(1.0, ge=0)
    # the analyst's concerns and site context (core.concerns) used when an analysis names none
    llm_site_context: str = ""
    llm_concerns: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    llm_refine: bool = True  # one closer request per found event for its first and last frame
    llm_refine_max_frames: int = Field(32, ge=2, le=128)
    llm_skip_still_windows: bool = False  # pass 1 skips windows where nothing changes beyond the noise

    max_upload_mb: int = Field(2048, ge=1)
    max_concurrent_jobs: int = Field(2, ge=1)
    max_queued_jobs: int = Field(20, ge=0)
    job_backend: JobBackend = "thread"
    redis_url: str = "redis://127.0.0.1:6379/0"
    heartbeat_stale_sec: float = Field(60.0, gt=0)
    retention_days: int | None = Field(None, ge=1)
    app_password: str | None = None
    api_token: str | None = None  # lets API clients use `Authorization: Bearer <token>`
    ui_language: Literal["ru", "en"] = "ru"
    analysis_language: AnalysisLanguage = "ru"  # the language of text the engines write
    job_queue: str = Field("sigma-analyses", min_length=1)

    @field_validator("llm_base_url", "llm_api_key", "llm_model", "app_password", "api_token", "database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("llm_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("llm_site_context", mode="before")
    @classmethod
    def _bounded_context(cls, value: object) -> str:
        return check_site_context(value)

    @field_validator("llm_concerns", mode="before")
    @classmethod
    def _concerns_json(cls, value: object) -> object:
        """LLM_CONCERNS is a JSON object {"CODE": "definition", ...}, each checked like a concern."""
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise ValueError(  # noqa: TRY004 (pydantic reports ValueErrors as validation errors)
                    'must be a JSON object of codes and definitions, e.g. {"NO_GLOVES": "a person works at '
                    'the press without gloves"}'
                )
        if isinstance(value, dict):
            concerns = check_concerns(Concern(code=code, definition=text) for code, text in value.items())
            return {concern.code: concern.definition for concern in concerns}
        return value

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention_off(cls, value: object) -> object:
        return None if value in ("", "0", 0, "off", None) else value

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL with sync drivers, or a SQLite file inside the storage dir."""
        if not self.database_url:
            return f"sqlite:///{(self.storage_dir / 'sigma.db').resolve()}"
        scheme, sep, rest = self.database_url.partition("://")
        return f"{_ASYNC_DRIVERS.get(scheme, scheme)}{sep}{rest}"

    @property
    def resolved_engine(self) -> Literal["local", "vlm"]:
        """`auto` means the VLM engine when a model server is configured, else the local one."""
        if self.engine == "auto":
            return "vlm" if self.llm_base_url else "local"
        return self.engine

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def uploads_dir(self) -> Path:
        return self.storage_dir / "videos"

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in logs or the UI: the API key, passwords inside URLs."""
        values = [self.llm_api_key, self.app_password, self.api_token]
        for url in (self.database_url, self.redis_url, self.llm_base_url):
            password = _url_password(url)
            values += [password, unquote(password)] if password else []
        return [value for value in set(values) if value and len(value) >= 3]

    def redact(self, text: str) -> str:
        """`text` with every secret of these settings replaced by `***`."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def _url_password(url: str | None) -> str | None:
    try:
        return urlsplit(url).password if url else None
    except ValueError:
        return None


def mask_url(url: str | None) -> str:
    """A URL fit to show or log: its password (if any) replaced by `***`."""
    if not url or not _url_password(url):
        return url or ""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead."""
    return Settings()
