"""The spike watch's two tables: counts per actor and rule, and the alerts.

Both are small (actors active in a window, alerts of a day), so they are Textual `DataTable`s, with
what a live table needs on top (tui-practice.md §1.11): rows keyed by actor / dedup key and updated in
place on every poll (never cleared), the sort kept, and the cursor kept on the same row at the same
height on screen. `s` / `S` or a header click sort; `j`/`k`/`g`/`G` move.

Every cell built from event data goes through `safe_text.clean`; flags carry a glyph and a word as
well as a colour (readable under NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.alerts.wiring import PAGE_WORDS
from ddaudit_tui.analysis.signals import SEVERITY_STYLE
from ddaudit_tui.analysis.spikes import (
    NO_GROUP,
    PAGE_DISABLED,
    PAGE_DRY_RUN,
    PAGE_FAILED,
    PAGE_NEW,
    PAGE_OFF,
    PAGE_PENDING,
    PAGE_SENT,
    ActorRow,
    Alert,
    Rule,
)
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.pivot import PivotTarget, actor_target, rule_target
from ddaudit_tui.tui.safe_text import clean

T = TypeVar("T")

HOT_WORD = "! HOT"
ACTOR_MAX = 28  # cells are cropped here: an actor is an email, an id or an API key id
RULE_LABEL_MAX = 15

# How an alert's page status reads in a cell: a glyph and a word.
PAGE_CELLS: dict[str, str] = {
    PAGE_SENT: "✓ paged",
    PAGE_DRY_RUN: "◌ dry-run",
    PAGE_OFF: "– off",
    PAGE_DISABLED: "– rule off",
    PAGE_PENDING: "… pending",
    PAGE_NEW: "… pending",
    PAGE_FAILED: "✖ refused",
}
ALERT_ACTOR_MAX = 28  # the alert table has eight columns to fit in 120
ALERT_RULE_MAX = 22


@dataclass(frozen=True)
class TableColumn(Generic[T]):
    """One column: its key, its label, and how rows sort on it (`sort_key` of the row's item)."""

    key: str
    label: str
    sort_key: Callable[[T], Any]
    descending_first: bool = False
    justify: str = "left"


class LiveTable(DataTable[Text], Generic[T], inherit_bindings=True):
    """A DataTable of items keyed by a string, refreshed in place with the cursor kept on its row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_next", "Sort", id="watch-table.sort", tooltip="Sort by the next column"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, id="watch-table.sort-reverse"),
        Binding("j", "cursor_down", "Next row", show=False, id="watch-table.down"),
        Binding("k", "cursor_up", "Previous row", show=False, id="watch-table.up"),
        Binding("g", "scroll_top", "First row", show=False, id="watch-table.top"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="watch-table.bottom"),
        Binding("h", "cursor_left", "Scroll left", show=False, id="watch-table.left"),
        Binding("l", "cursor_right", "Scroll right", show=False, id="watch-table.right"),
    ]

    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

    def __init__(
        self,
        *,
        default_sort: str,
        empty_text: str = "",
        header_height: int = 1,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            id=id,
            classes=classes,
            header_height=header_height,
            cursor_type="row",
            zebra_stripes=False,
            show_row_labels=False,
            cursor_foreground_priority="renderable",
        )
        self.empty_text = empty_text
        self.sort_column_key = default_sort
        self.sort_reverse: bool | None = None  # None: the column's first direction
        self._columns_def: list[TableColumn[T]] = []
        self._items: dict[str, T] = {}
        self._order: list[str] = []

    # -- data ------------------------------------------------------------------------------------

    @property
    def item_keys(self) -> list[str]:
        """Row keys in display order."""
        return list(self._order)

    def item(self, key: str) -> T | None:
        return self._items.get(key)

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count or not (0 <= self.cursor_row < len(self._order)):
            return None
        return self._order[self.cursor_row]

    @property
    def cursor_item(self) -> T | None:
        key = self.cursor_key
        return None if key is None else self._items.get(key)

    def _column(self, key: str) -> TableColumn[T] | None:
        return next((c for c in self._columns_def if c.key == key), None)

    def show_items(
        self, columns: Sequence[TableColumn[T]], items: Sequence[tuple[str, T, list[Text]]]
    ) -> None:
        """Replace the data: rows are updated by key (added, changed, removed), re-sorted, and the
        cursor stays on the item it was on, at the same height on screen."""
        previous = self.cursor_key
        screen_offset = self.cursor_row - int(self.scroll_y)
        changed = False
        keys = [c.key for c in columns]
        if keys != [c.key for c in self._columns_def]:
            self.clear(columns=True)
            self._columns_def = list(columns)
            if self._column(self.sort_column_key) is None:
                self.sort_column_key, self.sort_reverse = columns[0].key, None
            for col in columns:
                self.add_column(self._label(col), key=col.key)
            self._items, self._order, changed = {}, [], True
        new_keys = {k for k, _, _ in items}
        for old in [k for k in self._items if k not in new_keys]:
            self.remove_row(old)
            del self._items[old]
            changed = True
        for key, item, cells in items:
            if key in self._items:
                for col, cell in zip(columns, cells, strict=True):
                    if not _same(self.get_cell(key, col.key), cell):
                        self.update_cell(key, col.key, cell, update_width=True)
                        changed = True
            else:
                self.add_row(*cells, key=key)
                changed = True
            self._items[key] = item
        order = self._sorted_keys()
        if not changed and order == self._order:
            return  # a poll that changed nothing here repaints nothing (the idle budget)
        self._order = order
        self._sort_rows()
        if previous is not None and previous in self._items:
            row = self._order.index(previous)
            self.move_cursor(row=row, animate=False, scroll=False)
            self.scroll_to(y=max(0, row - screen_offset), animate=False, immediate=True)
        self.refresh()

    def _direction(self) -> bool:
        col = self._column(self.sort_column_key)
        if self.sort_reverse is not None:
            return self.sort_reverse
        return bool(col and col.descending_first)

    def _sorted_keys(self) -> list[str]:
        col = self._column(self.sort_column_key)
        if col is None:
            return list(self._items)
        reverse = self._direction()
        # Python's sort is stable in both directions: ties keep the previous (engine) order.
        return sorted(
            self._items, key=lambda k: _none_last(col.sort_key(self._items[k]), reverse), reverse=reverse
        )

    def _sort_rows(self) -> None:
        """Put the DataTable's rows in `self._order` (DataTable.sort with a rank per row)."""
        if self._items and self._columns_def:
            first = self._columns_def[0].key
            rank = {id(self.get_cell(k, first)): i for i, k in enumerate(self._order)}
            self.sort(first, key=lambda cell: rank[id(cell)])
        self._relabel()

    def _label(self, col: TableColumn[T]) -> Text:
        # Every label keeps room for the arrow, so a sort never changes a column's width. Labels of
        # two lines (`header_height=2`) are bottom-aligned, the arrow on the last line.
        arrow = "  "
        if col.key == self.sort_column_key:
            arrow = " ▼" if self._direction() else " ▲"
        lines = col.label.split("\n")
        lines = [""] * (self.header_height - len(lines)) + lines
        return Text("\n".join(lines) + arrow, style="bold", justify=col.justify)  # type: ignore[arg-type]

    def _relabel(self) -> None:
        for col in self._columns_def:
            column = self.columns.get(col.key)  # type: ignore[call-overload]
            if column is not None:
                column.label = self._label(col)

    def sort_on(self, key: str, reverse: bool | None = None) -> None:
        """Sort by column `key` (None: the column's first direction); the cursor stays on its row."""
        if self._column(key) is None:
            return
        previous = self.cursor_key
        self.sort_column_key, self.sort_reverse = key, reverse
        self._order = self._sorted_keys()
        self._sort_rows()
        if previous is not None:
            self.move_cursor(row=self._order.index(previous), animate=False)
        self.refresh()

    def action_sort_next(self) -> None:
        keys = [c.key for c in self._columns_def]
        if keys:
            i = keys.index(self.sort_column_key) if self.sort_column_key in keys else -1
            self.sort_on(keys[(i + 1) % len(keys)])

    def action_sort_reverse(self) -> None:
        self.sort_on(self.sort_column_key, reverse=not self._direction())

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        if key == self.sort_column_key:
            self.action_sort_reverse()
        else:
            self.sort_on(key)


def _same(a: Text, b: Text) -> bool:
    # `Text.__eq__` ignores the base style: an alert going from open (bold) to closed (muted) would
    # keep its old look.
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans and a.justify == b.justify


def _none_last(value: Any, reverse: bool) -> Any:
    """Missing values sort last whatever the direction."""
    missing = value is None
    return (missing != reverse, value if not missing else 0)


# -- counts per actor and rule ----------------------------------------------------------------------


def _hot_rank(row: ActorRow) -> Any:
    return (len(row.hot), row.total, _neg_text(row.actor))


def _neg_text(text: str) -> tuple[int, ...]:
    # Descending on the whole key, yet ascending on the actor: the engine's own order (hot first).
    return tuple(-ord(c) for c in text.casefold())


class ActorTable(LiveTable[ActorRow]):
    """One row per actor: `! HOT`, the actor, the total and the count per rule (rules that have any)."""

    HELP_GROUP: ClassVar[str] = "Actor table"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"actor-table--hot", "actor-table--count"}

    DEFAULT_CSS = """
    ActorTable {
        & > .actor-table--hot { color: $text-error; text-style: bold; }
        & > .actor-table--count { color: $foreground; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # Two-line headers: rule names break at an underscore, so a count column is ~10 cells wide
        # and several rules fit beside the actor at 80 columns.
        super().__init__(
            default_sort="flag",
            empty_text="no matching events in the window",
            header_height=2,
            id=id,
            classes=classes,
        )
        self._rules: dict[str, Rule] = {}

    def pivot_targets(self) -> list[PivotTarget]:
        """The actor, then the rules it has matches for (over threshold first), for `x`."""
        row = self.cursor_item
        if row is None:
            return []
        out = [t] if (t := actor_target(row.actor)) is not None else []
        names = sorted(row.counts, key=lambda n: (n not in row.hot, n))
        out += [rule_target(n, self._rules[n].query) for n in names if n in self._rules]
        return out

    def show_snapshot(self, snap: WatchSnapshot) -> None:
        self._rules = {r.name: r for r in snap.rules}
        present = {name for row in snap.rows for name in row.counts}
        hot = {name for row in snap.rows for name in row.hot}
        # Rules over threshold first: the reason a row is hot stays on screen when the rest scrolls.
        rules = sorted((r for r in snap.rules if r.name in present), key=lambda r: r.name not in hot)
        columns: list[TableColumn[ActorRow]] = [
            TableColumn("flag", "flag", _hot_rank, descending_first=True),
            TableColumn("actor", "actor", lambda r: r.actor.casefold()),
            TableColumn("total", "total", lambda r: r.total, descending_first=True, justify="right"),
            *(_rule_column(r) for r in rules),
        ]
        hot_style = self.get_component_rich_style("actor-table--hot", partial=True)
        items = [(row.actor, row, self._cells(row, rules, hot_style)) for row in snap.rows]
        self.show_items(columns, items)

    @staticmethod
    def _cells(row: ActorRow, rules: Sequence[Rule], hot: Style) -> list[Text]:
        is_hot = bool(row.hot)
        cells = [
            Text(HOT_WORD if is_hot else "", style=hot if is_hot else ""),
            Text(clean(row.actor, max_len=ACTOR_MAX), style=hot if is_hot else ""),
            Text(str(row.total), justify="right"),
        ]
        for r in rules:
            n = row.counts.get(r.name)
            if n is None:
                cells.append(Text("", justify="right"))
            elif r.name in row.hot:
                cells.append(Text(f"{n} !", style=hot, justify="right"))
            else:
                cells.append(Text(f"{n}  ", justify="right"))
        return cells


def rule_label(name: str) -> str:
    """`monitor_deletion` → `monitor_` / `deletion`: two lines, broken after the underscore that
    balances them best (a name without one stays on one line), each cropped to RULE_LABEL_MAX."""
    name = clean(name)
    cuts = [i for i, ch in enumerate(name) if ch == "_"]
    if not cuts:
        return clean(name, max_len=RULE_LABEL_MAX)
    best = min(cuts, key=lambda i: (max(i + 1, len(name) - i - 1), -i))
    top, bottom = name[: best + 1], name[best + 1 :]
    return f"{clean(top, max_len=RULE_LABEL_MAX)}\n{clean(bottom, max_len=RULE_LABEL_MAX)}"


def _rule_column(rule: Rule) -> TableColumn[ActorRow]:
    label = rule_label(rule.name)
    return TableColumn(
        f"rule:{rule.name}",
        label,
        lambda row, name=rule.name: row.counts.get(name),  # type: ignore[misc]
        descending_first=True,
        justify="right",
    )


# -- alerts ---------------------------------------------------------------------------------------------


def alert_time(ms: int, local: bool) -> str:
    """`07-04 11:48Z`: the zone stays; the year and the seconds go (the events screen has them)."""
    return fmt_ts(ms, local, seconds=False)[5:]


class AlertTable(LiveTable[Alert]):
    """One row per alert: state and severity (glyphs and a word), rule, actor, count, first / last, paged.

    Below 100 columns the table is compact (severity, rule, actor, count, last; names cropped
    shorter): the line under it (`alert_line`) gives the highlighted alert in full.
    """

    HELP_GROUP: ClassVar[str] = "Alert table"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"alert-table--open", "alert-table--closed"}
    COMPACT_BELOW = 100

    DEFAULT_CSS = """
    AlertTable {
        & > .alert-table--open { text-style: bold; }
        & > .alert-table--closed { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(default_sort="severity", empty_text="no alerts", id=id, classes=classes)
        self.local_time = False
        self._snapshot: WatchSnapshot | None = None
        self._compact: bool | None = None

    @property
    def compact(self) -> bool:
        return 0 < self.size.width < self.COMPACT_BELOW

    def pivot_targets(self) -> list[PivotTarget]:
        """The alert's actor (in the field its rule grouped on), then its rule, for `x`."""
        a = self.cursor_item
        if a is None:
            return []
        out: list[PivotTarget] = []
        if a.group_field and a.group != NO_GROUP:
            out.append(PivotTarget("@" + a.group_field.lstrip("@"), a.group, "actor"))
        rules = {r.name: r for r in self._snapshot.rules} if self._snapshot is not None else {}
        if a.rule in rules:
            out.append(rule_target(a.rule, rules[a.rule].query))
        return out

    def on_resize(self) -> None:
        if self._snapshot is not None and self.compact != self._compact:
            self.show_snapshot(self._snapshot, self.local_time)

    def show_snapshot(self, snap: WatchSnapshot, local: bool) -> None:
        self.local_time = local
        self._snapshot = snap
        compact = self._compact = self.compact
        columns: list[TableColumn[Alert]] = [
            # Open alerts first, the worst first, then the most recent: what needs a look, on top.
            TableColumn(
                "severity",
                "severity",
                lambda a: (a.is_open, int(a.severity), a.last_seen),
                descending_first=True,
            ),
            TableColumn("rule", "rule", lambda a: a.rule.casefold()),
            TableColumn("actor", "actor", lambda a: a.group.casefold()),
            TableColumn(
                "count",
                "n" if compact else "count",
                lambda a: a.count,
                descending_first=True,
                justify="right",
            ),
        ]
        if not compact:
            columns.append(TableColumn("first", "first", lambda a: a.first_seen, descending_first=True))
        columns.append(TableColumn("last", "last", lambda a: a.last_seen, descending_first=True))
        if not compact:
            columns.append(TableColumn("paged", "paged", lambda a: a.page_status))
        items = [(a.dedup_key, a, self._cells(a, local, compact)) for a in snap.alerts]
        self.show_items(columns, items)

    def _cells(self, a: Alert, local: bool, compact: bool) -> list[Text]:
        row_style = self.get_component_rich_style(
            "alert-table--open" if a.is_open else "alert-table--closed", partial=True
        )
        sev_style = Style.parse(SEVERITY_STYLE.get(a.severity, "")) + Style(bold=a.is_open)
        cells = [
            # The state is a glyph, not a colour: ● open, ○ closed.
            Text(f"{'●' if a.is_open else '○'} {a.severity.label}", style=sev_style),
            Text(clean(a.rule, max_len=16 if compact else ALERT_RULE_MAX), style=row_style),
            Text(clean(a.group, max_len=24 if compact else ALERT_ACTOR_MAX), style=row_style),
            Text(str(a.count), justify="right", style=row_style),
        ]
        if not compact:
            cells.append(Text(alert_time(a.first_seen, local), style=row_style))
        cells.append(Text(alert_time(a.last_seen, local), style=row_style))
        if not compact:
            cells.append(Text(PAGE_CELLS.get(a.page_status, clean(a.page_status)), style=row_style))
        return cells


def alert_line(a: Alert, rule: Rule | None, local: bool) -> Text:
    """The highlighted alert in one line, in full: state, severity, rule, actor, counts, first → last
    (with seconds and zone), paged or not."""
    # Wraps (the line is two rows high when narrow); the overflow is cropped with an ellipsis.
    text = Text(overflow="ellipsis", end="")
    text.append(f"{'● open' if a.is_open else '○ closed'} ", style="bold" if a.is_open else "")
    text.append(a.severity.label, style=SEVERITY_STYLE.get(a.severity, ""))
    text.append(f" {clean(a.rule, max_len=60)} · ")
    text.append(clean(a.group, max_len=120), style="bold")
    n = f" · {a.count} event{'s' if a.count != 1 else ''}"
    if a.distinct_values and rule is not None and rule.distinct:
        n += f" ({a.distinct_count} distinct {clean(rule.distinct)})"
    first = fmt_ts(a.first_seen, local)
    last = fmt_ts(a.last_seen, local)
    same_day = first[:10] == last[:10]
    text.append(f"{n} · {first} → {last[11:] if same_day else last}")
    text.append(f" · {PAGE_WORDS.get(a.page_status, clean(a.page_status))}")
    if a.actions:
        text.append(f" · {clean(a.actions_text(3), max_len=200)}", style="dim")
    return text
