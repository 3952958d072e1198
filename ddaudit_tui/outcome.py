"""The one map from an outcome to its glyph, word and colour: header status, key card, toasts, reports.

An outcome is what a line tells the user: a fetch succeeded or failed, a verdict, a leaked or revoked
key, a flag's severity. Every view spells it the same way — glyph, then word — so it reads the same
without colour, and only success ever gets `✓` and the success colour.

`rich_style()` turns an outcome into a Rich style for the terminal from the theme's colours. The
outcomes that must stand out (CRITICAL, HIGH, MEDIUM, a verdict, LEAKED, REVOKED, a failure) always
carry their own background, so their contrast does not depend on what is behind them — a cursor row,
the highlighted row of an unfocused list, a light theme — and is at least 4.5:1 (WCAG AA) by
construction. With NO_COLOR the salience comes from reverse video and bold, never from a grey:

    alarm   CRITICAL, a compromised verdict, LEAKED, REVOKED, a failure: reverse / a solid badge, bold
    strong  HIGH, a partial result, a warning: bold, tinted chip
    notice  MEDIUM: tinted chip
    plain   success, progress: coloured text (body text with NO_COLOR)
    minor   LOW: coloured text (a lighter grey than body text with NO_COLOR, still ≥ 4.5:1)
    quiet   INFO: dim

No Textual import: reports and the CLI use the glyphs and words; the TUI passes its theme's variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Salience = Literal["alarm", "strong", "notice", "plain", "minor", "quiet"]
# Theme variable names (Textual's `$error`, `$warning`, …): the only colours an outcome may use.
Colour = Literal["error", "warning", "success", "accent", "primary", "foreground"]

MIN_CONTRAST = 4.5  # WCAG AA for normal text


@dataclass(frozen=True)
class Look:
    glyph: str
    word: str  # upper case when it is a status word shown on its own (LEAKED, CRITICAL)
    colour: Colour
    salience: Salience

    @property
    def label(self) -> str:
        """`✖ LEAKED`, `‼ CRITICAL`: glyph and word, readable with colour, glyph or word alone."""
        return f"{self.glyph} {self.word}" if self.glyph else self.word

    @property
    def css_colour(self) -> str:
        return f"${self.colour}"


OUTCOMES: dict[str, Look] = {
    # What a fetch or an action did.
    "idle": Look("", "", "foreground", "plain"),
    "fetching": Look("⟳", "fetching", "accent", "plain"),
    "waiting": Look("⏳", "waiting", "warning", "strong"),
    "success": Look("✓", "done", "success", "plain"),
    "information": Look("ℹ", "note", "primary", "plain"),
    "warning": Look("!", "warning", "warning", "strong"),
    "partial": Look("⚠", "partial", "warning", "strong"),
    "error": Look("✖", "failed", "error", "alarm"),
    # What the investigation found.
    "compromised": Look("✖", "LIKELY COMPROMISED", "error", "alarm"),
    "suspicious": Look("▲", "SUSPICIOUS", "warning", "alarm"),
    "no evidence": Look("✓", "NO EVIDENCE", "success", "plain"),
    "leaked": Look("✖", "LEAKED", "error", "alarm"),
    "revoked": Look("✖", "REVOKED", "error", "alarm"),
    # Severities, most severe first.
    "critical": Look("‼", "CRITICAL", "error", "alarm"),
    "high": Look("!", "HIGH", "error", "strong"),
    "medium": Look("◆", "MEDIUM", "warning", "notice"),
    "low": Look("○", "LOW", "primary", "minor"),
    "info": Look("·", "INFO", "foreground", "quiet"),
}

# Other names for the same outcomes (the header's historical status kinds, the analysis' verdicts).
ALIASES: dict[str, str] = {
    "complete": "success",
    "failed": "error",
    "likely compromised": "compromised",
    "none": "no evidence",
    "alert": "compromised",
}

SEVERITY_NAMES = ("info", "low", "medium", "high", "critical")  # Severity's order (IntEnum values)


def look(outcome: str) -> Look:
    """The look of `outcome` (a key of OUTCOMES, an alias, or a verdict string). Unknown: plain text."""
    key = outcome.strip().lower()
    key = ALIASES.get(key, key)
    found = OUTCOMES.get(key)
    if found is not None:
        return found
    return Look("?", outcome.strip().upper(), "foreground", "plain")


def verdict_label(verdict: str) -> str:
    """`✖ LIKELY COMPROMISED`, `▲ SUSPICIOUS`, `✓ NO EVIDENCE`: what reports and the card print."""
    return look(verdict).label


def is_success(outcome: str) -> bool:
    return look(outcome).colour == "success"


# -- colour ------------------------------------------------------------------------------------------

RGB = tuple[int, int, int]

# textual-dark's values: used when no theme is given (static styles, tests of this module).
DEFAULT_THEME: dict[str, str] = {
    "foreground": "#E0E0E0",
    "background": "#121212",
    "surface": "#1E1E1E",
    "panel": "#242F38",
    "error": "#B93C5B",
    "warning": "#FEA62B",
    "success": "#4EBF71",
    "accent": "#FEA62B",
    "primary": "#0178D4",
}

BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)


def parse_hex(value: str | None) -> tuple[RGB, float] | None:
    """`#rgb`, `#rrggbb` or `#rrggbbaa` → (rgb, alpha); anything else (names, `auto 60%`) → None."""
    if not value:
        return None
    text = value.strip().lstrip("#")
    if not value.strip().startswith("#") or len(text) not in (3, 6, 8):
        return None
    try:
        if len(text) == 3:
            r, g, b = (int(c * 2, 16) for c in text)
            return (r, g, b), 1.0
        r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
        alpha = int(text[6:8], 16) / 255 if len(text) == 8 else 1.0
    except ValueError:
        return None
    return (r, g, b), alpha


def hex_rgb(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def blend(a: RGB, b: RGB, amount: float) -> RGB:
    """`a` moved `amount` (0–1) of the way to `b`."""
    return (
        round(a[0] + (b[0] - a[0]) * amount),
        round(a[1] + (b[1] - a[1]) * amount),
        round(a[2] + (b[2] - a[2]) * amount),
    )


def luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio (1–21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def monochrome(rgb: RGB) -> RGB:
    """The grey Textual's NO_COLOR filter turns `rgb` into (textual.color.Color.monochrome)."""
    grey = round(rgb[0] * 0.2126 + rgb[1] * 0.7152 + rgb[2] * 0.0722)
    return (grey, grey, grey)


