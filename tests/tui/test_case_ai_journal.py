"""Issue 15: the AI pane's analysis is journalled like `ddaudit ai --case` — when the analysis completes,
the case gets an `ai` entry (window, call and flag counts, completeness), every AI flag as a finding with
its events, the flagged events stored as evidence, and the AI report section — as Explore's queries and
Key lookup's lookups are."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tui_helpers import demo_file_source
from watch_pane_helpers import settle_watch, until

from ddaudit_tui import cli
from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.case.store import CaseStore
from ddaudit_tui.cliutil import EXIT_OK
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.case_session import CaseSession
from ddaudit_tui.tui.screens.ai import AiScreen, ai_window

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 90 * 86_400_000, END)


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


def source() -> FileSource:
    return demo_file_source(3000, END)


async def test_the_ai_analysis_is_journalled_with_its_flags_as_findings(tmp_path: Path):
    expected = await investigate_ai(source(), ai_window(WINDOW))
    assert expected.flags, "the demo's AI activity has flags"
    case = CaseSession("tester", name="inc-ai")
    app = DdauditApp(source(), WINDOW, clock=lambda: END / 1000, export_dir=tmp_path / "out", case=case)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, AiScreen)
        await until(pilot, lambda: screen.result is not None, timeout=30, what="the AI analysis")
        await settle_watch(pilot)

    (entry,) = [e for e in CaseStore.open("inc-ai").load().entries if e.kind == "ai"]
    assert entry.pane == "ai"
    assert entry.window == (expected.window.start, expected.window.end)
    assert entry.counts == {"calls": len(expected.calls), "flags": len(expected.flags)}
    assert entry.complete is True
    assert [f.kind for f in entry.findings] == ["ai_flag"] * len(expected.flags)
    assert [f.event_ids for f in entry.findings] == [tuple(f.event_ids) for f in expected.flags]
    assert entry.section and (CaseStore.open("inc-ai").path / "sections" / f"{entry.section}.md").is_file()
    # The flagged events are stored in the case: an export needs no source.
    stored = CaseStore.open("inc-ai").events()
    assert {i for f in entry.findings for i in f.event_ids} <= set(stored)


async def test_an_unnamed_session_keeps_the_ai_analysis_until_the_case_is_made(tmp_path: Path):
    app = DdauditApp(source(), WINDOW, clock=lambda: END / 1000, export_dir=tmp_path / "out")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, AiScreen)
        await until(pilot, lambda: screen.result is not None, timeout=30, what="the AI analysis")
        await settle_watch(pilot)
        # Only looked around: nothing on disk, the analysis kept in memory (with Explore's first query).
        assert not app.case.on_disk
        await asyncio.to_thread(app.case.ensure_store)
        assert [e.kind for e in app.case.load().entries].count("ai") == 1


def test_the_ai_panes_findings_are_the_headless_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`ddaudit ai --case` over the same events and window journals the same findings as the AI pane."""
    demo = tmp_path / "demo.json"
    demo.write_bytes(msgspec.json.encode({"data": generate(seed=7, events=3000, end_ms=END)}))
    window = ai_window(WINDOW)

    async def tui() -> None:
        app = DdauditApp(
            source(), WINDOW, clock=lambda: END / 1000, case=CaseSession("tester", name="inc-tui")
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            screen = app.screen
            assert isinstance(screen, AiScreen)
            await until(pilot, lambda: screen.result is not None, timeout=30, what="the AI analysis")
            await settle_watch(pilot)

    asyncio.run(tui())  # the command below runs its own event loop
    argv = [
        "ai",
        "--input",
        str(demo),
        "--from",
        iso(window.start),
        "--to",
        iso(window.end),
        "--case",
        "inc-cli",
    ]
    assert cli.main(argv) == EXIT_OK, capsys.readouterr().err

    def ai_entry(name: str) -> Any:
        (entry,) = [e for e in CaseStore.open(name).load().entries if e.kind == "ai"]
        return entry

    tui_entry, cli_entry = ai_entry("inc-tui"), ai_entry("inc-cli")
    assert tui_entry.findings and tui_entry.findings == cli_entry.findings
    assert (tui_entry.window, tui_entry.counts) == (cli_entry.window, cli_entry.counts)
    assert (tui_entry.pane, cli_entry.pane) == ("ai", "cli")
