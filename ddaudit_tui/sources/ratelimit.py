"""Datadog rate-limit headers, backoff, and one budget per org shared by every request of the process.

Datadog sends no `Retry-After`; it sends `X-RateLimit-{Limit,Period,Remaining,Reset,Name}`, where
`Reset` is *relative seconds* until the window resets (datadog-api.md §1.12). The limit is per org and
per bucket (`Name`: the search, DDSQL and the API Keys endpoints each have their own), so every client
made for the same org in one process (the paged search's concurrent slices, the DDSQL engine, the
watch poller) draws on one `RateLimiter` (`shared_limiter`), which counts each bucket on its own and
holds a request back rather than send one it knows will be refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], float]
WaitReporter = Callable[[float, str], None]  # (seconds, message); (0, "") when the wait is over

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
MAX_WAIT_S = 300.0  # a single wait longer than this is cut short (the request is retried, and counted)
JITTER_S = 0.5  # spreads the restart of concurrent slices after a shared wait

log = logging.getLogger(__name__)


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


def path_family(path: str) -> str:
    """The bucket a request draws on before its `X-RateLimit-Name` is known: the path's first three
    segments (`api/v2/audit`, `api/v2/ddsql`, `api/v2/api_keys`), so an id or a sub-resource
    (`…/search`, `…/tabular/fetch`) does not make a bucket of its own."""
    return "/".join(path.strip("/").split("/")[:3])


@dataclass
class _Bucket:
    """What this process knows of one rate-limit bucket of the org."""

    limit: float | None = None
    tokens: float | None = None  # requests known to be left in the current window (None: unknown)
    reset_at: float | None = None  # when the current window ends (clock time)
    blocked_until: float = 0.0  # a 429 holds every request of the bucket until then
    message: str = ""
    in_flight: int = 0


class RateLimiter:
    """One org's rate-limit budget, one bucket per `X-RateLimit-Name`, shared by every request.

    Before sending, a request takes a token of its bucket; when the bucket is known to be spent
    (Remaining 0, less the requests still in flight) it waits for the window's reset instead of
    sending a request that would be refused. Answers refill the count from their headers; a 429
    still blocks the bucket for the wait it asks (the fallback when the budget was not known). The
    bucket of a request is found by its path family until an answer names it. Single-threaded
    (asyncio): no lock needed, every decision happens between awaits.
    """

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
        self._routes: dict[str, str] = {}  # path family -> X-RateLimit-Name
        self._buckets: dict[str, _Bucket] = {}
        self.last: RateLimitInfo | None = None  # the most recent headers seen, any bucket

    def bucket_of(self, family: str) -> str:
        return self._routes.get(family, family)

    def _bucket(self, key: str) -> _Bucket:
        return self._buckets.setdefault(key, _Bucket())

    def delay(self, family: str = "") -> float:
        """Seconds a request of `family` would wait now (0: it may be sent)."""
        b = self._bucket(self.bucket_of(family))
        now = self._clock()
        wait = b.blocked_until - now
        if b.tokens is not None and b.tokens <= 0 and b.reset_at is not None:
            wait = max(wait, b.reset_at - now)
        return max(0.0, wait)

    async def acquire(self, family: str = "", report: WaitReporter | None = None) -> str:
        """Wait until a request of `family` may be sent, take its token; returns the bucket key to
        hand back to `release`."""
        while True:
            key = self.bucket_of(family)
            b = self._bucket(key)
            delay = self.delay(family)
            if delay <= 0:
                if b.tokens is not None:
                    b.tokens -= 1
                b.in_flight += 1
                return key
            blocked = b.blocked_until > self._clock()
            token = (b.blocked_until, b.reset_at)
            message = b.message if blocked else "waiting for the rate limit (reset in {s})"
            text = message.format(s=seconds_text(delay))
            log.info("%s", text)
            slept = delay + self._rng() * self.jitter_s
            if report is not None:
                report(slept, text)
            await self._sleep(slept)
            # The wait this request served is over: a new window. Unless an answer or a 429 changed
            # the bucket meanwhile, forget the block and refill the count, so an injected clock that
            # does not advance does not make every later request wait again.
            if (b.blocked_until, b.reset_at) == token:
                b.blocked_until = 0.0
                b.reset_at = None
                b.tokens = b.limit
            if report is not None:
                report(0.0, "")

    def release(self, key: str, family: str = "", info: RateLimitInfo | None = None) -> str:
        """A request of bucket `key` is answered (`info`: its headers, None without an answer).
        Returns the bucket key the answer names (the key to `block` on a 429)."""
        self._bucket(key).in_flight = max(0, self._bucket(key).in_flight - 1)
        if info is None:
            return key
        if info.limit is not None or info.remaining is not None:
            self.last = info
        if info.name:
            if self._routes.get(family) != info.name:
                self._routes[family] = info.name
            key = info.name
        b = self._bucket(key)
        if info.limit is not None:
            b.limit = info.limit
        if info.remaining is None:
            return key
        now = self._clock()
        # Requests still in flight may not be counted in this answer's Remaining yet: count them spent.
        others = b.in_flight + (self._bucket(family).in_flight if family and family != key else 0)
        left = max(0.0, info.remaining - others)
        reset = info.reset_s if info.reset_s is not None else info.period_s
        new_window = b.reset_at is None or now >= b.reset_at
        # Answers arrive out of order: within one window the lowest count is the truest.
        b.tokens = left if new_window or b.tokens is None else min(b.tokens, left)
        if reset is not None:  # the newest answer's word on when the window ends
            b.reset_at = now + min(reset, MAX_WAIT_S)
        elif b.tokens <= 0:
            b.reset_at = now + 1.0
        return key

    def block(self, key: str, seconds: float, message: str = "rate limited, retrying in {s}") -> None:
        """Hold every request of bucket `key` for `seconds` from now (extends, never shortens)."""
        b = self._bucket(key)
        until = self._clock() + min(seconds, MAX_WAIT_S)
        if until > b.blocked_until:
            b.blocked_until = until
            b.message = message


# -- one budget per org ---------------------------------------------------------------------------

_REGISTRY: weakref.WeakValueDictionary[tuple[object, ...], RateLimiter] = weakref.WeakValueDictionary()


def org_scope(base_url: str, credential_headers: Mapping[str, str]) -> str:
    """The org a client speaks for: its API base URL and a digest of its credentials (the secrets
    themselves are not kept as a key)."""
    digest = hashlib.sha256()
    for name, value in sorted(credential_headers.items()):
        digest.update(f"{name.lower()}\0{value}\0".encode())
    return f"{base_url}#{digest.hexdigest()[:32]}"


def shared_limiter(scope: str, *, sleep: Sleep, clock: Clock, transport: object = None) -> RateLimiter:
    """The one `RateLimiter` of org `scope` in this process (made on first use, dropped when no client
    holds it). The clock, the sleep and an injected transport are part of the key: a limiter's times
    only mean something on its own clock, and a test's fake transport is an org of its own."""
    key = (scope, sleep, clock, transport)
    limiter = _REGISTRY.get(key)
    if limiter is None:
        limiter = RateLimiter(sleep=sleep, clock=clock)
        _REGISTRY[key] = limiter
    return limiter
