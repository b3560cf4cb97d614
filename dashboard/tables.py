"""Tables whose rows are chosen by a click anywhere on the row, not only on its checkbox.

Streamlit's dataframe selects a row only through its checkbox; a click on a cell is a cell selection.
Tables that open or seek something take both (`selection_mode=ROW_CLICK`) and read the row either gave.
"""

from __future__ import annotations

ROW_CLICK = ["single-row", "single-cell"]


def picked_row(state: object) -> int | None:
    """The row chosen in a dataframe's selection state: its checkbox, else the clicked cell's row."""
    selection = state.get("selection") if isinstance(state, dict) else getattr(state, "selection", None)
    if not selection:
        return None
    rows, cells = selection.get("rows") or [], selection.get("cells") or []
    if rows:
        return int(rows[0])
    return int(cells[0][0]) if cells else None


def selected_rows(rows: list[int]) -> dict:
    """A selection state showing `rows` selected (and no cell), to put into `st.session_state`."""
    return {"selection": {"rows": rows, "columns": [], "cells": []}}
