"""How complete an answer is: engine, requests, events, partial flags, rate-limit headroom, retention, time.

Every fetch builds one `Completeness` (the Datadog client per search, files per read) and every analysis
merges those of the fetches it made into one for its report (a key investigation makes several). Reports
render it (`to_json`, `line`), the TUI header shows `header_text`, and `--fail-on partial` reads `partial`.

Requests are counted by *meters* held in a context variable: a request made anywhere below a
`metering()` block — by a fetch, an existence check or a key lookup, in any task the block's task
started — is counted by every meter open around it. So a fetch counts its own pages and the analysis
around it counts everything it asked, existence checks included, even when fetches run concurrently.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ddaudit_tui.timeutil import Window, fmt_ts

ENGINE_SEARCH = "search"  # the Audit Logs search, paged
ENGINE_DDSQL = "ddsql"  # the DDSQL API's aggregates (a later slice of issue 16)
ENGINE_FILE = "file"  # input files (exports): no request, no retention

DAY_MS = 86_400_000
DEFAULT_RETENTION_DAYS = 90  # Audit Trail enabled; 7 days without (config `audit_retention_days`)
RETENTION_SLACK_MS = 3_600_000


def _monotonic() -> float:
    return CLOCK()


# What elapsed times are measured with (screenshot tests pin it: a header must not depend on speed).
CLOCK = time.monotonic


@dataclass(frozen=True)
class RateLimitSeen:
    """The `X-RateLimit-*` headers of the response with the least headroom left."""

    remaining: int | None = None
    limit: int | None = None
    reset_s: float | None = None
    name: str | None = None

    def lower(self, other: RateLimitSeen | None) -> RateLimitSeen:
        """The one with less headroom (a known `remaining` beats an unknown one)."""
        if other is None or other.remaining is None:
            return self
        if self.remaining is None or other.remaining < self.remaining:
            return other
        return self

    def text(self) -> str:
        if self.remaining is None:
            return f"rate limit {self.limit:,}" if self.limit is not None else "rate limit unknown"
        of = f" of {self.limit:,}" if self.limit is not None else ""
        reset = f", resets in {max(1, round(self.reset_s))} s" if self.reset_s is not None else ""
        return f"rate limit {self.remaining:,}{of} left{reset}"

    def to_json(self) -> dict[str, Any]:
        return {"remaining": self.remaining, "limit": self.limit, "reset_s": self.reset_s, "name": self.name}


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def rate_limit_from(info: Any) -> RateLimitSeen | None:
    """A `ratelimit.RateLimitInfo` (or anything with its fields) → RateLimitSeen; None without headers."""
    if info is None or (getattr(info, "remaining", None) is None and getattr(info, "limit", None) is None):
        return None
    return RateLimitSeen(
        remaining=_int(info.remaining), limit=_int(info.limit), reset_s=info.reset_s, name=info.name
    )


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


@dataclass(frozen=True)
class Completeness:
    """What an answer is made of and whether anything is missing from it."""

    engine: str = ENGINE_SEARCH  # "search", "ddsql", "file", or "search+ddsql" when both ran
    requests: int = 0  # HTTP requests sent (retries and 429s included)
    events_fetched: int = 0
    events_matched: int | None = None  # what the server says matched, when it says (DDSQL counts)
    partial: bool = False
    reasons: tuple[str, ...] = ()  # why partial, one line each
    rate_limit: RateLimitSeen | None = None
    retention_days: int | None = None
    retention_cutoff_ms: int | None = None  # set only when the window starts before it
    elapsed_ms: int = 0

    @property
    def complete(self) -> bool:
        return not self.partial

    # -- building -------------------------------------------------------------------------------

    def merge(self, other: Completeness) -> Completeness:
        """Two fetches of one answer: counts add up, one partial makes both partial, the least
        rate-limit headroom and the earliest retention cut-off win, elapsed is the longer one (fetches
        of one analysis overlap: its own wall time is set with `timed`)."""
        engines = _dedup((*self.engine.split("+"), *other.engine.split("+")))
        matched = (
            None
            if self.events_matched is None or other.events_matched is None
            else self.events_matched + other.events_matched
        )
        rate = other.rate_limit if self.rate_limit is None else self.rate_limit.lower(other.rate_limit)
        cutoffs = [
            (c.retention_cutoff_ms, c.retention_days)
            for c in (self, other)
            if c.retention_cutoff_ms is not None
        ]
        cutoff, days = min(cutoffs) if cutoffs else (None, self.retention_days or other.retention_days)
        return Completeness(
            engine="+".join(engines),
            requests=self.requests + other.requests,
            events_fetched=self.events_fetched + other.events_fetched,
            events_matched=matched,
            partial=self.partial or other.partial,
            reasons=_dedup((*self.reasons, *other.reasons)),
            rate_limit=rate,
            retention_days=days,
            retention_cutoff_ms=cutoff,
            elapsed_ms=max(self.elapsed_ms, other.elapsed_ms),
        )

    @classmethod
    def combine(cls, items: Iterable[Completeness | None], engine: str = ENGINE_SEARCH) -> Completeness:
        out: Completeness | None = None
        for c in items:
            if c is not None:
                out = c if out is None else out.merge(c)
        return out if out is not None else cls(engine=engine)

    def with_reasons(self, *reasons: str) -> Completeness:
        """Partial, for these reasons (added to any it had)."""
        if not any(reasons):
            return self
        return replace(self, partial=True, reasons=_dedup((*self.reasons, *reasons)))

    def labelled(self, what: str) -> Completeness:
        """Reasons prefixed with what was fetched (`key events: …`): an analysis's several fetches may
        fail the same way, and the reader needs to know which part of the answer is missing."""
        return replace(self, reasons=tuple(f"{what}: {r}" for r in self.reasons))

    def with_retention(self, window: Window, days: int | None, now_ms: int | None = None) -> Completeness:
        """The retention cut-off of *this answer's* window (replacing what the fetches said: an analysis
        may look further back on purpose, e.g. for a key's creation, and that is not its window)."""
        cutoff = retention_cutoff(window, days, now_ms)
        return replace(self, retention_days=days, retention_cutoff_ms=cutoff)

    def timed(self, meter: RequestMeter) -> Completeness:
        """The meter's requests (when it saw more: existence checks, key lookups), least headroom and
        wall time."""
        rate = meter.rate_limit if self.rate_limit is None else self.rate_limit.lower(meter.rate_limit)
        return replace(
            self,
            requests=max(self.requests, meter.requests),
            rate_limit=rate,
            elapsed_ms=meter.elapsed_ms(),
        )

    # -- showing --------------------------------------------------------------------------------

    def retention_text(self) -> str | None:
        if self.retention_cutoff_ms is None:
            return None
        days = f" ({self.retention_days} days)" if self.retention_days else ""
        return f"events before {fmt_ts(self.retention_cutoff_ms)} are outside retention{days}"

    def state_text(self) -> str:
        return "PARTIAL" if self.partial else "complete"

    def facts(self) -> list[str]:
        """`search`, `3 requests`, `1,234 events fetched`, … (no verdict, no reasons)."""
        events = f"{self.events_fetched:,} event{'s' if self.events_fetched != 1 else ''} fetched"
        if self.events_matched is not None:
            events += f" of {self.events_matched:,} matched"
        out = [
            f"engine {self.engine}",
            f"{self.requests:,} request{'s' if self.requests != 1 else ''}",
            events,
        ]
        if self.rate_limit is not None:
            out.append(self.rate_limit.text())
        out.append(elapsed_text(self.elapsed_ms))
        return out

    def line(self) -> str:
        """One line for text and Markdown reports."""
        text = f"{self.state_text()}: " + ", ".join(self.facts())
        if self.partial:
            text += " — " + ("; ".join(self.reasons) or "some events could not be fetched")
        retention = self.retention_text()
        if retention:
            text += f"; {retention}"
        return text

    def header_text(self, events: bool = True) -> str:
        """Compact, for a pane's header: `1,234 events · complete · 3 requests · 2.1 s` (the count first:
        a narrow header keeps only the first part), or the first reason it is partial (the glyph comes
        from the status's outcome). `events=False` when the pane leads with its own count."""
        if self.partial:
            first = self.reasons[0] if self.reasons else "some events could not be fetched"
            more = f" (+{len(self.reasons) - 1} more)" if len(self.reasons) > 1 else ""
            return f"PARTIAL: {first}{more}"
        parts = [f"{self.events_fetched:,} event{'s' if self.events_fetched != 1 else ''}"] if events else []
        parts.append("complete")
        if self.engine != ENGINE_FILE:  # files are read from memory: no request, no time worth saying
            parts.append(f"{self.requests:,} request{'s' if self.requests != 1 else ''}")
            parts.append(elapsed_text(self.elapsed_ms))
        if self.retention_cutoff_ms is not None:
            parts.append(f"before {fmt_ts(self.retention_cutoff_ms, seconds=False)} outside retention")
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "complete": not self.partial,
            "partial": self.partial,
            "engine": self.engine,
            "requests": self.requests,
            "events_fetched": self.events_fetched,
            "events_matched": self.events_matched,
            "reasons": list(self.reasons),
            "rate_limit": self.rate_limit.to_json() if self.rate_limit else None,
            "retention_days": self.retention_days,
            "retention_cutoff": _iso(self.retention_cutoff_ms),
            "retention_note": self.retention_text(),
            "elapsed_ms": self.elapsed_ms,
        }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    from ddaudit_tui.timeutil import iso

    return iso(ms)


