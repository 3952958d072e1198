"""An in-memory set of loaded events: newest first, each id once."""

from __future__ import annotations

from collections.abc import Iterable

from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window


class EventStore:
    """Events of one investigation. Adding is idempotent by event id (overlapping pages and slices)."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._by_id: dict[str, Event] = {}
        self._sorted: list[Event] | None = []
        self.extend(events)

    def extend(self, events: Iterable[Event]) -> int:
        """Add events; returns how many were new."""
        added = 0
        by_id = self._by_id
        for ev in events:
            if ev.id not in by_id:
                by_id[ev.id] = ev
                added += 1
        if added:
            self._sorted = None
        return added

    @property
    def events(self) -> list[Event]:
        """Newest first; ties broken by id so the order is stable across runs."""
        if self._sorted is None:
            self._sorted = sorted(self._by_id.values(), key=lambda e: (e.ts, e.id), reverse=True)
        return self._sorted

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._by_id

    def get(self, event_id: str) -> Event | None:
        return self._by_id.get(event_id)

    def span(self) -> Window | None:
        """The smallest window holding every event (end exclusive), or None when empty."""
        if not self._by_id:
            return None
        evs = self.events
        return Window(evs[-1].ts, evs[0].ts + 1)
