"""One rate-limit budget per org, one bucket per `X-RateLimit-Name` (issue 16 item 4).

Every `DatadogClient` made for the same org (site / base URL + credentials) in one process shares one
budget: the paged search's concurrent slices, the DDSQL engine and the watch poller draw on it. Each
bucket (search, DDSQL, API keys …) is counted on its own, and a request the budget knows would be
refused (Remaining 0 before Reset) is held back instead of sent. Sleeps and the clock are injected.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fake_time import FakeTime

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, RateLimit
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.base import Progress
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 30 * DAY, END)
KEYS = Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY)
SEARCH = "/api/v2/audit/events/search"
DDSQL = "/api/v2/ddsql/query/tabular"


def spent(name: str, reset: int = 10) -> dict[str, str]:
    """Headers saying bucket `name` is spent until `reset` seconds from now."""
    return {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Period": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
        "X-RateLimit-Name": name,
    }


def scripted(log: list[str], spent_prefix: str = "/api/v2/audit") -> httpx.MockTransport:
    """Requests under `spent_prefix` are told their bucket is spent; the others have plenty left."""

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(request.url.path)
        name = "audit_logs_search" if "/audit" in request.url.path else "logs_advanced_query_api_query"
        if request.url.path.startswith(spent_prefix):
            return httpx.Response(200, json={"data": []}, headers=spent(name))
        return httpx.Response(200, json={}, headers={"X-RateLimit-Remaining": "59", "X-RateLimit-Name": name})

    return httpx.MockTransport(handler)


def make(transport: Any, time: FakeTime, credentials: Credentials = KEYS, **kwargs: Any) -> DatadogClient:
    return DatadogClient(credentials, transport=transport, sleep=time.sleep, clock=time.clock, **kwargs)


@pytest.mark.parametrize(("spent_path", "other_path"), [(SEARCH, DDSQL), (DDSQL, SEARCH)])
async def test_a_spent_bucket_does_not_hold_back_another(spent_path: str, other_path: str) -> None:
    # Search and DDSQL have buckets of their own: one being spent never holds the other back.
    log: list[str] = []
    time = FakeTime(END / 1000)
    async with make(scripted(log, spent_path), time) as client:
        await client._call("POST", spent_path, op="x", json={})
        await client._call("POST", other_path, op="x", json={})  # another bucket: sent at once
        assert time.sleeps == []
        await client._call("POST", spent_path, op="x", json={})  # the spent one: waits for its reset
    assert log == [spent_path, other_path, spent_path]
    assert len(time.sleeps) == 1 and 10 <= time.sleeps[0] <= 10.5


async def test_concurrent_slices_share_one_budget_and_never_exceed_it() -> None:
    # 5 requests per 10 s, 4 concurrent slices, hundreds of pages: once the budget is known (after the
    # first answer) no request is sent that the fake would refuse.
    time = FakeTime(END / 1000)
    items = generate(seed=5, events=2500, end_ms=END)
    api = FakeDatadog(items, clock=time.clock, rate_limit=RateLimit(limit=5, period_s=10))
    async with make(api, time, concurrency=4, page_limit=100) as client:
        result = await client.fetch("*", WINDOW)
    assert result.complete and result.events
    statuses = [r.status for r in api.requests]
    assert statuses.count(429) == 0 and len(statuses) > 10
    assert time.sleeps and all(s <= 10.5 for s in time.sleeps)


async def test_two_clients_of_the_same_org_share_the_budget() -> None:
    log: list[str] = []
    time = FakeTime(END / 1000)
    transport = scripted(log)
    async with make(transport, time) as first, make(transport, time) as second:
        await first._call("POST", SEARCH, op="search", json={})
        await second._call("POST", SEARCH, op="search", json={})  # knows the org's bucket is spent
    assert len(time.sleeps) == 1 and 10 <= time.sleeps[0] <= 10.5


async def test_different_orgs_do_not_share() -> None:
    log: list[str] = []
    time = FakeTime(END / 1000)
    transport = scripted(log)
    other_keys = Credentials(api_key="a" * 32, app_key="b" * 40)
    async with (
        make(transport, time) as first,
        make(transport, time, credentials=other_keys) as other_creds,
        make(transport, time, site="datadoghq.eu") as other_site,
    ):
        await first._call("POST", SEARCH, op="search", json={})
        await other_creds._call("POST", SEARCH, op="search", json={})
        await other_site._call("POST", SEARCH, op="search", json={})
    assert time.sleeps == []


async def test_the_wait_says_waiting_for_the_rate_limit_with_the_reset() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            item = {
                "id": "a",
                "type": "audit",
                "attributes": {"attributes": {}, "timestamp": "2026-07-31T23:00:00.000Z"},
            }
            body = {"data": [item], "meta": {"page": {"after": "c1"}}}
            return httpx.Response(200, json=body, headers=spent("audit_logs_search", reset=12))
        return httpx.Response(200, json={"data": []})

    time = FakeTime(END / 1000)
    progress: list[Progress] = []
    window = Window(END - 3_600_000, END)
    async with make(httpx.MockTransport(handler), time) as client:
        await client.fetch("*", window, progress.append)
    messages = [p.message for p in progress if p.message]
    assert messages == ["waiting for the rate limit (reset in 12 s)"]
    assert calls == 2