def elapsed_text(ms: int) -> str:
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min {ms % 60_000 // 1000} s"


def retention_cutoff(window: Window, days: int | None, now_ms: int | None = None) -> int | None:
    """now − retention, when the window starts before it (else None: nothing is outside retention)."""
    if not days:
        return None
    now = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = now - days * DAY_MS
    # Slack: `--from 90d` resolved a moment ago is not "before" a 90-day retention computed now.
    return cutoff if window.start < cutoff - RETENTION_SLACK_MS else None


# -- counting requests ------------------------------------------------------------------------------


@dataclass
class RequestMeter:
    """Requests made below a `metering()` block, and the least rate-limit headroom they saw."""

    requests: int = 0
    rate_limit: RateLimitSeen | None = None
    started: float = field(default_factory=_monotonic)

    def record(self, rate_limit: RateLimitSeen | None) -> None:
        self.requests += 1
        if rate_limit is not None:
            self.rate_limit = rate_limit if self.rate_limit is None else self.rate_limit.lower(rate_limit)

    def elapsed_ms(self) -> int:
        return int((_monotonic() - self.started) * 1000)


_METERS: contextvars.ContextVar[tuple[RequestMeter, ...]] = contextvars.ContextVar(
    "ddaudit_request_meters", default=()
)


@contextlib.contextmanager
def metering() -> Iterator[RequestMeter]:
    """Count every request made below this block (tasks started inside inherit it)."""
    meter = RequestMeter()
    token = _METERS.set((*_METERS.get(), meter))
    try:
        yield meter
    finally:
        _METERS.reset(token)


def record_request(rate_limit: Any = None) -> None:
    """One HTTP request was sent (called by the client for every attempt); `rate_limit` is its
    `RateLimitInfo`, or None when no answer came."""
    seen = rate_limit_from(rate_limit)
    for meter in _METERS.get():
        meter.record(seen)


def derived(
    events: int, pages: int, complete: bool, warnings: Iterable[str], engine: str = ENGINE_SEARCH
) -> Completeness:
    """A Completeness for a FetchResult built without one (a test, a cached or preloaded result)."""
    reasons = _dedup(warnings) if not complete else ()
    return Completeness(
        engine=engine,
        requests=pages if engine != ENGINE_FILE else 0,
        events_fetched=events,
        partial=not complete,
        reasons=reasons or (("some events could not be fetched",) if not complete else ()),
    )
