"""The Explore pane driven through Pilot: queries, facets, sorting, cursor keys, detail, export, help."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from conftest import FROZEN_NOW
from textual.widgets import Input
from tui_helpers import screen_text, settle
from tui_synthetic import decode_items, make_items

from ddaudit_tui.analysis.explore import facets
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.facets import FacetPanel
from ddaudit_tui.tui.widgets.header import PaneHeader


def newest_first(events):
    return sorted(events, key=lambda e: (e.ts, e.id), reverse=True)


async def type_query(pilot, text: str) -> None:
    """`/`, the query, Enter. The text is put in directly (typing is covered on its own, and a key
    press costs Pilot ~50 ms)."""
    await pilot.press("slash")
    query = pilot.app.screen.query_one(QueryInput)
    assert query.has_focus
    query.value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_opens_on_explore_with_the_source_events(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert app.current_mode == "explore"
        assert isinstance(app.screen, ExploreScreen)
        table = app.screen.query_one(EventTable)
        expected = newest_first(decode_items(items))
        assert table.row_count == len(items) == 200
        assert [e.id for e in table.rows[:3]] == [e.id for e in expected[:3]]
        assert table.has_focus
        header = app.screen.query_one(PaneHeader).plain
        assert "synthetic.ndjson" in header
        assert "2026-07-01 00:00:00Z → 2026-07-04 00:00:00Z" in header
        assert "200 events · complete" in header
        assert "showing 200 events" in screen_text(app)


async def test_typing_a_query_and_enter_filters(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await type_query(pilot, "@evt.name:Monitor @action:deleted")
        table = app.screen.query_one(EventTable)
        expected = newest_first(e for e in decode_items(items) if e.evt_name == "Monitor")
        assert 0 < table.row_count == len(expected) < len(items)
        assert table.rows[0].id == expected[0].id
        assert table.has_focus  # Enter hands the keys back to the table
        assert f"showing {len(expected)} events" in screen_text(app)


async def test_keys_typed_right_after_slash_land_in_the_query(make_app, items):
    """A fast typist, a paste or tmux send-keys: `/network` arrives at once. Every key after `/` belongs
    to the query box (before, `focus()` was scheduled behind the queued keys: `n` opened the note dialog
    and `e` the export)."""
    from textual import events

    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        for ch in "/network":  # all queued before the app handles the first
            app.post_message(events.Key("slash" if ch == "/" else ch, ch))
        await settle(pilot)
        assert app.screen is screen  # no dialog opened
        assert screen.query_one(QueryInput).value == "network"


async def test_slash_inside_the_query_is_text(make_app, items):
    """`/` is the pane's "edit the query" key, but a query holds paths: typed in the box it is text."""
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "a", "slash", "b")
        assert app.screen.query_one(QueryInput).value == "a/b"


async def test_a_pasted_query_with_its_enter_runs_whole(make_app, items):
    """`/@action:deleted⏎` in one burst: the Enter comes after the text it submits."""
    from textual import events

    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        keys = [("slash", "/")] + [(c, c) for c in "@action:deleted"] + [("enter", "\r")]
        for key, ch in keys:
            app.post_message(events.Key(key, ch))
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        deleted = [e for e in decode_items(items) if e.action == "deleted"]
        assert app.screen.query_one(QueryInput).value == "@action:deleted"
        assert 0 < table.row_count == len(deleted)


