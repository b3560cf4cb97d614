"""Incident: live status, then player, timeline, events, review, storyboard, logs, downloads."""

from dashboard import incident_page
from dashboard.routing import through_entry_point

through_entry_point(__file__)
incident_page.render()
