"""The Key lookup pane driven through Pilot on the demo org (frozen clock): suggestions, verdicts, flags,
tables, pivots, detail, export, copy, revoke, the chart, Explore's `K`; snapshots at 120×35, 120×40 and
80×24.

Regenerate the snapshots deliberately (after looking at them) with
`pytest tests/tui/test_key_pane.py --snapshot-update`.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import demo_events, demo_file_source, screen_text, settle

from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.analysis.keys import (
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    KeyReport,
    keys_seen,
)
from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.report.key_report import key_report_json, summary_line
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_chart import KeyChartScreen
from ddaudit_tui.tui.screens.key_lookup import KEYS_QUERY, KeyInput, KeyLookupScreen
from ddaudit_tui.tui.screens.key_revoke import KeyRevokeScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions
from ddaudit_tui.tui.widgets.key_summary import KeySummary
from ddaudit_tui.tui.widgets.key_tables import FlagList, KeyTimelineTable, SortableTable

DEMO_END = parse_instant("2026-08-01T16:00:00Z")
DEMO_EVENTS = 4000
WINDOW = Window(DEMO_END - 90 * 86_400_000, DEMO_END)
COMPROMISED = PLANTED.compromised_key
CLEAN = PLANTED.clean_key
PLANTED_SIGNALS = {
    "token_leaked",
    "new_country",
    "vpn_asn",
    "concurrent_ips",
    "impossible_travel",
    "off_hours",
    "burst",
    "destructive_action",
}


def demo_clock() -> float:
    return DEMO_END / 1000


def key_app(tmp_path: Path | None = None, **kwargs) -> DdauditApp:
    kwargs.setdefault("clock", demo_clock)
    source = kwargs.pop("source", None) or demo_file_source(DEMO_EVENTS, DEMO_END)
    return DdauditApp(source, kwargs.pop("window", WINDOW), export_dir=tmp_path, **kwargs)


def pane(app: DdauditApp) -> KeyLookupScreen:
    screen = app.screen
    assert isinstance(screen, KeyLookupScreen), screen
    return screen


async def open_pane(pilot) -> KeyLookupScreen:
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)
    return pane(pilot.app)


async def look_up(pilot, key_id: str) -> KeyReport:
    screen = await open_pane(pilot)
    await pilot.press("slash")
    key_input = screen.query_one(KeyInput)
    assert key_input.has_focus
    key_input.value = key_id  # typing is covered on its own; a key press costs Pilot ~50 ms
    await pilot.press("enter")
    await settle(pilot)
    assert screen.report is not None
    return screen.report


async def expected_report(key_id: str) -> KeyReport:
    return await investigate_key(demo_file_source(DEMO_EVENTS, DEMO_END), key_id, WINDOW, now_ms=DEMO_END)


def notifications(app: DdauditApp) -> list[str]:
    return [n.message for n in app._notifications]


# -- the keys seen ---------------------------------------------------------------------------------------


async def test_suggestions_list_the_planted_keys_with_counts_and_last_use():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        expected = keys_seen(
            e for e in demo_events(DEMO_EVENTS, DEMO_END) if e.api_key_id and WINDOW.contains(e.ts)
        )
        suggestions = screen.query_one(KeySuggestions)
        assert [(k.key_id, k.events, k.last_seen) for k in suggestions.keys] == [
            (k.key_id, k.events, k.last_seen) for k in expected
        ]
        by_id = {k.key_id: k for k in expected}
        text = screen_text(app)
        for key in (COMPROMISED, CLEAN, PLANTED.ci_key):
            # At 120 columns the ids are cut to a prefix no other key shares, leaving room for the users.
            assert key[:8] + "…" in text
            line = next(line for line in text.splitlines() if key[:8] in line)
            assert f"{by_id[key].events:,} events" in line
            assert "last 2026-" in line and "Z" in line  # last use, with its zone
        assert KEYS_QUERY in text
        assert suggestions.has_focus
        assert "API keys seen" in screen.status.text

        # Typing narrows the list (by id or by who used the key), and completes the id inline.
        await pilot.press("slash")
        await pilot.press(*COMPROMISED[:4])
        await settle(pilot)
        assert [k.key_id for k in suggestions.shown] == [COMPROMISED]
        assert screen.query_one(KeyInput)._suggestion == COMPROMISED

        # Down into the list, Enter picks and looks up.
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.report is not None and screen.report.key_id == COMPROMISED


async def test_enter_on_the_first_suggestion_is_the_keyboard_only_path():
    app = key_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        first = screen.query_one(KeySuggestions).shown[0]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report is not None and screen.report.key_id == first.key_id
        assert screen.query_one(KeyInput).value == first.key_id


async def test_a_key_id_typed_right_after_slash_lands_in_the_input():
    """A paste or tmux send-keys delivers `/9f3c…` at once: every key after `/` is the key id, none of
    them a pane key (`e` exports, `c` …). Keys queued for the list before `/` moved the focus used to be
    lost or taken as the list's keys."""
    from textual import events

    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        typed = COMPROMISED[:13]
        for ch in "/" + typed:  # all queued before the app handles the first
            app.post_message(events.Key("slash" if ch == "/" else ("minus" if ch == "-" else ch), ch))
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one(KeyInput).value == typed


