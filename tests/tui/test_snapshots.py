"""Screenshots of the Explore pane (frozen clock, fixed size, pinned theme, no cursor blink).

Regenerate deliberately (after looking at them) with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from conftest import frozen_clock
from tui_helpers import settle
from tui_synthetic import WINDOW, make_items, make_source

from ddaudit_tui.tui.app import DdauditApp


def explore_app() -> DdauditApp:
    return DdauditApp(make_source(make_items(300, seed=11)), WINDOW, clock=frozen_clock)


async def prepare(pilot) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await settle(pilot)


def test_explore_120x35(snap_compare):
    assert snap_compare(explore_app(), terminal_size=(120, 35), run_before=prepare)


def test_explore_80x24(snap_compare):
    assert snap_compare(explore_app(), terminal_size=(80, 24), run_before=prepare)


def test_explore_sorted_and_filtered_100x30(snap_compare):
    async def run_before(pilot) -> None:
        await prepare(pilot)
        await pilot.press("slash")
        pilot.app.screen.query_one("#query").value = "@http.status_code:>=400"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s", "s", "s", "j", "j")
        await settle(pilot)

    assert snap_compare(explore_app(), terminal_size=(100, 30), run_before=run_before)


def test_event_detail_100x30(snap_compare):
    async def run_before(pilot) -> None:
        await prepare(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(explore_app(), terminal_size=(100, 30), run_before=run_before)
