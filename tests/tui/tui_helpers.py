"""Small helpers shared by the TUI tests."""

from __future__ import annotations

import functools

import msgspec
from textual.app import App
from textual.pilot import Pilot

from ddaudit_tui.demo.org import generate
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource


async def settle(pilot: Pilot[object]) -> None:
    """Let messages drain, workers finish and the screen repaint (8.0 delays screen switches 50 ms)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause(0.06)


def screen_lines(app: App[object]) -> list[str]:
    """The whole screen as plain text lines, exactly as the compositor would send it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: App[object]) -> str:
    return "\n".join(screen_lines(app))


@functools.cache
def demo_events(events: int, end_ms: int, seed: int = 7) -> tuple[Event, ...]:
    """The demo org of `events` events ending at `end_ms`, decoded as `ddaudit --demo` decodes its pages;
    once per process for each shape (the generator and decoder are the costly part of these tests)."""
    items = generate(seed=seed, events=events, end_ms=end_ms)
    return tuple(iter_decode(msgspec.json.encode({"data": items}), "demo"))


def demo_file_source(events: int, end_ms: int, seed: int = 7) -> FileSource:
    """Those events as a source labelled "demo" (the Spike watch pane recognises it and never pages)."""
    return FileSource(EventStore(demo_events(events, end_ms, seed)), "demo")
