"""`ddaudit --case NAME` (issue 15): the TUI works in that case; a bad name is a usage error."""

from __future__ import annotations

from typing import Any

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DDAUDIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))


def test_a_bad_case_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    assert main(["--demo", "--case", "../etc"]) == EXIT_USAGE
    assert "invalid case name" in capsys.readouterr().err


def test_the_tui_works_in_the_named_case_and_an_unnamed_one_writes_nothing(monkeypatch, tmp_path):
    from ddaudit_tui.tui.app import DdauditApp

    seen: dict[str, Any] = {}

    def fake_run(self: DdauditApp, *a: Any, **kw: Any) -> None:
        seen["case"] = self.case

    monkeypatch.setattr(DdauditApp, "run", fake_run)
    assert main(["--demo"]) == EXIT_OK
    assert not seen["case"].on_disk and not (tmp_path / "cases").exists()
    assert main(["--demo", "--case", "inc-4711"]) == EXIT_OK
    case = seen["case"]
    assert case.name == "inc-4711" and case.named
    assert (tmp_path / "cases" / "inc-4711" / "case.json").exists()
    assert case.source.kind == "demo"