async def test_malformed_query_shows_the_error_inline_and_keeps_running(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await type_query(pilot, '@evt.name:"Request')
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        error = screen.query_error
        assert error is not None
        assert "^" in error and "column 11" in error and "unterminated" in error
        assert screen.query_one(EventTable).row_count == 200  # the previous result stays
        assert app.is_running
        # A good query clears it.
        await type_query(pilot, "@evt.name:Request")
        assert screen.query_error is None
        assert screen.query_one(EventTable).row_count < 200


async def test_facet_enter_adds_the_value_and_x_excludes(make_app, items):
    app = make_app(items)
    events = decode_items(items)
    top = facets(events)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(FacetPanel)
        panel.focus()
        await pilot.pause()
        first = top[0].values[0]  # most frequent evt.name
        assert panel.highlighted_value == first
        await pilot.press("enter")
        await settle(pilot)
        query = app.screen.query_one(QueryInput)
        assert query.value == f'@evt.name:"{first.value}"'
        table = app.screen.query_one(EventTable)
        assert table.row_count == first.count
        # Exclude the highlighted action value from the narrowed result.
        panel = app.screen.query_one(FacetPanel)
        panel.focus()
        await pilot.press("j")  # from evt.name's only value onto... whatever is next
        value = panel.highlighted_value
        assert value is not None
        await pilot.press("minus")  # `x` is the app's pivot menu (tests/tui/test_pivots.py)
        await settle(pilot)
        assert query.value == f'@evt.name:"{first.value}" -{value.field}:"{value.value}"'
        q = parse_query(query.value)
        assert table.row_count == len(q.filter(events))


async def test_sort_keys_and_header_click_change_the_order(make_app, items):
    app = make_app(items)
    events = newest_first(decode_items(items))
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press("s")  # time → evt.name, ascending
        by_name = sorted(events, key=lambda e: e.evt_name.casefold())
        assert table.sort_column.key == "evt.name" and not table.sort_reverse
        assert [e.id for e in table.rows] == [e.id for e in by_name]
        assert "sorted by evt.name ▲" in screen_text(app)
        await pilot.press("S", "enter")  # the column picker: the sorted column again reverses it
        await settle(pilot)
        assert table.sort_reverse
        assert [e.id for e in table.rows] == [
            e.id for e in sorted(events, key=lambda e: e.evt_name.casefold(), reverse=True)
        ]
        assert "evt.name ▼" in table.render_line(0).text
        # Click the "action" header: sort by it; click again: reversed.
        x = table.render_line(0).text.index("action")
        await pilot.click(EventTable, offset=(x, 0))
        assert table.sort_column.key == "action" and not table.sort_reverse
        assert [e.id for e in table.rows] == [e.id for e in sorted(events, key=lambda e: e.action.casefold())]
        await pilot.click(EventTable, offset=(x, 0))
        assert table.sort_reverse
        # Status: numbers sort numerically, events without one last.
        table.sort_by([c.key for c in table.columns].index("status"))
        statuses = [e.http_status for e in table.rows]
        present = [s for s in statuses if s is not None]
        assert present == sorted(present)
        assert statuses[len(present) :] == [None] * (len(statuses) - len(present))


async def test_cursor_keys(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press("j", "j", "j", "k")
        assert table.cursor_row == 2
        await pilot.press("G")
        assert table.cursor_row == 199
        assert table.visible_range[-1] == 199
        assert table.cursor_event.id == table.rows[-1].id
        await pilot.press("g")
        assert table.cursor_row == 0 and table.visible_range[0] == 0
        page = len(table.visible_range)
        await pilot.press("ctrl+d")
        assert table.cursor_row == page // 2
        await pilot.press("ctrl+u")
        assert table.cursor_row == 0
        await pilot.press("pagedown")
        assert table.cursor_row == page
        await pilot.press("end", "up", "home", "down")
        assert table.cursor_row == 1
        # The cursor row carries a marker glyph (not colour alone).
        assert table.render_line(2).text.startswith("▶")


async def test_enter_opens_the_detail_with_the_full_json(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press("j")
        ev = table.cursor_event
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert json.loads(detail.json_text) == ev.item()
        assert f'"id": "{ev.id}"' in screen_text(app)
        await pilot.press("n")
        assert json.loads(detail.json_text)["id"] == table.rows[2].id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert table.cursor_row == 2  # the table follows what was viewed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        await pilot.press("q")  # q closes the detail, it does not quit
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen) and app.is_running


async def test_export_writes_a_private_ndjson_that_reads_back(make_app, items, tmp_path: Path):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await type_query(pilot, "@action:accessed")
        table = app.screen.query_one(EventTable)
        shown = [e.id for e in table.rows]
        await pilot.press("e")
        await settle(pilot)
        path = tmp_path / "ddaudit-explore-20260704T120000Z.ndjson"
        assert FROZEN_NOW == 1783166400.0
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        assert data.count(b"\n") == len(shown)
        assert [e.id for e in iter_decode(data, str(path))] == shown
        assert json.loads(data.splitlines()[0]) == table.rows[0].api_item()
        toast = (
            app._notifications.last if hasattr(app._notifications, "last") else list(app._notifications)[-1]
        )
        assert str(path) in toast.message and toast.markup is False
        # A second export in the same (frozen) second does not overwrite the first.
        await pilot.press("e")
        await settle(pilot)
        assert (tmp_path / "ddaudit-explore-20260704T120000Z-2.ndjson").exists()


async def test_help_lists_every_binding(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = help_screen.text
        for cls in (EventTable, FacetPanel, ExploreScreen, EventDetailScreen, QueryInput, type(app)):
            for _key, binding in cls._merge_bindings():
                assert binding.description in text, (cls.__name__, binding)
        for title in ("GLOBAL", "EXPLORE", "EVENT TABLE", "FACETS", "QUERY INPUT", "EVENT DETAIL"):
            assert title in text
        assert "ctrl+p" in text or "^p" in text  # the command palette binding is listed too
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)


async def test_command_palette_offers_pane_actions(make_app, items, tmp_path: Path):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"export")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "ddaudit-explore-20260704T120000Z.ndjson").exists()


