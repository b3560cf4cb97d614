"""Sign-in through an identity provider (OIDC), with Streamlit's own `st.login` machinery behind Sigma's gate.

With OIDC_PROVIDER set (the name of a provider section `[auth.NAME]` in `.streamlit/secrets.toml`):

1. The sign-in form offers "Sign in with NAME": `/signin/oidc` sends the browser to Streamlit's
   `/auth/login` (what `st.login(NAME)` does), which sends it to the provider and back to
   `/oauth2callback`; Streamlit then sets its signed identity cookie and returns to `/`.
2. The gate reads that cookie exactly as Streamlit's websocket does (signed with `[auth]
   cookie_secret`, made for the origin of `redirect_uri`), takes the e-mail address and gives it a
   role (`core.access.oidc_principal`: OIDC_ANALYSTS, OIDC_VIEWERS, OIDC_DEFAULT_ROLE). On a page
   visit it issues Sigma's own session for that principal and records "sign in"; from then on the
   person is like any other (the same session for pages, `/media`, uploads and the API).
3. "Sign out" ends both: Sigma's session, then Streamlit's cookie (`/auth/logout`, which also ends
   the provider's session where the provider supports it).

The dashboard reads the person's name from `st.user` (dashboard/auth.py). Everything Streamlit-specific
about the cookie is Streamlit's own code (pinned in requirements.txt; tests/test_oidc.py checks the
bridge against the cookie Streamlit writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from streamlit.auth_util import (
    encode_provider_token,
    get_origin_from_redirect_uri,
    get_secrets_auth_section,
    is_authlib_installed,
    validate_auth_credentials,
)
from streamlit.errors import StreamlitAuthError
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
from streamlit.web.server.starlette.starlette_websocket import (
    _get_signed_cookie_with_chunks,
    _parse_decoded_user_cookie,
)

from core.access import Principal, oidc_principal
from core.config import Settings

START_PATH = "/signin/oidc"
# Streamlit's own routes for the provider's round trip: open, whoever asks (they carry their own state)
STREAMLIT_AUTH_PATHS = frozenset({"/auth/login", "/auth/logout", "/oauth2callback"})
LOGOUT_PATH = "/auth/logout"
MIN_COOKIE_SECRET = 32


def configuration_problem(settings: Settings) -> str | None:
    """Why OIDC sign-in cannot work as configured (one line), or None when it can or is not wanted."""
    if not settings.oidc_provider:
        return None
    return _problem(settings.oidc_provider)


@cache
def _problem(provider: str) -> str | None:
    """Checked once per process: secrets.toml is read when the server starts."""
    if not is_authlib_installed():
        return "OIDC_PROVIDER is set but Authlib is not installed (pip install -r requirements.txt)"
    try:
        validate_auth_credentials(provider)
    except StreamlitAuthError as error:
        return f"OIDC_PROVIDER={provider}: {' '.join(str(error).split())}"
    section = get_secrets_auth_section()
    if not str(section.get("redirect_uri", "")).endswith("/oauth2callback"):
        return "[auth] redirect_uri in .streamlit/secrets.toml must be this server's URL + /oauth2callback"
    if len(str(section.get("cookie_secret", ""))) < MIN_COOKIE_SECRET:
        return f"[auth] cookie_secret in .streamlit/secrets.toml needs at least {MIN_COOKIE_SECRET} random characters"
    return None


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_provider) and configuration_problem(settings) is None


def login_url(settings: Settings) -> str:
    """Streamlit's login route for the configured provider (what `st.login(provider)` redirects to)."""
    return f"/auth/login?provider={encode_provider_token(settings.oidc_provider)}"


def identity(cookies: Mapping[str, str]) -> dict[str, Any] | None:
    """The identity in Streamlit's cookie, verified (signature, age, origin), or None."""
    raw = _get_signed_cookie_with_chunks(dict(cookies), USER_COOKIE_NAME)
    origin = get_origin_from_redirect_uri()
    if not raw or not origin:
        return None
    user = _parse_decoded_user_cookie(raw, origin)
    return user if user.get("is_logged_in") else None


def principal(cookies: Mapping[str, str], settings: Settings) -> tuple[Principal | None, str]:
    """Who Streamlit's identity cookie signs in, and the address it names ("" when there is none). A
    provider that says the address is not verified signs nobody in."""
    if not enabled(settings):
        return None, ""
    user = identity(cookies) or {}
    email = str(user.get("email") or "").strip()
    if not email or user.get("email_verified") is False:
        return None, email
    return oidc_principal(email, settings), email