async def test_a_pane_switch_and_slash_in_one_burst_edit_the_new_panes_query():
    """`4/` in one burst (tmux send-keys) from Key lookup: Explore's query box takes what is typed next,
    not Key lookup's key id."""
    from textual import events

    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await open_pane(pilot)
        app.post_message(events.Key("4", "4"))
        app.post_message(events.Key("slash", "/"))
        await settle(pilot)
        for ch in "abc":
            app.post_message(events.Key(ch, ch))
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        from ddaudit_tui.tui.screens.explore import QueryInput

        assert app.screen.query_one(QueryInput).value.endswith("abc")


# -- verdicts and flags ------------------------------------------------------------------------------


async def test_compromised_key_verdict_and_every_planted_flag_most_severe_first():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        screen = pane(app)
        expected = await expected_report(COMPROMISED)
        assert report.verdict == VERDICT_COMPROMISED == expected.verdict
        assert [f.to_json() for f in report.flags] == [f.to_json() for f in expected.flags]

        card = screen.query_one(KeySummary).plain
        assert "✖ LIKELY COMPROMISED" in card  # word and glyph, not colour alone
        assert f"key {COMPROMISED}" in card
        assert f"by {PLANTED.compromised_key_creator}" in card
        assert "2026-06-02 15:23:41Z" in card  # created at, with its zone
        assert f"{report.total_events:,} events" in card
        assert "9 deletions" in card
        assert "likely compromised" in screen.status.text

        flags = screen.query_one(FlagList)
        assert flags.flags == report.flags
        assert {f.signal for f in flags.flags} >= PLANTED_SIGNALS
        severities = [int(f.severity) for f in flags.flags]
        assert severities == sorted(severities, reverse=True)
        text = screen_text(app)
        assert "‼ CRITICAL  token_leaked" in text
        assert "! HIGH  new_country · RO" in text
        assert flags.has_focus

        # Every planted signal is listed with its word and glyph (scrolling through the list).
        rendered = "\n".join(str(flags.get_option_at_index(i).prompt) for i in range(flags.option_count))
        for f in report.flags:
            assert f"{f.severity.label}  {f.signal}" in rendered


async def test_clean_key_shows_no_evidence_and_no_flags():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, CLEAN)
        screen = pane(app)
        assert report.verdict == VERDICT_NONE
        assert report.flags == []
        assert "✓ NO EVIDENCE" in screen.query_one(KeySummary).plain
        assert screen.query_one(FlagList).flags == []
        assert "no flags: nothing unusual" in screen_text(app)
        assert "flags: none" in screen.query_one(KeySummary).plain


