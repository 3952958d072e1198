"""Screenshots of the Spike watch pane on the demo org (frozen clock, pinned theme, fixed size).

The demo is built at the frozen "now" and its first poll looks back 24 hours, so the planted bursts are
in the alerts list; then four minutes pass (the injected clock) and the live demo's first burst — role
grants — is in the second poll: a hot actor, a new open alert. Regenerate deliberately (after looking at them) with
`pytest tests/tui/test_watch_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from conftest import FROZEN_NOW
from watch_pane_helpers import MemorySource, TestClock, polled, role_grants, settle_watch

from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp

NOW_MS = int(FROZEN_NOW * 1000)


def demo_app() -> DdauditApp:
    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, live=True, clock=clock)
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock)
    app.watch_options = WatchOptions(demo=True, clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    return app


async def show_watch(pilot) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await pilot.press("2")
    await polled(pilot, 1)
    await settle_watch(pilot)


async def show_live_burst(pilot) -> None:
    await show_watch(pilot)
    pilot.app.watch_options.clock.advance(240)
    await polled(pilot, 2)
    pilot.app.clear_notifications()  # toasts expire in real time: keep them out of the picture
    await settle_watch(pilot)


def test_watch_demo_120x35(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(120, 35), run_before=show_live_burst)


def test_watch_demo_80x24(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=show_live_burst)


def test_watch_paused_and_stale_100x30(snap_compare):
    clock = TestClock(FROZEN_NOW)
    source = MemorySource(role_grants(NOW_MS, "dave@example.com", [9, 6, 3]), label="datadoghq.eu")
    app = DdauditApp(source, Window(NOW_MS - 86_400_000, NOW_MS), clock=clock)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]

    async def run_before(pilot) -> None:
        await show_watch(pilot)
        pilot.app.clear_notifications()
        await pilot.press("space")
        source.events += role_grants(NOW_MS + 30_000, "dave@example.com", [0.2, 0.1])
        clock.advance(30)
        await polled(pilot, 2)
        source.failures.append(RuntimeError("429 Too Many Requests: rate limited"))
        clock.advance(30)
        screen = await polled(pilot, 3)
        pilot.app.clear_notifications()
        screen._tick()
        await settle_watch(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
