"""The ddaudit terminal UI: one App, one Textual *mode* per pane.

Each pane is a `PaneScreen` registered in `PANES`; its number key, command-palette entry and help line
are generated from that one line. Modes give every pane its own screen stack, so an event detail open
in one pane does not block another, and a pane's workers live as long as the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.reactive import reactive

from ddaudit_tui.analysis.explore import add_term
from ddaudit_tui.analysis.presets import build_query, expand_user
from ddaudit_tui.sources.base import Source
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.commands import ActionsProvider
from ddaudit_tui.tui.hangup import EXIT_HANGUP, hangup_safe_driver, watch_terminal
from ddaudit_tui.tui.loading import WaitForInput, start_loading
from ddaudit_tui.tui.pivot import (
    AI,
    EXCLUDE,
    FILTER,
    IP,
    KEY,
    RESOURCE,
    USER,
    PivotChoice,
    PivotMenu,
    PivotTarget,
    event_targets,
)
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.ai import LOAD_GROUP as AI_LOAD_GROUP
from ddaudit_tui.tui.screens.ai import AiScreen
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.screens.copy_as_dialog import CopyAsDialog
from ddaudit_tui.tui.screens.detail import EventDetailScreen
from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
from ddaudit_tui.tui.screens.help import HelpScreen
from ddaudit_tui.tui.screens.key_lookup import KeyLookupScreen
from ddaudit_tui.tui.screens.watch import WatchScreen
from ddaudit_tui.tui.widgets.event_table import EventTable
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions


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
HELP_EXTRA = (EventDetailScreen, PivotMenu)

PIVOT_GROUP = "pivot"


class DdauditApp(WaitForInput, App[int]):
    """`DdauditApp(source, window, query=..., local_time=..., export_dir=..., clock=..., site=...)`.

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
        Binding(
            "Y",
            "copy_as",
            "Copy as…",
            id="app.copy-as",
            show=False,
            tooltip="The pane's query as a pup command, explorer URL or DDSQL query",
        ),
        Binding(
            "C",
            "compliance",
            "Compliance report…",
            id="app.compliance",
            show=False,
            tooltip="Write SOC 2 or PCI DSS evidence for the app's window (md, json, html, text)",
        ),
        Binding(
            "x",
            "pivot",
            "Pivot…",
            id="app.pivot",
            show=False,
            tooltip="Filter Explore to the value under the cursor, exclude it, or open it where it belongs",
        ),
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
        site: str | None = None,
    ) -> None:
        super().__init__()
        self.leaving = False  # set once quitting starts: no more input is handled
        self.source = source
        self.window = window
        self.initial_query = query
        self.export_dir = export_dir
        self.clock = clock
        # The Datadog site explorer links are made for ("Copy as"); None: US1. Set by the CLI.
        self.site: str | None = site
        self.set_reactive(DdauditApp.local_time, local_time)

    def get_driver_class(self) -> type[Driver]:
        return hangup_safe_driver(super().get_driver_class())

    def on_mount(self) -> None:
        # An SSH drop, `kill`, `kill -INT`: leave in order (workers cancelled, source closed, terminal
        # restored) instead of dying or lingering.
        watch_terminal(self, self._hang_up)
        start_loading(self)  # files: read page by page after the first frame (tui/loading.py)

    async def _hang_up(self, code: int = EXIT_HANGUP) -> None:
        self.leaving = True
        await self._close_source()
        self.exit(return_code=code)

    async def on_event(self, event: events.Event) -> None:
        # Once the app is leaving, the rest of a burst of keys (a paste, `q` typed with the next key) is
        # dropped: a dialog opened while the screens are torn down would crash the exit.
        if self.leaving and isinstance(event, events.InputEvent):
            return
        await super().on_event(event)

    @property
    def source_label(self) -> str:
        return str(getattr(self.source, "label", "") or "")

    # -- actions -------------------------------------------------------------------------------

    def action_switch_pane(self, mode: str) -> None:
        # Also for the current pane: that cancels a switch still waiting for a file to be read.
        self.switch_mode(mode)

    async def action_open_key(self, key_id: str) -> None:
        """Key lookup of `key_id` (what other panes call, e.g. Explore's `K`)."""
        if self.open_key_when_loaded(key_id):
            return  # a file is still being read: the lookup runs once it is (tui/loading.py)
        if self.current_mode != "lookup":
            await self.switch_mode("lookup")
        # The pane is the bottom of its mode's stack (a detail may be open on top of it).
        lookup = next((s for s in self.screen_stack if hasattr(s, "lookup")), None)
        if lookup is not None:
            lookup.lookup(key_id)

    def action_compliance(self) -> None:
        """The compliance evidence export (a dialog: framework and formats), over the app's window."""
        from ddaudit_tui.tui.screens.compliance_dialog import ComplianceDialog

        if not isinstance(self.screen, ComplianceDialog):
            self.push_screen(ComplianceDialog())

    def action_copy_as(self) -> None:
        """The query the current pane shows, as a pup command, an explorer URL and DDSQL."""
        if isinstance(self.screen, CopyAsDialog):
            return
        # The pane is the topmost screen that has a query (a detail or dialog may be open on it).
        pane = next((s for s in reversed(self.screen_stack) if hasattr(s, "shown_query")), None)
        shown = pane.shown_query() if pane is not None else None
        if pane is None or shown is None:
            title = getattr(pane, "PANE_TITLE", "") or "this screen"
            self.notify(f"Nothing to copy: {title} shows no query yet.", severity="warning", markup=False)
            return
        query, columns = shown
        header = getattr(pane, "PANE_TITLE", "") or getattr(pane, "HELP_GROUP", "")
        self.push_screen(
            CopyAsDialog(query, pane.shown_window(), site=self.site, columns=columns, source_title=header)
        )

    # -- pivots (`x`, see tui/pivot.py) ---------------------------------------------------------

    def pivot_targets(self) -> list[PivotTarget]:
        """The cells of the row under the cursor: asked of the focused widget, then of its parents."""
        node = self.focused
        while node is not None:
            ask = getattr(node, "pivot_targets", None)
            if callable(ask):
                return list(ask())
            if isinstance(node, KeySuggestions):
                key = node.highlighted_key
                return [PivotTarget("@metadata.api_key.id", key.key_id, "API key")] if key else []
            if isinstance(node, EventDetailScreen):
                # The detail has no line cursor: its pivots are the shown event's fields.
                return event_targets(node.event)
            node = node.parent
        return []

    def action_pivot(self) -> None:
        if isinstance(self.screen, PivotMenu):
            return
        targets = self.pivot_targets()
        if not targets:
            self.notify(
                "Nothing to pivot on here: x works on a table row, a facet value or an event.",
                severity="warning",
                markup=False,
            )
            return
        narrow = self.current_mode == "explore"

        def chosen(choice: PivotChoice | None) -> None:
            if choice is not None:
                self.run_worker(
                    self.run_pivot(choice, narrow=narrow),
                    group=PIVOT_GROUP,
                    exclusive=True,
                    exit_on_error=False,
                    description="Pivoting",
                )

        self.push_screen(PivotMenu(targets, narrow=narrow), callback=chosen)

    async def run_pivot(self, choice: PivotChoice, *, narrow: bool) -> None:
        """Do what the pivot menu chose. `narrow`: it was opened in Explore."""
        target, action = choice.target, choice.action
        value = target.value or ""
        try:
            if action in (FILTER, EXCLUDE):
                await self.pivot_to_explore(target.term(exclude=action == EXCLUDE), narrow=narrow)
            elif action == KEY:
                await self._pane_on_top("lookup")
                await self.action_open_key(value)
            elif action == USER:
                explore = await self._pane_on_top("explore")
                explore.set_status(
                    Status("fetching", f"finding the identities of {clean(value, max_len=60)}…")
                )
                query = await expand_user(self.source, self.window, value)
                await self.pivot_to_explore(query, narrow=False)
            elif action == AI:
                await self.open_ai_user(value)
            elif action == IP:
                await self.pivot_to_explore(build_query("ip", {"ip": value}), narrow=False)
            elif action == RESOURCE:
                await self.pivot_to_explore(build_query("resource", {"resource": value}), narrow=False)
        except Exception as exc:  # a failed pivot is explained, never fatal
            message = clean(str(exc) or type(exc).__name__, max_len=300)
            self.notify(message, title="Pivot failed", severity="error", markup=False, timeout=10)

    async def pivot_to_explore(self, term: str, *, narrow: bool) -> None:
        """Explore, running `term`. From Explore itself the pivot narrows the query the user built
        (a drill-down, like a facet); from another pane the Explore query has nothing to do with the
        row pivoted on, so the term replaces it."""
        explore = await self._pane_on_top("explore")
        assert isinstance(explore, ExploreScreen)
        query = add_term(explore.query_text, term) if narrow else term
        if not narrow and getattr(explore, "window", None) is not None:
            # A preset's own window (e.g. its last 24 h) belonged to that preset; the row pivoted on
            # came from data over the app's window, which is where its events are.
            explore.window = None
            explore.preset = None
            explore.query_one(PaneHeader).pane_window = None
        explore.query_one(QueryInput).value = "" if query == "*" else query
        if explore.run_query(query):
            explore.query_one(EventTable).focus()

    async def open_ai_user(self, user: str) -> None:
        """The AI pane's drill-down on `user`, once the pane's analysis is there."""
        ai = await self._pane_on_top("ai")
        assert isinstance(ai, AiScreen)
        # The first visit starts the analysis (on mount): wait for it rather than drill into nothing.
        for _ in range(200):
            if ai.result is not None:
                break
            running = [w for w in self.workers if w.node is ai and w.group == AI_LOAD_GROUP]
            if running:
                with contextlib.suppress(Exception):  # the pane reports its own failure
                    await running[0].wait()
            else:
                await asyncio.sleep(0.01)
        if ai.result is None:
            self.notify(
                "The AI analysis is not available: see the AI pane (r retries).",
                severity="warning",
                markup=False,
            )
            return
        ai.drill_down(user)

    async def _pane_on_top(self, mode: str) -> PaneScreen:
        """Switch to `mode` and close whatever is open over its pane (a detail, a drill-down): the
        pivot's result must be what the user sees."""
        if self.current_mode != mode:
            await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        pane = self.screen_stack[0]
        assert isinstance(pane, PaneScreen)
        return pane

    def action_toggle_time(self) -> None:
        self.local_time = not self.local_time

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, HELP_EXTRA))

    async def action_quit(self) -> None:
        self.leaving = True
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

    # -- toasts (notify) ---------------------------------------------------------------------------------
    # A toast is read in passing: at most TOAST_MAX_S, unless it names a file the user must find (an
    # export), which may stay TOAST_PATH_S and is kept in the pane's header afterwards. Toasts never
    # cover a dialog: app.tcss hides them on a modal screen and on the screens under it (this class).
    TOAST_MAX_S: ClassVar[float] = 6.0
    TOAST_PATH_S: ClassVar[float] = 20.0
    SUSPENDED_SCREEN_CLASS: ClassVar[str] = "-suspended"

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Absolute paths of files that exist: what an export or a write just produced.
        paths = [p for p in re.findall(r"(?<![\w.])/[^\s'\"]+", message) if Path(p).exists()]
        limit = self.TOAST_PATH_S if paths else self.TOAST_MAX_S
        timeout = min(limit, self.NOTIFICATION_TIMEOUT if timeout is None else timeout)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        if paths:
            if threading.get_ident() == self._thread_id:
                self._keep_paths_in_pane(paths)
            else:  # notify is thread-safe; the header is not
                self.call_from_thread(self._keep_paths_in_pane, paths)

    def _keep_paths_in_pane(self, paths: list[str]) -> None:
        """`saved /dir/name.{json,md}` in the header of the pane the toast was shown over."""
        files = [Path(p) for p in paths]
        first = files[0]
        if len(files) > 1 and all(f.parent == first.parent and f.stem == first.stem for f in files):
            shown = str(first.parent / first.stem) + ".{" + ",".join(f.suffix[1:] for f in files) + "}"
        else:
            shown = str(first) + (f" (+{len(files) - 1} more)" if len(files) > 1 else "")
        for screen in reversed(self.screen_stack):
            if isinstance(screen, PaneScreen):
                screen.query_one(PaneHeader).note = f"saved {shown}"
                return
