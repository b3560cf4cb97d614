"""The seed's REST API (`/api/v1/...`), a thin FastAPI layer over core's services, and the HTTP gate
that stands in front of it and of the dashboard.

`api.main:app` runs the API alone (`make api`, port 8080); `server:app` serves it beside the dashboard
in one process (`make run`, port 8501).
"""
