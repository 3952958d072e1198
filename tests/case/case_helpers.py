"""Small audit events in the API item shape, for the case tests."""

from __future__ import annotations

import json
from typing import Any

from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import iso

T0 = 1_780_000_000_000
HOSTILE = "<script>alert(1)</script> [bold]x[/] \x1b]52;c;Y3VybA==\x07 \u202egpj.exe | `tick` **b**"


def item(
    n: int, *, name: str = "Dashboard", action: str = "deleted", ip: str = "192.0.2.147", **inner: Any
) -> dict:
    return {
        "id": f"AQAAAZ-event-{n:04d}",
        "type": "audit",
        "attributes": {
            "timestamp": iso(T0 + n * 1000),
            "service": "audit",
            "message": f"event {n}",
            "tags": ["source:audit"],
            "attributes": {
                "evt": {"name": name},
                "action": action,
                "usr": {"email": "mallory@example.com"},
                "network": {"client": {"ip": ip}},
                "asset": {
                    "type": "dashboard",
                    "id": f"abc-{n}",
                    "name": inner.pop("asset_name", f"board {n}"),
                },
                **inner,
            },
        },
    }


def event(n: int, **kw: Any) -> Event:
    return decode_item(json.dumps(item(n, **kw)).encode())


def events(*ns: int, **kw: Any) -> list[Event]:
    return [event(n, **kw) for n in ns]
