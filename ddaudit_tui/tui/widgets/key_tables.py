"""The Key lookup pane's tables: flags, origins, networks, endpoints, deletions and the full timeline.

The aggregate tables are small (a key has a handful of countries and a few dozen routes), so they are
the shared `SortableTable` (numbers never cut, `…` on cut text), sorted by header click, `s` (next
column) or `S` (column picker), ▲/▼ in the sorted header.
The timeline can hold every event of a busy key: it is the virtualised `EventTable` with key columns.

Rows show what `analysis.keys.KeyReport` found; nothing is recomputed here. Every event-derived string
goes through `safe_text.clean` into a plain `Text`: never markup, never a control sequence.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets.option_list import Option

from ddaudit_tui.analysis.keys import (
    SIGNAL_ORDER,
    SIGNAL_TITLES,
    Destructive,
    EndpointGroup,
    Network,
    OriginGroup,
)
from ddaudit_tui.analysis.signals import SEVERITY_STYLE, Flag, Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.outcome import rich_style
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.marks import MARK_GLYPH, is_marked, mark_sets
from ddaudit_tui.tui.pivot import MAX_LIST_TARGETS, PivotTarget, row_targets
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.event_table import EXPLORE_COLUMNS, Column, EventTable
from ddaudit_tui.tui.widgets.item_list import ItemList, nav_bindings
from ddaudit_tui.tui.widgets.sortable_table import SortableTable as _SortableTable
from ddaudit_tui.tui.widgets.sortable_table import TableColumn

T = TypeVar("T")

# Lists in a cell (IPs, ASNs) are cut here: the full values are in the export and the timeline.
_LIST_CELL_MAX = 48


def _cell(value: object, style: str = "", max_len: int | None = None) -> Text:
    """A plain, cleaned, single-line cell (never markup)."""
    return Text(clean(value if value is not None else "", max_len=max_len), style=style, no_wrap=True, end="")


def _missing(label: str) -> Text:
    return Text(label, style="dim italic", no_wrap=True, end="")


def _join(values: Sequence[str | None], missing: str = "?") -> str:
    return ", ".join(v if v else missing for v in values)


class KeyTable(_SortableTable[T], Generic[T]):
    """A Key lookup table: the shared `SortableTable` (numbers never cut, `…` on cut text, `s` / `S`
    / header click to sort), Enter pivots. New data (another key) starts on the first row."""

    HELP_GROUP: ClassVar[str] = "Key tables"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select_cursor", "Pivot", id="key-table.select", tooltip="Filter the timeline or open"
        ),
        Binding("s", "sort_next", "Sort", id="key-table.sort", show=False, tooltip="Sort by the next column"),
    ]

    def __init__(
        self,
        columns: Sequence[TableColumn[T]],
        *,
        empty_text: str = "nothing",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(columns, empty_text=empty_text, id=id, classes=classes)

    def pivot_targets(self) -> list[PivotTarget]:
        """The cells of the row under the cursor, for `x` (see `tui.pivot`)."""
        item = self.cursor_item
        if item is None:
            return []
        if isinstance(item, NetworkRow):
            return network_targets(item)
        return row_targets(item)

    def set_items(
        self, items: Sequence[T], local_time: bool | None = None, *, keep_cursor: bool = False
    ) -> None:
        """New data in the report's order (most events first); the sort chosen by the user is kept."""
        super().set_items(items, local_time, keep_cursor=keep_cursor)


# The pane's name for it (tests and the Key lookup screen import `SortableTable` from here).
SortableTable = KeyTable  # type: ignore[misc]


# -- column sets ---------------------------------------------------------------------------------------


def _count(n: int) -> Text:
    return Text(f"{n:,}", justify="right", no_wrap=True, end="")


def _origin_flag(o: OriginGroup, _local: bool) -> Text:
    if o.status == "new":
        return Text("▲ " + o.flag, style="bold red", no_wrap=True, end="")
    if o.status == "normal":
        return Text(o.flag, style="green", no_wrap=True, end="")
    return Text(clean(o.flag), style="yellow", no_wrap=True, end="")


def _status_rank(o: OriginGroup) -> int:
    return {"new": 3, "unknown": 2, "no_geo": 1}.get(o.status, 0)


def _text_key(value: str | None) -> str | None:
    return value.casefold() if value else None


