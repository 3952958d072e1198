"""Hostile event content in every pane of the TUI (issue 7, item 2).

The app runs over a file of events whose attacker-controlled fields hold Rich/Textual markup
(`[@click=app.quit]…`), CSI/OSC/C1 sequences, bidi overrides, NUL and a 100 kB string
(tests/hardening/hostile_data.py). The test presses through Explore (table, facets, detail), Key lookup
(card, every section, copy, export), Spike watch (alert, its events), AI activity (drill-down, export)
and checks, on every screen:

- what reaches the terminal is safe. Two views of the same frame: the compositor's strips (every
  segment's text, and its style: no link, no click action smuggled in from markup), and the very string
  the driver would write for a full repaint (`render_update(full=True).render_segments(console)`). In
  that string, after removing the only sequences Textual itself emits for a frame (SGR colours and
  cursor moves, `ESC [ digits ; … m|H`), no ESC, C1, BEL or bidi control may remain. A CSI from the data
  that happened to look like SGR would still be caught by the segment check;
- the markup is shown as text: `[@click=app.quit]` appears literally, and the app is still running
  after every key (a click action parsed from the data would have quit it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import screen_text
from watch_pane_helpers import polled, settle_watch, watch_screen

from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.ai import AiScreen, AiUserScreen
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.key_lookup import KeyInput, KeyLookupScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.facets import FacetPanel

sys.path.insert(0, str(Path(__file__).parent.parent / "hardening"))
import hostile_data as hd  # noqa: E402

LITERAL = "[@click=app.quit]"
# The escape sequences Textual writes for a frame: SGR (colours, bold…) and cursor positioning.
TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;]*[mH]")
SIZE = (160, 45)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    for name in (
        "DDAUDIT_RULES",
        "DDAUDIT_PAGERDUTY_ROUTING_KEY",
        "PAGERDUTY_ROUTING_KEY",
        "DDAUDIT_PAGERDUTY_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Raw UTF-8 C1/bidi characters in the file: the harder case for the detail view's raw JSON.
    return hd.write_items_raw_unicode(tmp_path_factory.mktemp("hostile") / "hostile.json")


def hostile_app(path: Path, export_dir: Path) -> DdauditApp:
    source = FileSource.open([str(path)])
    window = source.default_window()
    assert window is not None
    return DdauditApp(source, window, clock=lambda: hd.END / 1000, export_dir=export_dir)


def assert_frame_safe(app: DdauditApp, what: str) -> str:
    """The current frame is safe to send to a terminal (see the module docstring); returns its text."""
    compositor = app.screen._compositor
    lines = []
    for y, strip in enumerate(compositor.render_strips()):
        for seg in strip:
            bad = hd.forbidden_chars(seg.text)
            assert not bad, f"{what}: line {y}: {bad} in {seg.text[:80]!r}"
            style = seg.style
            if style is not None:
                assert style.link is None, f"{what}: line {y}: a link in {seg.text[:80]!r}"
                meta = style.meta or {}
                assert "app.quit" not in str(meta.get("@click", "")), f"{what}: line {y}: {seg.text[:80]!r}"
        lines.append(strip.text)
    update = compositor.render_update(full=True)
    assert update is not None
    sequence = update.render_segments(app.console)
    residue = TEXTUAL_OWN.sub("", sequence).replace("\n", "")
    bad = hd.forbidden_chars(residue)
    assert not bad, f"{what}: the terminal would receive {bad}"
    return "\n".join(lines)


def assert_toasts_safe(app: DdauditApp) -> list[Any]:
    toasts = list(app._notifications)
    for toast in toasts:
        assert toast.markup is False, toast.message
        assert not hd.forbidden_chars(toast.message + (toast.title or "")), toast.message
    return toasts


async def press(pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await settle_watch(pilot)
    assert pilot.app.is_running and pilot.app.return_code is None, keys


async def test_explore_table_facets_detail_and_export(hostile_file: Path, tmp_path: Path):
    # The export directory's name is hostile too: the toast that names it must stay safe and literal.
    export_dir = tmp_path / "exports [@click=app.quit]x \x1b[2J\u202e"
    export_dir.mkdir()
    app = hostile_app(hostile_file, export_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle_watch(pilot)
        assert isinstance(app.screen, ExploreScreen)
        table = app.screen.query_one(EventTable)
        assert table.row_count == len(hd.hostile_items())
        text = assert_frame_safe(app, "explore")
        assert LITERAL in text  # the actor column and the facets show the markup as text
        facet_lines = [app.screen.query_one(FacetPanel).render_line(y).text for y in range(40)]
        assert any(LITERAL in line for line in facet_lines)
        # Every event's detail (stepping with `n`): the raw JSON shows the escapes instead of acting on them.
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        escaped = 0
        for i in range(table.row_count):
            escaped += "\\u001b" in assert_frame_safe(app, f"detail {i}")
            if i in (0, 5):  # scrolled to the end and right: still safe
                await press(pilot, "G", "l", "l")
                assert_frame_safe(app, f"detail {i} scrolled")
            await press(pilot, "n")
        assert escaped == table.row_count - 2  # all but the two plain baseline events
        await press(pilot, "escape")
        await press(pilot, "e")
        files = list(export_dir.iterdir())
        assert len(files) == 1 and files[0].suffix == ".ndjson"
        assert not hd.forbidden_chars(files[0].read_text("utf-8"))
        toasts = assert_toasts_safe(app)
        exported = [t for t in toasts if t.title == "Exported"]
        assert exported and "exports [@click=app.quit]x" in exported[-1].message
        assert_frame_safe(app, "explore with the export toast")


async def test_a_100kb_value_renders_cut_in_the_table_and_whole_in_the_detail(
    hostile_file: Path, tmp_path: Path
):
    app = hostile_app(hostile_file, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle_watch(pilot)
        table = app.screen.query_one(EventTable)
        row = next(i for i, e in enumerate(table.rows) if e.asset_name == hd.LONG)
        table.move_cursor(row=row)
        await settle_watch(pilot)
        text = assert_frame_safe(app, "explore")
        line = next(ln for ln in text.splitlines() if "LLLLLLLL" in ln)
        assert len(line) <= SIZE[0] and "LLLLLLLL…" in line  # cut with an ellipsis in its cell
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert hd.LONG.replace("\x1b", "\\u001b").replace("\x07", "\\u0007").replace("\u202e", "\\u202e") in (
            detail.json_text
        )
        assert_frame_safe(app, "detail of the 100 kB event")
        await press(pilot, "end", "l")
        assert_frame_safe(app, "detail of the 100 kB event, scrolled")


async def test_key_lookup_card_sections_copy_and_export(
    hostile_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app = hostile_app(hostile_file, tmp_path)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await settle_watch(pilot)
        await press(pilot, "1")
        screen = app.screen
        assert isinstance(screen, KeyLookupScreen)
        await press(pilot, "slash")
        screen.query_one(KeyInput).value = hd.KEY
        await press(pilot, "enter")
        assert screen.report is not None and screen.report.flags
        seen = assert_frame_safe(app, "key card")
        for section in ("f", "o", "w", "p", "d", "a"):
            await press(pilot, section)
            seen += assert_frame_safe(app, f"key section {section}")
        for section in ("d", "a"):  # an event's detail from the deletions and the timeline
            await press(pilot, section, "enter")
            assert isinstance(app.screen, EventDetailScreen)
            assert_frame_safe(app, f"key section {section}: detail")
            await press(pilot, "escape")
        assert LITERAL in seen and "Country" in seen and "asset-name" in seen
        await press(pilot, "y")
        assert copied and not hd.forbidden_chars(copied[-1])
        assert "user@evil.example" in copied[-1] or "Country" in copied[-1]
        await press(pilot, "e")
        assert isinstance(app.screen, ExportDialog)
        await press(pilot, "enter")
        files = sorted(tmp_path.glob("ddaudit-key-*"))
        assert [f.suffix for f in files] == [".json", ".md"]
        for f in files:
            assert not hd.forbidden_chars(f.read_text("utf-8")), f.name
        assert_toasts_safe(app)
        assert_frame_safe(app, "key pane after export")


async def test_spike_watch_alert_and_its_events(hostile_file: Path, tmp_path: Path):
    app = hostile_app(hostile_file, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        rules = {(a.rule, a.group) for a in screen.latest.alerts}
        assert ("role_changes", hd.USER) in rules  # the data is untouched; only the view is cleaned
        text = assert_frame_safe(app, "watch")
        assert LITERAL in text
        screen.alert_table.focus()
        await press(pilot, "enter")
        assert isinstance(app.screen, AlertEventsScreen)
        assert LITERAL in assert_frame_safe(app, "alert events")
        await press(pilot, "enter")
        assert isinstance(app.screen, EventDetailScreen)
        assert_frame_safe(app, "alert event detail")
        await press(pilot, "escape", "escape")
        assert app.screen is watch_screen(app)
        screen.actor_table.focus()
        await press(pilot, "enter")
        assert_frame_safe(app, "actor events")
        await press(pilot, "escape", "e")
        assert isinstance(app.screen, ExportDialog)
        await press(pilot, "enter")
        files = sorted(tmp_path.glob("ddaudit-watch-*"))
        assert [f.suffix for f in files] == [".json", ".md"]
        md = files[1].read_text("utf-8")
        assert not hd.forbidden_chars(md) and not hd.forbidden_chars(files[0].read_text("utf-8"))
        assert "user@evil.example" in md and hd.assert_markdown_tables_intact(md) >= 1
        assert_toasts_safe(app)


async def test_ai_activity_drill_down_and_export(hostile_file: Path, tmp_path: Path):
    app = hostile_app(hostile_file, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle_watch(pilot)
        await press(pilot, "3")
        screen = app.screen
        assert isinstance(screen, AiScreen) and screen.result is not None
        assert screen.result.summary["total_tool_calls"] == 8
        text = assert_frame_safe(app, "ai")
        assert LITERAL in text
        for section in ("f", "t", "c", "a", "y", "o", "u"):
            await press(pilot, section)
            assert_frame_safe(app, f"ai section {section}")
        await press(pilot, "enter")  # drill into the hostile user
        assert isinstance(app.screen, AiUserScreen)
        assert LITERAL in assert_frame_safe(app, "ai user")
        await press(pilot, "a", "enter")  # a call's events
        assert_frame_safe(app, "ai user call")
        if isinstance(app.screen, EventDetailScreen):
            await press(pilot, "escape")
        await press(pilot, "e")
        if isinstance(app.screen, ExportDialog):
            await press(pilot, "enter")
        files = list(tmp_path.glob("ddaudit-ai*"))
        assert files
        for f in files:
            assert not hd.forbidden_chars(f.read_text("utf-8")), f.name
        assert_toasts_safe(app)
        assert_frame_safe(app, "ai user after export")


async def test_help_palette_and_clicks_on_hostile_text_do_not_act(hostile_file: Path, tmp_path: Path):
    """Clicking the cells that hold `[@click=app.quit]…` does nothing: there is no action to run."""
    app = hostile_app(hostile_file, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle_watch(pilot)
        lines = assert_frame_safe(app, "explore").splitlines()
        clicks = [(ln.index(LITERAL), y) for y, ln in enumerate(lines) if LITERAL in ln]
        assert clicks
        for x, y in clicks[:6]:
            await pilot.click(offset=(x + 2, y))
            await settle_watch(pilot)
            assert app.is_running and app.return_code is None
        assert screen_text(app)
