"""Fakes for the spike-watch tests: a scripted Source, an injected clock whose sleep only moves time,
a recording pager, and Audit Logs API items for files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ddaudit_tui.alerts.pagerduty import PageResult
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.timeutil import Window, iso

M = 60_000
T0 = 1_785_000_000_000
KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


class FakeClock:
    """`clock()` in epoch seconds; `sleep(d)` advances it by d and records d. Nothing ever waits."""

    def __init__(self, start_ms: int = T0) -> None:
        self.now = start_ms / 1000
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class FakeSource:
    """Answers from an in-memory event list; `failures` scripts exceptions for the next fetches."""

    label = "fake-org"

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events: list[Event] = list(events or [])
        self.calls: list[tuple[str, Window]] = []
        self.failures: list[BaseException | None] = []
        self.incomplete_next = False

    async def fetch(self, query: str, window: Window, progress: Any = None) -> FetchResult:
        self.calls.append((query, window))
        if self.failures:
            exc = self.failures.pop(0)
            if exc is not None:
                raise exc
        q = parse_query(query)
        found = [e for e in self.events if window.start <= e.ts < window.end and q.matches(e)]
        found.sort(key=lambda e: (e.ts, e.id), reverse=True)
        complete = not self.incomplete_next
        self.incomplete_next = False
        return FetchResult(
            events=found,
            window=window,
            query=query,
            complete=complete,
            warnings=[] if complete else ["slice 2/4 failed: 503 Service Unavailable"],
        )

    async def exists(self, query: str, window: Window) -> bool:
        return bool((await self.fetch(query, window)).events)

    def default_window(self) -> Window | None:
        return None

    async def aclose(self) -> None:
        return None


class RecordingPager:
    """A Pager that records bodies; `results` scripts PageResults for the next sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.results: list[PageResult] = []

    async def send(self, body: dict[str, Any]) -> PageResult:
        self.sent.append(body)
        if self.results:
            return self.results.pop(0)
        return PageResult(ok=True, status=202, attempts=1, dedup_key=body.get("dedup_key"))

    async def aclose(self) -> None:
        return None

    def actions(self) -> list[tuple[str, str]]:
        return [(b["event_action"], b["dedup_key"]) for b in self.sent]


def event(
    minute: float,
    actor: str | None = "dave@example.com",
    *,
    evt: str = "Access Management",
    asset: str = "role",
    action: str = "modified",
    asset_id: str | None = None,
    eid: str | None = None,
) -> Event:
    ts = T0 + int(minute * M)
    return Event(
        id=eid or f"{actor}-{asset}-{action}-{ts}",
        ts=ts,
        raw=b"{}",
        evt_name=evt,
        asset_type=asset,
        action=action,
        asset_id=asset_id,
        usr_email=actor,
        usr_id=actor,
    )


def api_item(
    minute: float,
    actor: str,
    evt: str,
    asset_type: str,
    action: str,
    asset_id: str | None = None,
    actor_type: str = "USER",
    eid: str | None = None,
) -> dict[str, Any]:
    """An Audit Logs API item (`data[i]`) in the real shape."""
    ts = T0 + int(minute * M)
    inner: dict[str, Any] = {
        "evt": {"name": evt, "actor": {"type": actor_type}},
        "usr": {"id": actor, "email": actor, "name": actor.split("@")[0]},
        "action": action,
        "asset": {"type": asset_type, "id": asset_id or f"{asset_type}-{ts}", "name": f"{asset_type} {ts}"},
        "status": "info",
    }
    return {
        "id": eid or f"AQAA-{actor}-{asset_type}-{action}-{ts}",
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": f"{actor} {action} a {asset_type}",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def planted_items() -> list[dict[str, Any]]:
    """Bursts and near misses over two hours (newest first, like an API page)."""
    items = []
    # Dave: 4 role grants in 9 minutes (burst).
    items += [
        api_item(m, "dave@example.com", "Access Management", "role", "modified") for m in (10, 12, 15, 19)
    ]
    # Alice: 2 role grants (near miss).
    items += [api_item(m, "alice@example.com", "Access Management", "role", "modified") for m in (30, 36)]
    # Matt: 12 distinct dashboards deleted in 8 minutes (burst); Lucas: 9 (near miss).
    items += [
        api_item(50 + i * 0.7, "matt@example.com", "Dashboard", "dashboard", "deleted", f"mb-{i}")
        for i in range(12)
    ]
    items += [
        api_item(70 + i * 1.1, "lucas@example.com", "Dashboard", "dashboard", "deleted", f"lq-{i}")
        for i in range(9)
    ]
    # Sara deletes one monitor (any monitor deletion fires); background noise that matches nothing.
    items.append(api_item(90, "sara@example.com", "Monitor", "monitor", "deleted", "12345"))
    items += [api_item(m, "bob@example.com", "Dashboard", "dashboard", "modified") for m in range(0, 120, 7)]
    items.sort(key=lambda it: it["attributes"]["timestamp"], reverse=True)
    return items


def write_items(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"data": items, "meta": {"page": {}}}), encoding="utf-8")
    return path


def decode_items(items: list[dict[str, Any]]) -> list[Event]:
    data = json.dumps({"data": items}).encode()
    return list(iter_decode(data, "<test>"))
