"""Pivots (`x`) from the cells of every pane, driven through Pilot on the demo org (frozen clock):
filter and exclude in Explore, "what did U do", Key lookup, the AI drill-down, the spike watch's actor,
the detail and facets, hostile values; the terms and actions themselves; a snapshot of the menu.

Regenerate the snapshot deliberately (after looking at it) with
`pytest tests/tui/test_pivots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FROZEN_NOW, frozen_clock
from textual.widgets import OptionList
from tui_helpers import demo_events, demo_file_source, screen_text, settle
from tui_synthetic import WINDOW as SYNTHETIC_WINDOW
from tui_synthetic import make_items, make_source
from watch_pane_helpers import MemorySource, TestClock, polled, role_grants, settle_watch

from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.analysis.explore import facet_term
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.pivot import (
    ACTOR,
    AI,
    EXCLUDE,
    FILTER,
    IP,
    KEY,
    RESOURCE,
    USER,
    PivotMenu,
    PivotTarget,
    actions_for,
    actor_target,
    endpoint_target,
    event_targets,
)
from ddaudit_tui.tui.screens.ai import AiScreen, AiUserScreen
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyInput, KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen
from ddaudit_tui.tui.widgets.ai_table import AiTable
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.facets import FacetPanel
from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions
from ddaudit_tui.tui.widgets.key_tables import SortableTable

DEMO_END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(DEMO_END - 90 * 86_400_000, DEMO_END)
NOW_MS = int(FROZEN_NOW * 1000)
DAVE = "dave@example.com"


def in_window() -> list[Event]:
    return [e for e in demo_events(4000, DEMO_END) if WINDOW.contains(e.ts)]


def demo_app(**kwargs: Any) -> DdauditApp:
    source = demo_file_source(4000, DEMO_END)
    return DdauditApp(source, WINDOW, clock=lambda: DEMO_END / 1000, **kwargs)


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


# -- driving helpers ------------------------------------------------------------------------------------


def explore(app: DdauditApp) -> ExploreScreen:
    screen = app.screen_stack[0] if app.current_mode == "explore" else None
    assert isinstance(screen, ExploreScreen), app.screen_stack
    return screen


async def run_query(pilot: Any, text: str) -> ExploreScreen:
    await pilot.press("slash")
    screen = explore(pilot.app)
    screen.query_one(QueryInput).value = text
    await pilot.press("enter")
    await settle(pilot)
    return screen


async def open_menu(pilot: Any) -> PivotMenu:
    await pilot.press("x")
    await pilot.pause()
    menu = pilot.app.screen
    assert isinstance(menu, PivotMenu), menu
    return menu


async def to_cell(pilot: Any, menu: PivotMenu, field: str) -> PivotTarget:
    """Move the menu (→) to the row's cell in `field`."""
    for _ in range(len(menu.targets)):
        if menu.target.field == field:
            return menu.target
        await pilot.press("l")
    raise AssertionError(f"no {field} cell in {[t.field for t in menu.targets]}")


async def choose(pilot: Any, menu: PivotMenu, action: str, *, wait: Any = settle) -> None:
    """Run `action` with its digit, as a user would."""
    ids = [a for a, _label in menu.actions]
    assert action in ids, (action, menu.actions)
    await pilot.press(str(ids.index(action) + 1))
    await wait(pilot)


def move_to(table: EventTable, pred: Any) -> Event:
    index = next(i for i, e in enumerate(table.rows) if pred(e))
    table.move_cursor(index)
    return table.rows[index]


def query_of(app: DdauditApp) -> str:
    return explore(app).query_text


# -- Explore --------------------------------------------------------------------------------------------


