"""Incident: live status, then player, timeline, events, review, storyboard, logs, downloads."""

from dashboard import incident_page

incident_page.render()
