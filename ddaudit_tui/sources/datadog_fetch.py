"""One audit search over one window, fetched as concurrent time slices (the engine of `DatadogClient.fetch`).

Why slices: the search endpoint pages with an opaque cursor, so one query can only be paged serially —
one round trip per 1,000 events. Disjoint time ranges of the same query are independent queries, so the
window is cut into slices that are paged concurrently (each slice serially, with its own cursor), and the
results are merged and de-duplicated by event id.

Slicing:
- Up front the window is cut into `min(concurrency, days)` equal slices (at least a day each: a short
  window, such as a watch poll, costs one request, not one per worker).
- Audit trails are bursty, so equal slices are rarely equal work. Whenever a worker is idle and a slice's
  page comes back full, the rest of that slice is split again, by the density its page showed, into as
  many parts as there are idle workers (plus one for the worker itself) — see `split_by_density`. The
  rest of a slice sorted `-timestamp` is exactly `[slice start, oldest event on the page]`; the 1 ms
  overlap is removed by the de-duplication. So the work balances itself whatever the shape of the data.
- Pending slices are taken newest first, and with an event cap the engine stops paging any slice whose
  remaining events are older than the cap-th newest event already fetched: the result is the newest
  `max_events`, never a mix with holes.

Two-ended slices: an up-front slice of several whose first page comes back full, and every slice split
off a full page, is paged from both ends at once — newest first (`sort: -timestamp`) and oldest first
(`sort: timestamp`), each with its own cursor, one page of each per round — and both stop when they meet:
when the newest-first chain's oldest event is older than the oldest-first chain's newest (strictly: at
the same millisecond, events of it may be in neither chain, so newest first goes on alone past it). No
slice then ends on a short page and an empty one, and a slice of N pages takes about N/2 round trips.
Events are merged by id; those the oldest-first chains fetched are merged in reverse, so events sharing a
millisecond keep the API's newest-first order and the result is the one serial paging gives. A chain
whose pages are not in its sort order (a server ignoring `sort`) is not trusted: the slice is paged
newest first to its end. With an event cap the oldest-first chains stop once `max_events` are fetched
(only the newest count). One worker (`concurrency` 1) pages serially, newest first only.

Paging stops on a page without a cursor (the only "no more"; `links.next` counts when `meta.page.after`
is absent, and an empty page WITH a cursor goes on). Any other stop — a repeated cursor, a page that adds
no event the slice had not already got (no progress), a page older events should follow that holds only
newer ones (time not advancing), too many empty pages in a row, a `links.next`
without a cursor, the fetch's deadline (`client.deadline_s`) — is said in one warning and marks the result
partial.

Partial results: a slice that fails (after the client's retries), a page the server marks
`meta.status: timeout` or with `meta.warnings`, a stop as above, the cap: each costs `complete=False`
and one precise warning; everything fetched is kept. An `AuthError` aborts the fetch; so does a fetch in
which no page at all could be fetched (there is nothing partial to show, and the error says why).
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import heapq
import math
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback
from ddaudit_tui.sources.completeness import ENGINE_SEARCH, Completeness, metering, retention_cutoff
from ddaudit_tui.sources.datadog_errors import AuthError, DatadogError, Timeout
from ddaudit_tui.sources.ratelimit import WaitReporter, seconds_text
from ddaudit_tui.timeutil import Window

DAY_MS = 86_400_000
INITIAL_SLICE_MIN_MS = DAY_MS  # up-front slices are at least this long
# Never split a remainder shorter than this: events sharing a millisecond cannot be split anyway.
MIN_SPLIT_MS = 2_000
MAX_SLICES = 512  # bound on slices per fetch, however pathological the data
# Empty pages with a cursor are legal (the server may skip an index), but not forever.
MAX_EMPTY_PAGES = 10
# Two-ended slices: when the gap between the chains looks smaller than this share of a page, only the
# newest-first chain asks its next page (see `FetchRun._gap_fits_one_page`).
GAP_ALONE = 0.8
# Pages in a row that reach no older time (events sharing a millisecond): beyond this, time is not advancing.
MAX_STALLED_PAGES = 5


def short_iso(ms: int) -> str:
    """`2026-05-01T00:00Z`, with seconds and milliseconds only when they are not zero."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 60_000 == 0:
        return dt.strftime("%Y-%m-%dT%H:%MZ")
    if ms % 1000 == 0:
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def describe_window(window: Window) -> str:
    return f"{short_iso(window.start)}→{short_iso(window.end)}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def split_by_density(rest: Window, page_span_ms: int, parts: int) -> list[Window]:
    """Cut `rest` (older than a full page that spanned `page_span_ms`) into `parts` windows.

    Uniform data would want equal parts. But a full page is as likely to come from a burst, and equal
    parts would then leave the whole burst in the newest part. So, from the newest end, the parts grow
    geometrically — 1, 2, 4 … pages' worth at the page's density — up to one fair share of the
    extrapolated total, and the last part takes whatever is left: a burst is spread over several
    workers, uniform data ends up in nearly equal parts, and a misjudged part is split again later.
    """
    pages_left = rest.duration_ms / page_span_ms
    fair = pages_left / parts
    edges = [rest.end]
    for i in range(parts - 1):
        edge = edges[-1] - round(page_span_ms * min(2**i, fair))
        if edge - rest.start < MIN_SPLIT_MS:
            break
        edges.append(edge)
    edges.append(rest.start)
    return [Window(edges[i + 1], edges[i]) for i in range(len(edges) - 1) if edges[i] > edges[i + 1]]


