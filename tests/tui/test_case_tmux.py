"""Issue 15's keyboard flow in a real terminal at 80×24 (tmux): look up the riskiest key, mark two flags and
a deletion, search the attacker's IP in Explore, mark three events, note one, `E` names and exports the
case; the folder verifies with `sha256sum -c`, and a second run with `--case` shows the marks again.

Skipped only when tmux is not installed (.ci/run installs it). Uses the harness of test_tmux_e2e.py.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_tmux_e2e import TMUX, Tmux, app_env

from ddaudit_tui.analysis.presets import build_query
from ddaudit_tui.demo.org import PLANTED

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")


class SmallTmux(Tmux):
    def start(self, argv: list[str], env: dict[str, str]) -> None:  # 80×24, else as the harness
        command = " ".join(
            [
                "env -u COLUMNS -u LINES",
                *(shlex.quote(f"{k}={v}") for k, v in env.items()),
                *map(shlex.quote, argv),
                '; echo "ddaudit exited with $?"; sleep 600',
            ]
        )
        self.run("-f", os.devnull, "new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", command)
        self.run("set-option", "-s", "escape-time", "10")


@pytest.fixture
def tmux(tmp_path: Path):
    session = SmallTmux(tmp_path)
    yield session
    session.kill()


def test_mark_note_export_and_resume_by_keyboard_at_80x24(tmux: SmallTmux, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "home").mkdir()
    env = {**app_env(tmp_path), "DDAUDIT_CASES_DIR": str(tmp_path / "cases")}
    argv = [sys.executable, "-m", "ddaudit_tui", "--demo", "--export-dir", str(out)]
    tmux.start(argv, env)
    tmux.wait_for("likely compromised", "LEAKED", gone=("assessing",))
    tmux.keys("Enter")
    tmux.wait_for("verdict:", "Flags")
    # Two flags, then the first deletion.
    tmux.keys("m")
    tmux.wait_for("Marked m1")
    tmux.keys("j", "m")
    tmux.wait_for("Marked m2")
    tmux.keys("d")
    tmux.wait_for("Deleted")
    tmux.keys("m")
    tmux.wait_for("Marked m3")
    # Explore on the attacker's IP: three events, a note on the last.
    tmux.keys("4", "/")
    tmux.keys("-l", build_query("ip", {"ip": PLANTED.attacker_vpn_ip}))
    tmux.keys("Enter")
    tmux.wait_for("showing ", " events", PLANTED.attacker_vpn_ip)
    for n in (4, 5, 6):
        tmux.keys("m")
        tmux.wait_for(f"Marked m{n}")
        tmux.keys("j")
    tmux.keys("k", "n")
    tmux.wait_for("Note on mark m6")
    tmux.keys("-l", "revoked at 10:42 by me")
    tmux.keys("Enter")
    tmux.wait_for("Note on mark m6 saved")
    # The Case pane lists the six marks; E asks a name, exports, shows the path.
    tmux.keys("5")
    screen = tmux.wait_for("case unnamed-", "m6")
    assert "★ 6 marks" in screen and "Case ★" in screen.splitlines()[0], screen
    tmux.keys("E")
    tmux.wait_for("Name this case")
    tmux.keys("-l", "inc-4711")
    tmux.keys("Enter")
    tmux.wait_for("exported to", "ddaudit-case-inc-4711")
    (folder,) = out.iterdir()
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    case = json.loads((folder / "case.json").read_text())
    assert len(case["marks"]) == 6 and case["notes"][0]["text"] == "revoked at 10:42 by me"
    tmux.keys("C-q")
    tmux.wait_for("ddaudit exited with 0")

    # Reopened by name: the marks are there (the pane bar counts them), the key is looked up again.
    tmux.kill()
    again = SmallTmux(tmp_path)
    try:
        again.start([*argv, "--case", "inc-4711"], env)
        again.wait_for("5 Case ★", "verdict:")
        again.keys("5")
        screen = again.wait_for("case inc-4711", "m6")
        assert "Traceback" not in screen
    finally:
        again.kill()
