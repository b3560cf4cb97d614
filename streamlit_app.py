"""Sigma's entry point: the frame around every page (sidebar, language, errors) and the router.

Run with `make run` or `streamlit run streamlit_app.py`. Pages live in `pages/` and stay thin; the
building blocks are in `dashboard/`, the product without a UI in `core/`.

Pages run only inside this frame: see `dashboard/routing.py` for the first-request case Streamlit's
legacy `pages/` handling would otherwise let through.
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
                "pages/analyse.py",
                title=t("nav.analyse"),
                icon=":material/upload:",
                url_path="analyse",
                default=True,
            ),
            st.Page(
                "pages/incidents.py",
                title=t("nav.incidents"),
                icon=":material/list:",
                url_path="incidents",
            ),
            st.Page(
                "pages/incident.py", title=t("nav.incident"), icon=":material/movie:", url_path="incident"
            ),
            st.Page("pages/about.py", title=t("nav.about"), icon=":material/info:", url_path="about"),
        ]
    )
    start_background()
    show_flashes()
    with friendly_errors(page.title):
        page.run()
