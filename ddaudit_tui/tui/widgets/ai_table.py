"""A small sortable table of analysis rows (users, tools, clients, changes…) for the AI pane.

Aggregate tables hold a few hundred rows at most, so Textual's DataTable is fine here (the raw-event
lists use the virtualised `EventTable`). What it adds to DataTable: vim keys, `s`/`S` and header
clicks to sort with a ▲/▼ on the sorted column, missing values last in either direction, the cursor
staying on the same row across sorts and refreshes, and a `Chosen` message carrying the row's item.

Cells are always `rich.text.Text` built from cleaned strings: a plain `str` cell would be parsed as
markup by DataTable, and these values come from audit events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from ddaudit_tui.tui.pivot import PivotTarget, row_targets
from ddaudit_tui.tui.safe_text import clean

T = TypeVar("T")

Justify = Literal["left", "right"]


@dataclass(frozen=True)
class TableColumn(Generic[T]):
    """How one column shows and sorts an item. `text` returns raw (uncleaned) text or a styled `Text`."""

    key: str
    label: str
    text: Callable[[T, bool], str | Text | int | None]  # (item, local_time) -> cell
    sort_key: Callable[[T], Any]  # None sorts last, whatever the direction
    justify: Justify = "left"
    max_width: int = 40  # longer text is cut with "…" (the full value is in the report / detail)
    descending_first: bool = False  # counts read best biggest first


class _KeyCell(Text):
    """The first cell of a row: remembers which item the row shows, so sorting can use the item's own
    sort keys rather than the rendered text (numbers as numbers, times as times)."""

    index: int = 0


def _cell(value: str | Text | int | None, justify: Justify, max_width: int, cls: type[Text] = Text) -> Text:
    if isinstance(value, Text):
        # Styled cells are built by the pane from cleaned strings; only their length is checked here.
        text = cls(value.plain, style=value.style, justify=justify, end="")
        text.spans = list(value.spans)
        text.truncate(max_width, overflow="ellipsis")
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return cls(f"{value:,}", justify=justify, end="")
    return cls(clean(value if value is not None else "—", max_len=max_width), justify=justify, end="")


class AiTable(DataTable[Text], Generic[T], inherit_bindings=False):
    """`AiTable(columns, identity=..., sort=(index, reverse))`; `set_items(items)`; `Chosen` on Enter."""

    HELP_GROUP: ClassVar[str] = "Table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="ai-table.open", tooltip="Open the highlighted row"),
        Binding("s", "sort_next", "Sort", id="ai-table.sort", tooltip="Sort by the next column"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, id="ai-table.sort-reverse"),
        Binding("j,down", "cursor_down", "Next row", show=False, id="ai-table.down"),
        Binding("k,up", "cursor_up", "Previous row", show=False, id="ai-table.up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="ai-table.top"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="ai-table.bottom"),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False, id="ai-table.page-down"),
        Binding("pageup,ctrl+u", "page_up", "Page up", show=False, id="ai-table.page-up"),
        Binding("l,right", "scroll_right", "Scroll right", show=False, id="ai-table.right"),
        Binding("h,left", "scroll_left", "Scroll left", show=False, id="ai-table.left"),
    ]

    DEFAULT_CSS = """
    AiTable {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
        & > .datatable--header { text-style: bold; }
        /* NO_COLOR: the cursor row must not rely on colour alone. */
        &:nocolor > .datatable--cursor { text-style: reverse bold; }
    }
    """

    class Chosen(Message, Generic[T]):  # type: ignore[misc]
        """Enter (or a click on the highlighted row) on a row."""

        def __init__(self, table: AiTable[Any], item: Any, index: int) -> None:
            super().__init__()
            self.table = table
            self.item = item
            self.index = index  # the row's position in display order

        @property
        def control(self) -> AiTable[Any]:
            return self.table

    class Sorted(Message):
        def __init__(self, table: AiTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> AiTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[TableColumn[T]],
        *,
        identity: Callable[[T], Any],
        sort: tuple[int, bool] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.table_columns: tuple[TableColumn[T], ...] = tuple(columns)
        self.identity = identity
        # None: keep the analysis' own order (it is already the meaningful one) until the user sorts.
        self.sort_index: int | None = sort[0] if sort else None
        self.sort_reverse = sort[1] if sort else False
        self._items: list[T] = []
        self.local_time = False

    # -- data ------------------------------------------------------------------------------------

    @property
    def items(self) -> Sequence[T]:
        return self._items

    @property
    def rows_in_order(self) -> list[T]:
        """The items in display order."""
        return [self._items[int(row.key.value or 0)] for row in self.ordered_rows]

    @property
    def cursor_item(self) -> T | None:
        rows = self.ordered_rows
        if not 0 <= self.cursor_row < len(rows):
            return None
        return self._items[int(rows[self.cursor_row].key.value or 0)]

    def pivot_targets(self) -> list[PivotTarget]:
        """The cells of the row under the cursor, for `x` (see `tui.pivot`)."""
        item = self.cursor_item
        return row_targets(item) if item is not None else []

    def on_mount(self) -> None:
        for i, col in enumerate(self.table_columns):
            self.add_column(Text(col.label, justify=col.justify), key=col.key)
            # Room for the " ▲" every label may get, so sorting never crops a label.
            self.columns[self.ordered_columns[i].key].content_width += 2
        self._relabel()

    def set_items(self, items: Sequence[T], local_time: bool | None = None) -> None:
        """Replace the rows, keeping the sort and the cursor on the same item when it is still there."""
        if local_time is not None:
            self.local_time = local_time
        previous = self.cursor_item
        keep = self.identity(previous) if previous is not None else None
        scroll_x = self.scroll_x
        self._items = list(items)
        self.clear()
        for index, item in enumerate(self._items):
            cells = []
            for n, col in enumerate(self.table_columns):
                cell = _cell(
                    col.text(item, self.local_time), col.justify, col.max_width, _KeyCell if n == 0 else Text
                )
                if isinstance(cell, _KeyCell):
                    cell.index = index
                cells.append(cell)
            self.add_row(*cells, key=str(index))
        if self.sort_index is not None:
            self._apply_sort()
        self.scroll_x = scroll_x
        target = 0
        if keep is not None:
            target = next((i for i, it in enumerate(self.rows_in_order) if self.identity(it) == keep), 0)
        self.move_cursor(row=target, animate=False)

    # -- sorting ---------------------------------------------------------------------------------

    def sort_by(self, index: int, reverse: bool | None = None) -> None:
        """Sort by column `index`; `reverse` None uses the column's first direction. The cursor stays on
        the item it was on."""
        index %= len(self.table_columns)
        self.sort_index = index
        self.sort_reverse = self.table_columns[index].descending_first if reverse is None else reverse
        current = self.cursor_item
        self._relabel()
        self._apply_sort()
        if current is not None:
            keep = self.identity(current)
            row = next((i for i, it in enumerate(self.rows_in_order) if self.identity(it) == keep), 0)
            self.move_cursor(row=row, animate=False)
        self.post_message(self.Sorted(self))

    def _apply_sort(self) -> None:
        if self.sort_index is None or not self._items:
            return
        col = self.table_columns[self.sort_index]
        reverse = self.sort_reverse
        keys = [col.sort_key(item) for item in self._items]

        def key(cell: _KeyCell) -> tuple[bool, Any]:
            value = keys[cell.index]
            # Missing values last in both directions: they never hide the data.
            return ((value is None) != reverse, value)

        self.sort(self.table_columns[0].key, key=key, reverse=reverse)

    def _relabel(self) -> None:
        for i, col in enumerate(self.table_columns):
            label = col.label
            if i == self.sort_index:
                label += " ▼" if self.sort_reverse else " ▲"
            self.columns[self.ordered_columns[i].key].label = Text(
                label, justify=col.justify, style="underline" if i == self.sort_index else ""
            )
        self._update_count += 1  # DataTable caches rendered headers by this counter
        self.refresh()

    @property
    def sort_description(self) -> str:
        if self.sort_index is None:
            return ""
        return f"{self.table_columns[self.sort_index].label} {'▼' if self.sort_reverse else '▲'}"

    def action_sort_next(self) -> None:
        self.sort_by(0 if self.sort_index is None else self.sort_index + 1)

    def action_sort_reverse(self) -> None:
        if self.sort_index is None:
            self.sort_by(0, reverse=not self.table_columns[0].descending_first)
        else:
            self.sort_by(self.sort_index, reverse=not self.sort_reverse)

    # -- messages --------------------------------------------------------------------------------

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        index = event.column_index
        if index == self.sort_index:
            self.sort_by(index, reverse=not self.sort_reverse)
        else:
            self.sort_by(index)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.cursor_item
        if item is not None:
            self.post_message(self.Chosen(self, item, self.cursor_row))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()  # the pane does not need every cursor move
