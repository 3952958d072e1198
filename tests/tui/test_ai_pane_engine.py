"""AI activity in the TUI goes through `ddaudit ai`'s engine choice (issue 16): on the demo — the real
Datadog client against the fake API — with a page budget smaller than the week's AI events, `auto` lets
DDSQL count the bulk; the pane's numbers are those of paging, and a drill-down lists every call of the
person (fetched whole, as `ddaudit ai --user` does), not only the calls the aggregate engine fetched."""

from __future__ import annotations

import asyncio
from typing import Any

from test_key_pane_engine import END, WINDOW, ddsql_requests, demo_client, demo_fake
from tui_helpers import settle

from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.ai import AiScreen, AiUserScreen, ai_window
from ddaudit_tui.tui.widgets.header import PaneHeader

BUDGET = 1  # the week's ~190 AI events need 2 pages of 100


async def until(pilot: Any, ready: Any) -> None:
    for _ in range(200):  # the analysis runs in a worker over the fake API
        await settle(pilot)
        if ready():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def paged(user: str | None = None) -> Any:
    client = demo_client(demo_fake())
    try:
        return await investigate_ai(client, ai_window(WINDOW), user=user, engine="search")
    finally:
        await client.aclose()


async def test_the_ai_pane_aggregates_past_the_budget_and_counts_as_paging() -> None:
    fake = demo_fake()
    app = DdauditApp(demo_client(fake), WINDOW, clock=lambda: END / 1000, start_pane="ai")
    app.key_max_pages = BUDGET  # type: ignore[attr-defined]  # what `ddaudit --max-pages 1` sets
    expected = await paged()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, AiScreen)
        await until(pilot, lambda: screen.result is not None)
        result = screen.result
        assert result is not None and result.completeness is not None
        assert result.completeness.engine == "search+ddsql" and ddsql_requests(fake) > 0
        assert result.counts == expected.counts and result.summary == expected.summary
        assert [(f.signal, f.subject) for f in result.flags] == [
            (f.signal, f.subject) for f in expected.flags
        ]
        header = screen.query_one(PaneHeader).plain
        assert f"{expected.counts['ai_events']:,} AI events" in header

        # The drill-down on the busiest person: every one of their calls, as paging lists them.
        user = max(expected.users, key=lambda u: u.calls).user
        mine = await paged(user)
        app.push_screen(AiUserScreen(result, user))
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, AiUserScreen)
        await until(pilot, lambda: drill.result is not None)
        assert drill.result is not None
        assert sorted(c.id for c in drill.result.calls) == sorted(c.id for c in mine.calls)
        assert drill.result.counts == mine.counts
