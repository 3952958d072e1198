"""Key lookup's key picker ranks risk: every key seen with its verdict and CRITICAL/HIGH flag counts
(assessed in a background worker, `…` until then), leaked/revoked markers, riskiest first then the most
recently used, the order stated in the title; Esc from a looked-up key comes back to the list; and the
shortest path from launch to an exported report of the demo's compromised key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from test_key_pane import (
    COMPROMISED,
    DEMO_END,
    DEMO_EVENTS,
    WINDOW,
    demo_clock,
    key_app,
    open_pane,
    pane,
)
from textual.widgets import TabbedContent
from tui_helpers import demo_file_source, screen_text, settle

from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.analysis.key_risk import RANK_ORDER, key_risk, rank_keys
from ddaudit_tui.analysis.keys import VERDICT_COMPROMISED, keys_seen
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.key_lookup import ASSESS_GROUP, KeyInput, KeyLookupScreen
from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions


def picker(screen: KeyLookupScreen) -> KeySuggestions:
    return screen.query_one(KeySuggestions)


def title(screen: KeyLookupScreen) -> str:
    return str(screen.query_one("#key-picker-title").render())


async def expected_order() -> list[str]:
    source = demo_file_source(DEMO_EVENTS, DEMO_END)
    everything = await source.fetch("@metadata.api_key.id:*", WINDOW)
    keys = keys_seen(everything.events)
    risks = {}
    for k in keys:
        report = await investigate_key(source, k.key_id, WINDOW, now_ms=int(demo_clock() * 1000))
        risks[k.key_id] = key_risk(report)
    return [k.key_id for k in rank_keys(keys, risks)]


async def test_keys_are_ranked_riskiest_first_with_verdicts_flags_and_markers():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        suggestions = picker(screen)
        order = await expected_order()
        assert [k.key_id for k in suggestions.shown] == order
        assert order[0] == COMPROMISED
        # The riskiest key is highlighted: Enter looks it up.
        assert suggestions.highlighted_key is not None and suggestions.highlighted_key.key_id == COMPROMISED
        assert suggestions.has_focus

        risk = suggestions.risks[COMPROMISED]
        assert risk.verdict == VERDICT_COMPROMISED and risk.leaked
        line = next(line for line in screen_text(app).splitlines() if COMPROMISED[:8] in line)
        assert "✖ compromised" in line
        assert f"‼{risk.critical}" in line and f"!{risk.high}" in line
        assert "LEAKED" in line
        assert "events" in line and "last 2026-" in line
        assert not line.startswith("…")  # assessed: no pending marker left
        # The order is stated, and the count agrees with the rows.
        assert f"{len(order)} keys · {RANK_ORDER}" in title(screen)
        assert "assessing" not in title(screen)
        # The worst news first, and not as a success.
        assert (
            screen.status.text.startswith("1 likely compromised · ")
            and "API keys seen · pick one" in screen.status.text
        )
        assert screen.status.kind == "compromised"


async def test_rows_show_an_ellipsis_until_assessed_and_the_list_stays_usable():
    gate = asyncio.Event()

    class SlowKeys:
        """The demo, with the API Keys endpoint held until the test lets it answer."""

        def __init__(self) -> None:
            self.source = demo_file_source(DEMO_EVENTS, DEMO_END)
            self.label = self.source.label

        def __getattr__(self, name: str) -> Any:
            return getattr(self.source, name)

        async def get_api_key(self, key_id: str) -> None:
            await gate.wait()
            return None

    app = key_app(source=SlowKeys())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("1")
        for _ in range(20):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, KeyLookupScreen) and picker(screen).keys:
                break
        screen = pane(app)
        suggestions = picker(screen)
        n = len(suggestions.keys)
        assert n >= 3 and suggestions.risks == {}
        # Each row says it is not assessed yet; the title says the list is filling in.
        rows = [str(suggestions.get_option_at_index(i).prompt) for i in range(suggestions.option_count)]
        assert all(r.lstrip().startswith("…") for r in rows)
        assert f"assessing 0/{n}" in title(screen)
        # Usable meanwhile: move, filter.
        await pilot.press("down")
        assert suggestions.highlighted == 1
        await pilot.press("slash", *COMPROMISED[:4])
        await pilot.pause()
        assert [k.key_id for k in suggestions.shown] == [COMPROMISED]
        assert f"1 of {n} keys" in title(screen)
        workers = [w for w in app.workers if w.group == ASSESS_GROUP]
        assert workers and all(not w.is_finished for w in workers)

        gate.set()
        await settle(pilot)
        assert set(suggestions.risks) == {k.key_id for k in suggestions.keys}
        assert "assessing" not in title(screen)


async def test_the_assessment_is_cancellable():
    gate = asyncio.Event()

    class SlowKeys:
        def __init__(self) -> None:
            self.source = demo_file_source(DEMO_EVENTS, DEMO_END)
            self.label = self.source.label

        def __getattr__(self, name: str) -> Any:
            return getattr(self.source, name)

        async def get_api_key(self, key_id: str) -> None:
            await gate.wait()
            return None

    app = key_app(source=SlowKeys())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("1")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, KeyLookupScreen) and picker(app.screen).keys:
                break
        screen = pane(app)
        screen.cancel_assessment()
        gate.set()
        await settle(pilot)
        assert picker(screen).risks == {}
        assert "not assessed" in title(screen)
        # The list still works: Enter looks the highlighted key up.
        first = picker(screen).highlighted_key
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report is not None and screen.report.key_id == first.key_id
        # And its verdict, now known, is shown in the list.
        assert picker(screen).risks[first.key_id] == key_risk(screen.report)


async def test_escape_from_a_looked_up_key_returns_to_the_whole_list():
    app = key_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        suggestions = picker(screen)
        n = len(suggestions.keys)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report is not None and not screen.picking
        assert screen.query_one(KeyInput).value == COMPROMISED

        await pilot.press("escape")
        await settle(pilot)
        assert screen.picking and suggestions.has_focus
        assert screen.query_one(KeyInput).value == ""
        assert len(suggestions.shown) == n
        assert f"{n} keys · {RANK_ORDER}" in title(screen)
        assert suggestions.highlighted_key.key_id == COMPROMISED
        # Esc again: back to the report that is still there.
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.picking and screen.report is not None

        # A timeline filter is cleared first, then the list.
        await pilot.press("a", "i")
        await settle(pilot)
        assert screen.timeline_filter is not None
        await pilot.press("escape")
        await settle(pilot)
        assert screen.timeline_filter is None and not screen.picking
        await pilot.press("escape")
        await settle(pilot)
        assert screen.picking


async def test_the_title_count_always_matches_the_rows():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        suggestions = picker(screen)
        n = len(suggestions.keys)
        await pilot.press("slash", *COMPROMISED[:4])
        await settle(pilot)
        assert len(suggestions.shown) == 1
        assert f"1 of {n} keys" in title(screen)
        assert not title(screen).startswith(f"Keys seen: {n} keys")
        await pilot.press("z", "z", "z")  # matches nothing
        await settle(pilot)
        assert suggestions.shown == []
        assert f"0 of {n} keys" in title(screen)


async def test_curly_brackets_cycle_the_sections_square_ones_no_longer_do():
    app = key_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("enter")
        await settle(pilot)
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "flags"
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert tabs.active == "origins"
        await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert tabs.active == "flags"
        bound = {b.key for b in KeyLookupScreen.BINDINGS if not isinstance(b, tuple)}  # type: ignore[union-attr]
        assert "left_square_bracket" not in bound and "right_square_bracket" not in bound


async def test_launch_to_the_exported_report_of_the_compromised_key_in_3_keystrokes(tmp_path: Path):
    # As `ddaudit --input FILE` starts it: on Key lookup when the data has API keys.
    app = DdauditApp(
        demo_file_source(DEMO_EVENTS, DEMO_END),
        WINDOW,
        export_dir=tmp_path,
        clock=demo_clock,
        start_pane="auto",
    )
    keystrokes = 0

    async def press(key: str) -> None:
        nonlocal keystrokes
        keystrokes += 1
        await pilot.press(key)
        await settle(pilot)  # a person reads the screen between keys

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, KeyLookupScreen)
        await press("enter")  # look up the highlighted (riskiest) key
        await press("e")  # export…
        assert isinstance(app.screen, ExportDialog)
        await press("enter")  # …with the default formats (Markdown + JSON)
        await settle(pilot)
    reports = [p for p in tmp_path.iterdir() if p.suffix == ".md"]
    assert len(reports) == 1 and reports[0].name.startswith("ddaudit-key-" + COMPROMISED[:8])
    text = reports[0].read_text()
    assert COMPROMISED in text and "LIKELY COMPROMISED" in text
    assert keystrokes == 3  # from Explore (today's default pane) add `1`: 4, within the ≤ 5 asked


async def test_only_the_most_recently_used_keys_are_assessed_the_rest_say_so(monkeypatch: Any):
    # An org with hundreds of keys must not cost hundreds of lookups at start: the ASSESS_LIMIT most
    # recently used are assessed, the others say "not assessed" (never a `…` that will not resolve) and
    # the title says how many and why; Enter still looks any of them up.
    import ddaudit_tui.tui.screens.key_lookup as key_lookup

    monkeypatch.setattr(key_lookup, "ASSESS_LIMIT", 2)
    app = key_app()
    async with app.run_test(size=(160, 35)) as pilot:
        screen = await open_pane(pilot)
        suggestions = picker(screen)
        recent = sorted(suggestions.keys, key=lambda k: (-k.last_seen, k.key_id))
        assert set(suggestions.risks) == {k.key_id for k in recent[:2]}
        assert suggestions.skipped == {k.key_id for k in recent[2:]}
        assert suggestions.pending == 0
        assert f"{len(recent) - 2} not assessed (only the 2 most recently used are" in title(screen)
        assert "assessing" not in title(screen)
        for k in recent[2:]:
            line = next(line for line in screen_text(app).splitlines() if k.key_id[:8] in line)
            assert line.startswith("? not assessed"), line