async def test_explore_user_cell_filters_then_narrows_and_excludes():
    app = demo_app()
    events = in_window()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = explore(app).query_one(EventTable)
        ev = move_to(table, lambda e: e.usr_email == PLANTED.role_grant_user)
        user = ev.usr_email
        menu = await open_menu(pilot)
        assert menu.target == PivotTarget("@usr.email", user, "user")  # the actor is the first cell
        assert [a for a, _ in menu.actions] == [FILTER, EXCLUDE, USER, AI]
        await choose(pilot, menu, FILTER)
        assert query_of(app) == f'@usr.email:"{user}"'
        assert explore(app).query_one(QueryInput).value == query_of(app)
        mine = [e for e in events if e.usr_email == user]
        assert table.row_count == len(mine) and {e.usr_email for e in table.rows} == {user}
        assert table.has_focus

        # From Explore itself a pivot narrows the query the user built.
        ev = move_to(table, lambda e: e.evt_name is not None)
        menu = await open_menu(pilot)
        await to_cell(pilot, menu, "@evt.name")
        await choose(pilot, menu, FILTER)
        assert query_of(app) == f'@usr.email:"{user}" @evt.name:"{ev.evt_name}"'
        assert table.row_count == sum(e.evt_name == ev.evt_name for e in mine)

        await run_query(pilot, "*")
        move_to(table, lambda e: e.usr_email == user)
        menu = await open_menu(pilot)
        await choose(pilot, menu, EXCLUDE)
        assert query_of(app) == f'-@usr.email:"{user}"'
        assert table.row_count == len(events) - len(mine)
        assert user not in {e.usr_email for e in table.rows}


async def test_what_did_u_do_includes_what_agents_did_on_their_behalf():
    user = PLANTED.ai_out_of_scope_user
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await run_query(pilot, f'@usr.email:"{user}"')
        own = screen.query_one(EventTable).row_count
        assert own > 0
        menu = await open_menu(pilot)
        await choose(pilot, menu, USER)
        query = query_of(app)
        # The user preset (replacing the query, not narrowing it), widened with her own identities.
        assert query.startswith(f'@usr.email:"{user}" OR @delegator.id:')
        rows = explore(app).query_one(EventTable).rows
        delegated = [e for e in rows if e.usr_email != user]
        assert len(rows) - len(delegated) == own
        assert delegated and all(e.delegator_id == user or e.delegator_name for e in delegated)
        # The Bits agent changed a monitor and a security rule for her (demo/incidents.py: ai_out_of_scope).
        assert {e.asset_type for e in delegated} >= {"monitor", "security_rule"}


async def test_an_api_key_cell_opens_key_lookup_on_that_key():
    key = PLANTED.compromised_key
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await run_query(pilot, "@metadata.api_key.id:*")
        move_to(screen.query_one(EventTable), lambda e: e.api_key_id == key)
        menu = await open_menu(pilot)
        target = await to_cell(pilot, menu, "@metadata.api_key.id")
        assert target.value == key
        await choose(pilot, menu, KEY)
        lookup = app.screen
        assert isinstance(lookup, KeyLookupScreen)
        assert lookup.key_id == key and lookup.report is not None and lookup.report.key_id == key
        assert lookup.query_one(KeyInput).value == key


