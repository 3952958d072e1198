"""The one sortable table every aggregate table of the TUI is built on (AI, Key lookup, Spike watch).

The rule that it enforces by construction (issue 11): **no value is ever cut silently.**

- A numeric column is always as wide as its widest value (and its header): a number is never cut.
- When the columns do not fit, whole columns are dropped, lowest priority first (rightmost first among
  equals), and the last header says so (`…+2 more`); the first column is never dropped.
- Text that must be cut ends in `…` (`ellipsize`, the single helper) and the hovered cell's tooltip
  holds the whole value (the row's detail has it too).
- Spare width goes to the cut text columns first: first up to their `max_width` (the ideal), then up
  to their whole content, so a wide terminal cuts nothing while it has room.
- Widths are recomputed on every resize and on every data change.

Sorting behaves like k9s/harlequin (issue 12): `s` sorts by the next column, `S` opens a column picker
(choosing the sorted column again reverses it), a header click sorts by that column (again: reverse),
the ▲/▼ is on the sorted column's header, and after a sort the view goes to the top with the first row
selected. `reset_sort()` returns to the table's own default order (a new query starts there).

Cells are always `rich.text.Text` built from cleaned strings: a plain `str` cell would be parsed as
markup by DataTable, and these values come from audit events.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from ddaudit_tui.tui.marks import MARK_GLYPH, is_marked, mark_sets
from ddaudit_tui.tui.pivot import PivotTarget, row_targets
from ddaudit_tui.tui.safe_text import clean

T = TypeVar("T")

Justify = Literal["left", "right"]

ARROW_UP = "▲"
ARROW_DOWN = "▼"
MORE_KEY = "__more__"
EMPTY_KEY = "__empty__"
TEXT_MIN_WIDTH = 8  # a text column is not cut below this (unless its content is shorter)
FIRST_MIN_WIDTH = 12  # … nor the first column (the row's name) below this


def more_hint(n: int, short: bool = False) -> str:
    """The last header when `n` columns did not fit: says the table goes on."""
    return f"…+{n}" if short else f"…+{n} more"


def ellipsize(text: Text, width: int) -> Text:
    """`text` cut to `width` cells, ending in `…` when anything was cut (the one way text is cut)."""
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(max(1, width), overflow="ellipsis")
    return cut


@dataclass(frozen=True)
class TableColumn(Generic[T]):
    """How one column shows and sorts an item.

    `cell(item, local_time)` returns raw (uncleaned) text, a styled `Text` built by the pane from cleaned
    strings, a number, or None (shown as `—`). `sort_key(item)` is the value rows sort on (numbers as
    numbers, times as times); None sorts last in either direction."""

    key: str
    label: str  # may hold "\n" for a two-line header (`header_height=2`)
    cell: Callable[[T, bool], str | Text | int | None]
    sort_key: Callable[[T], Any]
    justify: Justify = "left"
    max_width: int | None = None  # a text column's ideal width; it widens past it only with room to spare
    descending_first: bool = False  # counts read best biggest first
    numeric: bool | None = None  # never cut; None: right-justified columns are numeric
    min_width: int = TEXT_MIN_WIDTH  # a text column is never cut narrower than this
    priority: int = 0  # when columns must be dropped, the lowest priority goes first (rightmost first)

    @property
    def is_numeric(self) -> bool:
        return self.justify == "right" if self.numeric is None else self.numeric


def to_cell(value: str | Text | int | None, justify: Justify) -> Text:
    """One cell as a single-line `Text` (cleaned; numbers with thousands separators)."""
    if isinstance(value, Text):
        # Styled cells are built by the pane from cleaned strings.
        text = value.copy()
        text.justify = justify
        text.no_wrap = True
        text.end = ""
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}", justify=justify, no_wrap=True, end="")
    return Text(clean(value if value is not None else "—"), justify=justify, no_wrap=True, end="")


def label_width(label: str) -> int:
    return max(cell_len(line) for line in label.split("\n"))


def fit_widths(
    columns: Sequence[TableColumn[Any]], natural: Sequence[int], available: int, padding: int
) -> tuple[list[int], dict[int, int]]:
    """Which columns are shown and how wide (content cells, without padding), for `available` cells.

    Returns (indices of the shown columns, {index: width}). Numeric columns get their natural width or
    are dropped whole; text columns get at least their minimum (below), then spare width: first to
    the ideal (`max_width`), then to their whole content."""
    n = len(columns)
    ideal = [
        nat if col.is_numeric or col.max_width is None else min(nat, col.max_width)
        for col, nat in zip(columns, natural, strict=True)
    ]
    # A text column is cut to no less than two thirds of its ideal width: rather fewer columns than
    # many stumps. The first column (the row's name, never dropped) gives way further, to a third of
    # the table (FIRST_MIN_WIDTH at least), so that a narrow table keeps the counts beside it.
    first_floor = max(FIRST_MIN_WIDTH, available // 3)
    minimum = [
        ideal[i]
        if col.is_numeric
        else min(ideal[i], max(col.min_width, min(ideal[i] * 2 // 3, first_floor)))
        if i == 0
        else min(ideal[i], max(col.min_width, ideal[i] * 2 // 3))
        for i, col in enumerate(columns)
    ]
    shown = list(range(n))
    # The hint is `…+N more` when it fits, else `…+N` (a narrow table keeps a column for it).
    more_width = cell_len(more_hint(n, short=True)) + 2 * padding

    def needed(cols: list[int]) -> int:
        total = sum(minimum[i] + 2 * padding for i in cols)
        return total + (more_width if len(cols) < n else 0)

    while len(shown) > 1 and needed(shown) > available:
        # The lowest priority goes first; among equals, the rightmost. The first column stays.
        victim = min(shown[1:], key=lambda i: (columns[i].priority, -i))
        shown.remove(victim)
    long_width = cell_len(more_hint(n)) + 2 * padding
    if len(shown) < n and needed(shown) - more_width + long_width <= available:
        more_width = long_width
    if len(shown) == 1 and not columns[0].is_numeric and needed(shown) > available:
        # Only the first column is left and even it is too wide: it is cut (with …) to the width.
        hint = more_width if n > 1 else 0
        minimum = list(minimum)
        minimum[0] = max(1, available - hint - 2 * padding)
    grown = grow_widths(
        [minimum[i] for i in shown],
        [[ideal[i] for i in shown], [natural[i] for i in shown]],
        available - needed(shown),
    )
    return shown, dict(zip(shown, grown, strict=True))


def grow_widths(minimum: Sequence[int], targets: Sequence[Sequence[int]], spare: int) -> list[int]:
    """`minimum` widened by `spare` cells: shared evenly among the columns still short of the first
    target, then of the next (ideal, then whole content)."""
    widths = list(minimum)
    for target in targets:
        while spare > 0:
            short = [i for i in range(len(widths)) if widths[i] < target[i]]
            if not short:
                break
            share = max(1, spare // len(short))
            for i in short:
                give = min(share, target[i] - widths[i], spare)
                widths[i] += give
                spare -= give
                if spare <= 0:
                    break
    return widths


class ColumnPicker(ModalScreen[int | None]):
    """`S`: the table's columns in a small list; Enter sorts by the chosen one (the sorted one again:
    reverse), Esc leaves the sort as it is."""

    DEFAULT_CSS = """
    ColumnPicker { align: center middle; background: $background 50%; }
    ColumnPicker > OptionList {
        width: auto; min-width: 30; max-width: 60; height: auto; max-height: 80%;
        border: round $accent; border-title-color: $text-accent; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_picker", "Close", id="column-picker.close", tooltip="Keep the sort"),
        Binding("j", "cursor('down')", "Next column", show=False, id="column-picker.down"),
        Binding("k", "cursor('up')", "Previous column", show=False, id="column-picker.up"),
    ]

    def __init__(self, labels: Sequence[str], current: int | None, reverse: bool) -> None:
        super().__init__()
        self._labels = list(labels)
        self._current = current
        self._reverse = reverse

    def compose(self) -> ComposeResult:
        options = []
        for i, label in enumerate(self._labels):
            text = Text(clean(label.replace("\n", "")), end="")
            if i == self._current:
                arrow = ARROW_DOWN if self._reverse else ARROW_UP
                text.append(f"  {arrow} (again: reverse)", style="dim")
            options.append(Option(text, id=str(i)))
        picker = OptionList(*options, id="column-picker")
        picker.border_title = "Sort by"
        yield picker

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = self._current if self._current is not None else 0
        picker.focus()

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)

    def action_cursor(self, direction: str) -> None:
        picker = self.query_one(OptionList)
        picker.action_cursor_down() if direction == "down" else picker.action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))


