"""`safe_text`: attacker-controlled strings made safe for the terminal (no markup, no control codes)."""

from __future__ import annotations

import ast
import json
import pathlib

import pytest
from rich.cells import cell_len
from rich.text import Text

from ddaudit_tui.tui import safe_text
from ddaudit_tui.tui.safe_text import clean, display_json, fit, safe


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[bold]x[/bold]", "[bold]x[/bold]"),
        ("[@click=app.quit]", "[@click=app.quit]"),
        ("[/", "[/"),
        ("\x1b]52;c;AAAA\x07after", "after"),  # OSC 52 clipboard write: removed with its payload
        ("\x1b[2Jafter", "after"),  # clear screen
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink
        ("evil\u202etxt", "eviltxt"),  # right-to-left override
        ("a\u2066b\u2069c", "abc"),  # isolates
        ("a\x00b\x7fc\x85d", "abcd"),  # C0, DEL, C1
        ("a\x9fAPC payload\x9cb", "ab"),  # 8-bit APC string: removed with its payload
        ("tab\tnew\nline\r", "tab new line"),
        ("a\u2028b", "a\ufffdb"),  # line separator: still not printable
        ("a\ud800b", "a\ufffdb"),  # lone surrogate would crash the UTF-8 encoder
        ("plain text, émoji 🙂, 日本", "plain text, émoji 🙂, 日本"),
        (None, ""),
        (404, "404"),
    ],
)
def test_clean_single_line(raw, expected):
    assert clean(raw) == expected


def test_clean_multi_line_keeps_newlines_only():
    assert clean("a\nb\tc\x1b[31md\r", single_line=False) == "a\nb cd"


def test_clean_max_len():
    assert clean("abcdef", max_len=4) == "abc…"
    assert clean("abcd", max_len=4) == "abcd"


def test_no_output_char_is_a_control_character():
    nasty = "".join(chr(c) for c in range(0, 0x300)) + "\u200b\u200e\u202a\u202e\u2066\u2069\ufeff"
    out = clean(nasty)
    assert out.isprintable()
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)


def test_safe_builds_text_without_parsing_markup():
    text = safe("[bold red]x[/] [@click=app.quit]")
    assert isinstance(text, Text)
    assert text.plain == "[bold red]x[/] [@click=app.quit]"
    assert text.spans == []


def test_fit_counts_cells():
    assert fit("abc", 5) == "abc  " and fit("abc", 5, "right") == "  abc"
    assert fit("abcdef", 4) == "abc…"
    assert cell_len(fit("日本語テキスト", 6)) == 6
    assert fit("x", 0) == ""


def test_display_json_escapes_what_a_terminal_would_act_on():
    item = {"name": "a\x1b[2J\u202eb\x7f\x85", "ok": "émoji 🙂 [bold]"}
    text = display_json(item)
    assert json.loads(text) == item  # still the same JSON
    assert "\\u001b" in text and "\\u202e" in text and "\\u007f" in text and "\\u0085" in text
    assert "émoji 🙂 [bold]" in text
    assert text.replace("\n", "").isprintable()


def test_tui_never_imports_httpx():
    root = pathlib.Path(safe_text.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "httpx" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "httpx", path