async def test_invalid_ids_and_secrets_are_refused_before_any_query():
    app = key_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("slash")
        screen.query_one(KeyInput).value = "0123456789abcdef0123456789abcdef"  # a key *secret*
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report is None and screen.key_id is None
        assert "hex secret" in (screen.input_error or "")
        screen.query_one(KeyInput).value = "bad id [x]"
        await pilot.press("enter")
        await settle(pilot)
        assert "invalid API key id" in (screen.input_error or "")


async def test_a_key_without_events_says_so():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, "00000000-0000-4000-8000-000000000000")
        screen = pane(app)
        assert report.total_events == 0 and report.verdict == VERDICT_NONE
        card = screen.query_one(KeySummary).plain
        assert "no activity in the window" in card and "0 events" in card
        assert "⚠ no events for key" in card
        assert "no events, no flags" in screen_text(app)


async def test_an_invalid_id_from_another_pane_is_shown_cleaned_and_not_looked_up():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        assert screen.lookup("evil\x1b[31mid") is False
        await settle(pilot)
        assert screen.query_one(KeyInput).value == "evilid"
        assert screen.report is None and "invalid API key id" in (screen.input_error or "")


# -- tables, sorting and pivots -------------------------------------------------------------------------


async def test_origins_table_equals_the_report_and_sorts():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        screen = pane(app)
        await pilot.press("o")
        await settle(pilot)
        table = screen.query_one("#key-origins", SortableTable)
        assert table.has_focus
        assert table.items == report.origins
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        for row, o in zip(rows, report.origins, strict=True):
            assert row[0] == o.country
            assert row[1] == f"{o.count:,}"
            assert o.flag in row[2]
            assert row[3] == ", ".join(a or "?" for a in o.asns)
            assert row[4] == ", ".join(ip or "?" for ip in o.ips)
        assert [o.country for o in table.items] == ["United States", "Romania"]  # most events first

        await pilot.press("s")  # by country, A→Z
        await settle(pilot)
        assert [o.country for o in table.items] == ["Romania", "United States"]
        assert "country ▲" in screen_text(app)
        await pilot.press("S", "enter")  # the column picker: the sorted column again reverses it
        await settle(pilot)
        assert [o.country for o in table.items] == ["United States", "Romania"]
        assert "country ▼" in screen_text(app)
        # A header click sorts by that column (events: most first).
        table.sort_by(1)
        await settle(pilot)
        assert [o.count for o in table.items] == sorted((o.count for o in report.origins), reverse=True)


async def test_enter_on_an_origin_filters_the_timeline_and_escape_clears():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        screen = pane(app)
        await pilot.press("o")
        await settle(pilot)
        table = screen.query_one("#key-origins", SortableTable)
        row = next(i for i, o in enumerate(table.items) if o.country == "Romania")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        romania = next(o for o in report.origins if o.country == "Romania")
        timeline = screen.query_one(KeyTimelineTable)
        assert timeline.has_focus
        assert timeline.row_count == romania.count == 180
        assert {e.country for e in timeline.rows} == {"Romania"}
        text = screen_text(app)
        assert "filter: country = Romania" in text and f"{romania.count} of {report.total_events}" in text
        assert f"Timeline {romania.count}/{report.total_events}" in text

        await pilot.press("escape")
        await settle(pilot)
        assert timeline.row_count == report.total_events
        assert screen.timeline_filter is None


