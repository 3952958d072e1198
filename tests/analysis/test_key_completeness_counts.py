"""The key report's completeness record counts everything the lookup asked and got (issue 16 item 1): every
request the fake Datadog API answered — pages, DDSQL group-bys, deletions, the key's creation and
notifications, the key lookup (`/api/v2/api_keys`), existence checks, and the bounded evidence samples
fetched past the page budget — and every event that travelled, evidence rows and deletions included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ddaudit_tui.analysis.key_investigation import InvestigationOptions, investigate_key
from ddaudit_tui.analysis.keys import KeyReport
from ddaudit_tui.demo.catalog import API_KEYS
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 90 * DAY, END)
KEYS = sorted(API_KEYS)


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return generate(seed=7, end_ms=END)


async def _no_sleep(_s: float) -> None:
    return None


def lookup(items: list[dict], key: str, engine: str, **kwargs: Any) -> tuple[KeyReport, FakeDatadog]:
    fk = FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=1))
    page_limit = kwargs.pop("page_limit", 1000)

    async def go() -> KeyReport:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=fk,
            page_limit=page_limit,
            sleep=_no_sleep,
        )
        try:
            options = InvestigationOptions(engine=engine, **kwargs)
            return await investigate_key(client, key, WINDOW, options=options, now_ms=END)
        finally:
            await client.aclose()

    return asyncio.run(go()), fk


@pytest.mark.parametrize("key", KEYS)
def test_past_the_budget_every_request_and_every_evidence_event_is_counted(items, key: str) -> None:
    report, fk = lookup(items, key, "auto", page_limit=100, max_pages=2)
    c = report.completeness
    assert c is not None
    assert c.requests == len(fk.requests)
    # Evidence rows and deletions are events that travelled: "fetched" holds them beside the pages'.
    travelled = {e.id for e in report.events} | {e.id for e in report.related}
    assert c.events_fetched >= len(travelled)
    assert c.events_fetched <= c.events_matched if c.events_matched is not None else True


@pytest.mark.parametrize("engine", ["search", "ddsql"])
def test_within_the_budget_the_counts_are_those_of_the_fetches(items, engine: str) -> None:
    key = KEYS[0]
    report, fk = lookup(items, key, engine)
    c = report.completeness
    assert c is not None and c.complete
    assert c.requests == len(fk.requests)
    assert c.events_fetched == len(report.events) + len(report.related)
