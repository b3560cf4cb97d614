"""About: engine, model server, versions, storage and database."""

from dashboard import about
from dashboard.routing import through_entry_point

through_entry_point(__file__)
about.render()
