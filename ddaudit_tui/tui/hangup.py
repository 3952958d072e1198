"""Leaving cleanly when the terminal goes away (an SSH drop, a closed terminal window).

Two ways the app learns of it:
- SIGHUP, which the kernel or the login shell sends. Its default action kills the process on the spot, so
  workers are never cancelled and the source is never closed; here it becomes an orderly exit instead.
- No signal at all (the app runs under `nohup`, or is not in the terminal's foreground group): reads on
  the dead tty return end-of-file for ever, and Textual's input thread treats that as piped stdin and
  keeps polling, so the app would live on, invisible, until killed. A cheap once-a-second check that
  stdin is still a terminal catches it.

Once the terminal is gone, every write to it fails (EIO). Textual's output thread dies on the first such
error, and the app then blocks for ever on the full queue of a writer that is no longer there; the kernel's
SIGCONT that comes with a hang-up also makes Textual restart its terminal mode on the dead tty. The driver
from `hangup_safe_driver` drops output after the first failed write and skips that restart, and the
standard streams are pointed at /dev/null before the exit so that nothing on the way out can fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import IO, Any

from textual.app import App
from textual.driver import Driver

EXIT_HANGUP = 129  # 128 + SIGHUP: what a shell reports for a job whose terminal hung up
EXIT_INTERRUPTED = 130  # 128 + SIGINT (`kill -INT`; ctrl+c in the app is a key, guarded like `q`)
EXIT_TERMINATED = 143  # 128 + SIGTERM (`kill`, systemd, tmux kill-pane)
CHECK_INTERVAL_S = 1.0


def terminal_gone(fd: int) -> bool:
    """True when `fd` was a terminal that has hung up (it stops being a tty; tcgetattr then fails)."""
    try:
        return not os.isatty(fd)
    except OSError:
        return True


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null so that nothing written on the way out can fail."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)


class _HangupSafeStream:
    """The stream Textual's output thread writes to, except that a dead terminal swallows the output."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except OSError:  # EIO / EPIPE: the terminal went away
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError:
                self.gone = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def hangup_safe_driver(base: type[Driver]) -> type[Driver]:
    """`base` (Textual's terminal driver) made safe to outlive its terminal; other drivers unchanged."""
    from textual.drivers.linux_driver import LinuxDriver

    if not issubclass(base, LinuxDriver):
        return base

    class HangupSafeDriver(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # `_file` is what LinuxDriver hands its writer thread (Textual 8); the pty tests fail if that moves.
            self._file = _HangupSafeStream(self._file)

        def resume_application_mode(self) -> None:
            # SIGCONT also arrives with a hang-up; restarting terminal mode on a dead tty only spawns threads.
            if not terminal_gone(self.fileno):
                super().resume_application_mode()

    return HangupSafeDriver


def watch_terminal(app: App[object], on_leave: Callable[[int], Awaitable[None]]) -> None:
    """Call `on_leave(exit code)` (once) when the app's terminal goes away, or on SIGTERM / SIGINT from
    outside (`kill`, systemd, tmux kill-pane): Python's defaults would kill the process without giving
    the terminal back (alternate screen and mouse reporting left on). A no-op in headless runs and tests."""
    if app.is_headless or not hasattr(signal, "SIGHUP"):
        return
    stdin = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
    was_tty = stdin >= 0 and os.isatty(stdin)
    fired = False

    def leave(code: int) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        if code == EXIT_HANGUP and was_tty and terminal_gone(stdin):
            detach_from_terminal()
        app.call_later(on_leave, code)

    # Outside the main thread or without signal support, the tty check below still works.
    for sig, code in (
        (signal.SIGHUP, EXIT_HANGUP),
        (signal.SIGTERM, EXIT_TERMINATED),
        (signal.SIGINT, EXIT_INTERRUPTED),
    ):
        with contextlib.suppress(RuntimeError, NotImplementedError, ValueError):
            asyncio.get_running_loop().add_signal_handler(sig, leave, code)
    if was_tty:
        app.set_interval(CHECK_INTERVAL_S, lambda: leave(EXIT_HANGUP) if terminal_gone(stdin) else None)