ORIGIN_COLUMNS: tuple[TableColumn[OriginGroup], ...] = (
    TableColumn("country", "country",
                lambda o, _l: _cell(o.country) if o.country else _missing("(unknown country)"),
                lambda o: _text_key(o.country)),
    TableColumn("count", "events", lambda o, _l: _count(o.count), lambda o: o.count, "right", descending_first=True),
    TableColumn("flag", "flag", _origin_flag, _status_rank, descending_first=True),
    TableColumn("asns", "ASNs", lambda o, _l: _cell(_join(o.asns)),
                lambda o: _text_key(_join(o.asns)), max_width=_LIST_CELL_MAX),
    TableColumn("ips", "IPs", lambda o, _l: _cell(_join(o.ips)),
                lambda o: len(o.ips), descending_first=True, max_width=_LIST_CELL_MAX),
)  # fmt: skip


@dataclass(frozen=True)
class NetworkRow:
    """One network of one origin: the pane lists networks across countries (for the ASN pivot)."""

    country: str | None
    network: Network
    origin_status: str


def network_rows(origins: Sequence[OriginGroup]) -> list[NetworkRow]:
    rows = [NetworkRow(o.country, n, o.status) for o in origins for n in o.networks]
    rows.sort(key=lambda r: -r.network.count)  # stable: ties keep the report's order
    return rows


def network_targets(r: NetworkRow) -> list[PivotTarget]:
    """The network (by ASN name, else number), its country and its IPs."""
    n = r.network
    out: list[PivotTarget] = []
    if n.asn_name:
        out.append(PivotTarget("@network.client.geoip.as.name", n.asn_name, "network"))
    elif n.asn is not None:
        out.append(PivotTarget("@network.client.geoip.as.number", str(n.asn), "network"))
    out.append(PivotTarget("@network.client.geoip.country.name", r.country, "country"))
    out += [PivotTarget("@network.client.ip", ip, "IP") for ip in n.ips[:MAX_LIST_TARGETS] if ip]
    return out


def network_label(n: Network) -> str:
    if n.asn is not None and n.asn_name:
        return f"{n.asn_name} (AS{n.asn})"
    if n.asn is not None:
        return f"AS{n.asn}"
    return n.asn_name or "unknown network"


def _class_cell(r: NetworkRow, _local: bool) -> Text:
    origin = r.network.origin
    label = clean(origin.label)
    if origin.anonymising:
        return Text("▲ " + label, style="bold red", no_wrap=True, end="")
    if origin.non_eyeball:
        return Text(label, style="yellow", no_wrap=True, end="")
    return Text(label, no_wrap=True, end="")


NETWORK_COLUMNS: tuple[TableColumn[NetworkRow], ...] = (
    TableColumn("network", "network", lambda r, _l: _cell(network_label(r.network)),
                lambda r: network_label(r.network).casefold(), max_width=40),
    TableColumn("count", "events", lambda r, _l: _count(r.network.count), lambda r: r.network.count,
                "right", descending_first=True),
    TableColumn("class", "class", _class_cell, lambda r: r.network.origin.label),
    TableColumn("country", "country",
                lambda r, _l: _cell(r.country) if r.country else _missing("(unknown)"),
                lambda r: _text_key(r.country)),
    TableColumn("ips", "IPs", lambda r, _l: _cell(_join(r.network.ips)),
                lambda r: len(r.network.ips), descending_first=True, max_width=_LIST_CELL_MAX),
)  # fmt: skip


def _methods(g: EndpointGroup) -> str:
    return "/".join(m or "?" for m in g.methods)


def _method_cell(g: EndpointGroup, _local: bool) -> Text:
    text = _methods(g)
    # Deleting is what the recipe looks for: the word stays, the style only adds to it.
    return _cell(text, style="bold red" if "DELETE" in g.methods else "")


ENDPOINT_COLUMNS: tuple[TableColumn[EndpointGroup], ...] = (
    TableColumn("path", "endpoint (route)",
                lambda g, _l: _cell(g.path) if g.path else _missing("(no path)"),
                lambda g: g.path, max_width=80),
    TableColumn("methods", "methods", _method_cell, _methods),
    TableColumn("count", "events", lambda g, _l: _count(g.count), lambda g: g.count, "right", descending_first=True),
)  # fmt: skip


