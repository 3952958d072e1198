"""The frame every pane lives in: pane bar, header, body, a "terminal too small" notice, footer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ddaudit_tui.sources.base import Progress, Source
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.sizes import COMPACT_MIN_HEIGHT, COMPACT_MIN_WIDTH, MIN_HEIGHT, MIN_WIDTH
from ddaudit_tui.tui.widgets.header import PaneHeader, Status
from ddaudit_tui.tui.widgets.pane_bar import PaneBadge, PaneBar
from ddaudit_tui.tui.widgets.pane_footer import PaneFooter


class TooSmall(Static):
    """Shown instead of the pane when the terminal is below MIN_WIDTH × MIN_HEIGHT (and, in the Spike
    watch, which has a compact layout, below COMPACT_MIN_WIDTH × COMPACT_MIN_HEIGHT)."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        text-style: bold;
    }
    """

    def show_size(self, width: int, height: int) -> None:
        self.update(
            Text(
                f"Terminal too small: {width}×{height}.\n"
                f"ddaudit needs at least {MIN_WIDTH}×{MIN_HEIGHT},\n"
                f"the Spike watch {COMPACT_MIN_WIDTH}×{COMPACT_MIN_HEIGHT}.\n"
                "Enlarge the window or pane; q quits."
            )
        )


@runtime_checkable
class PaneHost(Protocol):
    """The app as the panes see it: what they read from and call on `DdauditApp` (tui/app.py), on top
    of Textual's `App`. Owned here so that no screen imports app.py, which imports every screen."""

    source: Source
    window: Window
    initial_query: str  # the query the app was started with (Explore runs it first)
    export_dir: Path | None
    clock: Callable[[], float]  # the only "now" for anything shown or written
    local_time: bool

    @property
    def source_label(self) -> str: ...

    async def action_open_key(self, key_id: str) -> None: ...


class PaneScreen(Screen[None]):
    """Base class for panes. Subclasses set PANE_TITLE and implement `compose_body`; they may override
    `badge()` (what the pane bar shows next to their name) and `has_work` (what quitting would lose)."""

    PANE_TITLE: ClassVar[str] = ""

    @property
    def ddaudit(self) -> PaneHost:
        return self.app  # type: ignore[return-value]

    @property
    def pane_mode(self) -> str:
        """The app mode this pane is the base of ("lookup", "watch", "ai", "explore")."""
        for pane in getattr(self.app, "PANE_LIST", ()):
            if isinstance(self, pane.screen):
                return str(pane.mode)
        return ""

    @property
    def pane_description(self) -> str:
        """One line: the question the pane answers (shown under its title in `?`)."""
        for pane in getattr(self.app, "PANE_LIST", ()):
            if isinstance(self, pane.screen):
                return f"{pane.key}: {pane.description}" if pane.description else ""
        return ""

    def compose(self) -> ComposeResult:
        yield PaneBar(self.pane_mode, id="pane-bar")
        yield PaneHeader(self.PANE_TITLE, id="pane-header")
        with Vertical(id="pane-body"):
            yield from self.compose_body()
        yield TooSmall(id="too-small")
        yield PaneFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_status(self, status: Status) -> None:
        self.query_one(PaneHeader).status = status
        # A status change is when a pane's result changes: its badge may have too.
        self.publish_badge()

    # -- the pane bar and quitting -------------------------------------------------------------------

    def badge(self) -> PaneBadge | None:
        """What the pane bar shows next to this pane's name, in every pane; None: nothing."""
        return None

    def publish_badge(self) -> None:
        """Hand the pane's badge to the app, whose bars (one per pane) all show it."""
        publish = getattr(self.app, "set_badge", None)
        if callable(publish) and self.pane_mode:
            publish(self.pane_mode, self.badge())

    @property
    def has_work(self) -> bool:
        """Whether quitting would lose something the user did here (a lookup, a typed query)."""
        return False

    def on_ui_thread(self, fn: Callable[..., None], *args: Any) -> None:
        """Call `fn` on the UI thread: sources may report from a thread (a sync client in a pool)."""
        if threading.get_ident() != self.app._thread_id:
            self.app.call_from_thread(fn, *args)
        else:
            fn(*args)

    def _on_progress(self, progress: Progress) -> None:
        """The progress callback panes hand to `source.fetch`."""
        self.on_ui_thread(self._show_progress, progress)

    def _show_progress(self, progress: Progress) -> None:
        self.set_status(Status.from_progress(progress))

    @property
    def status(self) -> Status:
        return self.query_one(PaneHeader).status

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        self.query_one(TooSmall).show_size(width, height)
        # Below the compact watch's floor the notice is all there is room for (app.tcss).
        self.set_class(width < COMPACT_MIN_WIDTH or height < COMPACT_MIN_HEIGHT, "-tiny")

    # -- "copy as" (the app's `Y`) -------------------------------------------------------------

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        """(query, columns as field paths or None) of what the pane shows; None when it shows none."""
        return None

    def shown_window(self) -> Window:
        """The window `shown_query` ran over (the app's, unless the pane uses its own)."""
        return self.ddaudit.window


class QuitPrompt(ModalScreen[bool]):
    """The one-line question `q` asks when there is something to lose: `q` or `y` (or ctrl+c again)
    quits, any other key stays. It covers only the footer line; the pane stays readable above it."""

    HELP_GROUP: ClassVar[str] = "Quit?"
    QUIT_KEYS: ClassVar[frozenset[str]] = frozenset({"q", "y", "Y", "ctrl+c"})

    DEFAULT_CSS = """
    QuitPrompt {
        background: transparent;
        align: left bottom;
        & > #quit-line {
            dock: bottom;
            height: 1;
            width: 1fr;
            padding: 0 1;
            background: $warning;
            color: $text;
            text-style: bold;
        }
    }
    App:nocolor QuitPrompt > #quit-line { text-style: bold reverse; }
    """

    def __init__(self, lost: str = "") -> None:
        super().__init__()
        self.lost = lost

    def compose(self) -> ComposeResult:
        text = Text("Quit? q again or y to quit, any other key stays", end="")
        if self.lost:
            text.append(f" · unsaved work in {self.lost}", style="")
        yield Static(text, id="quit-line")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key in self.QUIT_KEYS)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss(False)
