"""Helpers for the Spike watch pane tests: a clock whose sleeps only end when the test moves time, an
in-memory source the test can add events to (and make fail), and waits that never block on the
poller's endless worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.timeutil import Window, iso
from ddaudit_tui.tui.screens.watch import POLLER_GROUP, SNAPSHOT_GROUP, WatchScreen

M = 60_000


class TestClock:
    """`clock()` in epoch seconds. `sleep(d)` waits until the test `advance`s time past its end —
    so the poller's timer fires exactly when the test says, and nothing ever really waits."""

    __test__ = False  # not a test class

    def __init__(self, now_s: float) -> None:
        self.now = now_s
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self.now + seconds, fut))
        try:
            await fut
        finally:
            self._waiters = [(t, f) for t, f in self._waiters if f is not fut]

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for t, fut in self._waiters:
            if t <= self.now and not fut.done():
                fut.set_result(None)


class MemorySource:
    """Answers from `events` (filtered by query and window); `failures` scripts exceptions."""

    def __init__(self, events: list[Event] | None = None, label: str = "memory-org") -> None:
        self.events: list[Event] = list(events or [])
        self.label = label
        self.calls: list[tuple[str, Window]] = []
        self.failures: list[BaseException] = []
        self.closed = False

    async def fetch(self, query: str, window: Window, progress: Any = None) -> FetchResult:
        self.calls.append((query, window))
        if self.failures:
            raise self.failures.pop(0)
        q = parse_query(query)
        found = [e for e in self.events if window.start <= e.ts < window.end and q.matches(e)]
        found.sort(key=lambda e: (e.ts, e.id), reverse=True)
        return FetchResult(events=found, window=window, query=query)

    async def exists(self, query: str, window: Window) -> bool:
        return bool((await self.fetch(query, window)).events)

    def default_window(self) -> Window | None:
        return None

    async def aclose(self) -> None:
        self.closed = True


def api_item(
    ts: int,
    actor: str,
    evt: str = "Access Management",
    asset_type: str = "role",
    action: str = "modified",
    asset_id: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "evt": {"name": evt, "actor": {"type": "USER"}},
        "usr": {"id": actor, "email": actor, "name": actor.split("@")[0]},
        "action": action,
        "asset": {
            "type": asset_type,
            "id": asset_id or f"{asset_type}-{ts}",
            "name": name or f"{asset_type} {ts}",
        },
        "status": "info",
    }
    return {
        "id": f"AQAA-{actor}-{asset_type}-{action}-{ts}",
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": f"{actor} {action} a {asset_type}",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def decode(items: list[dict[str, Any]]) -> list[Event]:
    return list(iter_decode(json.dumps({"data": items}).encode(), "<test>"))


def role_grants(end_ms: int, actor: str, minutes_before: list[float]) -> list[Event]:
    return decode([api_item(end_ms - int(m * M), actor) for m in minutes_before])


def watch_screen(app: Any) -> WatchScreen:
    # The watch mode's base screen, whichever pane is shown (modes keep their screen stacks).
    stack = app._screen_stacks.get("watch") or []
    screen = stack[0] if stack else app.screen
    assert isinstance(screen, WatchScreen), screen
    return screen


async def until(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Pause until `pred()` holds (a few real milliseconds at a time; the poller never sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or pred}")
        await pilot.pause(0.01)


async def settle_watch(pilot: Pilot[Any]) -> None:
    """Drain messages and wait for the workers that end (fetches, exports) — not the poller."""
    app = pilot.app
    await pilot.pause()
    endless = (POLLER_GROUP, SNAPSHOT_GROUP)
    for worker in list(app.workers):
        if worker.group not in endless and not worker.is_finished:
            # Errors are the test's to check, through the UI.
            with contextlib.suppress(Exception):
                await worker.wait()
    await pilot.pause()
    await pilot.pause(0.06)


async def polled(pilot: Pilot[Any], n: int, what: str = "") -> WatchScreen:
    """Wait until the pane has drawn the snapshot of its `n`-th poll."""
    screen = watch_screen(pilot.app)
    await until(
        pilot,
        lambda: screen.latest is not None and screen.latest.polls >= n and not screen.latest.polling,
        what=what or f"poll {n}",
    )
    await settle_watch(pilot)
    return screen
