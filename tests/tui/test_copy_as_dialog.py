"""The app's `Y` (“Copy as…”): every pane's query as the plain query, a pup command, an explorer URL
and a DDSQL query — each string exactly `report.copy_as` of (the pane's query, its window, the app's
site, its columns); Enter sends the highlighted one with OSC 52, `w` writes all four to a private file.

Regenerate the snapshot deliberately (after looking at it) with
`pytest tests/tui/test_copy_as_dialog.py --snapshot-update`.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

from conftest import FROZEN_NOW
from textual.geometry import Region
from textual.widgets import Input
from tui_helpers import demo_events, demo_file_source, screen_lines, settle
from watch_pane_helpers import MemorySource, TestClock, polled, role_grants, settle_watch

from ddaudit_tui.alerts.pagerduty import alert_query
from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.analysis.ai import DEFAULT_BASE_QUERY
from ddaudit_tui.analysis.spikes import union_query
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.report.copy_as import FORMATS, copy_as
from ddaudit_tui.timeutil import Window, parse_instant, resolve_window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.ai import AI_COLUMNS, AiScreen, AiUserScreen, ai_user_query, ai_window
from ddaudit_tui.tui.screens.copy_as_dialog import CLIPBOARD_MAX, CopyAsDialog, CopyChoice
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KEY_COLUMNS, KEYS_QUERY, KeyInput, KeyLookupScreen
from ddaudit_tui.tui.screens.watch import AlertEventsScreen, actor_query
from ddaudit_tui.tui.widgets.ai_table import AiTable

DEMO_END = parse_instant("2026-08-01T16:00:00Z")
APP_WINDOW = Window(DEMO_END - 90 * 86_400_000, DEMO_END)
STAMP = "20260801T160000Z"  # DEMO_END, in file names

# Explore's table columns as field paths (time, evt.name, action, actor, asset type, asset, endpoint,
# status, IP, country, ASN).
EXPLORE_FIELDS = [
    "timestamp",
    "@evt.name",
    "@action",
    "@usr.email",
    "@asset.type",
    "@asset.name",
    "@asset.id",
    "@http.url_details.path",
    "@http.status_code",
    "@network.client.ip",
    "@network.client.geoip.country.name",
    "@network.client.geoip.as.number",
    "@network.client.geoip.as.name",
]
FAILED = "@evt.name:Authentication @action:login @status:error"


def demo_clock() -> float:
    return DEMO_END / 1000


def demo_app(tmp_path: Path | None = None, **kwargs: Any) -> DdauditApp:
    kwargs.setdefault("clock", demo_clock)
    source = demo_file_source(4000, DEMO_END)
    return DdauditApp(source, APP_WINDOW, export_dir=tmp_path, **kwargs)


async def run_query(pilot: Any, text: str) -> ExploreScreen:
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one(QueryInput).value = text
    await pilot.press("enter")
    await settle(pilot)
    explore = pilot.app.screen
    assert isinstance(explore, ExploreScreen) and explore.query_text == text
    return explore


async def copy_dialog(pilot: Any, wait: Any = settle) -> CopyAsDialog:
    """`Y`; `wait` is `settle_watch` when the Spike watch runs (its poller never completes)."""
    await pilot.press("Y")
    await wait(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, CopyAsDialog), dialog
    return dialog


def assert_strings(
    dialog: CopyAsDialog, query: str, window: Window, site: str | None, columns: list[str] | None
) -> None:
    texts = {item.fmt: item.text for item in dialog.items}
    assert list(texts) == ["query", *FORMATS]
    assert texts["query"] == query
    for fmt in FORMATS:
        assert texts[fmt] == copy_as(fmt, query, window, site, columns), fmt


def in_window(window: Window, query: str) -> set[str]:
    q = parse_query(query)
    return {e.id for e in demo_events(4000, DEMO_END) if window.start <= e.ts < window.end and q.matches(e)}


# -- each pane's query -------------------------------------------------------------------------------


async def test_explore_gives_its_query_its_table_columns_and_its_window(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        explore = await run_query(pilot, FAILED)
        assert explore.shown_query() == (FAILED, EXPLORE_FIELDS)
        dialog = await copy_dialog(pilot)
        assert dialog.columns == EXPLORE_FIELDS
        assert_strings(dialog, FAILED, APP_WINDOW, None, EXPLORE_FIELDS)
        ddsql = dialog.items[3].text
        assert "filter => '@evt.name:Authentication @action:login @status:error'" in ddsql
        assert "from_timestamp => '2026-05-03T16:00:00Z'" in ddsql and "'@asset.name'," in ddsql
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is explore

        # After a preset, the window is the preset's (Explore's own), not the app's.
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("enter")  # the first preset: who deleted resources, the last 24 h
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert explore.query_text == "@action:deleted"
        window = resolve_window("24h", "now", now=DEMO_END / 1000)
        dialog = await copy_dialog(pilot)
        assert_strings(dialog, "@action:deleted", window, None, EXPLORE_FIELDS)
        assert f"from_ts={window.start}&to_ts={window.end}" in dialog.items[2].text


async def test_the_site_makes_the_url_and_the_pup_command(tmp_path):
    app = demo_app(tmp_path, site="datadoghq.eu")
    async with app.run_test(size=(120, 35)) as pilot:
        await run_query(pilot, FAILED)
        dialog = await copy_dialog(pilot)
        assert_strings(dialog, FAILED, APP_WINDOW, "datadoghq.eu", EXPLORE_FIELDS)
        assert dialog.items[1].text.startswith("DD_SITE=datadoghq.eu pup audit-logs search --query ")
        assert dialog.items[2].text.startswith("https://app.datadoghq.eu/audit-trail?query=")
        assert "site datadoghq.eu" in str(dialog.query_one("#copy-window").render())
        await pilot.press("escape")
        await settle(pilot)
        app.site = None  # what the CLI sets when no site is configured: US1
        dialog = await copy_dialog(pilot)
        assert dialog.items[1].text.startswith("pup audit-logs search --query ")
        assert dialog.items[2].text.startswith("https://app.datadoghq.com/audit-trail?query=")


async def test_key_lookup_gives_the_keys_own_search(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KeyLookupScreen)
        # Before a lookup the pane shows the keys seen: that search.
        dialog = await copy_dialog(pilot)
        assert_strings(dialog, KEYS_QUERY, APP_WINDOW, None, list(KEY_COLUMNS))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash")
        screen.query_one(KeyInput).value = PLANTED.compromised_key
        await pilot.press("enter")
        await settle(pilot)
        report = screen.report
        assert report is not None
        dialog = await copy_dialog(pilot)
        query = f"@metadata.api_key.id:{PLANTED.compromised_key}"
        assert_strings(dialog, query, APP_WINDOW, None, list(KEY_COLUMNS))
        # The query finds exactly the key's events the report is about.
        assert in_window(APP_WINDOW, query) == {e.id for e in report.events}


async def test_ai_activity_gives_its_base_query_and_the_drill_downs_user_query(tmp_path):
    app = demo_app(tmp_path)
    window = ai_window(APP_WINDOW)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AiScreen) and screen.result is not None
        dialog = await copy_dialog(pilot)
        assert_strings(dialog, DEFAULT_BASE_QUERY, window, None, list(AI_COLUMNS))
        assert f"from_ts={window.start}&" in dialog.items[2].text
        await pilot.press("escape")
        await settle(pilot)
        # Drill into the person whose agent acted for them.
        await pilot.press("u")
        users = screen.query_one("#ai-users", AiTable)
        for _ in range(users.row_count):
            if users.cursor_item.user == PLANTED.ai_out_of_scope_user:
                break
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, AiUserScreen) and drill.result is not None
        query = ai_user_query(DEFAULT_BASE_QUERY, drill.user)
        dialog = await copy_dialog(pilot)
        assert_strings(dialog, query, window, None, list(AI_COLUMNS))
        # What the query finds is the person's calls, the agent's on their behalf included.
        found = in_window(window, query)
        calls = {c.event.id for c in drill.result.calls}
        assert found and found <= calls
        delegated = {c.event.id for c in drill.result.calls if c.delegated}
        assert delegated and delegated <= found


async def test_spike_watch_gives_the_highlighted_alerts_or_actors_query(tmp_path):
    now_ms = int(FROZEN_NOW * 1000)
    clock = TestClock(FROZEN_NOW)
    dave, alice = "dave@example.com", "alice@example.com"
    source = MemorySource(role_grants(now_ms, dave, [9, 6, 3]) + role_grants(now_ms, alice, [7]))
    app = DdauditApp(source, Window(now_ms - 86_400_000, now_ms), clock=clock, export_dir=tmp_path)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        snap = screen.shown
        assert snap is not None and snap.watermark_ms is not None
        rules = {r.name: r for r in snap.rules}
        alert = screen.alert_table.cursor_item
        assert alert is not None and alert.group == dave
        screen.alert_table.focus()
        await settle_watch(pilot)
        dialog = await copy_dialog(pilot, settle_watch)
        alert_window = Window(alert.first_seen, alert.last_seen + 1)
        assert_strings(dialog, alert_query(alert, rules[alert.rule]), alert_window, None, None)
        await pilot.press("escape")
        await settle_watch(pilot)

        screen.actor_table.focus()
        await settle_watch(pilot)
        row = screen.actor_table.cursor_item
        assert row is not None
        longest = max([int(snap.window_s * 1000), *(r.window_ms or 0 for r in snap.rules)])
        dialog = await copy_dialog(pilot, settle_watch)
        actor_window = Window(snap.watermark_ms - longest, snap.watermark_ms + 1)
        assert_strings(dialog, actor_query(row.actor, snap.rules), actor_window, None, None)
        await pilot.press("escape")
        await settle_watch(pilot)

        # Nothing highlighted (the focus elsewhere): every rule's query over the counting window.
        screen.set_focus(None)
        dialog = await copy_dialog(pilot, settle_watch)
        counting = Window(snap.watermark_ms - int(snap.window_s * 1000), snap.watermark_ms)
        assert_strings(dialog, union_query(snap.rules), counting, None, None)
        await pilot.press("escape")
        await settle_watch(pilot)

        # The events listed for an alert (Enter) are that alert's query, over its span.
        screen.alert_table.focus()
        await pilot.press("enter")
        await settle_watch(pilot)
        assert isinstance(app.screen, AlertEventsScreen)
        dialog = await copy_dialog(pilot, settle_watch)
        assert_strings(dialog, alert_query(alert, rules[alert.rule]), alert_window, None, None)


async def test_a_pane_with_no_query_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ExploreScreen, "shown_query", lambda self: None)
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("Y")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        note = list(app._notifications)[-1] if app._notifications else None
        assert note is not None and note.severity == "warning" and note.markup is False
        assert "Nothing to copy" in note.message and "Explore" in note.message


# -- copying and writing ---------------------------------------------------------------------------------


async def test_enter_sends_the_highlighted_string_with_osc52(tmp_path, monkeypatch):
    app = demo_app(tmp_path)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 35)) as pilot:
        await run_query(pilot, FAILED)
        dialog = await copy_dialog(pilot)
        assert dialog.highlighted.fmt == "query"
        await pilot.press("j")
        assert dialog.highlighted.fmt == "pup"
        await pilot.press("enter")
        await settle(pilot)
        assert copied == [copy_as("pup", FAILED, APP_WINDOW, None, EXPLORE_FIELDS)]
        toast = list(app._notifications)[-1]
        assert toast.markup is False
        assert "pup command" in toast.message and "OSC 52" in toast.message
        assert "set -g set-clipboard on" in toast.message
        assert "copied" not in toast.message.lower()  # the terminal never confirms: no claim of success
        await pilot.press("k", "k")  # wraps from the first to the last
        assert dialog.highlighted.fmt == "ddsql"
        await pilot.press("enter")
        await settle(pilot)
        assert copied[-1] == dialog.items[3].text and "DDSQL query" in list(app._notifications)[-1].message
        assert app.screen is dialog  # copying leaves the dialog open for the next one


async def test_w_writes_all_four_to_a_private_file(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await run_query(pilot, FAILED)
        dialog = await copy_dialog(pilot)
        await pilot.press("w")
        await settle(pilot)
        path = tmp_path / f"ddaudit-copy-as-{STAMP}.txt"
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        lines = path.read_text().splitlines()
        for item in dialog.items[:3]:  # one line each: the URL unwrapped, ready to paste
            assert item.text in lines
        assert dialog.items[3].text in path.read_text()
        assert "# window: 2026-05-03T16:00:00Z → 2026-08-01T16:00:00Z" in lines
        toast = list(app._notifications)[-1]
        assert str(path) in toast.message and toast.markup is False
        await pilot.press("w")  # a second file, never an overwrite
        await settle(pilot)
        assert (tmp_path / f"ddaudit-copy-as-{STAMP}-2.txt").exists()


async def test_a_string_too_large_for_osc52_goes_to_a_file_instead(tmp_path, monkeypatch):
    app = demo_app(tmp_path)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    huge = '@usr.email:"' + "a" * 50_000 + '"'
    assert len(base64.b64encode(huge.encode())) > CLIPBOARD_MAX
    async with app.run_test(size=(120, 35)) as pilot:
        await run_query(pilot, huge)
        await copy_dialog(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert copied == []
        written = tmp_path / f"ddaudit-copy-as-{STAMP}.txt"
        assert huge in written.read_text().splitlines()
        assert any("too large" in n.message for n in list(app._notifications))


async def test_every_string_is_on_screen_in_full_wrapped_not_cropped(tmp_path):
    app = demo_app(tmp_path, site="us5.datadoghq.com")
    async with app.run_test(size=(100, 30)) as pilot:
        await run_query(pilot, FAILED + ' -@usr.email:"admin@example.com"')
        dialog = await copy_dialog(pilot)
        for step, item in enumerate(dialog.items):
            if step:
                await pilot.press("j")
                await settle(pilot)
            choice = dialog.query_one(f"#copy-{item.fmt}", CopyChoice)
            assert choice.has_focus
            # The whole widget (the DDSQL is taller than the dialog: it scrolls into view), without its
            # border and padding: the title, then the text wrapped at the width, nothing cropped.
            strips = choice.render_lines(Region(0, 0, choice.region.width, choice.region.height))
            body = [strip.text[2:].rstrip() for strip in strips]
            assert body[0] == "▶ " + item.title
            assert all(len(line) <= choice.region.width - 3 for line in body)
            assert "".join(body[1:]).replace(" ", "") == item.text.replace(" ", "").replace("\n", "")
            # What is on screen of it is the same text (the highlighted one is scrolled into view).
            region = choice.region
            visible = region.intersection(dialog.query_one("#copy-body").region)
            assert visible.y == region.y and visible.height > 1
            on_screen = [
                line[region.x + 2 : region.right - 1].rstrip()
                for line in screen_lines(app)[visible.y : visible.bottom]
            ]
            assert on_screen == body[: visible.height]


async def test_copy_as_is_in_the_help_and_the_command_palette(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and "Copy as…" in app.screen.text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"copy as")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CopyAsDialog)


async def test_y_inside_an_input_types_it(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "Y")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert app.screen.query_one(QueryInput, Input).value == "Y"


# -- snapshot -----------------------------------------------------------------------------------------------


def test_copy_as_dialog_100x30(snap_compare):
    async def run_before(pilot) -> None:
        pilot.app.theme = "textual-dark"
        pilot.app.animation_level = "none"
        await run_query(pilot, FAILED)
        await copy_dialog(pilot)
        await pilot.press("j", "j")
        await settle(pilot)

    assert snap_compare(demo_app(site="datadoghq.eu"), terminal_size=(100, 30), run_before=run_before)
