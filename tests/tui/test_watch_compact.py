"""The compact Spike watch: what a small tmux pane (below 60×20, down to 40×6) shows instead of the
"too small" notice — one status line, the open alerts most severe first, a sparkline when a row is free —
and how the app switches to it and back by size. Driven through Pilot with an injected clock and sleep
(nothing really waits); screenshots at 100×15, 80×10 and 40×6 with a frozen clock, size and theme."""

from __future__ import annotations

import pytest
from conftest import FROZEN_NOW
from rich.cells import cell_len
from textual.widgets._toast import Toast
from tui_helpers import screen_lines
from watch_pane_helpers import MemorySource, TestClock, api_item, decode, polled, role_grants, settle_watch

from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.base import TooSmall
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen
from ddaudit_tui.tui.widgets.watch_compact import CompactWatch

NOW_MS = int(FROZEN_NOW * 1000)
M = 60_000
SIZES = [(100, 15), (80, 10), (40, 6)]
IDS = [f"{w}x{h}" for w, h in SIZES]
LONG_ACTOR = "a-very-long-service-account-name-that-never-fits@automation.example.com"
SARA = "sara@example.com"
EVE = "eve@example.com"
LEAKED_KEY = "9f3c2e71-4b8a"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user config, rules, state or routing key from the machine running the tests."""
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    for name in (
        "DDAUDIT_RULES",
        "DDAUDIT_PAGERDUTY_ROUTING_KEY",
        "PAGERDUTY_ROUTING_KEY",
        "DDAUDIT_PAGERDUTY_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def demo_app(start_pane: str = "watch") -> DdauditApp:
    """`ddaudit --demo --live --pane watch`, with a clock the test moves."""
    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, live=True, clock=clock)
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock, start_pane=start_pane)
    app.watch_options = WatchOptions(demo=True, clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    return app


def three_severities() -> list:
    """Open alerts of three severities: a MEDIUM monitor deletion (newest), a HIGH burst of 1,234 role
    changes by an actor whose name cannot fit, a CRITICAL leaked key (oldest)."""
    critical = decode(
        [
            api_item(
                NOW_MS - 9 * M,
                EVE,
                evt="Security Notification",
                asset_type="api_key",
                action="created",
                asset_id=LEAKED_KEY,
            )
        ]
    )
    high = role_grants(NOW_MS, LONG_ACTOR, [8 - i * 0.005 for i in range(1234)])
    medium = decode([api_item(NOW_MS - 2 * M, SARA, evt="Monitor", asset_type="monitor", action="deleted")])
    return critical + high + medium


def memory_app(source: MemorySource, clock: TestClock, start_pane: str = "watch") -> DdauditApp:
    app = DdauditApp(source, Window(NOW_MS - 86_400_000, NOW_MS), clock=clock, start_pane=start_pane)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    return app


def shown(widget) -> bool:
    node = widget
    while node is not None and hasattr(node, "display"):
        if not node.display:
            return False
        node = node.parent
    return True


def assert_compact(app: DdauditApp, size: tuple[int, int]) -> list[str]:
    """The compact watch fills the screen: no pane bar, header, footer or notice; lines fit exactly."""
    width, height = size
    screen = app.screen
    assert isinstance(screen, WatchScreen), screen
    compact = screen.query_one(CompactWatch)
    assert shown(compact) and compact.size.width > 0 and compact.size.height > 0
    assert compact.region.y == 0 and compact.region.bottom == height
    for selector in ("#pane-bar", "#pane-header", "#pane-body", "PaneFooter", "#too-small"):
        assert not shown(screen.query_one(selector)), selector
    lines = screen_lines(app)
    assert len(lines) == height and all(cell_len(line) == width for line in lines)
    assert not any("Terminal too small" in line for line in lines)
    return lines


def row_of(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


# -- what it shows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_open_alerts_most_severe_first_with_whole_counts(size):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(MemorySource(three_severities()), clock)
    async with app.run_test(size=size) as pilot:
        await polled(pilot, 1)
        lines = assert_compact(app, size)
        status = lines[0]
        assert status.startswith(" ● LIVE") and "next" in status, status
        # Most severe first, one per row: glyph and word, rule, actor, count, age.
        crit, high, med = row_of(lines, "‼ CRITICAL"), row_of(lines, "! HIGH"), row_of(lines, "◆ MEDIUM")
        assert 0 < crit < high < med, lines
        assert "leaked_" in lines[crit] and LEAKED_KEY[:4] in lines[crit]
        assert " 1,234 " in lines[high], lines[high]
        assert "role_ch" in lines[high]
        assert "…" in lines[high] and LONG_ACTOR not in lines[high]  # cut text says so
        assert lines[high].rstrip().endswith("8m"), lines[high]  # the age: the burst began 8 min ago
        assert lines[crit].rstrip().endswith("9m") and lines[med].rstrip().endswith("2m")
        # A row is free at 80×10 and 100×15: the events-per-minute sparkline is there.
        if size[1] > 6:
            assert any("ev/" in line and "max" in line for line in lines[med + 1 :]), lines


async def test_with_several_orgs_each_row_names_its_org_before_the_actor():
    """`ddaudit --all-profiles` (tui/org_watch.py sets `org_of`): `eu/sara@…`, the org never cut."""
    clock = TestClock(FROZEN_NOW)
    app = memory_app(MemorySource(three_severities()), clock)
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        compact = app.screen.query_one(CompactWatch)
        compact.org_of = lambda a: "eu" if a.group == SARA else "production-us1"
        compact.refresh()
        await pilot.pause()
        lines = assert_compact(app, (80, 10))
        assert f"eu/{SARA}" in lines[row_of(lines, "◆ MEDIUM")]
        high = lines[row_of(lines, "! HIGH")]
        assert "production-us1/" in high and "…" in high and " 1,234 " in high, high
        assert "production-us1/" in lines[row_of(lines, "‼ CRITICAL")]


async def test_the_status_line_says_paging_last_poll_and_stale(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(three_severities())
    app = memory_app(source, clock)
    async with app.run_test(size=(80, 10)) as pilot:
        screen = await polled(pilot, 1)
        status = screen_lines(app)[0]
        assert "paging off" in status and "ok 12:00Z" in status and "next 0:30" in status, status
        source.failures.append(RuntimeError("429 Too Many Requests"))
        clock.advance(30)
        await polled(pilot, 2)
        screen._tick()
        await settle_watch(pilot)
        status = screen_lines(app)[0]
        assert "⚠ STALE" in status and "ok 12:00Z" in status, status
        assert "! HIGH" in "\n".join(screen_lines(app))  # the alerts stay


async def test_space_pauses_the_compact_list_and_counts_what_waits():
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(three_severities())
    app = memory_app(source, clock)
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        await pilot.press("space")
        source.events += role_grants(NOW_MS + 20_000, "trent@example.com", [0.1, 0.05, 0.01])
        clock.advance(30)
        await polled(pilot, 2)
        lines = assert_compact(app, (80, 10))
        assert lines[0].startswith(" ⏸ PAUSED +3"), lines[0]
        assert not any("trent" in line for line in lines)  # frozen, as the full tables are
        await pilot.press("space")
        await settle_watch(pilot)
        lines = assert_compact(app, (80, 10))
        assert lines[0].startswith(" ● LIVE") and any("trent" in line for line in lines), lines


async def test_hostile_actor_names_render_literally():
    clock = TestClock(FROZEN_NOW)
    actor = "[@click=app.quit]x[/]\x1b[2J\u202eevil"
    app = memory_app(MemorySource(role_grants(NOW_MS, actor, [9, 6, 3])), clock)
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        lines = assert_compact(app, (80, 10))
        assert any("[@click=app.quit]x[/]" in line for line in lines)
        assert not any(any(ord(c) < 32 or c == "\u202e" for c in line) for line in lines)


# -- the demo, live ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_demo_live_a_new_burst_shows_after_one_poll(size):
    app = demo_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        screen = await polled(pilot, 1)
        assert_compact(app, size)
        clock = app.watch_options.clock
        clock.advance(240)
        await polled(pilot, 2)
        before = {a.dedup_key for a in screen.latest.alerts}
        # The live demo's next burst (key minting) falls into the next poll.
        clock.advance(240)
        await polled(pilot, 3)
        lines = assert_compact(app, size)
        new = [a for a in screen.latest.open_alerts if a.dedup_key not in before]
        assert [a.rule for a in new] == ["api_key_creation"], new
        row = lines[row_of(lines, "api_key")]
        assert "! HIGH" in row and "j.doe" in row and f" {new[0].count} " in row, row
        # No toast over the alerts at this size (one was asked for: the new alert).
        assert any("api_key_creation" in n.title for n in app._notifications)
        assert not any(shown(t) for t in app.screen.query(Toast)), "a toast is drawn over the compact watch"
        assert not any("▌" in line for line in lines), lines


async def test_an_injected_burst_shows_after_one_poll_at_40x6():
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(three_severities())
    app = memory_app(source, clock)
    async with app.run_test(size=(40, 6)) as pilot:
        await polled(pilot, 1)
        assert "api_key" not in "\n".join(assert_compact(app, (40, 6)))
        source.events += decode(
            [
                api_item(NOW_MS + 10_000 + i, "mallory@example.com", evt="Authentication", asset_type="api_key",
                         action="created")
                for i in range(5)
            ]
        )  # fmt: skip
        clock.advance(30)
        await polled(pilot, 2)
        lines = assert_compact(app, (40, 6))
        # The CRITICAL first, then the newest HIGH (the new one), the other HIGH, the MEDIUM.
        assert "‼ CRITICAL" in lines[1] and "◆ MEDIUM" in lines[4], lines
        assert "api_key" in lines[2] and "mallory" in lines[2] and " 5 " in lines[2], lines
        assert "1,234" in lines[3], lines
        # More alerts than rows: the last row says how many more are open.
        source.events += role_grants(NOW_MS + 40_000, "trent@example.com", [0.1, 0.05, 0.01])
        source.events += role_grants(NOW_MS + 40_000, "victor@example.com", [0.1, 0.05, 0.01])
        clock.advance(30)
        await polled(pilot, 3)
        lines = assert_compact(app, (40, 6))
        assert "‼ CRITICAL" in lines[1] and "+2 more open (6 in all)" in lines[-1], lines


# -- switching by size -----------------------------------------------------------------------------------


async def test_resize_switches_to_the_compact_watch_and_back_to_the_pane_that_was_shown():
    app = demo_app(start_pane="explore")
    async with app.run_test(size=(100, 15)) as pilot:
        await polled(pilot, 1)
        assert app.current_mode == "watch"
        assert_compact(app, (100, 15))
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert app.current_mode == "explore" and isinstance(app.screen, ExploreScreen)
        assert "1 Key lookup" in screen_lines(app)[0]  # the full layout: the pane bar is back
        assert not app.screen.query_one(TooSmall).display
        await pilot.resize_terminal(100, 15)
        await settle_watch(pilot)
        assert_compact(app, (100, 15))
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert app.current_mode == "explore"


async def test_the_watch_itself_returns_to_its_full_layout():
    app = demo_app()
    async with app.run_test(size=(100, 15)) as pilot:
        screen = await polled(pilot, 1)
        assert_compact(app, (100, 15))
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert app.screen is screen
        assert not shown(screen.query_one(CompactWatch))
        assert shown(screen.query_one("#watch-alerts")) and shown(screen.query_one("#pane-bar"))
        text = "\n".join(screen_lines(app))
        assert "ALERTS" in text and "1 Key lookup" in text


async def test_a_pane_key_at_compact_size_is_the_pane_shown_when_it_grows():
    app = demo_app()
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        await pilot.press("1")
        await settle_watch(pilot)
        assert_compact(app, (80, 10))  # never a "too small" pane while the watch fits
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert isinstance(app.screen, KeyLookupScreen)


@pytest.mark.parametrize("size", [(39, 6), (40, 5)], ids=["39x6", "40x5"])
async def test_below_40x6_the_too_small_notice_remains(size):
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        screen = await polled(pilot, 1)
        notice = screen.query_one(TooSmall)
        assert shown(notice)
        assert not shown(screen.query_one(CompactWatch))
        text = "\n".join(screen_lines(app))
        assert "too small" in text
        # Polling goes on; growing to 40×6 shows the watch.
        await pilot.resize_terminal(40, 6)
        await settle_watch(pilot)
        assert_compact(app, (40, 6))


async def test_help_opens_and_scrolls_at_80x10_and_q_quits():
    app = demo_app()
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        await pilot.press("question_mark")
        await settle_watch(pilot)
        assert isinstance(app.screen, HelpScreen)
        lines = screen_lines(app)
        assert len(lines) == 10 and all(cell_len(line) == 80 for line in lines)
        body = app.screen.query_one("#help-body")
        assert shown(body) and body.size.height > 0
        assert "Pause" in app.screen.text
        await pilot.press("escape")
        await settle_watch(pilot)
        assert_compact(app, (80, 10))
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


# -- screenshots ---------------------------------------------------------------------------------------


async def _live_burst(pilot) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await polled(pilot, 1)
    pilot.app.watch_options.clock.advance(240)
    await polled(pilot, 2)
    pilot.app.clear_notifications()
    await settle_watch(pilot)


def _three_severities_app() -> DdauditApp:
    clock = TestClock(FROZEN_NOW)
    return memory_app(MemorySource(three_severities(), label="datadoghq.eu"), clock)


async def _three(pilot) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await polled(pilot, 1)
    pilot.app.clear_notifications()
    await settle_watch(pilot)


def test_snapshot_compact_demo_100x15(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(100, 15), run_before=_live_burst)


def test_snapshot_compact_three_severities_80x10(snap_compare):
    assert snap_compare(_three_severities_app(), terminal_size=(80, 10), run_before=_three)


def test_snapshot_compact_three_severities_40x6(snap_compare):
    assert snap_compare(_three_severities_app(), terminal_size=(40, 6), run_before=_three)


async def test_no_open_alert_after_a_critical_one_closed_says_so_and_names_the_worst():
    # A quiet pane after a CRITICAL burst closed must not read like a quiet day: the full pane says
    # "0 open alerts · N closed, worst CRITICAL" as a warning; the compact one says the same.
    clock = TestClock(FROZEN_NOW)
    app = memory_app(MemorySource(three_severities()), clock)
    async with app.run_test(size=(80, 10)) as pilot:
        await polled(pilot, 1)
        clock.advance(3 * 3600)  # hours later: every burst has closed
        screen = await polled(pilot, 2)
        assert screen.latest is not None and screen.latest.alerts
        assert not any(a.is_open for a in screen.latest.alerts)
        lines = assert_compact(app, (80, 10))
        line = lines[row_of(lines, "no open alerts")]
        assert "closed (24h), worst ‼ CRITICAL" in line, line
