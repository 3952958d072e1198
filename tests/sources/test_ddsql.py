"""The DDSQL client (`sources/ddsql.py`) against the fake DDSQL API on a loopback socket, over the demo org:
aggregates equal to counting the search endpoint's events in Python, polling with a bounded backoff,
refusals and SQL errors as typed errors, truncation, and a filter builder that quotes hostile values."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest

from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import ALL_PERMISSIONS, DEMO_API_KEY, DEMO_APP_KEY, DEMO_TOKEN, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.loopback import loopback
from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.fields import field_value
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.ddsql import (
    AuditColumn,
    DdsqlClient,
    DdsqlError,
    DdsqlRefused,
    DdsqlTimeout,
    audit_query,
    filter_term,
    quote_filter_value,
    sql_literal,
)
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
H, D = 3_600_000, 86_400_000
WINDOW = Window(END - 90 * D, END)
KEYS = Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY)
KEY_FILTER = filter_term("@metadata.api_key.id", COMPROMISED_KEY)


class Clock:
    """A fake monotonic clock that the recorded sleeps advance."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def demo_items() -> list[dict]:
    return generate(seed=5, events=2500, end_ms=END)


def make(items: list[dict], **kwargs: Any) -> FakeDatadog:
    kwargs.setdefault("clock", lambda: END / 1000)
    return FakeDatadog(items, **kwargs)


@contextmanager
def served(fake: FakeDatadog) -> Iterator[str]:
    with loopback(fake) as base_url:
        yield base_url


@asynccontextmanager
async def ddsql(
    base_url: str, credentials: Credentials = KEYS, clock: Clock | None = None, **kwargs: Any
) -> AsyncIterator[DdsqlClient]:
    clock = clock or Clock()
    async with DatadogClient(credentials, base_url=base_url, sleep=clock.sleep) as client:
        yield DdsqlClient(client, sleep=clock.sleep, clock=clock, **kwargs)


async def searched(base_url: str, query: str) -> list[Event]:
    async with DatadogClient(KEYS, base_url=base_url) as client:
        result = await client.fetch(query, WINDOW)
    assert result.complete
    return result.events


# -- aggregates equal the search endpoint's events, counted in Python ---------------------------------

ORIGIN = [
    AuditColumn("@network.client.geoip.country.name", "country"),
    AuditColumn("@network.client.geoip.as.number", "asn"),
    AuditColumn("@network.client.ip", "ip"),
]


