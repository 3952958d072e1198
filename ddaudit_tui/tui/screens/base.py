"""The frame every pane lives in: header, body, a "terminal too small" notice, footer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from ddaudit_tui.sources.base import Progress
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.widgets.header import PaneHeader, Status

if TYPE_CHECKING:
    from ddaudit_tui.tui.app import DdauditApp

MIN_WIDTH = 60
MIN_HEIGHT = 20


class TooSmall(Static):
    """Shown instead of the pane when the terminal is below MIN_WIDTH × MIN_HEIGHT."""

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
                f"ddaudit needs at least {MIN_WIDTH}×{MIN_HEIGHT} — enlarge the window or pane.\n"
                "q quits."
            )
        )


class PaneScreen(Screen[None]):
    """Base class for panes. Subclasses set PANE_TITLE and implement `compose_body`."""

    PANE_TITLE: ClassVar[str] = ""

    @property
    def ddaudit(self) -> DdauditApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield PaneHeader(self.PANE_TITLE, id="pane-header")
        with Vertical(id="pane-body"):
            yield from self.compose_body()
        yield TooSmall(id="too-small")
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_status(self, status: Status) -> None:
        self.query_one(PaneHeader).status = status

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
        self.query_one(TooSmall).show_size(event.size.width, event.size.height)

    # -- "copy as" (the app's `Y`) -------------------------------------------------------------

    def shown_query(self) -> tuple[str, list[str] | None] | None:
        """(query, columns as field paths or None) of what the pane shows; None when it shows none."""
        return None

    def shown_window(self) -> Window:
        """The window `shown_query` ran over (the app's, unless the pane uses its own)."""
        return self.ddaudit.window