async def test_endpoint_network_flag_and_ip_pivots_match_the_report_counts():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        screen = pane(app)
        timeline = screen.query_one(KeyTimelineTable)

        await pilot.press("p")
        await settle(pilot)
        endpoints = screen.query_one("#key-endpoints", SortableTable)
        assert endpoints.items == report.routes
        await pilot.press("enter")
        await settle(pilot)
        assert timeline.row_count == report.routes[0].count
        assert {e.endpoint for e in timeline.rows} == {report.routes[0].path}

        await pilot.press("w")
        await settle(pilot)
        networks = screen.query_one("#key-networks", SortableTable)
        vpn = next(i for i, r in enumerate(networks.items) if r.network.asn == PLANTED.attacker_asn)
        networks.move_cursor(row=vpn)
        await pilot.press("enter")
        await settle(pilot)
        assert timeline.row_count == networks.items[vpn].network.count
        assert "M247 Europe SRL (AS9009) in Romania" in screen_text(app)

        await pilot.press("f")
        await settle(pilot)
        flags = screen.query_one(FlagList)
        burst = next(i for i, f in enumerate(flags.flags) if f.signal == "burst")
        flags.highlighted = burst
        await pilot.press("enter")
        await settle(pilot)
        assert {e.id for e in timeline.rows} == set(flags.flags[burst].event_ids)

        # token_leaked's evidence is Datadog's notification, not a use of the key: said, not filtered.
        await pilot.press("f")
        await settle(pilot)
        flags.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert any("not among the key's own events" in m for m in notifications(app))

        await pilot.press("a")
        await settle(pilot)
        ip = timeline.cursor_event.client_ip
        await pilot.press("i")
        await settle(pilot)
        assert {e.client_ip for e in timeline.rows} == {ip}
        assert timeline.row_count == sum(1 for e in report.events if e.client_ip == ip)


async def test_enter_on_a_timeline_row_opens_the_event_and_on_a_deletion_too():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        screen = pane(app)
        await pilot.press("a")
        await settle(pilot)
        timeline = screen.query_one(KeyTimelineTable)
        await pilot.press("j", "j")
        expected = timeline.cursor_event
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        assert detail.events[detail.index].id == expected.id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("d")
        await settle(pilot)
        deleted = screen.query_one("#key-deleted", SortableTable)
        assert [d.event_id for d in deleted.items] == [d.event_id for d in report.destructive]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDetailScreen)
        assert app.screen.events[app.screen.index].id == report.destructive[0].event_id


# -- export, copy, chart ------------------------------------------------------------------------------


async def test_export_writes_private_timestamped_files_and_toasts_their_paths(tmp_path):
    app = key_app(tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert app.screen.chosen() == ["md", "json"]
        await pilot.press("enter")
        await settle(pilot)
        files = sorted(tmp_path.iterdir())
        assert [f.suffix for f in files] == [".json", ".md"]
        for f in files:
            assert f.name.startswith("ddaudit-key-9f3c2e71-") and "20260801T160000Z" in f.name
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
        data = json.loads(files[0].read_text())
        assert data == json.loads(json.dumps(key_report_json(report)))
        assert "LIKELY COMPROMISED" in files[1].read_text()
        toast = notifications(app)[-1]
        for f in files:
            assert str(f.resolve()) in toast


async def test_y_copies_the_summary_with_the_osc52_and_tmux_caveat(monkeypatch):
    app = key_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 35)) as pilot:
        await open_pane(pilot)
        await pilot.press("y")  # nothing to copy yet: said, not crashed
        await settle(pilot)
        assert copied == [] and "Nothing to copy" in notifications(app)[-1]
        report = await look_up(pilot, COMPROMISED)
        await pilot.press("y")
        await settle(pilot)
        assert copied == [summary_line(report)]
        toast = notifications(app)[-1]
        assert "OSC 52" in toast and "set -g set-clipboard on" in toast
        assert "copied" not in toast.lower()  # the terminal never confirms: no claim of success


async def test_chart_opens_a_plot_and_toggles_hours_and_days():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        await pilot.press("t")
        await settle(pilot)
        chart = app.screen
        assert isinstance(chart, KeyChartScreen)
        assert chart.bucket_word == "day"
        assert "events per day" in screen_text(app)
        await pilot.press("b")
        await settle(pilot)
        assert chart.bucket_word == "hour"
        assert "events per hour" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, KeyLookupScreen)


async def test_local_time_toggle_changes_every_timestamp_zone():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        card = pane(app).query_one(KeySummary)
        assert "2026-06-02 15:23:41Z" in card.plain
        await pilot.press("z")
        await settle(pilot)
        assert "2026-06-02 15:23:41+00:00" in card.plain  # TZ=UTC in tests: the offset form
        await pilot.press("d")
        await settle(pilot)
        assert "+00:00" in screen_text(app)