async def test_origins_of_the_compromised_key(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    with served(fake) as url:
        events = await searched(url, KEY_FILTER)
        async with ddsql(url) as dd:
            result = await dd.query(
                audit_query(
                    ["country", "asn", "ip", "count(*) AS n"],
                    ORIGIN,
                    KEY_FILTER,
                    group_by=["country", "asn", "ip"],
                    order_by=["n DESC", "ip"],
                ),  # fmt: skip
                WINDOW,
            )
            by_country = await dd.query(
                audit_query(["country", "count(*) AS n"], ORIGIN, KEY_FILTER, group_by=["country"]), WINDOW
            )
    assert len(events) > 100
    expected = Counter(
        (e.country, field_value(e, "@network.client.geoip.as.number"), e.client_ip) for e in events
    )
    assert result.columns == ["country", "asn", "ip", "n"]
    assert result.types == ["VARCHAR", "VARCHAR", "VARCHAR", "BIGINT"]
    assert {(r["country"], r["asn"], r["ip"]): r["n"] for r in result.records()} == dict(expected)
    assert [r[3] for r in result.rows] == sorted(expected.values(), reverse=True)
    assert dict(by_country.rows) == dict(Counter(e.country for e in events))
    assert len(expected) > 3 and not result.truncated and result.warnings == []
    # The fake answers `running` once by default: execute + one fetch per query.
    assert result.requests == 2 and dd.requests == 4


async def test_counts_per_hour_and_distinct_ips_per_half_hour(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    cols = [AuditColumn("timestamp", "ts", "TIMESTAMP"), AuditColumn("@network.client.ip", "ip")]
    with served(fake) as url:
        events = await searched(url, KEY_FILTER)
        async with ddsql(url) as dd:
            hourly = await dd.query(
                audit_query(
                    ["date_trunc('hour', ts) AS hour", "count(*) AS n", "min(ts) AS first_seen"],
                    cols,
                    KEY_FILTER,
                    group_by=["1"],
                    order_by=["hour"],
                ),  # fmt: skip
                WINDOW,
            )
            half = await dd.query(
                audit_query(
                    [
                        "date_bin('30 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS bucket",
                        "count(DISTINCT ip) AS ips",
                    ],
                    cols,
                    KEY_FILTER,
                    group_by=["1"],
                    order_by=["1"],
                ),  # fmt: skip
                WINDOW,
            )
    assert hourly.types == ["TIMESTAMP", "BIGINT", "TIMESTAMP"]
    per_hour = Counter(e.ts - e.ts % H for e in events)
    assert [(h, n) for h, n, _ in hourly.rows] == sorted(per_hour.items())
    assert all(first == min(e.ts for e in events if e.ts - e.ts % H == h) for h, _, first in hourly.rows)
    buckets: dict[int, set[str]] = {}
    for e in events:
        ips = buckets.setdefault(e.ts - e.ts % (30 * 60_000), set())
        if e.client_ip:
            ips.add(e.client_ip)
    assert half.rows == sorted((b, len(ips)) for b, ips in buckets.items())


# -- polling ------------------------------------------------------------------------------------------


async def test_polls_with_backoff_until_completed(demo_items: list[dict]) -> None:
    fake = make(demo_items, ddsql=DdsqlConfig(running_polls=4))
    clock = Clock()
    with served(fake) as url:
        async with ddsql(url, clock=clock, poll_s=0.5, max_poll_s=2.0) as dd:
            result = await dd.query("SELECT 1 AS one", WINDOW)
    assert result.rows == [(1,)] and result.requests == 5
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0]


async def test_polling_is_bounded_by_the_deadline(demo_items: list[dict]) -> None:
    fake = make(demo_items, ddsql=DdsqlConfig(running_polls=1_000_000))
    clock = Clock()
    with served(fake) as url:
        async with ddsql(url, clock=clock, poll_s=1.0, max_poll_s=4.0, deadline_s=30.0) as dd:
            with pytest.raises(DdsqlTimeout) as info:
                await dd.query("SELECT 1", WINDOW)
            assert dd.requests == info.value.requests
    assert sum(clock.sleeps) <= 30.0 and 5 <= len(clock.sleeps) <= 12
    assert "still running" in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, DdsqlError)


# -- refusals and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"permissions": ALL_PERMISSIONS - {"timeseries_query"}},
        {"permissions": ALL_PERMISSIONS - {"audit_logs_read"}},
        {"ddsql": DdsqlConfig(enabled=False)},
    ],
    ids=["no-timeseries_query", "no-audit_logs_read", "not-enabled"],
)
async def test_refused_is_one_typed_line(demo_items: list[dict], kwargs: dict) -> None:
    fake = make(demo_items, **kwargs)
    with served(fake) as url:
        async with ddsql(url) as dd:
            with pytest.raises(DdsqlRefused) as info:
                await dd.query(audit_query(["count(*)"], ORIGIN, KEY_FILTER), WINDOW)
    text = str(info.value)
    assert "\n" not in text and "DDSQL" in text and info.value.status == 403
    assert DEMO_API_KEY not in text and DEMO_APP_KEY not in text


async def test_a_missing_endpoint_or_dataset_is_refused_too() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if b"dd.audit" in request.content:
            detail = 'depends on non-existent dataset "dd.audit"'
            return httpx.Response(
                400, json={"errors": [{"status": "400", "title": "Bad Request", "detail": detail}]}
            )
        return httpx.Response(404, json={"errors": ["Not found"]})

    async with DatadogClient(KEYS, transport=httpx.MockTransport(answer)) as client:
        dd = DdsqlClient(client)
        with pytest.raises(DdsqlRefused):
            await dd.query("SELECT 1", WINDOW)
        with pytest.raises(DdsqlRefused) as info:
            await dd.query(audit_query(["count(*)"], ORIGIN), WINDOW)
    assert "non-existent dataset" in str(info.value)


async def test_an_sql_error_is_a_ddsql_error_with_the_detail(demo_items: list[dict]) -> None:
    fake = make(demo_items)
    with served(fake) as url:
        async with ddsql(url) as dd:
            with pytest.raises(DdsqlError) as info:
                await dd.query("SHOW TABLES", WINDOW)
    assert not isinstance(info.value, DdsqlRefused)
    assert "mismatched input 'SHOW'" in str(info.value) and info.value.status == 400


