"""DatadogClient end to end against the fake Datadog API (`demo/fake_datadog.py`) and the demo org.

The fake implements the real endpoints, shapes, paging quirks, auth, rate-limit headers and scripted
faults; here the real client runs its real code against it. Sleeps are recorded, never slept.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import (
    DEMO_API_KEY,
    DEMO_APP_KEY,
    DEMO_TOKEN,
    FakeDatadog,
    FaultPlan,
    RateLimit,
)
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.datadog import AuthError, Credentials, DatadogClient, NotFound
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 90 * DAY, END)
KEYS = Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY)


class Clock:
    def __init__(self, ms: int = END) -> None:
        self.now = ms / 1000

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def demo_items() -> list[dict]:
    return generate(seed=5, events=2500, end_ms=END)


def fake(items: list[dict], **kwargs: Any) -> FakeDatadog:
    kwargs.setdefault("clock", Clock())
    return FakeDatadog(items, **kwargs)


def client(
    transport: FakeDatadog, credentials: Credentials = KEYS, **kwargs: Any
) -> tuple[DatadogClient, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    kwargs.setdefault("concurrency", 4)
    kwargs.setdefault("page_limit", 100)
    return DatadogClient(credentials, transport=transport, sleep=sleep, **kwargs), sleeps


def truth(api: FakeDatadog, window: Window = WINDOW) -> list[str]:
    """The ids the fake holds in the window, newest first (ties: the fake's order, id descending)."""
    inside = [e for e in api.events if window.start <= e.ts < window.end]
    return [e.id for e in sorted(inside, key=lambda e: (e.ts, e.id), reverse=True)]


async def test_fetches_the_whole_demo_window_exactly_once(demo_items: list[dict]) -> None:
    api = fake(demo_items)
    dd, sleeps = client(api)
    async with dd:
        result = await dd.fetch("*", WINDOW)
    assert result.complete and result.warnings == []
    ids = [e.id for e in result.events]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(truth(api))
    assert [e.ts for e in result.events] == sorted((e.ts for e in result.events), reverse=True)
    # Every request used absolute times (the fake would also accept date math: the client never sends it).
    for req in api.requests:
        body = req.json()
        assert (
            "now" not in str(body["filter"])
            and body["sort"] in ("-timestamp", "timestamp")
            and "options" not in body
        )
    assert sleeps == []


async def test_transient_faults_are_absorbed(demo_items: list[dict]) -> None:
    # 503s, resets, truncated bodies, 429s, overlapping (duplicate) pages and short pages: all transient,
    # so the result is still complete and exact.
    plan = FaultPlan(
        rates={
            "503": 0.08,
            "reset": 0.05,
            "truncated": 0.08,
            "429": 0.05,
            "duplicate": 0.1,
            "short_page": 0.1,
        },
        seed=11,
    )
    api = fake(demo_items, faults=plan)
    dd, sleeps = client(api, max_retries=8)
    async with dd:
        result = await dd.fetch("*", WINDOW)
    faults = [r.fault for r in api.requests if r.fault]
    assert {"503", "truncated", "duplicate"} <= set(faults)
    assert result.complete, result.warnings
    assert set(e.id for e in result.events) == set(truth(api))
    assert len(result.events) == len(truth(api))
    assert sleeps  # it backed off


async def test_partial_page_marks_the_result_partial(demo_items: list[dict]) -> None:
    api = fake(demo_items, faults=FaultPlan(at={1: "partial"}))
    dd, _ = client(api, concurrency=1)
    async with dd:
        result = await dd.fetch("*", WINDOW)
    assert not result.complete
    assert any("page 1 of slice" in w and "meta.status=timeout" in w for w in result.warnings)
    assert any("Partial results: the query took too long" in w for w in result.warnings)


async def test_a_dead_slice_keeps_what_it_fetched(demo_items: list[dict]) -> None:
    # One slice (concurrency 1): page 1 arrives, page 2 is a 503 three times in a row.
    api = fake(demo_items, faults=FaultPlan(at={2: "503", 3: "503", 4: "503"}))
    dd, sleeps = client(api, concurrency=1, max_retries=2)
    async with dd:
        result = await dd.fetch("*", WINDOW)
    assert not result.complete and len(result.events) == 100
    assert [e.id for e in result.events] == truth(api)[:100]
    assert result.warnings == [
        "slice 2026-05-02T12:13:20Z→2026-07-31T12:13:20Z failed after 2 retries: "
        "503 Service Unavailable; 100 events from it kept"
    ]
    assert sleeps == [1, 2]


async def test_query_is_pushed_down(demo_items: list[dict]) -> None:
    api = fake(demo_items)
    dd, _ = client(api)
    query = f"@metadata.api_key.id:{COMPROMISED_KEY}"
    async with dd:
        result = await dd.fetch(query, WINDOW)
        exists = await dd.count_exists(query, WINDOW)
        nothing = await dd.count_exists("@usr.email:nobody@nowhere.example", WINDOW)
    assert result.events and all(e.api_key_id == COMPROMISED_KEY for e in result.events)
    expected = [e.id for e in api.events if e.api_key_id == COMPROMISED_KEY and WINDOW.contains(e.ts)]
    assert sorted(e.id for e in result.events) == sorted(expected)
    assert exists is True and nothing is False


async def test_rate_limit_budget_is_honoured(demo_items: list[dict]) -> None:
    # A budget of 5 requests per 10 s: the client must wait for resets instead of failing.
    clock = Clock()
    api = fake(demo_items, clock=clock, rate_limit=RateLimit(limit=5, period_s=10))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds  # the fake's budget resets as (fake) time passes
        await asyncio.sleep(0)

    dd = DatadogClient(
        KEYS, transport=api, sleep=sleep, clock=lambda: clock.now, concurrency=4, page_limit=200
    )
    async with dd:
        result = await dd.fetch("*", WINDOW)
    assert result.complete and set(e.id for e in result.events) == set(truth(api))
    assert sleeps and all(s <= 10.5 for s in sleeps)
    statuses = [r.status for r in api.requests]
    # Proactive waiting (remaining 0 → wait reset) keeps 429s rare.
    assert statuses.count(429) <= 4


async def test_auth_failures(demo_items: list[dict]) -> None:
    api = fake(demo_items)
    dd, _ = client(api, Credentials(api_key=DEMO_API_KEY, app_key="0" * 40))
    async with dd:
        with pytest.raises(AuthError, match="audit_logs_read"):
            await dd.fetch("*", WINDOW)
        with pytest.raises(AuthError):
            await dd.validate()

    api = fake(demo_items, permissions={"api_keys_read"})
    dd, _ = client(api)
    async with dd:
        with pytest.raises(AuthError, match="403 Forbidden .*lacks audit_logs_read"):
            await dd.fetch("*", WINDOW)


async def test_bearer_token_and_validate(demo_items: list[dict]) -> None:
    api = fake(demo_items)
    dd, _ = client(api, Credentials(access_token=DEMO_TOKEN))
    async with dd:
        await dd.validate()
        assert await dd.count_exists("*", WINDOW)
    assert all(r.headers.get("authorization") == f"Bearer {DEMO_TOKEN}" for r in api.requests)


async def test_key_lookup_and_revocation(demo_items: list[dict]) -> None:
    api = fake(demo_items)
    dd, _ = client(api)
    async with dd:
        info = await dd.get_api_key(COMPROMISED_KEY)
        assert info is not None and info.id == COMPROMISED_KEY and info.name
        assert info.created_by is not None and (info.created_by.email or info.created_by.id)
        assert "key" not in info.model_dump()
        await dd.revoke_api_key(COMPROMISED_KEY)
        assert await dd.get_api_key(COMPROMISED_KEY) is None
        with pytest.raises(NotFound, match="already revoked"):
            await dd.revoke_api_key(COMPROMISED_KEY)
