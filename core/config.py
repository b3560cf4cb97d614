"""Settings: the one place configuration is read (environment and `.env`).

Names are the seed's (`LLM_*`), so existing `.env` files keep working. `DB_URL`, the seed's old
name, is accepted for `DATABASE_URL`, and its async driver names are mapped to sync ones.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.concerns import Concern, check_concerns, check_site_context
from core.i18n import DEFAULT_LANGUAGE, Language

# a user name (APP_USERS, API_TOKEN_USER): what the audit trail records as who did something
USER_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
AUTO_ENGINE = "auto"  # the VLM engine when a model server is configured, else the local one


def _registered_engines() -> tuple[str, ...]:
    # The registry (core.engines) imports the engines, which import these settings: it is read when
    # a value is checked, never while this module loads.
    from core.engines import ENGINE_NAMES

    return ENGINE_NAMES


def check_engine(value: str, *, auto: bool = True) -> str:
    """`value` when an engine of `core.engines.AVAILABLE_ENGINES` has that name (or, where `auto`,
    it is "auto"); else a `ValueError` naming the choices."""
    allowed = (AUTO_ENGINE, *_registered_engines()) if auto else _registered_engines()
    if value not in allowed:
        raise ValueError(f"unknown engine {value!r}: use one of {', '.join(allowed)}")
    return value


def _engine_enum(auto: bool):
    def add_enum(schema: dict) -> None:  # the JSON schema (the API's OpenAPI) lists the choices
        schema["enum"] = [*([AUTO_ENGINE] if auto else []), *_registered_engines()]

    return add_enum


# An engine's name as settings and analysis parameters take it: "auto" or a registered engine's.
EngineChoice = Annotated[str, AfterValidator(check_engine), Field(json_schema_extra=_engine_enum(auto=True))]
# The engine that ran.
EngineName = Annotated[
    str,
    AfterValidator(partial(check_engine, auto=False)),
    Field(json_schema_extra=_engine_enum(auto=False)),
]
JobBackend = Literal["thread", "process", "queue"]

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
    engine: EngineChoice = AUTO_ENGINE

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
    # the service user API_TOKEN acts as: who the audit trail names for what its clients do
    api_token_user: str = Field("api", pattern=f"^{USER_NAME_PATTERN}$")
    # sign-in through an identity provider (Streamlit's st.login, OIDC): the provider's name in
    # .streamlit/secrets.toml ([auth.NAME]); its users' roles by e-mail address (comma-separated)
    oidc_provider: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")  # no "_": Streamlit refuses it
    oidc_analysts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_viewers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_default_role: Literal["viewer", "none"] = "viewer"  # anyone else the provider signs in
    # evidence: named users, clips, signed case packages
    app_users: Path | None = None  # JSON file of named users (python -m core users ...)
    evidence_signing_key: Path | None = None  # Ed25519 private key (PEM) that signs case packages
    clip_pre_roll_sec: float = Field(3.0, ge=0, le=600)
    clip_post_roll_sec: float = Field(3.0, ge=0, le=600)
    clip_cut: Literal["exact", "keyframe"] = "exact"  # keyframe: from the keyframe before, never re-encoded
    prepare_evidence: bool = True  # cut event clips and draw event pictures as soon as an analysis ends
    ui_language: Language = DEFAULT_LANGUAGE
    analysis_language: Language = DEFAULT_LANGUAGE  # the language of text the engines write
    job_queue: str = Field("sigma-analyses", min_length=1)

    @field_validator("llm_base_url", "llm_api_key", "llm_model", "app_password", "api_token", "database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("oidc_provider", mode="before")
    @classmethod
    def _blank_provider_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("oidc_analysts", "oidc_viewers", mode="before")
    @classmethod
    def _email_list(cls, value: object) -> object:
        """`a@x.org, b@x.org` (or a list): addresses compared without regard to case."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        addresses = [str(item).strip().lower() for item in items if str(item).strip()]
        if bad := [a for a in addresses if a.count("@") != 1 or any(c.isspace() for c in a)]:
            raise ValueError(f"not an e-mail address: {', '.join(bad)}")
        return addresses

    @field_validator("app_users", "evidence_signing_key", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
            return _sqlite_url(self.storage_dir, os.getcwd())
        scheme, sep, rest = self.database_url.partition("://")
        return f"{_ASYNC_DRIVERS.get(scheme, scheme)}{sep}{rest}"

    @property
    def resolved_engine(self) -> str:
        """`auto` means the VLM engine when a model server is configured, else the local one."""
        if self.engine == AUTO_ENGINE:
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
        """Values that must never appear in logs or the UI: the API key, the app's password and API
        token, passwords inside URLs (user:password@ and secret query parameters)."""
        values = [self.llm_api_key, self.app_password, self.api_token]
        for url in (self.database_url, self.redis_url, self.llm_base_url):
            for secret in _url_secrets(url):
                values += [secret, unquote(secret)]
        return [value for value in set(values) if value]

    def redact(self, text: str) -> str:
        """`text` fit to show or log, masked by structure (see `mask_text`); these settings' secrets
        are also masked wherever they stand as a whole token, when long enough to be a real secret."""
        return mask_text(text, self.secrets)


# --- masking secrets (issue 13): by structure, never by blind substring replacement ---------------

MASK = "***"
# A secret is masked wherever it stands as a whole token, unless it is a short plain word: "local"
# or "test" as LLM_API_KEY would turn "the local engine" into "the *** engine", garbling the text
# and revealing the key. Such values are masked only where they stand as values (URLs, key=value).
WORD_LIKE_MAX_LEN = 7
# a parameter is secret when its name holds one of these words, or one of the short ones as a part
_SECRET_WORDS = re.compile(
    r"password|passwd|secret|token|api[-_]?key|access[-_]?key|credential|signature", re.IGNORECASE
)
_SECRET_PARTS = {"pass", "pwd", "auth", "sig", "key"}
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b([\w.-]*(?:password|passwd|pwd|secret|api[-_]?key|apikey|access[-_]?token|auth[-_]?token|token))"
    r"(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]+)")
