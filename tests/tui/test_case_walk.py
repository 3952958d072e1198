"""Issue 15's acceptance walk, by keyboard, on the demo: Spike watch → the leaked-key alert → Key lookup on
that key → mark two flags and the deletions → Explore on the attacker IP → mark three events → a note →
`E`. The folder verifies, report.md tells the story in order, and reopening the case by name brings every
pane back as it was left (whatever pane the app starts on)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
import pytest
from case_walk_helpers import (
    ATTACKER_IP,
    KEY_ID,
    LEAKED_RULE,
    NOTE,
    NOW_MS,
    acceptance_walk,
    demo_app,
    evidence_items,
)
from watch_pane_helpers import polled, settle_watch, until

from ddaudit_tui.analysis.presets import build_query
from ddaudit_tui.demo.incidents import PLANTED, planted_times
from ddaudit_tui.tui.case_session import CaseSession
from ddaudit_tui.tui.marks import MARK_GLYPH
from ddaudit_tui.tui.screens.case_view import CaseScreen, TextDialog
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen

pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


async def test_the_acceptance_walk_ends_in_a_verified_folder_that_tells_the_story(tmp_path: Path):
    app = demo_app(tmp_path / "out")
    async with app.run_test(size=(80, 24)) as pilot:
        walked = await acceptance_walk(pilot, "inc-4711", extras=True)
    folder = walked.folder

    # The folder verifies (what `sha256sum -c SHA256SUMS` checks).
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    case = json.loads((folder / "case.json").read_text())
    marks = case["marks"]
    kinds = [m["kind"] for m in marks]
    assert kinds.count("flag") == 2
    assert kinds.count("deletion") == walked.deletions
    assert kinds.count("event") == 3
    assert kinds.count("alert") == 1
    assert case["notes"][0]["text"] == NOTE
    # Every marked event's raw event is in the evidence, each once — the alert never opened included.
    evidence = [item["id"] for item in evidence_items(folder)]
    assert len(evidence) == len(set(evidence))
    assert {i for m in marks for i in m["event_ids"]} <= set(evidence)
    (alert_mark,) = [m for m in marks if m["kind"] == "alert"]
    assert alert_mark["ref"]["alert"] == walked.unopened_alert.dedup_key
    assert set(alert_mark["event_ids"]) == set(walked.unopened_alert.event_ids)
    assert {e.id for e in walked.unopened_alert_events} <= set(evidence)
    # The story, in the order it happened: alert, pivot, key lookup, marks, the IP search, the note.
    journal_kinds = [e["kind"] for e in case["journal"]]
    opened = journal_kinds.index("alert")
    order = [opened, *(journal_kinds.index(k, opened) for k in ("pivot", "key", "mark", "note"))]
    assert order == sorted(order), journal_kinds
    ip_search = next(
        i
        for i, e in enumerate(case["journal"])
        if e["kind"] == "query" and ATTACKER_IP in (e.get("query") or "")
    )
    assert journal_kinds.index("key") < ip_search < len(journal_kinds) - 1
    report = (folder / "report.md").read_text()
    for earlier, later in (
        ("opened alert", KEY_ID),
        ("opened alert", ATTACKER_IP),
        (ATTACKER_IP, NOTE),
    ):
        assert earlier in report and later in report
        assert report.index(earlier) < report.rindex(later), (earlier, later)

    # Reopened by name on another pane: every pane as it was left, and the marks.
    again = demo_app(tmp_path / "out2", case=CaseSession("tester", name="inc-4711"), start_pane="explore")
    async with again.run_test(size=(80, 24)) as pilot:
        explore = again.screen
        assert isinstance(explore, ExploreScreen)
        await until(pilot, lambda: explore.result is not None, what="the restored search")
        await settle_watch(pilot)
        assert explore.query_text == build_query("ip", {"ip": ATTACKER_IP})
        assert len(again.case.load().marks) == len(marks)
        await pilot.press("1")
        await settle_watch(pilot)
        lookup = again.screen
        assert isinstance(lookup, KeyLookupScreen)
        await until(pilot, lambda: lookup.report is not None, timeout=30, what="the restored key lookup")
        await settle_watch(pilot)
        assert lookup.key_id == KEY_ID
        await pilot.press("2")
        watch = await polled(pilot, 1)
        alerts = watch.alert_table
        row = next(
            i for i, a in enumerate(alerts.rows_in_order) if a.dedup_key == walked.unopened_alert.dedup_key
        )
        assert alerts._cells[alerts._order[row]][0].plain.startswith(MARK_GLYPH)
        await pilot.press("5")
        await settle_watch(pilot)
        case_pane = again.screen
        assert isinstance(case_pane, CaseScreen)
        assert [r.target for r in case_pane.rows if r.target != "case"] == [m["id"] for m in marks]


async def test_m_marks_a_spike_watch_alert_and_an_event_of_it(tmp_path: Path):
    app = demo_app(tmp_path)
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


async def test_m_on_an_alert_never_opened_keeps_exactly_its_events(tmp_path: Path):
    """The alert is marked from its row, never opened: the export's evidence is its events, as read."""
    app = demo_app(tmp_path / "out")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        watch = await polled(pilot, 1)
        table = watch.alert_table
        table.focus()
        table.move_cursor(row=next(i for i, a in enumerate(table.items) if a.rule == LEAKED_RULE))
        alert = table.cursor_item
        await pilot.press("m")
        await until(pilot, lambda: bool(app.case.load().marks), what="the alert's mark")
        await settle_watch(pilot)
        assert not isinstance(app.screen, AlertEventsScreen)
        kinds = [e.kind for e in app.case.load().entries]
        assert kinds.count("mark") == 1 and "alert" not in kinds  # marked, not opened
        # The row carries the glyph.
        row = table.rows_in_order.index(alert)
        assert table._cells[table._order[row]][0].plain.startswith(MARK_GLYPH)
        await pilot.press("E")
        await settle_watch(pilot)
        await pilot.press(*"inc-alert", "enter")
        await settle_watch(pilot)
        folder = app.case.last_export
        assert folder is not None
        source_events = (await app.source.fetch("*", app.window)).events
    raw = {e.id: msgspec.json.decode(e.raw) for e in source_events if e.id in set(alert.event_ids)}
    assert len(raw) == len(alert.event_ids) == alert.count
    items = evidence_items(folder)
    assert sorted(item["id"] for item in items) == sorted(alert.event_ids)  # exactly its events, each once
    assert all(item == raw[item["id"]] for item in items)  # as they were read


