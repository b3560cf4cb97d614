"""Sigma: dangerous moments in video, found by a vision-language model or an offline motion engine."""

# Sigma's own version: named in every case package's manifest (core.evidence.package).
__version__ = "0.5.0"
