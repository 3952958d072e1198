"""Explore's `i` (“Investigate…”): the preset dialog on the demo org, driven through Pilot.

Every preset goes through the dialog and Explore then shows the demo's planted events over the preset's
window; the query in the dialog's input is what runs (edited or not); the user preset is widened with
the person's other identities before it is shown; Escape changes nothing; mistakes are said inline.

Regenerate the snapshot deliberately (after looking at it) with
`pytest tests/tui/test_preset_dialog.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input
from tui_helpers import demo_events, demo_file_source, screen_text, settle

from ddaudit_tui.analysis.presets import PRESETS, expand_user, get_preset
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, parse_instant, resolve_window
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.preset_dialog import PresetDialog, PresetList, prefill_values, preset_matches
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader, window_text

DEMO_END = parse_instant("2026-08-01T16:00:00Z")
APP_WINDOW = Window(DEMO_END - 90 * 86_400_000, DEMO_END)

# A value for each parameter, taken from what the demo planted.
VALUES = {
    "user": PLANTED.ai_out_of_scope_user,
    "ip": PLANTED.brute_force_ip,
    "resource": PLANTED.shared_dashboard,
}


def demo_clock() -> float:
    return DEMO_END / 1000


def demo_source() -> FileSource:
    return demo_file_source(4000, DEMO_END)


def demo_app(tmp_path: Path | None = None, **kwargs: Any) -> DdauditApp:
    kwargs.setdefault("clock", demo_clock)
    return DdauditApp(demo_source(), APP_WINDOW, export_dir=tmp_path, **kwargs)


def preset_window(name: str) -> Window:
    """The recipe window of a preset, ending at the end of the app's window."""
    return resolve_window(get_preset(name).default_from, "now", now=DEMO_END / 1000)


async def expected_query(name: str) -> str:
    preset = get_preset(name)
    values = {p: VALUES[p] for p in preset.params}
    if name == "user":
        return await expand_user(demo_source(), preset_window(name), VALUES["user"])
    return preset.build(values)


async def open_dialog(pilot: Any) -> PresetDialog:
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PresetDialog)
    return dialog


