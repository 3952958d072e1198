"""Issue 15 in the TUI: `m` marks the selected thing in each pane, `n` notes it, the glyph shows in the
tables, the Case pane lists marks in time order and Enter goes back, `E` exports, `--case` resumes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import demo_file_source, screen_lines, screen_text
from watch_pane_helpers import settle_watch, until

from ddaudit_tui.case.store import CaseStore
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.case_session import CaseSession
from ddaudit_tui.tui.marks import MARK_GLYPH
from ddaudit_tui.tui.screens.ai import AiScreen, AiUserScreen
from ddaudit_tui.tui.screens.case_view import CaseScreen, TextDialog
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.widgets.ai_flags import AiFlagList
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.key_tables import FlagList

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 90 * 86_400_000, END)
KEY_ID = PLANTED.compromised_key


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


def demo_app(tmp_path: Path, **kwargs: Any) -> DdauditApp:
    return DdauditApp(
        demo_file_source(3000, END),
        WINDOW,
        clock=lambda: END / 1000,
        export_dir=tmp_path / "out",
        **kwargs,
    )


async def explore_ready(pilot: Any) -> ExploreScreen:
    await pilot.press("4")
    await settle_watch(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExploreScreen)
    await until(pilot, lambda: screen.result is not None, what="the Explore result")
    await settle_watch(pilot)
    return screen


async def lookup_ready(pilot: Any, key: str = KEY_ID) -> KeyLookupScreen:
    await pilot.app.action_open_key(key)
    screen = pilot.app.screen
    assert isinstance(screen, KeyLookupScreen)
    await until(pilot, lambda: screen.report is not None, timeout=30, what="the key report")
    await settle_watch(pilot)
    return screen


def cases(tmp_path: Path) -> list[str]:
    root = tmp_path / "cases"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# -- Explore ------------------------------------------------------------------------------------------------


async def test_m_marks_the_explore_event_shows_the_glyph_and_m_again_unmarks(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await explore_ready(pilot)
        table = screen.query_one(EventTable)
        assert cases(tmp_path) == []  # an unnamed session writes nothing before the first mark
        await pilot.press("j", "m")
        await settle_watch(pilot)
        ev = table.cursor_event
        assert ev is not None
        case = app.case.load()
        assert [m.event_ids for m in case.marks.values()] == [(ev.id,)]
        assert list(case.marks.values())[0].pane == "explore"
        assert cases(tmp_path) == [app.case.name] and app.case.name.startswith("unnamed-")
        # The query run before the mark is in the journal, before it.
        assert [e.kind for e in case.entries] == ["query", "mark"]
        # The glyph, in the table's gutter, on the marked row.
        lines = screen_lines(app)
        assert sum(line.count(MARK_GLYPH) for line in lines) >= 1
        # The pane bar counts the marks.
        assert f"{MARK_GLYPH} 1" in lines[0]
        await pilot.press("m")
        await settle_watch(pilot)
        assert app.case.load().marks == {}
        assert not any(MARK_GLYPH in line for line in screen_lines(app)[2:])


async def test_n_notes_the_selected_mark_and_on_nothing_marked_the_case(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        await explore_ready(pilot)
        await pilot.press("m", "n")
        await settle_watch(pilot)
        assert isinstance(app.screen, TextDialog)
        assert "mark m1" in screen_text(app)
        await pilot.press(*"revoked at 10:42 by me", "enter")
        await settle_watch(pilot)
        assert app.case.load().notes["m1"].text == "revoked at 10:42 by me"
        await pilot.press("j", "n")  # an unmarked row: the note is on the case
        await settle_watch(pilot)
        assert "the case" in screen_text(app)
        await pilot.press(*"scope: one key", "enter")
        await settle_watch(pilot)
        assert app.case.load().notes["case"].text == "scope: one key"
        await pilot.press("n", "escape")  # cancelled: nothing changes
        await settle_watch(pilot)
        assert app.case.load().notes["case"].text == "scope: one key"


# -- Key lookup ---------------------------------------------------------------------------------------------


async def test_key_lookup_marks_a_flag_a_deletion_and_a_timeline_event(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="lookup")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await lookup_ready(pilot)
        flags = screen.query_one(FlagList)
        flags.focus()
        await pilot.press("m")
        await settle_watch(pilot)
        flag = flags.highlighted_flag
        assert flag is not None
        marks = list(app.case.load().marks.values())
        assert marks[-1].kind == "flag" and marks[-1].ref["signal"] == flag.signal
        assert set(marks[-1].event_ids) == set(flag.event_ids)
        assert flags.options[0].prompt.plain.startswith(MARK_GLYPH)
        # `n` is the note here too (Networks moved to `w`).
        await pilot.press("n")
        await settle_watch(pilot)
        assert isinstance(app.screen, TextDialog) and "mark m1" in screen_text(app)
        await pilot.press(*"leaked on GitHub", "enter")
        await settle_watch(pilot)
        assert app.case.load().notes["m1"].text == "leaked on GitHub"
        # The next flag too: it cites 180 events, the deletions among them — they are not starred for it.
        await pilot.press("j", "m")
        await settle_watch(pilot)
        # The deletions.
        screen.action_show_section("deleted")
        await settle_watch(pilot)
        deleted = screen._table("deleted")
        deleted.focus()
        await pilot.press("m")
        await settle_watch(pilot)
        d = deleted.cursor_item
        mark = list(app.case.load().marks.values())[-1]
        assert mark.kind == "deletion" and mark.ref["event_id"] == d.event_id
        assert d.event_id in mark.event_ids
        starred = [i for i, cells in enumerate(deleted._cells) if cells[0].plain.startswith(MARK_GLYPH)]
        assert starred == [deleted._order[deleted.cursor_row]]  # the marked deletion, only it
        # A timeline event.
        screen.action_show_section("timeline")
        await settle_watch(pilot)
        timeline = screen.query_one("#key-timeline", EventTable)
        timeline.focus()
        await pilot.press("m")
        await settle_watch(pilot)
        mark = list(app.case.load().marks.values())[-1]
        assert mark.kind == "event" and mark.event_ids == (timeline.cursor_event.id,)
        assert mark.ref["key_id"] == KEY_ID
        # The journal: the key lookup, then the marks.
        kinds = [e.kind for e in app.case.load().entries]
        assert kinds.index("key") < kinds.index("mark")


# -- AI ----------------------------------------------------------------------------------------------------


async def test_ai_m_marks_a_finding_and_o_goes_to_changed_resources(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="ai")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.screen
        assert isinstance(screen, AiScreen)
        await until(pilot, lambda: screen.result is not None, timeout=30, what="the AI analysis")
        await settle_watch(pilot)
        flags = screen.query_one("#ai-flags", AiFlagList)
        flags.focus()
        await pilot.press("m")
        await settle_watch(pilot)
        mark = list(app.case.load().marks.values())[-1]
        assert mark.kind == "ai_flag" and mark.pane == "ai" and mark.event_ids
        assert flags.lines[0].startswith(MARK_GLYPH)
        await pilot.press("o")
        await settle_watch(pilot)
        assert app.focused is not None and app.focused.id == "ai-modified"
        await pilot.press("m")
        await settle_watch(pilot)
        mark = list(app.case.load().marks.values())[-1]
        assert mark.kind == "row" and mark.event_ids


# -- the Case pane, export, resume -------------------------------------------------------------------------


async def test_case_pane_lists_marks_in_time_order_enter_jumps_back_d_removes(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        explore = await explore_ready(pilot)
        table = explore.query_one(EventTable)
        await pilot.press("j", "j", "m", "k", "m")
        await settle_watch(pilot)
        first, second = list(app.case.load().marks.values())
        await pilot.press("5")
        await settle_watch(pilot)
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        assert [r.target for r in case_screen.rows] == [first.id, second.id]
        assert "5 Case" in screen_lines(app)[0] or "5 Case" in screen_text(app)
        # Enter on the first mark: back to Explore, on its event.
        case_screen.query_one("#case-marks").move_cursor(row=0)
        await pilot.press("enter")
        await settle_watch(pilot)
        assert app.current_mode == "explore"
        assert table.cursor_event.id == first.event_ids[0]
        await pilot.press("5", "d")
        await settle_watch(pilot)
        assert [r.target for r in case_screen.rows] == [second.id]


async def test_E_asks_a_name_and_writes_a_folder_that_sha256sum_accepts(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        await explore_ready(pilot)
        await pilot.press("m", "E")
        await settle_watch(pilot)
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"bad name", "enter")
        await settle_watch(pilot)
        assert isinstance(app.screen, TextDialog)  # refused, said why
        assert "invalid case name" in screen_text(app)
        for _ in range(8):
            await pilot.press("backspace")
        await pilot.press(*"inc-4711", "enter")
        await settle_watch(pilot)
        assert app.case.name == "inc-4711" and cases(tmp_path) == ["inc-4711"]
        folder = app.case.last_export
        assert folder is not None and folder.is_absolute() and folder.parent == (tmp_path / "out").resolve()
        assert_sums(folder)
        await pilot.press("5")
        await settle_watch(pilot)
        assert str(folder) in "".join("".join(screen_lines(app)).split())


def assert_sums(folder: Path) -> None:
    """What `sha256sum -c SHA256SUMS` checks (and the mode the issue asks for)."""
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert os.stat(folder).st_mode & 0o777 == 0o700


async def test_a_second_app_with_the_case_restores_marks_and_the_last_key_lookup(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="lookup", case=CaseSession("tester", name="inc-9"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lookup_ready(pilot)
        screen.query_one(FlagList).focus()
        await pilot.press("m")
        await settle_watch(pilot)
        explore = await explore_ready(pilot)
        await pilot.press("slash", *"@evt.name:Monitor", "enter")
        await until(pilot, lambda: explore.query_text == "@evt.name:Monitor", what="the query")
        await settle_watch(pilot)
    marked = CaseStore("inc-9").load().marks
    assert len(marked) == 1

    again = demo_app(tmp_path, start_pane="auto", case=CaseSession("tester", name="inc-9"))
    async with again.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(again.screen, KeyLookupScreen), what="Key lookup")
        screen = again.screen
        await until(pilot, lambda: screen.report is not None, timeout=30, what="the restored lookup")
        await settle_watch(pilot)
        assert screen.key_id == KEY_ID
        assert again.case.load().marks.keys() == marked.keys()
        flags = screen.query_one(FlagList)
        assert flags.options[0].prompt.plain.startswith(MARK_GLYPH)
        explore = await explore_ready(pilot)
        assert explore.query_text == "@evt.name:Monitor"  # Explore's last query, restored


async def test_reopening_on_explore_restores_every_pane_and_the_marks(tmp_path: Path):
    """Built, quit, reopened with `--case inc-7 --pane explore`: Explore shows its last preset search over
    the preset's own window, Key lookup (on its first visit) its last key, the marks are starred."""
    from ddaudit_tui.analysis.presets import build_query
    from ddaudit_tui.tui.screens.preset_dialog import PresetRun
    from ddaudit_tui.tui.widgets.header import PaneHeader

    app = demo_app(tmp_path, start_pane="lookup", case=CaseSession("tester", name="inc-7"))
    query = build_query("ip", {"ip": PLANTED.attacker_vpn_ip})
    preset_window = Window(END - 30 * 86_400_000, END - 86_400_000)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lookup_ready(pilot)
        screen.query_one(FlagList).focus()
        await pilot.press("m")
        await settle_watch(pilot)
        explore = await explore_ready(pilot)
        explore.run_preset(PresetRun("ip", query, preset_window, "30d", ()))
        await until(pilot, lambda: explore.result is not None and explore.query_text == query, what="preset")
        await settle_watch(pilot)
        await pilot.press("m")
        await settle_watch(pilot)
    marked = CaseStore("inc-7").load().marks
    assert len(marked) == 2

    again = demo_app(tmp_path, start_pane="explore", case=CaseSession("tester", name="inc-7"))
    async with again.run_test(size=(80, 24)) as pilot:
        explore = again.screen
        assert isinstance(explore, ExploreScreen)
        await until(pilot, lambda: explore.result is not None, what="the restored search")
        await settle_watch(pilot)
        # Explore: the preset's query, over the preset's own window (shown in its header).
        assert (explore.query_text, explore.preset, explore.window) == (query, "ip", preset_window)
        assert explore.result.window == preset_window
        assert explore.query_one(PaneHeader).pane_window == preset_window
        table = explore.query_one(EventTable)
        assert table._marked  # the event marked last time carries the glyph
        # Key lookup, on its first visit: the last key, looked up again; its marked flag starred.
        await pilot.press("1")
        await settle_watch(pilot)
        lookup = again.screen
        assert isinstance(lookup, KeyLookupScreen)
        await until(pilot, lambda: lookup.report is not None, timeout=30, what="the restored lookup")
        await settle_watch(pilot)
        assert lookup.key_id == KEY_ID
        assert lookup.query_one(FlagList).options[0].prompt.plain.startswith(MARK_GLYPH)
        # The marks, in the Case pane.
        await pilot.press("5")
        await settle_watch(pilot)
        case_pane = again.screen
        assert isinstance(case_pane, CaseScreen)
        assert [r.target for r in case_pane.rows] == list(marked)