async def test_a_malformed_completed_answer_is_an_error() -> None:
    doc = {"data": {"id": "x", "type": "ddsql_query_response", "attributes": {"state": "completed",
           "columns": [{"name": "a", "type": "BIGINT", "values": [1, 2]},
                       {"name": "b", "type": "BIGINT", "values": [1]}]}},
           "meta": {"elapsed": 1, "request_id": ""}}  # fmt: skip
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=doc))
    async with DatadogClient(KEYS, transport=transport) as client:
        with pytest.raises(DdsqlError, match="rows"):
            await DdsqlClient(client).query("SELECT 1", WINDOW)


async def test_bearer_token_and_gateway_without_datadog_keys(demo_items: list[dict]) -> None:
    with served(make(demo_items)) as url:
        async with ddsql(url, Credentials(access_token=DEMO_TOKEN)) as dd:
            assert (await dd.query("SELECT 2 AS two", WINDOW)).rows == [(2,)]
    with served(make(demo_items, require_auth=False)) as url:
        async with DatadogClient(KEYS, base_url=url, no_dd_auth=True) as client:
            assert (await DdsqlClient(client).query("SELECT 3 AS three", WINDOW)).rows == [(3,)]


# -- truncation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("truncation", ["silent", "warn"])
async def test_a_row_limit_marks_the_result_truncated(demo_items: list[dict], truncation: str) -> None:
    fake = make(demo_items, ddsql=DdsqlConfig(running_polls=0, truncation=truncation))
    query = audit_query(["ip"], ORIGIN, KEY_FILTER)
    with served(fake) as url:
        async with ddsql(url) as dd:
            cut = await dd.query(query, WINDOW, limit=5)
            exact = await dd.query(audit_query(["ip"], ORIGIN, KEY_FILTER, limit=5), WINDOW, limit=5)
    assert len(cut.rows) == 5 and cut.truncated
    assert len(exact.rows) == 5 and not exact.truncated and exact.warnings == []
    sent = [r.json()["data"]["attributes"]["row_limit"] for r in fake.requests if r.path.endswith("tabular")]
    assert sent == [6, 6]  # one more than asked: a silent cut still shows


# -- building queries ---------------------------------------------------------------------------------


def test_literals_and_filter_values_are_escaped() -> None:
    assert sql_literal("it's") == "'it''s'"
    assert quote_filter_value('a"b\\c') == '"a\\"b\\\\c"'
    assert filter_term("@network.client.ip", "10.0.0.1") == '@network.client.ip:"10.0.0.1"'
    with pytest.raises(ValueError):
        filter_term("@x) OR (*", "v")
    with pytest.raises(ValueError):
        sql_literal("nul\x00")
    with pytest.raises(ValueError):
        AuditColumn("@usr.id", "bad name")
    with pytest.raises(ValueError):
        AuditColumn("@usr.id", "u", "TEXT; DROP")
    text = audit_query(
        ["u", "count(*) AS n"], [AuditColumn("@usr.id", "u")], '@a:"x\'y"', group_by=["u"], limit=3
    )
    assert text == (
        "SELECT u, count(*) AS n FROM dd.audit(columns => ARRAY['@usr.id'], filter => '@a:\"x''y\"') "
        "AS (u VARCHAR) GROUP BY u LIMIT 3"
    )


HOSTILE = [
    '10.0.0.1" OR @evt.name:*',
    "x') AS (a VARCHAR); SELECT 1; --",
    "o'brien\"\\*@example.com",
    "' OR '1'='1",
    'a\\" OR *',
    "2001:db8::1",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_values_select_exactly_their_events(demo_items: list[dict], value: str) -> None:
    items = copy.deepcopy(demo_items[:200])
    planted = copy.deepcopy(items[7])
    planted["id"] = planted["id"][:-4] + "PLNT"
    planted["attributes"]["attributes"].setdefault("network", {}).setdefault("client", {})["ip"] = value
    planted["attributes"]["attributes"].setdefault("usr", {})["email"] = value
    items.append(planted)
    fake = make(items)
    cols = [AuditColumn("id", "id"), AuditColumn("@network.client.ip", "ip")]
    with served(fake) as url:
        async with ddsql(url) as dd:
            for field in ("@network.client.ip", "@usr.email"):
                result = await dd.query(audit_query(["id", "ip"], cols, filter_term(field, value)), WINDOW)
                assert result.rows == [(planted["id"], value)], field
