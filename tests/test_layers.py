"""The layers of ARCHITECTURE.md, checked: the core never imports Textual, and the TUI never talks HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ddaudit_tui"
CORE = ("events", "sources", "analysis", "report", "alerts")


def _imports(path: Path) -> set[str]:
    """Every module name `path` imports (top-level or nested, typing-only included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (PACKAGE / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(*CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_never_imports_textual(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if n.split(".")[0] in ("textual", "textual_plotext"))
    bad += sorted(n for n in _imports(path) if n.startswith("ddaudit_tui.tui"))
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}: the core layers never import the TUI"


@pytest.mark.parametrize("path", _modules("tui"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_tui_never_talks_http(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if n.split(".")[0] in ("httpx", "httpcore", "urllib", "http"))
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}: the TUI calls a Source, never HTTP"
