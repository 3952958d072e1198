"""Launch → first paint of the TUI, on the demo and on the 200k-event reference file, and the time until
the file's table is complete, side by side with `ddaudit search '*' --input FILE --format ndjson`.

Usage: python bench/bench_first_paint.py [--events 200000] [--file PATH] [--runs 5] [--size 120x35]
                                        [--against CHECKOUT]

The TUI runs for real, in a pseudo-terminal of the given size (no tmux, no test harness): the clock starts
just before the process is forked and stops when the terminal output first holds the frame: the pane bar
(`1 Key lookup … 4 Explore`) and the pane's header (`<pane title> │ <source> │ …`). The app opens on its
default start pane (Key lookup when the data has API keys). For "table complete" the file is opened on
Explore (`--pane explore`) and the clock stops when the output holds "showing N events" with N the file's
event count (the banner Explore writes once the last page is in the table). Each figure is the median of
`--runs` launches, the runs of the different figures interleaved. The search baseline runs in the same
invocation, so both figures come from the same machine under the same load (printed: the load average
before and after). Timings are machine-dependent: record them in docs/performance.md with the machine.
`--against CHECKOUT` (another checkout of the repository, e.g. `git worktree add --detach /tmp/old main`)
measures its first paint too, launch for launch alternately with this one: on a loaded machine the
ratio of the two is the figure to trust.

The package's bytecode is compiled first (`compileall`), as `pip install` does: with an editable install
and PYTHONDONTWRITEBYTECODE set, every launch would otherwise compile ~100 modules before painting.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DDAUDIT = [sys.executable, "-m", "ddaudit_tui"]
# CSI/OSC/other escape sequences: stripped so that the screen's text can be searched.
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")
# The frame: the pane bar (full or short titles) and the header's first cells.
PANE_BAR = re.compile(rb"1 (Key lookup|Key)\b.*?4 Explore")
HEADER = re.compile("(Key lookup|Spike watch|AI activity|Explore) │ ".encode())


def painted(text: bytes) -> bool:
    return PANE_BAR.search(text) is not None and HEADER.search(text) is not None


def run_tui(
    args: list[str],
    size: tuple[int, int],
    done: re.Pattern[bytes] | None,
    timeout: float,
    checkout: Path | None = None,
) -> dict:
    """Run `ddaudit ARGS` in a pty; seconds from fork to the first frame and to `done` (if given).
    `checkout`: run that checkout's code instead of the installed one."""
    cols, rows = size
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, in a terminal of its own, of the given size before the app reads it
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("TEXTUAL", None)
        if checkout is not None:  # `python -m` puts the current directory first on sys.path
            os.chdir(checkout)
            os.environ["PYTHONPATH"] = str(checkout)
        os.execv(DDAUDIT[0], [*DDAUDIT, *args])
    text = b""
    first_paint = complete = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break  # the child exited
            if not chunk:
                break
            now = time.perf_counter() - start
            # Keep only a tail: the markers are short, and a whole session's output is large.
            text = (text + ANSI.sub(b"", chunk))[-200_000:]
            if first_paint is None and painted(text):
                first_paint = now
                if done is None:
                    break
            if done is not None and first_paint is not None and done.search(text):
                complete = now
                break
    finally:
        os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    return {"first_paint": first_paint, "complete": complete}


def timed_search(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*DDAUDIT, "search", "*", "--input", str(path), "--format", "ndjson"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def fmt(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    if len(got) < len(values):
        return "timed out"
    return f"{statistics.median(got):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in got)})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", default="120x35", help="terminal COLSxROWS (default 120x35)")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--against", type=Path, help="another checkout whose first paint is measured alternately")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.lower().split("x"))
    import compileall

    import ddaudit_tui

    compileall.compile_dir(Path(ddaudit_tui.__file__).parent, quiet=1)
    against = args.against.resolve() if args.against else None
    if against is not None:
        compileall.compile_dir(against / "ddaudit_tui", quiet=1)

    path = args.file or HERE / "data" / f"demo{args.events // 1000}k.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {path} …", file=sys.stderr)
        subprocess.run([*DDAUDIT, "demo-data", "--events", str(args.events), "-o", str(path)], check=True)
    events = args.events
    if args.file is not None:
        out = subprocess.run(
            [*DDAUDIT, "search", "*", "--input", str(path), "--format", "ndjson"],
            capture_output=True,
            check=True,
        )
        events = out.stdout.count(b"\n")
    done = re.compile(rf"showing {events:,} events".encode())
    print(f"input: {path} ({path.stat().st_size / 1e6:.0f} MB, {events:,} events)   terminal: {cols}x{rows}")
    print(f"machine: {os.cpu_count()} CPUs, load average {load()} (before)")

    demo, paint, explore_paint, complete, search = [], [], [], [], []
    other_demo: list[float | None] = []
    other_paint: list[float | None] = []
    for _ in range(args.runs):
        if against is not None:
            other_demo.append(run_tui(["--demo"], (cols, rows), None, args.timeout, against)["first_paint"])
            other_paint.append(
                run_tui(["--input", str(path)], (cols, rows), None, args.timeout, against)["first_paint"]
            )
        demo.append(run_tui(["--demo"], (cols, rows), None, args.timeout)["first_paint"])
        paint.append(run_tui(["--input", str(path)], (cols, rows), None, args.timeout)["first_paint"])
        r = run_tui(["--input", str(path), "--pane", "explore"], (cols, rows), done, args.timeout)
        explore_paint.append(r["first_paint"])
        complete.append(r["complete"])
        search.append(timed_search(path))

    print(f"machine: load average {load()} (after)")
    print(f"{'launch → first paint, --demo':<50} {fmt(demo)}")
    print(f"{'launch → first paint, --input FILE':<50} {fmt(paint)}")
    print(f"{'launch → first paint, --input FILE --pane explore':<50} {fmt(explore_paint)}")
    print(f"{'launch → table complete, --pane explore':<50} {fmt(complete)}")
    print(f"{'search * --input FILE --format ndjson':<50} {fmt(search)}")
    if against is not None:
        print(f"{f'first paint, --demo, {against.name}':<50} {fmt(other_demo)}")
        print(f"{f'first paint, --input FILE, {against.name}':<50} {fmt(other_paint)}")
    if all(v is not None for v in complete):
        ratio = statistics.median(complete) / statistics.median(search)  # type: ignore[type-var]
        print(f"table complete / search baseline: {ratio:.2f}× (target ≤ 1.3×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
