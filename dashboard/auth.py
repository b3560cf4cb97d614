"""An optional password gate for shared deployments (APP_PASSWORD; off when unset).

One shared password, checked with a constant-time comparison; the session remembers only that it
was entered, never the password. A wrong guess costs a second, which makes guessing by script slow.
For accounts, single sign-on or TLS put a reverse proxy in front; this gate keeps a server on a
shared network from being open to anyone who finds the port.
"""

from __future__ import annotations

import time

import streamlit as st

from core.access import authenticate
from core.config import Settings
from dashboard.i18n import t

_SIGNED_IN = "sigma.auth.signed_in"
_WRONG_GUESS_DELAY_SEC = 1.0


def require_password(settings: Settings) -> None:
    """Show a password form and stop the page until the right password is entered (no-op without APP_PASSWORD)."""
    if not settings.app_password or st.session_state.get(_SIGNED_IN):
        return
    st.title(t("auth.title"))
    st.write(t("auth.prompt"))
    with st.form("sigma-sign-in"):
        given = st.text_input(t("auth.password"), type="password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if submitted:
        if authenticate(None, given, settings) is not None:
            st.session_state[_SIGNED_IN] = True
            st.rerun()
        time.sleep(_WRONG_GUESS_DELAY_SEC)
        st.error(t("auth.wrong"))
    st.stop()
