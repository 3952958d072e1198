"""The frame around the panes: header status (progress, partial, errors), layout breakpoints, safety."""

from __future__ import annotations

import asyncio
import random

from rich.segment import Segment
from tui_helpers import screen_lines, screen_text, settle
from tui_synthetic import T0, WINDOW, decode_items, make_item
from watch_pane_helpers import settle_watch

from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.screens.base import TooSmall
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.facets import FacetPanel
from ddaudit_tui.tui.widgets.header import PaneHeader


class ScriptedSource:
    """A Source whose fetch does what the test says: report progress, wait, fail, return partial."""

    label = "scripted"

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events = events or []
        self.release = asyncio.Event()
        self.wait = False
        self.error: Exception | None = None
        self.complete = True
        self.warnings: list[str] = []
        self.queries: list[str] = []
        self.closed = False

    def default_window(self) -> Window | None:
        return None

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        self.queries.append(query)
        if progress is not None:
            progress(Progress(events=12_345, pages=14))
        if self.wait:
            await self.release.wait()
        if progress is not None:
            progress(Progress(events=12_345, pages=14, waiting_s=3, message="rate limited, retrying in 3 s"))
        if self.error is not None:
            raise self.error
        return FetchResult(
            events=self.events, window=window, query=query, complete=self.complete, warnings=self.warnings
        )

    async def aclose(self) -> None:
        self.closed = True


async def test_header_shows_fetch_progress_then_the_count(make_app):
    source = ScriptedSource(decode_items([make_item(i, T0 + i * 1000, random.Random(i)) for i in range(30)]))
    source.wait = True
    app = make_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.pause()
        header = app.screen.query_one(PaneHeader)
        assert "fetching… 12,345 events, 14 pages" in header.plain
        source.release.set()
        await settle(pilot)
        assert "✓ 30 events · complete" in header.plain
        await pilot.press("q")
        await pilot.pause()
        assert source.closed


async def test_rate_limit_message_is_shown_while_waiting(make_app):
    from ddaudit_tui.tui.widgets.header import Status

    status = Status.from_progress(
        Progress(events=10, pages=1, waiting_s=3, message="rate limited, retrying in 3 s")
    )
    assert status.kind == "waiting" and "rate limited, retrying in 3 s" in status.text


async def test_partial_result_is_flagged_in_header_and_banner(make_app):
    source = ScriptedSource(decode_items([make_item(i, T0 + i * 1000, random.Random(i)) for i in range(5)]))
    source.complete = False
    source.warnings = ["slice 3/8 failed: HTTP 500", "event cap reached"]
    app = make_app(source=source)
    async with app.run_test(size=(140, 35)) as pilot:
        await settle(pilot)
        assert "⚠ PARTIAL: slice 3/8 failed: HTTP 500" in app.screen.query_one(PaneHeader).plain
        text = screen_text(app)
        assert "showing 5 events" in text and "PARTIAL" in text and "(+1 more)" in text


async def test_a_failing_source_gives_an_error_toast_and_the_app_keeps_running(make_app):
    source = ScriptedSource()
    source.error = RuntimeError("[/bold] upstream said 503 \x1b[2J[@click=app.quit]x")
    app = make_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert app.is_running
        header = app.screen.query_one(PaneHeader).plain
        assert "✖ error: [/bold] upstream said 503" in header
        toasts = [n for n in app._notifications if n.severity == "error"]
        assert len(toasts) == 1
        assert toasts[0].markup is False and "\x1b" not in toasts[0].message
        assert "[@click=app.quit]" in toasts[0].message
        # It recovers on the next query.
        source.error = None
        await pilot.press("r")
        await settle(pilot)
        assert "complete" in app.screen.query_one(PaneHeader).plain


HOSTILE = {
    "click": "[@click=app.quit]quit me[/]",
    "bold": "[bold]x[/bold]",
    "close": "[/",
    "osc52": "\x1b]52;c;AAAA\x07",
    "clear": "\x1b[2J",
    "link": "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    "bidi": "evil\u202etxt.exe",
    "c1": "a\x9b31mb\x85c",
}


def hostile_items() -> list[dict]:
    rng = random.Random(3)
    out = []
    for i, (name, text) in enumerate(HOSTILE.items()):
        item = make_item(i, T0 + (i + 1) * 60_000, rng)
        inner = item["attributes"]["attributes"]
        inner["asset"] = {"type": "dashboard", "id": f"id-{name}", "name": text}
        inner["evt"]["name"] = text if name in ("click", "bold", "close") else "Dashboard"
        inner["usr"] = {"email": f"{name}{text}@example.com"}
        inner["http"] = {
            "method": "GET",
            "status_code": 200,
            "url_details": {"path": "/x"},
            "useragent": text,
        }
        item["attributes"]["message"] = text
        out.append(item)
    return out


