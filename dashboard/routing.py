"""Every page runs inside the entry point's frame (sidebar, language, password gate, error handling).

Streamlit still treats a folder named `pages/` beside the entry point as a legacy multipage app until
the process's first `st.navigation` call, so when the very first request after a start is a deep link
(a bookmarked `/incident?id=3`) it runs that page file alone. `through_entry_point(__file__)`, the first
call of every page, switches such a run to the same page and query through `streamlit_app.py`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP_ROOT = Path(__file__).resolve().parents[1]


def through_entry_point(page_file: str) -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what the entry point's st.navigation does too
        page = Path(page_file).resolve().relative_to(APP_ROOT).as_posix()
        st.switch_page(page, query_params=st.query_params.to_dict())