async def test_the_detail_pivots_on_the_shown_event_and_closes():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await run_query(pilot, "@network.client.ip:*")
        table = screen.query_one(EventTable)
        await pilot.press("j", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        ev = detail.event
        menu = await open_menu(pilot)
        assert menu.targets == tuple(event_targets(ev))
        await to_cell(pilot, menu, "@network.client.ip")
        await choose(pilot, menu, FILTER)
        assert isinstance(app.screen, ExploreScreen)  # the detail is closed: the result is in view
        assert query_of(app) == f'@network.client.ip:* @network.client.ip:"{ev.client_ip}"'
        assert {e.client_ip for e in table.rows} == {ev.client_ip}


async def test_a_facet_value_pivots_and_minus_still_excludes():
    app = demo_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        panel = explore(app).query_one(FacetPanel)
        panel.focus()
        await pilot.pause()
        fv = panel.highlighted_value
        assert fv is not None
        menu = await open_menu(pilot)
        assert menu.targets == (PivotTarget(fv.field, fv.value, "event"),)
        await choose(pilot, menu, EXCLUDE)
        assert query_of(app) == f'-{fv.field}:"{fv.value}"'
        panel.focus()
        await pilot.pause()
        other = panel.highlighted_value  # the excluded value is gone: the first one is highlighted
        assert other is not None and other.value != fv.value
        await pilot.press("minus")
        await settle(pilot)
        assert query_of(app) == f'-{fv.field}:"{fv.value}" -{other.field}:"{other.value}"'


async def test_a_hostile_value_pivots_into_a_printable_query_that_matches_it():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await run_query(pilot, f'@usr.email:"{PLANTED.hostile_user}"')
        table = screen.query_one(EventTable)
        hostile = move_to(table, lambda e: e.asset_name == PLANTED.hostile_asset_name)
        menu = await open_menu(pilot)
        target = await to_cell(pilot, menu, "@asset.name")
        assert target.value == PLANTED.hostile_asset_name  # the raw value, as the event holds it
        # Shown cleaned and never as markup: no escape reaches the screen, the brackets stay text.
        shown = screen_text(app)
        assert "\x1b" not in shown and "\u202e" not in shown and "[bold]x[/bold]" in shown
        # No preset quotes a value with control characters: only filter and exclude.
        assert [a for a, _ in menu.actions] == [FILTER, EXCLUDE]
        await choose(pilot, menu, FILTER)
        query = query_of(app)
        assert query.isprintable() and "\x1b" not in query
        assert parse_query(query).matches(hostile)
        assert hostile.id in {e.id for e in table.rows}
        assert {e.asset_name for e in table.rows} == {PLANTED.hostile_asset_name}


async def test_nothing_to_pivot_on_says_so_and_the_help_lists_the_key():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        assert "Pivot…" in text and "PIVOT MENU" in text and "Next cell" in text
        await pilot.press("escape")
        await run_query(pilot, '@usr.email:"nobody@example.com"')
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExploreScreen)  # no menu over an empty table
        toast = list(app._notifications)[-1]
        assert "Nothing to pivot on here" in toast.message and toast.markup is False


async def test_menu_keys_move_close_and_digits_do_not_switch_panes():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        # The command palette offers it too (generated from the binding).
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"pivot")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        menu = app.screen
        assert isinstance(menu, PivotMenu)
        assert menu.targets == tuple(event_targets(explore(app).query_one(EventTable).rows[0]))
        n = len(menu.targets)
        assert n > 3
        await pilot.press("l", "l", "h")
        assert menu.index == 1
        await pilot.press("h", "h")
        assert menu.index == n - 1  # wraps around
        await pilot.press("j")
        assert menu.query_one(OptionList).highlighted == 1
        await pilot.press("k", "9")  # no ninth action: nothing happens, and 9 is not a pane key
        assert app.screen is menu
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExploreScreen) and query_of(app) == "*"


# -- other panes ----------------------------------------------------------------------------------------


async def test_a_key_lookup_origin_filters_explore_by_its_country():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await run_query(pilot, "@evt.name:Request")  # replaced, not narrowed: it is another pane's
        await pilot.press("1")
        await settle(pilot)
        lookup = app.screen
        assert isinstance(lookup, KeyLookupScreen)
        # The list of keys seen pivots on the highlighted key.
        picked = lookup.query_one(KeySuggestions).highlighted_key
        assert picked is not None
        menu = await open_menu(pilot)
        assert menu.targets == (PivotTarget("@metadata.api_key.id", picked.key_id, "API key"),)
        assert KEY in [a for a, _ in menu.actions]
        await pilot.press("escape")
        lookup.lookup(PLANTED.compromised_key)
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        origins = lookup.query_one("#key-origins", SortableTable)
        assert origins.has_focus
        origins.move_cursor(row=next(i for i, o in enumerate(origins.items) if o.country == "Romania"))
        menu = await open_menu(pilot)
        assert menu.target == PivotTarget("@network.client.geoip.country.name", "Romania", "country")
        fields = [t.field for t in menu.targets]
        assert "@network.client.geoip.as.name" in fields and "@network.client.ip" in fields
        await choose(pilot, menu, FILTER)
        assert app.current_mode == "explore"
        assert query_of(app) == '@network.client.geoip.country.name:"Romania"'
        rows = explore(app).query_one(EventTable).rows
        assert len(rows) == sum(e.country == "Romania" for e in in_window())
        assert {e.country for e in rows} == {"Romania"}


