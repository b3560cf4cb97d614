"""Who is using the dashboard: the person the HTTP gate (api/gate.py) let in, read from the request's
session cookie (or bearer token) through `st.context`. One line anywhere in the dashboard:

    from dashboard.auth import current_principal
    who = current_principal()        # core.access.Principal: name, role ("analyst" | "viewer"), via

The gate decides who gets in, before any page runs; `require_principal` in the entry point is a second
lock on the same door (a page never draws without a valid session while a password or token is set).
With an identity provider (OIDC_PROVIDER, api/oidc.py) the person is also in `st.user`, which Streamlit
fills from its own verified cookie: their e-mail address is who they are, their name is shown.
"""

from __future__ import annotations

import streamlit as st

from core.access import (
    ANONYMOUS,
    OPEN_ACCESS,
    SESSION_COOKIE,
    Principal,
    gate_enabled,
    oidc_principal,
    principal_for_session,
    principal_for_token,
)
from dashboard.i18n import t
from dashboard.resources import settings

SIGN_IN_URL = "/signin"
SIGN_OUT_URL = "/signout"


def current_principal() -> Principal:
    """Who this browser session acts as: the signed-in person; `OPEN_ACCESS` when Sigma runs without
    a gate; `ANONYMOUS` (a viewer, who can change nothing) when the request carries no valid session.
    What the services are given as `actor`, and what the audit trail records."""
    return _session_principal() or ANONYMOUS


def _session_principal() -> Principal | None:
    current = settings()
    if not gate_enabled(current):
        return OPEN_ACCESS
    scheme, _, token = (st.context.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return principal_for_token(token.strip(), current)
    signed_in = principal_for_session(st.context.cookies.get(SESSION_COOKIE), current)
    if signed_in is None and current.oidc_provider and st.user.get("is_logged_in"):
        return oidc_principal(st.user.get("email"), current)
    return signed_in


def require_principal() -> Principal:
    """The signed-in person; without one, a link to the sign-in form and nothing else on the page."""
    principal = _session_principal()
    if principal is None:
        st.warning(t("auth.no_session"), icon=":material/lock:")
        st.link_button(t("auth.sign_in"), SIGN_IN_URL, type="primary")
        st.stop()
    return principal


def account_box(principal: Principal) -> None:
    """Who is signed in, and a way out (only when there is a gate to pass)."""
    if principal.via == "open":
        return
    shown = principal.name
    if principal.via == "oidc" and st.user.get("name"):  # the provider's name for them, and the address
        shown = f"{st.user.get('name')} ({principal.name})"
    st.sidebar.caption(t("auth.signed_in_as", name=shown))
    st.sidebar.link_button(t("auth.sign_out"), SIGN_OUT_URL, icon=":material/logout:", width="stretch")