DESTRUCTIVE_COLUMNS: tuple[TableColumn[Destructive], ...] = (
    TableColumn("time", "time", lambda d, local: _cell(fmt_ts(d.ts, local)), lambda d: d.ts,
                descending_first=True, numeric=True),
    TableColumn("type", "resource type", lambda d, _l: _cell(d.resource_type or "unknown", "bold"),
                lambda d: _text_key(d.resource_type)),
    TableColumn("id", "resource id", lambda d, _l: _cell(d.resource_id),
                lambda d: d.resource_id, max_width=40),
    TableColumn("name", "name", lambda d, _l: _cell(d.resource_name),
                lambda d: _text_key(d.resource_name), max_width=48),
    TableColumn("ip", "IP", lambda d, _l: _cell(d.ip), lambda d: d.ip),
    TableColumn("country", "country", lambda d, _l: _cell(d.country), lambda d: _text_key(d.country)),
    TableColumn("kind", "recorded as", lambda d, _l: _cell(d.kind), lambda d: d.kind),
)  # fmt: skip


# -- flags ----------------------------------------------------------------------------------------------


def severity_text(severity: Severity) -> Text:
    """`‼ CRITICAL`, `! HIGH`, … in the severity's colour: readable with colour, glyph or word alone."""
    return Text(severity.label, style=SEVERITY_STYLE[severity], no_wrap=True, end="")


