"""The AI pane's small sortable tables (users, tools, clients, changes…).

Aggregate tables hold a few hundred rows at most, so they are built on the shared `SortableTable`
(a Textual DataTable that never cuts a number and marks every cut text with `…`); the raw-event lists
use the virtualised `EventTable`. `TableColumn` is the shared column definition.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.binding import Binding, BindingType

from ddaudit_tui.tui.widgets.sortable_table import SortableTable, TableColumn

T = TypeVar("T")


class AiTable(SortableTable[T], Generic[T]):
    """`AiTable(columns, identity=..., sort=(index, reverse))`; `set_items(items)`; `Chosen` on Enter."""

    HELP_GROUP: ClassVar[str] = "Table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="ai-table.open", tooltip="Open the highlighted row"),
    ]

    DEFAULT_CSS = """
    AiTable { height: 1fr; }
    """


__all__ = ["AiTable", "TableColumn"]
