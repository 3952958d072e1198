"""The AI activity pane (key 3) over the demo org: counters, flags, tables, drill-down, export.

The demo org is generated once per module with a fixed end (`END`), so the planted AI incidents fall in
the pane's window (the last 7 days ending at the app window's end). Snapshots are regenerated
deliberately with `pytest tests/tui/test_ai_pane.py --snapshot-update`, after looking at them.
"""

from __future__ import annotations

import asyncio
import json
import stat
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import FROZEN_NOW, frozen_clock
from rich.cells import cell_len
from textual.binding import Binding
from tui_helpers import screen_lines, screen_text, settle
from tui_synthetic import T0, decode_items

from ddaudit_tui.analysis.ai import AiActivity
from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.report.ai_report import ai_json
from ddaudit_tui.sources.base import FetchResult, ProgressCallback
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.ai import AiScreen, AiUserScreen, AiUserTable, ai_window, export_pane_name
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.widgets.ai_flags import AiCounters, AiFlagList
from ddaudit_tui.tui.widgets.ai_table import AiTable
from ddaudit_tui.tui.widgets.ai_timeline import AiTimeline
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
END = 1_785_500_000_000 - 1_785_500_000_000 % H  # 2026-07-31T12:00:00Z, as the analysis tests use
APP_WINDOW = Window(END - 90 * D, END)
AI_WINDOW = Window(END - 7 * D, END)
STAMP = "20260704T120000Z"  # FROZEN_NOW, in export names


@cache
def demo_bytes() -> bytes:
    from ddaudit_tui.demo import org as demo_org

    return msgspec.json.encode({"data": demo_org.generate(seed=7, end_ms=END)})


def demo_source() -> FileSource:
    return FileSource(EventStore(iter_decode(demo_bytes())), "demo")


@pytest.fixture(scope="module")
def planted() -> Any:
    from ddaudit_tui.demo.org import PLANTED

    return PLANTED


@pytest.fixture(scope="module")
def expected() -> AiActivity:
    """The analysis of the same events and window, computed without the TUI."""
    return asyncio.run(investigate_ai(demo_source(), AI_WINDOW))


def demo_app(tmp_path: Path | None = None, **kwargs: Any) -> DdauditApp:
    kwargs.setdefault("clock", frozen_clock)
    return DdauditApp(kwargs.pop("source", None) or demo_source(), APP_WINDOW, export_dir=tmp_path, **kwargs)


async def open_ai(pilot: Any) -> AiScreen:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AiScreen)
    return screen


def table(screen: Any, table_id: str) -> AiTable[Any]:
    return screen.query_one(f"#{table_id}", AiTable)


async def focus_user(pilot: Any, screen: AiScreen, user: str) -> None:
    """Move the users table's cursor to `user` with the keyboard (u, then j)."""
    await pilot.press("u")
    users = table(screen, "ai-users")
    for _ in range(users.row_count):
        item = users.cursor_item
        if item is not None and item.user == user:
            return
        await pilot.press("j")
    raise AssertionError(f"{user} not in the users table")


# -- the overview -------------------------------------------------------------------------------------


def test_the_window_is_the_last_seven_days_ending_at_the_app_windows_end():
    assert ai_window(APP_WINDOW) == AI_WINDOW
    assert export_pane_name(None) == "ai"
    assert export_pane_name("kevin.lee@example.com") == "ai-kevin.lee@example.com"
    assert export_pane_name("../../etc/passwd") == "ai-etc_passwd"
    assert "/" not in export_pane_name("a/b\x1b[2J") and export_pane_name("///") == "ai-user"


def timeless(doc: dict[str, Any]) -> dict[str, Any]:
    """The report's JSON without the elapsed time (issue 16): two runs of one analysis take different times."""
    done = dict(doc["completeness"] or {})
    done.pop("elapsed_ms", None)
    return {**doc, "completeness": done}


