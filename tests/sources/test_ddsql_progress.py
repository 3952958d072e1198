"""DDSQL's wait for a `running` query shows progress the way the rate-limit wait does (issue 16 item 4):
"waiting for DDSQL (query running, 4 s)" through the same `report(seconds, message)` reporter, cleared
when the answer comes — and the key lookup's progress callback hears it."""

from __future__ import annotations

import asyncio
from typing import Any

from ddaudit_tui.analysis.key_investigation import InvestigationOptions, investigate_key
from ddaudit_tui.demo.catalog import COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.base import Progress
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.ddsql import AuditColumn, DdsqlClient, audit_query, filter_term
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
WINDOW = Window(END - 90 * 86_400_000, END)
IP = [AuditColumn("@network.client.ip", "ip")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def fake(polls: int) -> FakeDatadog:
    items = generate(seed=5, events=500, end_ms=END)
    return FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=polls))


def test_each_poll_of_a_running_query_is_reported_with_how_long_it_has_run() -> None:
    heard: list[tuple[float, str]] = []
    clock = Clock()

    async def go() -> Any:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake(3), sleep=clock.sleep
        )
        async with client:
            dd = DdsqlClient(client, clock=clock, report=lambda s, m: heard.append((s, m)))
            sql = audit_query(["COUNT(*) AS n"], IP, filter_term("@metadata.api_key.id", COMPROMISED_KEY))
            return await dd.query(sql, WINDOW)

    result = asyncio.run(go())
    assert result.rows and result.requests == 4  # execute + 3 fetches
    waits = [(s, m) for s, m in heard if s > 0]
    # Pauses of 0.5, 1 and 2 s; the time said is how long the query has been running when the wait starts.
    assert waits == [
        (0.5, "waiting for DDSQL (query running, 1 s)"),
        (1.0, "waiting for DDSQL (query running, 1 s)"),
        (2.0, "waiting for DDSQL (query running, 2 s)"),
    ]
    assert heard[-1] == (0.0, "")  # cleared once the answer came


def test_a_query_answered_at_once_reports_nothing() -> None:
    heard: list[tuple[float, str]] = []

    async def go() -> None:
        client = DatadogClient(Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake(0))
        async with client:
            dd = DdsqlClient(client, report=lambda s, m: heard.append((s, m)))
            await dd.query(audit_query(["COUNT(*) AS n"], IP), WINDOW)

    asyncio.run(go())
    assert heard == []


def test_the_key_lookup_progress_hears_the_ddsql_wait() -> None:
    seen: list[Progress] = []

    async def go() -> None:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake(2), sleep=Clock().sleep
        )
        async with client:
            await investigate_key(
                client,
                COMPROMISED_KEY,
                WINDOW,
                options=InvestigationOptions(engine="ddsql"),
                progress=seen.append,
                now_ms=END,
            )

    asyncio.run(go())
    messages = [p.message for p in seen if p.waiting_s > 0]
    assert messages and all(m.startswith("waiting for DDSQL (query running, ") for m in messages)
    assert any(
        p.waiting_s == 0 and not p.message for p in seen[seen.index(next(p for p in seen if p.message)) :]
    )
