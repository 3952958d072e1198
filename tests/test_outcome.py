"""The one outcome map: glyphs and words that only say success for success, and styles whose contrast
holds in any theme, on any row, and without colour — with CRITICAL the most salient and INFO the least."""

from __future__ import annotations

import pytest
from rich.style import Style
from textual.theme import BUILTIN_THEMES

from ddaudit_tui.analysis.keys import VERDICT_COMPROMISED, VERDICT_NONE, VERDICT_SUSPICIOUS
from ddaudit_tui.analysis.signals import SEVERITY_STYLE, Severity
from ddaudit_tui.outcome import (
    OUTCOMES,
    contrast,
    look,
    monochrome,
    parse_hex,
    rich_style,
    verdict_label,
)

THEMES = {
    name: BUILTIN_THEMES[name].to_color_system().generate() for name in ("textual-dark", "textual-light")
}
MODES = [(name, False) for name in THEMES] + [("textual-dark", True), ("textual-light", True)]
SALIENT = ("critical", "high", "medium", "compromised", "suspicious", "leaked", "revoked", "error")


def rgb(value: str) -> tuple[int, int, int]:
    parsed = parse_hex(value)
    assert parsed is not None, value
    return parsed[0]


def seen(style_text: str, row_bg: tuple[int, int, int], row_fg: tuple[int, int, int], no_color: bool):
    """(fg, bg, bold) as drawn on a row with `row_bg`/`row_fg` (what the style leaves unset is the row's)."""
    style = Style.parse(style_text)
    fg = style.color.get_truecolor() if style.color else row_fg
    bg = style.bgcolor.get_truecolor() if style.bgcolor else row_bg
    fg, bg = tuple(fg), tuple(bg)
    dim = bool(style.dim)
    if style.reverse:
        fg, bg = bg, fg
    if style.dim:
        fg = tuple(round(b + (f - b) * 0.66) for f, b in zip(fg, bg, strict=True))
    if no_color:
        fg, bg = monochrome(fg), monochrome(bg)
    return fg, bg, bool(style.bold), dim


def test_only_success_gets_the_tick_and_the_success_colour():
    for name, lk in OUTCOMES.items():
        if lk.glyph == "✓" or lk.colour == "success":
            assert name in ("success", "no evidence"), name
    for bad in ("compromised", "leaked", "revoked", "error", "failed", "critical"):
        assert look(bad).glyph == "✖" or look(bad).glyph == "‼", bad
        assert look(bad).colour == "error", bad
    assert look("complete") == OUTCOMES["success"]  # the header's old kind is an alias
    assert look("revoked").label == "✖ REVOKED"
    assert look("leaked").label == "✖ LEAKED"


def test_verdicts_have_glyph_and_word():
    assert verdict_label(VERDICT_COMPROMISED) == "✖ LIKELY COMPROMISED"
    assert verdict_label(VERDICT_SUSPICIOUS) == "▲ SUSPICIOUS"
    assert verdict_label(VERDICT_NONE) == "✓ NO EVIDENCE"
    assert verdict_label("something new") == "? SOMETHING NEW"


def test_severity_glyphs_and_static_styles_come_from_the_map():
    for s in Severity:
        assert s.label == OUTCOMES[s.word].label
        assert SEVERITY_STYLE[s] == rich_style(s.word)


@pytest.mark.parametrize(("theme", "no_color"), MODES, ids=lambda v: str(v))
@pytest.mark.parametrize(
    "row", ["surface", "background", "panel", "block-cursor-background", "error", "warning"]
)
def test_salient_outcomes_reach_4_5_on_any_row(theme: str, no_color: bool, row: str):
    """Own background: the row behind (even a cursor row, even a row of the same colour) cannot matter."""
    variables = THEMES[theme]
    row_bg, row_fg = rgb(variables[row]), rgb(variables["foreground"])
    for name in SALIENT:
        fg, bg, _bold, _dim = seen(rich_style(name, variables, no_color=no_color), row_bg, row_fg, no_color)
        assert contrast(fg, bg) >= 4.5, (name, theme, no_color, row, fg, bg)


@pytest.mark.parametrize(("theme", "no_color"), MODES, ids=lambda v: str(v))
def test_salience_order_critical_high_medium_low_info(theme: str, no_color: bool):
    """Most salient first: a solid badge (reverse video without colour) > bold > a chip > text > dim;
    CRITICAL and HIGH are bold and never lower in contrast than MEDIUM, LOW or body text."""
    variables = THEMES[theme]
    row_bg, row_fg = rgb(variables["surface"]), rgb(variables["foreground"])
    body = contrast(*(monochrome(c) if no_color else c for c in (row_fg, row_bg)))

    def salience(name: str) -> tuple[int, int, int, float]:
        fg, bg, bold, dim = seen(rich_style(name, variables, no_color=no_color), row_bg, row_fg, no_color)
        base = monochrome(row_bg) if no_color else row_bg
        fill = contrast(bg, base)  # how much the label's own background stands out of the row
        tier = 2 if fill >= 3 else 1 if fill > 1.05 else 0
        return (tier, int(bold), int(not dim), round(contrast(fg, bg), 2))

    order = [salience(s.word) for s in sorted(Severity, reverse=True)]
    assert order == sorted(order, reverse=True) and len(set(order)) == len(order), order
    critical, high, medium, low, _info = order
    assert critical[1] and high[1], "CRITICAL and HIGH are bold"
    assert critical[0] == 2, "CRITICAL is a solid badge / reverse video"
    if no_color:
        assert min(critical[3], high[3]) >= max(medium[3], low[3])
        assert min(critical[3], high[3]) >= body - 0.01  # never dimmer than body text