def _assert_clean(lines: list[str]) -> None:
    bad = [
        (n, line) for n, line in enumerate(lines) if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)
    ]
    assert not bad, bad
    assert not any("\u202e" in line for line in lines)


async def test_markup_and_escape_sequences_in_events_render_literally(make_app):
    items = hostile_items()
    app = make_app(items)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        assert table.row_count == len(HOSTILE)
        # Show the asset column, then read every rendered line of the whole screen.
        table.sort_by([c.key for c in table.columns].index("asset"))
        await pilot.pause()
        lines = screen_lines(app)
        _assert_clean(lines)
        text = "\n".join(lines)
        assert "[@click=app.quit]quit me[/]" in text
        assert "[bold]x[/bold]" in text
        assert "[/" in text
        assert "evilt" in text  # the override is gone, the letters around it stay in order
        # Segments, not just text: no style carries a link or click action smuggled in from markup.
        for y in range(table.row_count + 1):
            for seg in table.render_line(y):
                assert isinstance(seg, Segment)
                assert seg.style is None or (seg.style.link is None and not seg.style.meta)
        # Facets hold event text too.
        facet_lines = [app.screen.query_one(FacetPanel).render_line(y).text for y in range(30)]
        _assert_clean(facet_lines)
        assert any("[@click=app.quit]quit me[/]" in line for line in facet_lines)
        # The detail view: the JSON shows the escapes instead of acting on them.
        for _ in range(len(HOSTILE)):
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, EventDetailScreen)
            lines = screen_lines(app)
            _assert_clean(lines)
            await pilot.press("escape", "j")
            await settle(pilot)
        await pilot.press("g", "enter")
        await settle(pilot)
        json_text = app.screen.json_text
        assert "\\u001b" in json_text or "\\u202e" in json_text or "[" in json_text
        await pilot.press("escape")
        await settle(pilot)
        # Pivot on a hostile facet value: the query line stays printable and still matches.
        panel = app.screen.query_one(FacetPanel)
        panel.focus()
        for _ in range(40):
            value = panel.highlighted_value
            if value is not None and value.value == "evil\u202etxt.exe":
                break
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        query = app.screen.query_one("#query").value
        assert query.isprintable() and "\u202e" not in query
        assert app.screen.query_one(EventTable).row_count >= 1
        assert app.is_running
        _assert_clean(screen_lines(app))