_TOKEN_CHAR = r"A-Za-z0-9_\-.~+/="


def _is_secret_name(name: str) -> bool:
    name = unquote(name).lower()
    return bool(_SECRET_WORDS.search(name)) or bool(_SECRET_PARTS & set(re.split(r"[-_.]", name)))


def _url_secrets(url: str | None) -> list[str]:
    """The password in a URL's userinfo and the values of its secret query parameters."""
    if not url:
        return []
    found = []
    userinfo = url.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    query = url.partition("?")[2].partition("#")[0]
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and _is_secret_name(name):
            found.append(value)
    return [value for value in found if value]


def mask_url(url: str | None) -> str:
    """A URL fit to show or log: the password of its userinfo and the values of secret query
    parameters (`?password=`, `sslpassword`, `token`, `api_key` ...) replaced by `***`; everything
    else kept as written. Works on URLs `urlsplit` refuses (a bad port) too."""
    if not url:
        return url or ""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "?" in authority and not slash:  # "host?query" without a path
        authority, question, tail = authority.partition("?")
        tail, slash = question + tail, ""
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    path, question, query = tail.partition("?")
    if question:
        query, hash_sign, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            name, eq, value = pair.partition("=")
            pairs.append(f"{name}={MASK}" if eq and value and _is_secret_name(name) else pair)
        tail = f"{path}?{'&'.join(pairs)}{hash_sign}{fragment}"
    return f"{scheme}://{authority}{slash}{tail}"


def mask_text(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Free text (an error message, a log line) fit to show: every URL in it masked as `mask_url`
    does, `password=...`-style assignments and `Bearer ...` credentials masked, and each of
    `secrets` masked where it stands as a whole token (never inside a word), unless it is a short
    plain word (see WORD_LIKE_MAX_LEN)."""
    if not text:
        return text
    text = _URL_IN_TEXT.sub(_mask_url_in_text, text)
    text = _SECRET_ASSIGNMENT.sub(_mask_assignment, text)
    text = _BEARER.sub(lambda found: f"{found.group(1)}{found.group(2)}{MASK}", text)
    for secret in sorted({s for s in secrets if not _word_like(s)}, key=len, reverse=True):
        whole = re.compile(rf"(?<![{_TOKEN_CHAR}]){re.escape(secret)}(?![{_TOKEN_CHAR}])")
        text = whole.sub(MASK, text)
    return text


def _mask_assignment(found: re.Match) -> str:
    value = found.group(3)
    bare = value if value[:1] in "\"'" else value.rstrip(".,;:!?)]}")
    return f"{found.group(1)}{found.group(2)}{MASK}{value[len(bare) :]}"


def _mask_url_in_text(found: re.Match) -> str:
    url = found.group()
    bare = url.rstrip(".,;:!?)]}")  # the sentence's punctuation is not part of the URL
    return mask_url(bare) + url[len(bare) :]


def _word_like(secret: str) -> bool:
    return len(secret) < 3 or (len(secret) <= WORD_LIKE_MAX_LEN and secret.isalpha())


_redacting: list[Settings] = []
_redacting_lock = threading.Lock()


def install_log_redaction(settings: Settings) -> None:
    """Mask secrets in every log record this process creates from now on (message and traceback),
    with these settings' secrets (the latest call wins). Safe to call more than once."""
    with _redacting_lock:
        if not _redacting:
            previous = logging.getLogRecordFactory()

            def redacting_factory(*args, **kwargs) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _redact_record(record, _redacting[-1])
                return record

            logging.setLogRecordFactory(redacting_factory)
            _redacting.append(settings)
        _redacting[-1] = settings


def _redact_record(record: logging.LogRecord, settings: Settings) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001  (a malformed record is logging's business, not ours)
        return
    masked = settings.redact(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info:
        record.exc_text = settings.redact(logging.Formatter().formatException(record.exc_info))


@lru_cache(maxsize=64)
def _sqlite_url(storage_dir: Path, _cwd: str) -> str:
    """Resolving the path costs a few system calls, on every request that opens a session."""
    return f"sqlite:///{(storage_dir / 'sigma.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead."""
    return Settings()
