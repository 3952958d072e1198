"""Finding your way: the pane bar (names, number keys, live badges, clicks, cycling), the start pane,
"Investigate key" from the leaked-key alert, the pivot breadcrumb and Esc back, guarded quit, the help
screen's rules and the footer's `? Help` / `q Quit` at 80 columns. Driven through Pilot on the demo org.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FROZEN_NOW
from textual.widgets import Collapsible, Footer
from tui_helpers import demo_events, demo_file_source, screen_lines, screen_text, settle
from watch_pane_helpers import MemorySource, TestClock, polled, settle_watch, until

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import PANES, DdauditApp
from ddaudit_tui.tui.pivot import ACTOR, KEY, PivotMenu
from ddaudit_tui.tui.screens.ai import AiScreen
from ddaudit_tui.tui.screens.base import PaneScreen, QuitPrompt
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen
from ddaudit_tui.tui.widgets.pane_bar import SHORT_TITLES, PaneBar

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 90 * 86_400_000, END)
NOW_MS = int(FROZEN_NOW * 1000)
KEY_ID = PLANTED.compromised_key
PANE_KEYS = [(p.key, p.mode, p.screen) for p in PANES]


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


def demo_app(**kwargs: Any) -> DdauditApp:
    # Labelled "demo": the Spike watch pane recognises it and never pages.
    return DdauditApp(demo_file_source(3000, END), WINDOW, clock=lambda: END / 1000, **kwargs)


def bar_text(app: DdauditApp) -> str:
    return app.screen.query_one(PaneBar).plain


async def visit(pilot: Any, key: str) -> PaneScreen:
    await pilot.press(key)
    await settle_watch(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PaneScreen)
    return screen


async def look_up(pilot: Any, key_id: str = KEY_ID) -> KeyLookupScreen:
    screen = await visit(pilot, "1")
    assert isinstance(screen, KeyLookupScreen)
    screen.lookup(key_id)
    await until(pilot, lambda: screen.report is not None, timeout=30, what="the key report")
    await settle_watch(pilot)
    return screen


# -- the pane bar -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_every_pane_shows_every_pane_name_and_its_number_key(size: tuple[int, int]):
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle_watch(pilot)
        for key, mode, cls in PANE_KEYS:
            screen = await visit(pilot, key)
            assert isinstance(screen, cls) and app.current_mode == mode
            top = screen_lines(app)[0]
            for p in PANES:
                assert f"{p.key} {p.title}" in top, (mode, top)
            # The current pane is marked by more than colour: a glyph before its number.
            assert f"▸{key} " in top and top.count("▸") == 1, top


async def test_at_60_columns_the_bar_abbreviates_and_keeps_every_number():
    app = demo_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle_watch(pilot)
        for key, _mode, _cls in PANE_KEYS:
            await visit(pilot, key)
            top = screen_lines(app)[0]
            for p in PANES:  # the full name, or its short form when badges need the room
                assert f"{p.key} {p.title}" in top or f"{p.key} {SHORT_TITLES[p.mode]}" in top, top
            assert len(top.rstrip()) <= 60


async def test_badges_stay_current_while_elsewhere():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await look_up(pilot)
        await visit(pilot, "3")
        ai = app.screen
        assert isinstance(ai, AiScreen)
        await until(pilot, lambda: ai.result is not None, timeout=30, what="the AI analysis")
        await settle_watch(pilot)
        high = sum(1 for f in ai.result.flags if f.severity >= Severity.HIGH)
        await visit(pilot, "2")
        watch = app.screen
        assert isinstance(watch, WatchScreen)
        await polled(pilot, 1)
        n_open = len(watch.latest.open_alerts)
        await visit(pilot, "4")
        top = bar_text(app)
        assert "1 Key lookup ✖" in top  # the compromised key's verdict, while Explore is shown
        assert f"2 Spike watch {'●' if n_open else '○'} {n_open}" in top
        assert f"3 AI activity ! {high}" in top
        assert app.badges["lookup"].text.startswith("✖")


async def test_the_watch_badge_follows_new_alerts_while_explore_is_shown(tmp_path: Path):
    from watch_pane_helpers import role_grants

    from ddaudit_tui.alerts.wiring import WatchOptions

    clock = TestClock(FROZEN_NOW)
    source = MemorySource()
    app = DdauditApp(source, Window(NOW_MS - 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        watch = await polled(pilot, 1)
        await visit(pilot, "4")
        assert "2 Spike watch ○ 0" in bar_text(app)
        clock.advance(30)
        source.events += role_grants(NOW_MS + 30_000, "dave@example.com", [0.5, 0.4, 0.3, 0.2, 0.1])
        await until(pilot, lambda: watch.latest.polls >= 2 and not watch.latest.polling, what="poll 2")
        await settle_watch(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert "2 Spike watch ● 1" in bar_text(app)


async def test_clicking_a_pane_name_switches_to_it():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        bar = app.screen.query_one(PaneBar)
        x = bar.plain.index("3 AI activity")
        await pilot.click(PaneBar, offset=(x + 2, 0))
        await settle_watch(pilot)
        assert app.current_mode == "ai"


async def test_brackets_and_ctrl_page_keys_cycle_the_panes():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        assert app.current_mode == "explore"
        await pilot.press("right_square_bracket")
        await settle_watch(pilot)
        assert app.current_mode == "case"  # the Case pane (5) is last
        await pilot.press("right_square_bracket")
        await settle_watch(pilot)
        assert app.current_mode == "lookup"  # wraps from the last pane to the first
        await pilot.press("right_square_bracket")
        await settle_watch(pilot)
        assert app.current_mode == "watch"
        await pilot.press("left_square_bracket")
        await settle_watch(pilot)
        assert app.current_mode == "lookup"
        await pilot.press("ctrl+pagedown", "ctrl+pagedown")
        await settle_watch(pilot)
        assert app.current_mode == "ai"
        await pilot.press("ctrl+pageup")
        await settle_watch(pilot)
        assert app.current_mode == "watch"


async def test_brackets_cycle_panes_from_a_looked_up_key():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await look_up(pilot)
        await pilot.press("right_square_bracket")
        await settle_watch(pilot)
        assert app.current_mode == "watch"


async def test_digits_typed_in_the_query_stay_in_the_query():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await pilot.press("slash", "1", "right_square_bracket")
        assert app.current_mode == "explore"
        assert app.screen.query_one(QueryInput).value == "1]"


# -- start pane -----------------------------------------------------------------------------------------


async def test_auto_start_opens_key_lookup_when_the_data_has_api_keys():
    app = demo_app(start_pane="auto")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        assert app.current_mode == "lookup" and isinstance(app.screen, KeyLookupScreen)


async def test_auto_start_opens_explore_when_no_api_key_is_in_the_data():
    no_keys = [e for e in demo_events(3000, END) if not e.api_key_id]
    app = DdauditApp(
        FileSource(EventStore(no_keys), "file"), WINDOW, clock=lambda: END / 1000, start_pane="auto"
    )
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await settle_watch(pilot)
        assert app.current_mode == "explore" and isinstance(app.screen, ExploreScreen)


@pytest.mark.parametrize("pane", ["lookup", "watch", "ai", "explore"])
async def test_start_pane_is_the_one_asked_for(pane: str):
    app = demo_app(start_pane=pane)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        assert app.current_mode == pane


async def test_start_key_opens_key_lookup_on_that_key():
    app = demo_app(start_key=KEY_ID)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        screen = app.screen
        assert isinstance(screen, KeyLookupScreen)
        await until(pilot, lambda: screen.report is not None, timeout=30, what="the key report")
        assert screen.key_id == KEY_ID


def test_an_unknown_start_pane_is_refused():
    with pytest.raises(ValueError, match="unknown pane"):
        demo_app(start_pane="nowhere")


# -- pivots: Investigate key from the leaked-key alert, breadcrumb, Esc back -----------------------------


async def open_menu(pilot: Any) -> PivotMenu:
    await pilot.press("x")
    await pilot.pause()
    menu = pilot.app.screen
    assert isinstance(menu, PivotMenu), menu
    return menu


async def test_the_leaked_key_alert_offers_investigate_key_and_esc_comes_back(tmp_path: Path):
    from ddaudit_tui.demo.source import open_demo

    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, clock=clock)
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        watch = await polled(pilot, 1)
        table = watch.alert_table
        table.focus()
        keys = table.item_keys
        index = next(
            i for i, k in enumerate(keys) if (a := table.item(k)) and a.rule == "leaked_key_notification"
        )
        alert = table.item(keys[index])
        assert alert.severity == Severity.CRITICAL and alert.group == KEY_ID
        table.move_cursor(row=index)
        await pilot.pause()
        menu = await open_menu(pilot)
        # On the first cell, without moving: the key the alert is about.
        ids = [a for a, _ in menu.actions]
        assert KEY in ids and ACTOR in ids, menu.actions
        await pilot.press(str(ids.index(KEY) + 1))
        lookup = app.screen
        await until(pilot, lambda: isinstance(app.screen, KeyLookupScreen), what="Key lookup")
        lookup = app.screen
        assert isinstance(lookup, KeyLookupScreen)
        await until(pilot, lambda: lookup.report is not None, timeout=30, what="the key report")
        await settle_watch(pilot)
        assert lookup.key_id == KEY_ID
        # The breadcrumb says where the pivot came from, and Esc goes back there.
        top = bar_text(app)
        assert "Spike watch › Key lookup" in top, top
        await pilot.resize_terminal(80, 24)
        await settle_watch(pilot)
        assert "esc ‹ Spike watch" in screen_lines(app)[0]  # at 80 columns: where Esc goes
        await pilot.press("escape")
        await settle_watch(pilot)
        assert app.current_mode == "watch" and app.screen is watch
        assert "‹" not in bar_text(app)
        # "What did this actor do" on the key: the events it made, in Explore.
        menu = await open_menu(pilot)
        ids = [a for a, _ in menu.actions]
        await pilot.press(str(ids.index(ACTOR) + 1))
        await until(pilot, lambda: app.current_mode == "explore", what="Explore")
        await settle_watch(pilot)
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        assert explore.query_text == f'@metadata.api_key.id:"{KEY_ID}"'
        assert explore.result is not None and explore.result.events
        assert {e.api_key_id for e in explore.result.events} == {KEY_ID}


async def test_what_did_this_actor_do_on_an_actor_id_opens_its_events():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        screen = await visit(pilot, "4")
        assert isinstance(screen, ExploreScreen)
        from ddaudit_tui.tui.widgets.event_table import EventTable

        table = screen.query_one(EventTable)
        index = next(i for i, e in enumerate(table.rows) if e.api_key_id == KEY_ID)
        table.move_cursor(index)
        table.focus()
        menu = await open_menu(pilot)
        for _ in range(len(menu.targets)):
            if menu.target.field == "@metadata.api_key.id":
                break
            await pilot.press("l")
        ids = [a for a, _ in menu.actions]
        assert KEY in ids and ACTOR in ids


# -- guarded quit ---------------------------------------------------------------------------------------


async def test_q_quits_at_once_when_there_is_nothing_to_lose():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_after_a_lookup_q_asks_and_another_key_stays():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        lookup = await look_up(pilot)
        assert lookup.has_work
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, QuitPrompt)
        assert "q again or y to quit" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert app.is_running and app.screen is lookup
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


@pytest.mark.parametrize("second", ["y", "ctrl+c"])
async def test_a_typed_query_makes_q_and_ctrl_c_ask(second: str):
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await pilot.press("slash", *"@action:deleted", "enter")
        await settle_watch(pilot)
        assert app.screen.has_work
        await pilot.press("escape", "ctrl+c")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, QuitPrompt)
        await pilot.press(second)
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_ctrl_q_quits_at_once_even_with_work():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        await look_up(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


# -- help -----------------------------------------------------------------------------------------------


async def test_help_hides_text_editing_keys_in_a_collapsed_group_and_describes_everything():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_watch(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        shown = screen_text(app)
        # Input's ~30 editing bindings are not on screen: they sit in a collapsed group.
        assert "Delete to end" not in shown and "cursor left" not in shown.lower()
        groups = help_screen.query(Collapsible)
        assert len(groups) == 1 and groups.first().collapsed and "text input" in groups.first().title.lower()
        assert "help quit" not in help_screen.text
        # The panes are described, each with its number key.
        for p in PANES:
            assert (
                f"{p.key} " in help_screen.text
                and p.title in help_screen.text
                and p.description in help_screen.text
            )
        assert "^q" in help_screen.text and "Quit at once" in help_screen.text
        await pilot.press("escape")
        for key, _mode, _cls in PANE_KEYS:
            await visit(pilot, key)
            await pilot.press("question_mark")
            await settle_watch(pilot)  # (settle would wait for the watch's endless poller)
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            for group in help_screen.groups:
                for entry in group.entries:
                    # A written description, never one made up from the action's name.
                    assert entry.description and entry.description != entry.action.replace("_", " "), entry
            await pilot.press("escape")


async def test_help_descriptions_wrap_under_their_column_at_80():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_watch(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        body = app.screen.query_one("#help-body")
        x0 = body.content_region.x
        lines = [line[x0 : x0 + body.content_region.width] for line in screen_lines(app)]
        lines = lines[body.content_region.y : body.content_region.bottom]
        entries = [ln for ln in lines if ln.startswith("  ") and not ln.startswith("   ")]
        wrapped = [ln for ln in lines if ln.startswith("   ")]
        assert entries and wrapped, lines  # some descriptions are long enough to wrap at 80
        # The description column: where the text after the keys starts on an entry line.
        column = len(entries[0]) - len(entries[0][2:].lstrip(" ").split("  ", 1)[-1].lstrip(" ")) - 0
        for ln in lines:
            if not ln.strip():
                continue
            # Nothing but a group title starts at column 0; every continuation is indented.
            assert ln.startswith(" ") or ln.strip().isupper() or ln.lstrip().startswith(("▶", "▼")), ln
        for ln in wrapped:
            assert len(ln) - len(ln.lstrip(" ")) >= 10, (ln, column)


# -- footer ---------------------------------------------------------------------------------------------


async def test_the_footer_shows_help_and_quit_at_80_columns_in_every_pane():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_watch(pilot)
        for key, _mode, _cls in PANE_KEYS:
            screen = await visit(pilot, key)
            footer = screen.query_one(Footer)
            line = screen_lines(app)[footer.region.y]
            assert "? Help" in line and "q Quit" in line, (key, line)


def cut_footer_keys(app: DdauditApp, screen: PaneScreen) -> list[str]:
    """The footer keys not drawn whole: past the footer's right edge, or under the palette key docked
    there (Textual lays the keys out in one row and lets the last run under it)."""
    from textual.widgets._footer import FooterKey

    footer = screen.query_one(Footer)
    keys = [k for k in footer.query(FooterKey) if k.display]
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else footer.region.right
    return [
        f"{k.key_display} {k.description}"
        for k in keys
        if not k.has_class("-command-palette") and k.region.right > right
    ]


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_footer_key_is_cut_at_the_edge(size: tuple[int, int]):
    """Issue 11: at 80×24 the footer cut its last key (`z UTC/loca`) at the palette key. Keys that do
    not fit are dropped whole (they stay in `?` and the palette); `? Help` and `q Quit` always stay."""
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle_watch(pilot)
        for key, _mode, _cls in [*PANE_KEYS, PANE_KEYS[0]]:
            screen = await visit(pilot, key)
            assert cut_footer_keys(app, screen) == [], (key, screen_lines(app)[-1])
            line = screen_lines(app)[screen.query_one(Footer).region.y]
            assert "? Help" in line and "q Quit" in line, (key, line)
        # A looked-up key has the most keys (export, copy, revoke, chart…).
        screen = await look_up(pilot)
        await settle_watch(pilot)
        assert cut_footer_keys(app, screen) == [], screen_lines(app)[-1]


async def test_the_footer_refits_when_the_terminal_narrows():
    app = demo_app()
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await look_up(pilot)
        await settle_watch(pilot)
        wide = screen_lines(app)[-1]
        await pilot.resize_terminal(80, 24)
        await settle_watch(pilot)
        assert cut_footer_keys(app, screen) == [], screen_lines(app)[-1]
        await pilot.resize_terminal(200, 50)
        await settle_watch(pilot)
        assert screen_lines(app)[-1] == wide


async def test_the_footer_is_built_once_per_change_of_its_keys(monkeypatch: pytest.MonkeyPatch):
    """Textual rebuilt the footer on every bindings signal (four times before the first frame, the same
    keys each time: first-paint time, issue 12). It is rebuilt only when the keys it shows change — and
    then it does show the new keys."""
    from ddaudit_tui.tui.widgets.pane_footer import PaneFooter

    builds: list[tuple[object, ...]] = []  # the keys each build showed
    compose = PaneFooter.compose

    def counting(self: PaneFooter):  # type: ignore[no-untyped-def]
        if self._bindings_ready:
            builds.append(self._signature())
        return compose(self)

    monkeypatch.setattr(PaneFooter, "compose", counting)
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle_watch(pilot)
        # Explore starts with its query box focused, then its table: two sets of keys, two builds.
        assert len(builds) <= 2, builds
        assert all(a != b for a, b in zip(builds, builds[1:], strict=False)), builds
        before = screen_lines(app)[-1]
        await look_up(pilot)
        await settle_watch(pilot)
        assert screen_lines(app)[-1] != before  # the looked-up key's keys (evidence, revoke…)