async def pick(pilot: Any, dialog: PresetDialog, name: str) -> None:
    """Filter the list by `name`, move down to it (↓ from the filter) and press Enter."""
    await pilot.press("slash")
    dialog.query_one("#preset-filter", Input).value = name
    await pilot.pause()
    names = [p.name for p in dialog.shown]
    assert name in names
    for _ in range(names.index(name)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    assert dialog.in_form and dialog.preset is not None and dialog.preset.name == name


async def widened(pilot: Any, dialog: PresetDialog) -> None:
    """Wait for the user preset's widening worker (a source fetch) to finish."""
    for _ in range(200):
        if dialog._expanding is None:
            return
        await pilot.pause(0.01)
    raise AssertionError("the user preset was never widened")


async def run_preset(pilot: Any, name: str) -> ExploreScreen:
    """i, pick `name`, fill its parameters, Enter through the form until the query runs."""
    dialog = await open_dialog(pilot)
    await pick(pilot, dialog, name)
    for param in dialog.preset.params:
        box = dialog.query_one(f"#param-{param}", Input)
        pilot.app.set_focus(box)
        box.value = VALUES[param]
        await pilot.press("enter")
        await settle(pilot)
    await widened(pilot, dialog)
    assert dialog.query_one("#preset-query", Input).has_focus
    await pilot.press("enter")
    await settle(pilot)
    explore = pilot.app.screen
    assert isinstance(explore, ExploreScreen), explore
    return explore


def shown(explore: ExploreScreen) -> list[Event]:
    return list(explore.query_one(EventTable).rows)


# -- every preset on the planted demo data ------------------------------------------------------------


def planted_check(name: str, events: list[Event]) -> None:
    """What the demo planted for each question is among what Explore shows."""
    by_user = [e.usr_email for e in events]
    if name == "deletions":
        assert by_user.count(PLANTED.bulk_deletion_user) == PLANTED.bulk_deleted_dashboards
        assert PLANTED.monitor_deletion_user in by_user
        assert all(e.action == "deleted" for e in events)
    elif name == "resource":
        assert {e.asset_id for e in events} == {PLANTED.shared_dashboard}
        assert set(by_user) == set(PLANTED.shared_dashboard_editors)
    elif name == "user":
        own = [e for e in events if e.usr_email == PLANTED.ai_out_of_scope_user]
        delegated = [e for e in events if e.usr_email != PLANTED.ai_out_of_scope_user]
        assert own and delegated
        # The Bits agent's changes made on the person's behalf are part of "what did U do".
        assert {e.usr_name for e in delegated} == {PLANTED.bits_agent_name}
        assert all(e.delegator_id == PLANTED.ai_out_of_scope_user for e in delegated)
        assert {e.action for e in delegated} == {"modified"}
    elif name == "logins":
        assert (PLANTED.unusual_login_user, PLANTED.unusual_login_ip) in {
            (e.usr_email, e.client_ip) for e in events
        }
        assert sum(e.client_ip == PLANTED.brute_force_ip for e in events) == PLANTED.brute_force_failures
    elif name in ("failed-logins", "ip"):
        assert len(events) == PLANTED.brute_force_failures
        assert {e.client_ip for e in events} == {PLANTED.brute_force_ip}
    elif name == "roles":
        assert by_user.count(PLANTED.role_grant_user) == PLANTED.role_grants
        assert PLANTED.support_user in by_user
    elif name == "keys":
        created = {e.asset_id for e in events if e.action == "created"}
        assert {*PLANTED.minted_keys, PLANTED.minted_app_key} <= created
        assert {e.usr_email for e in events if e.asset_id in PLANTED.minted_keys} == {
            PLANTED.key_minting_user
        }
    elif name == "support":
        assert set(by_user) == {PLANTED.support_user}
    elif name == "audit-settings":
        assert by_user == [PLANTED.audit_settings_user]
    else:  # pragma: no cover - a new preset needs its planted check
        raise AssertionError(f"no planted check for preset {name!r}")


async def test_every_preset_runs_through_the_dialog_and_shows_the_planted_events(tmp_path):
    app = demo_app(tmp_path)
    source = demo_source()
    async with app.run_test(size=(120, 35)) as pilot:
        for preset in PRESETS:
            explore = await run_preset(pilot, preset.name)
            query = await expected_query(preset.name)
            window = preset_window(preset.name)
            # The query input and the search run are the preset's query, over the preset's window.
            assert explore.query_text == query, preset.name
            assert explore.query_one(QueryInput).value == query
            assert explore.shown_window() == window and explore.preset == preset.name
            assert window_text(window, False) in explore.query_one(PaneHeader).plain
            expected = (await source.fetch(query, window)).events
            events = shown(explore)
            assert sorted(e.id for e in events) == sorted(e.id for e in expected), preset.name
            assert events, preset.name
            planted_check(preset.name, events)


async def test_the_header_shows_the_presets_window_and_an_empty_window_is_the_apps(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        explore = await run_preset(pilot, "deletions")
        header = explore.query_one(PaneHeader).plain
        assert "2026-07-31 16:00:00Z → 2026-08-01 16:00:00Z" in header
        # The other panes keep the app's window.
        assert app.window == APP_WINDOW
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "deletions")
        dialog.query_one("#preset-window", Input).value = ""
        await pilot.pause()
        assert "(the app's window)" in str(dialog.query_one("#preset-window-text").render())
        await pilot.press("enter")
        await settle(pilot)
        assert explore.window is None and explore.shown_window() == APP_WINDOW
        assert "2026-05-03 16:00:00Z → 2026-08-01 16:00:00Z" in explore.query_one(PaneHeader).plain
        deleted = [e for e in demo_events(4000, DEMO_END) if e.action == "deleted"]
        assert len(shown(explore)) == len(deleted) > PLANTED.bulk_deleted_dashboards


async def test_the_edited_query_is_what_runs(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "deletions")
        box = dialog.query_one("#preset-query", Input)
        assert box.has_focus and box.value == "@action:deleted"
        edited = f'@action:deleted @usr.email:"{PLANTED.monitor_deletion_user}"'
        box.value = edited
        await pilot.pause()
        assert edited in str(dialog.query_one("#preset-preview").render())
        await pilot.press("enter")
        await settle(pilot)
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        assert explore.query_text == edited and explore.query_one(QueryInput).value == edited
        events = shown(explore)
        assert [e.usr_email for e in events] == [PLANTED.monitor_deletion_user]
        assert events[0].asset_id == PLANTED.monitor_deleted


async def test_the_user_preset_shows_the_widened_query_before_it_runs(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "user")
        box = dialog.query_one("#param-user", Input)
        app.set_focus(box)
        box.value = PLANTED.ai_out_of_scope_user
        await pilot.press("enter")
        await settle(pilot)
        await widened(pilot, dialog)
        expected = await expected_query("user")
        assert dialog.query_value == expected
        # The person's uuid and full name, found in their own events, widen the delegator match.
        assert "@delegator.name:" in expected and "Emma Wilson" in expected
        assert "widened" in dialog.status_text
        assert isinstance(app.screen, PresetDialog)  # shown first, not run


async def test_escape_leaves_explore_unchanged(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        explore = app.screen
        assert isinstance(explore, ExploreScreen)
        before = ([e.id for e in shown(explore)], explore.query_text, explore.shown_window())
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "failed-logins")
        await pilot.press("escape")  # the form → the list
        await settle(pilot)
        assert app.screen is dialog and not dialog.in_form
        await pilot.press("escape")  # the list → closed
        await settle(pilot)
        assert app.screen is explore
        after = ([e.id for e in shown(explore)], explore.query_text, explore.shown_window())
        assert after == before and explore.window is None and explore.preset is None
        assert explore.query_one(QueryInput).value == ""


async def test_parameter_window_and_query_mistakes_are_shown_inline(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "ip")
        box = dialog.query_one("#param-ip", Input)
        app.set_focus(box)
        box.value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert (
            dialog.query_error is not None
            and "needs the ip (client ip, e.g. 203.0.113.7)" in dialog.query_error
        )
        box.value = "not an ip"
        await pilot.press("enter")
        await settle(pilot)
        assert "expected client ip such as 203.0.113.7" in (dialog.query_error or "")
        assert "--" not in (dialog.query_error or "")  # the CLI's flags are not what the form calls them
        assert box.has_focus and app.screen is dialog
        assert "runs: nothing yet" in str(dialog.query_one("#preset-preview").render())
        # Enter in the query while the field is wrong runs nothing (not "*"): back to the field.
        app.set_focus(dialog.query_one("#preset-query", Input))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and box.has_focus
        assert "expected client ip" in (dialog.query_error or "")
        box.value = PLANTED.brute_force_ip
        await pilot.press("enter")
        await settle(pilot)
        assert dialog.query_error is None
        assert dialog.query_value == f'@network.client.ip:"{PLANTED.brute_force_ip}"'

        window = dialog.query_one("#preset-window", Input)
        window.value = "last tuesday"
        await pilot.pause()
        assert "not a time" in str(dialog.query_one("#preset-window-text").render())
        app.set_focus(dialog.query_one("#preset-query", Input))
        await pilot.press("enter")
        await settle(pilot)
        assert "window:" in (dialog.query_error or "") and app.screen is dialog
        window.value = "30d"

        query = dialog.query_one("#preset-query", Input)
        app.set_focus(query)
        query.value = "@network.client.ip:(192.0.2.201"
        await pilot.press("enter")
        await settle(pilot)
        assert (dialog.query_error or "").startswith("✖ query:") and app.screen is dialog
        query.value = f"@network.client.ip:{PLANTED.brute_force_ip}"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert len(shown(app.screen)) == PLANTED.brute_force_failures


# -- the list: filtering, keys, prefills ----------------------------------------------------------------


def test_the_filter_matches_names_titles_and_key_words():
    names = lambda text: [p.name for p in PRESETS if preset_matches(p, text)]  # noqa: E731
    assert names("failed-logins") == ["failed-logins"]
    assert names("brute force") == ["failed-logins"]  # a key word
    assert names("SUPPORT") == ["support"]  # case does not matter
    assert names("key creation") == ["keys"]  # words of the title, in any order
    assert names("retention") == ["audit-settings"]
    assert names("zzz") == []


def test_prefills_come_only_from_plain_valid_values():
    assert prefill_values("a@example.com", "192.0.2.1", "abc-123") == {
        "user": "a@example.com",
        "ip": "192.0.2.1",
        "resource": "abc-123",
    }
    # Event text is hostile: control characters, quotes, spaces or a malformed IP are never prefilled.
    assert prefill_values("a\x1b[2J@example.com", "192.0.2.1; rm", 'x" OR "y') == {}
    assert prefill_values(None, None, None) == {}


async def test_typing_on_the_list_filters_and_never_reaches_the_apps_keys(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        dialog = await open_dialog(pilot)
        plist = dialog.query_one(PresetList)
        assert plist.has_focus and plist.highlighted == 0
        await pilot.press("j", "j", "down")  # j/k and arrows move
        assert plist.highlighted == 3
        await pilot.press("k")
        assert plist.highlighted == 2
        # `z` (UTC/local) and `1` (Key lookup) are app keys: typed here they filter instead.
        await pilot.press("z", "1")
        await settle(pilot)
        assert dialog.query_one("#preset-filter", Input).value == "z1"
        assert not app.local_time and app.current_mode == "explore" and dialog.shown == []
        await pilot.press("escape")  # clears the filter, back on the list
        await settle(pilot)
        assert len(dialog.shown) == len(PRESETS) and plist.has_focus
        await pilot.press(*"fail")  # the first letter starts the filter, the rest goes on in it
        await settle(pilot)
        assert dialog.query_one("#preset-filter", Input).value == "fail"
        assert [p.name for p in dialog.shown] == ["failed-logins"]
        await pilot.press("enter")
        await settle(pilot)
        assert dialog.in_form and dialog.query_value == "@evt.name:Authentication @action:login @status:error"
        assert "@status:error" in screen_text(app)


async def test_parameters_are_prefilled_from_the_highlighted_event(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        explore = app.screen
        table = explore.query_one(EventTable)
        index = next(
            i for i, e in enumerate(table.rows) if e.asset_id and e.usr_email and e.client_ip and i > 0
        )
        table.move_cursor(index)
        event = table.cursor_event
        dialog = await open_dialog(pilot)
        await pick(pilot, dialog, "resource")
        assert dialog.query_one("#param-resource", Input).value == event.asset_id
        assert dialog.query_value == f'@asset.id:"{event.asset_id}"'
        await pilot.press("escape")
        await pick(pilot, dialog, "ip")
        assert dialog.query_one("#param-ip", Input).value == event.client_ip
        await pilot.press("escape")
        await pick(pilot, dialog, "user")
        assert dialog.query_one("#param-user", Input).value == event.usr_email


async def test_investigate_is_in_the_help_and_the_command_palette(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Presets…" in app.screen.text and "Investigation presets" in app.screen.text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"presets")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PresetDialog)


# -- snapshot ---------------------------------------------------------------------------------------------


def test_preset_dialog_80x24(snap_compare):
    async def run_before(pilot) -> None:
        pilot.app.theme = "textual-dark"
        pilot.app.animation_level = "none"
        await open_dialog(pilot)
        await pilot.press("j", "j", "j", "j")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
