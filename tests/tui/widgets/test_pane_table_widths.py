"""Every table of the AI, Key lookup and Spike watch panes tells the truth at 80×24, 120×35, 200×50:
numbers in full, cut text ending in `…`, dropped columns announced (issue 11 items 1–2).

Each failed on the old tables: AI users' `tool calls` 139 read `13` at 120×35, RESOURCES CHANGED read
`dashboa` (no `…`), Key lookup › Deleted read `coun` / `Roma` at 120 columns."""

from __future__ import annotations

from typing import Any

import pytest
from table_audit import table_problems
from test_ai_pane import demo_app as ai_demo_app
from test_ai_pane import open_ai
from test_key_pane import COMPROMISED, key_app, look_up
from test_sizes import demo_app as sizes_demo_app
from textual.widgets import DataTable, TabbedContent
from tui_helpers import settle
from watch_pane_helpers import polled

SIZES = [(80, 24), (120, 35), (200, 50)]
IDS = [f"{w}x{h}" for w, h in SIZES]


def all_problems(app: Any) -> list[str]:
    problems: list[str] = []
    for table in app.screen.query(DataTable):
        problems += table_problems(app, table)
    return problems


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_ai_tables_show_every_value_truthfully(size: tuple[int, int]):
    app = ai_demo_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_ai(pilot)
        assert all_problems(app) == []
        # Every table in turn, scrolled into view (the narrow layout scrolls the tables).
        for key in "utcaym":
            await pilot.press(key)
            await settle(pilot)
            assert all_problems(app) == [], key
        assert screen.query_one("#ai-users") is not None


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_key_lookup_tables_show_every_value_truthfully(size: tuple[int, int]):
    app = key_app()
    async with app.run_test(size=size) as pilot:
        await look_up(pilot, COMPROMISED)
        tabs = app.screen.query_one("#key-sections", TabbedContent)
        for section in ("origins", "networks", "endpoints", "deleted"):
            tabs.active = section
            await settle(pilot)
            assert all_problems(app) == [], section


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_watch_tables_show_every_value_truthfully(size: tuple[int, int]):
    app = sizes_demo_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await polled(pilot, 1)
        assert all_problems(app) == []
