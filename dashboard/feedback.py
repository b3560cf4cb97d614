"""Errors become clear messages, never tracebacks; actions leave a one-line confirmation.

`friendly_errors` wraps a page body (or a fragment, or a callback's work): an error Sigma raises on
purpose is shown as it is, anything else as "something went wrong" with its kind and message; the
traceback goes to the server log only. Streamlit's own control flow (rerun, stop, page switch) passes
through untouched: it is a `BaseException`, not an `Exception`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from core.config import get_settings
from core.errors import DatabaseUnavailable, SigmaError
from dashboard.i18n import lang, t

logger = logging.getLogger("sigma.dashboard")
_FLASH_KEY = "sigma.flash"


def describe_error(error: Exception) -> str:
    """One message a person can act on, with any secret of the settings masked."""
    if isinstance(error, DatabaseUnavailable):
        message = t("error.database", detail=str(error))
    elif isinstance(error, SigmaError):
        message = error.text(lang())
    elif isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
            for problem in error.errors()
        )
        message = t("error.invalid_value", problems=problems)
    elif isinstance(error, OperationalError):
        cause = str(error.orig or error).strip().splitlines()
        message = t("error.database", detail=cause[0] if cause else type(error).__name__)
    else:
        message = t("error.unexpected", kind=type(error).__name__, detail=str(error) or "-")
    try:
        return get_settings().redact(message)
    except ValidationError:  # the settings themselves are what is wrong: nothing to mask with
        return message


@contextmanager
def friendly_errors(where: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if not isinstance(error, (SigmaError, ValidationError, OperationalError)):
            logger.exception("error in %s", where)
        st.error(describe_error(error), icon=":material/error:")


def safe_callback(callback: Callable[..., None]) -> Callable[..., None]:
    """A widget callback whose failure becomes a message on the next run instead of a traceback."""

    @functools.wraps(callback)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            callback(*args, **kwargs)
        except Exception as error:
            if not isinstance(error, (SigmaError, ValidationError)):
                logger.exception("error in %s", callback.__name__)
            flash(describe_error(error), "error")

    return wrapper


def flash(message: str, kind: str = "success") -> None:
    """A message shown once at the top of the next page run (survives `st.rerun` and page switches)."""
    st.session_state.setdefault(_FLASH_KEY, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(_FLASH_KEY, []):
        if kind == "error":
            st.error(message, icon=":material/error:")
        elif kind == "warning":
            st.warning(message, icon=":material/warning:")
        else:
            st.success(message, icon=":material/check_circle:")
