"""WCAG contrast of text as Textual actually composes it on screen.

The compositor's strips are what the driver sends to the terminal: every widget line has already been
through the app's line filters (ANSI colours → truecolor, `dim` blended into the colour, and with
NO_COLOR the Monochrome filter that turns every colour into its grey). So the colours read here are the
ones a user sees, including the cursor row's background and whatever a label's own style adds.

    label_contrasts(app, "‼ CRITICAL") -> [contrast of each occurrence on screen]
    label_looks(app, "‼ CRITICAL")     -> [Look(contrast, bold, filled, …) of each occurrence]

A label's contrast is the worst of its visible (non-blank) cells: foreground against the background
actually behind that cell, after `reverse` swaps them. Modal screens are rendered with the screens under
them, as the app renders them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.constants import DIM_FACTOR

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Cell:
    char: str
    fg: RGB  # as seen: after reverse
    bg: RGB
    bold: bool
    reverse: bool
    dim: bool


@dataclass(frozen=True)
class Look:
    """One occurrence of a label on screen."""

    text: str
    row: int
    column: int  # index in the row's characters
    contrast: float  # the worst cell's WCAG ratio
    bold: bool  # every visible cell is bold
    filled: bool  # the label has its own background (a badge, reverse video), unlike its row
    dim: bool  # some visible cell is dim (after the filters, dim is usually already a blended colour)
    fg: RGB
    bg: RGB


def luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _defaults(app: App[object]) -> tuple[RGB, RGB]:
    """What the terminal shows for a segment without a colour: the theme's foreground/background
    (greyed when the app renders monochrome)."""
    variables = app.theme_variables
    fg = Color.parse(variables.get("foreground", "#e0e0e0"))
    bg = Color.parse(variables.get("background", "#121212"))
    if app.no_color:
        fg, bg = fg.monochrome, bg.monochrome
    return fg.rgb, bg.rgb


def _rgb(colour: RichColor | None, default: RGB) -> RGB:
    if colour is None or colour.is_default:
        return default
    r, g, b = colour.get_truecolor()
    return (r, g, b)


def screen_cells(app: App[object]) -> list[list[Cell]]:
    """Every cell of the screen (the top screen over the screens it leaves visible)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = update.strips  # type: ignore[union-attr]  # per screen row: the strips of its chops
    default_fg, default_bg = _defaults(app)
    rows: list[list[Cell]] = []
    for line in lines:
        row: list[Cell] = []
        segments: list[Segment] = [segment for strip in line for segment in strip]
        for segment in segments:
            if segment.control:
                continue
            style = segment.style or Style()
            fg = _rgb(style.color, default_fg)
            bg = _rgb(style.bgcolor, default_bg)
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:  # a filter did not bake it in: the terminal blends it (Textual's factor)
                fg = Color(*bg).blend(Color(*fg), DIM_FACTOR).rgb
            for char in segment.text:
                row.append(Cell(char, fg, bg, bool(style.bold), bool(style.reverse), bool(style.dim)))
        rows.append(row)
    return rows


def screen_rows(app: App[object]) -> list[str]:
    return ["".join(c.char for c in row) for row in screen_cells(app)]


def label_looks(app: App[object], text: str) -> list[Look]:
    """Each occurrence of `text` on screen with its worst contrast and its weight."""
    looks: list[Look] = []
    for y, row in enumerate(screen_cells(app)):
        line = "".join(c.char for c in row)
        start = line.find(text)
        while start != -1:
            cells = row[start : start + len(text)]
            visible = [c for c in cells if not c.char.isspace()] or cells
            worst = min(visible, key=lambda c: contrast(c.fg, c.bg))
            # The row's own background is its most common one (a cursor row's, a panel's): a label with
            # its own background (a badge, reverse video) differs from it.
            backgrounds = Counter(c.bg for c in row)
            row_bg = backgrounds.most_common(1)[0][0]
            filled = all(c.bg != row_bg for c in visible)
            looks.append(
                Look(
                    text=text,
                    row=y,
                    column=start,
                    contrast=round(contrast(worst.fg, worst.bg), 2),
                    bold=all(c.bold for c in visible),
                    filled=filled,
                    dim=any(c.dim for c in visible),
                    fg=worst.fg,
                    bg=worst.bg,
                )
            )
            start = line.find(text, start + 1)
    return looks


def label_contrasts(app: App[object], text: str) -> list[float]:
    """The contrast ratio of each occurrence of `text` on screen (empty when it is not shown)."""
    return [look.contrast for look in label_looks(app, text)]
