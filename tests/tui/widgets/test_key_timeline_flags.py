"""Key lookup's timeline gives its flags column its width (issue 11: at 120 columns every flag read
`! NEW-COUNT…`): the flags are never cut; other columns give way (and scroll, with the header's ▶)."""

from __future__ import annotations

import pytest
from test_key_pane import COMPROMISED, key_app, look_up
from textual.widgets import TabbedContent
from tui_helpers import screen_lines, settle

from ddaudit_tui.tui.widgets.key_tables import KeyTimelineTable


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
async def test_timeline_flags_are_never_cut(size: tuple[int, int]):
    app = key_app()
    async with app.run_test(size=size) as pilot:
        await look_up(pilot, COMPROMISED)
        app.screen.query_one("#key-sections", TabbedContent).active = "timeline"
        await settle(pilot)
        table = app.screen.query_one(KeyTimelineTable)
        flags = [c.key for c in table.columns].index("flags")
        assert flags == 1  # right after the (frozen) time column: always on screen
        region = table.region
        lines = screen_lines(app)
        x = region.x + 1 + table._widths[0] + 1
        width = table._widths[flags]
        seen = 0
        for row in range(min(table.row_count, region.height - 1)):
            shown = lines[region.y + 1 + row][x : x + width].strip()
            whole = table.signals.text(table.rows[row]) or ""
            assert shown == whole, (row, shown, whole)
            seen += bool(whole)
        assert seen  # the compromised key's first events are flagged
