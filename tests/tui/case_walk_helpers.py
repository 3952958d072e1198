"""Issue 15's acceptance walk by keyboard, on the demo at FROZEN_NOW, shared by test_case_walk.py and
test_case_headless_equals_tui.py: Spike watch → the leaked-key alert → Key lookup on that key → mark two
flags and the deletions → Explore on the attacker IP → mark three events → a note → `E`.

`extras=True` adds, in Spike watch before the leaked-key alert is opened, what the walk alone does not
reach: `m` on another alert, never opened (its events must be kept all the same)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import FROZEN_NOW
from watch_pane_helpers import TestClock, polled, settle_watch, until

from ddaudit_tui.analysis.presets import build_query
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.case_session import CaseSession
from ddaudit_tui.tui.pivot import KEY, PivotMenu
from ddaudit_tui.tui.screens.case_view import TextDialog
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen, WatchScreen
from ddaudit_tui.tui.widgets.key_tables import FlagList

NOW_MS = int(FROZEN_NOW * 1000)
WINDOW = Window(NOW_MS - 7 * 86_400_000, NOW_MS)
KEY_ID = PLANTED.compromised_key
ATTACKER_IP = PLANTED.attacker_vpn_ip
LEAKED_RULE = "leaked_key_notification"
DEMO = {"seed": 7, "events": 3000, "end_ms": NOW_MS}
NOTE = "revoked at 10:42 by me"


def demo_app(
    out: Path, *, case: CaseSession | None = None, start_pane: str = "explore", now_ms: int = NOW_MS
) -> DdauditApp:
    """The demo org ending at FROZEN_NOW, a week's window, a test clock (Spike watch polls on demand) at
    `now_ms` (earlier: the watch's "now" in the org's past, its actor rows then)."""
    from ddaudit_tui.demo.source import open_demo

    clock = TestClock(now_ms / 1000)
    source = open_demo(**DEMO, clock=clock)
    return DdauditApp(source, WINDOW, clock=clock, export_dir=out, case=case, start_pane=start_pane)


@dataclass
class Walked:
    """What the walk did, for the tests to check against the exported folder."""

    folder: Path
    deletions: int
    unopened_alert: Any = None  # extras: the alert marked without being opened
    unopened_alert_events: list[Any] = field(default_factory=list)  # … its events, as the source has them


def _alert_row(watch: WatchScreen, pred: Any) -> int:
    return next(i for i, a in enumerate(watch.alert_table.items) if pred(a))


async def mark_extras(pilot: Any, watch: WatchScreen, walked: Walked) -> None:
    """In Spike watch: `m` on an alert that is never opened."""
    app = pilot.app
    table = watch.alert_table
    table.focus()
    table.move_cursor(row=_alert_row(watch, lambda a: a.rule != LEAKED_RULE))
    alert = table.cursor_item
    assert alert is not None
    await pilot.press("m")
    await until(
        pilot, lambda: any(m.kind == "alert" for m in app.case.load().marks.values()), what="the mark"
    )
    await settle_watch(pilot)
    walked.unopened_alert = alert
    result = await app.source.fetch("*", Window(alert.first_seen, alert.last_seen + 1))
    wanted = set(alert.event_ids)
    walked.unopened_alert_events = [e for e in result.events if e.id in wanted]


async def acceptance_walk(pilot: Any, name: str, *, extras: bool = False) -> Walked:
    """The walk, by keyboard; returns the exported folder (and what `extras` marked)."""
    app = pilot.app
    walked = Walked(Path(), 0)
    # Spike watch → (extras) → the leaked-key alert, opened.
    await pilot.press("2")
    watch = await polled(pilot, 1)
    if extras:
        await mark_extras(pilot, watch, walked)
    table = watch.alert_table
    table.focus()
    table.move_cursor(row=_alert_row(watch, lambda a: a.rule == LEAKED_RULE))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, AlertEventsScreen), what="the alert's events")
    await until(pilot, lambda: app.screen.events, what="the alert's events fetched")
    await pilot.press("escape")
    await settle_watch(pilot)
    # → Key lookup on that key (the pivot menu's "investigate key").
    await pilot.press("x")
    await pilot.pause()
    menu = app.screen
    assert isinstance(menu, PivotMenu)
    await pilot.press(str([a for a, _ in menu.actions].index(KEY) + 1))
    await until(pilot, lambda: isinstance(app.screen, KeyLookupScreen), what="Key lookup")
    lookup = app.screen
    await until(pilot, lambda: lookup.report is not None, timeout=30, what="the key report")
    await settle_watch(pilot)
    # Mark two flags …
    lookup.query_one(FlagList).focus()
    await pilot.press("m", "j", "m")
    # … and the deletions (every row of the Deleted section).
    lookup.action_show_section("deleted")
    await settle_watch(pilot)
    deleted = lookup._table("deleted")
    deleted.focus()
    assert deleted.items, "the demo's compromised key deleted things"
    walked.deletions = len(deleted.items)
    for i in range(walked.deletions):
        await pilot.press("m")
        if i < walked.deletions - 1:
            await pilot.press("j")
    await settle_watch(pilot)
    # → Explore on the attacker IP, three events marked, a note on the last.
    await pilot.press("4", "slash")
    await pilot.press(*build_query("ip", {"ip": ATTACKER_IP}), "enter")
    explore = app.screen
    assert isinstance(explore, ExploreScreen)
    await until(pilot, lambda: explore.result is not None and explore.query_text != "*", what="the IP search")
    await settle_watch(pilot)
    assert len(explore.result.events) >= 3
    await pilot.press("m", "j", "m", "j", "m", "n")
    await settle_watch(pilot)
    assert isinstance(app.screen, TextDialog)
    await pilot.press(*NOTE, "enter")
    # E: named, exported.
    await pilot.press("E")
    await settle_watch(pilot)
    await pilot.press(*name, "enter")
    await settle_watch(pilot)
    assert app.case.last_export is not None
    walked.folder = app.case.last_export
    return walked


def evidence_items(folder: Path) -> list[dict[str, Any]]:
    """The exported evidence, one decoded item per line."""
    with gzip.open(folder / "evidence.ndjson.gz") as f:
        return [json.loads(line) for line in f if line.strip()]
