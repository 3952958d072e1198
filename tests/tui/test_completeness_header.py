"""The pane header says how complete the answer is (issue 16, item 1): requests, events and time when
complete; `⚠ PARTIAL: <why>` when the fake API answered `meta.status: timeout` — never a success glyph."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tui_helpers import settle
from tui_synthetic import T0, WINDOW, make_item

from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.widgets.header import PaneHeader

N = 120


def app_over(make_app: Callable[..., DdauditApp], faults: FaultPlan | None) -> DdauditApp:
    rng = random.Random(3)
    step = (WINDOW.end - WINDOW.start) // (N + 1)
    items: list[dict[str, Any]] = [make_item(i, T0 + (i + 1) * step, rng) for i in range(N)]
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=FakeDatadog(items, faults=faults),
        concurrency=1,
        page_limit=50,
        label="fake-api",
        retention_days=None,  # the synthetic window is in the past: no retention note here
    )
    return make_app(source=client)


async def test_a_partial_answer_is_marked_partial_in_the_header_without_a_success_glyph(make_app) -> None:
    app = app_over(make_app, FaultPlan(at={1: "partial"}))
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        header = app.screen.query_one(PaneHeader).plain
        assert "⚠ PARTIAL: server timeout (meta.status: timeout) on page 1" in header
        assert "✓" not in header and "complete" not in header
        assert app.screen.status.kind == "partial"


async def test_a_complete_answer_says_requests_events_and_time(make_app) -> None:
    app = app_over(make_app, None)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(PaneHeader).plain
        # Pages of 50, 50 and 20, then the empty terminal page; elapsed is pinned to 0 in TUI tests.
        assert f"✓ {N} events · complete · 4 requests · 0 ms" in header
        assert app.screen.status.kind == "complete"