async def test_counters_and_tables_equal_the_analysis(expected: AiActivity):
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        result = screen.result
        assert result is not None
        assert result.window == AI_WINDOW
        assert timeless(ai_json(result)) == timeless(ai_json(expected))
        header = screen.query_one(PaneHeader).plain
        assert f"{iso(AI_WINDOW.start)[:10]} 12:00:00Z → {iso(AI_WINDOW.end)[:10]} 12:00:00Z (UTC)" in header
        assert f"✓ {len(expected.calls):,} AI events · complete" in header
        s, n = expected.summary, expected.counts
        counters = screen.query_one(AiCounters).plain
        assert f"{len(expected.calls):,} AI events" in counters and f"{n['calls']:,} AI calls" in counters
        assert f"{n['tool_calls']:,} tool calls" in counters and f"{n['users']} users" in counters
        assert f"{n['connections']} connections" in counters and f"{n['changes']} changes" in counters
        by_severity = {sev: sum(f.severity == sev for f in expected.flags) for sev in Severity}
        for sev, count in by_severity.items():
            if count:
                assert f"{sev.glyph} {count} {sev.name}" in counters
        # Every table holds exactly the analysis' rows (the users table in the analysis' order).
        assert [u.user for u in table(screen, "ai-users").rows_in_order] == [u.user for u in expected.users]
        assert table(screen, "ai-tools").items == expected.tools
        assert table(screen, "ai-clients").items == expected.clients
        assert table(screen, "ai-modified").items == expected.modified_resources
        assert table(screen, "ai-actions").items == s["actions_breakdown"]
        assert table(screen, "ai-types").items == s["resource_types"]
        text = screen_text(app)
        assert f"USERS {len(expected.users)}" in text and "TOOLS" in text and "RESOURCES CHANGED" in text


async def test_every_planted_flag_is_shown_most_severe_first_with_word_and_glyph(planted: Any):
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        flags = screen.query_one(AiFlagList)
        shown = list(flags.flags)
        severities = [f.severity for f in shown]
        assert severities == sorted(severities, reverse=True)
        for line, flag in zip(flags.lines, shown, strict=True):
            assert line.startswith(flag.severity.label)  # word and glyph: readable under NO_COLOR

        def raised(signal: str, user: str, action: str | None = None) -> bool:
            return any(
                f.signal == signal
                and f.details.get("user") == user
                and (action is None or f.details.get("action") == action)
                for f in shown
            )

        assert raised("ai_destructive", planted.ai_destructive_user, "deleted")
        assert raised("ai_support_user", planted.ai_support_user)
        assert raised("ai_first_time_user", planted.ai_first_time_user)
        assert raised("ai_burst", planted.ai_burst_user)
        assert raised("ai_out_of_scope", planted.ai_out_of_scope_user)
        lines = "\n".join(flags.lines)
        for signal in ("destructive", "support_user", "first_time_user", "burst", "out_of_scope"):
            assert signal in lines
        # The flags are scrollable: the last one (least severe) is reachable with the keyboard.
        await pilot.press("f", "G")
        await settle(pilot)
        assert flags.highlighted == len(shown) - 1


async def test_timeline_marks_the_burst_with_a_glyph_and_numbers(planted: Any, expected: AiActivity):
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        timeline = screen.query_one(AiTimeline)
        t = timeline.timeline
        assert t is not None and sum(b.calls for b in t.buckets) == expected.counts["calls"]
        assert any(b.burst for b in t.buckets)
        lines = str(timeline.render()).split("\n")
        burst = next(b for b in expected.bursts if b.user == planted.ai_burst_user)
        assert "▲" in lines[-1] and f"burst: {burst.calls} AI calls" in lines[-1]
        assert f"max {t.peak:,} per" in lines[0] and f"{expected.counts['calls']:,} AI calls" in lines[1]
        # The ▲ sits under the tallest bar: the burst bucket.
        marks = [
            i for i, ch in enumerate(lines[-1][: timeline.size.width - timeline.label_width - 1]) if ch == "▲"
        ]
        assert marks and all(lines[0][i] != " " for i in marks)


