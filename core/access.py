"""Who is asking: the one place credentials are checked, for the dashboard's sign-in, the API and the CLI.

A `Principal` is a signed-in person or service with a role. Every entry point asks this module and
nothing else: the HTTP gate in front of the dashboard and the API (a sign-in form or a bearer token),
and the audit trail records `Principal.name`. With neither APP_PASSWORD, APP_USERS nor API_TOKEN set,
Sigma is open (a laptop on its own) and everyone is `OPEN_ACCESS`.

Named users (APP_USERS, see core.users) sign in with their name and password; the shared APP_PASSWORD
with an empty name. A bearer token is API_TOKEN (the service user API_TOKEN_USER, "api" unless set)
or an integration's own token from the users file (that integration's name and role). With an
identity provider (OIDC_PROVIDER, Streamlit's st.login) a person is their e-mail address, with the
role OIDC_ANALYSTS / OIDC_VIEWERS give it (`oidc_principal`). Comparisons are constant-time and a named check always costs one Argon2
verification; a failed check never says whether the name or the password was wrong.
`record_sign_in` puts each attempt in the audit trail (who got in, or the name that failed).

Roles are enforced in core's services, which take the acting principal (`require_analyst`): a viewer
cannot upload, delete, re-analyse, review, hold or edit case details, whatever the UI shows.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel

from core.config import Settings
from core.errors import Forbidden, InvalidInput

Role = Literal["analyst", "viewer"]
ROLES: tuple[Role, ...] = ("analyst", "viewer")
Via = Literal["open", "password", "token", "oidc", "cli", "system"]
SHARED_PASSWORD_USER = "shared-password"  # who signed in with APP_PASSWORD (no name of their own)


class Principal(BaseModel):
    """A signed-in person or service. Analysts may change things; viewers only look."""

    name: str
    role: Role = "analyst"
    via: Via = "password"

    @property
    def can_change(self) -> bool:
        """May delete, re-analyse, review, hold: everything that writes."""
        return self.role == "analyst"


OPEN_ACCESS = Principal(name="local", role="analyst", via="open")
# Sigma itself: retention deleting old videos, verdicts carried over to a re-run
SYSTEM = Principal(name="system", role="analyst", via="system")
# someone not signed in (a failed sign-in is recorded as theirs, with the name they tried)
ANONYMOUS = Principal(name="anonymous", role="viewer", via="password")
# an internal caller that named nobody (tests, benchmarks); the audit says so rather than guess
UNATTRIBUTED = Principal(name="unattributed", role="analyst", via="system")
# names the audit trail gives Sigma's own principals: no user may take one
RESERVED_NAMES = frozenset(
    {SHARED_PASSWORD_USER, OPEN_ACCESS.name, SYSTEM.name, ANONYMOUS.name, UNATTRIBUTED.name}
)


def secrets_match(given: str, expected: str) -> bool:
    """Constant-time comparison: the time taken does not reveal how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def gate_enabled(settings: Settings) -> bool:
    """Whether anything must be presented to get in."""
    return bool(settings.app_password or settings.api_token or settings.app_users or settings.oidc_provider)


def oidc_role(email: str, settings: Settings) -> Role | None:
    """The role of someone the identity provider signed in: analyst when listed in OIDC_ANALYSTS,
    viewer in OIDC_VIEWERS, else OIDC_DEFAULT_ROLE (None: no access). Case does not matter."""
    address = (email or "").strip().lower()
    if not address:
        return None
    if address in settings.oidc_analysts:
        return "analyst"
    if address in settings.oidc_viewers or settings.oidc_default_role == "viewer":
        return "viewer"
    return None


def oidc_principal(email: str | None, settings: Settings) -> Principal | None:
    """The principal for an e-mail address the identity provider vouched for, or None (no provider
    configured, no address, or an address OIDC_DEFAULT_ROLE=none leaves out)."""
    if not settings.oidc_provider or not email:
        return None
    role = oidc_role(email, settings)
    return Principal(name=email.strip().lower(), role=role, via="oidc") if role else None


def authenticate(name: str | None, password: str, settings: Settings) -> Principal | None:
    """The principal these credentials sign in as, or None (without saying what was wrong).

    A name with APP_USERS set: that user, checked against the users file (an unknown name costs the
    same Argon2 verification as a known one). No name: the shared APP_PASSWORD, when set. Without
    APP_USERS a name is ignored and only the shared password counts."""
    from core.users import check_password

    name = (name or "").strip()
    if name and settings.app_users:
        user = check_password(settings.app_users, name, password)
        return Principal(name=user.name, role=user.role, via="password") if user else None
    if settings.app_password and secrets_match(password, settings.app_password):
        return Principal(name=SHARED_PASSWORD_USER, role="analyst", via="password")
    return None


