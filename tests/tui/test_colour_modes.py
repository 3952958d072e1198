"""Flags stay distinguishable without colour: NO_COLOR=1, and a 16-colour terminal.

Severity is carried by a word and a glyph (`‼ CRITICAL`, `! HIGH`, `◆ MEDIUM`, `○ LOW`; analysis/signals.py),
open and closed alerts by `●` / `○`, so these tests look for those in what reaches the terminal, in the
Key lookup, Spike watch and AI activity panes, after checking that the colours really are gone (greys only)
or really are 16.
"""

from __future__ import annotations

import re

import pytest
import textual.constants
from tui_helpers import screen_lines
from watch_pane_helpers import TestClock, polled, settle_watch

from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp

NOW_MS = parse_instant("2026-07-04T12:00:00Z")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


pytestmark = pytest.mark.usefixtures("isolated_env")  # conftest.py


def demo_app() -> DdauditApp:
    clock = TestClock(NOW_MS / 1000)
    source = open_demo(seed=7, events=3000, end_ms=NOW_MS, clock=clock)
    return DdauditApp(source, Window(NOW_MS - 90 * 86_400_000, NOW_MS), clock=clock)


def terminal_output(app: DdauditApp) -> str:
    """The bytes the app would send for a full repaint, through its own console (its colour system)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    with app.console.capture() as capture:
        app.console.print(update, end="")
    return capture.get()


def visible_text(output: str) -> str:
    return CONTROL.sub("\n", SGR.sub("", output))


def colours_used(app: DdauditApp) -> set[tuple[int, int, int]]:
    found = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            for colour in (style.color, style.bgcolor):
                if colour is not None and not colour.is_default:
                    found.add(tuple(colour.get_truecolor()))
    return found


async def walk_flag_panes(app: DdauditApp, check) -> None:
    """Key lookup of the planted compromised key (1), Spike watch (2), AI activity (3); `check` each."""
    async with app.run_test(size=(160, 50)) as pilot:
        await settle_watch(pilot)
        await app.action_open_key(PLANTED.compromised_key)  # as Explore's K does, on a pane never shown
        await settle_watch(pilot)
        assert not app.screen.picking  # the results, not the list of keys seen, are on screen
        check(app)
        text = "\n".join(screen_lines(app))
        assert "✖ LIKELY COMPROMISED" in text
        for label in ("‼ CRITICAL", "! HIGH", "◆ MEDIUM", "○ LOW"):
            assert label in text, label
        assert "! = flagged" in text  # the activity chart marks flagged days with a character

        await pilot.press("2")
        await polled(pilot, 1)
        check(app)
        text = "\n".join(screen_lines(app))
        assert re.search(r"○ ‼ CRITICAL +leaked_key_notificati", text), text
        assert re.search(r"○ ! HIGH +role_changes", text)
        assert re.search(r"○ ◆ MEDIUM +monitor_deletion", text)
        assert re.search(r"● \d+ open · ○ \d+ closed", text)  # what ● and ○ mean, in words

        await pilot.press("3")
        await settle_watch(pilot)
        check(app)
        text = "\n".join(screen_lines(app))
        assert re.search(r"flags ! \d+ HIGH ◆ \d+ MEDIUM ○ \d+ LOW", text)
        assert re.search(r"! HIGH +destructive", text) and re.search(r"◆ MEDIUM +burst", text)


async def test_no_color_leaves_only_greys_and_every_flag_keeps_its_word_and_glyph(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app()

    def check(app: DdauditApp) -> None:
        assert app.no_color
        colours = colours_used(app)
        assert colours, "nothing styled at all: the check below would prove nothing"
        assert all(r == g == b for r, g, b in colours), sorted(c for c in colours if len(set(c)) > 1)[:5]

    await walk_flag_panes(app, check)


async def test_a_16_colour_terminal_gets_16_colour_codes_and_the_words(monkeypatch):
    # Textual reads TEXTUAL_COLOR_SYSTEM once, at import, into this constant; the App reads the constant.
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")
    app = demo_app()

    def check(app: DdauditApp) -> None:
        assert app.console.color_system == "standard"
        output = terminal_output(app)
        codes = {code for params in SGR.findall(output) for code in params.split(";") if code}
        assert codes, "no SGR codes at all"
        # 16 colours: 30–37/90–97 (fg), 40–47/100–107 (bg); no 38;5 / 48;5 (256) or 38;2 / 48;2 (truecolor).
        assert "38" not in codes and "48" not in codes, sorted(codes)
        text = visible_text(output)
        for label in ("! HIGH", "◆ MEDIUM"):
            assert label in text, label

    await walk_flag_panes(app, check)
