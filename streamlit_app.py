"""Sigma's entry point: the frame around every page (sidebar, language, errors) and the router.

Run with `make run` or `streamlit run streamlit_app.py`. Pages live in `app_pages/` and stay thin; the
building blocks are in `dashboard/`, the product without a UI in `core/`.

Why not `pages/`: Streamlit (1.67) still treats a folder named `pages` next to the entry point as a
legacy multipage app until the first `st.navigation` call of the process, so the very first request
after a start (e.g. a bookmarked `/incident?id=3`) would run that page file alone, without this frame
(and without any access check added here). `app_pages/` is never auto-discovered.
"""

import streamlit as st

from dashboard.auth import require_password
from dashboard.feedback import friendly_errors, show_flashes
from dashboard.i18n import t
from dashboard.resources import settings, start_background
from dashboard.sidebar import language_switch

st.set_page_config(page_title="Sigma", layout="wide")

with friendly_errors("app"):
    language_switch()
    require_password(settings())  # APP_PASSWORD: nothing below runs until it is entered
    page = st.navigation(
        [
            st.Page(
                "app_pages/analyse.py",
                title=t("nav.analyse"),
                icon=":material/upload:",
                url_path="analyse",
                default=True,
            ),
            st.Page(
                "app_pages/incidents.py",
                title=t("nav.incidents"),
                icon=":material/list:",
                url_path="incidents",
            ),
            st.Page(
                "app_pages/incident.py", title=t("nav.incident"), icon=":material/movie:", url_path="incident"
            ),
            st.Page("app_pages/about.py", title=t("nav.about"), icon=":material/info:", url_path="about"),
        ]
    )
    start_background()
    show_flashes()
    with friendly_errors(page.title):
        page.run()