def record_sign_in(
    settings: Settings, name: str | None, principal: Principal | None, *, where: str = "dashboard"
) -> Principal | None:
    """Put a sign-in attempt in the audit trail and return `principal`: "sign in" as who got in, or
    "failed login" with the name that was tried (never the password). `where` names the door
    (dashboard, api, ...). Every sign-in form calls it right after checking the credentials."""
    from core.evidence.audit import Action, record_now

    if principal is not None:
        record_now(settings, principal, Action.SIGN_IN, target=principal.name, details={"where": where})
    else:
        tried = (name or "").strip()[:200]
        record_now(settings, ANONYMOUS, Action.FAILED_LOGIN, target=tried, details={"where": where})
    return principal


def session_credential(principal: Principal, settings: Settings) -> str:
    """What a signed-in session of `principal` stands on: when it changes the session must end. The
    shared password or API_TOKEN; for a named user (or integration) their role and password (or token)
    hash, so removing them, changing their password, token or role signs them out ("" once gone)."""
    from core.users import read_users

    if principal.via == "token" and principal.name == settings.api_token_user:
        return settings.api_token or ""
    if principal.via == "oidc":  # the provider vouches for the person; the role is Sigma's to give
        return f"oidc:{oidc_role(principal.name, settings) or ''}" if settings.oidc_provider else ""
    if principal.via not in ("password", "token") or principal.name == SHARED_PASSWORD_USER:
        return settings.app_password or ""
    try:
        user = read_users(settings.app_users).get(principal.name) if settings.app_users else None
    except InvalidInput:
        user = None
    if user is None or user.role != principal.role:
        return ""
    secret = user.token_hash if principal.via == "token" else user.password_hash
    return f"{user.role}:{secret}" if secret else ""


def principal_for_token(token: str, settings: Settings) -> Principal | None:
    """The service user behind a bearer token: API_TOKEN's (API_TOKEN_USER, an analyst) or an
    integration's from the users file; None for any other token (nothing says how it was wrong)."""
    from core.users import check_token

    if settings.api_token and secrets_match(token, settings.api_token):
        return Principal(name=settings.api_token_user, role="analyst", via="token")
    user = check_token(settings.app_users, token) if settings.app_users else None
    return Principal(name=user.name, role=user.role, via="token") if user else None


