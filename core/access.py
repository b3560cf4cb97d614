"""Who is asking: the one place credentials are checked, for the dashboard's sign-in, the API and the CLI.

A `Principal` is a signed-in person or service with a role. Every entry point asks this module and
nothing else: the HTTP gate in front of the dashboard and the API (a sign-in form or a bearer token),
and the audit trail records `Principal.name`. With neither APP_PASSWORD nor API_TOKEN set, Sigma is
open (a laptop on its own) and everyone is `OPEN_ACCESS`.

Comparisons are constant-time; a failed check never says whether the name or the password was wrong.
"""

from __future__ import annotations

import hmac
from typing import Literal

from pydantic import BaseModel

from core.config import Settings

Role = Literal["analyst", "viewer"]
ROLES: tuple[Role, ...] = ("analyst", "viewer")
SHARED_PASSWORD_USER = "shared-password"  # who signed in with APP_PASSWORD (no name of their own)
API_TOKEN_USER = "api-token"  # the service user behind API_TOKEN


class Principal(BaseModel):
    """A signed-in person or service. Analysts may change things; viewers only look."""

    name: str
    role: Role = "analyst"
    via: Literal["open", "password", "token"] = "password"

    @property
    def can_change(self) -> bool:
        """May delete, re-analyse, review, hold: everything that writes."""
        return self.role == "analyst"


OPEN_ACCESS = Principal(name="local", role="analyst", via="open")


def secrets_match(given: str, expected: str) -> bool:
    """Constant-time comparison: the time taken does not reveal how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def gate_enabled(settings: Settings) -> bool:
    """Whether anything must be presented to get in."""
    return bool(settings.app_password or settings.api_token)


def authenticate(name: str | None, password: str, settings: Settings) -> Principal | None:
    """The principal these credentials sign in as, or None (without saying what was wrong)."""
    if settings.app_password and secrets_match(password, settings.app_password):
        return Principal(name=SHARED_PASSWORD_USER, role="analyst", via="password")
    return None


def principal_for_token(token: str, settings: Settings) -> Principal | None:
    """The service user behind a bearer token, or None."""
    if settings.api_token and secrets_match(token, settings.api_token):
        return Principal(name=API_TOKEN_USER, role="analyst", via="token")
    return None
