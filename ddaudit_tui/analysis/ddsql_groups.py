"""Reading DDSQL group-by rows with the project's own decoder (issue 16): each group's column values are put
back at their field paths in a stand-in audit item, decoded like any fetched event, so the analyses read a
group exactly as they read an event (the same field precedence, the same normalisation). Pure: no I/O, no
Textual. The key engine does the same for its origins (`key_engine._stand_in`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.record import KIND_API, Event
from ddaudit_tui.timeutil import iso

# Core columns of dd.audit that are not attributes (`timestamp`, `message`, …): they sit beside the inner
# attributes in an API item.
_CORE = frozenset({"message", "service", "status"})


def stand_in(values: Mapping[str, Any], ts: int = 0, event_id: str = "ddsql-group") -> Event:
    """An event whose fields are `values` ({"@usr.email": "a@x", "message": "…"}), decoded like any other.
    A None value is a missing field; "" stays an empty string."""
    inner: dict[str, Any] = {}
    outer: dict[str, Any] = {"timestamp": iso(ts), "attributes": inner}
    for field, value in values.items():
        if value is None:
            continue
        if field in _CORE:
            outer[field] = value
            continue
        put(inner, field.removeprefix("@").split("."), value)
    item = {"id": event_id, "type": "audit", "attributes": outer}
    return decode_item(msgspec.json.encode(item), "ddsql", KIND_API)


def put(d: dict[str, Any], path: list[str], value: Any) -> None:
    for p in path[:-1]:
        nxt = d.get(p)
        if not isinstance(nxt, dict):
            nxt = d[p] = {}
        d = nxt
    d[path[-1]] = value


__all__ = ["put", "stand_in"]
