"""The ddaudit terminal UI: one App, one Textual *mode* per pane.

Each pane is a `PaneScreen` registered in `PANES`; its number key, command-palette entry and help line
are generated from that one line. Modes give every pane its own screen stack, so an event detail open
in one pane does not block another, and a pane's workers live as long as the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import Input

from ddaudit_tui.case.model import CASE_NOTE
from ddaudit_tui.case.store import default_analyst
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.case_restore import forget, restore_pane
from ddaudit_tui.tui.case_session import CaseSession, journal
from ddaudit_tui.tui.case_targets import case_name_problem, mark_when_read, target_for
from ddaudit_tui.tui.commands import ActionsProvider
from ddaudit_tui.tui.hangup import EXIT_HANGUP, hangup_safe_driver, watch_terminal
from ddaudit_tui.tui.loading import WaitForInput, start_loading
from ddaudit_tui.tui.marks import MARK_GLYPH, MarkTarget, refresh_all
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.base import PaneScreen, QuitPrompt
from ddaudit_tui.tui.sizes import MIN_HEIGHT, MIN_WIDTH
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.pane_bar import Crumb, PaneBadge

# First paint (issue 12): the panes other than the start pane, the dialogs, the pivots and the analyses
# behind them are imported when first used, not before the first frame. tests/tui/test_first_paint.py
# keeps it so.
if TYPE_CHECKING:
    from ddaudit_tui.orgs import OrgSource
    from ddaudit_tui.sources.base import Source
    from ddaudit_tui.tui.pivot import PivotChoice, PivotTarget


@dataclass(frozen=True)
class Pane:
    key: str  # the number key that switches to it
    mode: str
    title: str
    screen_path: str  # "module:Class", imported when the pane first opens
    description: str = ""  # one line: the question the pane answers (help, palette, tooltips)

    @property
    def screen(self) -> type[PaneScreen]:
        module, _, name = self.screen_path.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def make_screen(self) -> PaneScreen:
        return self.screen()


# One line per pane, in the pane bar's order.
PANES: tuple[Pane, ...] = (
    Pane(
        "1",
        "lookup",
        "Key lookup",
        "ddaudit_tui.tui.screens.key_lookup:KeyLookupScreen",
        "Was API key K compromised? Verdict, flags, origins, timeline",
    ),
    Pane(
        "2",
        "watch",
        "Spike watch",
        "ddaudit_tui.tui.screens.watch:WatchScreen",
        "Live alerts on bursts of sensitive changes, per actor",
    ),
    Pane(
        "3",
        "ai",
        "AI activity",
        "ddaudit_tui.tui.screens.ai:AiScreen",
        "What AI agents (MCP tools) did, for whom, and what they changed",
    ),
    Pane(
        "4",
        "explore",
        "Explore",
        "ddaudit_tui.tui.screens.explore:ExploreScreen",
        "Search every audit event; facets, presets and pivots",
    ),
    Pane(
        "5",
        "case",
        "Case",
        "ddaudit_tui.tui.screens.case_view:CaseScreen",
        "The investigation: marks and notes; Enter goes back, E exports it",
    ),
)
START_PANES = ("auto", *(p.mode for p in PANES))


def help_extra() -> tuple[type, ...]:
    """Screens that are not open yet but whose keys `?` lists."""
    from ddaudit_tui.tui.pivot import PivotMenu
    from ddaudit_tui.tui.screens.detail import EventDetailScreen

    return (EventDetailScreen, PivotMenu)


PIVOT_GROUP = "pivot"
FIRST_PAINT_FALLBACK_S = 2.0  # the source's after_first_paint() by then at the latest (see on_ready)
START_GROUP = "start-pane"


class DdauditApp(WaitForInput, App[int]):
    """`DdauditApp(source, window, query=..., local_time=..., export_dir=..., clock=..., site=...)`.

    `clock` (epoch seconds) is the only source of "now" for anything shown or written (export names),
    so tests and snapshots can freeze it.
    """

    TITLE = "ddaudit"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], object]]] = {p.mode: p.make_screen for p in PANES}  # type: ignore[misc]
    DEFAULT_MODE = "explore"  # the instance's start pane replaces it (see __init__)
    PANE_LIST: ClassVar[tuple[Pane, ...]] = PANES  # what the pane bar shows (it cannot import this module)
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
        Binding(
            "q",
            "request_quit",
            "Quit",
            id="app.quit",
            tooltip="Quit ddaudit; once there is work to lose, asks first (q again or y quits)",
        ),
        Binding("ctrl+c", "help_quit", "Quit (asks first, as q)", show=False, id="app.ctrl-c"),
        Binding("ctrl+q", "quit", "Quit at once, without asking", show=False, id="app.quit-now", priority=True),
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
            Binding(
                p.key, f"switch_pane('{p.mode}')", f"{p.title} pane", id=f"app.pane.{p.mode}", show=False,
                tooltip=p.description,
            )
            for p in PANES
        ),
        Binding("right_square_bracket", "cycle_pane(1)", "Next pane", id="app.next-pane", show=False),
        Binding("left_square_bracket", "cycle_pane(-1)", "Previous pane", id="app.previous-pane", show=False),
        # Priority: scrollable widgets bind ctrl+pageup/down to paging sideways (a browser's tab keys win).
        Binding("ctrl+pagedown", "cycle_pane(1)", "Next pane", id="app.next-pane-tab", show=False, priority=True),
        Binding(
            "ctrl+pageup", "cycle_pane(-1)", "Previous pane", id="app.previous-pane-tab", show=False, priority=True
        ),
        Binding(
            "escape", "back_pivot", "Back", id="app.back", tooltip="Back to where the last pivot (x) came from"
        ),
        # The case (issue 15, tui/case_session.py): m marks, n notes, E exports the whole investigation
        # ("Case export": the panes' own "Export" stays the palette's first answer to "export").
        Binding("m", "mark", "Mark", id="app.mark", show=False, tooltip="Mark the selected event, flag, row or alert as evidence (again: unmark)"),
        Binding("n", "note", "Note", id="app.note", show=False, tooltip="Write a note on the selected mark, or on the case"),
        Binding("E", "export_case", "Case export", id="app.export-case", show=False,
                tooltip="Export the whole investigation: report.md/html, case.json, evidence, SHA256SUMS"),
    ]  # fmt: skip

    local_time: reactive[bool] = reactive(False)
    # What each pane shows in the pane bar, by mode (panes publish: PaneScreen.publish_badge).
    badges: reactive[dict[str, PaneBadge]] = reactive(dict, always_update=True)
    # The pivot breadcrumb: where the pivots came from, the pane they led to last (Esc goes back).
    trail: reactive[tuple[Crumb, ...]] = reactive(tuple)

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
        start_pane: str = "explore",
        start_key: str | None = None,
        case: CaseSession | None = None,
    ) -> None:
        # Every session works in a case; reopening a named one restores its panes' last work.
        self.case = case if case is not None else CaseSession(default_analyst(), clock=clock)
        restored = self.case.restored
        if start_key is None and start_pane in ("auto", "lookup") and restored.get("lookup"):
            start_key = restored["lookup"].key_id
        if query == "*" and restored.get("explore") and restored["explore"].query:
            query = restored["explore"].query or "*"
        if start_key is not None:
            start_pane = "lookup"
        if start_pane not in START_PANES:
            raise ValueError(f"unknown pane {start_pane!r}: expected one of {', '.join(START_PANES)}")
        self.start_pane = start_pane
        self.start_key = start_key
        # "auto" opens Key lookup (the question a responder usually brings) and moves to Explore if
        # the data has no API key at all (see `_auto_start`). Read by App.__init__: set before it.
        self.DEFAULT_MODE = "lookup" if start_pane == "auto" else start_pane  # type: ignore[misc]
        self.MODES = {p.mode: functools.partial(self._new_pane, p) for p in PANES}  # type: ignore[misc]
        super().__init__()
        self.leaving = False  # set once quitting starts: no more input is handled
        self.source = source
        self.window = window
        self.initial_query = query
        self.export_dir = export_dir
        self.clock = clock
        # The Datadog site explorer links are made for ("Copy as"); None: US1. Set by the CLI.
        self.site: str | None = site
        # Several orgs (`--all-profiles`, tui/orgs.py): each org's source; `source` is the first's. Set by the CLI.
        self.orgs: list[OrgSource] = []
        self.set_reactive(DdauditApp.local_time, local_time)

    def _new_pane(self, pane: Pane) -> PaneScreen:
        """A pane, with the breakpoint classes of the terminal's size already set: Textual would set them
        on the pane's first Resize and restyle the whole pane for it, before the first frame (issue 12)."""
        screen = pane.make_screen()
        restore_pane(self, pane.mode, screen)  # a reopened case: the pane's last work (tui/case_restore.py)
        width, height = self.size
        for size, breakpoints in ((width, self.HORIZONTAL_BREAKPOINTS), (height, self.VERTICAL_BREAKPOINTS)):
            name = next((c for at, c in sorted(breakpoints, reverse=True) if size >= at), None)
            if name is not None:
                screen.add_class(name, update=False)
        return screen

    def get_driver_class(self) -> type[Driver]:
        return hangup_safe_driver(super().get_driver_class())

    def on_mount(self) -> None:
        # An SSH drop, `kill`, `kill -INT`: leave in order (workers cancelled, source closed, terminal
        # restored) instead of dying or lingering.
        watch_terminal(self, self._hang_up)
        start_loading(self)  # files: read page by page after the first frame (tui/loading.py)
        # Should a first frame never come (a terminal of size 0), the source must not wait for ever.
        self.set_timer(FIRST_PAINT_FALLBACK_S, self._first_paint_done)
        # A reopened case: its marks, counted on the pane bar (the Case pane itself loads when opened).
        marks = len(self.case.load().marks) if self.case is not None else 0
        if marks:
            self.set_badge("case", PaneBadge(f"{MARK_GLYPH} {marks}", MARK_GLYPH, "info"))
        if self.start_key is not None:
            self.call_after_refresh(self.run_worker, self.action_open_key(self.start_key), group=START_GROUP)
        elif self.start_pane == "auto":
            self.run_worker(
                self._auto_start(), group=START_GROUP, exit_on_error=False, description="Start pane"
            )

    def on_ready(self) -> None:
        # Textual's Ready comes once the first layout is done, and the frame is written after it.
        self.call_after_refresh(self._first_paint_done)

    def _first_paint_done(self) -> None:
        """The first frame is on screen: a held file source starts reading, the demo builds its org.
        Both hold the GIL for seconds: started by the first pane's first request, they would slow that
        frame down (issue 12: first paint ≤ 0.5 s). Called again: nothing happens."""
        gc.enable()  # paused by the entry point until now; before the source starts its heavy work
        after_first_paint = getattr(self.source, "after_first_paint", None)
        if callable(after_first_paint):
            after_first_paint()
        if self.case is not None:  # the input files' sha256 for the case: read in a thread
            self.case.resolve_source_in_background()

    async def _auto_start(self) -> None:
        """No API key in the data: Key lookup has nothing to offer, Explore opens instead — unless the
        user has already started something on Key lookup."""
        from ddaudit_tui.tui.screens.key_lookup import KEYS_QUERY

        if await self.source.exists(KEYS_QUERY, self.window):
            return
        lookup = self._screen_stacks.get("lookup", [])
        untouched = (
            self.current_mode == "lookup" and len(lookup) == 1 and not getattr(lookup[0], "has_work", False)
        )
        if untouched:
            await self.switch_mode("explore")
            self.notify(
                "No API key in the loaded data: opened Explore (1 goes to Key lookup).",
                markup=False,
                timeout=6,
            )

    async def _hang_up(self, code: int = EXIT_HANGUP) -> None:
        self.leaving = True
        await self._close_source()
        self.exit(return_code=code)

    def on_resize(self, event: events.Resize) -> None:
        # A small tmux pane shows the compact Spike watch; the pane shown before returns when it grows.
        # The full size with nothing to return to needs nothing: the compact watch's module (and the
        # Spike watch's analysis it needs) is imported when the terminal is first small (issue 12).
        full = event.size.width >= MIN_WIDTH and event.size.height >= MIN_HEIGHT
        if full and getattr(self, "_size_follower", None) is None:
            return
        from ddaudit_tui.tui.widgets.watch_compact import follow_size

        follow_size(self, event.size)

    async def on_event(self, event: events.Event) -> None:
        # Once the app is leaving, the rest of a burst of keys (a paste, `q` typed with the next key) is
        # dropped: a dialog opened while the screens are torn down would crash the exit.
        if self.leaving and isinstance(event, events.InputEvent):
            return
        await super().on_event(event)

    @property
    def source_label(self) -> str:
        return str(getattr(self.source, "label", "") or "")

    def pane_source_label(self, mode: str) -> str:
        """The source as `mode`'s header names it: with several orgs, which org(s) the pane works on."""
        if len(self.orgs) < 2:
            return self.source_label
        from ddaudit_tui.tui.orgs import pane_source_label

        return pane_source_label(self, mode, self.source_label)

    @property
    def orgs_label(self) -> str:
        """`3 orgs` in the pane bar when several orgs are asked; else ''."""
        return f"{len(self.orgs)} orgs" if len(self.orgs) > 1 else ""

    # -- keys typed ahead of a focus change -------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A paste or tmux send-keys delivers `/network` at once. Textual forwards each key to the widget
        focused when it reads the key, so `n`, `e`, `t`… are queued for the table before `/` moves the
        focus to the query box; the table does not use them and they bubble up here, where the
        bindings would read them from the query box (and drop them: it consumes printable keys). A
        printable key that arrives here while an input has the focus never reached that input (it would
        have kept it): it is typed into it now — at once, so a pasted Enter after it submits the whole
        text."""
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            event.stop()
            event.prevent_default()  # not App._on_key: no binding reads it
            focused.insert_text_at_cursor(event.character)

    # -- actions -------------------------------------------------------------------------------

    def action_switch_pane(self, mode: str) -> None:
        # A pane chosen by hand ends the pivot trail: Esc no longer means "back along it".
        self.trail = ()
        # Also for the current pane: that cancels a switch still waiting for a file to be read.
        self.switch_mode(mode)

    def action_cycle_pane(self, step: int) -> None:
        modes = [p.mode for p in PANES]
        index = modes.index(self.current_mode) if self.current_mode in modes else 0
        self.action_switch_pane(modes[(index + step) % len(modes)])

    def set_badge(self, mode: str, badge: PaneBadge | None) -> None:
        """A pane's badge changed (PaneScreen.publish_badge): every pane bar shows the new one."""
        if self.badges.get(mode) == badge:
            return
        badges = {k: v for k, v in self.badges.items() if k != mode}
        if badge is not None:
            badges[mode] = badge
        self.badges = badges

    # -- the pivot trail (breadcrumb) and Esc back ----------------------------------------------------

    def pane_title(self, mode: str) -> str:
        return next((p.title for p in PANES if p.mode == mode), mode)

    def _push_crumb(self, from_mode: str, to_mode: str, what: str = "") -> None:
        trail = list(self.trail)
        if not trail or trail[-1].mode != from_mode:
            trail = [Crumb(from_mode, self.pane_title(from_mode))]
        label = self.pane_title(to_mode) + (f" {what}" if what else "")
        trail.append(Crumb(to_mode, label))
        self.trail = tuple(trail[-6:])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_pane" and self.screen.is_modal:
            return False  # a dialog is open: the priority ctrl+pageup/down pass through to it
        if action == "back_pivot":
            # Esc is "back" only right after a pivot, on the pane it led to: otherwise the key is free.
            trail = self.trail
            return len(trail) > 1 and trail[-1].mode == self.current_mode and len(self.screen_stack) == 1
        return True

    async def action_back_pivot(self) -> None:
        trail = list(self.trail)
        if len(trail) < 2:
            return
        trail.pop()
        target = trail[-1].mode
        self.trail = tuple(trail) if len(trail) > 1 else ()
        if self.current_mode != target:
            await self.switch_mode(target)

    async def action_open_key(self, key_id: str) -> None:
        """Key lookup of `key_id` (what other panes call, e.g. Explore's `K`)."""
        forget(self, "lookup")  # this key, not the case's last one, when the pane is first made
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
        from ddaudit_tui.tui.screens.copy_as_dialog import CopyAsDialog

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
        from ddaudit_tui.tui.pivot import PivotTarget, enrich_targets, event_targets
        from ddaudit_tui.tui.screens.detail import EventDetailScreen
        from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions

        node = self.focused
        while node is not None:
            ask = getattr(node, "pivot_targets", None)
            if callable(ask):
                # The row's item may say more than its cells (an alert knows its asset is an API key).
                return enrich_targets(list(ask()), getattr(node, "cursor_item", None))
            if isinstance(node, KeySuggestions):
                key = node.highlighted_key
                return [PivotTarget("@metadata.api_key.id", key.key_id, "API key")] if key else []
            if isinstance(node, EventDetailScreen):
                # The detail has no line cursor: its pivots are the shown event's fields.
                return event_targets(node.event)
            node = node.parent
        return []

    def action_pivot(self) -> None:
        from ddaudit_tui.tui.pivot import PivotMenu

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
        from ddaudit_tui.analysis.presets import build_query, expand_user
        from ddaudit_tui.tui.pivot import ACTOR, AI, EXCLUDE, FILTER, IP, KEY, RESOURCE, USER, actor_term

        target, action = choice.target, choice.action
        value = target.value or ""
        from_mode = self.current_mode
        try:
            if action in (FILTER, EXCLUDE):
                await self.pivot_to_explore(target.term(exclude=action == EXCLUDE), narrow=narrow)
            elif action == KEY:
                await self._pane_on_top("lookup")
                await self.action_open_key(value)
            elif action == ACTOR:
                await self.pivot_to_explore(actor_term(target), narrow=False)
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
            if self.current_mode != from_mode:
                short = clean(value, max_len=12) if value else ""
                self._push_crumb(from_mode, self.current_mode, short)
                to_mode, what = self.current_mode, f"{target.label} {value}".strip()
                journal(self, lambda c: c.record_pivot(
                    f"pivot from {self.pane_title(from_mode)} to {self.pane_title(to_mode)}: {what}", from_mode, to_mode
                ))  # fmt: skip
        except Exception as exc:  # a failed pivot is explained, never fatal
            message = clean(str(exc) or type(exc).__name__, max_len=300)
            self.notify(message, title="Pivot failed", severity="error", markup=False, timeout=10)

    async def pivot_to_explore(self, term: str, *, narrow: bool) -> None:
        """Explore, running `term`. From Explore itself the pivot narrows the query the user built
        (a drill-down, like a facet); from another pane the Explore query has nothing to do with the
        row pivoted on, so the term replaces it."""
        from ddaudit_tui.analysis.explore import add_term
        from ddaudit_tui.tui.screens.explore import ExploreScreen, QueryInput
        from ddaudit_tui.tui.widgets.event_table import EventTable

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
        from ddaudit_tui.tui.screens.ai import LOAD_GROUP as AI_LOAD_GROUP
        from ddaudit_tui.tui.screens.ai import AiScreen

        forget(self, "ai")  # this user's drill-down, not the case's last one
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

    # -- the case: marks, notes, export (issue 15; the work is in tui/case_*.py) ----------------------------

    def case_changed(self) -> None:
        """Marks or notes changed: every table redraws its glyphs, the Case view its rows."""
        from ddaudit_tui.tui.screens.case_view import CaseScreen

        refresh_all(self)
        self.set_badge("case", CaseScreen.badge_for(self.case))

    def action_mark(self) -> None:
        """`m`: mark the selected thing of the current pane (or dialog) as evidence; on a marked one,
        remove the mark."""
        target = target_for(self.screen)
        if target is None:
            self.notify(
                "Nothing to mark here: select an event, a flag, a row or an alert.",
                severity="warning",
                markup=False,
            )
            return
        pane = self.current_mode
        existing = self.case.find_mark(target, pane)
        if existing is not None:
            if journal(self, lambda c: c.unmark(existing.id)):
                self.notify(f"Removed mark {existing.id}.", markup=False)
            self.case_changed()
        elif target.fetch is not None:  # its events are not read yet (an alert never opened, an actor)
            self.run_worker(mark_when_read(self, target, pane), group="case-mark", exit_on_error=False)
        else:
            self.mark_target(target, pane)

    def mark_target(self, target: MarkTarget, pane: str) -> None:
        if (m := journal(self, lambda c: c.mark(target, pane))) is not None:
            where = "" if self.case.named else f" in case {self.case.name} (E names and exports it)"
            self.notify(f"{MARK_GLYPH} Marked {m.id}: {clean(m.label, max_len=80)}{where}", markup=False)
        self.case_changed()

    def action_note(self) -> None:
        """`n`: a note on the selected thing's mark, else on the case."""
        from ddaudit_tui.tui.screens.case_view import CaseScreen, TextDialog

        target_id = CASE_NOTE
        if isinstance(self.screen, CaseScreen):
            target_id = self.screen.mark_id() or CASE_NOTE
        elif (t := target_for(self.screen)) is not None and (m := self.case.find_mark(t, self.current_mode)):
            target_id = m.id
        what = "the case" if target_id == CASE_NOTE else f"mark {target_id}"

        def done(text: str | None) -> None:
            if text is not None and journal(self, lambda c: c.note(target_id, text)):
                self.notify(f"Note on {what} saved." if text else f"Note on {what} removed.", markup=False)
                self.case_changed()

        self.push_screen(
            TextDialog(
                f"Note on {what}", self.case.note_text(target_id), "enter saves · empty removes · esc cancels"
            ),
            callback=done,
        )

    def action_export_case(self) -> None:
        """`E`: the whole investigation as one folder; asks for a name while the case has none."""
        from ddaudit_tui.tui.screens.case_view import TextDialog

        if self.case.named:
            self._export_case()
            return

        def named(name: str | None) -> None:
            if name and journal(self, lambda c: c.rename(name)):
                self._export_case()

        self.push_screen(
            TextDialog("Name this case to export it", "", "letters, digits, . _ - (e.g. inc-4711) · esc cancels",
                       check=case_name_problem, placeholder="inc-4711"),
            callback=named,
        )  # fmt: skip

    def _export_case(self) -> None:
        out = self.export_dir or Path.cwd()
        path = journal(self, lambda c: c.export(out))
        if path is not None:
            self.notify(f"Exported case {self.case.name} to {path}", title="Case exported", markup=False)
            self.case_changed()

    def action_toggle_time(self) -> None:
        self.local_time = not self.local_time

    def action_help(self) -> None:
        from ddaudit_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, help_extra()))

    # -- quitting ------------------------------------------------------------------------------------

    def work_to_lose(self) -> list[str]:
        """The panes where quitting would lose something (a lookup, a typed query): their titles."""
        out = []
        for pane in PANES:
            stack = self._screen_stacks.get(pane.mode) or []
            if stack and getattr(stack[0], "has_work", False):
                out.append(pane.title)
        return out

    def action_request_quit(self) -> None:
        """`q` (and ctrl+c): quit at once when nothing would be lost, else ask in one line."""
        if isinstance(self.screen, QuitPrompt):
            return
        lost = self.work_to_lose()
        if not lost:
            self.run_worker(self.action_quit(), group="quit")
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.run_worker(self.action_quit(), group="quit")

        self.push_screen(QuitPrompt(" and ".join(lost)), callback=answered)

    def action_help_quit(self) -> None:
        # ctrl+c behaves as q (Textual's default only says how to quit).
        self.action_request_quit()

    async def action_quit(self) -> None:
        """Quit at once (ctrl+q, or the answer to the prompt). Exit code 0."""
        self.leaving = True
        await self._close_source()
        self.exit(0)

    async def _close_source(self) -> None:
        sources = [self.source, *(o.source for o in self.orgs if o.source not in (None, self.source))]
        for source in sources:
            close = getattr(source, "aclose", None)
            if close is None:
                continue
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
