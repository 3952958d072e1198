"""Small helpers shared by the TUI tests."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot


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