@dataclasses.dataclass(eq=False)
class _Slice:
    window: Window
    frontier: int = 0  # every event at or after this time (within the slice) has been fetched
    events: int = 0  # unique events this slice added
    pages: int = 0
    state: str = "pending"  # pending | running | done | split | failed | pruned
    two_ended: bool = False  # paged from both ends at once (see `FetchRun._met`)
    dense: bool = False  # known to hold more than a page (split off a full page's slice)

    def __post_init__(self) -> None:
        self.frontier = self.window.end

    @property
    def label(self) -> str:
        return f"slice {describe_window(self.window)}"


@dataclasses.dataclass(eq=False)
class _Chain:
    """One cursor chain through a slice: newest first (`-timestamp`) or oldest first (`timestamp`)."""

    ascending: bool
    cursor: str | None = None
    seen_cursors: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)  # every id it was served: a page of only these is no progress
    empty_pages: int = 0
    stalled: int = 0  # pages in a row that reached no further in the chain's direction
    page_no: int = 0
    # Newest first: the oldest time it has reached; oldest first: the newest. None before any event.
    edge: int | None = None
    ordered: bool = True  # every page so far came in the chain's sort order
    last_full: bool = False
    last_page: tuple[int, int] | None = None  # (oldest, newest) time on its last page with events
    state: str = "running"  # running | end (no cursor) | stopped (warned) | met | dropped

    @property
    def sort(self) -> str:
        return "timestamp" if self.ascending else "-timestamp"

    @property
    def page_name(self) -> str:
        return "oldest-first page" if self.ascending else "page"


@dataclass
class SearchPage:
    """One response of the search endpoint, decoded."""

    events: list[Event]
    cursor: str | None = None  # meta.page.after; None when absent or empty
    status: str | None = None  # meta.status: "done" | "timeout" | None
    warnings: list[str] = field(default_factory=list)  # meta.warnings, one line each
    request_id: str | None = None
    elapsed_ms: int | None = None
    # `links.next` given without a cursor ddaudit can follow: there IS a next page, it cannot be had.
    next_unfollowable: bool = False

    @property
    def timed_out(self) -> bool:
        return self.status == "timeout"


@runtime_checkable
class SearchClient(Protocol):
    """What a fetch needs of its client (`DatadogClient` is one): its limits and one page of the search.
    Owned here, the lower module, so this engine never imports the client that runs it."""

    host: str
    page_limit: int
    max_events: int | None
    concurrency: int
    deadline_s: float | None

    # Only what a fetch passes; a coroutine, so that one past the deadline can be closed unawaited.
    def search_page(
        self,
        query: str,
        window: Window,
        *,
        cursor: str | None,
        limit: int,
        sort: str,
        report: WaitReporter,
        what: str,
    ) -> Coroutine[Any, Any, SearchPage]: ...


