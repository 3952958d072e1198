"""The shared sortable table: the width rule (numbers whole, `…` on cut text, dropped columns
announced, spare width to cut text, recomputed on resize) and k9s-like sorting (top after a sort,
column picker, header click, reset to the default order)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from table_audit import table_problems
from textual.app import App, ComposeResult
from tui_helpers import screen_text, settle

from ddaudit_tui.tui.widgets.sortable_table import (
    MORE_KEY,
    ColumnPicker,
    SortableTable,
    TableColumn,
    ellipsize,
    fit_widths,
    more_hint,
)


@dataclass(frozen=True)
class Row:
    name: str
    calls: int
    note: str
    errors: int


COLUMNS: tuple[TableColumn[Row], ...] = (
    TableColumn("name", "name", lambda r, _l: r.name, lambda r: r.name.casefold()),
    TableColumn("calls", "calls", lambda r, _l: r.calls, lambda r: r.calls, "right", descending_first=True),
    TableColumn("note", "note", lambda r, _l: r.note, lambda r: r.note, max_width=12),
    TableColumn("errors", "errors", lambda r, _l: r.errors, lambda r: r.errors, "right", descending_first=True),
)  # fmt: skip

ROWS = [
    Row(f"user{i:02d}@example.com", 139 * (i + 1) * 1000, "a long note that goes on and on " * (i % 3 + 1), i)
    for i in range(30)
]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SortableTable(COLUMNS, identity=lambda r: r.name, empty_text="no rows", id="t")

    def on_mount(self) -> None:
        self.query_one(SortableTable).set_items(ROWS)
        self.query_one(SortableTable).focus()


def table(app: App[None]) -> SortableTable[Row]:
    return app.query_one("#t", SortableTable)


# -- the width rule ------------------------------------------------------------------------------------


def test_numeric_columns_are_never_narrower_than_their_widest_value():
    natural = [20, 9, 40, 6]
    for available in range(20, 120):
        shown, widths = fit_widths(COLUMNS, natural, available, padding=1)
        for i in shown:
            if COLUMNS[i].is_numeric:
                assert widths[i] == natural[i]
        assert 0 in shown  # the first column is never dropped


def test_columns_are_dropped_from_the_right_and_spare_width_goes_to_cut_text():
    natural = [20, 9, 40, 6]
    shown, widths = fit_widths(COLUMNS, natural, 35, padding=1)
    assert shown == [0, 1]  # note and errors dropped whole; the hint takes the rest
    shown, widths = fit_widths(COLUMNS, natural, 200, padding=1)
    assert shown == [0, 1, 2, 3] and widths == {0: 20, 1: 9, 2: 40, 3: 6}  # room: nothing cut
    shown, widths = fit_widths(COLUMNS, natural, 60, padding=1)
    assert shown == [0, 1, 2, 3] and widths[2] == 60 - 8 - 20 - 9 - 6  # all the spare to `note`


def test_ellipsize_marks_every_cut():
    assert ellipsize(Text("dashboard"), 7).plain == "dashbo…"
    assert ellipsize(Text("monitor"), 7).plain == "monitor"


async def test_numbers_whole_cut_text_with_ellipsis_and_the_more_hint_at_every_width():
    app = TableApp()
    for width in (30, 50, 70, 90, 200):
        async with app.run_test(size=(width, 20)) as pilot:
            await settle(pilot)
            t = table(app)
            assert table_problems(app, t) == [], width
            text = screen_text(app)
            if t.column_width("calls") is not None:
                assert "139,000" in text  # the first row's count, whole
            if t.hidden_columns:
                assert more_hint(len(t.hidden_columns)) in text
                assert t.ordered_columns[-1].key.value == MORE_KEY
            if width == 200:
                assert not t.hidden_columns and "…" not in text  # room: nothing cut
        app = TableApp()


async def test_widths_are_recomputed_on_resize():
    app = TableApp()
    async with app.run_test(size=(200, 20)) as pilot:
        await settle(pilot)
        assert not table(app).hidden_columns
        await pilot.resize_terminal(40, 20)
        await settle(pilot)
        assert table(app).hidden_columns
        assert table_problems(app, table(app)) == []
        await pilot.resize_terminal(200, 20)
        await settle(pilot)
        assert not table(app).hidden_columns


async def test_a_cut_cell_has_its_whole_value_as_tooltip():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        t = table(app)
        note = [c.key for c in t.shown_columns].index("note")
        whole = t.rows_in_order[0].note
        x = sum(c.get_render_width(t) for c in t.ordered_columns[:note]) + 2
        await pilot.hover("#t", offset=(x, 1))
        await settle(pilot)
        assert t.tooltip == whole


# -- sorting -------------------------------------------------------------------------------------------


async def test_after_a_sort_the_view_is_at_the_top_with_the_first_row_selected():
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("G")
        await settle(pilot)
        assert t.cursor_row == len(ROWS) - 1 and t.scroll_y > 0
        await pilot.press("s")  # the first column: name, A→Z
        await settle(pilot)
        assert t.cursor_row == 0 and t.scroll_y == 0 and t.cursor_item == t.rows_in_order[0]
        await pilot.press("G", "s")  # next column: calls, biggest first
        await settle(pilot)
        assert t.cursor_row == 0 and t.scroll_y == 0
        assert t.cursor_item is not None and t.cursor_item.calls == max(r.calls for r in ROWS)
        assert "calls ▼" in screen_text(app)  # the indicator is on the column's header


async def test_S_opens_a_column_picker_that_sorts_by_the_chosen_column_and_reverses_on_the_same():
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, ColumnPicker)
        await pilot.press("down", "down", "down", "enter")  # errors
        await settle(pilot)
        assert not isinstance(app.screen, ColumnPicker) and app.focused is t
        assert t.sort_description == "errors ▼"
        assert [r.errors for r in t.rows_in_order] == sorted((r.errors for r in ROWS), reverse=True)
        await pilot.press("S", "enter")  # the picker opens on the sorted column: again reverses it
        await settle(pilot)
        assert t.sort_description == "errors ▲"
        await pilot.press("S", "escape")  # Esc keeps the sort
        await settle(pilot)
        assert t.sort_description == "errors ▲"


async def test_a_header_click_sorts_by_that_column_and_again_reverses():
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        t = table(app)
        x = t.ordered_columns[0].get_render_width(t) + 2  # inside `calls`
        await pilot.click("#t", offset=(x, 0))
        await settle(pilot)
        assert t.sort_description == "calls ▼"
        await pilot.click("#t", offset=(x, 0))
        await settle(pilot)
        assert t.sort_description == "calls ▲"
        assert [r.calls for r in t.rows_in_order] == sorted(r.calls for r in ROWS)


async def test_reset_sort_returns_to_the_data_order():
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        t = table(app)
        await pilot.press("s", "s")
        await settle(pilot)
        assert t.sort_index == 1
        t.reset_sort()
        await settle(pilot)
        assert t.sort_index is None and t.rows_in_order == ROWS


class TabsApp(App[None]):
    """The table on a tab that is hidden while it is filled (Key lookup's sections)."""

    def compose(self) -> ComposeResult:
        from textual.widgets import Static, TabbedContent, TabPane

        with TabbedContent(initial="a", id="tabs"):
            with TabPane("A", id="a"):
                yield Static("first")
            with TabPane("B", id="b"):
                yield SortableTable(COLUMNS, identity=lambda r: r.name, empty_text="no rows", id="t")


async def test_a_table_filled_on_a_hidden_tab_fits_the_width_it_has_when_shown():
    # Filled while hidden, the table had no width and laid its columns out for "everything fits"; when
    # its tab opens it must fit the width it really has (the 60×20 Key lookup › Deleted defect), on
    # every try — repeated, because the old fix depended on when the layout happened to run.
    for _ in range(5):
        app = TabsApp()
        async with app.run_test(size=(60, 20)) as pilot:
            table(app).set_items(ROWS)
            await pilot.pause()
            app.query_one("#tabs").active = "b"
            await pilot.pause()
            await pilot.pause()
            assert table(app)._built_width == table(app).scrollable_content_region.width
            assert table_problems(app, table(app)) == []