# -- revoke ---------------------------------------------------------------------------------------------


async def test_revoke_needs_the_last_four_characters_and_goes_through_the_fake_api():
    from ddaudit_tui.demo.source import open_demo

    source = open_demo(events=DEMO_EVENTS, end_ms=DEMO_END)
    app = key_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        assert report.api_key is not None and report.api_key.name == PLANTED.compromised_key_name
        await pilot.press("R")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, KeyRevokeScreen)
        text = screen_text(app)
        assert COMPROMISED in text and PLANTED.compromised_key_name in text
        assert PLANTED.compromised_key_creator in text

        answer = dialog.query_one(Input)
        assert answer.has_focus
        await pilot.press("z", "z", "z", "z", "enter")  # wrong: refused, the dialog stays
        await settle(pilot)
        assert app.screen is dialog and dialog.refusals == 1
        assert "does not match" in screen_text(app)
        assert await source.get_api_key(COMPROMISED) is not None

        await pilot.press(*COMPROMISED[-4:], "enter")
        await settle(pilot)
        assert isinstance(app.screen, KeyLookupScreen)
        assert await source.get_api_key(COMPROMISED) is None  # GET → 404: revoked
        assert "REVOKED" in pane(app).query_one(KeySummary).plain
        assert any(m.startswith(f"Revoked API key {COMPROMISED}") for m in notifications(app))

        # Again: already revoked from here.
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, KeyRevokeScreen)
        assert "already revoked" in notifications(app)[-1]


async def test_revoke_failure_is_explained():
    from ddaudit_tui.demo.source import open_demo

    source = open_demo(events=DEMO_EVENTS, end_ms=DEMO_END)
    app = key_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        await source.revoke_api_key(COMPROMISED)  # revoked elsewhere meanwhile
        await pilot.press("R")
        await settle(pilot)
        await pilot.press(*COMPROMISED[-4:], "enter")
        await settle(pilot)
        toast = notifications(app)[-1]
        assert "was not revoked" in toast and "already revoked" in toast
        assert pane(app).status.kind == "error"


async def test_escape_cancels_the_revoke_dialog():
    from ddaudit_tui.demo.source import open_demo

    source = open_demo(events=DEMO_EVENTS, end_ms=DEMO_END)
    app = key_app(source=source)
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, KeyLookupScreen)
        assert await source.get_api_key(COMPROMISED) is not None
        assert "Not revoked" in notifications(app)[-1]


@pytest.mark.parametrize("case", ["read_only", "no_api"])
async def test_revoke_is_refused_in_read_only_mode_and_without_an_api(case):
    from ddaudit_tui.demo.source import open_demo

    if case == "read_only":
        source = open_demo(events=DEMO_EVENTS, end_ms=DEMO_END)
        app = key_app(source=source)
        app.read_only = True  # type: ignore[attr-defined]
    else:
        app = key_app()  # input files: no revoke_api_key
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, KeyLookupScreen)  # no dialog
        toast = notifications(app)[-1]
        assert "was not revoked" in toast or "Nothing was revoked" in toast
        assert ("read-only" in toast) == (case == "read_only")
        if case == "read_only":
            assert await source.get_api_key(COMPROMISED) is not None


@pytest.mark.parametrize("read_only", [True, False])
async def test_read_only_mode_offers_no_revoke_in_the_footer_help_or_palette(read_only):
    """`ddaudit serve` (read-only unless --allow-actions): revoke is absent, not a key that then says no."""
    from ddaudit_tui.tui.commands import binding_groups

    app = key_app()
    app.read_only = read_only  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        footer = screen_text(app).splitlines()[-1]
        assert "Export" in footer
        assert ("Revoke" in footer) is not read_only, footer
        # The palette offers what help lists: the same groups.
        actions = {e.action for g in binding_groups(app, app.screen) for e in g.entries}
        assert ("revoke" in actions) is not read_only
        assert not any("refused" in a for a in actions)  # the refusal below is no entry of its own
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert ("Revoke" in app.screen.text) is not read_only
        await pilot.press("escape")
        await settle(pilot)
        if read_only:  # a person who knows the key still hears why nothing happens
            await pilot.press("R")
            await settle(pilot)
            assert isinstance(app.screen, KeyLookupScreen)
            assert "read-only" in notifications(app)[-1]


