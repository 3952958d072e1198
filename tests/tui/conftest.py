"""Fixtures for TUI tests: a synthetic FileSource, a frozen clock, UTC, no cursor blink."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

sys.path.insert(
    0, str(Path(__file__).parent)
)  # the `tui_synthetic` and `tui_helpers` modules next to this file

from tui_synthetic import WINDOW, make_items, make_source  # noqa: E402

from ddaudit_tui.sources import completeness
from ddaudit_tui.timeutil import parse_instant  # noqa: E402
from ddaudit_tui.tui.app import DdauditApp  # noqa: E402

FROZEN_NOW = parse_instant("2026-07-04T12:00:00Z") / 1000


def frozen_clock() -> float:
    return FROZEN_NOW


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """UTC, no colour overrides, no theme from the environment, no blinking cursor; cases (issue 15)
    in the test's own folder, never the user's."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_ANIMATIONS"):
        monkeypatch.delenv(var, raising=False)
    time.tzset()
    # A blinking cursor makes screenshots depend on timing.
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    # Elapsed times in the headers (issue 16) must not depend on the machine's speed.
    monkeypatch.setattr(completeness, "CLOCK", lambda: 0.0)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def items() -> list[dict[str, Any]]:
    return make_items(200)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., DdauditApp]:
    def factory(items: list[dict[str, Any]] | None = None, **kwargs: Any) -> DdauditApp:
        source = kwargs.pop("source", None) or make_source(items)
        kwargs.setdefault("clock", frozen_clock)
        kwargs.setdefault("export_dir", tmp_path)
        return DdauditApp(source, kwargs.pop("window", WINDOW), **kwargs)

    return factory


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config, rules, state or routing key from the machine running the tests (for the panes that
    read them: Spike watch, the case, anything that opens settings). Use with
    `pytestmark = pytest.mark.usefixtures("isolated_env")`."""
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    for name in ("DDAUDIT_RULES", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY"):
        monkeypatch.delenv(name, raising=False)
