"""Completeness of an answer (issue 16, item 1): merging, retention, rate-limit headroom, partial pages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, Fault, FaultPlan
from ddaudit_tui.sources.completeness import (
    DAY_MS,
    ENGINE_FILE,
    Completeness,
    RateLimitSeen,
    metering,
)
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso, parse_instant

H = 3_600_000
T0 = parse_instant("2026-07-25T17:00:00Z")
WINDOW = Window(T0, T0 + H)
KEYS = Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY)


def item(n: int) -> dict[str, Any]:
    return {
        "id": f"ev-{n:04d}",
        "type": "audit",
        "attributes": {
            "attributes": {
                "evt": {"name": "Request"},
                "action": "accessed",
                "usr": {"email": "a@example.com"},
            },
            "message": "m",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(T0 + n * 60_000),
        },
    }


# -- the record -----------------------------------------------------------------------------------------


def test_merging_adds_counts_keeps_the_least_headroom_and_partial_wins() -> None:
    a = Completeness(
        requests=3,
        events_fetched=2500,
        rate_limit=RateLimitSeen(remaining=40, limit=100, reset_s=12),
        elapsed_ms=2100,
    )
    b = Completeness(
        requests=1,
        events_fetched=10,
        partial=True,
        reasons=("server timeout (meta.status: timeout) on page 3", "x"),
        rate_limit=RateLimitSeen(remaining=7, limit=100, reset_s=30),
        elapsed_ms=900,
    )
    c = Completeness(partial=True, reasons=("x",))
    m = Completeness.combine([a, b, c])
    assert (m.requests, m.events_fetched, m.elapsed_ms) == (4, 2510, 2100)
    assert m.partial and not m.complete
    assert m.reasons == ("server timeout (meta.status: timeout) on page 3", "x")  # deduplicated, in order
    assert m.rate_limit == RateLimitSeen(remaining=7, limit=100, reset_s=30)
    assert m.engine == "search"
    assert Completeness.combine([a, Completeness(engine="ddsql")]).engine == "search+ddsql"


def test_a_complete_answer_says_complete_and_never_partial() -> None:
    c = Completeness(requests=3, events_fetched=1234, elapsed_ms=2100)
    assert c.header_text() == "1,234 events · complete · 3 requests · 2.1 s"
    assert c.line() == "complete: engine search, 3 requests, 1,234 events fetched, 2.1 s"
    assert c.to_json()["complete"] is True and c.to_json()["partial"] is False


def test_a_partial_answer_says_why_in_every_form() -> None:
    c = Completeness(requests=2, events_fetched=40).with_reasons("server timeout on page 3")
    assert c.partial
    assert c.header_text() == "PARTIAL: server timeout on page 3"
    assert c.line().startswith("PARTIAL: ") and c.line().endswith("— server timeout on page 3")
    assert c.to_json()["reasons"] == ["server timeout on page 3"]
    assert c.with_reasons("") is not None and Completeness().with_reasons("").partial is False


def test_retention_note_only_when_the_window_starts_before_it() -> None:
    now = parse_instant("2026-12-07T12:00:00Z")
    inside = Window(now - 30 * DAY_MS, now)
    before = Window(now - 120 * DAY_MS, now)
    assert Completeness().with_retention(inside, 90, now).retention_text() is None
    c = Completeness().with_retention(before, 90, now)
    assert c.retention_cutoff_ms == now - 90 * DAY_MS
    assert c.retention_text() == "events before 2026-09-08 12:00:00Z are outside retention (90 days)"
    assert c.to_json()["retention_cutoff"] == "2026-09-08T12:00:00.000Z"
    assert "outside retention" in c.line()
    # Without Audit Trail, 7 days.
    assert Completeness().with_retention(inside, 7, now).retention_text() == (
        "events before 2026-11-30 12:00:00Z are outside retention (7 days)"
    )


# -- the Datadog client ----------------------------------------------------------------------------------


def page_response(events: list[dict[str, Any]], after: str | None, remaining: int) -> httpx.Response:
    meta: dict[str, Any] = {"status": "done"}
    if after:
        meta["page"] = {"after": after}
    return httpx.Response(
        200,
        json={"data": events, "meta": meta},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Period": "60",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": "42",
            "X-RateLimit-Name": "audit_logs_search",
        },
    )


async def test_a_fetch_counts_its_requests_and_the_lowest_rate_limit_remaining() -> None:
    items = [item(n) for n in range(5)]
    answers = iter(
        [
            page_response(items[:2], "c1", remaining=299),
            page_response(items[2:4], "c2", remaining=17),
            page_response(items[4:], None, remaining=298),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    client = DatadogClient(KEYS, transport=httpx.MockTransport(handler), concurrency=1, page_limit=2)
    async with client:
        result = await client.fetch("*", WINDOW)
    c = result.completeness
    assert (c.engine, c.requests, c.events_fetched, c.partial) == ("search", 3, 5, False)
    assert c.rate_limit == RateLimitSeen(remaining=17, limit=300, reset_s=42.0, name="audit_logs_search")
    assert "rate limit 17 of 300 left, resets in 42 s" in c.line()
    assert c.elapsed_ms >= 0


async def test_meta_status_timeout_marks_the_answer_partial_with_a_short_reason() -> None:
    fake = FakeDatadog([item(n) for n in range(40)], faults=FaultPlan(at={2: Fault("partial")}))
    client = DatadogClient(KEYS, transport=fake, concurrency=1, page_limit=10)
    async with client:
        result = await client.fetch("*", WINDOW)
    c = result.completeness
    assert c.partial and not result.complete
    assert c.reasons[0] == "server timeout (meta.status: timeout) on page 2"
    assert any(r.startswith("Datadog warning on page 2: Partial results") for r in c.reasons)
    assert c.header_text().startswith("PARTIAL: server timeout (meta.status: timeout) on page 2")
    assert c.requests == fake.audit_request_count


async def test_a_meter_counts_every_request_below_it_even_in_concurrent_tasks() -> None:
    fake = FakeDatadog([item(n) for n in range(40)])
    client = DatadogClient(KEYS, transport=fake, concurrency=2, page_limit=10)
    async with client:
        with metering() as meter:
            a, b, exists = await asyncio.gather(
                client.fetch("*", WINDOW),
                client.fetch("@action:accessed", WINDOW),
                client.exists("*", WINDOW),
            )
    assert meter.requests == fake.audit_request_count == a.completeness.requests + b.completeness.requests + 1
    assert meter.rate_limit is not None and meter.rate_limit.limit == 1000


async def test_a_retention_cutoff_is_given_when_the_window_starts_before_it() -> None:
    fake = FakeDatadog([item(n) for n in range(3)])
    client = DatadogClient(KEYS, transport=fake, retention_days=7)
    async with client:
        result = await client.fetch("*", WINDOW)  # July 2026: long before now − 7 days
    assert result.completeness.retention_days == 7
    assert result.completeness.retention_text() is not None


# -- files ---------------------------------------------------------------------------------------------


def test_files_say_engine_file_no_request_and_no_retention(tmp_path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"data": [item(n) for n in range(3)]}))
    source = FileSource.open([str(path)])
    result = asyncio.run(source.fetch("*", WINDOW))
    c = result.completeness
    assert (c.engine, c.requests, c.events_fetched, c.partial) == (ENGINE_FILE, 0, 3, False)
    assert c.retention_cutoff_ms is None
    assert c.header_text() == "3 events · complete"  # the label names the file


@pytest.mark.parametrize("complete", [True, False])
def test_a_fetch_result_built_without_one_derives_it(complete: bool) -> None:
    from ddaudit_tui.sources.base import FetchResult

    r = FetchResult(
        events=[], window=WINDOW, complete=complete, warnings=[] if complete else ["cut"], pages=2
    )
    assert r.completeness.partial is (not complete)
    assert r.completeness.requests == 2
    assert r.completeness.reasons == (() if complete else ("cut",))


# -- the org's retention, from the configuration ---------------------------------------------------------


def test_audit_retention_days_comes_from_the_environment_or_the_config_file(tmp_path) -> None:
    import argparse

    from ddaudit_tui.config import ConfigError, load_settings
    from ddaudit_tui.source_select import open_source

    none = tmp_path / "none.toml"
    keys = {"DD_API_KEY": DEMO_API_KEY, "DD_APP_KEY": DEMO_APP_KEY}
    assert load_settings(env=keys, path=none).audit_retention_days == 90  # Audit Trail's default
    settings = load_settings(env={**keys, "DDAUDIT_AUDIT_RETENTION_DAYS": "7"}, path=none)
    assert settings.audit_retention_days == 7
    client = open_source(argparse.Namespace(demo=False, input=None), settings)
    assert client.retention_days == 7  # type: ignore[attr-defined]
    asyncio.run(client.aclose())
    config = tmp_path / "config.toml"
    config.write_text("audit_retention_days = 30\n")
    assert load_settings(env=keys, path=config).audit_retention_days == 30
    config.write_text("audit_retention_days = 0\n")
    with pytest.raises(ConfigError):
        load_settings(env=keys, path=config)


async def test_the_event_cap_is_a_reason_too() -> None:
    fake = FakeDatadog([item(n) for n in range(40)])
    client = DatadogClient(KEYS, transport=fake, concurrency=1, page_limit=10, max_events=15)
    async with client:
        result = await client.fetch("*", WINDOW)
    c = result.completeness
    assert c.partial and len(c.reasons) == 1
    assert c.reasons == ("event cap reached: the newest 15 of more than 15 events (max_events)",)