async def test_no_color_still_marks_the_cursor(make_app, items, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert app.no_color
        lines = screen_lines(app)
        assert any(line.startswith("▶") for line in lines)
        assert "✓ 200 events" in lines[1]  # the header, under the pane bar


async def test_terminal_too_small_notice(make_app, items):
    # settle_watch: the Spike watch, shown at a compact size, polls for ever (settle would wait on it).
    app = make_app(items)
    async with app.run_test(size=(39, 24)) as pilot:
        await settle_watch(pilot)
        assert app.screen.query_one(TooSmall).display
        assert "Terminal too small: 39×24" in screen_text(app)
        await pilot.resize_terminal(80, 5)
        await settle_watch(pilot)
        assert "Terminal too small: 80×5" in screen_text(app)
        # Just below the full layout (59×24, 80×19), the compact Spike watch shows instead.
        for size in ((59, 24), (80, 19)):
            await pilot.resize_terminal(*size)
            await settle_watch(pilot)
            assert app.current_mode == "watch" and "Terminal too small" not in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle_watch(pilot)
        assert app.current_mode == "explore"
        assert not app.screen.query_one(TooSmall).display
        assert app.screen.query_one(EventTable).display


async def test_facet_column_folds_away_when_narrow_and_f_brings_it_back(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        column = app.screen.query_one("#facets-column")
        assert not column.display
        await pilot.press("f")
        await pilot.pause()
        assert column.display and app.screen.query_one(FacetPanel).has_focus
        await pilot.press("f")
        await pilot.pause()
        assert not column.display and app.screen.query_one(EventTable).has_focus
        await pilot.resize_terminal(130, 35)
        await settle(pilot)
        assert not column.display  # an explicit choice holds until the next toggle
        await pilot.press("f")
        await pilot.pause()
        assert column.display


async def test_half_tmux_pane_60_columns_is_usable(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(60, 40)) as pilot:
        await settle(pilot)
        lines = screen_lines(app)
        assert "✓ 200 events" in lines[1]  # the header, under the pane bar
        assert all(len(line) == 60 for line in lines)
        assert not app.screen.query_one(TooSmall).display
        table = app.screen.query_one(EventTable)
        assert "▶" in table.render_line(0).text  # more columns to the right, and it says so
        await pilot.press("l")
        assert "◀" in table.render_line(0).text
        assert table.render_line(1).text.startswith("▶2026-")  # time stays frozen on the left


async def test_stable_cursor_when_data_is_replaced(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press(*"jjjjj")
        target = table.cursor_event
        rows = list(table.rows)
        table.set_events(rows[3:])  # three newer events disappear
        assert table.cursor_event.id == target.id and table.cursor_row == 2
        table.set_events([e for e in rows if e.id != target.id])
        assert table.cursor_row == 0  # gone: back to the top


async def test_refetch_keeps_the_cursor_on_the_same_event(make_app, items):
    app = make_app(items)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press(*"jjjj")
        target = table.cursor_event
        await pilot.press("r")
        await settle(pilot)
        assert table.cursor_event.id == target.id and table.cursor_row == 4


def _synthetic_events(n: int) -> list[Event]:
    names = ["Request", "Authentication", "Monitor", "Dashboard", "Access Management"]
    actions = ["accessed", "login", "deleted", "modified", "created"]
    # Newest first, one event per second, ids increase with time.
    return [
        Event(
            id=f"e{i:06d}",
            ts=T0 + i * 1000,
            raw=b"{}",
            evt_name=names[i % 5],
            action=actions[(i // 5) % 5],
            usr_email=f"user{i % 97}@example.com",
            http_status=None if i % 7 == 0 else 200 + (i % 3) * 100,
            client_ip=f"10.0.{i % 256}.{i // 256 % 256}",
        )
        for i in range(n - 1, -1, -1)
    ]


async def test_virtual_table_with_200k_events_opens_scrolls_and_resorts(make_app):
    n = 200_000
    events = _synthetic_events(n)
    source = ScriptedSource(events)
    app = make_app(source=source, window=Window(T0, T0 + n * 1000))
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        assert table.row_count == n
        assert table.rows[0].id == "e199999"
        assert table.visible_range[0] == 0
        page = len(table.visible_range)
        assert page == table.size.height - 1
        await pilot.press("G")
        assert table.cursor_row == n - 1
        assert table.visible_range[-1] == n - 1
        assert table.render_line(page).text.startswith("▶")
        assert table.rows[table.visible_range[-1]].id == "e000000"
        await pilot.press("ctrl+u")
        assert table.cursor_row == n - 1 - page // 2
        await pilot.press("g")
        assert table.cursor_row == 0 and table.rows[0].id == "e199999"
        # Re-sort by evt.name: ties stay newest first; the view goes to the top (like k9s).
        await pilot.press("G", "s")
        assert table.sort_column.key == "evt.name"
        assert table.cursor_row == 0 and table.scroll_y == 0
        assert table.cursor_event.id == "e199999"
        first_name = min(
            ("Request", "Authentication", "Monitor", "Dashboard", "Access Management"), key=str.casefold
        )
        assert table.rows[0].evt_name == first_name == "Access Management"
        assert table.rows[0].id == "e199999"  # i % 5 == 4 → Access Management, newest first
        assert table.rows[1].id == "e199994"
        await pilot.press("S", "enter")  # the column picker, the sorted column again: reversed
        await pilot.pause()
        assert table.rows[0].evt_name == "Request" and table.rows[0].id == "e199995"
        await pilot.press("G")
        assert table.visible_range[-1] == n - 1
        assert table.rows[-1].evt_name == "Access Management"
        # Sorting by status puts missing statuses last in both directions.
        table.sort_by([c.key for c in table.columns].index("status"))
        assert table.rows[0].http_status == 200 and table.rows[-1].http_status is None
        table.sort_by(table.sort_index, reverse=True)
        assert table.rows[0].http_status == 400 and table.rows[-1].http_status is None
        assert app.is_running


async def test_detail_of_an_archive_event_and_a_non_json_raw(make_app):
    odd = Event(id="odd-1", ts=T0 + 5, raw=b"not json \x1b[2J", evt_name="Request")
    source = ScriptedSource([odd])
    app = make_app(source=source)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        assert "not valid JSON" in app.screen.json_text
        _assert_clean(screen_lines(app))


async def test_explore_screen_reports_window_of_the_app(make_app, items):
    app = make_app(items, window=Window(WINDOW.start, WINDOW.start + 3_600_000))
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert "2026-07-01 00:00:00Z → 2026-07-01 01:00:00Z" in app.screen.query_one(PaneHeader).plain
        spark = app.screen.query_one("#sparkline")
        assert spark.histogram is not None and spark.histogram.bucket_ms == 60_000


def test_the_app_is_what_the_panes_ask_for(make_app) -> None:
    """`screens/base.py` owns `PaneHost` (screens never import app.py, which imports them); the app keeps
    to it."""
    from ddaudit_tui.tui.screens.base import PaneHost

    assert isinstance(make_app(source=ScriptedSource()), PaneHost)
    assert not isinstance(object(), PaneHost)
