"""The ddaudit terminal UI: one App, one Textual *mode* per pane.

Each pane is a `PaneScreen` registered in `PANES`; its number key, command-palette entry and help line
are generated from that one line. Modes give every pane its own screen stack, so an event detail open
in one pane does not block another, and a pane's workers live as long as the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from ddaudit_tui.sources.base import Source
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.commands import ActionsProvider
from ddaudit_tui.tui.screens.ai import AiScreen
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen


@dataclass(frozen=True)
class Pane:
    key: str  # the number key that switches to it
    mode: str
    title: str
    screen: type[PaneScreen]


# One line per pane. Planned: ("1", "lookup", "Key lookup"), ("2", "watch", "Spike watch"),
# ("3", "ai", "AI activity").
PANES: tuple[Pane, ...] = (
    Pane("1", "lookup", "Key lookup", KeyLookupScreen),
    Pane("2", "watch", "Spike watch", WatchScreen),
    Pane("3", "ai", "AI activity", AiScreen),
    Pane("4", "explore", "Explore", ExploreScreen),
)

# Screens that are not open yet but whose keys `?` lists.
HELP_EXTRA = (EventDetailScreen,)


class DdauditApp(App[int]):
    """`DdauditApp(source, window, query=..., local_time=..., export_dir=..., clock=...)`.

    `clock` (epoch seconds) is the only source of "now" for anything shown or written (export names),
    so tests and snapshots can freeze it.
    """

    TITLE = "ddaudit"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], object]]] = {p.mode: p.screen for p in PANES}  # type: ignore[misc]
    DEFAULT_MODE = "explore"
    COMMANDS = App.COMMANDS | {ActionsProvider}

    # Half a tmux window is ~60 columns: the facet column folds away below 100, the whole pane gives
    # way to a "too small" notice below 60×20.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-too-narrow"),
        (60, "-narrow"),
        (100, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-too-short"), (20, "-short"), (30, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit ddaudit"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key binding"),
        Binding("z", "toggle_time", "UTC/local", id="app.time", tooltip="Show times in UTC or local time"),
        *(
            Binding(p.key, f"switch_pane('{p.mode}')", p.title, id=f"app.pane.{p.mode}", show=False)
            for p in PANES
        ),
    ]

    local_time: reactive[bool] = reactive(False)

    def __init__(
        self,
        source: Source,
        window: Window,
        *,
        query: str = "*",
        local_time: bool = False,
        export_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.source = source
        self.window = window
        self.initial_query = query
        self.export_dir = export_dir
        self.clock = clock
        self.set_reactive(DdauditApp.local_time, local_time)

    @property
    def source_label(self) -> str:
        return str(getattr(self.source, "label", "") or "")

    # -- actions -------------------------------------------------------------------------------

    def action_switch_pane(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    async def action_open_key(self, key_id: str) -> None:
        """Key lookup of `key_id` (what other panes call, e.g. Explore's `K`)."""
        if self.current_mode != "lookup":
            await self.switch_mode("lookup")
        # The pane is the bottom of its mode's stack (a detail may be open on top of it).
        lookup = next((s for s in self.screen_stack if hasattr(s, "lookup")), None)
        if lookup is not None:
            lookup.lookup(key_id)

    def action_toggle_time(self) -> None:
        self.local_time = not self.local_time

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, HELP_EXTRA))

    async def action_quit(self) -> None:
        await self._close_source()
        self.exit(0)

    async def _close_source(self) -> None:
        close = getattr(self.source, "aclose", None)
        if close is None:
            return
        try:
            await asyncio.wait_for(close(), timeout=2)
        except Exception as exc:  # closing must never keep the user from quitting
            self.log.warning(f"closing the source failed: {exc!r}")
