"""The spike watch's two tables: counts per actor and rule, and the alerts.

Both are small (actors active in a window, alerts of a day), so they are the shared `SortableTable`
(numbers never cut, `…` on cut text, columns dropped whole with a `…+N more` hint), with what a live
table needs on top (tui-practice.md §1.11): rows keyed by actor / dedup key, a poll that changes
nothing repaints nothing, the sort kept, and the cursor kept on the same row at the same height on
screen. `s` (next column), `S` (column picker) or a header click sort; `j`/`k`/`g`/`G` move.

Every cell built from event data goes through `safe_text.clean`; flags carry a glyph and a word as
well as a colour (readable under NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType

from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.alerts.wiring import PAGE_WORDS
from ddaudit_tui.analysis.signals import SEVERITY_STYLE
from ddaudit_tui.analysis.spikes import (
    NO_GROUP,
    ActorRow,
    Alert,
    PageStatus,
    Rule,
)
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.marks import is_marked, marked_refs
from ddaudit_tui.tui.pivot import PivotTarget, actor_target, rule_target
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.sortable_table import SortableTable, TableColumn

T = TypeVar("T")

HOT_WORD = "! HOT"
ACTOR_MAX = 28  # cells are cropped here: an actor is an email, an id or an API key id
RULE_LABEL_MAX = 15

# How an alert's page status reads in a cell: a glyph and a word.
PAGE_CELLS: dict[str, str] = {
    PageStatus.SENT: "✓ paged",
    PageStatus.DRY_RUN: "◌ dry-run",
    PageStatus.OFF: "– off",
    PageStatus.DISABLED: "– rule off",
    PageStatus.PENDING: "… pending",
    PageStatus.NEW: "… pending",
    PageStatus.FAILED: "✖ refused",
}
ALERT_ACTOR_MAX = 28  # the alert table has eight columns to fit in 120
ALERT_RULE_MAX = 22
ORG_MAX = 12  # several orgs: the org column crops a profile name here


class LiveTable(SortableTable[T], Generic[T]):
    """A live table of items keyed by a string: refreshed on every poll with the sort kept and the
    cursor kept on its row at the same height on screen; a poll that changes nothing repaints
    nothing. The shared `SortableTable` does the widths (numbers never cut, `…` on cut text)."""

    # The pane listens to DataTable's own RowHighlighted / RowSelected.
    BUBBLE_ROW_EVENTS: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="watch-table.open", show=False, tooltip="Open the row"),
    ]

    def __init__(
        self,
        *,
        default_sort: str,
        identity: Callable[[T], str],
        empty_text: str = "",
        header_height: int = 1,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            identity=identity,
            empty_text=empty_text,
            header_height=header_height,
            zebra_stripes=False,
            id=id,
            classes=classes,
        )
        self.cursor_foreground_priority = "renderable"
        self.default_sort_key = default_sort

    @property
    def item_keys(self) -> list[str]:
        """Row keys in display order."""
        ident = self.identity
        assert ident is not None
        return [str(ident(item)) for item in self.rows_in_order]

    def item(self, key: str) -> T | None:
        ident = self.identity
        assert ident is not None
        return next((it for it in self._items if ident(it) == key), None)

    @property
    def cursor_key(self) -> str | None:
        item = self.cursor_item
        return None if item is None or self.identity is None else str(self.identity(item))

    @property
    def sort_column_key(self) -> str | None:
        return self.table_columns[self.sort_index].key if self.sort_index is not None else None

    def show_items(self, columns: Sequence[TableColumn[T]], items: Sequence[T]) -> None:
        """Replace the data (and the columns when they changed), keeping the sort and the cursor."""
        keys = [c.key for c in columns]
        if self.default_sort_key in keys:
            i = keys.index(self.default_sort_key)
            self.default_sort = (i, columns[i].descending_first)
        first_time = not self.table_columns
        self.set_columns(columns)
        if first_time or self.sort_index is None:
            self.sort_index, self.sort_reverse = self.default_sort or (None, False)
        self.set_items(items)

    def sort_on(self, key: str, reverse: bool | None = None) -> None:
        """Sort by column `key` (`reverse` None: the column's first direction)."""
        keys = [c.key for c in self.table_columns]
        if key in keys:
            self.sort_by(keys.index(key), reverse)


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
            identity=lambda r: r.actor,
            empty_text="no matching events in the window",
            header_height=2,
            id=id,
            classes=classes,
        )
        self._rules: dict[str, Rule] = {}
        # Several orgs (tui/org_watch.py): the orgs a row's actor acted in, as an `org` column.
        self.org_of: Callable[[ActorRow], str | None] | None = None

    def pivot_targets(self) -> list[PivotTarget]:
        """The actor, then the rules it has matches for (over threshold first), for `x`."""
        row = self.cursor_item
        if row is None:
            return []
        out = [t] if (t := actor_target(row.actor)) is not None else []
        names = sorted(row.counts, key=lambda n: (n not in row.hot, n))
        out += [rule_target(n, self._rules[n].query) for n in names if n in self._rules]
        return out

    def is_row_marked(self, item: ActorRow, marked: tuple[frozenset[str], ...]) -> bool:
        # A row holds counts, not event ids: it is starred when its actor is marked (`m` on the row).
        return clean(item.actor) in marked_refs(self, "actor", "actor")

    def show_snapshot(self, snap: WatchSnapshot) -> None:
        self._rules = {r.name: r for r in snap.rules}
        present = {name for row in snap.rows for name in row.counts}
        hot = {name for row in snap.rows for name in row.hot}
        # Rules over threshold first: the reason a row is hot stays on screen when the rest scrolls
        # (and when columns must be dropped, the quiet rules on the right go first).
        rules = sorted((r for r in snap.rules if r.name in present), key=lambda r: r.name not in hot)
        hot_style = self.get_component_rich_style("actor-table--hot", partial=True)

        def styled(text: str, row: ActorRow) -> Text:
            return Text(text, style=hot_style if row.hot else "", end="")

        columns: list[TableColumn[ActorRow]] = [
            TableColumn("flag", "flag", lambda r, _l: styled(HOT_WORD if r.hot else "", r), _hot_rank,
                        descending_first=True, numeric=True, priority=9),
            TableColumn("actor", "actor", lambda r, _l: styled(clean(r.actor), r), lambda r: r.actor.casefold(),
                        max_width=ACTOR_MAX, priority=9),
            TableColumn("total", "total", lambda r, _l: Text(str(r.total)), lambda r: r.total,
                        "right", descending_first=True, priority=8),
            *(_rule_column(r, r.name in hot, hot_style) for r in rules),
        ]  # fmt: skip
        if self.org_of is not None:
            columns.insert(2, _org_column(self.org_of, styled))
        self.show_items(columns, snap.rows)


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


