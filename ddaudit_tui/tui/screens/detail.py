"""One event's full JSON, pretty-printed and highlighted; n/p step through the table's events."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.safe_text import clean, display_json
from ddaudit_tui.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from ddaudit_tui.tui.widgets.event_table import EventTable

# One pass over `display_json` output (valid JSON): strings are matched first, so digits or `true`
# inside a string are never coloured as numbers or literals.
_TOKENS = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\b(?:true|false|null)\b)"
)
_TOKEN_STYLES = {"key": "bold blue", "string": "green", "number": "cyan", "literal": "magenta"}


def highlight_json(text: str) -> Text:
    """`text` in a `Text` with JSON token styles. No markup is parsed: styles are spans."""
    out = Text(text, end="", no_wrap=True)
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind is not None:
            out.stylize(_TOKEN_STYLES[kind], match.start(), match.end())
    return out


class EventDetailScreen(ModalScreen[int | None]):
    """Dismisses with the index of the event last shown, so the table can follow."""

    HELP_GROUP: ClassVar[str] = "Event detail"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="detail.close"),
        # A modal screen hides the app's bindings: `x` (pivot, tui/pivot.py) is repeated here.
        Binding("x", "app.pivot", "Pivot…", id="detail.pivot", show=False),
        Binding("m", "app.mark", "Mark", id="detail.mark", show=False, tooltip="Mark this event as evidence"),
        Binding("n", "step(1)", "Next event", id="detail.next"),
        Binding("p", "step(-1)", "Previous event", id="detail.previous"),
        Binding("j,down", "scroll('down')", "Scroll down", show=False, id="detail.down"),
        Binding("k,up", "scroll('up')", "Scroll up", show=False, id="detail.up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="detail.top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="detail.bottom"),
        Binding(
            "ctrl+d,pagedown,space", "scroll('page_down')", "Page down", show=False, id="detail.page-down"
        ),
        Binding("ctrl+u,pageup", "scroll('page_up')", "Page up", show=False, id="detail.page-up"),
        Binding("h,left", "scroll('left')", "Scroll left", show=False, id="detail.left"),
        Binding("l,right", "scroll('right')", "Scroll right", show=False, id="detail.right"),
    ]

    DEFAULT_CSS = """
    EventDetailScreen {
        align: center middle;
        & > #detail-frame {
            width: 100%;
            height: 100%;
            border: tall $accent;
            background: $surface;
        }
        & #detail-title { height: auto; padding: 0 1; background: $panel; text-style: bold; }
        & #detail-body { height: 1fr; padding: 0 1; }
        & #detail-json { width: auto; text-wrap: nowrap; text-overflow: clip; }
    }
    """

    def __init__(self, events: Sequence[Event], index: int) -> None:
        super().__init__()
        self.events = events
        self.index = index

    @property
    def event(self) -> Event:
        return self.events[self.index]

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-frame"):
            yield Static(id="detail-title")
            with VerticalScroll(id="detail-body", can_focus=True):
                yield Static(id="detail-json")
        yield PaneFooter(compact=True)

    def on_mount(self) -> None:
        self._show()
        self.query_one("#detail-body").focus()
        self.watch(self.app, "local_time", lambda _local: self._show_title(), init=False)

    def _show_title(self) -> None:
        ev = self.event
        local = bool(getattr(self.app, "local_time", False))
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append(f"event {self.index + 1:,}/{len(self.events):,}  ")
        title.append(fmt_ts(ev.ts, local))
        what = " ".join(clean(v) for v in (ev.evt_name, ev.action) if v)
        if what:
            title.append(f"  {what}")
        title.append(f"  by {clean(ev.actor, max_len=60)}")
        title.append(f"\nid {clean(ev.id)}", style="dim")
        self.query_one("#detail-title", Static).update(title)

    def _show(self) -> None:
        self._show_title()
        try:
            body = display_json(self.event.item())
        except Exception as exc:  # raw bytes that are not JSON: show them, escaped, rather than fail
            body = f"(not valid JSON: {clean(str(exc))})\n" + clean(
                self.event.raw.decode("utf-8", "replace"), single_line=False
            )
        self.query_one("#detail-json", Static).update(highlight_json(body))
        self.query_one("#detail-body", VerticalScroll).scroll_home(animate=False)

    @property
    def json_text(self) -> str:
        return str(self.query_one("#detail-json", Static).render())

    def action_close(self) -> None:
        self.dismiss(self.index)

    def action_step(self, delta: int) -> None:
        new = self.index + delta
        if 0 <= new < len(self.events):
            self.index = new
            self._show()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        {
            "down": lambda: body.scroll_down(animate=False),
            "up": lambda: body.scroll_up(animate=False),
            "home": lambda: body.scroll_home(animate=False),
            "end": lambda: body.scroll_end(animate=False),
            "page_down": lambda: body.scroll_page_down(animate=False),
            "page_up": lambda: body.scroll_page_up(animate=False),
            "left": lambda: body.scroll_left(animate=False),
            "right": lambda: body.scroll_right(animate=False),
        }[where]()


def open_detail(table: EventTable, index: int) -> None:
    """The detail of the table's row `index`; when it closes, the table's cursor is on the event last
    shown (n/p step through the table's rows in the detail)."""

    def back_to(shown: int | None) -> None:
        if shown is not None:
            table.move_cursor(shown)

    table.app.push_screen(EventDetailScreen(table.rows, index), callback=back_to)