# -- other panes, help -------------------------------------------------------------------------------------


async def test_K_in_explore_opens_the_events_key_in_key_lookup():
    app = key_app(query=f"@metadata.api_key.id:{COMPROMISED}")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExploreScreen)
        assert app.screen.query_one(EventTable).cursor_event.api_key_id == COMPROMISED
        await pilot.press("K")
        await settle(pilot)
        screen = pane(app)
        assert app.current_mode == "lookup"
        assert screen.report is not None and screen.report.key_id == COMPROMISED
        assert screen.query_one(KeyInput).value == COMPROMISED


async def test_K_on_an_event_without_a_key_says_so():
    app = key_app(query="@evt.name:Authentication -@metadata.api_key.id:*")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)
        assert app.current_mode == "explore"
        assert "not made with an API key" in notifications(app)[-1]


async def test_open_key_before_the_pane_was_ever_shown():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await app.run_action(f"open_key({CLEAN!r})")
        await settle(pilot)
        assert pane(app).report is not None and pane(app).report.key_id == CLEAN


async def test_help_and_palette_list_the_pane_keys():
    app = key_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, COMPROMISED)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text  # every group, also those scrolled out of view
        for words in ("Key id", "Export", "Copy", "Revoke", "Chart", "Clear filter", "Next section"):
            assert words in text, words


async def test_narrow_and_short_terminals_keep_the_verdict_and_the_tables():
    app = key_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await look_up(pilot, COMPROMISED)
        text = screen_text(app)
        assert "LIKELY COMPROMISED" in text
        assert "CRITICAL" in text
        await pilot.press("o")
        await settle(pilot)
        assert "Romania" in screen_text(app)


async def test_no_color_keeps_verdict_and_flags_distinguishable(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        assert app.no_color
        text = screen_text(app)
        assert "✖ LIKELY COMPROMISED" in text
        for label in ("‼ CRITICAL", "! HIGH"):
            assert label in text
        assert "! = flagged" in text  # the sparkline's marker row, not a colour


# -- snapshots ----------------------------------------------------------------------------------------------


def snapshot_app() -> DdauditApp:
    return key_app()


async def prepare(pilot) -> None:
    pilot.app.theme = "textual-dark"
    pilot.app.animation_level = "none"
    await settle(pilot)


async def lookup_compromised(pilot) -> None:
    await prepare(pilot)
    await look_up(pilot, COMPROMISED)
    await settle(pilot)


def test_key_picker_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await prepare(pilot)
        await open_pane(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_key_lookup_120x35(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=(120, 35), run_before=lookup_compromised)


def test_key_lookup_120x40(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=(120, 40), run_before=lookup_compromised)


def test_key_lookup_80x24(snap_compare):
    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=lookup_compromised)


def test_key_lookup_clean_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await prepare(pilot)
        await look_up(pilot, CLEAN)
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_key_timeline_filtered_120x35(snap_compare):
    async def run_before(pilot) -> None:
        await lookup_compromised(pilot)
        await pilot.press("o", "j", "enter")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 35), run_before=run_before)


def test_key_revoke_dialog_80x24(snap_compare):
    async def run_before(pilot) -> None:
        from ddaudit_tui.demo.source import open_demo

        pilot.app.source = open_demo(events=DEMO_EVENTS, end_ms=DEMO_END)
        await lookup_compromised(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_key_chart_120x35(snap_compare):
    async def run_before(pilot) -> None:
        await lookup_compromised(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 35), run_before=run_before)