def _rule_count(row: ActorRow, name: str, hot: Style) -> Text:
    n = row.counts.get(name)
    if n is None:
        return Text("")
    if name in row.hot:
        return Text(f"{n} !", style=hot)
    return Text(f"{n}  ")


def _rule_column(rule: Rule, is_hot: bool, hot: Style) -> TableColumn[ActorRow]:
    return TableColumn(
        f"rule:{rule.name}",
        rule_label(rule.name),
        lambda row, _l, name=rule.name: _rule_count(row, name, hot),  # type: ignore[misc]
        lambda row, name=rule.name: row.counts.get(name),  # type: ignore[misc]
        "right",
        descending_first=True,
        priority=5 if is_hot else 0,
    )


def _org_column(org_of: Callable[[Any], str | None], styled: Callable[[str, Any], Text]) -> TableColumn[Any]:
    """Several orgs (tui/org_watch.py): the org a row came from (profile names are the user's own)."""
    return TableColumn(
        "org", "org", lambda it, _l: styled(clean(org_of(it) or "", max_len=ORG_MAX), it),
        lambda it: (org_of(it) or "").casefold(), max_width=ORG_MAX, priority=8,
    )  # fmt: skip


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
        super().__init__(
            default_sort="severity",
            identity=lambda a: a.dedup_key,
            empty_text="no alerts",
            id=id,
            classes=classes,
        )
        self.local_time = False
        self._snapshot: WatchSnapshot | None = None
        self._compact: bool | None = None
        # Several orgs (tui/org_watch.py): the org an alert came from, as an `org` column.
        self.org_of: Callable[[Alert], str | None] | None = None

    @property
    def compact(self) -> bool:
        return 0 < self.size.width < self.COMPACT_BELOW

    def is_row_marked(self, item: Alert, marked: tuple[frozenset[str], ...]) -> bool:
        # The alert's own mark, also when its events outnumber the ids the alert keeps (MAX_ALERT_IDS).
        return is_marked(item, marked) or item.dedup_key in marked_refs(self, "alert", "alert")

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

    def on_resize(self, event: events.Resize) -> None:
        if self._snapshot is not None and self.compact != self._compact:
            self.show_snapshot(self._snapshot, self.local_time)
        else:
            super().on_resize(event)

    def show_snapshot(self, snap: WatchSnapshot, local: bool) -> None:
        self.local_time = local
        self._snapshot = snap
        compact = self._compact = self.compact
        open_style = self.get_component_rich_style("alert-table--open", partial=True)
        closed_style = self.get_component_rich_style("alert-table--closed", partial=True)

        def styled(text: str, a: Alert) -> Text:
            return Text(text, style=open_style if a.is_open else closed_style, end="")

        def severity(a: Alert, _l: bool) -> Text:
            # The state is a glyph, not a colour: ● open, ○ closed.
            style = Style.parse(SEVERITY_STYLE.get(a.severity, "")) + Style(bold=a.is_open)
            return Text(f"{'●' if a.is_open else '○'} {a.severity.label}", style=style, end="")

        columns: list[TableColumn[Alert]] = [
            # Open alerts first, the worst first, then the most recent: what needs a look, on top.
            TableColumn("severity", "severity", severity, lambda a: (a.is_open, int(a.severity), a.last_seen),
                        descending_first=True, numeric=True, priority=9),
            *([_org_column(self.org_of, styled)] if self.org_of is not None else []),
            TableColumn("rule", "rule", lambda a, _l: styled(clean(a.rule), a), lambda a: a.rule.casefold(),
                        max_width=16 if compact else ALERT_RULE_MAX, priority=8),
            TableColumn("actor", "actor", lambda a, _l: styled(clean(a.group), a), lambda a: a.group.casefold(),
                        max_width=24 if compact else ALERT_ACTOR_MAX, priority=8),
            TableColumn("count", "n" if compact else "count", lambda a, _l: styled(str(a.count), a),
                        lambda a: a.count, "right", descending_first=True, priority=8),
        ]  # fmt: skip
        if not compact:
            columns.append(
                TableColumn("first", "first", lambda a, lo: styled(alert_time(a.first_seen, lo), a),
                            lambda a: a.first_seen, descending_first=True, numeric=True, priority=1)
            )  # fmt: skip
        columns.append(
            TableColumn("last", "last", lambda a, lo: styled(alert_time(a.last_seen, lo), a),
                        lambda a: a.last_seen, descending_first=True, numeric=True, priority=7)
        )  # fmt: skip
        if not compact:
            columns.append(
                TableColumn("paged", "paged",
                            lambda a, _l: styled(PAGE_CELLS.get(a.page_status, clean(a.page_status)), a),
                            lambda a: a.page_status, numeric=True, priority=1)
            )  # fmt: skip
        self.show_items(columns, snap.alerts)


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
