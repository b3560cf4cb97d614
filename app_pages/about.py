"""About: engine, model server, versions, storage and database."""

from dashboard import about

about.render()
