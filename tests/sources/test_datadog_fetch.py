"""DatadogClient.fetch: paging rules, time slices, retries, partial results, caps, progress.

Every test talks to a scripted `httpx.MockTransport`; sleeps are recorded, never slept, and the clock is
fake, so nothing here depends on wall-clock timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_time import FakeTime

from ddaudit_tui.sources.base import Progress
from ddaudit_tui.sources.datadog import (
    AuthError,
    BadRequest,
    Credentials,
    DatadogClient,
    DatadogError,
    NotFound,
    ServerError,
)
from ddaudit_tui.sources.datadog_fetch import describe_window, short_iso
from ddaudit_tui.timeutil import Window, iso, parse_instant

REF = Path(__file__).parent.parent / "fixtures" / "reference"
API_KEY = "0123456789abcdef0123456789abcdef"
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"
DAY = 86_400_000
END = parse_instant("2026-08-01T00:00:00Z")
WINDOW_90D = Window(END - 90 * DAY, END)
WINDOW_1H = Window(parse_instant("2022-04-13T09:00:00Z"), parse_instant("2022-04-13T10:00:00Z"))
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def item(event_id: str, ts: int, **inner: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "audit",
        "attributes": {
            "attributes": {"evt": {"name": "Request"}, **inner},
            "message": "m",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def page(items: list[dict[str, Any]], after: str | None = None, **meta: Any) -> httpx.Response:
    body: dict[str, Any] = {"data": items}
    if after is not None or meta:
        body["meta"] = dict(meta)
        if after is not None:
            body["meta"]["page"] = {"after": after}
    return httpx.Response(200, json=body)


class MiniSearch:
    """A small search endpoint over events in memory, for slicing tests.

    Honours filter.from/to (as a half-open range), `-timestamp` and `timestamp`, page.limit and its own
    cursors; like the real API, a short page still carries a cursor and the last page is `{"data": []}`.
    `fault(body)` may return a response to send instead (to inject errors per slice or page).
    """

    def __init__(
        self, events: list[tuple[str, int]], fault: Callable[[dict], httpx.Response | None] | None = None
    ):
        self.events = sorted(events, key=lambda e: (e[1], e[0]), reverse=True)
        self.fault = fault
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # a network round trip yields to the other slices
        body = json.loads(request.content)
        self.bodies.append(body)
        self.headers.append(request.headers)
        if self.fault is not None and (injected := self.fault(body)) is not None:
            return injected
        frm = parse_instant(body["filter"]["from"])
        to = parse_instant(body["filter"]["to"])
        limit = body["page"]["limit"]
        offset = int(body["page"].get("cursor", "c0")[1:])
        matching = [e for e in self.events if frm <= e[1] < to]
        if body["sort"] == "timestamp":
            matching.reverse()
        chunk = matching[offset : offset + limit]
        if not chunk:
            return httpx.Response(200, json={"data": []})
        return page([item(i, ts) for i, ts in chunk], after=f"c{offset + len(chunk)}")

    def slices(self) -> set[tuple[str, str]]:
        return {(b["filter"]["from"], b["filter"]["to"]) for b in self.bodies}


def spread(n: int, window: Window = WINDOW_90D, prefix: str = "e") -> list[tuple[str, int]]:
    step = window.duration_ms // n
    return [(f"{prefix}{i:05d}", window.start + step * i + 7) for i in range(n)]


def make_client(handler: Callable, fake_time: FakeTime | None = None, **kwargs: Any) -> DatadogClient:
    fake_time = fake_time or FakeTime()
    kwargs.setdefault("concurrency", 4)
    return DatadogClient(
        Credentials(api_key=API_KEY, app_key=APP_KEY),
        transport=httpx.MockTransport(handler),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        **kwargs,
    )


def recorded(n: int) -> bytes:
    return (REF / f"api_page_{n}.json").read_bytes()


# -- pagination rule (datadog-api.md §1.9) --------------------------------------------------------


async def test_short_page_with_cursor_continues_until_empty_page() -> None:
    # The recorded sequence: 2 events + cursor, 1 event (< limit) + cursor, then {"data": []}.
    bodies: list[dict] = []
    pages = [recorded(0), recorded(1), recorded(2)]

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(
            200, content=pages[len(bodies) - 1], headers={"content-type": "application/json"}
        )

    # One chain (concurrency 1): the rule is each chain's, and the recording is of one.
    async with make_client(handler, page_limit=2, concurrency=1) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert len(bodies) == 3
    assert [e.id for e in result.events][:1] == ["AQAAAYAiOhgURpZX3QAAAABBWUFpT2hudkFBQks5Nkl0TVJTV2RnQUE"]
    assert len(result.events) == 3 and result.complete and result.warnings == []
    assert "cursor" not in bodies[0]["page"]
    assert bodies[1]["page"]["cursor"] == json.loads(pages[0])["meta"]["page"]["after"]
    assert bodies[2]["page"]["cursor"] == json.loads(pages[1])["meta"]["page"]["after"]
    assert result.pages == 3


async def test_empty_last_page_and_missing_cursor_stop() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return page([item("a", WINDOW_1H.start + 5)])  # no meta at all: no cursor → done

    async with make_client(handler) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert calls == 1 and [e.id for e in result.events] == ["a"] and result.complete


async def test_repeated_cursor_stops_with_a_warning() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return page([item(f"id{calls}", WINDOW_1H.end - calls)], after="same-cursor")

    async with make_client(handler) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert calls == 2
    assert not result.complete
    assert len(result.warnings) == 1
    assert "page 2 of slice 2022-04-13T09:00Z→2022-04-13T10:00Z" in result.warnings[0]
    assert "cursor" in result.warnings[0] and "\n" not in result.warnings[0]


async def test_every_body_has_absolute_times_and_pages_repeat_filter_sort_limit() -> None:
    fake = MiniSearch(spread(400))
    async with make_client(fake, page_limit=50) as client:
        result = await client.fetch("@evt.name:Request", WINDOW_90D)
    assert len(result.events) == 400 and result.complete
    by_chain: dict[tuple[str, str, str], list[dict]] = {}
    for body in fake.bodies:
        assert set(body) == {"filter", "page", "sort"}  # no `options`
        assert ISO_MS.match(body["filter"]["from"]) and ISO_MS.match(body["filter"]["to"])
        assert "now" not in json.dumps(body["filter"])
        assert body["sort"] in ("-timestamp", "timestamp") and body["filter"]["query"] == "@evt.name:Request"
        by_chain.setdefault((body["filter"]["from"], body["filter"]["to"], body["sort"]), []).append(body)
    by_slice = {(f, t) for f, t, _ in by_chain}
    assert len(by_slice) >= 4
    # Each slice is paged from both ends (two-ended), each end with its own cursors.
    assert {(f, t) for f, t, sort in by_chain if sort == "timestamp"} == by_slice
    for bodies in by_chain.values():
        assert "cursor" not in bodies[0]["page"]
        assert all("cursor" in b["page"] for b in bodies[1:])
        assert all(b["filter"] == bodies[0]["filter"] and b["sort"] == bodies[0]["sort"] for b in bodies)
        assert all(b["page"]["limit"] == 50 for b in bodies)
    # Slices cover the window exactly: from the window's start to its end, edge to edge.
    starts = sorted(parse_instant(f) for f, _ in by_slice)
    ends = sorted(parse_instant(t) for _, t in by_slice)
    assert starts[0] == WINDOW_90D.start and ends[-1] == WINDOW_90D.end


async def test_results_are_newest_first_and_deduplicated_across_pages_and_slices() -> None:
    # The server repeats event "dup" in two slices and "again" on two pages of one slice.
    seen_slices: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        frm = parse_instant(body["filter"]["from"])
        cursor = body["page"].get("cursor")
        key = f"{frm}:{cursor}"
        seen_slices.append(key)
        if cursor is None:
            return page(
                [item("dup", END - DAY), item("again", frm + 10), item(f"only-{frm}", frm + 5)], after="p2"
            )
        if cursor == "p2":
            return page([item("again", frm + 10)], after="p3")
        return page([])

    async with make_client(handler) as client:
        result = await client.fetch("*", WINDOW_90D)
    ids = [e.id for e in result.events]
    assert len(ids) == len(set(ids))
    assert ids.count("dup") == 1 and ids.count("again") == 1
    assert [e.ts for e in result.events] == sorted((e.ts for e in result.events), reverse=True)
    assert sum(1 for i in ids if i.startswith("only-")) == 4  # one per initial slice


# -- slicing and concurrency ---------------------------------------------------------------------


async def test_slices_are_fetched_concurrently() -> None:
    in_flight = 0
    max_in_flight = 0
    all_in = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        if in_flight >= 4:
            all_in.set()
        # Every request waits until four are in flight at once; the timeout only guards a deadlock
        # (a serial client makes the test fail, not hang).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), timeout=2.0)
        in_flight -= 1
        return page([])

    async with make_client(handler, concurrency=4) as client:
        result = await client.fetch("*", WINDOW_90D)
    assert max_in_flight == 4
    assert all_in.is_set()
    assert result.complete and result.events == []


async def test_concurrency_one_pages_serially() -> None:
    in_flight = 0
    max_in_flight = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return page([])

    async with make_client(handler, concurrency=1) as client:
        await client.fetch("*", WINDOW_90D)
    assert max_in_flight == 1


async def test_short_window_is_one_slice() -> None:
    fake = MiniSearch(spread(3, WINDOW_1H))
    async with make_client(fake, concurrency=8) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert len(fake.slices()) == 1 and len(fake.bodies) == 2 and len(result.events) == 3


async def test_a_dense_slice_is_split_among_idle_workers() -> None:
    # One day (one up-front slice) with 600 events and pages of 50: the rest of the slice is handed to
    # the idle workers after the first full page.
    window = Window(END - DAY, END)
    events = spread(600, window)
    fake = MiniSearch(events)
    async with make_client(fake, concurrency=4, page_limit=50) as client:
        result = await client.fetch("*", window)
    assert len(fake.slices()) > 1
    assert sorted(e.id for e in result.events) == sorted(i for i, _ in events)
    assert result.complete and result.warnings == []
    # Each sub-slice still obeys the paging rule: fewer requests than serial paging would need is not
    # the point here; every event exactly once is.
    assert len(result.events) == 600


async def test_bursty_data_is_balanced_and_complete() -> None:
    # 90 days, nearly everything in the last two hours: equal up-front slices are very unequal work.
    burst = Window(END - 2 * 3_600_000, END)
    events = spread(20, WINDOW_90D, "base") + spread(900, burst, "burst")
    fake = MiniSearch(events)
    async with make_client(fake, concurrency=8, page_limit=50) as client:
        result = await client.fetch("*", WINDOW_90D)
    assert sorted(e.id for e in result.events) == sorted(i for i, _ in events)
    burst_slices = {s for s in fake.slices() if parse_instant(s[1]) > burst.start}
    assert len(burst_slices) > 1  # the burst was split


# -- partial results --------------------------------------------------------------------------------


async def test_failing_slice_keeps_other_slices_and_warns_with_its_bounds() -> None:
    slices = WINDOW_90D.split(4)
    bad = slices[1]
    events = spread(40)
    in_bad = sorted((e for e in events if bad.contains(e[1])), key=lambda e: -e[1])
    assert len(in_bad) == 10

    def fault(body: dict) -> httpx.Response | None:
        # The bad slice's newest-first chain answers page 1, then fails page 2 for good; its
        # oldest-first chain goes on answering.
        bad_slice = parse_instant(body["filter"]["from"]) == bad.start
        if bad_slice and body["sort"] == "-timestamp" and "cursor" in body["page"]:
            return httpx.Response(503, json={"errors": ["Service Unavailable"]})
        return None

    fake = MiniSearch(events, fault)
    fake_time = FakeTime()
    async with make_client(fake, fake_time, concurrency=4, page_limit=3) as client:
        result = await client.fetch("*", WINDOW_90D)
    assert not result.complete
    got = {e.id for e in result.events}
    # Kept: newest-first page 1 (ranks 1–3) and, from round 2 (page 1 was full), oldest-first page 1
    # (ranks 10–8): ranks 4–7 are missing, and the warning says where.
    assert got == {i for i, _ in events} - {i for i, _ in in_bad[3:7]}
    assert len(result.warnings) == 1
    expected = (
        f"slice {describe_window(bad)} failed after 5 retries: 503 Service Unavailable; "
        f"6 events from it kept; those from {short_iso(in_bad[7][1])} to {short_iso(in_bad[2][1])} were not "
        "fetched"
    )
    assert result.warnings[0] == expected
    assert describe_window(bad) == "2026-05-25T12:00Z→2026-06-17T00:00Z"
    assert fake_time.sleeps == [1, 2, 4, 8, 16]  # bounded exponential backoff


async def test_when_nothing_could_be_fetched_the_error_is_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    async with make_client(handler, max_retries=2) as client:
        with pytest.raises(ServerError) as info:
            await client.fetch("*", WINDOW_90D)
    assert "502 Bad Gateway" in str(info.value) and "after 2 retries" in str(info.value)


async def test_meta_status_timeout_and_warnings_mark_the_result_partial() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return page(
                [item("t1", WINDOW_1H.end - 10)],
                after="c1",
                status="timeout",
                warnings=[
                    {
                        "code": "unknown_index",
                        "detail": "indexes: foo, bar",
                        "title": "One or several indexes are missing or invalid",
                    }
                ],
            )
        return page([])

    async with make_client(handler) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert [e.id for e in result.events] == ["t1"]
    assert not result.complete
    assert result.warnings[0] == (
        "page 1 of slice 2022-04-13T09:00Z→2022-04-13T10:00Z: server timed out (meta.status=timeout): "
        "results may be incomplete"
    )
    assert "One or several indexes are missing or invalid" in result.warnings[1]
    assert "unknown_index" in result.warnings[1]


async def test_truncated_body_is_retried_as_a_transient_fault() -> None:
    full = recorded(0)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(
                200, content=full[: len(full) // 2], headers={"content-type": "application/json"}
            )
        if calls == 2:
            return httpx.Response(200, content=full, headers={"content-type": "application/json"})
        return page([])

    fake_time = FakeTime()
    async with make_client(handler, fake_time, page_limit=2, concurrency=1) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert calls == 3 and len(result.events) == 2 and result.complete
    assert fake_time.sleeps == [1]


async def test_always_truncated_slice_gives_up_with_a_warning() -> None:
    slices = WINDOW_90D.split(4)

    def fault(body: dict) -> httpx.Response | None:
        if parse_instant(body["filter"]["from"]) == slices[0].start:
            return httpx.Response(
                200, content=b'{"data":[{"id":"x","attrib', headers={"content-type": "application/json"}
            )
        return None

    fake = MiniSearch(spread(8), fault)
    async with make_client(fake, max_retries=1) as client:
        result = await client.fetch("*", WINDOW_90D)
    assert not result.complete and len(result.warnings) == 1
    assert result.warnings[0].startswith(
        f"slice {describe_window(slices[0])} failed after 1 retry: unusable response body"
    )
    assert "truncated" in result.warnings[0]
    assert len(result.events) == 8 - sum(1 for _, ts in spread(8) if slices[0].contains(ts))


async def test_max_events_keeps_exactly_the_newest_and_warns() -> None:
    events = spread(200)
    fake = MiniSearch(events)
    async with make_client(fake, page_limit=7, max_events=25) as client:
        result = await client.fetch("*", WINDOW_90D)
    newest = [i for i, _ in sorted(events, key=lambda e: -e[1])[:25]]
    assert [e.id for e in result.events] == newest
    assert not result.complete
    assert result.warnings == [
        "showing 25 of more than 25 events (the newest): narrow the window or the query, or raise max_events"
    ]
    # Old slices stop early: far fewer pages than fetching all 200 events would take.
    assert len(fake.bodies) < 200 // 7


async def test_auth_error_in_one_slice_aborts_the_whole_fetch() -> None:
    slices = WINDOW_90D.split(4)

    def fault(body: dict) -> httpx.Response | None:
        if parse_instant(body["filter"]["from"]) == slices[2].start:
            return httpx.Response(403, json={"errors": ["Forbidden"]})
        return None

    async with make_client(MiniSearch(spread(12), fault)) as client:
        with pytest.raises(AuthError):
            await client.fetch("*", WINDOW_90D)


# -- retries and rate limits -------------------------------------------------------------------------


async def test_429_with_empty_body_waits_x_ratelimit_reset_then_retries_the_same_request() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 1:
            # The recorded 429: empty body, lowercase headers (datadog-api.md §1.12).
            return httpx.Response(
                429,
                content=b"",
                headers={
                    "content-type": "application/json",
                    "x-ratelimit-limit": "10",
                    "x-ratelimit-name": "logs_public_search_api",
                    "x-ratelimit-period": "10",
                    "x-ratelimit-remaining": "9",
                    "x-ratelimit-reset": "3",
                },
            )
        if len(bodies) == 2:
            return page([item("ok", WINDOW_1H.end - 1)], after="c1")
        return page([])

    fake_time = FakeTime()
    progress: list[Progress] = []
    async with make_client(handler, fake_time) as client:
        result = await client.fetch("*", WINDOW_1H, progress.append)
    assert [e.id for e in result.events] == ["ok"] and result.complete
    assert len(fake_time.sleeps) == 1
    assert 3.0 <= fake_time.sleeps[0] <= 3.5  # reset (3 s) plus jitter, not period (10 s)
    assert bodies[0] == bodies[1]  # the same request, same cursor (none)
    waits = [p for p in progress if p.waiting_s > 0]
    assert waits and re.fullmatch(r"rate limited, retrying in [34] s", waits[0].message)
    assert progress[-1].waiting_s == 0


async def test_429_without_headers_backs_off_exponentially() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 3:
            return httpx.Response(429)
        return page([])

    fake_time = FakeTime()
    async with make_client(handler, fake_time) as client:
        await client.fetch("*", WINDOW_1H)
    assert calls == 4
    assert [round(s) for s in fake_time.sleeps] == [1, 2, 4] or [int(s) for s in fake_time.sleeps] == [
        1,
        2,
        4,
    ]
    assert all(0 <= s - b <= 0.5 for s, b in zip(fake_time.sleeps, [1, 2, 4], strict=True))


async def test_remaining_zero_makes_the_next_request_wait_for_reset() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            response = page([item("a", WINDOW_1H.end - 1)], after="c1")
            response.headers["X-RateLimit-Remaining"] = "0"  # mixed case: read case-insensitively
            response.headers["X-RateLimit-Reset"] = "2"
            return response
        return page([])

    fake_time = FakeTime()
    async with make_client(handler, fake_time) as client:
        await client.fetch("*", WINDOW_1H)
    assert calls == 2 and len(fake_time.sleeps) == 1 and 2.0 <= fake_time.sleeps[0] <= 2.5


async def test_5xx_then_success_is_retried_with_progress() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(503, text="upstream down", headers={"content-type": "text/plain"})
        if calls == 2:
            return page([item("a", WINDOW_1H.end - 1)], after="c")
        return page([])

    fake_time = FakeTime()
    progress: list[Progress] = []
    async with make_client(handler, fake_time) as client:
        result = await client.fetch("*", WINDOW_1H, progress.append)
    assert calls == 3 and result.complete and fake_time.sleeps == [1]
    messages = [p.message for p in progress if p.message]
    assert messages == ["503 Service Unavailable (upstream down), retrying in 1 s (retry 1 of 5)"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (401, AuthError), (403, AuthError), (404, NotFound), (422, BadRequest)],
)
async def test_client_errors_are_not_retried(status: int, error: type[DatadogError]) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json={"errors": [{"status": str(status), "title": "Nope"}]})

    fake_time = FakeTime()
    async with make_client(handler, fake_time, site="datadoghq.eu") as client:
        with pytest.raises(error) as info:
            await client.fetch("*", WINDOW_1H)
    assert calls == 1 and fake_time.sleeps == []
    assert str(info.value).startswith(f"{status} ") and "(Nope)" in str(info.value)


async def test_403_is_an_auth_error_with_the_permission_and_site_hint() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(403, json={"errors": ["Forbidden"]})

    async with make_client(handler, site="datadoghq.eu") as client:
        with pytest.raises(AuthError) as info:
            await client.fetch("*", WINDOW_1H)
    assert calls == 1
    assert str(info.value) == (
        "403 Forbidden from api.datadoghq.eu: the application key lacks audit_logs_read, "
        "or the keys belong to another Datadog site (DD_SITE=datadoghq.eu)"
    )
    assert info.value.status == 403 and "audit_logs_read" in info.value.hint


async def test_progress_reports_increasing_counts() -> None:
    fake = MiniSearch(spread(300))
    progress: list[Progress] = []
    async with make_client(fake, page_limit=20) as client:
        result = await client.fetch("*", WINDOW_90D, progress.append)
    counts = [p.events for p in progress]
    pages = [p.pages for p in progress]
    assert counts == sorted(counts) and pages == sorted(pages)
    assert counts[-1] == 300 == len(result.events)
    assert progress[-1].slices_done == progress[-1].slices_total
    assert len({id(p) for p in progress}) == len(progress)  # copies, safe to keep


async def test_events_outside_the_window_are_dropped_and_never_break_splitting() -> None:
    # A server with an inclusive `to` (or a bug) returns events at or beyond the edges, on full pages.
    window = Window(END - DAY, END)
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls > 20:
            return page([])
        body = json.loads(request.content)
        frm, to = parse_instant(body["filter"]["from"]), parse_instant(body["filter"]["to"])
        return page(
            [item(f"edge-{to}", to), item(f"in-{calls}", (frm + to) // 2), item(f"before-{frm}", frm - 5)],
            after=f"c{calls}",
        )

    async with make_client(handler, concurrency=4, page_limit=3) as client:
        result = await client.fetch("*", window)
    assert result.events and all(window.contains(e.ts) for e in result.events)
    assert all(e.id.startswith(("in-", "edge-", "before-")) for e in result.events)


async def test_a_warning_repeated_on_every_page_is_reported_once() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls > 4:
            return page([])
        return page([item(f"p{calls}", WINDOW_1H.end - calls)], after=f"c{calls}", status="timeout")

    async with make_client(handler) as client:
        result = await client.fetch("*", WINDOW_1H)
    assert len(result.events) == 4 and not result.complete
    assert result.warnings == [
        "page 1 of slice 2022-04-13T09:00Z→2022-04-13T10:00Z: server timed out (meta.status=timeout): "
        "results may be incomplete (also on 3 other pages)"
    ]


def test_the_client_is_what_the_fetch_engine_asks_for() -> None:
    """`datadog_fetch` owns the `SearchClient` protocol (it never imports the client that runs it); the
    real client keeps to it."""
    from ddaudit_tui.sources.datadog_fetch import SearchClient

    client = make_client(lambda request: httpx.Response(500))
    assert isinstance(client, SearchClient)
    assert not isinstance(object(), SearchClient)
