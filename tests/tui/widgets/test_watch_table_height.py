"""Spike watch's tables grow into the free height (issue 11 item 2): at 200×50 a long actor table is
not capped at a dozen rows while the screen has room."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FROZEN_NOW
from table_audit import table_problems
from test_watch_pane import NOW_MS, memory_app
from watch_pane_helpers import MemorySource, TestClock, polled, role_grants

pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


@pytest.mark.parametrize("size", [(200, 50), (120, 35), (80, 24)], ids=["200x50", "120x35", "80x24"])
async def test_a_long_actor_table_uses_the_free_height(tmp_path: Path, size: tuple[int, int]):
    clock = TestClock(FROZEN_NOW)
    events = []
    for i in range(40):
        events += role_grants(NOW_MS, f"actor{i:02d}@example.com", [5 + i * 0.1])
    app = memory_app(tmp_path, MemorySource(events), clock)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        actors, alerts = screen.actor_table, screen.alert_table
        assert len(actors.items) == 40
        rows_shown = actors.scrollable_content_region.height - actors.header_height
        if size == (200, 50):
            assert rows_shown >= 20  # was 11 (max-height 13), with ~26 blank rows under the alerts
        # The alerts keep room too.
        assert alerts.size.height >= 3
        for table in (actors, alerts):
            assert table_problems(app, table) == []