class ChoosesSortColumn:
    """What both table kinds (`SortableTable`, `EventTable`) do when a column is chosen directly: `S`
    opens the column picker, a header click picks one; the sorted column chosen again reverses."""

    sort_index: int | None
    sort_reverse: bool

    def sort_by(self, index: int, reverse: bool | None = None) -> None:
        raise NotImplementedError

    def sort_labels(self) -> list[str]:
        raise NotImplementedError

    def choose_sort(self, index: int) -> None:
        if index == self.sort_index:
            self.sort_by(index, reverse=not self.sort_reverse)
        else:
            self.sort_by(index)

    def action_sort_pick(self) -> None:
        labels = self.sort_labels()
        if not labels:
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.choose_sort(index)
            self.focus()  # type: ignore[attr-defined]

        self.app.push_screen(ColumnPicker(labels, self.sort_index, self.sort_reverse), chosen)  # type: ignore[attr-defined]


class SortableTable(ChoosesSortColumn, DataTable[Text], Generic[T], inherit_bindings=False):
    """`SortableTable(columns, identity=..., sort=(index, reverse))`; `set_items(items)`; `Chosen` on
    Enter. Subclasses give their own column sets, help group and Enter binding."""

    HELP_GROUP: ClassVar[str] = "Table"
    # Panes that listen to DataTable's own row messages (Spike watch) let them through.
    BUBBLE_ROW_EVENTS: ClassVar[bool] = False
    # Rows whose events are marked in the case lead with ★ (a table of marks itself does not).
    SHOW_MARKS: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="table-base.open", tooltip="Open the highlighted row"),
        Binding(
            "s",
            "sort_next",
            "Sort",
            id="table-base.sort",
            tooltip="Sort by the next column (the view goes to the first row)",
        ),
        Binding(
            "S",
            "sort_pick",
            "Sort by…",
            show=False,
            id="table-base.sort-pick",
            tooltip="Choose the sort column from a list; the sorted column again reverses it",
        ),
        Binding("j,down", "cursor_down", "Next row", show=False, id="table-base.down"),
        Binding("k,up", "cursor_up", "Previous row", show=False, id="table-base.up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="table-base.top"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="table-base.bottom"),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False, id="table-base.page-down"),
        Binding("pageup,ctrl+u", "page_up", "Page up", show=False, id="table-base.page-up"),
        Binding("l,right", "scroll_right", "Scroll right", show=False, id="table-base.right"),
        Binding("h,left", "scroll_left", "Scroll left", show=False, id="table-base.left"),
    ]

    DEFAULT_CSS = """
    SortableTable {
        height: 1fr;
        /* As wide as the pane gives (never as wide as the content): the widths are fitted to it. */
        width: 1fr;
        background: $surface;
        /* The scrollbar's column is always reserved: widths are computed for the space left. */
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
        & > .datatable--header { text-style: bold; }
        /* NO_COLOR: the cursor row must not rely on colour alone. */
        &:nocolor > .datatable--cursor { text-style: reverse bold; }
    }
    """

    class Chosen(Message, Generic[T]):  # type: ignore[misc]
        """Enter (or a click on the highlighted row) on a row."""

        def __init__(self, table: SortableTable[Any], item: Any, index: int) -> None:
            super().__init__()
            self.table = table
            self.item = item
            self.index = index  # the row's position in display order

        @property
        def control(self) -> SortableTable[Any]:
            return self.table

    class Sorted(Message):
        """The sort column or direction changed (by the user, or back to the default)."""

        def __init__(self, table: SortableTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> SortableTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[TableColumn[T]] = (),
        *,
        identity: Callable[[T], Hashable] | None = None,
        sort: tuple[int, bool] | None = None,
        empty_text: str = "",
        header_height: int = 1,
        zebra_stripes: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            id=id,
            classes=classes,
            cursor_type="row",
            zebra_stripes=zebra_stripes,
            header_height=header_height,
            show_row_labels=False,
        )
        self.table_columns: tuple[TableColumn[T], ...] = tuple(columns)
        self.identity = identity
        self.empty_text = empty_text
        # None: keep the data's own order (already the meaningful one) until the user sorts.
        self.default_sort: tuple[int, bool] | None = sort
        self.sort_index: int | None = sort[0] if sort else None
        self.sort_reverse: bool = sort[1] if sort else False
        self.local_time = False
        self._items: list[T] = []
        self._order: list[int] = []  # display order: indices into _items
        self._cells: list[list[Text]] = []  # per item, per column: the whole cell
        self._shown: list[int] = []  # the columns on screen
        self._widths: dict[int, int] = {}
        self._full: dict[tuple[int, int], str] = {}  # (row, column on screen) -> whole text of a cut cell
        self._signature: Any = None
        self._built_width = -1
        self._refit_queued = False

    # -- data ------------------------------------------------------------------------------------

    @property
    def items(self) -> list[T]:
        """The items in display order (what the screen shows, top to bottom)."""
        return [self._items[i] for i in self._order]

    @property
    def rows_in_order(self) -> list[T]:
        """The items in display order."""
        return [self._items[i] for i in self._order]

    @property
    def shown_columns(self) -> list[TableColumn[T]]:
        """The columns on screen (the others were dropped for lack of width)."""
        return [self.table_columns[i] for i in self._shown]

    @property
    def hidden_columns(self) -> list[TableColumn[T]]:
        return [c for i, c in enumerate(self.table_columns) if i not in self._shown]

    def column_width(self, key: str) -> int | None:
        """The content width of column `key` on screen (None when dropped)."""
        for i in self._shown:
            if self.table_columns[i].key == key:
                return self._widths[i]
        return None

    @property
    def cursor_item(self) -> T | None:
        if not self._items or not 0 <= self.cursor_row < len(self._order):
            return None
        return self._items[self._order[self.cursor_row]]

    def pivot_targets(self) -> list[PivotTarget]:
        """The cells of the row under the cursor, for `x` (see `tui.pivot`)."""
        item = self.cursor_item
        return row_targets(item) if item is not None else []

    def set_columns(self, columns: Sequence[TableColumn[T]]) -> None:
        """Change the column set (the sort stays on the same column key when it is still there)."""
        columns = tuple(columns)
        if [c.key for c in columns] == [c.key for c in self.table_columns] and all(
            a.label == b.label for a, b in zip(columns, self.table_columns, strict=True)
        ):
            self.table_columns = columns
            return
        sorted_key = self.table_columns[self.sort_index].key if self.sort_index is not None else None
        self.table_columns = columns
        keys = [c.key for c in columns]
        if sorted_key in keys:
            self.sort_index = keys.index(sorted_key)
        elif self.default_sort is not None and self.default_sort[0] < len(columns):
            self.sort_index, self.sort_reverse = self.default_sort
        else:
            self.sort_index, self.sort_reverse = None, False

    def set_items(
        self, items: Sequence[T], local_time: bool | None = None, *, keep_cursor: bool = True
    ) -> None:
        """Replace the rows, keeping the sort; the cursor stays on the same item (by `identity`, at the
        same height on screen) when it is still there and `keep_cursor`, else goes to the first row."""
        if local_time is not None:
            self.local_time = local_time
        anchor = self._anchor() if keep_cursor else None
        self._items = list(items)
        self._render_cells()
        self._order = self._sorted_order()
        self._rebuild(anchor)

    def set_local_time(self, local: bool) -> None:
        if local != self.local_time:
            self.local_time = local
            anchor = self._anchor()
            self._render_cells()
            self._rebuild(anchor)

    def _anchor(self) -> tuple[Any, int] | None:
        """What the cursor is on (identity, or the item's index) and its height on screen."""
        item = self.cursor_item
        if item is None:
            return None
        ident = self.identity(item) if self.identity is not None else ("#", self._order[self.cursor_row])
        return ident, self.cursor_row - int(self.scroll_y)

    def _find(self, ident: Any) -> int | None:
        if self.identity is None:
            index = ident[1]
            return self._order.index(index) if index in self._order else None
        for row, i in enumerate(self._order):
            if self.identity(self._items[i]) == ident:
                return row
        return None

    def _render_cells(self) -> None:
        local = self.local_time
        self._cells = [
            [to_cell(col.cell(item, local), col.justify) for col in self.table_columns]
            for item in self._items
        ]
        # Rows whose events are marked in the case (issue 15) lead with the mark glyph; once one row is
        # marked, the others get the same room so the first column stays aligned.
        marked = mark_sets(self) if self.SHOW_MARKS else ()
        if marked and self.table_columns:
            flags = [self.is_row_marked(item, marked) for item in self._items]
            if any(flags):
                for cells, flag in zip(self._cells, flags, strict=True):
                    lead = Text(MARK_GLYPH + " " if flag else "  ", style="bold" if flag else "", end="")
                    first = lead + cells[0]
                    first.justify, first.no_wrap = cells[0].justify, True
                    cells[0] = first

    def is_row_marked(self, item: T, marked: tuple[frozenset[str], ...]) -> bool:
        """Whether the row leads with the mark glyph (a table whose rows hold no event ids says more)."""
        return is_marked(item, marked)

    def refresh_marks(self) -> None:
        """The case's marks changed: redraw the glyphs (the cursor stays where it is)."""
        anchor = self._anchor()
        self._render_cells()
        self._rebuild(anchor)

    # -- sorting ---------------------------------------------------------------------------------

    def _sorted_order(self) -> list[int]:
        n = len(self._items)
        if self.sort_index is None or self.sort_index >= len(self.table_columns):
            return list(range(n))
        col = self.table_columns[self.sort_index]
        keys = [col.sort_key(item) for item in self._items]
        present = [i for i in range(n) if keys[i] is not None]
        # Stable in both directions; rows without a value go last whatever the direction.
        present.sort(key=keys.__getitem__, reverse=self.sort_reverse)
        return present + [i for i in range(n) if keys[i] is None]

    def sort_by(self, index: int | None, reverse: bool | None = None) -> None:
        """Sort by column `index` (None: the data's own order); `reverse` None uses the column's first
        direction. Like k9s: the view goes to the top, the first row selected."""
        if index is not None and self.table_columns:
            index %= len(self.table_columns)
            col = self.table_columns[index]
            self.sort_reverse = col.descending_first if reverse is None else reverse
        else:
            index, self.sort_reverse = None, False
        self.sort_index = index
        self._order = self._sorted_order()
        self._rebuild(None)
        self.post_message(self.Sorted(self))

    def reset_sort(self) -> None:
        """Back to the table's own default order (a new query or preset starts there)."""
        if self.default_sort is None:
            changed = self.sort_index is not None
            self.sort_index, self.sort_reverse = None, False
        else:
            changed = (self.sort_index, self.sort_reverse) != self.default_sort
            self.sort_index, self.sort_reverse = self.default_sort
        if changed:
            self._order = self._sorted_order()
            self._rebuild(None)
            self.post_message(self.Sorted(self))

    @property
    def sort_description(self) -> str:
        if self.sort_index is None:
            return ""
        label = self.table_columns[self.sort_index].label.replace("\n", "")
        return f"{label} {ARROW_DOWN if self.sort_reverse else ARROW_UP}"

    def action_sort_next(self) -> None:
        if not self.table_columns:
            return
        # Cycles through the columns on screen: a dropped column cannot show its arrow.
        shown = self._shown or list(range(len(self.table_columns)))
        at = shown.index(self.sort_index) + 1 if self.sort_index in shown else 0
        self.sort_by(shown[at % len(shown)])

    def sort_labels(self) -> list[str]:
        return [c.label for c in self.table_columns]

    # -- layout ----------------------------------------------------------------------------------

    def _available(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 0 else 10_000  # not laid out yet: everything fits, resize recomputes

    def _label(self, index: int) -> Text:
        col = self.table_columns[index]
        # Every label keeps room for the arrow, so a sort never changes a column's width. Labels of two
        # lines are bottom-aligned, the arrow on the last line.
        arrow = "  "
        if index == self.sort_index:
            arrow = " " + (ARROW_DOWN if self.sort_reverse else ARROW_UP)
        lines = col.label.split("\n")
        lines = [""] * (self.header_height - len(lines)) + lines
        return Text(
            "\n".join(lines) + arrow,
            justify=col.justify,
            style="underline" if index == self.sort_index else "",
            end="",
        )

    def _natural(self) -> list[int]:
        natural = []
        for i, col in enumerate(self.table_columns):
            width = label_width(col.label) + 2  # room for " ▲"
            for cells in self._cells:
                width = max(width, cells[i].cell_len)
            natural.append(width)
        return natural

    def _rebuild(self, anchor: tuple[Any, int] | None) -> None:
        """Lay the columns out for the current width and (re)fill the rows, unless nothing changed."""
        available = self._available()
        self._built_width = available
        if not self.table_columns:
            return
        shown, widths = fit_widths(self.table_columns, self._natural(), available, self.cell_padding)
        rows: list[tuple[str, list[Text]]] = []
        full: dict[tuple[int, int], str] = {}
        row_keys = self._row_keys()
        for row, i in enumerate(self._order):
            cells = []
            for pos, c in enumerate(shown):
                whole = self._cells[i][c]
                cut = ellipsize(whole, widths[c])
                if cut is not whole:
                    full[(row, pos)] = whole.plain
                cells.append(cut)
            rows.append((row_keys[i], cells))
        hidden = len(self.table_columns) - len(shown)
        labels = [self._label(c) for c in shown]
        signature = (
            tuple(shown),
            tuple(widths[c] for c in shown),
            tuple((t.plain, str(t.style)) for t in labels),
            tuple(
                (key, tuple((t.plain, str(t.style), tuple(t.spans)) for t in cells)) for key, cells in rows
            ),
            self.empty_text if not rows else None,
        )
        if signature == self._signature:
            return  # a refresh that changed nothing repaints nothing (the live tables' idle budget)
        self._signature = signature
        self._shown, self._widths, self._full = shown, widths, full
        self.clear(columns=True)
        if not rows and self.empty_text:
            # Nothing to show: one column, one placeholder row (not data) saying why, read whole.
            self._shown, self._widths = [], {}
            self.add_column(Text("", end=""), key=EMPTY_KEY)
            self.add_row(Text(self.empty_text, style="dim italic", end=""), key=EMPTY_KEY)
            self.move_cursor(row=0, animate=False)
            self.refresh()
            return
        for c, label in zip(shown, labels, strict=True):
            self.add_column(label, key=self.table_columns[c].key, width=widths[c])
        if hidden:
            used = sum(widths[c] + 2 * self.cell_padding for c in shown) + 2 * self.cell_padding
            hint = more_hint(hidden)
            if used + cell_len(hint) > available:
                hint = more_hint(hidden, short=True)
            self.add_column(Text(hint, style="italic", end=""), key=MORE_KEY, width=cell_len(hint))
        extra = [Text("")] if hidden else []
        for key, cells in rows:
            self.add_row(*cells, *extra, key=key)
        if anchor is not None and (row := self._find(anchor[0])) is not None:
            self.move_cursor(row=row, animate=False, scroll=False)
            offset = anchor[1]
            self.call_after_refresh(self.scroll_to, y=max(0, row - offset), animate=False)
        else:
            self.move_cursor(row=0, animate=False)
        self.refresh()

    def _row_keys(self) -> list[str]:
        """Each item's row key: its identity (what the panes look rows up by), else its index."""
        if self.identity is not None:
            keys = [str(self.identity(item)) for item in self._items]
            if len(set(keys)) == len(keys) and EMPTY_KEY not in keys:
                return keys
        return [str(i) for i in range(len(self._items))]

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    def on_show(self, event: events.Show) -> None:
        # A table filled on a hidden tab (another section shown) was laid out for "everything fits" and
        # gets no resize when its tab opens: fit it to the width it really has once that is known.
        self._refit_tries = 20
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if not self.is_mounted:
            return
        if self.scrollable_content_region.width <= 0 and getattr(self, "_refit_tries", 0) > 0:
            self._refit_tries -= 1
            self.set_timer(0.05, self._refit)  # shown but not laid out yet
            return
        if self._available() != self._built_width:
            self._rebuild(self._anchor())

    def render_lines(self, crop: Region) -> list[Strip]:
        # The last word on widths: whatever path the layout took (a tab shown before it was laid out, a
        # Show that came before the size), a table painted at a width it was not built for is rebuilt
        # for it right after this frame, so a column is never left hanging off the edge.
        width = self.scrollable_content_region.width
        if width > 0 and width != self._built_width and not self._refit_queued:
            self._refit_queued = True
            self.call_after_refresh(self._queued_refit)
        return super().render_lines(crop)

    def _queued_refit(self) -> None:
        self._refit_queued = False
        self._refit()

    # -- tooltips --------------------------------------------------------------------------------

    def watch_hover_coordinate(self, old: Coordinate, value: Coordinate) -> None:
        super().watch_hover_coordinate(old, value)
        # The whole value of a cut cell, under the mouse.
        self.tooltip = self._full.get((value.row, value.column))

    # -- messages --------------------------------------------------------------------------------

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        keys = [c.key for c in self.table_columns]
        if key in keys:
            self.choose_sort(keys.index(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if not self.BUBBLE_ROW_EVENTS:
            event.stop()
        item = self.cursor_item
        if item is not None:
            self.post_message(self.Chosen(self, item, self.cursor_row))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.BUBBLE_ROW_EVENTS:
            event.stop()  # the pane does not need every cursor move


__all__ = [
    "ColumnPicker",
    "SortableTable",
    "TableColumn",
    "ellipsize",
    "fit_widths",
    "grow_widths",
    "more_hint",
    "to_cell",
]