async def test_reopening_restores_the_ai_drill_down_of_a_headless_ai_user_report(tmp_path: Path):
    """`ddaudit ai --user U --case …` journals the analysis with its user: the AI pane reopens on U."""
    store = CaseStore.open_or_create("inc-ai", "tester")
    store.record("ai", "AI activity", pane="cli", extra={"user": PLANTED.ai_destructive_user})
    app = demo_app(tmp_path, start_pane="explore", case=CaseSession("tester", name="inc-ai"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, AiUserScreen), timeout=30, what="the drill-down")
        await settle_watch(pilot)
        assert app.screen.user == PLANTED.ai_destructive_user


async def test_help_and_palette_list_mark_note_and_export_case(tmp_path: Path):
    from ddaudit_tui.tui.commands import binding_groups

    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        await explore_ready(pilot)
        entries = {e.action: e for g in binding_groups(app, app.screen) for e in g.entries}
        for action in ("mark", "note", "export_case"):
            assert any(a.endswith(action) for a in entries), action
        await pilot.press("ctrl+p")
        await settle_watch(pilot)
        await pilot.press(*"Case export")
        await settle_watch(pilot)
        assert "Case export" in screen_text(app)


async def test_m_in_the_event_detail_is_the_same_mark_as_on_its_row(tmp_path: Path):
    app = demo_app(tmp_path, start_pane="explore")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await explore_ready(pilot)
        await pilot.press("m", "enter")
        await settle_watch(pilot)
        from ddaudit_tui.tui.screens.detail import EventDetailScreen

        assert isinstance(app.screen, EventDetailScreen)
        await pilot.press("m")  # the same event: unmarks it
        await settle_watch(pilot)
        assert app.case.load().marks == {}
        await pilot.press("m")
        await settle_watch(pilot)
        (mark,) = app.case.load().marks.values()
        assert mark.ref["query"] == screen.query_text