async def test_sorting_a_table_changes_its_order_and_shows_the_direction():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        users = table(screen, "ai-users")
        assert screen.focused is users
        by_calls = [u.user for u in users.rows_in_order]
        await pilot.press("s")  # first column: user, ascending
        await settle(pilot)
        by_name = [u.user for u in users.rows_in_order]
        assert by_name == sorted(by_calls, key=str.casefold) and by_name != by_calls
        assert str(users.columns[users.ordered_columns[0].key].label) == "user ▲"
        await pilot.press("S", "enter")  # the picker, on the sorted column: choosing it again reverses
        await settle(pilot)
        assert [u.user for u in users.rows_in_order] == by_name[::-1]
        assert "by user ▼" in screen_text(app)
        # A click on a header sorts by that column (counts: biggest first), a second click reverses.
        x = users.ordered_columns[0].get_render_width(users) + 2
        await pilot.click("#ai-users", offset=(x, 0))
        await settle(pilot)
        calls = [u.calls for u in users.rows_in_order]
        assert calls == sorted(calls, reverse=True) and users.sort_description == "AI calls ▼"
        await pilot.click("#ai-users", offset=(x, 0))
        await settle(pilot)
        assert [u.calls for u in users.rows_in_order] == sorted(calls)
        # Like k9s: after a sort the view goes to the top, the first row selected.
        await pilot.press("j", "j")
        await pilot.press("s")
        await settle(pilot)
        assert users.cursor_row == 0 and users.scroll_y == 0
        assert users.cursor_item == users.rows_in_order[0]


async def test_letters_and_tab_move_between_tables():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        for key, widget_id in (
            ("t", "ai-tools"),
            ("c", "ai-clients"),
            ("a", "ai-actions"),
            ("y", "ai-types"),
            ("o", "ai-modified"),
            ("f", "ai-flags"),
            ("u", "ai-users"),
        ):
            await pilot.press(key)
            assert screen.focused is not None and screen.focused.id == widget_id, key
        await pilot.press("tab")
        assert screen.focused is not None and screen.focused.id == "ai-modified"
        await pilot.press("shift+tab", "shift+tab")
        assert screen.focused is not None and screen.focused.id == "ai-flags"


# -- drill-down and event detail -------------------------------------------------------------------------


async def test_enter_on_a_user_drills_down_to_only_their_calls_and_escape_returns(
    planted: Any, expected: AiActivity
):
    user = planted.ai_burst_user
    mine = expected.for_user(user)
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        await focus_user(pilot, screen, user)
        await pilot.press("enter")
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, AiUserScreen)
        assert drill.result is not None and timeless(ai_json(drill.result)) == timeless(ai_json(mine))
        calls = drill.query_one(EventTable)
        assert {e.id for e in calls.rows} == {c.id for c in mine.calls} and calls.row_count == len(mine.calls)
        others = {c.id for c in expected.calls} - {c.id for c in mine.calls}
        assert others and not others & {e.id for e in calls.rows}
        assert all(c.human == user or c.event.delegator_id == user for c in mine.calls)
        header = drill.query_one(PaneHeader).plain
        assert f"AI activity › {user}" in header and "(UTC)" in header
        text = screen_text(app)
        assert "burst" in text and f"AI EVENTS {len(mine.calls)}" in text
        assert {f.signal for f in drill.query_one(AiFlagList).flags} >= {"ai_burst"}
        # Enter on a call: its full event.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        assert app.screen.event.id == calls.rows[0].id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is drill
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.focused is table(screen, "ai-users")
        # q goes back too (Esc is never the only way out), and Enter on a flag drills into its user.
        await pilot.press("f", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AiUserScreen) and app.screen.user == expected.flags[0].details["user"]
        await pilot.press("q")
        await settle(pilot)
        assert app.screen is screen and app.is_running


