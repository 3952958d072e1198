"""The Spike watch pane driven through Pilot, with an injected clock and sleep (nothing really waits):
alerts on planted bursts (demo and file), pause that buffers, poll now, interval and window keys,
Enter on an alert, export, stale data, the poller running while Explore is shown, small terminals,
NO_COLOR, hostile actor names, the bell, and stopping on exit."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from conftest import FROZEN_NOW
from tui_helpers import screen_lines, screen_text
from watch_pane_helpers import (
    M,
    MemorySource,
    TestClock,
    api_item,
    decode,
    polled,
    role_grants,
    settle_watch,
    until,
    watch_screen,
)

from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen, WatchScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader
from ddaudit_tui.tui.widgets.watch_sparklines import HotActorSparklines

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import planted_items, write_items  # noqa: E402

NOW_MS = int(FROZEN_NOW * 1000)
DAVE = "dave@example.com"
ALICE = "alice@example.com"


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


def memory_app(tmp_path: Path, source: MemorySource, clock: TestClock, **options) -> DdauditApp:
    app = DdauditApp(source, Window(NOW_MS - 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep, **options)  # type: ignore[attr-defined]
    return app


def alert_rows(screen: WatchScreen) -> list[tuple[str, str]]:
    table = screen.alert_table
    return [(a.rule, a.group) for a in (table.item(k) for k in table.item_keys) if a is not None]


def actor_counts(screen: WatchScreen) -> dict[str, dict[str, int]]:
    table = screen.actor_table
    return {k: dict(row.counts) for k in table.item_keys if (row := table.item(k)) is not None}


# -- alerts on planted bursts ----------------------------------------------------------------------


async def test_demo_first_poll_shows_the_planted_bursts(tmp_path):
    from ddaudit_tui.demo.org import PLANTED
    from ddaudit_tui.demo.source import open_demo

    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, clock=clock)
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    # No options from the command line: the demo is recognised by its label and never pages.
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        fired = set(alert_rows(screen))
        expected = {
            ("role_changes", PLANTED.role_grant_user),
            ("api_key_creation", PLANTED.key_minting_user),
            ("monitor_deletion", PLANTED.monitor_deletion_user),
            ("bulk_deletion", PLANTED.bulk_deletion_user),
        }
        assert expected <= fired, expected - fired
        assert ("role_changes", PLANTED.role_grant_near_miss_user) not in fired
        assert ("bulk_deletion", PLANTED.bulk_near_miss_user) not in fired
        # The first poll looked back 24 hours.
        assert screen.poller.engine.events_total > 0
        text = screen_text(app)
        assert "paging: dry-run" in text and "◌ dry-run" in text
        assert "! HIGH" in text and "role_changes" in text
        toasts = [n for n in app._notifications if "in the look-back" in n.message]
        assert len(toasts) == 1 and toasts[0].markup is False
        assert all(a.page_status == "dry-run" for a in screen.latest.alerts if a.rule != "login_notification")
        assert screen.watch_setup.dry_run_payloads  # the payloads that would have been sent


async def test_a_file_shows_every_burst_in_it_as_of_its_last_event(tmp_path):
    path = write_items(tmp_path / "export.json", planted_items())
    source = FileSource.open([str(path)])
    window = source.default_window()
    app = DdauditApp(source, window, clock=lambda: FROZEN_NOW, export_dir=tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert sorted(alert_rows(screen)) == [
            ("bulk_deletion", "matt@example.com"),
            ("monitor_deletion", "sara@example.com"),
            ("role_changes", DAVE),
        ]
        status = screen.query_one("#watch-status").plain
        assert status.startswith("■ FILE · as of 2026-07-25 19:19:00Z") and "paging: off" in status
        assert "no PagerDuty" not in status  # the reason is in the report, the status stays short
        assert screen.watch_setup.paging_note == "a file is history: not paged"
        # A HIGH burst in the look-back, open or just closed, is never reported with a success tick.
        assert any(a.severity >= Severity.HIGH for a in screen.latest.alerts)
        assert screen.status.kind != "complete", screen.status


# -- pause ------------------------------------------------------------------------------------------


async def test_pause_freezes_the_tables_counts_what_waits_and_resume_flushes(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [5, 4]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert actor_counts(screen) == {DAVE: {"role_changes": 2}}
        assert alert_rows(screen) == []

        await pilot.press("space")
        assert screen.paused
        # A burst arrives: three more grants by Dave, one by Alice.
        clock.advance(30)
        source.events += role_grants(NOW_MS + 30_000, DAVE, [0.3, 0.2, 0.1])
        source.events += role_grants(NOW_MS + 30_000, ALICE, [0.2])
        await pilot.press("r")
        screen = await polled(pilot, 2)

        # The tables are frozen…
        assert actor_counts(screen) == {DAVE: {"role_changes": 2}}
        assert alert_rows(screen) == []
        # …the status says what waits…
        status = screen.query_one("#watch-status").plain
        assert "⏸ PAUSED – 4 new events, 1 new alert" in status
        # …and detection, the toast and the alert went on underneath.
        assert [(a.rule, a.group) for a in screen.poller.snapshot().open_alerts] == [("role_changes", DAVE)]
        assert any(n.title.endswith("role_changes") and DAVE in n.message for n in app._notifications)
        assert screen.query_one(HotActorSparklines).actor_series  # the sparklines keep accumulating

        # More while still paused: the count grows.
        clock.advance(30)
        source.events += role_grants(NOW_MS + 60_000, ALICE, [0.1])
        await pilot.press("r")
        screen = await polled(pilot, 3)
        assert "⏸ PAUSED – 5 new events, 1 new alert" in screen.query_one("#watch-status").plain

        await pilot.press("space")
        await settle_watch(pilot)
        assert not screen.paused
        assert actor_counts(screen) == {DAVE: {"role_changes": 5}, ALICE: {"role_changes": 2}}
        assert alert_rows(screen) == [("role_changes", DAVE)]
        assert "● LIVE" in screen.query_one("#watch-status").plain


async def test_cursor_stays_on_its_actor_when_a_poll_reorders_the_table(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [5, 4]) + role_grants(NOW_MS, ALICE, [5]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        table = screen.actor_table
        assert table.item_keys == [DAVE, ALICE]
        table.focus()
        await pilot.press("j")
        assert table.cursor_key == ALICE
        source.events += role_grants(NOW_MS + 30_000, ALICE, [0.3, 0.2])
        clock.advance(30)
        await pilot.press("r")
        await polled(pilot, 2)
        assert table.item_keys == [ALICE, DAVE]  # Alice is hot now: first
        assert table.cursor_key == ALICE
        # A sort takes the view to the top, the first row selected (like k9s).
        await pilot.press("s")  # by actor
        await settle_watch(pilot)
        assert table.item_keys == [ALICE, DAVE] and table.cursor_row == 0
        await pilot.press("S", "enter")  # the column picker: the sorted column again reverses it
        await settle_watch(pilot)
        assert table.item_keys == [DAVE, ALICE] and table.cursor_row == 0


async def test_an_alert_that_closes_is_redrawn_as_closed(tmp_path):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(role_grants(NOW_MS, DAVE, [9, 6, 3])), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        table = screen.alert_table
        (key,) = table.item_keys
        open_cell = table.get_cell(key, "rule")
        assert table.get_cell(key, "severity").plain == "● ! HIGH"
        line = screen.query_one("#watch-alert-line")
        assert line.plain.startswith("● open ! HIGH role_changes · dave@example.com · 3 events")
        assert "2026-07-04 11:51:00Z → 11:57:00Z" in line.plain
        clock.advance(15 * 60)  # a whole window of quiet closes it
        await polled(pilot, 2)
        assert table.get_cell(key, "severity").plain == "○ ! HIGH"
        assert table.get_cell(key, "rule").style != open_cell.style  # muted, no longer bold
        assert line.plain.startswith("○ closed ! HIGH")
        assert "ALERTS · ● 0 open · ○ 1 closed" in screen.query_one("#watch-alerts-title").plain


async def test_rules_over_threshold_come_first_among_the_count_columns(tmp_path):
    clock = TestClock(FROZEN_NOW)
    events = role_grants(NOW_MS, DAVE, [6]) + decode(
        [api_item(NOW_MS - 4 * M, "sara@example.com", "Monitor", "monitor", "deleted")]
    )
    app = memory_app(tmp_path, MemorySource(events), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        table = screen.actor_table
        assert [str(k.value) for k in table.columns] == [
            "flag",
            "actor",
            "total",
            "rule:monitor_deletion",
            "rule:role_changes",
            "rule:bulk_deletion",
        ]  # fmt: skip  (the deletion also counts toward bulk deletion: 1 of 10)
        assert table.item_keys == ["sara@example.com", DAVE]
        assert table.get_cell("sara@example.com", "rule:monitor_deletion").plain == "1 !"
        assert table.get_cell(DAVE, "rule:role_changes").plain == "1  "
        assert table.get_cell(DAVE, "flag").plain == ""


async def test_z_shows_local_times_with_their_offset(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30, no DST
    time.tzset()
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(role_grants(NOW_MS, DAVE, [9, 6, 3])), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        (key,) = screen.alert_table.item_keys
        assert screen.alert_table.get_cell(key, "last").plain == "07-04 11:57Z"
        await pilot.press("z")
        await settle_watch(pilot)
        assert screen.alert_table.get_cell(key, "last").plain == "07-04 17:27+05:30"
        assert "17:21:00+05:30 → 17:27:00+05:30" in screen.query_one("#watch-alert-line").plain


# -- the timer controls -----------------------------------------------------------------------------


async def test_r_polls_now_and_the_timer_polls_on_the_interval(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource()
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        polls = lambda: [c for c in source.calls if c[0] != "*"]  # noqa: E731  (Explore fetches "*")
        assert len(polls()) == 1
        assert "next poll in 30 s" in screen.query_one("#watch-status").plain
        await pilot.press("r")
        await polled(pilot, 2)
        assert len(polls()) == 2
        # The countdown follows the clock; the timer polls when the interval is up.
        clock.advance(12)
        screen._tick()
        assert "next poll in 18 s" in screen.query_one("#watch-status").plain
        clock.advance(18)
        await polled(pilot, 3)
        assert len(polls()) == 3


async def test_interval_and_window_keys_change_the_poller(tmp_path):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        poller = screen.poller
        assert poller.interval_s == 30 and poller.window_s == 900
        await pilot.press("i")
        assert poller.interval_s == 60
        await pilot.press("i")
        assert poller.interval_s == 300
        await pilot.press("i")
        assert poller.interval_s == 30
        await pilot.press("plus")
        assert poller.interval_s == 60
        await pilot.press("minus", "minus")
        assert poller.interval_s == 30
        await pilot.press("plus")
        await settle_watch(pilot)
        assert poller.next_poll == FROZEN_NOW + 60  # rescheduled from the last poll
        assert "every 1m" in screen.query_one("#watch-status").plain
        await pilot.press("w")
        assert poller.window_s == 3600 and poller.engine.window_ms == 3_600_000
        await pilot.press("w")
        assert poller.window_s == 300
        await pilot.press("w")
        await settle_watch(pilot)
        assert poller.window_s == 900
        assert "window 15m" in screen.query_one("#watch-status").plain
        assert "last 15m" in screen.query_one("#watch-actors-title").plain


# -- drilling down ------------------------------------------------------------------------------------


async def test_enter_on_an_alert_lists_its_events_and_enter_opens_one(tmp_path):
    clock = TestClock(FROZEN_NOW)
    burst = role_grants(NOW_MS, DAVE, [9, 6, 3])
    other = role_grants(NOW_MS, ALICE, [7])
    noise = decode([api_item(NOW_MS - 2 * M, DAVE, "Dashboard", "dashboard", "modified")])
    app = memory_app(tmp_path, MemorySource(burst + other + noise), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert alert_rows(screen) == [("role_changes", DAVE)]
        screen.alert_table.focus()
        await pilot.press("enter")
        await settle_watch(pilot)
        events_screen = app.screen
        assert isinstance(events_screen, AlertEventsScreen)
        table = events_screen.query_one(EventTable)
        assert sorted(e.id for e in table.rows) == sorted(e.id for e in burst)
        assert "3 events" in screen_text(app) and "role_changes" in screen_text(app)
        await pilot.press("enter")
        await settle_watch(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        await pilot.press("escape")
        await pilot.press("escape")
        await settle_watch(pilot)
        assert app.screen is screen


async def test_enter_on_an_actor_lists_their_matching_events(tmp_path):
    clock = TestClock(FROZEN_NOW)
    events = role_grants(NOW_MS, DAVE, [9, 6]) + role_grants(NOW_MS, ALICE, [7])
    app = memory_app(tmp_path, MemorySource(events), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        screen.actor_table.focus()
        await pilot.press("enter")
        await settle_watch(pilot)
        assert isinstance(app.screen, AlertEventsScreen)
        rows = app.screen.query_one(EventTable).rows
        assert {e.actor for e in rows} == {DAVE} and len(rows) == 2


# -- export -----------------------------------------------------------------------------------------------


async def test_export_writes_the_alert_report_in_private_files(tmp_path):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(role_grants(NOW_MS, DAVE, [9, 6, 3])), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await polled(pilot, 1)
        await pilot.press("e")
        await settle_watch(pilot)
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await settle_watch(pilot)
        files = sorted(tmp_path.glob("ddaudit-watch-*"))
        assert [f.suffix for f in files] == [".json", ".md"]
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
        doc = json.loads(files[0].read_text())
        assert doc["report"] == "watch" and doc["source"] == "memory-org"
        (alert,) = doc["alerts"]
        assert {
            "rule",
            "actor",
            "count",
            "first_seen",
            "last_seen",
            "severity",
            "event_ids",
            "dedup_key",
            "paged",
        } <= set(alert)
        assert alert["rule"] == "role_changes" and alert["actor"] == DAVE and alert["count"] == 3
        assert len(alert["events"]) == 3 and alert["paged"] is False
        assert doc["actors"][0]["actor"] == DAVE and doc["actors"][0]["hot"] == ["role_changes"]
        assert doc["paging"].startswith("off")
        assert "# Spike watch" in files[1].read_text()
        toast = [n for n in app._notifications if n.title == "Exported"]
        assert toast and str(files[0]) in toast[-1].message and toast[-1].markup is False


async def test_export_before_the_first_poll_says_so(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource()
    app = memory_app(tmp_path, source, clock)

    async def never(*_a, **_k):
        await clock.sleep(10**9)

    source.fetch = never  # type: ignore[method-assign]
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert any("first poll has not finished" in n.message for n in app._notifications)


# -- failures -------------------------------------------------------------------------------------------


async def test_a_source_error_marks_the_data_stale_and_the_pane_recovers(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [3]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        stale = screen.query_one("#watch-stale")
        assert not stale.display
        source.failures.append(RuntimeError("[bold]503[/] Service Unavailable \x1b[2J"))
        clock.advance(30)
        await polled(pilot, 2)
        screen._tick()
        await pilot.pause()
        assert stale.display
        assert "⚠ STALE DATA – last successful poll 12:00:00Z (30 s ago)" in stale.plain
        assert "[bold]503[/] Service Unavailable" in stale.plain and "\x1b" not in stale.plain
        assert "retrying in 30 s" in stale.plain
        assert "✖ poll failed" in screen.query_one(PaneHeader).plain
        assert app.is_running
        # Nothing fetched for a long time is stale too, even without an error.
        clock.advance(60)
        await polled(pilot, 3)
        screen._tick()
        await pilot.pause()
        assert not stale.display
        assert "● LIVE" in screen.query_one("#watch-status").plain


async def test_a_malformed_rules_file_is_shown_and_the_app_keeps_running(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[rules.role_changes]\nthreshold = "many"\n')
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(), clock, rules_path=rules)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await settle_watch(pilot)
        screen = watch_screen(app)
        assert screen.watch_setup is None and screen.setup_error
        assert "role_changes" in screen.setup_error and "threshold" in screen.setup_error
        assert "could not start" in screen_text(app)
        await pilot.press("r")  # no crash
        assert app.is_running


# -- panes -----------------------------------------------------------------------------------------------


async def test_the_poller_keeps_running_while_explore_is_shown(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [5]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        await pilot.press("4")
        await settle_watch(pilot)
        assert isinstance(app.screen, ExploreScreen)
        source.events += role_grants(NOW_MS + 30_000, DAVE, [0.2, 0.1])
        clock.advance(30)
        await until(pilot, lambda: screen.latest.polls == 2 and not screen.latest.polling)
        assert isinstance(app.screen, ExploreScreen)
        # The new alert is announced over Explore.
        assert any(n.title.endswith("role_changes") for n in app._notifications)
        assert screen._dirty  # drawn when the pane is shown again
        assert alert_rows(screen) == []
        await pilot.press("2")
        await settle_watch(pilot)
        assert app.screen is screen and not screen._dirty
        assert alert_rows(screen) == [("role_changes", DAVE)]


async def test_the_bell_rings_on_a_new_alert_when_turned_on(tmp_path, monkeypatch):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource()
    app = memory_app(tmp_path, source, clock)
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await polled(pilot, 1)
        source.events += role_grants(NOW_MS + 30_000, DAVE, [0.3, 0.2, 0.1])
        clock.advance(30)
        await polled(pilot, 2)
        assert rings == []  # off by default
        await pilot.press("b")
        source.events += decode([api_item(NOW_MS + 50_000, ALICE, "Monitor", "monitor", "deleted")])
        clock.advance(30)
        screen = await polled(pilot, 3)
        assert rings == [1]
        assert "bell on" in screen.query_one("#watch-status").plain


async def test_stopping_the_app_stops_the_poller(tmp_path):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        setup = screen.watch_setup
        await pilot.press("q")
        await pilot.pause()
    assert setup.poller._stopping
    assert setup.pager is None and setup.state is None  # closed


async def test_paging_on_with_a_routing_key_shares_the_headless_state(tmp_path, monkeypatch):
    from ddaudit_tui.alerts.state import WatchState

    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789abcdefABCDEF")
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(), clock, scope="api:test:")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert screen.watch_setup.paging == "on"
        assert isinstance(screen.watch_setup.state, WatchState)
        assert "paging: on" in screen.query_one("#watch-status").plain
        assert "R0UT1NG" not in screen_text(app)


async def test_a_headless_watcher_holding_the_state_keeps_the_paging(tmp_path, monkeypatch):
    from ddaudit_tui.alerts.state import WatchState

    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789abcdefABCDEF")
    with WatchState(tmp_path / "state", "api:test:"):
        clock = TestClock(FROZEN_NOW)
        app = memory_app(tmp_path, MemorySource(), clock, scope="api:test:")
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.press("2")
            screen = await polled(pilot, 1)
            assert screen.watch_setup.paging == "off"
            assert screen.watch_setup.paging_note == "a headless 'ddaudit watch' pages this org"


# -- small terminals, NO_COLOR, hostile text ------------------------------------------------------------


async def test_80x24_and_60_columns_keep_the_essentials(tmp_path):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [9, 6, 3]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert not screen.query_one(HotActorSparklines).display
        text = screen_text(app)
        assert "! HOT" in text and "! HIGH" in text and "next poll in" in text
        await pilot.resize_terminal(60, 24)
        await settle_watch(pilot)
        lines = screen_lines(app)
        assert max(len(line) for line in lines) <= 60
        text = "\n".join(lines)
        assert "! HOT" in text and "● ! HIGH" in text and "LIVE" in text and "next poll in" in text
        await pilot.resize_terminal(120, 35)
        await settle_watch(pilot)
        assert screen.query_one(HotActorSparklines).display
        assert DAVE in screen.query_one(HotActorSparklines).render().plain


async def test_no_color_keeps_flags_and_states_readable(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, DAVE, [9, 6, 3]) + role_grants(NOW_MS, ALICE, [4]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await polled(pilot, 1)
        assert app.no_color
        lines = screen_lines(app)
        dave = next(line for line in lines if DAVE in line and "role_changes" not in line and "HOT" in line)
        alice = next(line for line in lines if ALICE in line)
        assert "! HOT" in dave and "3 !" in dave
        assert "HOT" not in alice and "!" not in alice.split(ALICE)[1]
        assert any("● ! HIGH" in line for line in lines)


async def test_hostile_actor_names_render_literally(tmp_path):
    clock = TestClock(FROZEN_NOW)
    actor = "[@click=app.quit]x[/]\x1b[2J\u202eevil@example.com"
    source = MemorySource(role_grants(NOW_MS, actor, [9, 6, 3]))
    app = memory_app(tmp_path, source, clock)
    async with app.run_test(size=(160, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        lines = screen_lines(app)
        assert any("[@click=app.quit]x[/]" in line for line in lines)
        assert not any(any(ord(c) < 32 or c == "\u202e" for c in line) for line in lines)
        toasts = [n for n in app._notifications if "role_changes" in n.title]
        assert toasts == [] or all(n.markup is False for n in toasts)
        assert screen.latest.alerts[0].group == actor  # the data is untouched; only the view is cleaned
        assert app.is_running


async def test_help_and_palette_list_the_watch_keys(tmp_path):
    clock = TestClock(FROZEN_NOW)
    app = memory_app(tmp_path, MemorySource(), clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        await polled(pilot, 1)
        await pilot.press("question_mark")
        await settle_watch(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        for words in ("Pause", "Poll now", "Interval", "Window", "Bell", "Export", "Sort"):
            assert words in text, words
        await pilot.press("escape")


def test_demo_label_is_recognised():
    from ddaudit_tui.alerts.wiring import is_demo_label

    assert is_demo_label("demo") and is_demo_label("demo (live)")
    assert not is_demo_label("demonstration.json") and not is_demo_label("datadoghq.eu")


def test_cli_passes_the_profile_and_scope_to_the_pane():
    import argparse

    from ddaudit_tui.alerts.wiring import tui_watch_options
    from ddaudit_tui.config import Settings

    args = argparse.Namespace(demo=True, seed=11, input=None)
    options = tui_watch_options(args, Settings(profile="prod"))
    assert options.demo is True and options.scope == "demo:11" and options.settings.profile == "prod"


def test_parse_instant_of_the_frozen_clock():
    # The snapshots and these tests assume the frozen clock sits on a whole minute.
    assert parse_instant("2026-07-04T12:00:00Z") % 60_000 == 0


def test_every_page_status_has_a_cell():
    from ddaudit_tui.analysis.spikes import PageStatus
    from ddaudit_tui.tui.widgets.watch_tables import PAGE_CELLS

    assert set(PAGE_CELLS) == set(PageStatus)
    assert PAGE_CELLS["failed"] == "✖ refused"
