"""Severity and outcome words are the most readable things on screen, and say what they mean.

Key lookup of the demo org's compromised key (the demo source has the API-key metadata: LEAKED, and
revoke works), checked on the composed screen: glyph and colour of the header status, WCAG contrast of
the severity badges, the verdict, LEAKED and REVOKED (cursor row, unfocused highlighted row) in
textual-dark, textual-light and NO_COLOR; the key card's facts at 80×24; toasts vs dialogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from contrast import label_looks, screen_rows
from test_key_pane import COMPROMISED, DEMO_END, DEMO_EVENTS, key_app, look_up, pane
from textual.css.query import NoMatches
from textual.widgets._toast import Toast, ToastRack
from tui_helpers import screen_text, settle

from ddaudit_tui.demo.org import PLANTED
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.outcome import parse_hex
from ddaudit_tui.tui.screens.export_dialog import ExportDialog
from ddaudit_tui.tui.screens.key_revoke import KeyRevokeScreen
from ddaudit_tui.tui.widgets.header import PaneHeader
from ddaudit_tui.tui.widgets.key_summary import KeySummary
from ddaudit_tui.tui.widgets.key_tables import FlagList

MODES = ["textual-dark", "textual-light", "NO_COLOR"]


def demo_app(tmp_path: Path | None = None):
    return key_app(tmp_path, source=open_demo(events=DEMO_EVENTS, end_ms=DEMO_END))


def header_line(app) -> str:
    return screen_rows(app)[1]  # under the pane bar


def theme_rgb(app, name: str) -> tuple[int, int, int]:
    parsed = parse_hex(app.theme_variables[name])
    assert parsed is not None
    return parsed[0]


async def revoke(pilot) -> None:
    await pilot.press("R")
    await settle(pilot)
    assert isinstance(pilot.app.screen, KeyRevokeScreen)
    await pilot.press(*COMPROMISED[-4:], "enter")
    await settle(pilot)


# -- the header says bad news in the error colour, never with a success tick ------------------------------


async def test_header_marks_a_compromised_verdict_and_a_revoke_as_errors():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        line = header_line(app)
        assert "✖ verdict: likely compromised" in line, line
        assert "✓" not in line
        look = label_looks(app, "✖ verdict: likely compromised")[0]
        assert look.bg == theme_rgb(app, "error") and look.bold  # the error colour's attention
        assert look.contrast >= 4.5

        await revoke(pilot)
        line = header_line(app)
        assert "✖ key revoked" in line, line
        assert "✓" not in line
        look = label_looks(app, "✖ key revoked")[0]
        assert look.bg == theme_rgb(app, "error") and look.bold


async def test_header_keeps_the_tick_for_success():
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, PLANTED.clean_key)
        line = header_line(app)
        assert "✓ verdict: no evidence" in line, line


# -- contrast of the most severe labels, wherever they are drawn --------------------------------------------


def set_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    if mode == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")


async def apply_theme(pilot, mode: str) -> None:
    if mode == "textual-light":
        pilot.app.theme = "textual-light"
    await settle(pilot)


def assert_readable(app, label: str, at_least: int = 1) -> None:
    looks = label_looks(app, label)
    assert len(looks) >= at_least, f"{label!r} not on screen:\n" + screen_text(app)
    for look in looks:
        assert look.contrast >= 4.5, (label, look)


@pytest.mark.parametrize("mode", MODES)
async def test_critical_on_the_selected_flag_row_focused_and_unfocused(monkeypatch, mode):
    set_mode(monkeypatch, mode)
    app = demo_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await look_up(pilot, COMPROMISED)
        await apply_theme(pilot, mode)
        flags = pane(app).query_one(FlagList)
        assert flags.has_focus and flags.highlighted == 0  # the CRITICAL flag is the cursor row
        assert_readable(app, "‼ CRITICAL")
        assert_readable(app, "! HIGH", at_least=2)
        assert all(look.bold for look in label_looks(app, "‼ CRITICAL") + label_looks(app, "! HIGH"))

        app.screen.set_focus(None)  # the list keeps its highlighted row, unfocused
        await settle(pilot)
        assert not flags.has_focus and flags.highlighted == 0
        assert_readable(app, "‼ CRITICAL")

        flags.focus()
        flags.highlighted = 1  # a HIGH flag under the cursor
        await settle(pilot)
        assert_readable(app, "! HIGH", at_least=2)


@pytest.mark.parametrize("mode", MODES)
async def test_verdict_leaked_and_revoked_are_readable(monkeypatch, mode):
    set_mode(monkeypatch, mode)
    app = demo_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await look_up(pilot, COMPROMISED)
        await apply_theme(pilot, mode)
        assert_readable(app, "✖ LIKELY COMPROMISED")
        assert_readable(app, "LEAKED (github)")
        for look in label_looks(app, "✖ LIKELY COMPROMISED") + label_looks(app, "LEAKED (github)"):
            assert look.bold and look.filled, look  # a badge: bold, on its own background
        await revoke(pilot)
        assert_readable(app, "✖ REVOKED")


async def test_no_color_critical_and_high_are_never_dimmer_than_medium_or_body_text(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app()
    async with app.run_test(size=(160, 90)) as pilot:
        await look_up(pilot, COMPROMISED)
        app.screen.set_focus(None)
        pane(app).query_one(FlagList).highlighted = None
        await settle(pilot)
        looks = {label: label_looks(app, label) for label in ("‼ CRITICAL", "! HIGH", "◆ MEDIUM", "○ LOW")}
        for label, found in looks.items():
            assert found, f"{label} not on screen"
        critical, high = looks["‼ CRITICAL"][0], looks["! HIGH"][0]
        medium, low = looks["◆ MEDIUM"][0], looks["○ LOW"][0]
        body = label_looks(app, "first use from Romania")[0]
        assert critical.bold and high.bold and not critical.dim and not high.dim
        assert critical.filled  # reverse video
        assert (
            min(critical.contrast, high.contrast) >= max(medium.contrast, low.contrast, body.contrast) - 0.01
        )


# -- the key card keeps its facts at 80×24 -------------------------------------------------------------------


async def test_card_at_80x24_shows_verdict_leaked_creator_why_and_revoked_whole():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        report = await look_up(pilot, COMPROMISED)
        text = screen_text(app)
        card = pane(app).query_one(KeySummary).plain
        assert "✖ LIKELY COMPROMISED" in text
        assert "LEAKED (github)" in text
        assert f"by {PLANTED.compromised_key_creator}" in text
        assert "why:" in text
        # The why-line wraps: every word of the first reason is on the card, none cut with "…".
        why = " ".join(card.split("why:", 1)[1].split())
        assert " ".join(report.verdict_reasons[0].split()) in why, why
        await revoke(pilot)
        assert "✖ REVOKED" in screen_text(app)


# -- toasts ----------------------------------------------------------------------------------------------


def visible_toasts(app) -> list[Toast]:
    """The toasts the compositor draws, on the top screen or on a screen visible under a dialog."""
    found: list[Toast] = []
    for screen in (app.screen, *app._background_screens):
        try:
            rack = screen.get_child_by_type(ToastRack)
        except NoMatches:
            continue
        drawn = screen._compositor.visible_widgets
        found += [t for t in rack.query(Toast) if t in drawn]
    return found


async def test_toasts_are_short_unless_they_carry_a_path_which_stays_in_the_pane(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(200, 35), notifications=True) as pilot:
        await look_up(pilot, COMPROMISED)
        app.notify("Nothing to see", timeout=20)
        app.notify("No timeout given")
        await settle(pilot)
        assert all(n.timeout <= 6 for n in app._notifications), [n.timeout for n in app._notifications]

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await settle(pilot)
        files = sorted(tmp_path.iterdir())
        assert files
        exported = [n for n in app._notifications if str(files[0]) in n.message]
        assert exported and exported[0].timeout > 6  # a path must be read: it may stay longer…
        header = pane(app).query_one(PaneHeader)
        assert str(files[0].parent) in header.plain  # …and it stays in the pane's status line
        assert files[0].stem in header.plain


async def test_no_toast_is_drawn_over_a_dialog(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await look_up(pilot, COMPROMISED)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.notify("A second toast")
        await settle(pilot)
        assert visible_toasts(app)  # shown while no dialog is open
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, KeyRevokeScreen)
        assert visible_toasts(app) == []
        text = screen_text(app)
        assert "enter revokes (only if it matches) · esc cancels" in text
        app.notify("Arrives while the dialog is open")
        await settle(pilot)
        assert visible_toasts(app) == []
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, KeyRevokeScreen)
