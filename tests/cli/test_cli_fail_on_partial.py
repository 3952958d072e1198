"""`--fail-on partial` (issue 16, item 1): `key`, `search`, `ai` and `report compliance` exit 7 when the fake
Datadog API (on a real loopback socket) answers `meta.status: timeout`, and 0 on the same data answered in
full. The report is written either way, and says PARTIAL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "report"))

from test_completeness_reports import KEY, WINDOW, item  # noqa: E402

from ddaudit_tui.cli import main  # noqa: E402
from ddaudit_tui.cliutil import EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan  # noqa: E402
from ddaudit_tui.demo.loopback import loopback  # noqa: E402


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)


COMMANDS = {
    "key": ["key", KEY, "--format", "json"],
    "search": ["search", "*", "--format", "ndjson"],
    "ai": ["ai", "--format", "json"],
    "compliance": ["report", "compliance", "--framework", "soc2", "--format", "json"],
}


def run(capsys: pytest.CaptureFixture[str], argv: list[str], partial: bool) -> tuple[int, str, str]:
    faults = FaultPlan(rates={"partial": 1.0}) if partial else None
    fake = FakeDatadog([item(n) for n in range(30)], faults=faults)
    with loopback(fake) as base_url:
        window = ["--from", str(WINDOW.start), "--to", str(WINDOW.end)]
        code = main([*argv, "--api-url", base_url, *window])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_fail_on_partial_exits_7_on_a_partial_answer_and_0_on_a_complete_one(capsys, command: str) -> None:
    argv = [*COMMANDS[command], "--fail-on", "partial"]
    code, out, err = run(capsys, argv, partial=True)
    assert code == EXIT_PARTIAL == 7
    assert "the answer is partial (--fail-on partial, exit 7): " in err
    assert "server timeout (meta.status: timeout)" in err
    if command != "search":
        assert json.loads(out)["completeness"]["partial"] is True  # the report is written all the same
    else:
        assert out.count("\n") > 0  # the events kept are written all the same
        assert "ddaudit: completeness: PARTIAL: engine search" in err
    code, out, err = run(capsys, argv, partial=False)
    assert code == EXIT_OK
    assert "partial" not in err.lower()


def test_without_the_flag_a_partial_answer_still_exits_0(capsys) -> None:
    code, out, _ = run(capsys, COMMANDS["key"], partial=True)
    assert code == EXIT_OK and json.loads(out)["completeness"]["partial"] is True


def test_fail_on_takes_several_conditions_and_a_finding_outranks_partial(capsys) -> None:
    # The synthetic key's lone datacenter-free origin is not suspicious: partial decides the exit code.
    code, _, _ = run(capsys, [*COMMANDS["key"], "--fail-on", "compromised,partial"], partial=True)
    assert code == EXIT_PARTIAL
    from ddaudit_tui.commands.key import exit_code

    assert exit_code("likely compromised", "compromised,partial") == EXIT_FINDINGS
    assert exit_code("suspicious", "partial") == EXIT_OK


def test_fail_on_rejects_an_unknown_condition(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "*", "--demo", "--fail-on", "partial,nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
