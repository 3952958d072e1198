"""The app leaves cleanly when its terminal goes away (an SSH drop), driven through a real pty.

The bounds below are liveness limits (the app must not hang), not timings: on a loaded machine the demo
may take a while to paint, and that is fine.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ddaudit_tui.tui.hangup import EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_TERMINATED, terminal_gone

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs POSIX ptys and SIGHUP")

PAINT_LIMIT_S = 90
EXIT_LIMIT_S = 20
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


class PtyApp:
    """`python -m ddaudit_tui --demo` on the slave side of a fresh pty; the test holds the master."""

    def __init__(self, tmp: Path, controlling: bool) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DD_", "DDAUDIT_", "TEXTUAL", "NO_COLOR"))
        }
        env.update(TERM="xterm-256color", HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "cfg"), TZ="UTC")
        env.update(XDG_STATE_HOME=str(tmp / "state"), XDG_DATA_HOME=str(tmp / "data"))

        def make_controlling_terminal() -> None:
            # Like a login over SSH: the app leads a session whose controlling terminal is the pty, so
            # the kernel itself sends SIGHUP when the other end closes.
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ddaudit_tui", "--demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=tmp,
            env=env,
            start_new_session=True,
            preexec_fn=make_controlling_terminal if controlling else None,  # noqa: PLW1509
        )
        os.close(slave)
        self.output = b""
        self.master_open = True

    def read_available(self, wait_s: float) -> bool:
        """Read what the app wrote; False once the pty has no writer left."""
        ready, _, _ = select.select([self.master], [], [], wait_s)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the slave side is closed
            return False
        self.output += chunk
        return bool(chunk)

    @property
    def screen_text(self) -> str:
        return ANSI.sub(b"", self.output).decode("utf-8", "replace")

    def wait_painted(self, text: str) -> None:
        deadline = time.monotonic() + PAINT_LIMIT_S
        while text not in self.screen_text:
            assert self.proc.poll() is None, f"the app exited early: {self.screen_text[-500:]}"
            assert time.monotonic() < deadline, f"{text!r} never appeared: {self.screen_text[-500:]}"
            self.read_available(0.2)

    def close_master(self) -> None:
        if self.master_open:
            os.close(self.master)
            self.master_open = False

    def wait_exit(self) -> int:
        """The exit status, draining output while the terminal is still there (a full pty blocks writes)."""
        deadline = time.monotonic() + EXIT_LIMIT_S
        while self.proc.poll() is None and time.monotonic() < deadline:
            if self.master_open:
                self.read_available(0.1)
            else:
                time.sleep(0.1)
        if self.proc.poll() is None:
            pytest.fail(f"the app was still running {EXIT_LIMIT_S} s after its terminal went away")
        while self.master_open and self.read_available(0.1):
            pass
        return self.proc.returncode

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_master()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., PtyApp]]:
    apps: list[PtyApp] = []

    def start(controlling: bool = False) -> PtyApp:
        app = PtyApp(tmp_path, controlling)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.cleanup()


def test_sighup_exits_in_order_and_restores_the_terminal(spawn):
    app = spawn()
    app.wait_painted("Explore")
    os.kill(app.proc.pid, signal.SIGHUP)
    code = app.wait_exit()
    # 129, not "killed by SIGHUP" (-1): the handler ran, and Textual put the terminal back on the way out.
    assert code == EXIT_HANGUP
    assert LEAVE_ALT_SCREEN in app.output
    assert "Traceback" not in app.screen_text


@pytest.mark.parametrize(
    ("sig", "expected"), [(signal.SIGTERM, EXIT_TERMINATED), (signal.SIGINT, EXIT_INTERRUPTED)]
)
def test_sigterm_and_sigint_exit_in_order_and_restore_the_terminal(spawn, sig, expected):
    """`kill PID` (systemd, tmux kill-pane) or `kill -INT`: the terminal must not be left in the alternate
    screen with mouse reporting on (issue 13 item 25)."""
    app = spawn()
    app.wait_painted("Explore")
    os.kill(app.proc.pid, sig)
    code = app.wait_exit()
    assert code == expected
    assert LEAVE_ALT_SCREEN in app.output and MOUSE_OFF in app.output, app.screen_text[-300:]
    assert "Traceback" not in app.screen_text


def test_pty_closing_without_a_signal_still_exits(spawn):
    """Not the terminal's session (e.g. under nohup): no SIGHUP comes, reads only see end-of-file."""
    app = spawn(controlling=False)
    app.wait_painted("Explore")
    app.close_master()
    assert app.wait_exit() == EXIT_HANGUP


def test_ssh_drop_closing_the_controlling_terminal_exits(spawn):
    """The real SSH drop: sshd closes the pty master; the kernel hangs up the session the app leads."""
    app = spawn(controlling=True)
    app.wait_painted("Explore")
    app.close_master()
    assert app.wait_exit() == EXIT_HANGUP


def test_terminal_gone_tells_a_hung_up_tty_from_a_live_one():
    master, slave = os.openpty()
    try:
        assert not terminal_gone(slave)
        os.close(master)
        master = -1
        assert terminal_gone(slave)
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