def text_on(bg: RGB) -> RGB:
    """Black or white, whichever reads better on `bg` (always ≥ 4.58:1, the geometric mean of 21)."""
    return WHITE if contrast(WHITE, bg) >= contrast(BLACK, bg) else BLACK


def readable(fg: RGB, bg: RGB, minimum: float = MIN_CONTRAST) -> RGB:
    """`fg`, moved towards black or white just enough to reach `minimum` contrast on `bg`."""
    if contrast(fg, bg) >= minimum:
        return fg
    target = text_on(bg)
    for step in range(1, 21):
        moved = blend(fg, target, step / 20)
        if contrast(moved, bg) >= minimum:
            return moved
    return target


def _theme_rgb(variables: Mapping[str, str], name: str, over: RGB | None = None) -> RGB:
    parsed = parse_hex(variables.get(name)) or parse_hex(DEFAULT_THEME.get(name)) or ((128, 128, 128), 1.0)
    rgb, alpha = parsed
    if alpha < 1.0 and over is not None:
        return blend(over, rgb, alpha)
    return rgb


def rich_style(
    outcome: str,
    variables: Mapping[str, str] | None = None,
    *,
    no_color: bool = False,
    background: str | None = None,
) -> str:
    """A Rich style string for `outcome` in the theme `variables` (Textual's `App.theme_variables`),
    drawn on `background` (the widget's background, a theme variable name or `#hex`; default
    `surface`). With `no_color` it is built from greys (what NO_COLOR shows) and reverse video."""
    theme = variables if variables is not None else DEFAULT_THEME
    keys = (
        "foreground",
        "background",
        "surface",
        "panel",
        "error",
        "warning",
        "success",
        "accent",
        "primary",
    )
    frozen = tuple((k, str(theme.get(k, ""))) for k in keys)
    return _rich_style(look(outcome), frozen, no_color, background or "surface")


@lru_cache(maxsize=512)
def _rich_style(look: Look, frozen: tuple[tuple[str, str], ...], no_color: bool, background: str) -> str:
    theme = dict(frozen)
    screen_bg = _theme_rgb(theme, "background")
    parsed = parse_hex(background)
    base = parsed[0] if parsed else _theme_rgb(theme, background, over=screen_bg)
    fg_text = _theme_rgb(theme, "foreground", over=base)
    colour = _theme_rgb(theme, look.colour, over=base)
    if no_color:
        base, fg_text, colour = monochrome(base), monochrome(fg_text), monochrome(colour)
    s = look.salience
    if s == "quiet":
        return "dim"
    if no_color:
        # Greys only: weight and reverse video carry the salience, every grey stays as bright as body text.
        text = readable(fg_text, base)
        if s == "alarm":
            return f"bold {hex_rgb(base)} on {hex_rgb(text)}"  # reverse video of the body text
        if s == "strong":
            return f"bold {hex_rgb(text)} on {hex_rgb(base)}"
        if s == "notice":
            return f"{hex_rgb(text)} on {hex_rgb(base)}"
        if s == "minor":
            return hex_rgb(readable(blend(text, base, 0.2), base))
        return ""  # plain: body text; the glyph and word say it
    if s == "alarm":
        return f"bold {hex_rgb(text_on(colour))} on {hex_rgb(colour)}"
    if s in ("strong", "notice"):
        chip = blend(base, colour, 0.22 if s == "strong" else 0.14)
        # HIGH reads at 7:1 (WCAG AAA), MEDIUM at 4.5:1: HIGH is never the dimmer one, in colour or in
        # the greys of a NO_COLOR terminal that gets these colours without a theme (STATIC_STYLES).
        fg = readable(colour, chip, 7.0 if s == "strong" else MIN_CONTRAST)
        return f"{'bold ' if s == 'strong' else ''}{hex_rgb(fg)} on {hex_rgb(chip)}"
    if look.colour == "foreground":
        return ""
    return hex_rgb(readable(colour, base))  # coloured text: LOW, success, progress


def severity_look(name: str) -> Look:
    """The look of a severity by name (`critical` … `info`)."""
    return OUTCOMES[name.lower()]


# Static styles for code that has no theme at hand (textual-dark's colours; still ≥ 4.5:1 wherever they
# are drawn, since every salient style carries its own background).
STATIC_STYLES: dict[str, str] = {name: rich_style(name) for name in OUTCOMES}