async def test_enter_on_a_changed_resource_opens_its_event(expected: AiActivity):
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        await pilot.press("o", "j")
        modified = table(screen, "ai-modified")
        row = modified.cursor_item
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert detail.event.id == row.event_id == expected.modified_resources[1].event_id
        assert row.resource_id is not None and row.resource_id in detail.json_text
        await pilot.press("n")  # steps through the table's events
        assert detail.event.id == expected.modified_resources[2].event_id
        await pilot.press("escape")
        await settle(pilot)
        # Enter on a tool: every call of that tool.
        await pilot.press("t", "enter")
        await settle(pilot)
        tool = expected.tools[0]
        assert isinstance(app.screen, EventDetailScreen) and len(app.screen.events) == tool.calls


# -- export -----------------------------------------------------------------------------------------------


async def test_export_writes_private_markdown_and_json_equal_to_the_report(tmp_path: Path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog) and dialog.chosen() == ["md", "json"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        md = tmp_path / f"ddaudit-ai-{STAMP}.md"
        js = tmp_path / f"ddaudit-ai-{STAMP}.json"
        assert FROZEN_NOW == 1783166400.0
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([md.name, js.name])
        for path in (md, js):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert screen.result is not None
        assert json.loads(js.read_text()) == ai_json(screen.result)
        assert md.read_text().startswith("# AI Activity Audit")
        toast = list(app._notifications)[-1]
        assert toast.markup is False and str(md) in toast.message and str(js) in toast.message
        # Escape cancels: nothing more is written.
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert len(list(tmp_path.iterdir())) == 2 and app.screen is screen


async def test_export_in_the_drill_down_writes_that_users_activity(
    tmp_path: Path, planted: Any, expected: AiActivity
):
    user = planted.ai_destructive_user
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        await focus_user(pilot, screen, user)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await settle(pilot)
        js = tmp_path / f"ddaudit-ai-{user}-{STAMP}.json"
        data = json.loads(js.read_text())
        assert timeless(data) == timeless(ai_json(expected.for_user(user)))
        assert data["user"] == user and data["user_detail"]["user"] == user
        assert stat.S_IMODE(js.stat().st_mode) == 0o600
        assert (tmp_path / f"ddaudit-ai-{user}-{STAMP}.md").exists()


# -- errors, keys, safety, sizes -------------------------------------------------------------------------


class FailingSource:
    label = "failing"

    def __init__(self, inner: FileSource) -> None:
        self.inner = inner
        self.fail_ai = True

    def default_window(self) -> Window | None:
        return None

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        if self.fail_ai and "MCP Server" in query:
            raise RuntimeError("[bold]upstream 503[/] \x1b[2J[@click=app.quit]x")
        return await self.inner.fetch(query, window, progress)

    async def aclose(self) -> None:
        return None


async def test_a_failed_analysis_is_a_toast_and_a_status_and_r_retries():
    source = FailingSource(demo_source())
    app = demo_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        assert app.is_running and screen.result is None
        header = screen.query_one(PaneHeader).plain
        assert "✖ error: [bold]upstream 503[/]" in header and "\x1b" not in header
        toast = next(n for n in app._notifications if n.title == "AI analysis failed")
        assert toast.markup is False and "[@click=app.quit]" in toast.message and "\x1b" not in toast.message
        await pilot.press("e")  # nothing to export yet: says so, does not crash
        await settle(pilot)
        assert app.screen is screen
        source.fail_ai = False
        await pilot.press("r")
        await settle(pilot)
        assert screen.result is not None and "complete" in screen.query_one(PaneHeader).plain
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)


HOSTILE_USER = "[@click=app.quit]x[/]\x1b[2J@evil.example"
HOSTILE_TOOL = "delete_monitor\x1b]52;c;AAAA\x07"