async def test_the_ai_users_table_opens_the_drill_down_of_that_user():
    user = PLANTED.ai_out_of_scope_user
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        ai = app.screen
        assert isinstance(ai, AiScreen)
        users = ai.query_one("#ai-users", AiTable)
        users.focus()
        users.move_cursor(row=next(i for i, r in enumerate(users.rows_in_order) if r.user == user))
        menu = await open_menu(pilot)
        assert menu.target == PivotTarget("@usr.email", user, "user")
        await choose(pilot, menu, AI)
        drill = app.screen
        assert isinstance(drill, AiUserScreen) and drill.user == user
        assert drill.result is not None and drill.result.user == user
        # The drill-down's tables pivot too: its calls are events.
        drill.query_one(EventTable).focus()
        await pilot.pause()
        menu = await open_menu(pilot)
        assert menu.targets == tuple(event_targets(drill.query_one(EventTable).rows[0]))
        await pilot.press("escape")


async def test_ai_activity_from_explore_waits_for_the_first_analysis():
    user = PLANTED.ai_burst_user
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await run_query(pilot, f'@usr.email:"{user}"')
        menu = await open_menu(pilot)
        await choose(pilot, menu, AI)  # the AI pane was never opened: its analysis starts now
        drill = app.screen
        assert isinstance(drill, AiUserScreen) and drill.user == user
        assert drill.result is not None and drill.result.counts["calls"] >= PLANTED.ai_burst_calls