async def test_z_toggles_utc_and_local_time_everywhere(make_app, items, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    app = make_app(items)
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(PaneHeader)
        table = app.screen.query_one(EventTable)
        assert "2026-07-01 00:00:00Z" in header.plain and "(UTC)" in header.plain
        assert table.render_line(1).text[1:21].endswith("Z")
        await pilot.press("z")
        await pilot.pause()
        assert app.local_time
        assert "2026-07-01 02:00:00+02:00" in header.plain and "(local)" in header.plain
        assert "+02:00" in table.render_line(1).text
        await pilot.press("z")
        await pilot.pause()
        assert "(UTC)" in header.plain and "+02:00" not in table.render_line(1).text


async def test_pane_keys_come_from_the_pane_registry(make_app, items):
    from ddaudit_tui.tui.app import PANES

    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        keys = {b.key: b.action for _k, b in app._bindings}
        for pane in PANES:
            assert keys[pane.key] == f"switch_pane('{pane.mode}')"
        await pilot.press("4")
        await settle(pilot)
        assert app.current_mode == "explore" and isinstance(app.screen, ExploreScreen)


async def test_q_quits(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_typing_q_in_the_query_types_it(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q", "z", "question_mark", "4")
        assert app.is_running and not app.local_time
        assert app.screen.query_one(Input).value == "qz?4"
        await pilot.press("escape")
        assert app.screen.query_one(EventTable).has_focus


async def test_initial_query_is_run_and_shown(make_app, items):
    app = make_app(items, query="@action:login")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(QueryInput).value == "@action:login"
        expected = [e for e in decode_items(items) if e.action == "login"]
        assert app.screen.query_one(EventTable).row_count == len(expected)


async def test_empty_result(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await type_query(pilot, "@usr.email:nobody@nowhere")
        table = app.screen.query_one(EventTable)
        assert table.row_count == 0
        assert "no events" in table.render_line(1).text
        await pilot.press("j", "G", "enter", "s", "e")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, ExploreScreen)
        assert any("Nothing to export" in n.message for n in app._notifications)


def test_make_items_is_deterministic():
    assert make_items(20) == make_items(20)
