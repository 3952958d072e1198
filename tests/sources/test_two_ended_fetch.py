"""Two-ended slices (issue 16, item 4): each time slice is paged from both ends at once — `-timestamp`
and `timestamp`, each with its own cursor — and both chains stop when they meet.

The result must be exactly the one serial page-by-page paging gives: the same ids, in the order the
merge defines (newest first; events sharing a millisecond in the API's newest-first order), none lost
and none twice — also when events sharing a millisecond straddle the meeting point. Every test talks to a
scripted endpoint in memory (no timing), or to the demo org through the fake Datadog API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fake_time import FakeTime

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.datadog_fetch import FetchRun, describe_window, short_iso
from ddaudit_tui.timeutil import Window, iso, parse_instant

API_KEY = "0123456789abcdef0123456789abcdef"
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"
DAY = 86_400_000
END = parse_instant("2026-08-01T00:00:00Z")
WINDOW_2D = Window(END - 2 * DAY, END)  # two up-front slices at concurrency 2: one per day
DAY1, DAY2 = WINDOW_2D.split(2)
LIMIT = 5


def item(event_id: str, ts: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "audit",
        "attributes": {
            "attributes": {"evt": {"name": "Request"}},
            "message": "m",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


class SortedSearch:
    """The audit search over events in memory, as Datadog pages it: `filter.from/to` half-open, `sort`
    `-timestamp` or `timestamp` (events sharing a millisecond ordered by id: ascending one way, the exact
    reverse the other — or, with `ties="same"`, by ascending id both ways), a cursor on every page with
    events (a short page too), and `{"data": []}` at the end. `fault(body)` may answer instead."""

    def __init__(
        self,
        events: list[tuple[str, int]],
        fault: Callable[[dict], httpx.Response | None] | None = None,
        ties: str = "reversed",
        honour_sort: bool = True,
        newest_first_shuffled: bool = False,
    ) -> None:
        self.events = sorted(events, key=lambda e: (e[1], e[0]))
        self.fault = fault
        self.ties = ties
        self.honour_sort = honour_sort
        self.newest_first_shuffled = newest_first_shuffled
        self.bodies: list[dict[str, Any]] = []

    def ordered(self, frm: int, to: int, sort: str) -> list[tuple[str, int]]:
        inside = [e for e in self.events if frm <= e[1] < to]
        if sort == "timestamp" and self.honour_sort:
            return inside
        if self.ties == "same":
            return sorted(inside, key=lambda e: (-e[1], e[0]))
        return inside[::-1]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # a round trip lets the other requests go
        body = json.loads(request.content)
        self.bodies.append(body)
        if self.fault is not None and (injected := self.fault(body)) is not None:
            return injected
        frm, to = parse_instant(body["filter"]["from"]), parse_instant(body["filter"]["to"])
        offset = int(body["page"].get("cursor", "c0")[1:])
        chunk = self.ordered(frm, to, body["sort"])[offset : offset + body["page"]["limit"]]
        if self.newest_first_shuffled and body["sort"] == "-timestamp":
            chunk = chunk[1::2] + chunk[::2]  # the right events, not in their order
        if not chunk:
            return httpx.Response(200, json={"data": []})
        data = {
            "data": [item(i, ts) for i, ts in chunk],
            "meta": {"page": {"after": f"c{offset + len(chunk)}"}},
        }
        return httpx.Response(200, json=data)

    def requests_in(self, window: Window) -> list[dict[str, Any]]:
        return [
            b
            for b in self.bodies
            if (parse_instant(b["filter"]["from"]), parse_instant(b["filter"]["to"]))
            == (window.start, window.end)
        ]


def client_for(handler: Callable, concurrency: int, **kwargs: Any) -> DatadogClient:
    clock = FakeTime()
    return DatadogClient(
        Credentials(api_key=API_KEY, app_key=APP_KEY),
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock.clock,
        concurrency=concurrency,
        page_limit=kwargs.pop("page_limit", LIMIT),
        retention_days=None,
        **kwargs,
    )


async def fetch(events: list[tuple[str, int]], concurrency: int, window: Window = WINDOW_2D, **kw: Any):
    search = SortedSearch(
        events, **{k: kw.pop(k) for k in ("fault", "ties", "honour_sort", "newest_first_shuffled") if k in kw}
    )
    async with client_for(search, concurrency, **kw) as client:
        result = await client.fetch("*", window)
    return result, search


def mirrored(offsets: list[int], prefix: str = "e") -> list[tuple[str, int]]:
    """The same events (by offset from the day's start) in both days: both slices are the same work, so no
    worker is ever idle while the other pages (no splitting) and the requests per slice are exact."""
    return [
        (f"{prefix}{day}-{n:03d}", w.start + off)
        for day, w in enumerate((DAY1, DAY2))
        for n, off in enumerate(offsets)
    ]


def ids(result: FetchResult) -> list[str]:
    return [e.id for e in result.events]


# -- the same events as serial paging --------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "requests_per_slice"),
    [
        (0, 1),  # no full page: the slice stays newest first (a sparse search costs what it did)
        (1, 2),  # a short page with a cursor, then the empty end
        (2, 2),
        (LIMIT, 3),  # exactly one page: full, so the oldest-first chain starts beside the empty end
        (2 * LIMIT, 3),  # round 2: newest first's page 2 and oldest first's page 1 overlap
        (2 * LIMIT + 1, 3),
        # Page-aligned: round 2 leaves the chains adjacent; the gap looks smaller than a page, so round 3
        # is newest first alone, and it proves they met.
        (3 * LIMIT, 4),
        (4 * LIMIT + 3, 5),
    ],
)
async def test_same_events_and_order_as_serial_with_exact_request_counts(
    count: int, requests_per_slice: int
) -> None:
    events = mirrored([3_600_000 + 60_000 * i for i in range(count)])
    serial, serial_search = await fetch(events, concurrency=1)
    both, search = await fetch(events, concurrency=2)
    assert ids(both) == ids(serial) and len(ids(both)) == 2 * count
    assert both.complete and both.warnings == []
    for day in (DAY1, DAY2):
        bodies = search.requests_in(day)
        assert len(bodies) == requests_per_slice
        two_ended = count >= LIMIT
        assert {b["sort"] for b in bodies} == ({"-timestamp", "timestamp"} if two_ended else {"-timestamp"})
        # Each chain repeats its own filter, sort and limit, and follows its own cursors.
        for sort in ("-timestamp", "timestamp"):
            chain = [b for b in bodies if b["sort"] == sort]
            if chain:
                assert "cursor" not in chain[0]["page"]
                assert [b["page"].get("cursor") for b in chain[1:]] == [
                    f"c{min(LIMIT * k, count)}" for k in range(1, len(chain))
                ]
    assert both.pages == len(search.bodies) == both.completeness.requests
    assert serial.completeness.requests == len(serial_search.bodies)


async def test_no_short_and_no_empty_page_at_the_end_of_a_slice() -> None:
    # 37 events a slice, pages of 5: newest first alone needs 8 pages and the empty one; with the
    # oldest-first chain from round 2, the chains meet in round 5 (newest first alone: the gap looked
    # smaller than a page), on full pages only.
    events = mirrored([1000 * i + 17 for i in range(37)])
    both, search = await fetch(events, concurrency=2)
    assert both.complete and len(both.events) == 74
    for body in search.bodies:
        frm, to = parse_instant(body["filter"]["from"]), parse_instant(body["filter"]["to"])
        assert sum(1 for _, ts in events if frm <= ts < to) == 37  # no split: each body is one day
    assert len(search.bodies) == 2 * 8  # 5 newest-first pages and 3 oldest-first ones, per slice
    serial, serial_search = await fetch(events, concurrency=1)
    assert len(serial_search.bodies) == 16  # 15 pages (the last one short) and the empty end
    assert ids(both) == ids(serial)


# -- equal timestamps at the meeting point -----------------------------------------------------------


async def test_events_sharing_the_meeting_millisecond_are_neither_lost_nor_doubled() -> None:
    # 12 events, 6 of them (ranks 4–9 newest first) in one millisecond: after round 1 the newest-first
    # chain's oldest and the oldest-first chain's newest are that same millisecond — not yet met (`<`,
    # not `<=`): some events of that millisecond may be in neither page.
    t = 5 * 3_600_000
    offsets = [t + 9_000, t + 8_000, t + 7_000] + [t] * 6 + [t - 1_000, t - 2_000, t - 3_000]
    events = mirrored(offsets)
    serial, _ = await fetch(events, concurrency=1)
    both, search = await fetch(events, concurrency=2)
    assert ids(both) == ids(serial)
    assert len(ids(both)) == len(set(ids(both))) == 24
    # Round 1 both chains, then the newest-first chain alone until it is past that millisecond.
    assert len(search.requests_in(DAY1)) == 3 and both.complete


async def test_a_slice_whose_events_all_share_one_millisecond() -> None:
    events = mirrored([7_200_000] * 13)
    serial, _ = await fetch(events, concurrency=1)
    both, search = await fetch(events, concurrency=2)
    assert ids(both) == ids(serial) and len(set(ids(both))) == 26 and both.complete
    # The chains never get past each other: newest-first pages to the end (5, 5, 3, empty).
    day1 = search.requests_in(DAY1)
    assert len([b for b in day1 if b["sort"] == "-timestamp"]) == 4
    assert len([b for b in day1 if b["sort"] == "timestamp"]) == 1


async def test_a_server_ordering_ties_the_same_way_in_both_directions_loses_nothing() -> None:
    # If ties were not reversed by `sort: timestamp`, stopping on a shared event id would lose the
    # middle of a millisecond: the chains must only trust timestamps.
    events = mirrored([3_600_000] * 4 + [3_600_001] * 7 + [3_600_002] * 4)
    both, _ = await fetch(events, concurrency=2, ties="same")
    serial, _ = await fetch(events, concurrency=1, ties="same")
    assert sorted(ids(both)) == sorted(ids(serial)) and len(ids(both)) == len(set(ids(both))) == 30
    assert [e.ts for e in both.events] == [e.ts for e in serial.events]


async def test_a_server_ignoring_sort_falls_back_to_newest_first_paging() -> None:
    # A gateway that answers `sort: timestamp` newest first would make the chains "meet" at once: the
    # oldest-first chain's page must be seen to be ascending before it is trusted.
    events = mirrored([1000 * i for i in range(23)])
    both, search = await fetch(events, concurrency=2, honour_sort=False)
    serial, _ = await fetch(events, concurrency=1)
    assert ids(both) == ids(serial) and both.complete


async def test_newest_first_pages_out_of_order_leave_the_slice_to_newest_first_alone() -> None:
    events = mirrored([1000 * i for i in range(33)])
    both, search = await fetch(events, concurrency=2, newest_first_shuffled=True)
    assert sorted(ids(both)) == sorted(i for i, _ in events) and both.complete
    for day in (DAY1, DAY2):
        bodies = search.requests_in(day)
        # The disorder shows on page 1: oldest first never starts; newest first pages the slice to its
        # end (7 pages and the empty one), as before two-ended slices.
        assert [b["sort"] for b in bodies].count("timestamp") == 0
        assert [b["sort"] for b in bodies].count("-timestamp") == 8


# -- the demo org -------------------------------------------------------------------------------------


async def test_the_demo_org_two_ended_equals_serial_in_no_more_requests_than_newest_first_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    end = 1_785_525_780_000
    items = generate(seed=7, events=6_000, end_ms=end)
    fake = FakeDatadog(items)
    window = Window(end - 90 * DAY, end + 1)

    async def run(concurrency: int, two_ended: bool = True) -> FetchResult:
        monkeypatch.setattr(FetchRun, "two_ended", two_ended)
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=fake,
            concurrency=concurrency,
            page_limit=200,
            retention_days=None,
        )
        async with client:
            return await client.fetch("*", window)

    serial = await run(1)
    fake.requests.clear()
    both = await run(8)
    assert len(serial.events) == len(items)
    assert ids(both) == ids(serial) and both.complete
    assert {r.json()["sort"] for r in fake.requests if r.path.endswith("/search")} == {
        "timestamp",
        "-timestamp",
    }
    newest_first = await run(8, two_ended=False)
    assert ids(newest_first) == ids(serial)
    # Serial: every page (the last one short, or full) and then the empty end.
    assert serial.completeness.requests == -(-len(items) // 200) + 1
    assert both.completeness.requests <= newest_first.completeness.requests
    assert both.completeness.requests == both.pages


# -- partial results -----------------------------------------------------------------------------------


async def test_an_error_mid_chain_keeps_what_was_fetched_and_says_what_is_missing() -> None:
    # Day 1: 23 events; the oldest-first chain's second page fails for good (after 5 retries).
    offsets = [3_600_000 + 60_000 * i for i in range(23)]
    events = [(f"a{n:02d}", DAY1.start + off) for n, off in enumerate(offsets)]
    events += [(f"b{n:02d}", DAY2.start + off) for n, off in enumerate(offsets)]

    def fault(body: dict) -> httpx.Response | None:
        first_day = parse_instant(body["filter"]["from"]) == DAY1.start
        if first_day and body["sort"] == "timestamp" and "cursor" in body["page"]:
            return httpx.Response(503, json={"errors": ["Service Unavailable"]})
        return None

    result, search = await fetch(events, concurrency=2, fault=fault)
    assert not result.complete
    got = set(ids(result))
    # Day 2 whole; day 1: newest-first pages 1–3 (page 3 came in the failing round) and oldest-first
    # page 1. Missing: what lies between the two chains' edges.
    newest_first = sorted((e for e in events if e[0].startswith("a")), key=lambda e: -e[1])
    kept = newest_first[:15] + newest_first[-5:]
    assert got == {i for i, _ in events if i.startswith("b")} | {i for i, _ in kept}
    missing_from, missing_to = newest_first[-5][1], newest_first[14][1]
    assert result.warnings == [
        f"slice {describe_window(DAY1)} failed after 5 retries: 503 Service Unavailable; 20 events from it "
        f"kept; those from {short_iso(missing_from)} to {short_iso(missing_to)} were not fetched"
    ]
    # Every request counts: the failed one and its 5 retries too.
    assert result.completeness.requests == len(search.bodies)
    assert result.completeness.partial and result.completeness.events_fetched == len(got)
    assert any("failed after 5 retries" in r for r in result.completeness.reasons)


async def test_an_error_in_the_newest_first_chain_keeps_the_other_chains_page_of_that_round() -> None:
    offsets = [3_600_000 + 60_000 * i for i in range(23)]
    events = mirrored(offsets)

    def fault(body: dict) -> httpx.Response | None:
        day2 = parse_instant(body["filter"]["from"]) == DAY2.start
        if day2 and body["sort"] == "-timestamp" and "cursor" in body["page"]:
            return httpx.Response(500, json={"errors": ["Internal Server Error"]})
        return None

    result, _ = await fetch(events, concurrency=2, fault=fault, max_retries=1)
    day2 = sorted((e for e in events if DAY2.contains(e[1])), key=lambda e: -e[1])
    assert not result.complete
    kept = day2[:LIMIT] + day2[-LIMIT:]
    assert set(ids(result)) == {i for i, ts in events if DAY1.contains(ts)} | {i for i, _ in kept}
    assert result.warnings == [
        f"slice {describe_window(DAY2)} failed after 1 retry: 500 Internal Server Error; 10 events from it "
        f"kept; those from {short_iso(day2[-LIMIT][1])} to {short_iso(day2[LIMIT - 1][1])} were not fetched"
    ]


async def test_an_error_before_the_oldest_first_chain_started_reads_as_before() -> None:
    events = mirrored([3_600_000 + 60_000 * i for i in range(3)])

    def fault(body: dict) -> httpx.Response | None:
        if parse_instant(body["filter"]["from"]) == DAY2.start:
            return httpx.Response(500, json={"errors": ["Internal Server Error"]})
        return None

    result, _ = await fetch(events, concurrency=2, fault=fault, max_retries=1)
    assert result.warnings == [
        f"slice {describe_window(DAY2)} failed after 1 retry: 500 Internal Server Error; 0 events from it kept"
    ]


# -- when a slice stays one-ended ----------------------------------------------------------------------


async def test_a_short_window_is_one_request_when_it_holds_nothing() -> None:
    # A watch poll: one slice, one page.
    window = Window(END - 60_000, END)
    result, search = await fetch([], concurrency=8, window=window)
    assert len(search.bodies) == 1 and result.complete


async def test_concurrency_one_stays_newest_first_only() -> None:
    _, search = await fetch(mirrored([1000 * i for i in range(12)]), concurrency=1)
    assert {b["sort"] for b in search.bodies} == {"-timestamp"}


async def test_with_an_event_cap_the_newest_come_first_and_exactly() -> None:
    events = mirrored([60_000 * i for i in range(40)])
    result, search = await fetch(events, concurrency=2, max_events=12)
    newest = [i for i, _ in sorted(events, key=lambda e: (-e[1], e[0]))][:12]
    assert sorted(ids(result)) == sorted(newest) and not result.complete
    assert [e.ts for e in result.events] == sorted((e.ts for e in result.events), reverse=True)