async def test_the_spike_watch_actor_filters_explore_to_the_actor(tmp_path: Path):
    clock = TestClock(FROZEN_NOW)
    grants = role_grants(NOW_MS, DAVE, [5, 4, 3, 2, 1]) + role_grants(NOW_MS, "erin@example.com", [2])
    source = MemorySource(grants)
    app = DdauditApp(source, Window(NOW_MS - 86_400_000, NOW_MS), clock=clock, export_dir=tmp_path)
    app.watch_options = WatchOptions(clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("2")
        screen = await polled(pilot, 1)
        assert isinstance(screen, WatchScreen)
        actors = screen.actor_table
        actors.focus()
        actors.move_cursor(row=actors.item_keys.index(DAVE))
        menu = await open_menu(pilot)
        assert menu.target == PivotTarget("@usr.email", DAVE, "actor")
        rules = {t.value: t.query for t in menu.targets[1:]}
        assert rules == {r.name: r.query for r in screen.shown.rules if r.name in rules}
        assert "role_changes" in rules
        await choose(pilot, menu, FILTER, wait=settle_watch)
        assert app.current_mode == "explore"
        assert query_of(app) == f'@usr.email:"{DAVE}"'
        rows = explore(app).query_one(EventTable).rows
        assert len(rows) == 5 and {e.usr_email for e in rows} == {DAVE}

        # An alert: its actor in the field its rule grouped on, then its rule (a whole query).
        await pilot.press("2")
        await settle_watch(pilot)
        alerts = screen.alert_table
        alerts.focus()
        alert = alerts.cursor_item
        assert alert is not None and (alert.rule, alert.group) == ("role_changes", DAVE)
        menu = await open_menu(pilot)
        assert menu.target == PivotTarget("@usr.email", DAVE, "actor")
        rule = await to_cell(pilot, menu, "rule")
        assert rule.value == "role_changes" and rule.query == rules["role_changes"]
        await choose(pilot, menu, EXCLUDE, wait=settle_watch)
        assert query_of(app) == f"-({rules['role_changes']})"  # replaced: it comes from another pane
        assert explore(app).query_one(EventTable).row_count == 0  # every event here is a role change


# -- terms and actions ----------------------------------------------------------------------------------


def test_terms_quote_values_and_wildcard_control_characters():
    assert PivotTarget("@usr.email", 'a"b@x.io', "user").term() == '@usr.email:"a\\"b@x.io"'
    assert PivotTarget("@usr.email", "a@x.io", "user").term(exclude=True) == '-@usr.email:"a@x.io"'
    assert PivotTarget("@asset.name", None, "asset").term() == "-@asset.name:*"  # missing field
    hostile = "[b]x\x1b[2J"
    term = PivotTarget("@asset.name", hostile, "asset").term()
    assert term == facet_term("@asset.name", hostile) and term.isprintable() and "\x1b" not in term
    actor = actor_target("5f0c-id")
    assert actor is not None
    assert actor.term() == '(@usr.id:"5f0c-id" OR @metadata.api_key.id:"5f0c-id")'
    assert actor.term(exclude=True) == '-(@usr.id:"5f0c-id" OR @metadata.api_key.id:"5f0c-id")'
    path = '"/api/v1/monitor/{id}"'
    route = endpoint_target("/api/v1/monitor/{id}")
    assert route.term() == f"(@route.path:{path} OR @http.url_details.path:{path})"
    rule = PivotTarget("rule", "r", "rule r", query="@action:deleted OR @action:created")
    assert rule.term() == "(@action:deleted OR @action:created)"
    assert rule.term(exclude=True) == "-(@action:deleted OR @action:created)"
    for t in (actor, route, rule):
        parse_query(t.term())
        parse_query(t.term(exclude=True))


def test_actions_depend_on_the_field_and_the_value():
    key = PLANTED.compromised_key

    def ids(target: PivotTarget) -> list[str]:
        return [a for a, _ in actions_for(target)]

    # An API key that made the request is an actor too: "what did it do" is its events in Explore.
    assert ids(PivotTarget("@metadata.api_key.id", key, "API key")) == [FILTER, EXCLUDE, KEY, ACTOR]
    key_asset = PivotTarget("@asset.id", key, "asset", asset_type="api_key")
    assert ids(key_asset) == [FILTER, EXCLUDE, KEY, RESOURCE]
    monitor = PivotTarget("@asset.id", "abc-123", "asset", asset_type="monitor")
    assert ids(monitor) == [FILTER, EXCLUDE, RESOURCE]
    # A key *secret* is never offered to Key lookup (it must not travel in a query).
    assert KEY not in ids(PivotTarget("@metadata.api_key.id", "0123456789abcdef0123456789abcdef", "k"))
    assert ids(PivotTarget("@network.client.ip", "203.0.113.7", "IP")) == [FILTER, EXCLUDE, IP]
    assert ids(PivotTarget("@network.client.ip", "203.0.113.7\x1b[2J", "IP")) == [FILTER, EXCLUDE]
    assert ids(PivotTarget("@usr.email", "a@x.io", "user")) == [FILTER, EXCLUDE, USER, AI]
    assert ids(PivotTarget("@usr.name", "Ann Lee", "user")) == [FILTER, EXCLUDE, ACTOR, AI]
    assert ids(PivotTarget("@usr.email", None, "user")) == [FILTER, EXCLUDE]
    assert ids(PivotTarget("rule", "r", "rule", query="@action:deleted")) == [FILTER, EXCLUDE]
    labels = dict(actions_for(PivotTarget("@usr.email", "a@x.io", "user")))
    assert labels[FILTER] == 'Filter Explore to @usr.email:"a@x.io"'
    assert labels[EXCLUDE] == 'Exclude @usr.email:"a@x.io" from Explore'


# -- snapshot -------------------------------------------------------------------------------------------


def test_pivot_menu_80x24(snap_compare):
    app = DdauditApp(make_source(make_items(300, seed=11)), SYNTHETIC_WINDOW, clock=frozen_clock)

    async def run_before(pilot: Any) -> None:
        pilot.app.theme = "textual-dark"
        pilot.app.animation_level = "none"
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
