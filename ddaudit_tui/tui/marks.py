"""Marks in the tables: the one glyph and the one question every table asks ("is this row marked?").

A mark (issue 15) keeps event ids. A row is shown marked when a mark is about it or part of it (all of
the mark's events are the row's) — whichever pane the mark was made in: an event marked in Explore is
starred in Key lookup's timeline too, and so is the flag citing it. Tables ask `mark_sets(self)` (or
`marked_ids(self)`, the events marked one by one) when they draw; the app calls `refresh_marks()` on every table when the
case's marks change (`refresh_all`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from textual.dom import DOMNode

from ddaudit_tui.events.record import Event

# Not a severity or outcome glyph (‼ ! ◆ ○ · ✖ ▲ ✓ ⚠): a star reads "kept as evidence".
MARK_GLYPH = "★"


@dataclass
class MarkTarget:
    """The selected thing `m` would mark: what it is, one line for people, its events, and where it
    lives (`ref`, for jumping back to it from the Case view)."""

    kind: (
        str  # "event" | "flag" | "origin" | "endpoint" | "network" | "deletion" | "alert" | "ai_flag" | "row"
    )
    label: str
    events: list[Event] = field(default_factory=list)
    event_ids: tuple[str, ...] = ()  # more ids (already stored in the case, or not loaded here)
    ref: dict[str, str] = field(default_factory=dict)
    # The events are not read yet (an alert never opened, an actor's row): `m` reads them with this
    # first, so the mark keeps the raw events and not only their ids (tui/case_targets.mark_when_read).
    fetch: Callable[[], Awaitable[list[Event]]] | None = None

    @property
    def all_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(e.id for e in self.events), *self.event_ids]))


def mark_sets(node: DOMNode) -> tuple[frozenset[str], ...]:
    """The event ids of each mark in the app's case (empty outside a ddaudit app, e.g. a widget test)."""
    try:
        session = getattr(node.app, "case", None)
    except Exception:  # no app (a widget not mounted)
        return ()
    sets = getattr(session, "mark_sets", None)
    return sets if isinstance(sets, tuple) else ()


def marked_refs(node: DOMNode, kind: str, key: str) -> frozenset[str]:
    """`ref[key]` of the case's marks of `kind` (e.g. the actors marked in Spike watch): rows that are
    not events nor hold event ids (an actor's counts) are starred by what the mark is about."""
    try:
        session = getattr(node.app, "case", None)
    except Exception:  # no app (a widget not mounted)
        return frozenset()
    load = getattr(session, "load", None)
    if not callable(load):
        return frozenset()
    return frozenset(m.ref[key] for m in load().marks.values() if m.kind == kind and key in m.ref)


def marked_ids(node: DOMNode) -> frozenset[str]:
    """The events marked one by one (an event row carries the glyph when its event is one of them)."""
    return frozenset(next(iter(s)) for s in mark_sets(node) if len(s) == 1)


def item_event_ids(item: Any) -> tuple[str, ...]:
    """The event ids a table row stands for: an event, a flag, a group, a deletion, an alert, a call."""
    if isinstance(item, Event):
        return (item.id,)
    ids: list[str] = []
    for name in ("event_ids", "related_ids"):
        value = getattr(item, name, None)
        if isinstance(value, list | tuple):
            ids += [str(v) for v in value]
    one = getattr(item, "event_id", None)
    if isinstance(one, str):
        ids.append(one)
    ev = getattr(item, "event", None)
    if isinstance(ev, Event):
        ids.append(ev.id)
    return tuple(dict.fromkeys(ids))


def is_marked(item: Any, sets: tuple[frozenset[str], ...]) -> bool:
    """Whether a mark is about this row or part of it: every event of some mark is one of the row's.
    An event marked in Explore stars its row everywhere, and the flag or group holding it; a flag's
    mark stars that flag, not each of its (maybe 180) events nor every row sharing one of them."""
    if not sets:
        return False
    ids = set(item_event_ids(item))
    return bool(ids) and any(s and s <= ids for s in sets)


def refresh_all(app: Any) -> None:
    """Every table of every pane (and the screens open over them) redraws its mark glyphs."""
    stacks = getattr(app, "_screen_stacks", {}) or {}
    screens = [s for stack in stacks.values() for s in stack]
    for screen in screens:
        for widget in [screen, *screen.query("*")]:
            refresh = getattr(widget, "refresh_marks", None)
            if callable(refresh):
                refresh()
