"""Launch → first paint of the TUI, on the demo and on the 200k-event reference file, and the time until
the file's table is complete, side by side with `ddaudit search '*' --input FILE --format ndjson`.

Usage: python bench/bench_first_paint.py [--events 200000] [--file PATH] [--runs 5] [--size 120x35]
                                        [--against CHECKOUT] [--paint-only]

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

CPU time: wall time on a shared machine mostly measures the other jobs. Each launch therefore also reports
the CPU time its process had used when the frame was done (`time.process_time()`, all threads, Python's
own start-up included), taken inside the process by a probe (`PROBE`) that wraps the app's
`_first_paint_done` (Textual's Ready plus one refresh: the frame has been written) and changes nothing
else. The floor is measured the same way: `python -c pass` and a Textual app with one `Static` whose
first frame is its end point.
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

# Runs `ddaudit ARGV` as `python -m ddaudit_tui` does, writing the process's CPU time (seconds, all threads;
# then the main thread's) to $DDAUDIT_BENCH_CPU when the app's first frame is done. Only the probe's file
# write is added to the launch.
PROBE = """
import os, sys, time
from ddaudit_tui.tui import app as _app
_done = _app.DdauditApp._first_paint_done
def _probe(self):
    out = os.environ.pop('DDAUDIT_BENCH_CPU', None)
    if out:
        with open(out, 'w') as f:
            f.write(f'{time.process_time():.4f} {time.thread_time():.4f}')
    _done(self)
_app.DdauditApp._first_paint_done = _probe
from ddaudit_tui.entry import main
sys.argv = ['ddaudit', *sys.argv[1:]]
raise SystemExit(main())
"""
# The floor: Python's start-up, and Textual's import + first frame of an app with one Static.
FLOOR_PROBES = {
    "python -c pass": "import os, time\nopen(os.environ['DDAUDIT_BENCH_CPU'], 'w').write(f'{time.process_time():.4f} 0')",
    "Textual app with one Static": """
import os, time
from textual.app import App
from textual.widgets import Static
class Hello(App):
    def compose(self):
        yield Static('1 Key lookup  4 Explore')
        yield Static('Explore │ hello')
    def on_ready(self):
        self.call_after_refresh(self.done)
    def done(self):
        open(os.environ['DDAUDIT_BENCH_CPU'], 'w').write(f'{time.process_time():.4f} {time.thread_time():.4f}')
        self.exit()
Hello().run()
""",
}
CPU_FILE = Path(f"/tmp/ddaudit-bench-cpu-{os.getpid()}")


def painted(text: bytes) -> bool:
    return PANE_BAR.search(text) is not None and HEADER.search(text) is not None


def run_tui(
    args: list[str],
    size: tuple[int, int],
    done: re.Pattern[bytes] | None,
    timeout: float,
    checkout: Path | None = None,
) -> dict:
    """Run `ddaudit ARGS` in a pty; seconds from fork to the first frame and to `done` (if given), and the
    process's CPU time at its first frame (`cpu`). `checkout`: run that checkout's code instead of the
    installed one."""
    cols, rows = size
    CPU_FILE.unlink(missing_ok=True)
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, in a terminal of its own, of the given size before the app reads it
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("TEXTUAL", None)
        os.environ["DDAUDIT_BENCH_CPU"] = str(CPU_FILE)
        if checkout is not None:  # `python -c` puts the current directory first on sys.path
            os.chdir(checkout)
            os.environ["PYTHONPATH"] = str(checkout)
        os.execv(sys.executable, [sys.executable, "-c", PROBE, *args])
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
        # The probe writes its CPU time once the frame's refresh is done: a moment after the output.
        wait_until = time.perf_counter() + 5
        while first_paint is not None and not CPU_FILE.exists() and time.perf_counter() < wait_until:
            with contextlib.suppress(OSError):
                if select.select([fd], [], [], 0.01)[0]:
                    os.read(fd, 1 << 16)
        time.sleep(0.01)  # the write itself
    finally:
        os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    return {"first_paint": first_paint, "complete": complete, "cpu": read_cpu()}


def read_cpu() -> float | None:
    """The CPU seconds the probe wrote (None: the frame never came)."""
    try:
        return float(CPU_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    finally:
        CPU_FILE.unlink(missing_ok=True)


def floor_cpu(code: str) -> float | None:
    """CPU seconds of one floor probe, run in a pty like the app."""
    CPU_FILE.unlink(missing_ok=True)
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.environ["DDAUDIT_BENCH_CPU"] = str(CPU_FILE)
        os.execv(sys.executable, [sys.executable, "-c", code])
    try:
        while True:  # drain the output until the child exits
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                break
            try:
                if not os.read(fd, 1 << 16):
                    break
            except OSError:
                break
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    return read_cpu()


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


def row(label: str, runs: list[dict], key: str = "first_paint") -> None:
    """One figure: wall time (median, runs), and for a first paint the CPU time at the frame."""
    print(f"{label:<50} {fmt([r[key] for r in runs])}")
    if key == "first_paint":
        print(f"{'  CPU time at the first frame':<50} {fmt([r['cpu'] for r in runs])}")


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
    ap.add_argument(
        "--paint-only", action="store_true", help="first paint only: no table-complete, no search"
    )
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

    demo: list[dict] = []
    paint: list[dict] = []
    explore: list[dict] = []
    search: list[float | None] = []
    other_demo: list[dict] = []
    other_paint: list[dict] = []
    floors: dict[str, list[float | None]] = {name: [] for name in FLOOR_PROBES}
    for _ in range(args.runs):
        if against is not None:
            other_demo.append(run_tui(["--demo"], (cols, rows), None, args.timeout, against))
            other_paint.append(run_tui(["--input", str(path)], (cols, rows), None, args.timeout, against))
        demo.append(run_tui(["--demo"], (cols, rows), None, args.timeout))
        paint.append(run_tui(["--input", str(path)], (cols, rows), None, args.timeout))
        if not args.paint_only:
            explore.append(
                run_tui(["--input", str(path), "--pane", "explore"], (cols, rows), done, args.timeout)
            )
            search.append(timed_search(path))
        for name, code in FLOOR_PROBES.items():
            floors[name].append(floor_cpu(code))

    print(f"machine: load average {load()} (after)")
    row("launch → first paint, --demo", demo)
    row("launch → first paint, --input FILE", paint)
    if explore:
        row("launch → first paint, --input FILE --pane explore", explore)
        row("launch → table complete, --pane explore", explore, "complete")
        print(f"{'search * --input FILE --format ndjson':<50} {fmt(search)}")
    if against is not None:
        row(f"first paint, --demo, {against.name}", other_demo)
        row(f"first paint, --input FILE, {against.name}", other_paint)
    for name, values in floors.items():
        print(f"{f'floor: CPU time of {name}':<50} {fmt(values)}")
    complete = [r["complete"] for r in explore]
    if complete and all(v is not None for v in complete):
        ratio = statistics.median(complete) / statistics.median(search)  # type: ignore[type-var]
        print(f"table complete / search baseline: {ratio:.2f}× (target ≤ 1.3×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
