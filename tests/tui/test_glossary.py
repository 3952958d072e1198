"""One name per quantity (issue 11 item 6): the AI pane's overview and drill-down name the same numbers
the same way, with the same values; every name shown is defined in `analysis.glossary`, in the
pane's `?` help and in the labels' tooltips.

On `main` the demo showed `185 AI events`, `178 MCP tool calls` and a timeline of `176 calls`, and
kevin.lee's drill-down `143 / 140 / 139 / 143` (CALLS 143 listed his AI events, connection set-ups
included).
"""

from __future__ import annotations

import re
from typing import Any

from test_ai_pane import demo_app, focus_user, open_ai
from textual.widgets import Static
from tui_helpers import screen_text, settle

from ddaudit_tui.analysis import glossary as G
from ddaudit_tui.demo.incidents import PLANTED
from ddaudit_tui.tui.screens.ai import USER_SUMMARY_NAMES, AiUserScreen
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.widgets.ai_calls import CLIENT_COLUMNS, TOOL_COLUMNS, USER_COLUMNS
from ddaudit_tui.tui.widgets.ai_flags import AiCounters
from ddaudit_tui.tui.widgets.ai_timeline import AiTimeline

KEVIN = PLANTED.ai_burst_user


def counts_in(text: str) -> dict[str, int]:
    """`143 AI events · 1 change · …` → {"AI events": 143, "changes": 1, …} (glossary names)."""
    names = sorted(G.AI_GLOSSARY, key=len, reverse=True)
    out: dict[str, int] = {}
    for number, words in re.findall(r"([\d,]+) ([A-Za-z ]+?)(?= ·|\n|$)", text):
        for name in names:
            if words in (name, name.removesuffix("s")):
                out[name] = int(number.replace(",", ""))
                break
    return out


def test_every_ai_label_is_a_glossary_name():
    for columns in (USER_COLUMNS, TOOL_COLUMNS, CLIENT_COLUMNS):
        numeric = [c for c in columns if c.justify == "right"]
        assert all(c.label in G.AI_GLOSSARY for c in numeric), [c.label for c in numeric]
    assert set(USER_SUMMARY_NAMES) <= set(G.AI_GLOSSARY)


async def test_overview_and_drill_down_use_the_same_names_and_values_for_kevin():
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_ai(pilot)
        result = screen.result
        assert result is not None
        row = next(r for r in result.users if r.user == KEVIN)
        overview = {c.label: c.cell(row, False) for c in USER_COLUMNS if c.label in G.AI_GLOSSARY}
        assert overview[G.AI_CALLS] == row.calls and overview[G.TOOL_CALLS] == row.tool_calls
        # The overview's counters: the glossary's names, nothing abbreviated, each defined in the tooltip.
        counters = screen.query_one(AiCounters)
        shown = counts_in(counters.plain)
        assert shown[G.AI_EVENTS] == len(result.calls)
        assert shown[G.AI_CALLS] == result.counts["calls"]
        assert (
            shown.get(G.MCP_SERVER_EVENTS, result.summary["total_tool_calls"])
            == result.summary["total_tool_calls"]
        )
        assert all(f"{name}: {G.AI_GLOSSARY[name]}" in str(counters.tooltip) for name in shown)
        assert f"{result.counts['calls']:,} {G.AI_CALLS}" in str(screen.query_one(AiTimeline).render())

        await focus_user(pilot, screen, KEVIN)
        await pilot.press("enter")
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, AiUserScreen) and drill.result is not None
        summary = drill.query_one("#user-summary", Static)
        mine = counts_in(str(summary.render()))
        assert set(mine) == set(USER_SUMMARY_NAMES)
        # Same name, same value: the overview's row and the drill-down agree on every shared quantity.
        for name, value in overview.items():
            if name in mine:
                assert mine[name] == value, name
        assert mine[G.AI_EVENTS] == len(drill.result.calls)
        assert f"{mine[G.AI_CALLS]:,} {G.AI_CALLS}" in str(drill.query_one(AiTimeline).render())
        # The list of every AI event is titled with that name and that number.
        assert f"{G.AI_EVENTS.upper()} {mine[G.AI_EVENTS]}" in screen_text(app)
        assert all(f"{n}: {G.AI_GLOSSARY[n]}" in str(summary.tooltip) for n in USER_SUMMARY_NAMES)


async def assert_help_defines(pilot: Any, glossary: dict[str, str]) -> None:
    await pilot.press("question_mark")
    await settle(pilot)
    help_screen = pilot.app.screen
    assert isinstance(help_screen, HelpScreen)
    text = " ".join(help_screen.text.split())
    assert "WHAT THE NUMBERS MEAN" in text
    for name, definition in glossary.items():
        assert f"{name}: {' '.join(definition.split())}" in text, name
    await pilot.press("escape")
    await settle(pilot)


async def test_help_of_each_pane_lists_its_glossary():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await open_ai(pilot)
        await assert_help_defines(pilot, G.AI_GLOSSARY)
        await pilot.press("1")
        await settle(pilot)
        await assert_help_defines(pilot, G.KEY_GLOSSARY)
