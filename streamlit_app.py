"""Sigma's entry point: the frame around every page (sidebar, language, errors) and the router.

Served by `server.py` (`make run`), which puts the HTTP gate in front and the API beside it. Pages live
in `app_pages/` (not `pages/`, which Streamlit would also run on their own, outside this frame) and stay
thin; the building blocks are in `dashboard/`, the product without a UI in `core/`.
"""

import streamlit as st

from dashboard.auth import account_box, current_principal, require_principal
from dashboard.feedback import friendly_errors, show_flashes
from dashboard.i18n import t
from dashboard.resources import db
from dashboard.sidebar import language_switch

# The favicon is an emoji drawn in the page: a `:material/…:` page icon would be fetched from
# fonts.gstatic.com as the favicon, and Sigma must load nothing from outside the machine it runs on.
st.set_page_config(page_title="Sigma", page_icon="🎥", layout="wide")

with friendly_errors("app"):
    language_switch()
    writer = current_principal().can_change  # a viewer (or nobody yet) gets no page that uploads
    analyse = st.Page(
        "app_pages/analyse.py", title=t("nav.analyse"), icon=":material/upload:", url_path="analyse",
        default=writer,
    )  # fmt: skip
    incidents = st.Page(
        "app_pages/incidents.py", title=t("nav.incidents"), icon=":material/list:", url_path="incidents",
        default=not writer,
    )  # fmt: skip
    page = st.navigation(
        [
            *([analyse] if writer else []),
            incidents,
            st.Page(
                "app_pages/incident.py", title=t("nav.incident"), icon=":material/movie:", url_path="incident"
            ),
            st.Page("app_pages/about.py", title=t("nav.about"), icon=":material/info:", url_path="about"),
        ]
    )
    account_box(require_principal())  # the gate let this request in; nothing draws without a session
    db()  # a database that does not answer is one clear message, before any page tries it
    show_flashes()
    with friendly_errors(page.title):
        page.run()
