"""Who is asking: the one place credentials are checked, for the dashboard's sign-in, the API and the CLI.

A `Principal` is a signed-in person or service with a role. Every entry point asks this module and
nothing else: the HTTP gate in front of the dashboard and the API (a sign-in form or a bearer token),
and the audit trail records `Principal.name`. With neither APP_PASSWORD, APP_USERS nor API_TOKEN set,
Sigma is open (a laptop on its own) and everyone is `OPEN_ACCESS`.

Named users (APP_USERS, see core.users) sign in with their name and password; the shared APP_PASSWORD
with an empty name. Comparisons are constant-time and a named check always costs one Argon2
verification; a failed check never says whether the name or the password was wrong.
`record_sign_in` puts each attempt in the audit trail (who got in, or the name that failed).

Roles are enforced in core's services, which take the acting principal (`require_analyst`): a viewer
cannot upload, delete, re-analyse, review, hold or edit case details, whatever the UI shows.
"""

from __future__ import annotations

import getpass
import hmac
import os
from typing import Literal

from pydantic import BaseModel

from core.config import Settings
from core.errors import Forbidden, InvalidInput

Role = Literal["analyst", "viewer"]
ROLES: tuple[Role, ...] = ("analyst", "viewer")
Via = Literal["open", "password", "token", "cli", "system"]
SHARED_PASSWORD_USER = "shared-password"  # who signed in with APP_PASSWORD (no name of their own)
API_TOKEN_USER = "api-token"  # the service user behind API_TOKEN


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


def secrets_match(given: str, expected: str) -> bool:
    """Constant-time comparison: the time taken does not reveal how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def gate_enabled(settings: Settings) -> bool:
    """Whether anything must be presented to get in."""
    return bool(settings.app_password or settings.api_token or settings.app_users)


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
    shared password or the API token; for a named user their role and password hash, so removing a
    user, changing their password or their role signs them out ("" once they are gone)."""
    from core.users import read_users

    if principal.via == "token":
        return settings.api_token or ""
    if principal.via != "password" or principal.name == SHARED_PASSWORD_USER:
        return settings.app_password or ""
    try:
        user = read_users(settings.app_users).get(principal.name) if settings.app_users else None
    except InvalidInput:
        user = None
    return f"{user.role}:{user.password_hash}" if user and user.role == principal.role else ""


def principal_for_token(token: str, settings: Settings) -> Principal | None:
    """The service user behind a bearer token, or None."""
    if settings.api_token and secrets_match(token, settings.api_token):
        return Principal(name=API_TOKEN_USER, role="analyst", via="token")
    return None


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