async def test_m_and_n_on_a_spike_watch_actor_row(tmp_path: Path):
    """`m` on an actor row marks the actor's events that Enter lists; the row shows ★; `n` notes it;
    `m` again removes it; the Case view's Enter comes back to the row."""
    # The watch's "now" ten minutes into the demo's bulk deletion (12 deletions within 8 minutes): its
    # actor has a row (at the demo's end, the last 15 minutes hold no matching event).
    now_ms = planted_times(NOW_MS)["bulk_deletion_start"] + 10 * 60_000
    app = demo_app(tmp_path / "out", now_ms=now_ms)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        watch = await polled(pilot, 1)
        actors = watch.actor_table
        actors.focus()
        actors.move_cursor(
            row=next(i for i, r in enumerate(actors.rows_in_order) if r.actor == PLANTED.bulk_deletion_user)
        )
        row = actors.cursor_item
        assert row is not None and row.total >= 12
        await pilot.press("m")
        await until(pilot, lambda: bool(app.case.load().marks), what="the actor's mark")
        await settle_watch(pilot)
        (mark,) = app.case.load().marks.values()
        assert (mark.kind, mark.pane, mark.ref["actor"]) == ("actor", "watch", row.actor)
        # The events are the ones Enter on the row lists, stored in the case.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertEventsScreen), what="the actor's events")
        listed = app.screen
        await until(pilot, lambda: listed.events, what="the actor's events fetched")
        assert set(mark.event_ids) == {e.id for e in listed.events}
        assert len(mark.event_ids) == row.total
        assert app.case.store is not None and set(mark.event_ids) <= set(app.case.store.events())
        await pilot.press("escape")
        await settle_watch(pilot)
        # The glyph, in the actor's row.
        i = actors.rows_in_order.index(row)
        assert actors._cells[actors._order[i]][0].plain.startswith(MARK_GLYPH)
        # n: a note on that mark.
        await pilot.press("n")
        await settle_watch(pilot)
        dialog = app.screen
        assert isinstance(dialog, TextDialog) and mark.id in dialog.title_text
        await pilot.press(*"scripted burst", "enter")
        await settle_watch(pilot)
        assert app.case.note_text(mark.id) == "scripted burst"
        # The Case view's Enter: back on the actor's row.
        actors.move_cursor(row=len(actors.items) - 1)
        watch.alert_table.focus()
        await pilot.press("5")
        await settle_watch(pilot)
        await pilot.press("enter")
        await settle_watch(pilot)
        assert app.screen is watch and watch.focused is actors and actors.cursor_item == row
        # m again: unmarked, the glyph gone.
        await pilot.press("m")
        await settle_watch(pilot)
        assert not app.case.load().marks
        assert not actors._cells[actors._order[actors.rows_in_order.index(row)]][0].plain.startswith(
            MARK_GLYPH
        )


async def test_x_explore_on_ip_into_an_explore_never_opened_shows_that_ip(tmp_path: Path):
    """The walk's other way to Explore (`x` → "Explore on IP" from Key lookup): the first visit to Explore
    must show the pivot's search, not the start query run over it once the pane is mounted."""
    app = demo_app(tmp_path / "out", start_pane="lookup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_watch(pilot)
        query = build_query("ip", {"ip": ATTACKER_IP})
        await app.pivot_to_explore(query, narrow=False)
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        await until(pilot, lambda: explore.result is not None, what="the search")
        await settle_watch(pilot)
        await pilot.pause(0.2)
        await settle_watch(pilot)
        assert explore.query_text == query and explore.result is not None
        assert explore.result.query == query
        assert explore.result.events and all(e.client_ip == ATTACKER_IP for e in explore.result.events)
