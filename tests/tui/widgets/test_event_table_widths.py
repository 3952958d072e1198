"""Explore's event table follows the table rule (issue 11): from 200 columns every column is on screen
(none cropped by the edge, where the ASN lost its end without `…`), each cell is drawn whole or ends in
`…`, and text is cut only when no width is left over."""

from __future__ import annotations

import pytest
from test_sizes import demo_app
from textual.app import App, ComposeResult
from tui_helpers import screen_lines, settle
from tui_synthetic import decode_items, make_items

from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.event_table import EventTable


@pytest.mark.parametrize("size", [(120, 35), (200, 50), (250, 70)], ids=["120x35", "200x50", "250x70"])
async def test_event_cells_are_whole_or_end_in_an_ellipsis(size: tuple[int, int]):
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        region = table.region
        lines = screen_lines(app)
        width = table.scrollable_content_region.width
        header = lines[region.y][region.x : region.x + width]
        if size[0] >= 200:
            # Every column fits the width (their minimums do): nothing is cropped by the right edge.
            assert table.virtual_size.width <= width, header
            assert not header.rstrip().endswith("▶"), header
        cut = 0
        for row in range(min(table.row_count, region.height - 2)):
            line = lines[region.y + 1 + row]
            ev = table.rows[row]
            x = region.x + 1  # the cursor gutter
            for col, w in zip(table.columns, table._widths, strict=True):
                shown = line[x : x + w].strip()
                whole = clean(col.text(ev, False) or "")
                x += w + 1
                if x - 1 > region.x + width:
                    break  # scrolled off (the header's ▶ says so)
                if shown != whole:
                    assert shown.endswith("…") and whole.startswith(shown[:-1]), (col.key, shown, whole)
                    cut += 1
        if cut:
            # Text is cut only when no width is left over.
            assert 1 + sum(table._widths) + len(table._widths) - 1 >= width


class _EventsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventTable(id="events")


async def test_rows_arriving_after_layout_do_not_crop_the_last_column():
    """The events arrive after the table is laid out (a fetch): the vertical scrollbar that appears
    then must not take a cell from the fitted columns (the ASN lost its last letter, with no `…`)."""
    events = decode_items(make_items(200))
    app = _EventsApp()
    async with app.run_test(size=(150, 20)) as pilot:
        await settle(pilot)
        table = app.query_one(EventTable)
        table.set_events(events)
        await settle(pilot)
        width = table.scrollable_content_region.width
        assert table.virtual_size.width <= width
        assert not screen_lines(app)[0].rstrip().endswith("▶")


async def test_a_column_that_does_not_fit_is_not_drawn_cropped(make_app, items):
    """When the columns scroll (narrow), the view ends after the last whole column: no cell is cut by
    the edge without `…` (the header's ▶ says more columns follow)."""
    app = make_app(items)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        region = table.region
        width = table.scrollable_content_region.width
        assert table.virtual_size.width > width  # the columns scroll at this size
        lines = screen_lines(app)
        assert lines[region.y][region.x : region.x + width].rstrip().endswith("▶")
        right = region.x + width
        for row in range(min(table.row_count, region.height - 2)):
            line = lines[region.y + 1 + row]
            ev = table.rows[row]
            x = region.x + 1
            for col, w in zip(table.columns, table._widths, strict=True):
                start, end = x, x + w
                x += w + 1
                if start >= right:
                    break
                shown = line[start : min(end, right)].strip()
                if end > right:
                    assert shown == "", (col.key, shown)  # cropped: not drawn at all
                    break
                whole = clean(col.text(ev, False) or "")
                assert shown == whole or (shown.endswith("…") and whole.startswith(shown[:-1])), (
                    col.key,
                    shown,
                )