def cli_principal() -> Principal:
    """Whoever runs `python -m core ...`: the operating system's login (shell access to the server
    already reaches the database and the files, so the command line acts as an analyst)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        login = f"uid{os.getuid()}"
    return Principal(name=f"cli:{login}", role="analyst", via="cli")


def require_analyst(actor: Principal, doing: str) -> None:
    """Refuse a viewer: `Forbidden` saying who they are and what viewers cannot do."""
    if not actor.can_change:
        raise Forbidden(f"{actor.name} signs in as a viewer, and viewers cannot {doing}")


def sign_in(name: str | None, password: str, settings: Settings) -> Principal | None:
    """The sign-in form's check: a user's (or APP_PASSWORD's) password, or API_TOKEN typed as the
    password, so a deployment with only API_TOKEN set still lets its holder use the dashboard."""
    return authenticate(name, password, settings) or principal_for_token(password, settings)


# --- sessions: what the sign-in form hands the browser (a signed cookie) -------------------------------

SESSION_COOKIE = "sigma_session"
SESSION_MAX_AGE_SEC = 12 * 3600  # a working day; then the person signs in again (and lands where they were)
_SESSION_SALT = "sigma.session.v1"
_SECRET_FILE = ".session-secret"


def session_secret(settings: Settings) -> bytes:
    """The key sessions are signed with: made once per storage folder (a file only this user can read),
    so every process sharing STORAGE_DIR (the app, the API, after a restart) accepts the same cookies."""
    path = (settings.storage_dir / _SECRET_FILE).resolve()
    with _secrets_lock:
        if path not in _secrets:
            _secrets[path] = _read_or_make_secret(path)
        return _secrets[path]


_secrets: dict[Path, bytes] = {}
_secrets_lock = threading.Lock()


def _read_or_make_secret(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{_SECRET_FILE}.{secrets.token_hex(4)}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(partial, path)  # the first process to get here wins; the others read its secret
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _credential_stamp(principal: Principal, settings: Settings) -> str:
    """Changes when the credential the session was opened with changes (`session_credential`), so
    changing APP_PASSWORD or API_TOKEN signs everyone out, and removing a user or changing their
    password or role signs them out."""
    credential = session_credential(principal, settings)
    return hmac.new(session_secret(settings), credential.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(settings), salt=_SESSION_SALT)


def issue_session(principal: Principal, settings: Settings) -> str:
    """The cookie value for a signed-in principal: signed and dated, holding no secret."""
    payload = {"n": principal.name, "r": principal.role, "v": principal.via}
    return _serializer(settings).dumps({**payload, "s": _credential_stamp(principal, settings)})


def principal_for_session(cookie: str | None, settings: Settings) -> Principal | None:
    """Who a session cookie belongs to; None when it is missing, forged, expired or outdated."""
    if not cookie or not gate_enabled(settings):
        return None
    try:
        payload = _serializer(settings).loads(cookie, max_age=SESSION_MAX_AGE_SEC)
        principal = Principal(name=payload["n"], role=payload["r"], via=payload["v"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if not secrets_match(str(payload.get("s", "")), _credential_stamp(principal, settings)):
        return None
    return principal


# --- guessing ---------------------------------------------------------------------------------------

_TRUST_SEC = 3600.0


class GuessLimiter:
    """Slows password and token guessing. Every failed attempt takes a token from its client's bucket
    and from one shared bucket; an empty bucket means "wait", and an attempt made while waiting is not
    even checked. Buckets refill at a steady pace, so a person who mistypes barely notices, while a
    script gets `per_client` quick guesses and then one every `client_refill_sec` seconds, and all
    clients together (many addresses, many sessions) one every `overall_refill_sec`. A client that
    signed in (or sent the right token) within the last hour is spared the shared bucket, so guessing
    from elsewhere does not lock out the people and scripts who know the password; its own bucket
    still holds. Per process."""

    def __init__(
        self,
        *,
        per_client: int = 5,
        client_refill_sec: float = 12.0,
        overall: int = 20,
        overall_refill_sec: float = 3.0,
        max_clients: int = 10_000,
        clock=time.monotonic,
    ) -> None:
        self._client = (per_client, client_refill_sec)
        self._overall = (overall, overall_refill_sec)
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._trusted: dict[str, float] = {}  # client -> when it last got in
        self._shared = (float(overall), clock())
        self._lock = threading.Lock()

    @staticmethod
    def _level(bucket: tuple[float, float], size: tuple[int, float], now: float) -> float:
        tokens, at = bucket
        capacity, refill_sec = size
        return min(float(capacity), tokens + (now - at) / refill_sec)

    def wait_seconds(self, client: str) -> float:
        """0 when `client` may try now, else how long until it may."""
        with self._lock:
            now = self._clock()
            own = self._buckets.get(client)
            waits = [0.0]
            if now - self._trusted.get(client, -_TRUST_SEC) >= _TRUST_SEC:
                waits.append((1 - self._level(self._shared, self._overall, now)) * self._overall[1])
            if own is not None:
                waits.append((1 - self._level(own, self._client, now)) * self._client[1])
            return max(0.0, *waits)

    def failed(self, client: str) -> None:
        """Count one wrong password or token from `client`."""
        with self._lock:
            now = self._clock()
            own = self._buckets.get(client, (float(self._client[0]), now))
            self._buckets[client] = (self._level(own, self._client, now) - 1, now)
            self._shared = (self._level(self._shared, self._overall, now) - 1, now)
            if len(self._buckets) > self._max_clients:
                self._forget_full(now)

    def succeeded(self, client: str) -> None:
        """`client` got in: the shared bucket no longer holds it up (for an hour)."""
        with self._lock:
            now = self._clock()
            self._trusted[client] = now
            if len(self._trusted) > self._max_clients:
                for old in sorted(self._trusted, key=self._trusted.__getitem__)[: -self._max_clients]:
                    del self._trusted[old]

    def _forget_full(self, now: float) -> None:
        """Drop clients whose bucket has refilled (they are as if never seen), then the oldest."""
        full = [c for c, b in self._buckets.items() if self._level(b, self._client, now) >= self._client[0]]
        for client in full:
            del self._buckets[client]
        for client in sorted(self._buckets, key=lambda c: self._buckets[c][1])[: -self._max_clients or None]:
            del self._buckets[client]
