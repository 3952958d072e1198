"""Explore: facets (top values with counts), a zero-filled histogram over the window, query pivots.

Plain Python over `Event` records; no Textual import (the TUI's Explore pane and the CLI share it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# Bucket sizes a histogram may use, smallest first. Whole minutes, hours and days keep bucket edges on
# round wall-clock times (UTC), which is what a responder reads off an axis.
BUCKET_SIZES_MS: tuple[int, ...] = (
    MINUTE_MS,
    5 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    7 * DAY_MS,
    30 * DAY_MS,
)


# -- facets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet. `value` None means "the event has no such field" (shown as "(none)")."""

    field: str  # the query path this value came from, e.g. "@usr.email"
    value: str | None
    count: int


@dataclass(frozen=True)
class Facet:
    key: str  # stable identifier: "evt.name", "action", "user", "country", "asn"
    title: str
    values: tuple[FacetValue, ...]  # most frequent first, at most `top`
    distinct: int  # distinct values, "(none)" included when present
    total: int  # events counted


def _actor_term(ev: Event) -> tuple[str, str] | None:
    # Same precedence as `Event.actor` (quirk 5), but keeping which field the name came from so a
    # pivot on it is a query that matches the same events.
    if ev.usr_email:
        return "@usr.email", ev.usr_email
    if ev.usr_name:
        return "@usr.name", ev.usr_name
    if ev.usr_id:
        return "@usr.id", ev.usr_id
    if ev.delegator_name:
        return "@delegator.name", ev.delegator_name
    return None


def _attr_term(attr: str, field: str) -> Callable[[Event], tuple[str, str] | None]:
    def get(ev: Event) -> tuple[str, str] | None:
        value = getattr(ev, attr)
        # "" is a value (the query language matches it with `@f:""`), not a missing field.
        return None if value is None else (field, str(value))

    return get


# (key, title, field used for "(none)", value getter)
FACETS: tuple[tuple[str, str, str, Callable[[Event], tuple[str, str] | None]], ...] = (
    ("evt.name", "Event", "@evt.name", _attr_term("evt_name", "@evt.name")),
    ("action", "Action", "@action", _attr_term("action", "@action")),
    ("user", "User", "@usr.email", _actor_term),
    ("country", "Country", "@network.client.geoip.country.name", _attr_term("country", "@network.client.geoip.country.name")),
    ("asn", "ASN", "@network.client.geoip.as.name", _attr_term("asn_name", "@network.client.geoip.as.name")),
)  # fmt: skip


def facets(events: Iterable[Event], top: int = 10) -> list[Facet]:
    """Top values of each Explore facet, most frequent first; ties broken by value so output is stable."""
    events = events if isinstance(events, Sequence) else list(events)
    out: list[Facet] = []
    for key, title, none_field, get in FACETS:
        counts: Counter[tuple[str, str] | None] = Counter(map(get, events))
        out.append(ranked_facet(key, title, none_field, counts, top, len(events)))
    return out


def ranked_facet(
    key: str, title: str, none_field: str, counts: Counter[tuple[str, str] | None], top: int, total: int
) -> Facet:
    """A facet from its value counts (over events here, over DDSQL groups in `facet_engine`)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ("", "")))
    values = tuple(
        FacetValue(field=term[0] if term else none_field, value=term[1] if term else None, count=n)
        for term, n in ranked[:top]
    )
    return Facet(key=key, title=title, values=values, distinct=len(counts), total=total)


# -- histogram ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Events per fixed bucket over a window; buckets are zero-filled and aligned to `bucket_ms` (UTC)."""

    start: int  # start of the first bucket (epoch ms, aligned; may be before the window start)
    bucket_ms: int
    counts: tuple[int, ...]

    @property
    def end(self) -> int:
        return self.start + self.bucket_ms * len(self.counts)

    @property
    def max(self) -> int:
        return max(self.counts, default=0)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def bucket_label(self) -> str:
        return bucket_label(self.bucket_ms)

    def bucket_start(self, index: int) -> int:
        return self.start + index * self.bucket_ms


def bucket_label(bucket_ms: int) -> str:
    """`60000` → `1m`, `3600000` → `1h`, `86400000` → `1d` (the largest whole unit)."""
    for unit, ms in (("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS), ("s", 1000)):
        if bucket_ms >= ms and bucket_ms % ms == 0:
            return f"{bucket_ms // ms}{unit}"
    return f"{bucket_ms}ms"


def choose_bucket(window: Window, max_buckets: int = 120) -> int:
    """The smallest bucket size giving at most `max_buckets` buckets over the window.

    A 1-hour window gets minutes, a 3-day window hours, 90 days days: the same resolution a reader
    would pick, and never more buckets than there are columns to draw them in.
    """
    max_buckets = max(1, max_buckets)
    for size in BUCKET_SIZES_MS:
        if _bucket_count(window, size) <= max_buckets:
            return size
    return BUCKET_SIZES_MS[-1]


def _aligned_start(window: Window, size: int) -> int:
    return window.start - window.start % size


def _bucket_count(window: Window, size: int) -> int:
    start = _aligned_start(window, size)
    return max(1, -(-(window.end - start) // size))


def histogram(
    events: Iterable[Event], window: Window, bucket_ms: int | None = None, max_buckets: int = 120
) -> Histogram:
    """Count events per bucket over `window` (events outside it are ignored)."""
    size = bucket_ms or choose_bucket(window, max_buckets)
    start = _aligned_start(window, size)
    n = _bucket_count(window, size)
    counts = [0] * n
    lo, hi = window.start, window.end
    for ev in events:
        ts = ev.ts
        if lo <= ts < hi:
            counts[(ts - start) // size] += 1
    return Histogram(start=start, bucket_ms=size, counts=tuple(counts))


# -- query pivots ------------------------------------------------------------------------------


def quote_value(value: str) -> str:
    """A search-syntax quoted string: backslash and double quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wildcard_value(value: str) -> str:
    """A bare search word matching `value`, with each non-printable character (control, bidi, format)
    as a `?` wildcard and everything else backslash-escaped. Used so that a query — which is shown on
    screen — never has to carry terminal control characters to match a value that contains them."""
    return "".join("?" if not c.isprintable() else c if c.isalnum() else "\\" + c for c in value)


def facet_term(field: str, value: str | None, exclude: bool = False) -> str:
    """`@field:"value"` (or `-@field:"value"`). A missing value pivots on existence instead:
    including "(none)" means `-@field:*`, excluding it means `@field:*`."""
    if value is None:
        return f"{field}:*" if exclude else f"-{field}:*"
    shown = quote_value(value) if value.isprintable() else wildcard_value(value)
    return f"{'-' if exclude else ''}{field}:{shown}"


def add_term(query: str, term: str) -> str:
    """The query narrowed by `term` (AND). A query with a top-level OR is parenthesised first so the
    new term applies to the whole of it; a term already present is not added twice."""
    q = query.strip()
    if q in ("", "*"):
        return term
    if f" {term} " in f" {q} ":
        return q
    if " OR " in f" {q} ":
        q = f"({q})"
    return f"{q} {term}"
