"""The demo's heavy key (issue 16): generated lazily and deterministically, served by the fake's search and
DDSQL endpoints from its columns exactly as if its events were stored like the others."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from ddaudit_tui.demo.catalog import CI_KEY
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.heavy import ATTACKER, BURST_EVENTS, DELETED, HEAVY_KEY, RECON_EVENTS, HeavyKey
from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.ddsql import DdsqlClient
from ddaudit_tui.sources.ddsql_sql import AuditColumn, audit_query, filter_term
from ddaudit_tui.timeutil import Window

END = 1_785_500_040_000
DAY = 86_400_000
SMALL = 20_000


def small(seed: int = 7) -> HeavyKey:
    return HeavyKey(seed, END, events=SMALL)


def client(fk: FakeDatadog, page_limit: int = 1000) -> DatadogClient:
    return DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fk, page_limit=page_limit
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _fetch(fk: FakeDatadog, query: str, window: Window, page_limit: int = 1000) -> list[str]:
    c = client(fk, page_limit)
    try:
        result = await c.fetch(query, window)
        assert result.complete
        return [e.id for e in result.events]
    finally:
        await c.aclose()


def test_the_demo_does_not_build_it_until_a_filter_names_the_key() -> None:
    fk = FakeDatadog.from_demo(seed=7, events=2000, end_ms=END, clock=lambda: END / 1000)
    assert fk.heavy is not None and not fk.heavy.built
    window = Window(END - 90 * DAY, END)
    assert run(_fetch(fk, f"@metadata.api_key.id:{CI_KEY}", window))  # another key, paged
    assert run(_fetch(fk, "*", window))  # the whole org
    keys = fk.key_table.live_keys()  # the API Keys listing names it…
    assert HEAVY_KEY in {k.id for k in keys}
    assert not fk.heavy.built  # …without building it
    ids = run(_fetch(fk, f"@metadata.api_key.id:{HEAVY_KEY}", Window(END - DAY, END)))
    assert fk.heavy.built and len(ids) > 10_000


def test_it_is_deterministic_from_the_seed() -> None:
    a, b, c = small(7).ensure(), small(7).ensure(), small(8).ensure()
    assert list(a.ts) == list(b.ts) and list(a.tmpl) == list(b.tmpl)
    assert [a.event_id(i) for i in range(0, len(a), 997)] == [b.event_id(i) for i in range(0, len(b), 997)]
    assert a.raw(123) == b.raw(123)
    assert list(a.ts) != list(c.ts)
    assert len({a.event_id(i) for i in range(len(a))}) == len(a)  # ids are unique
    assert all(x < y for x, y in zip(a.ts, a.ts[1:], strict=False))  # one event per millisecond


def test_counts_per_day_are_steady_apart_from_the_two_findings() -> None:
    h = small().ensure()
    assert len(h) == SMALL + BURST_EVENTS + RECON_EVENTS + len(DELETED)
    per_day = h.per_day()
    burst_day, attack_day = h.burst_at // DAY, h.attack_at // DAY
    steady = {d: n for d, n in per_day.items() if d not in (burst_day, attack_day, h.start_ms // DAY)}
    steady.pop(max(per_day), None)  # the last day is cut by the window's end
    assert len(steady) >= 85
    assert max(steady.values()) - min(steady.values()) <= 2  # the fleet's cadence: ~222 a day
    assert per_day[burst_day] >= BURST_EVENTS
    assert per_day[attack_day] >= RECON_EVENTS
    # The findings are where the generator says: a burst 25-65 days back, the leak in the last 3 days.
    assert 24 * DAY <= END - h.burst_at <= 66 * DAY
    assert END - h.attack_at <= 3 * DAY


QUERIES = [
    f"@metadata.api_key.id:{HEAVY_KEY}",
    f"@metadata.api_key.id:{HEAVY_KEY} (@action:deleted OR @http.method:DELETE)",
    f'@metadata.api_key.id:{HEAVY_KEY} @network.client.ip:"{ATTACKER.ip}"',
    f"@metadata.api_key.id:{HEAVY_KEY} @http.status_code:429",
    f"@metadata.api_key.id:{HEAVY_KEY} validate",
    f"@metadata.api_key.id:{HEAVY_KEY} -@network.client.geoip.country.iso_code:US",
    f"-@metadata.api_key.id:{HEAVY_KEY} @http.method:GET",
    f"@metadata.api_key.id:{HEAVY_KEY} @timestamp:*",  # reads a per-event field: judged event by event
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_fast_path_equals_the_generic_filter_on_a_slice(query: str) -> None:
    h = small().ensure()
    start, end = h.attack_at - 3 * 3_600_000, h.attack_at + 6 * 3_600_000
    q = parse_query(query)
    assert list(h.match(q, start, end)) == h.match_generic(q, start, end)


def test_search_pages_merge_its_rows_with_stored_events_in_order() -> None:
    h = small()
    h.ensure()
    start, end = h.attack_at - 3_600_000, h.attack_at + 3 * 3_600_000
    # A stored event naming the key, between two of its rows: paging must interleave it by (ts, id).
    mid = h.ts[h.window(start, end)[40]] + 0
    stored = h._item(mid, "zz-stored-event-naming-the-key", h.templates[0])
    fk = FakeDatadog([stored], heavy=h, clock=lambda: END / 1000)
    query = f"@metadata.api_key.id:{HEAVY_KEY}"
    got = run(_fetch(fk, query, Window(start, end), page_limit=37))
    q = parse_query(query)
    expected = sorted(
        [(h.ts[i], h.event_id(i)) for i in h.match_generic(q, start, end)] + [(mid, stored["id"])]
    )
    # The client returns events newest first; the fake orders by (ts, id).
    assert sorted(got) == sorted(i for _, i in expected)
    fetched = run(_raw_pages(fk, query, start, end))
    assert fetched == [i for _, i in reversed(expected)]


async def _raw_pages(fk: FakeDatadog, query: str, start: int, end: int) -> list[str]:
    """Page the search endpoint by hand (page[limit] 50, newest first): the ids in the order served."""
    http = fk.client()
    ids: list[str] = []
    cursor = None
    try:
        while True:
            body: dict[str, Any] = {
                "filter": {"query": query, "from": str(start), "to": str(end)},
                "page": {"limit": 50},
                "sort": "-timestamp",
            }
            if cursor:
                body["page"]["cursor"] = cursor
            r = await http.post("/api/v2/audit/events/search", json=body)
            doc = msgspec.json.decode(r.content)
            if not doc["data"]:
                return ids
            ids += [d["id"] for d in doc["data"]]
            cursor = doc["meta"]["page"]["after"]
    finally:
        await http.aclose()


def test_ddsql_reads_the_same_events_as_the_search() -> None:
    h = small()
    fk = FakeDatadog(generate(seed=7, events=500, end_ms=END), heavy=h, clock=lambda: END / 1000,
                     ddsql=DdsqlConfig(running_polls=0))  # fmt: skip
    window = Window(h.start_ms, END)

    async def go() -> tuple[list, list, list]:
        c = client(fk)
        dd = DdsqlClient(c)
        try:
            flt = filter_term("@metadata.api_key.id", HEAVY_KEY)
            ts = AuditColumn("timestamp", "ts", "TIMESTAMP")
            count = await dd.query(audit_query(["count(*)", "min(ts)", "max(ts)"], [ts], flt), window)
            ip = AuditColumn("@network.client.ip", "ip")
            by_ip = await dd.query(
                audit_query(["ip", "count(*) AS n"], [ip], flt, group_by=["ip"], order_by=["ip"]), window
            )
            dels = await dd.query(
                audit_query(
                    ["id", "ts"],
                    [AuditColumn("id", "id"), ts],
                    flt + " @http.method:DELETE",
                    order_by=["ts"],
                ),
                window,
            )
            return count.rows, by_ip.rows, dels.rows
        finally:
            await c.aclose()

    count, by_ip, dels = run(go())
    assert count == [(len(h), h.ts[0], h.ts[-1])]
    expected: dict[str, int] = {}
    for k in h.tmpl:
        ip = h.templates[k].origin.ip
        expected[ip] = expected.get(ip, 0) + 1
    assert by_ip == sorted(expected.items())
    q = parse_query(f"@metadata.api_key.id:{HEAVY_KEY} @http.method:DELETE")
    assert [r[0] for r in dels] == [h.event_id(i) for i in h.match_generic(q, h.start_ms, END)]
    assert len(dels) == len(DELETED)
