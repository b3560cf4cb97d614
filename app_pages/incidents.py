"""Incidents: all runs, filterable; select a row to open it; delete with confirmation."""

from dashboard import incident_list

incident_list.render()
