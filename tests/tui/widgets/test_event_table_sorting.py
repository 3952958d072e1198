"""Explore's event table sorts like k9s: top after a sort, the column picker, and a new query or
preset starting in the default order (issue 12 item 5: Failed logins came up sorted by actor)."""

from __future__ import annotations

from tui_helpers import screen_text, settle

from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.preset_dialog import PresetRun
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.sortable_table import ColumnPicker


async def test_a_sort_goes_to_the_top_and_a_new_query_or_preset_starts_in_the_default_order(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        table = screen.query_one(EventTable)
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, ColumnPicker)
        actor = [c.key for c in table.columns].index("actor")
        for _ in range(actor):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert table.sort_column.key == "actor" and table.cursor_row == 0 and table.scroll_y == 0
        assert "actor ▲" in table.render_line(0).text
        # A new query: newest first again.
        assert screen.run_query("@evt.name:Request")
        await settle(pilot)
        assert table.sort_column.key == "time" and table.sort_reverse
        assert "sorted by time ▼" in screen_text(app)
        # Sorted again, then a preset: newest first again.
        table.sort_by(actor)
        await settle(pilot)
        run = PresetRun("failed logins", "@evt.name:Request", app.window, "", ())
        screen.run_preset(run)
        await settle(pilot)
        assert table.sort_column.key == "time" and table.sort_reverse
        # The same query run again keeps the sort the user chose.
        table.sort_by(actor)
        screen.action_rerun()
        await settle(pilot)
        assert table.sort_column.key == "actor"
