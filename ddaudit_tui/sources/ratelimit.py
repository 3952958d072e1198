"""Datadog rate-limit headers, backoff, and one limiter shared by every concurrent request of a client.

Datadog sends no `Retry-After`; it sends `X-RateLimit-{Limit,Period,Remaining,Reset,Name}`, where
`Reset` is *relative seconds* until the window resets (datadog-api.md §1.12). The limit is per org (and
per endpoint), so when one request learns that the budget is spent every other in-flight slice of the
same fetch must wait too: hence one `RateLimiter` per client, not per request.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], float]
WaitReporter = Callable[[float, str], None]  # (seconds, message); (0, "") when the wait is over

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
MAX_WAIT_S = 300.0  # a single wait longer than this is cut short (the request is retried, and counted)
JITTER_S = 0.5  # spreads the restart of concurrent slices after a shared wait


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        n = float(value.strip())
    except ValueError:
        return None
    return n if math.isfinite(n) and n >= 0 else None


@dataclass(frozen=True)
class RateLimitInfo:
    """The `X-RateLimit-*` headers of one response (any of them may be missing)."""

    limit: float | None = None
    period_s: float | None = None
    remaining: float | None = None
    reset_s: float | None = None
    name: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitInfo:
        # httpx.Headers is already case-insensitive; a plain dict (tests, other callers) may not be.
        lower = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}
        return cls(
            limit=_number(lower.get("x-ratelimit-limit")),
            period_s=_number(lower.get("x-ratelimit-period")),
            remaining=_number(lower.get("x-ratelimit-remaining")),
            reset_s=_number(lower.get("x-ratelimit-reset")),
            name=(lower.get("x-ratelimit-name") or None),
        )

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def backoff_s(attempt: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Exponential backoff for retry `attempt` (1-based): 1, 2, 4, 8, 16, 30, 30 … seconds."""
    return min(cap, base * 2 ** max(0, attempt - 1))


def wait_after_429(info: RateLimitInfo, attempt: int) -> float:
    """How long to wait after a 429: `reset`, else `period`, else exponential backoff (§1.12 rule 2)."""
    if info.reset_s is not None:
        wait = info.reset_s
    elif info.period_s:
        wait = info.period_s
    else:
        wait = backoff_s(attempt)
    return min(wait, MAX_WAIT_S)


def seconds_text(seconds: float) -> str:
    return f"{max(1, round(seconds))} s"


class RateLimiter:
    """Holds every request of a client back while the org's rate-limit budget is spent."""

    def __init__(
        self,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        jitter_s: float = JITTER_S,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self.jitter_s = jitter_s
        self._blocked_until = 0.0
        self._message = ""
        self.last: RateLimitInfo | None = None  # the most recent headers seen (for a live poller's pacing)

    def observe(self, info: RateLimitInfo) -> None:
        """Headers of a successful response: when the budget is spent, hold everyone until it resets."""
        if info.limit is not None or info.remaining is not None:
            self.last = info
        if info.exhausted:
            wait = info.reset_s if info.reset_s is not None else (info.period_s or 1.0)
            if wait > 0:
                self.block(wait, "rate limit reached, waiting {s}")

    def block(self, seconds: float, message: str = "rate limited, retrying in {s}") -> None:
        """Hold every request for `seconds` from now (extends, never shortens, a current block)."""
        until = self._clock() + min(seconds, MAX_WAIT_S)
        if until > self._blocked_until:
            self._blocked_until = until
            self._message = message

    def delay(self) -> float:
        return max(0.0, self._blocked_until - self._clock())

    async def wait_turn(self, report: WaitReporter | None = None) -> float:
        """Sleep out the current block (plus jitter), if any. Returns the seconds slept."""
        delay = self.delay()
        if delay <= 0:
            return 0.0
        token = self._blocked_until
        delay += self._rng() * self.jitter_s
        if report is not None:
            report(delay, self._message.format(s=seconds_text(delay)))
        await self._sleep(delay)
        # The block this waiter served is over. Clearing it (unless a later 429 extended it) keeps an
        # injected clock that does not advance from making every later request wait again.
        if self._blocked_until == token:
            self._blocked_until = 0.0
        if report is not None:
            report(0.0, "")
        return delay
