"""The case package is core: no Textual (the TUI calls it, never the reverse)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parents[2] / "ddaudit_tui" / "case"


@pytest.mark.parametrize("path", sorted(CASE.glob("*.py")), ids=lambda p: p.name)
def test_case_never_imports_textual(path: Path) -> None:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    bad = sorted(
        n for n in names if n.split(".")[0] in ("textual", "rich") or n.startswith("ddaudit_tui.tui")
    )
    assert not bad
