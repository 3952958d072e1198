"""Explore's facet panel never shows a page's counts as the window's (issue 16): when the query matches more
events than were fetched, on an API source the counts come from one DDSQL GROUP BY per facet over the
whole window; when DDSQL is refused they are the fetched events' and the panel says so. Through the real
client against the fake API."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from tui_helpers import screen_text, settle

from ddaudit_tui.analysis.explore import facets
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.widgets.facets import FacetPanel

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 30 * DAY, END)
ITEMS = generate(seed=7, events=1500, end_ms=END)
ALL = [decode_item(msgspec.json.encode(i), "demo") for i in ITEMS]
IN_WINDOW = [e for e in ALL if WINDOW.contains(e.ts)]


async def _no_sleep(_s: float) -> None:
    return None


def app_over(max_events: int | None, **fake: Any) -> tuple[DdauditApp, FakeDatadog]:
    fk = FakeDatadog(ITEMS, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=0, **fake))
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=fk,
        max_events=max_events,
        sleep=_no_sleep,
        label="fake-api",
        retention_days=None,
    )
    return DdauditApp(client, WINDOW, clock=lambda: END / 1000, start_pane="explore"), fk


def ddsql_requests(fk: FakeDatadog) -> int:
    return sum(1 for r in fk.requests if "/ddsql/" in r.path)


async def shown(app: DdauditApp, pilot: Any) -> FacetPanel:
    for _ in range(100):
        await settle(pilot)
        screen = app.screen
        if isinstance(screen, ExploreScreen) and screen.result is not None:
            panel = screen.query_one(FacetPanel)
            if panel.facets and not (panel.note or "").startswith("⟳"):
                return panel
        await asyncio.sleep(0.02)
    raise AssertionError("the facets never arrived")


async def test_past_the_fetch_cap_the_facets_are_the_whole_windows_by_ddsql() -> None:
    app, fk = app_over(max_events=100)
    async with app.run_test(size=(160, 40)) as pilot:
        panel = await shown(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExploreScreen) and screen.result is not None
        assert not screen.result.complete and len(screen.result.events) == 100
        assert ddsql_requests(fk) == 5  # one GROUP BY per facet
        assert list(panel.facets) == facets(IN_WINDOW)
        assert screen.facets == facets(IN_WINDOW)
        assert panel.facets != facets(screen.result.events)  # not the page's counts
        assert panel.note == f"counts of all {len(IN_WINDOW):,} matching events (DDSQL)"
        assert "counts of all" in screen_text(app)


async def test_ddsql_refused_leaves_the_pages_counts_and_the_panel_says_so() -> None:
    app, fk = app_over(max_events=100, enabled=False)
    async with app.run_test(size=(160, 40)) as pilot:
        panel = await shown(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExploreScreen) and screen.result is not None
        assert list(panel.facets) == facets(screen.result.events)
        assert panel.note is not None
        assert panel.note.startswith("⚠ counts of the 100 fetched events only, not the window (DDSQL")


async def test_a_complete_fetch_counts_its_events_without_ddsql_or_note() -> None:
    app, fk = app_over(max_events=None)
    async with app.run_test(size=(160, 40)) as pilot:
        panel = await shown(app, pilot)
        assert ddsql_requests(fk) == 0
        assert panel.note is None
        assert list(panel.facets) == facets(IN_WINDOW)
