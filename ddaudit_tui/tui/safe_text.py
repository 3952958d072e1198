"""Attacker-controlled text, made safe for the TUI.

Audit events carry text chosen by whoever acts on the org: asset names, user agents, messages, tool
arguments (audit-events.md §8, quirks 12–13). Two rules hold for every such string on screen:

1. it is never parsed as Rich/Textual markup: it goes into a `rich.text.Text` (or `Content`) built from
   plain strings, and into `notify(..., markup=False)`;
2. terminal control sequences and text-reordering characters never reach the terminal: `clean()`.

`clean()` is the project-wide `ddaudit_tui.safetext.clean` (ESC/CSI/OSC/DCS sequences, C0, DEL, C1,
bidi overrides and isolates, zero-width characters removed; anything else not printable becomes U+FFFD,
so a reader sees that something was there).
"""

from __future__ import annotations

import json
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from ddaudit_tui.safetext import clean as _base_clean

REPLACEMENT = "\ufffd"


def clean(text: object, single_line: bool = True, max_len: int | None = None) -> str:
    """`text` as it may be shown in a terminal cell (see `ddaudit_tui.safetext.clean`)."""
    return _base_clean(text, single_line=single_line, max_len=max_len)


def safe(text: object, style: str = "", *, single_line: bool = True, max_len: int | None = None) -> Text:
    """A `Text` holding cleaned `text` verbatim: brackets stay brackets, nothing is interpreted."""
    return Text(clean(text, single_line=single_line, max_len=max_len), style=style, end="")


def fit(text: str, width: int, justify: str = "left") -> str:
    """`text` cropped (with `…`) or padded to exactly `width` terminal cells (wide characters counted)."""
    if width <= 0:
        return ""
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, width - 1) + "…"
    if justify == "right":
        return " " * (width - n) + text
    return text + " " * (width - n)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def display_json(obj: Any, indent: int = 2) -> str:
    """Pretty JSON for the detail view: still valid JSON, but every character a terminal could act on
    (controls, bidi overrides, separators) is written as a `\\uXXXX` escape, so the reader *sees* it."""
    # `ensure_ascii=False` keeps non-ASCII text readable; json escapes C0 itself, but leaves DEL, C1,
    # bidi and other format characters raw: those are escaped here.
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    if text.replace("\n", "").isprintable():
        return text
    return "".join(ch if ch == "\n" or ch.isprintable() else _escape(ch) for ch in text)
