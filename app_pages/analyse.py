"""Analyse: upload a video or try the sample, choose the parameters, start."""

from dashboard import analyse
from dashboard.routing import through_entry_point

through_entry_point(__file__)
analyse.render()
