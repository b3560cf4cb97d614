"""Incidents: all runs, filterable; select a row to open it; delete with confirmation."""

from dashboard import incident_list
from dashboard.routing import through_entry_point

through_entry_point(__file__)
incident_list.render()