def flag_heading(f: Flag) -> Text:
    """`! HIGH  new_country · RO — Country not in org's normal baseline (180 events)` on one line."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append_text(severity_text(f.severity))
    text.append("  " + f.signal, style="bold")
    if f.subject:
        text.append(" · " + clean(f.subject, max_len=60))
    n = len(f.event_ids)
    text.append(f" ({n:,} event{'s' if n != 1 else ''})", style="dim")
    title = SIGNAL_TITLES.get(f.signal)
    if title:
        text.append(" — " + title, style="italic")
    return text


def indented(text: str, width: int, indent: str = "   ") -> str:
    """`text` wrapped to `width` cells with every line indented (the reason under its heading)."""
    room = max(10, width - cell_len(indent))
    lines = textwrap.wrap(text, room, break_long_words=True, break_on_hyphens=False) or [""]
    return "\n".join(indent + line for line in lines)


class FlagList(ItemList[Flag]):
    """The flags, most severe first (the report's order): severity word, glyph and colour, the signal,
    what it is about, then its one-line reason. Enter shows the events that prove it."""

    HELP_GROUP: ClassVar[str] = "Flags"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Evidence", id="key-flags.evidence", tooltip="Show the flag's events"),
        *nav_bindings("key-flags", "flag"),
    ]

    DEFAULT_CSS = """
    FlagList {
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        &:focus { border: none; }
    }
    """

    class Chosen(Message):
        def __init__(self, flags: FlagList, flag: Flag) -> None:
            super().__init__()
            self.flags = flags
            self.flag = flag

        @property
        def control(self) -> FlagList:
            return self.flags

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._flags: list[Flag] = []
        self._empty_text = ""

    @property
    def flags(self) -> list[Flag]:
        return list(self._flags)

    def show_flags(self, flags: Sequence[Flag], empty_text: str) -> None:
        self._flags = list(flags)
        self._empty_text = empty_text
        self._rebuild()
        if self._flags:
            self.highlighted = 0

    def on_mount(self) -> None:
        # The severity badges are drawn in the theme's colours: a new theme redraws them.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._rebuild())

    def _severity_style(self, severity: Severity) -> Style | None:
        """The badge for `severity` in this app's theme (greys and reverse video with NO_COLOR). It has
        its own background, so it stays readable on the cursor row, focused or not."""
        style = rich_style(severity.word, self.app.theme_variables, no_color=self.app.no_color)
        return Style.parse(style) if style else None

    def _rebuild(self) -> None:
        # Reasons are wrapped here (not by the list) so their continuation lines stay indented.
        width = max(20, (self.scrollable_content_region.width or 80) - 2)
        highlighted = self.highlighted
        entries: list[tuple[Option, Flag | None]] = []
        marked = mark_sets(self)
        for i, f in enumerate(self._flags):
            prompt = flag_heading(f)
            if marked and is_marked(f, marked):
                prompt = Text(MARK_GLYPH + " ", style="bold", end="") + prompt
            badge = self._severity_style(f.severity)
            if badge is not None:
                prompt.stylize(badge, 0, len(f.severity.label))
            prompt.truncate(width, overflow="ellipsis")  # the list would wrap it: one line, cut with …
            prompt.append("\n")
            style = "" if f.severity > Severity.INFO else "dim"
            prompt.append(indented(clean(f.reason), width), style=style)
            entries.append((Option(prompt, id=f"flag:{i}"), f))
        if not entries:
            entries.append(
                (Option(Text(self._empty_text, style="dim italic"), id="none", disabled=True), None)
            )
        self._show(entries)
        if self._flags and highlighted is not None and highlighted < len(self._flags):
            self.highlighted = highlighted

    def refresh_marks(self) -> None:
        self._rebuild()

    @property
    def highlighted_flag(self) -> Flag | None:
        return self.highlighted_item

    def _chosen(self, item: Flag) -> Message:
        return self.Chosen(self, item)


# -- the timeline -----------------------------------------------------------------------------------------


# Short words for the timeline's narrow flags column (the Flags section has the full names).
SIGNAL_SHORT = {
    "token_leaked": "LEAKED",
    "new_country": "NEW-COUNTRY",
    "vpn_asn": "VPN",
    "hosting_asn": "HOSTING",
    "destructive_action": "DELETE",
    "burst": "BURST",
    "off_hours": "OFF-HOURS",
    "concurrent_ips": "MULTI-IP",
    "impossible_travel": "TRAVEL",
    "first_seen_asn": "NEW-ASN",
    "first_seen_ip": "NEW-IP",
}


class EventSignals:
    """Which flags cite each event (from `KeyReport.event_signals`), with the worst severity citing it,
    for the timeline's flags column."""

    def __init__(self) -> None:
        self.signals: dict[str, tuple[str, ...]] = {}
        self.worst: dict[str, Severity] = {}

    def update(self, event_signals: dict[str, tuple[str, ...]], flags: Sequence[Flag]) -> None:
        self.signals = dict(event_signals)
        worst: dict[str, Severity] = {}
        for f in flags:
            for eid in f.event_ids:
                if eid not in worst or f.severity > worst[eid]:
                    worst[eid] = f.severity
        self.worst = worst

    def text(self, ev: Event) -> str | None:
        sigs = self.signals.get(ev.id)
        if not sigs:
            return None
        # Most telling first (the analysis' own order), so a cut cell still shows what matters most.
        order = {s: i for i, s in enumerate(SIGNAL_ORDER)}
        words = ",".join(SIGNAL_SHORT.get(s, s) for s in sorted(sigs, key=lambda s: order.get(s, 99)))
        return f"{self.worst[ev.id].glyph} {words}" if ev.id in self.worst else words

    def rank(self, ev: Event) -> int | None:
        sev = self.worst.get(ev.id)
        return None if sev is None else int(sev)


def timeline_columns(signals: EventSignals) -> tuple[Column, ...]:
    """Explore's columns that matter for one key, plus the flags citing each event."""
    by_key = {c.key: c for c in EXPLORE_COLUMNS}
    flags = Column(
        "flags",
        "flags",
        lambda ev, _l: signals.text(ev),
        signals.rank,
        12,
        40,
        descending_first=True,
        whole=True,
    )
    city = Column(
        "city", "city", lambda ev, _l: ev.city, lambda ev: ev.city.casefold() if ev.city else None, 6, 16
    )
    keys = ("time",), ("action", "evt.name", "endpoint", "status", "ip", "country"), ("asn", "asset")
    return (
        by_key["time"],
        flags,
        *(by_key[k] for k in keys[1]),
        city,
        *(by_key[k] for k in keys[2]),
    )


class KeyTimelineTable(EventTable):
    """The key's events; the flags column takes the colour of the worst flag citing the event (the
    glyph and the signal names carry the same information without colour)."""

    def __init__(self, signals: EventSignals, *, id: str | None = None) -> None:
        super().__init__(timeline_columns(signals), empty_text="no events", id=id)
        self.signals = signals

    def _cell_style(self, col: Column, ev: Event) -> Style | None:
        if col.key == "flags":
            sev = self.signals.worst.get(ev.id)
            if sev is not None and sev >= Severity.HIGH:
                return self._style("event-table--error", overlay=True)
            if sev is not None and sev >= Severity.MEDIUM:
                return self._style("event-table--warning", overlay=True)
            return None
        return super()._cell_style(col, ev)


__all__ = [
    "DESTRUCTIVE_COLUMNS",
    "ENDPOINT_COLUMNS",
    "NETWORK_COLUMNS",
    "ORIGIN_COLUMNS",
    "EventSignals",
    "FlagList",
    "KeyTimelineTable",
    "NetworkRow",
    "SortableTable",
    "TableColumn",
    "flag_heading",
    "network_label",
    "network_rows",
    "severity_text",
    "timeline_columns",
]
