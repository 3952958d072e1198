"""The demo's room: only the CLI's source selection imports `ddaudit_tui.demo`, and the demo's own
modules import each other without a circle (typing-only imports count)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent.parent / "ddaudit_tui"
DEMO = PACKAGE / "demo"
# The one way in from the rest of the package: `--demo` and `ddaudit demo-data` are chosen there.
ALLOWED = {PACKAGE / "source_select.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, nested and typing-only included, relative imports resolved;
    `from pkg import name` counts as `pkg.name` too (it may be a submodule); `importlib.import_module`
    with a literal name counts."""
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _is_demo(name: str) -> bool:
    return name == "ddaudit_tui.demo" or name.startswith("ddaudit_tui.demo.")


def _outside() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if DEMO not in p.parents and p not in ALLOWED)


def test_the_demo_package_is_where_the_scan_looks() -> None:
    # A moved or renamed package would make every check below pass vacuously.
    assert (DEMO / "source.py").is_file() and (DEMO / "fake_datadog.py").is_file()
    assert all(p.is_file() for p in ALLOWED)
    assert any(_is_demo(n) for p in ALLOWED for n in _imports(p))


@pytest.mark.parametrize("path", _outside(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_source_selection_imports_the_demo(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if _is_demo(n))
    assert not bad, (
        f"{path.relative_to(PACKAGE)} imports {bad}: the demo is reached only through "
        "ddaudit_tui.source_select (open_source / write_demo_data)"
    )


@pytest.mark.parametrize("path", sorted(DEMO.rglob("*.py")), ids=lambda p: p.name)
def test_the_demo_never_imports_textual_or_the_tui(path: Path) -> None:
    bad = sorted(
        n
        for n in _imports(path)
        if n.split(".")[0] in ("textual", "textual_plotext") or n.startswith("ddaudit_tui.tui")
    )
    assert not bad, f"demo/{path.name} imports {bad}: the demo is data and fakes, never the TUI"


def test_the_demo_modules_import_each_other_without_a_circle() -> None:
    modules = {_module_name(p): p for p in DEMO.rglob("*.py")}
    graph = {m: sorted(n for n in _imports(p) if n in modules and n != m) for m, p in modules.items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import circle: " + " -> ".join(cycle))
        if module in done:
            return
        for name in graph[module]:
            visit(name, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
