"""“Copy as…”: the query a pane shows, said four ways — the plain query, the `pup audit-logs search`
command, the Audit Trail explorer URL for the configured site, and the DDSQL `dd.audit(...)` query.

Every string is shown in full and wrapped, so a user whose terminal refuses OSC 52 can still select it
with the mouse or tmux copy-mode. One is highlighted at a time (j/k, ↑/↓, tab); Enter sends it to the
clipboard with OSC 52, `w` writes all four to a private file (each on its own lines, unwrapped).

The strings are `report.copy_as` over (query, window, site, columns): the pane gives the query, its
columns and the window it used (`PaneScreen.shown_query` / `shown_window`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ddaudit_tui.report.copy_as import FORMATS, copy_as, rfc3339
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.export import _new_private_file, export_name
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.key_lookup import CLIPBOARD_MAX, TMUX_HINT
from ddaudit_tui.tui.widgets.header import window_text

WRITE_GROUP = "copy-as-write"

# (format id, title). "query" is the search syntax itself; the others are `report.copy_as.FORMATS`.
CHOICES: tuple[tuple[str, str], ...] = (
    ("query", "Audit search query"),
    *((fmt, title) for fmt, title in FORMATS.items()),
)
# What a toast calls each one ("Sent the pup command …").
NOUNS = {"query": "query", "pup": "pup command", "url": "explorer URL", "ddsql": "DDSQL query"}


@dataclass(frozen=True)
class CopyItem:
    fmt: str
    title: str
    text: str


def copy_items(query: str, window: Window, site: str | None, columns: Sequence[str] | None) -> list[CopyItem]:
    """The four strings, in display order."""
    q = query.strip() or "*"
    items = [CopyItem("query", CHOICES[0][1], q)]
    for fmt, title in CHOICES[1:]:
        items.append(CopyItem(fmt, title, copy_as(fmt, q, window, site, columns)))
    return items


class CopyChoice(Static, can_focus=True):
    """One string, titled, wrapped in full. Focus = highlighted (a ▶ and reverse title: NO_COLOR-safe)."""

    DEFAULT_CSS = """
    CopyChoice {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
        border-left: blank;
    }
    CopyChoice:focus {
        border-left: thick $accent;
        background: $boost;
    }
    """

    def __init__(self, item: CopyItem, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.item = item

    def on_mount(self) -> None:
        self._draw(self.has_focus)

    # (These run before Widget's own handlers set `has_focus`: the event says which it is.)
    def on_focus(self, _event: events.Focus) -> None:
        self._draw(True)
        self.scroll_visible(animate=False)

    def on_blur(self, _event: events.Blur) -> None:
        self._draw(False)

    def _draw(self, focused: bool) -> None:
        text = Text(end="")
        text.append("▶ " if focused else "  ", style="bold")
        text.append(self.item.title, style="bold reverse" if focused else "bold")
        text.append("\n")
        # Wrapped wherever the width ends (a URL has no spaces): every character stays on screen.
        # Cleaned for the screen only; the clipboard gets the exact string.
        text.append(clean(self.item.text, single_line=False))
        self.update(text)

    def on_click(self, _event: events.Click) -> None:
        self.focus()


class CopyAsDialog(ModalScreen[None]):
    """`CopyAsDialog(query, window, site=..., columns=..., source_title=...)`."""

    HELP_GROUP: ClassVar[str] = "Copy as dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "copy", "Copy", id="copy-as.copy", tooltip="Send the highlighted string (OSC 52)"),
        Binding(
            "w", "write", "Write all", id="copy-as.write", tooltip="Write all four to a file (mode 0600)"
        ),
        Binding("escape,q", "close", "Close", id="copy-as.close"),
        Binding("j,down", "move(1)", "Next", show=False, id="copy-as.next"),
        Binding("k,up", "move(-1)", "Previous", show=False, id="copy-as.previous"),
    ]

    DEFAULT_CSS = """
    CopyAsDialog {
        align: center middle;
        & > #copy-frame {
            width: 100;
            max-width: 96%;
            height: auto;
            max-height: 94%;
            border: thick $primary;
            background: $surface;
            padding: 0 1;
        }
        & #copy-title { text-style: bold; }
        & #copy-window { color: $text-muted; margin: 0 0 1 0; }
        /* The frame's other rows take ~6 lines: the body scrolls within what is left, hint kept. */
        & #copy-body { height: auto; max-height: 65vh; scrollbar-size-vertical: 1; }
        & #copy-hint { color: $text-muted; }
    }
    """

    def __init__(
        self,
        query: str,
        window: Window,
        *,
        site: str | None = None,
        columns: Sequence[str] | None = None,
        source_title: str = "",
    ) -> None:
        super().__init__()
        self.query_text = query
        self.window = window
        self.site = site
        self.columns = list(columns) if columns is not None else None
        self.source_title = source_title
        self.items = copy_items(query, window, site, self.columns)

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-frame"):
            title = Text("Copy as…", style="bold", end="")
            if self.source_title:
                title.append(f" — the query of {clean(self.source_title, max_len=60)}", style="")
            yield Static(title, id="copy-title")
            local = bool(getattr(self.app, "local_time", False))
            site = clean(self.site or "datadoghq.com", max_len=60)
            yield Static(
                Text(f"window {window_text(self.window, local)} · site {site}", end=""), id="copy-window"
            )
            with VerticalScroll(id="copy-body", can_focus=False):
                for item in self.items:
                    yield CopyChoice(item, id=f"copy-{item.fmt}")
            yield Static(
                Text(
                    "j/k choose · enter copies (OSC 52) · w writes all to a file · esc closes · "
                    "or select the text with the mouse / tmux copy-mode",
                    end="",
                ),
                id="copy-hint",
            )

    def on_mount(self) -> None:
        self.query_one(f"#copy-{self.items[0].fmt}", CopyChoice).focus()

    # -- the highlighted string ------------------------------------------------------------------

    @property
    def highlighted(self) -> CopyItem:
        focused = self.focused
        if isinstance(focused, CopyChoice):
            return focused.item
        return self.items[0]

    def action_move(self, step: int) -> None:
        fmts = [i.fmt for i in self.items]
        index = (fmts.index(self.highlighted.fmt) + step) % len(fmts)
        self.query_one(f"#copy-{fmts[index]}", CopyChoice).focus()

    def action_copy(self) -> None:
        item = self.highlighted
        noun = NOUNS.get(item.fmt, item.fmt)
        if len(base64.b64encode(item.text.encode())) > CLIPBOARD_MAX:
            # Too big for OSC 52 in most terminals: the file instead, whose path the toast gives.
            self.notify(
                f"The {noun} is too large for the terminal clipboard: writing all four to a file instead.",
                severity="warning",
                markup=False,
            )
            self.action_write()
            return
        self.app.copy_to_clipboard(item.text)
        # The terminal never says whether OSC 52 worked: say what was sent, and the usual fix.
        self.notify(
            f"Sent the {noun} ({len(item.text):,} characters) to the terminal clipboard with OSC 52. "
            f"If it does not paste: the terminal must allow OSC 52; {TMUX_HINT}; or select it on screen, "
            "or press w to write it to a file.",
            title="Copy as",
            markup=False,
            timeout=12,
        )

    def action_write(self) -> None:
        app = self.app
        directory = getattr(app, "export_dir", None) or Path.cwd()
        now = float(app.clock()) if hasattr(app, "clock") else 0.0
        self._write(directory, now)

    @work(thread=True, exit_on_error=False, group=WRITE_GROUP, description="Writing the copy-as strings")
    def _write(self, directory: Path, now: float) -> Path:
        path = write_copy_file(self.items, directory, now, self.window, self.site, self.source_title)
        self.app.call_from_thread(
            self.notify,
            f"Wrote the query, pup command, explorer URL and DDSQL (mode 0600) to {clean(str(path))}",
            title="Copy as",
            markup=False,
            timeout=15,
        )
        return path

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == WRITE_GROUP:
            error = event.worker.error
            message = clean(str(error) or type(error).__name__, max_len=300)
            self.notify(message, title="Write failed", severity="error", markup=False, timeout=10)

    def action_close(self) -> None:
        self.dismiss(None)


def write_copy_file(
    items: Sequence[CopyItem],
    directory: Path,
    now: float,
    window: Window,
    site: str | None,
    source_title: str,
) -> Path:
    """`ddaudit-copy-as-<UTC stamp>.txt` in `directory`: a header, then each string under its title.

    Control characters are removed (`cat` of the file must not drive the terminal); queries built by
    ddaudit never hold any, so the file matches the clipboard for them.
    """
    directory = directory.expanduser().resolve()
    path, fd = _new_private_file(directory, export_name("copy-as", now, suffix=""), "txt")
    lines = [
        f"# ddaudit copy-as{f' — {clean(source_title)}' if source_title else ''}",
        f"# window: {rfc3339(window.start)} → {rfc3339(window.end)}",
        f"# site: {clean(site or 'datadoghq.com')}",
        "",
    ]
    for item in items:
        lines += [f"## {item.title}", clean(item.text, single_line=False), ""]
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write("\n".join(lines))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
