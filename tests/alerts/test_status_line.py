"""`ddaudit watch --status` (issue 17 item 2): one line for a tmux status bar, from the watch state only."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddaudit_tui.alerts.state import WatchState
from ddaudit_tui.alerts.status_line import format_status, main, read_status
from ddaudit_tui.cli import main as cli_main

M = 60_000


def write_state(directory: Path, alerts: list[dict[str, object]], last_polled: int | None) -> None:
    """A state database as `ddaudit watch` writes it (its own schema, through WatchState)."""
    with WatchState(directory, "api:test"):
        pass
    db = sqlite3.connect(directory / "watch.sqlite3")
    with db:
        if last_polled is not None:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('api:test', 'last_polled', ?)", (str(last_polled),)
            )
        for i, a in enumerate(alerts):
            data = {
                "rule": "role-grants",
                "group": "eve@example.com",
                "severity": "high",
                "count": 3,
                "opened_at": 0,
            }
            data.update(a)
            if not data.get("open", 1) and "closed_at" not in a:
                data["closed_at"] = 0  # closed long ago
            db.execute(
                "INSERT INTO alerts VALUES ('api:test', ?, ?, ?, 0)",
                (f"k{i}", json.dumps(data), int(data.get("open", 1))),
            )
    db.close()


NOW = 1_785_000_000_000


def line(directory: Path, now: int = NOW, **kw: object) -> str:
    return format_status(read_status(directory), now, **kw)  # type: ignore[arg-type]


def test_open_alerts_worst_first_with_the_last_poll(tmp_path: Path) -> None:
    write_state(
        tmp_path,
        [{"severity": "medium"}, {"severity": "critical", "group": "mallory@example.com"}],
        NOW - 2 * M,
    )
    assert (
        line(tmp_path)
        == f"ddaudit ● 2 CRITICAL mallory@example.com · {time.strftime('%H:%MZ', time.gmtime((NOW - 2 * M) / 1000))}"
    )


def test_quiet_stale_and_missing(tmp_path: Path) -> None:
    write_state(tmp_path, [{"severity": "high", "open": 0}], NOW - 60_000)
    assert line(tmp_path).startswith("ddaudit ✓ quiet · ")
    assert line(tmp_path, now=NOW + 20 * M).startswith("ddaudit ! stale 21m · ")
    assert line(tmp_path / "nowhere") == "ddaudit ? no watch state"


def test_a_hostile_actor_cannot_style_or_run_anything_in_tmux(tmp_path: Path) -> None:
    evil = "ev#[fg=red]il#(touch /tmp/pwned)\x1b[31m\x07\u202e"
    write_state(tmp_path, [{"group": evil}], NOW)
    text = line(tmp_path, tmux=True)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    actor = text.split("#[default] ", 1)[1].split(" · ")[0]
    assert "#[" not in actor.replace("##", "") and "#(" not in actor.replace("##", "")
    plain = line(tmp_path)
    assert "\x1b" not in plain and "ev#[fg=red]il#(touch /t…" in plain


def test_a_real_watch_run_is_what_the_status_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    code = cli_main(["watch", "--demo", "--once", "--state-dir", str(state), "--format", "json"])
    capsys.readouterr()
    assert code in (0, 5)
    assert (
        main(["--status", "--state-dir", str(state), "--recent", "1d"], now_ms=int(time.time() * 1000)) == 0
    )
    out = capsys.readouterr().out.strip()
    status = read_status(state)
    assert status.alerts, "the demo's first poll fires its planted bursts"
    live = [a for a in status.alerts if a.closed_at is None]
    shown, glyph = (live, "●") if live else (status.alerts, "○")
    assert out.startswith(f"ddaudit {glyph} {len(shown)} {shown[0].severity.upper()}"), out


def test_the_status_path_imports_no_cli_pydantic_or_textual(tmp_path: Path) -> None:
    probe = (
        "import sys; sys.argv = ['ddaudit', 'watch', '--status', '--state-dir', sys.argv[1]]\n"
        "from ddaudit_tui.entry import main; main()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'textual', 'httpx', 'msgspec')"
        " or m == 'ddaudit_tui.cli'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == ["ddaudit ? no watch state", "[]"]


def test_usage_mistakes_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--status", "--stale-after", "soon"]) == 2
    assert "--stale-after 'soon'" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("shutil").which("tmux"), reason="tmux is not installed")
def test_tmux_status_right_shows_it(tmp_path: Path) -> None:
    """The line docs/watch.md gives, in a real tmux: a client attached on a pty renders the status bar."""
    import pty

    write_state(tmp_path, [{"severity": "high"}], int(time.time() * 1000))
    sock = tmp_path / "tmux.sock"
    command = f"{sys.executable} -m ddaudit_tui watch --status --tmux --state-dir {tmp_path}"
    tmux = ["tmux", "-S", str(sock), "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "100", "-y", "10", "sleep 60"], check=True)
    try:
        subprocess.run([*tmux, "set", "-g", "status-interval", "1"], check=True)
        subprocess.run([*tmux, "set", "-g", "status-right-length", "80"], check=True)
        subprocess.run([*tmux, "set", "-g", "status-right", f"#({command})"], check=True)
        pid, fd = pty.fork()
        if pid == 0:  # the client
            os.environ["TERM"] = "xterm-256color"
            os.execvp("tmux", [*tmux, "attach", "-t", "t"])
        seen = b""
        deadline = time.monotonic() + 30  # liveness bound: tmux re-runs the command every second
        while b"HIGH" not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        assert b"ddaudit" in seen and b"1 HIGH" in seen and b"eve@example.com" in seen, seen[-400:]
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
