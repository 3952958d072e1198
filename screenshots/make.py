"""Regenerate the README screenshots: `.venv/bin/python screenshots/make.py [NAME...]` (none: all).

Runs the app headless on the demo org (a fixed seed, window and clock, so the picture only changes when
the app or the demo does) and writes SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from textual.worker import WorkerCancelled

from ddaudit_tui.alerts.wiring import WatchOptions
from ddaudit_tui.demo.org import generate
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp

HERE = Path(__file__).parent
END_MS = parse_instant("2026-07-31T12:00:00Z")
DAYS = 14
SIZE = (140, 40)
# Where the pictures' case is written (its path shows in the Case pane): the same on every run.
CASES_DIR = Path(tempfile.gettempdir()) / "ddaudit-screenshots" / "cases"
CASE_CLOCK_START_MS = END_MS + 4 * 60_000  # the responder's first action, just after the data's end
CASE_CLOCK_STEP_MS = 17_000  # … and one every 17 s


def freeze_case_clock() -> None:
    """The case store stamps what the responder does (journal lines, marks, notes) with the wall clock,
    not the app's: for the pictures, a clock that starts after the demo's end and moves one step per
    stamp, so "marked at" is the same on every run (and for `make.py case` alone)."""
    from ddaudit_tui.case import export as case_export
    from ddaudit_tui.case import store as case_store
    from ddaudit_tui.tui import case_session

    ticks = itertools.count()

    def now_ms() -> int:
        return CASE_CLOCK_START_MS + next(ticks) * CASE_CLOCK_STEP_MS

    for module in (case_store, case_session, case_export):
        module.now_ms = now_ms  # type: ignore[attr-defined]


def demo_source() -> tuple[FileSource, Window]:
    items = generate(seed=7, events=20_000, end_ms=END_MS, days=DAYS)
    data = b"\n".join(json.dumps(item).encode() for item in items)
    store = EventStore(iter_decode(data, "<demo>"))
    return FileSource(store, "demo"), Window(END_MS - DAYS * 86_400_000, END_MS)


async def shoot(name: str, query: str, keys: tuple[str, ...] = ()) -> Path:
    source, window = demo_source()
    freeze_case_clock()  # from its start for each picture, whichever were taken before it
    app = DdauditApp(source, window, query=query, clock=lambda: END_MS / 1000, start_pane="auto")
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-dark"
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            # The Spike watch polls for ever: wait for the work a key started, not for every worker.
            with contextlib.suppress(TimeoutError, WorkerCancelled):
                await asyncio.wait_for(app.workers.wait_for_complete(), timeout=20)
            await pilot.pause(0.5)
        await pilot.pause(0.1)
        path = HERE / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"ddaudit — {name}"))
    return path


# The compact Spike watch, as `ddaudit --demo --live --pane watch` shows it in a small tmux pane.
COMPACT_SHOTS = (
    ("watch-compact-100x15", (100, 15)),
    ("watch-compact-80x10", (80, 10)),
    ("watch-compact-40x6", (40, 6)),
)


async def _never(_seconds: float) -> None:
    """The poller's sleep: one poll is all a picture needs."""
    await asyncio.Event().wait()


async def shoot_compact(name: str, size: tuple[int, int]) -> Path:
    def clock() -> float:
        return END_MS / 1000

    source = open_demo(seed=7, events=3000, end_ms=END_MS, live=True, clock=clock)
    window = Window(END_MS - 7 * 86_400_000, END_MS)
    app = DdauditApp(source, window, clock=clock, start_pane="watch")
    app.watch_options = WatchOptions(demo=True, clock=clock, sleep=_never)  # type: ignore[attr-defined]
    async with app.run_test(size=size) as pilot:
        app.theme = "textual-dark"
        screen = app.screen
        for _ in range(3000):  # the first poll (the demo's look-back), then its drawing
            latest = getattr(screen, "latest", None)
            if latest is not None and latest.polls >= 1 and not latest.polling:
                break
            await pilot.pause(0.01)
        app.clear_notifications()
        await pilot.pause(0.3)
        path = HERE / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"ddaudit — {name}"))
    return path


def main() -> int:
    only = set(sys.argv[1:])  # names to make; none: all
    for name, size in COMPACT_SHOTS:
        if not only or name in only:
            print(f"wrote {asyncio.run(shoot_compact(name, size))}", file=sys.stderr)
    shots = [
        # The start pane: the keys seen, riskiest first; Enter looks up the top one.
        ("keys", "*", ()),
        ("key-lookup", "*", ("enter",)),
        ("spike-watch", "*", ("2",)),
        ("ai-activity", "*", ("3",)),
        ("explore", "-@evt.name:Request", ("4", "j", "j")),
        # Explore's `i`: the investigation presets, "Failed logins" highlighted.
        ("presets", "-@evt.name:Request", ("4", "i", "j", "j", "j", "j")),
        # The Case pane (issue 15): two flags of the top key and an Explore event marked, a note.
        (
            "case",
            "-@evt.name:Request",
            ("enter", "m", "j", "m", "4", "j", "m", "n", *"revoked at 10:42 by me", "enter", "5"),
        ),
    ]
    # Marks write a case: into a throwaway folder (the same path on every run), never the user's cases.
    shutil.rmtree(CASES_DIR, ignore_errors=True)
    CASES_DIR.mkdir(parents=True, mode=0o700)
    os.environ["DDAUDIT_CASES_DIR"] = str(CASES_DIR)
    only = set(sys.argv[1:])  # `make.py case`: only these shots
    for name, query, keys in shots:
        if only and name not in only:
            continue
        path = asyncio.run(shoot(name, query, keys=keys))
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
