"""An injected clock and sleep for the client tests: sleeping advances the clock and records how long
(nothing really waits: retries, backoff and rate-limit waits are asserted, not lived)."""

from __future__ import annotations

import asyncio


class FakeTime:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
