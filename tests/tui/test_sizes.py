"""Every pane, the event detail and the help screen render at 60×20 … 250×70; below 60×20 a notice shows.

One app run per size walks all the screens (switching panes is cheap; starting an app is not), over one
demo org decoded once per module. At each stop: every screen line is exactly the terminal's width, the
widgets that carry the pane have a real size, nothing shown has a negative or empty size where content
is expected, and the pane's own words (title, status, content) are on screen.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App
from textual.widget import Widget
from textual.widgets import Footer
from tui_helpers import demo_file_source, screen_lines
from watch_pane_helpers import polled, settle_watch

from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.ai import AiScreen
from ddaudit_tui.tui.screens.base import MIN_HEIGHT, MIN_WIDTH, PaneScreen, TooSmall
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 90 * 86_400_000, END)
SIZES = [(60, 20), (80, 24), (120, 35), (200, 50), (250, 70)]


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


def demo_app() -> DdauditApp:
    # Labelled "demo": the Spike watch pane recognises it and never pages.
    return DdauditApp(demo_file_source(3000, END), WINDOW, clock=lambda: END / 1000)


def shown(widget: Widget) -> bool:
    """Displayed, with every ancestor displayed too (what `display: none` anywhere above hides)."""
    node: Widget | None = widget
    while isinstance(node, Widget):
        if not node.display or node.styles.visibility == "hidden":
            return False
        node = node.parent  # type: ignore[assignment]
    return True


def check_screen(app: App[object], size: tuple[int, int], must_show: tuple[str, ...]) -> str:
    width, height = size
    lines = screen_lines(app)
    assert len(lines) == height
    assert [cell_len(line) for line in lines] == [width] * height
    screen = app.screen
    for widget in screen.walk_children(Widget):
        if shown(widget):
            assert widget.size.width >= 0 and widget.size.height >= 0, widget
    for selector in must_show:
        widget = screen.query_one(selector)
        assert shown(widget), f"{selector} hidden at {width}×{height}"
        assert widget.size.width > 0 and widget.size.height > 0, (
            f"{selector} is {widget.size} at {width}×{height}"
        )
        region = widget.region
        assert region.x >= 0 and region.right <= width and region.y >= 0 and region.bottom <= height, (
            selector,
            region,
        )
    if isinstance(screen, PaneScreen):
        assert not screen.query_one(TooSmall).display
    return "\n".join(lines)


def header(app: App[object]) -> str:
    return screen_lines(app)[1]  # under the pane bar


def assert_pane_bar(app: App[object], size: tuple[int, int]) -> None:
    """Every pane's number key, and its name (short below 80 columns when badges need the room)."""
    from ddaudit_tui.tui.app import PANES
    from ddaudit_tui.tui.widgets.pane_bar import SHORT_TITLES

    top = screen_lines(app)[0]
    for p in PANES:
        names = (p.title,) if size[0] >= 80 else (p.title, SHORT_TITLES[p.mode])
        assert any(f"{p.key} {name}" in top for name in names), top


def assert_titled(app: App[object], size: tuple[int, int], title: str, status: str) -> None:
    assert_pane_bar(app, size)
    top = header(app)
    assert status in top, top
    # The header gives the title up first, below 80 columns, to keep the source, window and status.
    if size[0] >= 80:
        assert title in top, top


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_screen_renders_at(size: tuple[int, int]):
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle_watch(pilot)

        assert isinstance(app.screen, ExploreScreen)
        text = check_screen(app, size, ("#pane-header", "#query-bar", "#events", Footer.__name__))
        assert_titled(app, size, "Explore", "✓ 3,000 events")
        assert "query ›" in text

        await pilot.press("1")
        await settle_watch(pilot)
        assert isinstance(app.screen, KeyLookupScreen)
        check_screen(app, size, ("#pane-header", "#key-suggestions", Footer.__name__))
        assert_titled(app, size, "Key lookup", "likely compromised")  # the worst news leads the status
        await pilot.press("enter")  # the first suggested key, the keyboard-only path
        await settle_watch(pilot)
        text = check_screen(app, size, ("#pane-header", "#key-summary", "#key-sections", Footer.__name__))
        assert_titled(app, size, "Key lookup", "verdict:")
        assert "SUSPICIOUS" in text or "COMPROMISED" in text
        assert "✓ verdict" not in header(app)  # bad news never carries the success tick

        await pilot.press("2")
        await polled(pilot, 1)
        assert isinstance(app.screen, WatchScreen)
        text = check_screen(app, size, ("#pane-header", "#watch-status", "#watch-alerts", Footer.__name__))
        assert_titled(app, size, "Spike watch", "open alerts")
        assert "ALERTS" in text

        await pilot.press("3")
        await settle_watch(pilot)
        assert isinstance(app.screen, AiScreen)
        text = check_screen(app, size, ("#pane-header", "#ai-counters", "#ai-flags", Footer.__name__))
        assert_titled(app, size, "AI activity", "AI events")
        assert "FLAGS" in text

        await pilot.press("4", "enter")
        await settle_watch(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        text = check_screen(app, size, ("#detail-title", "#detail-body", Footer.__name__))
        assert '"attributes"' in text and "esc Close" in text

        await pilot.press("escape", "question_mark")
        await settle_watch(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = check_screen(app, size, ("#help-body",))
        assert "Quit" in text

        await pilot.press("escape")
        await settle_watch(pilot)
        assert isinstance(app.screen, ExploreScreen) and app.is_running


async def test_below_the_floor_every_pane_shows_the_too_small_notice():
    """39×15 (the exact edges are in test_app_frame.py; from 40×6 to 60×20 every pane gives way to the
    compact Spike watch: test_watch_compact.py)."""
    size = width, height = (39, 15)
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle_watch(pilot)
        for key, pane in (("4", ExploreScreen), ("1", KeyLookupScreen), ("2", WatchScreen), ("3", AiScreen)):
            await pilot.press(key)
            await settle_watch(pilot)
            screen = app.screen
            assert isinstance(screen, pane)
            notice = screen.query_one(TooSmall)
            assert shown(notice) and notice.size.width > 0 and notice.size.height > 0
            assert not shown(screen.query_one("#pane-body"))
            text = "\n".join(screen_lines(app))
            assert f"Terminal too small: {width}×{height}" in text
            assert f"at least {MIN_WIDTH}×{MIN_HEIGHT}" in text
        # Growing the terminal brings the pane back, without a restart.
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert not app.screen.query_one(TooSmall).display
        assert shown(app.screen.query_one("#ai-counters"))
        # And q, which the notice offers, still quits.
        await pilot.resize_terminal(width, height)
        await settle_watch(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
