"""The key engine's combined DDSQL statements (issue 16 item 2) give what the single ones gave: the
5-minute counts folded m buckets to a row, in one statement, equal counting every event; the evidence
samples sent as one `UNION ALL` equal one statement per sample."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import KEY  # noqa: E402
from test_key_travel_engine import END, WINDOW, crafted, fake  # noqa: E402

from ddaudit_tui.analysis import key_engine  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY  # noqa: E402
from ddaudit_tui.events.decode import iter_decode  # noqa: E402
from ddaudit_tui.sources.datadog import Credentials, DatadogClient  # noqa: E402
from ddaudit_tui.sources.ddsql import DdsqlClient  # noqa: E402
from ddaudit_tui.timeutil import Window  # noqa: E402


async def _no_sleep(_s: float) -> None:
    return None


def run(items: list[dict[str, Any]], fn: Any) -> Any:
    fk = fake(items)

    async def go() -> Any:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fk, sleep=_no_sleep
        )
        try:
            return await fn(DdsqlClient(client)), fk
        finally:
            await client.aclose()

    return asyncio.run(go())


def statements(fk: Any) -> list[str]:
    return [
        r.json()["data"]["attributes"]["query"]
        for r in fk.requests
        if r.path.endswith("/ddsql/query/tabular") and r.json()["data"]["type"] == "ddsql_query_request"
    ]


@pytest.mark.parametrize(
    ("bucket_s", "window", "sent"),
    [
        (300, WINDOW, 1),  # 20 days of 5-minute buckets: 2 to a row, one statement
        (60, Window(WINDOW.start + 12_345, END - 678), 1),  # a window that starts and ends mid-bucket
        (1, WINDOW, 6),  # a one-second bucket over 20 days: 64 to a row, several statements
    ],
)
def test_bucket_counts_fold_buckets_into_rows_and_equal_counting_every_event(
    bucket_s: int, window: Window, sent: int
) -> None:
    items = crafted()
    (counts, cut), fk = run(items, lambda dd: key_engine.bucket_counts(dd, KEY, window, bucket_s))
    size = bucket_s * 1000
    events = list(iter_decode(msgspec.json.encode({"data": items}), "t"))
    want = Counter(e.ts // size for e in events if window.contains(e.ts))
    assert not cut
    assert counts == dict(want)
    assert len(statements(fk)) == sent


def test_evidence_samples_in_one_union_equal_one_statement_each() -> None:
    items = crafted()
    parts = [
        key_engine.EvidencePart(3, ips=("192.0.2.147",)),
        key_engine.EvidencePart(5, country="Romania"),
        key_engine.EvidencePart(4, ips=("192.0.2.148", "203.0.113.9"), since=WINDOW.start + 10 * 86_400_000),
        key_engine.EvidencePart(2, ips=("198.51.100.1",)),  # never used: an empty sample
    ]
    together, fk = run(items, lambda dd: key_engine.evidence_parts(dd, KEY, WINDOW, parts))
    assert len(statements(fk)) == 1
    for part, got in zip(parts, together, strict=True):
        (alone, _), _ = run(
            items,
            lambda dd, p=part: key_engine.evidence_rows(
                dd, KEY, WINDOW, country=p.country, ips=p.ips, since=p.since, limit=p.limit
            ),
        )
        assert [(e.id, e.ts, e.client_ip, e.country) for e in got] == [
            (e.id, e.ts, e.client_ip, e.country) for e in alone
        ]
    assert [len(g) for g in together] == [3, 5, 4, 0]


def test_the_30_minute_buckets_and_the_days_from_one_scan_equal_the_two_statements() -> None:
    items = crafted()

    async def both(dd: DdsqlClient) -> tuple[Any, Any, Any]:
        count = await key_engine.count_key_events(dd, KEY, WINDOW)
        merged = await key_engine.aggregate_key(dd, KEY, WINDOW, count, daily=True)
        alone = await key_engine.aggregate_key(dd, KEY, WINDOW, count)
        return merged, alone, await key_engine.daily_cells(dd, KEY, WINDOW)

    (merged, alone, (days, cut)), fk = run(items, both)
    assert sum("WITH c AS" in s for s in statements(fk)) == 1
    assert merged.halves == alone.halves and len(merged.halves) > 10
    assert merged.aggregates.ips_per_30min == alone.aggregates.ips_per_30min
    assert isinstance(merged.daily, tuple) and not cut and not merged.daily[1]

    def view(rows: Any) -> list[tuple]:
        return sorted(
            (str(e.client_ip), str(e.asn), str(e.asn_name), str(e.geo_timezone), n, lo, hi)
            for e, n, lo, hi in rows
        )

    assert view(merged.daily[0]) == view(days)