def hostile_items() -> list[dict[str, Any]]:
    """MCP calls whose user, tool, arguments and monitor name carry markup and terminal controls."""
    out = []
    for i in range(6):
        out.append(
            {
                "id": f"h-{i:04d}",
                "type": "audit",
                "attributes": {
                    "timestamp": iso(T0 + i * M),
                    "message": "x",
                    "tags": ["is_mcp_call:true"],
                    "attributes": {
                        "evt": {"name": "MCP Server", "actor": {"type": "USER"}},
                        "usr": {"email": HOSTILE_USER, "id": HOSTILE_USER},
                        "action": "executed",
                        "asset": {"type": "mcp"},
                        "metadata": {
                            "oauth_client": {"name": "[red]Cursor[/red]\u202e"},
                            "tool": {
                                "name": HOSTILE_TOOL if i % 2 else "delete_monitor",
                                "arguments": {"monitor_id": i, "name": "[bold]m\x9b31m[/]"},
                            },
                        },
                    },
                },
            }
        )
    return out


async def test_event_text_is_shown_verbatim_and_safe(tmp_path: Path):
    source = FileSource(EventStore(decode_items(hostile_items())), "hostile")
    app = DdauditApp(source, Window(T0, T0 + 2 * D), clock=frozen_clock, export_dir=tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        assert screen.result is not None and screen.result.flags
        text = screen_text(app)
        assert "[@click=app.quit]x[/]" in text  # markup shown as text, not interpreted
        assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
        await pilot.press("enter")  # drill into the hostile user
        await settle(pilot)
        assert isinstance(app.screen, AiUserScreen)
        drill_text = screen_text(app)
        assert "\x1b" not in drill_text and "[@click=app.quit]x[/]" in drill_text
        await pilot.press("e", "enter")
        await settle(pilot)
        assert app.is_running
        names = [p.name for p in tmp_path.iterdir()]
        assert len(names) == 2 and all("/" not in n and "\x1b" not in n for n in names)
        toast = list(app._notifications)[-1]
        assert toast.markup is False and "\x1b" not in toast.message


async def test_help_and_palette_offer_the_panes_actions(tmp_path: Path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await open_ai(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        for cls in (AiScreen, AiUserTable, AiTable, AiFlagList):
            for _key, binding in cls._merge_bindings():
                assert binding.description in text, (cls.__name__, binding)
            for binding in cls.BINDINGS:  # ours are all rebindable by id
                assert isinstance(binding, Binding) and binding.id, (cls.__name__, binding)
        assert "AI ACTIVITY" in text and "USERS TABLE" in text and "FLAGS" in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"AI activity: Export")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)


async def test_z_shows_local_times_in_the_pane(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_ai(pilot)
        assert "2026-07-25 15:00Z" in screen_text(app)
        await pilot.press("z")
        await settle(pilot)
        text = screen_text(app)
        assert "2026-07-25 17:00+02:00" in text and "(local)" in screen.query_one(PaneHeader).plain


@pytest.mark.parametrize("size", [(80, 24), (60, 30), (100, 30)])
async def test_layout_fits_small_terminals(size: tuple[int, int]):
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await open_ai(pilot)
        lines = screen_lines(app)
        assert len(lines) == size[1] and all(cell_len(line) == size[0] for line in lines)
        text = "\n".join(lines)
        assert "Terminal too small" not in text
        assert "tool calls" in text and "USERS" in text and "FLAGS" in text
        # Narrow: one scrolling column; the last table is reachable and scrolled into view.
        await pilot.press("c")
        await settle(pilot)
        assert "CLIENTS" in screen_text(app)
        await pilot.press("u", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AiUserScreen) and "AI EVENTS" in screen_text(app)


async def test_no_color_keeps_flags_and_cursor_readable(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await open_ai(pilot)
        assert app.no_color
        text = screen_text(app)
        for sev in (Severity.HIGH, Severity.MEDIUM, Severity.LOW):
            assert sev.label in text


# -- snapshots ----------------------------------------------------------------------------------------


async def _prepare_ai(pilot: Any) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await open_ai(pilot)


def test_ai_pane_120x35(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(120, 35), run_before=_prepare_ai)


def test_ai_pane_80x24(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_prepare_ai)


def test_ai_drill_down_100x30(snap_compare):
    async def run_before(pilot: Any) -> None:
        await _prepare_ai(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=(100, 30), run_before=run_before)
