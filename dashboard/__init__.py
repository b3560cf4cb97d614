"""Streamlit building blocks of the Sigma dashboard: pages in `app_pages/` stay thin and call these.

Everything here may import `core`; `core` never imports this package.
"""
