"""`watch --on-alert CMD` (issue 17 item 4): the alert as JSON on the command's stdin, a timeout, no
secret in its arguments or environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ddaudit_tui.alerts.hook import HookError, hook_environment, parse_command, run_hook
from ddaudit_tui.cli import main

RECORDER = """
import json, os, sys
out = sys.argv[1]
with open(out, "a") as f:
    f.write(json.dumps({"alert": json.loads(sys.stdin.read()), "argv": sys.argv[1:], "env": dict(os.environ)}) + "\\n")
"""


def recorder(tmp_path: Path) -> tuple[str, Path]:
    script = tmp_path / "record.py"
    script.write_text(RECORDER)
    out = tmp_path / "calls.ndjson"
    return f"{sys.executable} {script} {out}", out


def test_every_new_alert_reaches_the_command_and_no_secret_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "DD_API_KEY": "a" * 32,
        "DD_APP_KEY": "b" * 40,
        "DD_ACCESS_TOKEN": "tok-123456789",
        "PAGERDUTY_ROUTING_KEY": "R" * 32,
        "DDAUDIT_API_URL": "http://u:pw@gw/",
        "MY_SLACK_TOKEN": "xoxb-1",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XAUTHORITY", "/home/x/.Xauthority")  # notify-send needs it
    command, out = recorder(tmp_path)
    code = main(
        [
            "watch",
            "--demo",
            "--once",
            "--dry-run",
            "--state-dir",
            str(tmp_path / "s"),
            "--on-alert",
            command,
            "--format",
            "json",
        ]
    )
    printed = json.loads(capsys.readouterr().out)
    assert code == 5
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(calls) == len(printed["alerts"]) > 0
    assert {c["alert"]["dedup_key"] for c in calls} == {a["dedup_key"] for a in printed["alerts"]}
    for call in calls:
        assert call["argv"] == [str(out)]
        assert call["env"].get("XAUTHORITY") == "/home/x/.Xauthority"
        blob = json.dumps(call)
        for name, value in secrets.items():
            assert name not in call["env"] and value not in blob


def test_a_hanging_or_failing_command_is_reported_and_stopped(tmp_path: Path) -> None:
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    assert run_hook(slow, {"x": 1}, timeout_s=0.5) == f"{sys.executable}: still running after 0.5 s; stopped"
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('no webhook\\x1b[31m'); sys.exit(3)"]
    assert run_hook(failing, {"x": 1}) == f"{sys.executable}: exit 3 (no webhook)"
    assert (
        run_hook(["/nonexistent/notify"], {}) == "/nonexistent/notify: cannot run (No such file or directory)"
    )


def test_bad_commands_are_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(HookError):
        parse_command("notify-send 'unbalanced")
    code = main(["watch", "--demo", "--once", "--state-dir", str(tmp_path), "--on-alert", "  "])
    assert code == 2 and "--on-alert: empty command" in capsys.readouterr().err


def test_the_environment_keeps_what_desktop_tools_need() -> None:
    env = hook_environment(
        {
            "PATH": "/bin",
            "DBUS_SESSION_BUS_ADDRESS": "unix:x",
            "AWS_SECRET_ACCESS_KEY": "s",
            "HTTPS_PROXY": "http://u:p@h",
        }
    )
    assert env == {"PATH": "/bin", "DBUS_SESSION_BUS_ADDRESS": "unix:x"}
