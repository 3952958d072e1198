"""Explore's facet counts by DDSQL (issue 16): one GROUP BY per facet over the whole window gives the facets
of every matching event — the same values, counts, order and distinct counts as counting the events
themselves — through the real client against the fake API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ddaudit_tui.analysis.explore import facets
from ddaudit_tui.analysis.facet_engine import (
    BASIS_DDSQL,
    BASIS_FETCHED,
    FacetCounts,
    panel_note,
    window_facets,
)
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.sources.ddsql import DdsqlClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 30 * DAY, END)


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return generate(seed=7, events=3000, end_ms=END)


async def _no_sleep(_s: float) -> None:
    return None


def run(items: list[dict], query: str) -> tuple[Any, Any, int]:
    async def go() -> tuple[Any, Any, int]:
        fake = FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=1))
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake, sleep=_no_sleep
        )
        try:
            fetched = await client.fetch(query, WINDOW)
            assert fetched.complete
            counted = await window_facets(DdsqlClient(client, sleep=_no_sleep), query, WINDOW)
            return facets(fetched.events), counted, len(fetched.events)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("query", ["*", "@evt.name:Request", "-@usr.email:* OR @action:deleted"])
def test_group_bys_equal_the_counts_over_every_event(items: list[dict], query: str) -> None:
    expected, counted, n = run(items, query)
    assert n > 0
    assert counted.basis == BASIS_DDSQL
    assert counted.total == n
    assert counted.facets == expected
    assert counted.requests == 2 * len(expected)  # one execute and one fetch (running → completed) each
    assert counted.truncated == []


def test_the_panel_note_says_what_the_counts_are() -> None:
    assert panel_note(FacetCounts([], BASIS_FETCHED, 200), 200, complete=True) is None
    fetched = FacetCounts([], BASIS_FETCHED, 200, note="DDSQL refused")
    assert panel_note(fetched, 200, complete=False) == (
        "⚠ counts of the 200 fetched events only, not the window (DDSQL refused)"
    )
    whole = FacetCounts([], BASIS_DDSQL, 12_345, truncated=["user"])
    assert panel_note(whole, 200, complete=False) == (
        "counts of all 12,345 matching events (DDSQL); user cut at 10,000 values"
    )
