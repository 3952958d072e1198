"""`ddaudit watch --status` wall time (issue 17: tmux runs it every `status-interval`; budget ≤ 100 ms).

Runs the installed `ddaudit` entry point 20 times against a state with open alerts and prints the median
and the worst, beside a bare `python -c pass` on the same machine (the interpreter's own start-up).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], runs: int = 20) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    ddaudit = shutil.which("ddaudit") or str(Path(sys.executable).parent / "ddaudit")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([ddaudit, "watch", "--demo", "--once", "--state-dir", tmp], capture_output=True)
        status = timed([ddaudit, "watch", "--status", "--tmux", "--state-dir", tmp])
        bare = timed([sys.executable, "-c", "pass"])
        line = subprocess.run(
            [ddaudit, "watch", "--status", "--state-dir", tmp, "--recent", "1d"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    print(f"status line: {line}")
    print(
        f"watch --status: median {statistics.median(status) * 1000:.0f} ms, worst {max(status) * 1000:.0f} ms"
    )
    print(f"python -c pass: median {statistics.median(bare) * 1000:.0f} ms (interpreter start-up)")


if __name__ == "__main__":
    main()
