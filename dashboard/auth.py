"""An optional sign-in gate for shared deployments (APP_PASSWORD and/or APP_USERS; off when neither).

Named users (APP_USERS) sign in with their name and password; the shared password with an empty name.
Checks are `core.access.authenticate`; `core.access.record_sign_in` puts each attempt in the audit trail. The
session remembers the signed-in principal, never the password. A wrong guess costs a second, which
makes guessing by script slow. `current_principal()` is who the dashboard acts as: what the services
are given as `actor`, and what the audit trail records.
"""

from __future__ import annotations

import time

import streamlit as st

from core.access import ANONYMOUS, OPEN_ACCESS, Principal, authenticate, record_sign_in
from core.config import Settings
from dashboard.i18n import t

_SIGNED_IN = "sigma.auth.signed_in"
_PRINCIPAL = "sigma.auth.principal"
_WRONG_GUESS_DELAY_SEC = 1.0


def require_password(settings: Settings) -> None:
    """Show a sign-in form and stop the page until it succeeds (no-op without APP_PASSWORD or APP_USERS)."""
    if not (settings.app_password or settings.app_users) or st.session_state.get(_SIGNED_IN):
        return
    st.title(t("auth.title"))
    st.write(t("auth.prompt"))
    with st.form("sigma-sign-in"):
        name = st.text_input(t("auth.name"), help=t("auth.name_help")) if settings.app_users else None
        given = st.text_input(t("auth.password"), type="password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if submitted:
        principal = record_sign_in(settings, name, authenticate(name, given, settings), where="dashboard")
        if principal is not None:
            st.session_state[_SIGNED_IN] = True
            st.session_state[_PRINCIPAL] = principal.model_dump()
            st.rerun()
        time.sleep(_WRONG_GUESS_DELAY_SEC)
        st.error(t("auth.wrong_named") if settings.app_users else t("auth.wrong"))
    st.stop()


def current_principal() -> Principal:
    """Who this browser session acts as: the signed-in user; `OPEN_ACCESS` when there is no gate;
    `ANONYMOUS` (a viewer, who can change nothing) if a gate is set and nobody signed in."""
    from dashboard.resources import settings

    stored = st.session_state.get(_PRINCIPAL)
    if stored:
        return Principal.model_validate(stored)
    current = settings()
    return ANONYMOUS if current.app_password or current.app_users else OPEN_ACCESS
