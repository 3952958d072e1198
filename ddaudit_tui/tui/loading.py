"""Files read while the TUI runs: the app paints first, then follows the source's load.

A streaming `FileSource` (see sources/files.py) reads and decodes in its own thread, started after the
first frame. While it reads, `app.window` is the span read so far (a `ProvisionalWindow`, shown in the
header as it grows) and Explore shows the events page by page. The other panes analyse the whole input
over the whole window, so switching to one of them waits for the end of the input (with a notice); a
failed read ends the app, and the CLI prints the one-line error (exit code 4), as it does for a file that
fails before the app starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual.app import App
from textual.await_complete import AwaitComplete

from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.header import PaneHeader

LOAD_GROUP = "source-load"
PANE_WAIT_GROUP = "pane-wait"
STREAMING_MODES = frozenset({"explore"})  # panes that show the events as they come
FOLLOW_S = 0.25  # how often the app's window follows the span read so far
EXIT_INPUT = 4  # the CLI's exit code for input that cannot be read (cliutil.EXIT_INPUT; no CLI import here)


def source_loading(app: App[Any]) -> bool:
    """Whether the app's source is a file still being read."""
    return bool(getattr(getattr(app, "source", None), "loading", False))


def start_loading(app: App[Any]) -> None:
    """Start reading the source's files after the first frame, and follow the read (call on mount)."""
    source = getattr(app, "source", None)
    if not getattr(source, "streaming", False):
        return
    # After the first refresh: the decoding thread competes with the first frame for the GIL.
    app.call_after_refresh(source.start)  # type: ignore[union-attr]
    app.run_worker(_follow(app), group=LOAD_GROUP, exit_on_error=False, description="Reading the input")


async def _follow(app: App[Any]) -> None:
    source: Any = getattr(app, "source", None)
    while source.loading:
        app.window = source.current_window()  # type: ignore[attr-defined]
        await asyncio.sleep(FOLLOW_S)
    app.window = source.current_window()  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):  # a screen without a header
        for header in app.screen.query(PaneHeader):
            header.refresh()
    if source.load_error is not None:
        app.exit(return_code=EXIT_INPUT)


class WaitForInput(App[Any]):
    """Mix-in for the app: panes other than `STREAMING_MODES` open once the input is read.

    They analyse the whole input over the whole window, and `app.window` is only final then. The last
    pane asked for wins (asking for Explore meanwhile cancels a pending switch). While the input is read,
    `switch_mode` to such a pane returns at once; the switch happens later, in a worker."""

    _pending_mode: str | None = None

    def switch_mode(self, mode: str) -> Any:
        if mode in STREAMING_MODES or not source_loading(self):
            self._pending_mode = None
            return super().switch_mode(mode)
        self._pending_mode = mode
        self._tell_waiting()
        self.run_worker(
            self._switch_when_loaded(mode),
            group=PANE_WAIT_GROUP,
            exclusive=True,
            exit_on_error=False,
            description="Waiting for the input to be read",
        )
        return AwaitComplete.nothing()

    def open_key_when_loaded(self, key_id: str) -> bool:
        """While the input is read: look `key_id` up once it is read (True); otherwise False."""
        if not source_loading(self):
            return False
        self._pending_mode = "lookup"
        self._tell_waiting()
        self.run_worker(
            self._open_key_when_loaded(key_id),
            group=PANE_WAIT_GROUP,
            exclusive=True,
            exit_on_error=False,
            description="Waiting for the input to be read",
        )
        return True

    def _tell_waiting(self) -> None:
        source: Any = getattr(self, "source", None)
        p = source.progress
        done = f" ({100 * p.bytes_read // p.bytes_total}% read)" if p.bytes_total else ""
        self.notify(
            f"Still reading {clean(str(source.label), max_len=60)}{done}: this pane opens when the input "
            "is read. Explore shows the events as they come.",
            title="Reading the input",
            markup=False,
            timeout=4,
        )

    async def _loaded(self) -> bool:
        source: Any = getattr(self, "source", None)
        try:
            await source.wait_loaded()
        except Exception:
            return False  # the read failed: `_follow` ends the app with the error
        return True

    # The switch itself goes through the app's message queue, as a key press would: a screen mounted
    # from a worker's task may run its on_mount before its children are composed.

    async def _switch_when_loaded(self, mode: str) -> None:
        if await self._loaded() and self._pending_mode == mode:
            self.call_later(self._switch_now, mode)

    def _switch_now(self, mode: str) -> None:
        if self._pending_mode == mode:
            self._pending_mode = None
            super().switch_mode(mode)

    async def _open_key_when_loaded(self, key_id: str) -> None:
        if await self._loaded() and self._pending_mode == "lookup":
            self.call_later(self._open_key_now, key_id)

    async def _open_key_now(self, key_id: str) -> None:
        if self._pending_mode == "lookup":
            self._pending_mode = None
            await self.action_open_key(key_id)  # type: ignore[attr-defined]