class FetchRun:
    """The state of one `fetch`: slices, workers, merged events, warnings, progress."""

    two_ended = True  # False: every slice newest first only (`bench/bench_fetch.py --one-ended`)

    def __init__(
        self, client: SearchClient, query: str, window: Window, progress: ProgressCallback | None
    ) -> None:
        self.client = client
        self.query = query
        self.window = window
        self.limit = client.page_limit
        self.max_events = client.max_events
        self.concurrency = max(1, client.concurrency)
        self._progress_cb = progress
        self._progress = Progress()

        self._events: list[Event] = []
        self._oldest_first: list[Event] = []  # those the oldest-first chains fetched, as they came
        # Two chains per slice need two requests in flight; one worker pages serially, as asked.
        self._two_ended = self.two_ended and self.concurrency > 1
        self._seen: set[str] = set()
        self._newest_ts: list[int] = []  # min-heap of the `max_events` newest timestamps (cap only)
        self._cutoff: int | None = None  # the cap-th newest timestamp, once `max_events` are fetched
        self._pruned = False

        self._slices: list[_Slice] = []
        self._pending: list[_Slice] = []  # sorted by window end, ascending: pop() is the newest
        self._running = 0
        self._idle = 0
        self._cond = asyncio.Condition()
        self._failures: list[tuple[_Slice, DatadogError]] = []
        self._warnings: list[tuple[int, int, str]] = []  # (−slice end, page, text): sorted at the end
        self._meta_warnings: dict[str, list[tuple[int, int, str]]] = {}
        # The same, short (no slice, no boilerplate): the completeness record's reasons.
        self._reasons: list[tuple[int, int, str]] = []
        self._meta_reasons: dict[str, list[tuple[int, int, str]]] = {}
        self._cap_reason = ""
        self.pages = 0
        deadline_s = getattr(client, "deadline_s", None)
        self._deadline_s: float | None = deadline_s
        self._deadline: float | None = None  # loop time, set when the run starts
        self._deadline_hit = False

    # -- driver ------------------------------------------------------------------------------

    async def run(self) -> FetchResult:
        if self._deadline_s is not None:
            self._deadline = asyncio.get_running_loop().time() + self._deadline_s
        initial = max(1, min(self.concurrency, math.ceil(self.window.duration_ms / INITIAL_SLICE_MIN_MS)))
        parts = self.window.split(initial)
        for part in parts:
            # A window of one up-front slice (a day or less: a watch poll) keeps it newest first, as
            # before; what it splits off when a full page shows more is two-ended.
            self._add_slice(_Slice(part, two_ended=self._two_ended and len(parts) > 1))
        self._report()

        # The workers are started inside the meter: every request they make (retries included) counts.
        with metering() as meter:
            workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
            try:
                done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

        if self.pages == 0 and self._failures:
            # Nothing at all could be fetched: an empty "partial" result would hide the error.
            raise self._failures[0][1]
        result = self._result()
        reasons = [text for _, _, text in sorted(self._reasons)]
        for occurrences in self._meta_reasons.values():
            occurrences.sort()
            first = occurrences[0][2]
            if len(occurrences) > 1:
                first += f" (and {plural(len(occurrences) - 1, 'other page')})"
            reasons.append(first)
        if self._cap_reason:
            reasons.append(self._cap_reason)
        retention = getattr(self.client, "retention_days", None)
        completeness = Completeness(
            engine=ENGINE_SEARCH,
            events_fetched=len(result.events),
            partial=not result.complete,
            reasons=tuple(dict.fromkeys(reasons)),
            retention_days=retention,
            retention_cutoff_ms=retention_cutoff(self.window, retention),
        ).timed(meter)
        result.completeness = completeness
        return result

    def _result(self) -> FetchResult:
        events = self._events
        # Oldest-first chains' events reversed: events sharing a millisecond end up in the API's
        # newest-first order (newest-first chains' first), as serial paging would give them.
        events.extend(reversed(self._oldest_first))
        self._oldest_first = []
        events.sort(key=lambda e: e.ts, reverse=True)  # stable: ties keep the order above
        warnings = [text for _, _, text in sorted(self._warnings)]
        for occurrences in self._meta_warnings.values():
            occurrences.sort()
            first = occurrences[0][2]
            if len(occurrences) > 1:
                first += f" (also on {plural(len(occurrences) - 1, 'other page')})"
            warnings.append(first)
        cap = self.max_events
        if cap is not None and len(events) > cap:
            warnings.append(
                f"showing {cap:,} of more than {cap:,} events (the newest): narrow the window or the "
                "query, or raise max_events"
            )
            events = events[:cap]
            self._cap_reason = (
                f"event cap reached: the newest {cap:,} of more than {cap:,} events (max_events)"
            )
        elif cap is not None and self._pruned:
            warnings.append(f"showing {cap:,} events, the most allowed (max_events): older events may exist")
            self._cap_reason = f"event cap reached: {cap:,} events (max_events), older ones may exist"
        complete = not warnings
        return FetchResult(
            events=events,
            window=self.window,
            query=self.query,
            complete=complete,
            warnings=warnings,
            pages=self.pages,
        )

    # -- work queue ----------------------------------------------------------------------------

    def _add_slice(self, sl: _Slice) -> None:
        self._slices.append(sl)
        bisect.insort(self._pending, sl, key=lambda s: s.window.end)
        self._progress.slices_total = len(self._slices)

    async def _next_slice(self) -> _Slice | None:
        async with self._cond:
            while True:
                while self._pending:
                    sl = self._pending.pop()
                    if self._deadline_hit:
                        sl.state = "failed"  # not started: the deadline's warning covers it
                        self._progress.slices_done += 1
                        continue
                    if self._cutoff is not None and sl.window.end <= self._cutoff:
                        # Everything in it is older than the newest `max_events` already fetched.
                        sl.state = "pruned"
                        self._pruned = True
                        self._progress.slices_done += 1
                        continue
                    sl.state = "running"
                    self._running += 1
                    return sl
                if self._running == 0:
                    self._cond.notify_all()
                    return None
                self._idle += 1
                try:
                    await self._cond.wait()
                finally:
                    self._idle -= 1

    async def _finish(self, sl: _Slice) -> None:
        async with self._cond:
            self._running -= 1
            self._progress.slices_done += 1
            self._cond.notify_all()
        self._report()

    async def _split(self, parts: list[Window]) -> None:
        async with self._cond:
            for part in parts:
                self._add_slice(_Slice(part, two_ended=self._two_ended, dense=True))
            self._cond.notify_all()

    async def _worker(self) -> None:
        while (sl := await self._next_slice()) is not None:
            try:
                await self._run_slice(sl)
            finally:
                await self._finish(sl)

    # -- one slice -----------------------------------------------------------------------------

    async def _page(self, sl: _Slice, chain: _Chain) -> SearchPage:
        """One page of `chain`, within what is left of the fetch's deadline (raises TimeoutError)."""
        request = self.client.search_page(
            self.query,
            sl.window,
            cursor=chain.cursor,
            limit=self.limit,
            sort=chain.sort,
            report=self._report_wait,
            what=f"{chain.page_name} {chain.page_no} of {sl.label}",
        )
        if self._deadline is None:
            return await request
        remaining = self._deadline - asyncio.get_running_loop().time()
        if remaining <= 0 or self._deadline_hit:
            request.close()  # never awaited: no warning about it
            raise TimeoutError
        async with asyncio.timeout(remaining):
            return await request

    def _hit_deadline(self, sl: _Slice) -> None:
        sl.state = "failed"
        if self._deadline_hit:
            return
        self._deadline_hit = True
        limit = seconds_text(self._deadline_s or 0)
        exc = Timeout(
            f"no complete answer from {self.client.host} within the deadline of {limit}",
            reason=f"deadline of {limit} reached",
            hint="narrow the window or the query, or raise the deadline (DDAUDIT_DEADLINE)",
        )
        self._failures.append((sl, exc))
        self._warnings.append(
            (
                0,
                0,
                f"stopped at the deadline of {limit} (DDAUDIT_DEADLINE): every event fetched by then is "
                "kept: results are incomplete",
            )
        )

    async def _run_slice(self, sl: _Slice) -> None:
        """Page `sl` in rounds: each round asks the next page of every running chain at once (newest
        first, and oldest first when the slice is two-ended), then decides whether the slice is done."""
        newest = _Chain(ascending=False)
        oldest = _Chain(ascending=True) if sl.two_ended else None
        if oldest is not None and not sl.dense:
            # Until a full page shows the slice holds more than one: a slice of one page or none (a
            # sparse search, a watch poll) costs the requests it did before, not one more.
            oldest.state = "waiting"
        chains = [newest] if oldest is None else [newest, oldest]
        while True:
            if self._cutoff is not None and sl.frontier <= self._cutoff:
                sl.state = "pruned"
                self._pruned = True
                return
            # Once `max_events` are fetched only the newest count: the oldest-first chain stops.
            active = [
                c for c in chains if c.state == "running" and not (c.ascending and self._cutoff is not None)
            ]
            if oldest in active and self._gap_fits_one_page(newest, oldest):  # type: ignore[arg-type]
                active.remove(oldest)  # type: ignore[arg-type]
            for chain in active:
                chain.page_no += 1
            answers = await asyncio.gather(*(self._page(sl, c) for c in active), return_exceptions=True)
            failed: tuple[_Chain, DatadogError] | None = None
            deadline = False
            for chain, answer in zip(active, answers, strict=True):
                if isinstance(answer, AuthError):
                    raise answer
                if isinstance(answer, TimeoutError):
                    deadline = True
                elif isinstance(answer, DatadogError):
                    failed = failed or (chain, answer)
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    # Every page that came is kept, whatever happened to the other chain's.
                    self._take_page(sl, chain, answer)
            self._report()
            # Covered first: the pages that came may complete the slice whatever the other one did.
            # A chain without a cursor has paged the whole slice on its own; two chains that met have
            # it between them.
            if any(c.state == "end" for c in chains) or (oldest is not None and self._met(newest, oldest)):
                sl.state = "done"
                sl.frontier = sl.window.start
                return
            if deadline:
                self._hit_deadline(sl)
                return
            if failed is not None:
                self._fail(sl, *failed, oldest=oldest, newest=newest)
                return
            if any(c.state == "stopped" for c in chains):
                sl.state = "done"  # the chain said why, in one warning
                return
            both_full = newest.last_full and (oldest is None or oldest.state != "running" or oldest.last_full)
            if both_full and await self._maybe_split(sl, newest, oldest):
                return
            if oldest is not None and oldest.state == "waiting" and newest.last_full:
                oldest.state = "running"

    def _gap_fits_one_page(self, newest: _Chain, oldest: _Chain) -> bool:
        """Whether what lies between the chains looks like less than one page (`GAP_ALONE` of one).

        Then newest first alone asks its next page, and it should reach past the oldest-first chain's
        edge: asking both would decode up to two pages for what one holds (the overlap of the meeting
        round, a third more decoding at 8 slices over the demo org). If the estimate was short, the next
        round asks both again. Estimated at the denser of both chains' last pages, when both were full
        (the sparser one may hold days of quiet before a burst).
        """
        if not (newest.last_full and oldest.last_full and newest.ordered and oldest.ordered):
            return False
        if newest.last_page is None or oldest.last_page is None or newest.edge is None or oldest.edge is None:
            return False
        span = min(newest.last_page[1] - newest.last_page[0], oldest.last_page[1] - oldest.last_page[0])
        if span <= 0:
            return False  # a page of one millisecond: no density to go by
        gap = (newest.edge - oldest.edge) * self.limit / span
        return gap <= GAP_ALONE * self.limit

    def _met(self, newest: _Chain, oldest: _Chain) -> bool:
        """Whether the two chains of a slice have fetched all of it between them.

        Newest first has every event newer than its oldest (`newest.edge`), oldest first every event older
        than its newest (`oldest.edge`). When `newest.edge < oldest.edge` those cover every time. When the
        two edges are the same millisecond they do not: events of that millisecond may be in neither page
        (their order among themselves is the server's, which this does not assume either way; nor does it
        stop on an id both chains returned). Then the oldest-first chain stops and newest first goes on
        alone, through that millisecond, until it is past it (or at its end). Only chains whose every
        page came in its sort order are trusted: a server that ignored `sort` is paged newest first only.
        """
        if not (newest.ordered and oldest.ordered):
            if oldest.state in ("running", "waiting"):
                oldest.state = "dropped"  # the edges bound nothing: newest first alone, to its end
            if not oldest.ordered:
                self._two_ended = False  # this server does not sort ascending: no more two-ended slices
            return False
        if newest.edge is None or oldest.edge is None:
            return False
        if newest.edge < oldest.edge:
            return True
        if newest.edge == oldest.edge and oldest.state == "running":
            oldest.state = "met"
        return False

    def _take_page(self, sl: _Slice, chain: _Chain, page: SearchPage) -> None:
        """Merge one page of `chain` and decide whether the chain goes on (`chain.state`)."""
        self.pages += 1
        sl.pages += 1
        events = page.events
        page_no = chain.page_no
        progress = any(e.id not in chain.ids for e in events)
        chain.ids.update(e.id for e in events)
        if events:
            stamps = [e.ts for e in events]
            low, high = min(stamps), max(stamps)
            reached = high if chain.ascending else low
            # Each page should reach further in the chain's direction. Not always (events share
            # milliseconds), but page after page without that is a server paging for ever.
            if page_no > 1 and chain.edge is not None:
                further = reached > chain.edge if chain.ascending else reached < chain.edge
                chain.stalled = 0 if further else chain.stalled + 1
            # In its sort order, within the page and after the pages before: only then is the chain's
            # edge a bound (see `_met`).
            if chain.ascending:
                in_order = all(a <= b for a, b in zip(stamps, stamps[1:], strict=False)) and (
                    chain.edge is None or low >= chain.edge
                )
            else:
                in_order = all(a >= b for a, b in zip(stamps, stamps[1:], strict=False)) and (
                    chain.edge is None or high <= chain.edge
                )
            chain.ordered = chain.ordered and in_order
            if chain.edge is None:
                chain.edge = reached
            else:
                chain.edge = max(chain.edge, reached) if chain.ascending else min(chain.edge, reached)
        chain.last_full = len(events) >= self.limit
        chain.last_page = (low, high) if events else None
        self._add_events(sl, events, ascending=chain.ascending)
        where = f"{chain.page_name} {page_no} of {sl.label}"
        # Repeated per page, these are reported once each, with a count of the other pages.
        if page.timed_out:
            self._meta_warnings.setdefault("\0timeout", []).append(
                (
                    -sl.window.end,
                    page_no,
                    f"{where}: server timed out (meta.status=timeout): results may be incomplete",
                )
            )
            self._meta_reasons.setdefault("\0timeout", []).append(
                (
                    -sl.window.end,
                    page_no,
                    f"server timeout (meta.status: timeout) on {chain.page_name} {page_no}",
                )
            )
        for text in page.warnings:
            self._meta_warnings.setdefault(text, []).append(
                (-sl.window.end, page_no, f"{where}: Datadog warning: {text}: results may be incomplete")
            )
            self._meta_reasons.setdefault(text, []).append(
                (-sl.window.end, page_no, f"Datadog warning on {chain.page_name} {page_no}: {text}")
            )

        # datadog-api.md §1.9: a missing cursor is the end — never a short page, nor an empty one that
        # still has a cursor (the server may skip an index and go on).
        if not page.cursor:
            if page.next_unfollowable:
                chain.state = "stopped"
                self._warn(
                    sl,
                    page_no,
                    f"{where}: Datadog linked a next page (links.next) without a cursor to follow; "
                    "stopped paging this slice: results may be incomplete",
                )
                return
            chain.state = "end"
            return
        if page.cursor in chain.seen_cursors:
            chain.state = "stopped"
            self._warn(
                sl,
                page_no,
                f"{where}: Datadog returned a cursor it had already returned; stopped paging this "
                "slice: results may be incomplete",
            )
            return
        if events and not progress:
            chain.state = "stopped"
            self._warn(
                sl,
                page_no,
                f"{where}: Datadog returned only events this slice already had, with a new cursor (no "
                "progress); stopped paging this slice: results may be incomplete",
            )
            return
        if chain.stalled >= MAX_STALLED_PAGES:
            chain.state = "stopped"
            direction = "newer" if chain.ascending else "older"
            self._warn(
                sl,
                page_no,
                f"{where}: Datadog returned no event {direction} than those already fetched (time not "
                "advancing); stopped paging this slice: results may be incomplete",
            )
            return
        chain.empty_pages = 0 if events else chain.empty_pages + 1
        if chain.empty_pages >= MAX_EMPTY_PAGES:
            chain.state = "stopped"
            self._warn(
                sl,
                page_no,
                f"{where}: {chain.empty_pages} empty pages in a row, each with a new cursor; stopped paging "
                "this slice: results may be incomplete",
            )
            return
        chain.seen_cursors.add(page.cursor)
        chain.cursor = page.cursor

    def _fail(
        self, sl: _Slice, chain: _Chain, exc: DatadogError, *, oldest: _Chain | None, newest: _Chain
    ) -> None:
        sl.state = "failed"
        self._failures.append((sl, exc))
        retries = ""
        if exc.retries:
            retries = f" after {exc.retries} {'retry' if exc.retries == 1 else 'retries'}"
        text = f"{sl.label} failed{retries}: {exc.reason}; {plural(sl.events, 'event')} from it kept"
        if oldest is not None and oldest.edge is not None and oldest.ordered:
            # Both ends were paged: what is missing is exactly what lies between them.
            low = oldest.edge
            high = newest.edge if newest.edge is not None else sl.window.end
            text += f"; those from {short_iso(low)} to {short_iso(high)} were not fetched"
        self._warn(sl, chain.page_no, text)

    async def _maybe_split(self, sl: _Slice, newest: _Chain, oldest: _Chain | None) -> bool:
        """Hand the rest of `sl` to idle workers when it looks like more than one more page."""
        if self._idle == 0 or self._cutoff is not None or len(self._slices) >= MAX_SLICES:
            return False
        if newest.last_page is None:
            return False
        start, end = sl.window.start, sl.window.end

        def span(page: tuple[int, int]) -> tuple[int, int]:
            # Clamped: a server answering outside the requested range must not make an inverted window.
            return max(page[0], start), min(page[1], end - 1)

        low, high = span(newest.last_page)
        page_span: float = high - low
        bottom = start
        two = (
            oldest is not None and oldest.state in ("running", "met") and oldest.ordered and oldest.last_page
        )
        if two:
            # What neither chain has yet lies between the newest-first chain's last page and the
            # oldest-first one's (each edge included: that millisecond may hold more events), at the
            # denser page's density (a burst next to quiet days must be split, not averaged away).
            a_low, a_high = span(oldest.last_page)  # type: ignore[union-attr, arg-type]
            bottom = a_high
            page_span = min(page_span, a_high - a_low) if page_span > 0 and a_high > a_low else 0
        if page_span <= 0 or low - bottom < MIN_SPLIT_MS:
            return False
        rest = Window(bottom, low + 1)
        pages_left = rest.duration_ms / page_span  # the pages' density, extrapolated
        parts = min(self._idle + 1, int(pages_left), MAX_SLICES - len(self._slices))
        if parts < 2:
            return False
        sl.state = "split"
        if not two:
            sl.window = Window(rest.end - 1, sl.window.end)  # what this slice itself ended up covering
        sl.frontier = sl.window.start
        await self._split(split_by_density(rest, max(1, round(page_span)), parts))
        return True

    # -- merging -------------------------------------------------------------------------------

    def _add_events(self, sl: _Slice, events: list[Event], *, ascending: bool = False) -> None:
        cap = self.max_events
        seen = self._seen
        start, end = self.window.start, self.window.end
        # Oldest first, they are merged in reverse at the end (`_result`): among events sharing a
        # millisecond, the order is then the API's newest-first one, as serial paging gives.
        into = self._oldest_first if ascending else self._events
        for ev in events:
            # Outside the window: an inclusive `to` on the server's side, or a server bug. Files are
            # filtered the same way, so both sources agree on what a window holds.
            if ev.id in seen or not start <= ev.ts < end:
                continue
            seen.add(ev.id)
            into.append(ev)
            sl.events += 1
            if cap is not None:
                if len(self._newest_ts) < cap:
                    heapq.heappush(self._newest_ts, ev.ts)
                else:
                    heapq.heappushpop(self._newest_ts, ev.ts)
        if events and not ascending:
            sl.frontier = min(sl.frontier, min(e.ts for e in events))
        if cap is not None and len(self._newest_ts) >= cap:
            self._cutoff = self._newest_ts[0]

    # -- reporting -----------------------------------------------------------------------------

    def _warn(self, sl: _Slice, page_no: int, text: str) -> None:
        self._warnings.append((-sl.window.end, page_no, text))
        # The short form: which slice is in the warning; what happened is enough for a reason.
        short = text.replace(f" of {sl.label}", "").replace(sl.label, "a slice")
        short = short.removesuffix(": results may be incomplete")
        self._reasons.append((-sl.window.end, page_no, short))

    def _report(self) -> None:
        if self._progress_cb is None:
            return
        self._progress.events = len(self._events) + len(self._oldest_first)
        self._progress.pages = self.pages
        # A copy: a receiver may keep it (or hand it to another thread) while the fetch goes on.
        self._progress_cb(dataclasses.replace(self._progress))

    def _report_wait(self, seconds: float, message: str) -> None:
        self._progress.waiting_s = seconds
        self._progress.message = message
        self._report()
