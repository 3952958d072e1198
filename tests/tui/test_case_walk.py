"""Issue 15's acceptance walk, by keyboard, on the demo: Spike watch → the leaked-key alert → Key lookup on
that key → mark two flags and the deletions → Explore on the attacker IP → mark three events → a note →
`E`. The folder verifies, and report.md tells the story in order."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from conftest import FROZEN_NOW
from watch_pane_helpers import TestClock, polled, settle_watch, until

from ddaudit_tui.analysis.presets import build_query
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.pivot import KEY, PivotMenu
from ddaudit_tui.tui.screens.case_view import TextDialog
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen
from ddaudit_tui.tui.widgets.key_tables import FlagList

NOW_MS = int(FROZEN_NOW * 1000)
KEY_ID = PLANTED.compromised_key
ATTACKER_IP = PLANTED.attacker_vpn_ip


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    for name in ("DDAUDIT_RULES", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY"):
        monkeypatch.delenv(name, raising=False)


async def test_the_acceptance_walk_ends_in_a_verified_folder_that_tells_the_story(tmp_path: Path):
    from ddaudit_tui.demo.source import open_demo

    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, clock=clock)
    out = tmp_path / "out"
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock, export_dir=out)
    async with app.run_test(size=(80, 24)) as pilot:
        # Spike watch → the leaked-key alert, opened.
        await pilot.press("2")
        watch = await polled(pilot, 1)
        table = watch.alert_table
        table.focus()
        row = next(i for i, a in enumerate(table.items) if a.rule == "leaked_key_notification")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertEventsScreen), what="the alert's events")
        await until(pilot, lambda: app.screen.events, what="the alert's events fetched")  # type: ignore[attr-defined]
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
        # Mark two flags.
        lookup.query_one(FlagList).focus()
        await pilot.press("m", "j", "m")
        # … and the deletions (every row of the Deleted section).
        lookup.action_show_section("deleted")
        await settle_watch(pilot)
        deleted = lookup._table("deleted")
        deleted.focus()
        assert deleted.items, "the demo's compromised key deleted things"
        for i in range(len(deleted.items)):
            await pilot.press("m")
            if i < len(deleted.items) - 1:
                await pilot.press("j")
        await settle_watch(pilot)
        # → Explore on the attacker IP, three events marked, a note on the last.
        await pilot.press("4", "slash")
        await pilot.press(*build_query("ip", {"ip": ATTACKER_IP}), "enter")
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        await until(
            pilot, lambda: explore.result is not None and explore.query_text != "*", what="the IP search"
        )
        await settle_watch(pilot)
        assert len(explore.result.events) >= 3
        await pilot.press("m", "j", "m", "j", "m", "n")
        await settle_watch(pilot)
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"revoked at 10:42 by me", "enter")
        # E: named, exported.
        await pilot.press("E")
        await settle_watch(pilot)
        await pilot.press(*"inc-4711", "enter")
        await settle_watch(pilot)
        folder = app.case.last_export
        assert folder is not None

    # The folder verifies (what `sha256sum -c SHA256SUMS` checks).
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    case = json.loads((folder / "case.json").read_text())
    marks = case["marks"]
    assert [m["kind"] for m in marks].count("flag") == 2
    assert [m["kind"] for m in marks].count("deletion") == len(deleted.items)
    assert [m["kind"] for m in marks].count("event") == 3
    assert case["notes"][0]["text"] == "revoked at 10:42 by me"
    # Every marked event's raw event is in the evidence, each once.
    with gzip.open(folder / "evidence.ndjson.gz") as f:
        evidence = [json.loads(line)["id"] for line in f if line.strip()]
    assert len(evidence) == len(set(evidence))
    assert {i for m in marks for i in m["event_ids"]} <= set(evidence)
    # The story, in the order it happened: alert, pivot, key lookup, marks, the IP search, the note.
    kinds = [e["kind"] for e in case["journal"]]
    order = [kinds.index(k) for k in ("alert", "pivot", "key", "mark", "note")]
    assert order == sorted(order), kinds
    ip_search = next(
        i
        for i, e in enumerate(case["journal"])
        if e["kind"] == "query" and ATTACKER_IP in (e.get("query") or "")
    )
    assert kinds.index("key") < ip_search < len(kinds) - 1
    report = (folder / "report.md").read_text()
    for earlier, later in (
        ("opened alert", KEY_ID),
        ("opened alert", ATTACKER_IP),
        (ATTACKER_IP, "revoked at 10:42 by me"),
    ):
        assert earlier in report and later in report
        assert report.index(earlier) < report.rindex(later), (earlier, later)


async def test_m_marks_a_spike_watch_alert_and_an_event_of_it(tmp_path: Path):
    from ddaudit_tui.demo.source import open_demo

    clock = TestClock(FROZEN_NOW)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, clock=clock)
    app = DdauditApp(source, Window(NOW_MS - 7 * 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        watch = await polled(pilot, 1)
        table = watch.alert_table
        table.focus()
        row = next(i for i, a in enumerate(table.items) if a.rule == "leaked_key_notification")
        table.move_cursor(row=row)
        alert = table.items[row]
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "events", None), what="the alert's events")
        await pilot.press("m")  # in the alert's events: the event
        await settle_watch(pilot)
        (mark,) = app.case.load().marks.values()
        assert mark.kind == "event" and mark.ref["alert"] == alert.dedup_key
        await pilot.press("escape", "m")  # on the alert row: the alert, with the events opened
        await settle_watch(pilot)
        mark = list(app.case.load().marks.values())[-1]
        assert mark.kind == "alert" and mark.pane == "watch" and set(mark.event_ids) == set(alert.event_ids)
        assert app.case.store is not None and set(mark.event_ids) <= set(app.case.store.events())
        kinds = [e.kind for e in app.case.load().entries]
        assert kinds.index("alert") < kinds.index("mark")
        await pilot.press("m")  # again: unmarked
        await settle_watch(pilot)
        assert [m.kind for m in app.case.load().marks.values()] == ["event"]
