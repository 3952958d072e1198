"""The package's import structure, checked: the layers of ARCHITECTURE.md and no import circle.

- The import contracts in pyproject.toml (`[tool.importlinter]`): the layers (imports go down only), the
  TUI's own layers (app → screens → widgets), the core never imports Textual, the TUI never talks HTTP.
  `lint-imports` runs them; a broken one fails here with import-linter's report of the offending chain.
- No circle: the import graph of `ddaudit_tui` (grimp, the graph import-linter builds) has no strongly
  connected component of more than one module. Every import counts — under `TYPE_CHECKING` and inside
  functions too: a type-only circle still says two modules share one concern or lack an interface.
  A package's `__init__` counts as a module like any other: it may import (re-export) its own submodules,
  but then none of them may import the package back (`from ddaudit_tui.x import y` inside `x/`), since
  that is a real circle Python only resolves by import order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ddaudit_tui"

# Circles tolerated while a change in progress removes them, each named exactly (none today: the last,
# sources/fake_api ↔ fake_loopback, went with the move to ddaudit_tui/demo/). Any other circle fails.
BEING_REMOVED: set[frozenset[str]] = set()


def import_cycles(package: str) -> list[list[str]]:
    """The strongly connected components of more than one module in `package`'s import graph (Tarjan,
    iterative), each sorted; type-checking and function-level imports included."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # back in the caller: propagate the low link
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    members = set(component)
    lines = []
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"l.{d['line_number']}" for d in details)
            lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_the_package_has_no_import_circle() -> None:
    cycles = [c for c in import_cycles(PACKAGE) if frozenset(c) not in BEING_REMOVED]
    if cycles:
        graph = grimp.build_graph(PACKAGE, cache_dir=None)
        report = "\n\n".join(_describe(graph, c) for c in cycles)
        pytest.fail(
            f"{len(cycles)} import circle(s), TYPE_CHECKING imports included. Give the lower module a small "
            f"Protocol it owns, or move the shared type down:\n{report}"
        )


TYPE_ONLY_CIRCLE = {  # and c -> a, a chain that is not a circle
    "a.py": "from pkg.b import B\n",
    "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\nB = 1\n",
    "c.py": "from pkg.a import A\n",
}
# An __init__ re-exporting a: fine for b, which imports the package; a circle for a, which does too.
INIT_CIRCLE = {"__init__.py": "from pkg.a import A\n", "a.py": "import pkg\nA = 1\n", "b.py": "import pkg\n"}


@pytest.mark.parametrize(
    ("name", "files", "cycles"),
    [
        ("typeonly", TYPE_ONLY_CIRCLE, [["typeonly.a", "typeonly.b"]]),
        ("initpkg", INIT_CIRCLE, [["initpkg", "initpkg.a"]]),
    ],
)
def test_the_circle_finder(
    name: str, files: dict[str, str], cycles: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `import_cycles` counts as a circle, on a throwaway package (`pkg` renamed to `name`)."""
    (tmp_path / name).mkdir()
    for rel, text in {"__init__.py": "", **files}.items():
        (tmp_path / name / rel).write_text(text.replace("pkg", name), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(name) == cycles


def test_the_import_contracts_hold() -> None:
    """`lint-imports` over pyproject.toml's contracts (the layers, no Textual in the core, no HTTP in the
    TUI); fails with the chain that breaks one."""
    binary = Path(sys.executable).with_name("lint-imports")
    assert binary.exists(), f"{binary} missing: install the test extra (`pip install -e '.[test]'`)"
    run = subprocess.run(
        [str(binary), "--no-cache"],  # reads pyproject.toml in `cwd`
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[run.stdout.find("Contracts") :] + run.stderr
    assert ", 0 broken." in run.stdout


def test_the_contracts_cover_the_layers_and_the_headless_core() -> None:
    """A contract deleted or narrowed by mistake would make the check above pass for nothing."""
    from importlinter import api

    contracts = {
        c["id"]: c for c in api.read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    }
    assert set(contracts) >= {"layers", "tui-layers", "headless-core", "tui-no-http"}
    flat = [m.strip() for layer in contracts["layers"]["layers"] for m in layer.split("|")]
    order = ["tui", "commands", "report", "alerts", "analysis", "sources", "events"]  # ARCHITECTURE.md
    positions = [flat.index(f"ddaudit_tui.{p}") for p in order]
    assert positions == sorted(positions)
    core = ["events", "sources", "demo", "analysis", "report", "alerts"]
    assert sorted(contracts["headless-core"]["source_modules"]) == sorted(f"ddaudit_tui.{p}" for p in core)
    assert "textual" in contracts["headless-core"]["forbidden_modules"]
