"""End to end in a real terminal: the installed app in tmux, driven with `send-keys`, read with `capture-pane`.

Every pane (Key lookup first + Enter on a suggested key, 2 Spike watch, 3 AI activity, 4 Explore), help
and Escape, one export from Explore (a private NDJSON file whose lines decode), and `q` `q` (guarded). Each wait polls the
screen until the expected text shows, with a generous limit: that is liveness, not timing.

Skipped only when tmux is not installed (.ci/run installs it). Run alone with
`.venv/bin/python -m pytest tests/tui/test_tmux_e2e.py -q`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddaudit_tui.events.decode import iter_decode

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")

WIDTH, HEIGHT = 120, 35
SERVER_ENV = {
    k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX") and not k.startswith("DD_")
}
LIMIT_S = 90  # per step; the demo org is generated on the first fetch, on a machine that may be busy


class Tmux:
    """One tmux server on a private socket, one session running the app."""

    def __init__(self, tmp: Path) -> None:
        self.socket = f"ddaudit-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            [TMUX or "tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=SERVER_ENV,  # the first command starts the server, whose environment every pane inherits
        )
        assert proc.returncode == 0, f"tmux {args[0]}: {proc.stderr.strip()}"
        return proc.stdout

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        # The pane outlives the app, so that its exit status can be read from the screen.
        command = " ".join(
            [
                # COLUMNS/LINES inherited from a test runner would override the pane's real size.
                "env -u COLUMNS -u LINES",
                *(shlex.quote(f"{k}={v}") for k, v in env.items()),
                *map(shlex.quote, argv),
                '; echo "ddaudit exited with $?"; sleep 600',
            ]
        )
        self.run(
            "-f", os.devnull, "new-session", "-d", "-s", "e2e", "-x", str(WIDTH), "-y", str(HEIGHT), command
        )
        self.run("set-option", "-s", "escape-time", "10")  # a lone Escape reaches the app at once

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, *texts: str, gone: tuple[str, ...] = ()) -> str:
        deadline = time.monotonic() + LIMIT_S
        while True:
            screen = self.screen()
            if all(t in screen for t in texts) and not any(t in screen for t in gone):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"waited {LIMIT_S} s for {texts} (and {gone} gone); the screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        subprocess.run(
            [TMUX or "tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False
        )


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path)
    yield session
    session.kill()


def app_env(tmp: Path) -> dict[str, str]:
    """A clean user: no config, state, rules, routing key or colour overrides from the machine."""
    return {
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),
        "XDG_STATE_HOME": str(tmp / "home" / ".state"),
        "XDG_DATA_HOME": str(tmp / "home" / ".data"),
        "DDAUDIT_CONFIG": str(tmp / "no-config.toml"),
        "DDAUDIT_STATE_DIR": str(tmp / "state"),
        "TZ": "UTC",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def test_every_pane_an_export_and_quit_in_tmux(tmux: Tmux, tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (tmp_path / "home").mkdir()
    tmux.start(
        [sys.executable, "-m", "ddaudit_tui", "--demo", "--export-dir", str(exports)],
        app_env(tmp_path),
    )
    # Key lookup, the first pane (the demo has API keys); the pane bar names every pane and its key.
    screen = tmux.wait_for("ddaudit · Key lookup", "API keys seen")
    assert "1 Key lookup" in screen and "2 Spike watch" in screen and "3 AI activity" in screen
    assert "4 Explore" in screen and "? Help" in screen and "q Quit" in screen

    # Once every key is assessed, Enter on the first key it suggests: the riskiest, with its verdict,
    # its reason and its flags. (Each wait names everything asserted after it: the header, the card and
    # the tabs are painted in separate frames, and a busy CI machine shows the frames in between.)
    tmux.wait_for("likely compromised", "pick one", gone=("assessing",))
    tmux.keys("Enter")
    screen = tmux.wait_for("verdict:", "Flags", "why: ")
    assert "✖ LIKELY COMPROMISED" in screen, screen

    # 2 — Spike watch: the first poll is drawn.
    tmux.keys("2")
    screen = tmux.wait_for("Spike watch", "ALERTS", "polled")

    # 3 — AI activity.
    tmux.keys("3")
    tmux.wait_for("AI activity", "AI events", "FLAGS", "AI calls")

    # ? — help over the pane; Escape closes it.
    tmux.keys("?")
    help_screen = tmux.wait_for("GLOBAL", "AI ACTIVITY", "escape / q / ? closes")
    assert "Quit" in help_screen and "Key lookup" in help_screen
    tmux.keys("Escape")
    tmux.wait_for("AI activity", "FLAGS", gone=("escape / q / ? closes",))

    # 4 then e — export what Explore shows, as a private NDJSON file.
    tmux.keys("4")
    tmux.wait_for("Explore │ demo", "events · complete")  # the longer status drops "ddaudit ·"
    tmux.keys("e")
    screen = tmux.wait_for("Wrote", "mode 0600")
    files = list(exports.glob("ddaudit-explore-*.ndjson"))
    assert len(files) == 1, files
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    events = list(iter_decode(files[0].read_bytes(), str(files[0])))
    shown = re.search(r"Wrote ([\d,]+) events", screen)
    assert shown is not None and len(events) == int(shown.group(1).replace(",", "")) > 0
    assert len({e.id for e in events}) == len(events)

    # q — a key was looked up: q asks first, a second q quits; the app says nothing more than its exit status.
    tmux.keys("q")
    tmux.wait_for("Quit? q again or y to quit")
    tmux.keys("q")
    screen = tmux.wait_for("ddaudit exited with 0")
    assert "Traceback" not in screen


def test_the_compact_watch_in_small_tmux_panes(tmux: Tmux, tmp_path: Path):
    # A monitor pane: `--demo --live --pane watch` in a 100×15 split, then a 40×6 corner, then back to a
    # full window. The compact watch's status line and its alerts (or the closed ones' summary) are on
    # screen at each small size; the full layout with its pane bar returns when the pane grows.
    (tmp_path / "home").mkdir()
    tmux.start(
        [sys.executable, "-m", "ddaudit_tui", "--demo", "--live", "--pane", "watch"], app_env(tmp_path)
    )
    for width, height in ((100, 15), (80, 10), (40, 6)):
        tmux.run("resize-window", "-t", "e2e", "-x", str(width), "-y", str(height))
        screen = tmux.wait_for("● LIVE", "next ", gone=("Terminal too small", "needs at least"))
        lines = screen.splitlines()
        assert re.search(r"(HIGH|CRITICAL|MEDIUM|no open alerts)", screen), screen
        assert "1 Key lookup" not in screen  # the chrome folded away
        assert all(len(line) <= width for line in lines)
    tmux.run("resize-window", "-t", "e2e", "-x", "120", "-y", "35")
    tmux.wait_for("1 Key lookup", "2 Spike watch", "ALERTS")
    tmux.run("resize-window", "-t", "e2e", "-x", "39", "-y", "6")
    tmux.wait_for("40×6")
    tmux.keys("q")
    tmux.wait_for("ddaudit exited with 0")