def test_no_pane_or_table_shadows_m_n_or_E():
    """`m`, `n` and `E` are the case's keys in every pane: no pane, section or table binds them to
    something else (the event detail's `n` is "next event", documented; dialogs take typed text)."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import ModalScreen

    import ddaudit_tui.tui.screens as screens_pkg
    import ddaudit_tui.tui.widgets as widgets_pkg

    clashes = []
    for pkg in (screens_pkg, widgets_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__ or issubclass(cls, ModalScreen):
                    continue
                for b in getattr(cls, "BINDINGS", ()):
                    keys = b.key.split(",") if hasattr(b, "key") else str(b[0]).split(",")
                    action = b.action if hasattr(b, "action") else b[1]
                    if {"m", "n", "E"} & set(keys) and not str(action).startswith("app."):
                        clashes.append(f"{cls.__name__}: {b}")
    assert clashes == []


async def test_the_case_summary_keeps_every_count_at_80x24(tmp_path: Path):
    # The summary line of the Case pane wraps rather than cut its last count ("… · 1 key lookups · 0").
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await explore_ready(pilot)
        assert screen is not None
        await pilot.press("m")
        await settle_watch(pilot)
        await pilot.press("5")
        await settle_watch(pilot)
        text = screen_text(app)
        assert "★ 1 mark · 1 query · 0 key lookups · 0 alerts" in " ".join(text.split()), text
