"""A virtualised table of audit events (Line API).

Textual's DataTable measures every cell of every row up front (~12 s to first paint 100k rows); this
table keeps a plain list of `Event`s and renders only the lines on screen, so 200k events open, scroll
and re-sort at the speed of a list sort. Column widths come from a sample of rows and the space
available; what does not fit scrolls horizontally, with the time column frozen on the left.

Every cell goes through `safe_text.clean` and is emitted as plain segments: event text is never
interpreted as markup, and no control character reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, ge
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.marks import MARK_GLYPH, marked_ids
from ddaudit_tui.tui.pivot import PivotTarget, event_targets
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.widgets.sortable_table import ChoosesSortColumn, grow_widths

_WIDEST = 120  # a text column is never measured wider than this (a row's detail has the rest)
_SAMPLE_ROWS = 400  # rows measured to size columns: enough to be representative, cheap at any size
_GUTTER = 1  # the cursor marker column


@dataclass(frozen=True)
class Column:
    """How one column shows and sorts events. `text` returns raw (uncleaned) text, or None."""

    key: str
    label: str
    text: Callable[[Event, bool], str | None]  # (event, local_time) -> display text
    sort_key: Callable[[Event], Any]  # None sorts last, whatever the direction
    min_width: int
    max_width: int
    justify: str = "left"
    descending_first: bool = False  # the direction the first sort on this column uses
    # Fast path for sorting: the key is this attribute (case-folded when `fold`); `sort_key` is then
    # only the reference definition. A C-level attrgetter over 200k events beats a Python call each.
    attr: str | None = None
    fold: bool = False
    # Never cut (like a number): the column is as wide as its widest value; the others give way.
    whole: bool = False

    def sort_keys(self, events: Sequence[Event]) -> list[Any]:
        if self.attr is None:
            return list(map(self.sort_key, events))
        values = list(map(attrgetter(self.attr), events))
        if self.fold:
            return [v.casefold() if v else None for v in values]
        return values


def _text(attr: str) -> Callable[[Event, bool], str | None]:
    def get(ev: Event, _local: bool) -> str | None:
        return getattr(ev, attr)

    return get


def _folded(attr: str) -> Callable[[Event], Any]:
    def key(ev: Event) -> Any:
        value = getattr(ev, attr)
        return value.casefold() if value else None

    return key


def _endpoint_text(ev: Event, _local: bool) -> str | None:
    path = ev.endpoint
    if ev.http_method and path:
        return f"{ev.http_method} {path}"
    return path or ev.http_method


def _endpoint_key(ev: Event) -> Any:
    path = ev.endpoint
    return (path, ev.http_method or "") if path else None


def _asset_text(ev: Event, _local: bool) -> str | None:
    return ev.asset_name or ev.asset_id


def _asset_key(ev: Event) -> Any:
    value = ev.asset_name or ev.asset_id
    return value.casefold() if value else None


def _actor_key(ev: Event) -> Any:
    return ev.actor.casefold()


def _status_text(ev: Event, _local: bool) -> str | None:
    return None if ev.http_status is None else str(ev.http_status)


def _asn_text(ev: Event, _local: bool) -> str | None:
    if ev.asn_name:
        return ev.asn_name
    return f"AS{ev.asn}" if ev.asn is not None else None


def _asn_key(ev: Event) -> Any:
    if ev.asn_name:
        return ev.asn_name.casefold()
    return f"as{ev.asn}" if ev.asn is not None else None


EXPLORE_COLUMNS: tuple[Column, ...] = (
    Column("time", "time", lambda ev, local: fmt_ts(ev.ts, local), lambda ev: ev.ts, 20, 25, descending_first=True, attr="ts"),
    Column("evt.name", "evt.name", _text("evt_name"), _folded("evt_name"), 10, 18, attr="evt_name", fold=True),
    Column("action", "action", _text("action"), _folded("action"), 8, 12, attr="action", fold=True),
    Column("actor", "actor", lambda ev, _l: ev.actor, _actor_key, 14, 28, attr="actor", fold=True),
    Column("asset.type", "asset type", _text("asset_type"), _folded("asset_type"), 10, 18, attr="asset_type", fold=True),
    Column("asset", "asset", _asset_text, _asset_key, 12, 28),
    Column("endpoint", "endpoint", _endpoint_text, _endpoint_key, 16, 40),
    Column("status", "status", _status_text, lambda ev: ev.http_status, 6, 6, justify="right", attr="http_status"),
    Column("ip", "IP", _text("client_ip"), lambda ev: ev.client_ip, 15, 39, attr="client_ip"),
    Column("country", "country", _text("country"), _folded("country"), 8, 16, attr="country", fold=True),
    Column("asn", "ASN", _asn_text, _asn_key, 10, 20),
)  # fmt: skip


class EventTable(ChoosesSortColumn, ScrollView, can_focus=True, inherit_bindings=False):
    """Events in rows, one column per `Column`; a row cursor; sortable by any column."""

    HELP_GROUP: ClassVar[str] = "Event table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Detail", id="table.open", tooltip="Open the event's full JSON"),
        Binding(
            "s",
            "sort_next",
            "Sort",
            id="table.sort",
            tooltip="Sort by the next column (the view goes to the top)",
        ),
        Binding(
            "S",
            "sort_pick",
            "Sort by…",
            id="table.sort-pick",
            show=False,
            tooltip="Choose the sort column from a list; the sorted column again reverses it",
        ),
        Binding("j,down", "cursor_down", "Next row", show=False, id="table.down"),
        Binding("k,up", "cursor_up", "Previous row", show=False, id="table.up"),
        Binding("g,home", "cursor_top", "First row", show=False, id="table.top"),
        Binding("G,end", "cursor_bottom", "Last row", show=False, id="table.bottom"),
        Binding("ctrl+d", "half_page_down", "Half page down", show=False, id="table.half-down"),
        Binding("ctrl+u", "half_page_up", "Half page up", show=False, id="table.half-up"),
        Binding("pagedown,space", "page_down", "Page down", show=False, id="table.page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page-up"),
        Binding("l,right", "columns_right", "Scroll columns right", show=False, id="table.right"),
        Binding("h,left", "columns_left", "Scroll columns left", show=False, id="table.left"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-table--header",
        "event-table--header-sorted",
        "event-table--cursor",
        "event-table--cursor-blurred",
        "event-table--marker",
        "event-table--warning",
        "event-table--error",
        "event-table--empty",
    }

    DEFAULT_CSS = """
    EventTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        /* Reserved: a scrollbar appearing must not steal a cell from the fitted columns. */
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .event-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .event-table--header-sorted { text-style: bold underline; background: $panel; color: $accent; }
        & > .event-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        & > .event-table--cursor-blurred { background: $block-cursor-blurred-background; text-style: bold; }
        & > .event-table--marker { color: $accent; text-style: bold; }
        & > .event-table--warning { color: $warning; }
        & > .event-table--error { color: $error; text-style: bold; }
        & > .event-table--empty { color: $text-muted; text-style: italic; }
    }
    """

    local_time: reactive[bool] = reactive(False)

    class Selected(Message):
        """Enter (or a click on the highlighted row) on an event."""

        def __init__(self, table: EventTable, event: Event, index: int) -> None:
            super().__init__()
            self.table = table
            self.event = event
            self.index = index

        @property
        def control(self) -> EventTable:
            return self.table

    class Highlighted(Message):
        """The cursor moved to another event (or to none, when the table is empty)."""

        def __init__(self, table: EventTable, event: Event | None, index: int) -> None:
            super().__init__()
            self.table = table
            self.event = event
            self.index = index

        @property
        def control(self) -> EventTable:
            return self.table

    class Sorted(Message):
        """The sort column or direction changed."""

        def __init__(self, table: EventTable, column: Column, reverse: bool) -> None:
            super().__init__()
            self.table = table
            self.column = column
            self.reverse = reverse

        @property
        def control(self) -> EventTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column] = EXPLORE_COLUMNS,
        *,
        empty_text: str = "no events",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns: tuple[Column, ...] = tuple(columns)
        self.empty_text = empty_text
        self._source: list[Event] = []  # as given (newest first)
        self._rows: list[Event] = []  # in display order
        self.sort_index = 0
        self.sort_reverse = self.columns[0].descending_first
        self.cursor_row = 0
        self._natural: list[int] = [max(c.min_width, cell_len(c.label) + 2) for c in self.columns]
        self._widths: list[int] = list(self._natural)
        self._offsets: list[int] = []  # x of each scrollable column, relative to the scrollable part
        self._fixed_width = 0
        self._generation = 0
        self._line_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(256)
        self._marked: frozenset[str] = frozenset()  # event ids marked in the case (the gutter's glyph)
        self._last_highlight: tuple[str | None, int] | None = None
        self._styles: dict[str, Style] = {}  # resolved styles; cleared when CSS or theme change

    def _style(self, name: str = "", overlay: bool = False) -> Style:
        """The widget's base style (no name), base + a component style, or (`overlay`) the component's
        own declarations only, to apply over a row style. Resolved once per style update: `rich_style`
        walks the ancestors, too slow to ask for on every rendered line."""
        key = f"{name}|{overlay}"
        style = self._styles.get(key)
        if style is None:
            if overlay:
                style = self.get_component_rich_style(name, partial=True)
            elif name:
                style = self._style() + self.get_component_rich_style(name, partial=True)
            else:
                style = self.rich_style
            self._styles[key] = style
        return style

    # -- data --------------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[Event]:
        """The events in display order."""
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_event(self) -> Event | None:
        return self._rows[self.cursor_row] if 0 <= self.cursor_row < len(self._rows) else None

    @property
    def sort_column(self) -> Column:
        return self.columns[self.sort_index]

    def pivot_targets(self) -> list[PivotTarget]:
        """The cells of the event under the cursor, for `x` (see `tui.pivot`)."""
        ev = self.cursor_event
        return event_targets(ev) if ev is not None else []

    def set_events(self, events: Sequence[Event]) -> None:
        """Replace the data. The sort is kept; the cursor stays on the same event id if it is still
        there (at the same height on screen), otherwise it goes to the first row."""
        previous = self.cursor_event
        screen_offset = self.cursor_row - int(self.scroll_y)
        self._source = list(events)
        self._apply_sort()
        self._measure()
        index = self._index_of(previous.id) if previous is not None else None
        self._relayout()
        if index is None:
            self._set_cursor(0, scroll_y=0)
        else:
            self._set_cursor(index, scroll_y=index - screen_offset)

    def _index_of(self, event_id: str) -> int | None:
        for i, ev in enumerate(self._rows):
            if ev.id == event_id:
                return i
        return None

    def _apply_sort(self) -> None:
        col = self.columns[self.sort_index]
        src = self._source
        if col.key == "time" and self.sort_reverse and _is_newest_first(src):
            self._rows = list(src)  # already in this order: the usual case, skip the sort
            return
        keys = col.sort_keys(src)
        # Stable in both directions (`reverse=True` keeps equal keys in order too): ties stay newest
        # first. Missing values go last whatever the direction, so they never hide the data.
        if None in keys:
            order = [i for i, k in enumerate(keys) if k is not None]
            order.sort(key=keys.__getitem__, reverse=self.sort_reverse)
            order.extend(i for i, k in enumerate(keys) if k is None)
        else:
            order = sorted(range(len(src)), key=keys.__getitem__, reverse=self.sort_reverse)
        self._rows = list(map(src.__getitem__, order))

    def sort_by(self, index: int, reverse: bool | None = None) -> None:
        """Sort by column `index`; `reverse` None uses the column's first direction. Like k9s: the view
        goes to the top, the first row selected."""
        index %= len(self.columns)
        self.sort_index = index
        self.sort_reverse = self.columns[index].descending_first if reverse is None else reverse
        self._apply_sort()
        self._generation += 1
        self.refresh()
        self._set_cursor(0, scroll_y=0)
        self.post_message(self.Sorted(self, self.columns[index], self.sort_reverse))

    def reset_sort(self) -> None:
        """Back to the default order (newest first): a new query or preset starts there."""
        if (self.sort_index, self.sort_reverse) != (0, self.columns[0].descending_first):
            self.sort_by(0)

    # -- geometry ------------------------------------------------------------------------------

    def _measure(self) -> None:
        """Natural column widths from a sample of rows (labels, sort indicator, cell text)."""
        sample = self._rows[:_SAMPLE_ROWS]
        cursor = self.cursor_event
        if cursor is not None:
            sample = [*sample, cursor]
        natural = []
        for col in self.columns:
            width = cell_len(col.label) + 2  # room for " ▲"
            for ev in sample:
                text = col.text(ev, self.local_time)
                if text:
                    width = max(width, cell_len(clean(text)))
                    if width >= _WIDEST:
                        break
            natural.append(max(col.min_width, min(_WIDEST, width)))
        self._natural = natural

    def _relayout(self) -> None:
        """Fit the columns to the width available (the shared table rule): fixed-width columns (time,
        status) keep their width; text columns start at their minimum, then spare width goes to them,
        first up to their ideal (`max_width`), then up to their whole content; what still does not fit
        scrolls horizontally (the header's ▶ says so). Cut text ends in `…`."""
        available = max(1, self.scrollable_content_region.width or self.size.width)
        fixed = [i == 0 or c.whole or c.min_width >= c.max_width for i, c in enumerate(self.columns)]
        minimum = [
            nat if fix else min(nat, c.min_width)
            for nat, fix, c in zip(self._natural, fixed, self.columns, strict=True)
        ]
        ideal = [
            nat if fix else max(lo, min(nat, c.max_width))
            for nat, lo, fix, c in zip(self._natural, minimum, fixed, self.columns, strict=True)
        ]
        seps = len(minimum) - 1
        spare = available - (_GUTTER + sum(minimum) + seps)
        widths = grow_widths(minimum, [ideal, list(self._natural)], spare)
        self._widths = widths
        self._fixed_width = _GUTTER + widths[0] + 1
        offsets, x = [], 0
        for w in widths[1:]:
            offsets.append(x)
            x += w + 1
        self._offsets = offsets
        scrollable = max(0, x - 1)
        self._generation += 1
        self.virtual_size = Size(self._fixed_width + scrollable, len(self._rows) + 1)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self.call_after_refresh(self._scroll_cursor_into_view)

    def watch_local_time(self, _old: bool, _new: bool) -> None:
        if self.is_mounted:
            self._measure()
            self._relayout()

    def notify_style_update(self) -> None:
        # Theme or CSS changes alter the component styles baked into cached lines.
        super().notify_style_update()
        self._styles.clear()
        self._line_cache.clear()
        self._generation += 1

    @property
    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- cursor --------------------------------------------------------------------------------

    def _set_cursor(self, row: int, scroll_y: int | None = None) -> None:
        n = len(self._rows)
        row = max(0, min(row, n - 1)) if n else 0
        old = self.cursor_row
        self.cursor_row = row
        if old != row:
            # Only the two rows that changed; a scroll (below) repaints everything anyway.
            self._refresh_row(old)
            self._refresh_row(row)
        if scroll_y is not None:
            self.scroll_to(y=max(0, scroll_y), animate=False, immediate=True)
        self._scroll_cursor_into_view()
        self._post_highlight()

    def _refresh_row(self, row: int) -> None:
        y = row - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_cursor_into_view(self) -> None:
        page = self._page_rows
        top = int(self.scroll_y)
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + page:
            self.scroll_to(y=row - page + 1, animate=False, immediate=True)

    def _post_highlight(self) -> None:
        ev = self.cursor_event
        key = (ev.id if ev else None, self.cursor_row)
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, ev, self.cursor_row))

    def move_cursor(self, row: int) -> None:
        self._set_cursor(row)

    @property
    def visible_range(self) -> range:
        """Indices of the rows currently on screen."""
        top = int(self.scroll_y)
        return range(top, min(len(self._rows), top + self._page_rows))

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1)

    def action_cursor_top(self) -> None:
        self._set_cursor(0)

    def action_cursor_bottom(self) -> None:
        self._set_cursor(len(self._rows) - 1)

    def _page(self, rows: int) -> None:
        top = int(self.scroll_y)
        self._set_cursor(self.cursor_row + rows, scroll_y=top + rows)

    def action_half_page_down(self) -> None:
        self._page(max(1, self._page_rows // 2))

    def action_half_page_up(self) -> None:
        self._page(-max(1, self._page_rows // 2))

    def action_page_down(self) -> None:
        self._page(self._page_rows)

    def action_page_up(self) -> None:
        self._page(-self._page_rows)

    def action_columns_right(self) -> None:
        x = int(self.scroll_x)
        nxt = next((o for o in self._offsets if o > x), None)
        if nxt is not None:
            self.scroll_to(x=min(nxt, self.max_scroll_x), animate=False, force=True)

    def action_columns_left(self) -> None:
        x = int(self.scroll_x)
        prev = [o for o in self._offsets if o < x]
        self.scroll_to(x=prev[-1] if prev else 0, animate=False, force=True)

    def action_sort_next(self) -> None:
        self.sort_by(self.sort_index + 1)

    def sort_labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def action_select(self) -> None:
        ev = self.cursor_event
        if ev is not None:
            self.post_message(self.Selected(self, ev, self.cursor_row))

    # -- mouse -----------------------------------------------------------------------------------

    def _column_at(self, x: int) -> int | None:
        if x < self._fixed_width:
            return 0 if x >= _GUTTER else None
        sx = x - self._fixed_width + int(self.scroll_x)
        for i, (off, w) in enumerate(zip(self._offsets, self._widths[1:], strict=True)):
            if off <= sx < off + w + 1:
                return i + 1
        return None

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            col = self._column_at(offset.x)
            if col is not None:
                self.choose_sort(col)
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self._rows):
            if row == self.cursor_row:
                self.action_select()  # like DataTable (7.5+): a click selects an already highlighted row
            else:
                self._set_cursor(row)

    def _on_focus(self, event: events.Focus) -> None:
        self._generation += 1
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._generation += 1
        self.refresh()

    # -- rendering ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._marked = marked_ids(self)

    def refresh_marks(self) -> None:
        """The case's marks changed: redraw the gutter glyphs."""
        marked = marked_ids(self)
        if marked != self._marked:
            self._marked = marked
            self._line_cache.clear()
            self._generation += 1
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            return self._header_strip(width, scroll_x)
        row = scroll_y + y - 1
        base = self._style()
        if not self._rows:
            if y == 1:
                empty = self._style("event-table--empty")
                return Strip([Segment(" " + self.empty_text, empty)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        if row >= len(self._rows):
            return Strip.blank(width, base)
        is_cursor = row == self.cursor_row
        key = (self._generation, row, is_cursor, scroll_x, width, self.has_focus)
        cached = self._line_cache.get(key)
        if cached is None:
            cached = self._row_strip(self._rows[row], is_cursor, width, scroll_x)
            self._line_cache[key] = cached
        return cached

    def _cell_style(self, col: Column, ev: Event) -> Style | None:
        if col.key == "status" and ev.http_status is not None:
            if ev.http_status >= 500 or ev.http_status == 0:
                return self._style("event-table--error", overlay=True)
            if ev.http_status >= 400:
                return self._style("event-table--warning", overlay=True)
        return None

    def _row_strip(self, ev: Event, is_cursor: bool, width: int, scroll_x: int) -> Strip:
        if is_cursor:
            row_style = self._style(
                "event-table--cursor" if self.has_focus else "event-table--cursor-blurred"
            )
        else:
            row_style = self._style()
        marker = self._style("event-table--marker", overlay=True)
        local = self.local_time
        cells: list[Segment] = []
        for i, (col, w) in enumerate(zip(self.columns, self._widths, strict=True)):
            text = fit(clean(col.text(ev, local) or ""), w, col.justify)
            style = self._cell_style(col, ev)
            cells.append(Segment(text, row_style + style if style else row_style))
            if i < len(self.columns) - 1:
                cells.append(Segment(" ", row_style))
        # Not colour alone: the cursor row also carries a marker glyph (readable under NO_COLOR). A row
        # marked as evidence in the case (issue 15) carries the mark glyph there instead, cursor or not.
        glyph = MARK_GLYPH if ev.id in self._marked else "▶" if is_cursor else " "
        gutter = Segment(glyph, row_style + marker if is_cursor or glyph == MARK_GLYPH else row_style)
        fixed = Strip([gutter, cells[0], cells[1]])
        rest = Strip(cells[2:])
        return self._join_parts(fixed, rest, width, scroll_x, row_style)

    def _join_parts(self, fixed: Strip, rest: Strip, width: int, scroll_x: int, style: Style) -> Strip:
        visible = max(0, width - self._fixed_width)
        end = self._visible_end(scroll_x, visible)
        cut_inside = end not in {off + w for off, w in zip(self._offsets, self._widths[1:], strict=False)}
        rest = rest.crop(scroll_x, end)
        if cut_inside and rest.cell_length > 1 and self._offsets:
            # A column wider than the whole view is shown as far as it fits: its cut is marked.
            rest = Strip.join([rest.crop(0, rest.cell_length - 1), Strip([Segment("…", style)])])
        return Strip.join([fixed, rest]).adjust_cell_length(width, style)

    def _visible_end(self, scroll_x: int, visible: int) -> int:
        """Where the scrolled part is cut: after the last column that is on screen whole, so no column
        is ever cropped by the edge without its `…` (the header's ▶ says more columns follow)."""
        end = scroll_x
        # Not strict: before the first layout there are no offsets yet.
        for off, w in zip(self._offsets, self._widths[1:], strict=False):
            if off + w > scroll_x + visible:
                break
            if off >= scroll_x:
                end = off + w
        # A column wider than the whole view: show what fits rather than nothing.
        return end if end > scroll_x else scroll_x + visible

    def _header_strip(self, width: int, scroll_x: int) -> Strip:
        key = ("header", self._generation, scroll_x, width)
        cached = self._line_cache.get(key)
        if cached is not None:
            return cached
        header = self._style("event-table--header")
        sorted_style = self._style("event-table--header-sorted")
        cells: list[Segment] = []
        for i, (col, w) in enumerate(zip(self.columns, self._widths, strict=True)):
            label = col.label
            style = header
            if i == self.sort_index:
                label = f"{label} {'▼' if self.sort_reverse else '▲'}"
                style = sorted_style
            cells.append(Segment(fit(label, w, col.justify), style))
            if i < len(self.columns) - 1:
                cells.append(Segment(" ", header))
        more_left = scroll_x > 0
        more_right = self.virtual_size.width > width + scroll_x
        gutter = Segment("◀" if more_left else " ", header)
        strip = self._join_parts(
            Strip([gutter, cells[0], cells[1]]), Strip(cells[2:]), width, scroll_x, header
        )
        if more_right and width > 1:
            # Columns continue off-screen: say so rather than let the table look complete.
            strip = Strip.join([strip.crop(0, width - 1), Strip([Segment("▶", header)])])
        self._line_cache[key] = strip
        return strip


def _is_newest_first(events: Sequence[Event]) -> bool:
    # Sources return newest first; checking is O(n) but far cheaper than sorting.
    ts = list(map(attrgetter("ts"), events))
    return all(map(ge, ts, islice(ts, 1, None)))
