"""`ddaudit report compliance`: both frameworks end to end on `--demo`, files, exits for usage and input."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_INPUT, EXIT_OK, EXIT_USAGE
from ddaudit_tui.demo import source as demo_module
from ddaudit_tui.demo.org import PLANTED as P
from ddaudit_tui.timeutil import iso, parse_instant

BROKEN = Path(__file__).parent.parent / "fixtures" / "broken"
D = 86_400_000
END = parse_instant("2026-08-01T16:00:00Z")
PERIOD = ["--from", iso(END - 90 * D), "--to", iso(END)]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No user config or credentials from the machine; a small demo org ending at a fixed time."""
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    real = demo_module.open_demo

    def small_demo(**kwargs: Any) -> Any:
        kwargs.setdefault("events", 3000)
        kwargs.setdefault("end_ms", END)
        return real(**kwargs)

    monkeypatch.setattr(demo_module, "open_demo", small_demo)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_soc2_on_the_demo_to_a_private_file(tmp_path, capsys):
    out_file = tmp_path / "soc2.md"
    code, out, err = run(capsys, "report", "compliance", "--framework", "soc2", "--demo", *PERIOD, "-f", "md",
                         "-o", str(out_file))  # fmt: skip
    assert code == EXIT_OK and out == ""
    assert one_line(err).startswith("ddaudit: wrote the SOC 2 evidence report (")
    assert str(out_file.resolve()) in err
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    md = out_file.read_text()
    assert md.startswith("# Datadog Audit Trail — Compliance Evidence Report\nFramework: SOC 2  \n")
    assert "Organization: Example Corp" in md and "Period: 2026-05-03 16:00:00Z to 2026-08-01 16:00:00Z" in md
    for heading in ("## CC6.2 — ", "## CC6.3 — ", "## CC6.6 — ", "## CC7.2 — ", "## Gaps"):
        assert heading in md
    assert P.brute_force_ip in md and P.support_user in md and P.role_grant_user in md


def test_pci_on_the_demo_as_json(capsys):
    code, out, err = run(
        capsys, "report", "compliance", "--framework", "PCI", "--demo", *PERIOD, "-f", "json"
    )
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert data["framework"] == "pci" and data["framework_name"] == "PCI DSS"
    controls = {c["id"]: c for c in data["controls"]}
    assert list(controls) == ["10.2.2", "10.2.3", "10.2.4", "10.2.5", "10.2.6", "10.2.7"]
    assert sum(e["ip"] == P.brute_force_ip for e in controls["10.2.4"]["events"]) == P.brute_force_failures
    assert [e["user"] for e in controls["10.2.6"]["events"]] == [P.audit_settings_user]
    minted = {e["resource_id"] for e in controls["10.2.7"]["events"] if e["action"] == "created"}
    assert set(P.minted_keys) <= minted
    assert {g["control"] for g in data["gaps"]} >= {"10.7", "10.3.5"}
    assert data["complete"] is True and err == ""


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_other_formats(capsys, fmt):
    code, out, err = run(capsys, "report", "compliance", "--framework", "soc2", "--demo", *PERIOD, "-f", fmt)
    assert code == EXIT_OK, err
    assert "Datadog Audit Trail — Compliance Evidence Report" in out
    assert ("<!DOCTYPE html>" in out) == (fmt == "html")


def test_a_partial_fetch_is_warned_on_stderr_and_listed_in_gaps(capsys):
    code, out, err = run(capsys, "report", "compliance", "--framework", "pci", "--demo", *PERIOD,
                         "--max-events", "20", "-f", "json")  # fmt: skip
    assert code == EXIT_OK  # gaps are content, not failure
    data = json.loads(out)
    partial = [g for g in data["gaps"] if g["kind"] == "partial"]
    assert partial and data["complete"] is False
    assert "10.2.5" in {g["control"] for g in partial}
    warned = [line for line in err.splitlines() if line.startswith("ddaudit: warning: 10.2.5: ")]
    assert warned


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--framework", "hipaa"], "ddaudit: unknown compliance framework 'hipaa': expected soc2 or pci"),
        ([], "ddaudit: report compliance needs --framework soc2 or --framework pci"),
    ],
)
def test_framework_mistakes_exit_2_in_one_line(capsys, argv, message):
    code, out, err = run(capsys, "report", "compliance", "--demo", *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert one_line(err) == message


def test_report_without_a_kind_is_a_usage_error(capsys):
    code, out, err = run(capsys, "report")
    assert (code, out) == (EXIT_USAGE, "")
    assert "report needs a kind" in one_line(err)


def test_a_broken_input_file_exits_4(capsys):
    path = BROKEN / "truncated.json"
    code, out, err = run(capsys, "report", "compliance", "--framework", "pci", "--input", str(path))
    assert (code, out) == (EXIT_INPUT, "")
    assert one_line(err).startswith(f"ddaudit: {path}")


def test_bad_time_exits_2(capsys):
    code, out, err = run(
        capsys, "report", "compliance", "--framework", "soc2", "--demo", "--from", "yesterdayish"
    )
    assert (code, out) == (EXIT_USAGE, "")
    assert "yesterdayish" in one_line(err)
