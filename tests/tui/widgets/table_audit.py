"""Reads a DataTable back from the screen, cell by cell, and says what is not shown truthfully.

Works on any `DataTable` (so it can fail on the old tables as well as pass on the shared base): for
every row on screen and every column, the text drawn in the column's cells is compared with the cell
the table holds. A value is truthful when it is drawn whole, or (text only) cut with a final `…`.
A column drawn partly, or not at all, without the `…+N more` hint in the header, is a failure.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.app import App
from textual.widgets import DataTable
from tui_helpers import screen_lines

MORE_KEY = "__more__"  # the shared table base's hint column (a literal: this runs on any DataTable)


def _cut(line: str, start: int, end: int) -> str:
    """The cells [start, end) of a screen line (wide characters counted)."""
    out, x = [], 0
    for ch in line:
        w = cell_len(ch)
        if start <= x and x + w <= end:
            out.append(ch)
        x += w
    return "".join(out)


def table_problems(app: App[Any], table: DataTable[Any], numeric_only: bool = False) -> list[str]:
    """Everything the table shows untruthfully on the current screen (empty: all good)."""
    try:
        geometry = app.screen._compositor.find_widget(table)
    except Exception:  # not in the layout (a hidden tab): nothing on screen
        return []
    visible = geometry.region.intersection(geometry.clip)
    if not visible:
        return []
    region = geometry.region
    lines = screen_lines(app)
    pad = table.cell_padding
    problems: list[str] = []
    scroll_x, scroll_y = int(table.scroll_x), int(table.scroll_y)
    columns = table.ordered_columns
    keys = [c.key.value for c in columns]
    header = "".join(
        _cut(lines[y], visible.x, visible.right) for y in range(region.y, region.y + table.header_height)
    )
    hinted = MORE_KEY in keys and "more" in header
    right = min(visible.right, region.x + table.scrollable_content_region.width)
    bottom = min(visible.bottom, region.y + table.scrollable_content_region.height)
    for row_index in range(table.row_count):
        y = region.y + table.header_height + row_index - scroll_y
        if not (visible.y + table.header_height <= y < bottom):
            continue
        row = table.get_row_at(row_index)
        x = region.x - scroll_x
        for col, cell in zip(columns, row, strict=True):
            width = col.get_render_width(table)
            start, end = x + pad, x + width - pad
            x += width
            if col.key.value == MORE_KEY:
                continue
            expected = (cell.plain if hasattr(cell, "plain") else str(cell)).strip()
            numeric = str(getattr(cell, "justify", "")) == "right"
            if numeric_only and not numeric:
                continue
            where = f"{table.id} row {row_index} column {col.key.value!r}"
            if start >= right:
                if not hinted and expected:
                    problems.append(f"{where}: {expected!r} off screen with no more-columns hint")
                continue
            if end > right:
                problems.append(f"{where}: {expected!r} drawn partly ({_cut(lines[y], start, right)!r})")
                continue
            shown = _cut(lines[y], start, end).strip()
            if shown == expected:
                continue
            if not numeric and shown.endswith("…") and expected.startswith(shown[:-1]):
                continue
            problems.append(f"{where}: shows {shown!r} for {expected!r}")
    return problems
