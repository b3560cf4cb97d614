"""Analyse: upload a video or try the sample, choose the parameters, start."""

from dashboard import analyse

analyse.render()
