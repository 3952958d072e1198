"""`?`: every key binding of the app, the pane and its widgets — generated, never hand-written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ddaudit_tui.analysis.glossary import GLOSSARY
from ddaudit_tui.tui.commands import KeyGroup, binding_groups
from ddaudit_tui.tui.safe_text import fit

_KEYS_WIDTH = 22


def render_help(groups: Sequence[KeyGroup]) -> Text:
    text = Text(end="")
    for n, group in enumerate(groups):
        if n:
            text.append("\n")
        text.append(group.title.upper(), style="bold underline")
        text.append("\n")
        for entry in group.entries:
            keys = ", ".join(entry.keys)
            width = max(_KEYS_WIDTH, cell_len(keys) + 2)
            text.append("  " + fit(keys, width), style="bold")
            text.append(entry.description)
            if entry.tooltip and entry.tooltip != entry.description:
                text.append(f" — {entry.tooltip}", style="dim")
            text.append("\n")
    return text


# -- what the pane's numbers mean (analysis/glossary.py) -------------------------------------------


def render_glossary(screen: Screen[object] | None) -> Text:
    """`WHAT THE NUMBERS MEAN` for the pane `screen` belongs to (by its PANE_TITLE), or nothing."""
    pane = getattr(screen, "PANE_TITLE", None)
    entries = GLOSSARY.get(pane) if isinstance(pane, str) else None
    text = Text(end="")
    if not entries:
        return text
    text.append(f"\n{pane} — what the numbers mean".upper(), style="bold underline")
    text.append("\n")
    for name, definition in entries.items():
        text.append("  " + name, style="bold")
        text.append(f": {definition}\n")
    return text


class HelpScreen(ModalScreen[None]):
    HELP_GROUP: ClassVar[str] = "Help"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help.close"),
        Binding("j,down", "scroll('down')", "Scroll down", show=False, id="help.down"),
        Binding("k,up", "scroll('up')", "Scroll up", show=False, id="help.up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="help.top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="help.bottom"),
        Binding("ctrl+d,pagedown,space", "scroll('page_down')", "Page down", show=False, id="help.page-down"),
        Binding("ctrl+u,pageup", "scroll('page_up')", "Page up", show=False, id="help.page-up"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > #help-frame {
            width: 90%;
            max-width: 110;
            height: 90%;
            border: tall $accent;
            border-title-align: center;
            background: $surface;
        }
        & #help-body { padding: 0 1; }
        & #help-hint { dock: bottom; height: 1; background: $panel; padding: 0 1; }
    }
    """

    def __init__(self, screen: Screen[object] | None, extra: Sequence[type[DOMNode]] = ()) -> None:
        super().__init__()
        self.for_screen = screen
        self.extra = tuple(extra)

    def compose(self) -> ComposeResult:
        frame = Vertical(id="help-frame")
        frame.border_title = "Keys"
        with frame:
            with VerticalScroll(id="help-body", can_focus=True):
                yield Static(id="help-text")
            yield Static(
                Text("escape / q / ? closes · j/k scroll · ctrl+p: every action by name"), id="help-hint"
            )

    @property
    def groups(self) -> list[KeyGroup]:
        return binding_groups(self.app, self.for_screen, (*self.extra, type(self)))

    def on_mount(self) -> None:
        text = render_help(self.groups)
        text.append_text(render_glossary(self.for_screen))
        self.query_one("#help-text", Static).update(text)
        self.query_one("#help-body").focus()

    @property
    def text(self) -> str:
        return str(self.query_one("#help-text", Static).render())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        getattr(body, f"scroll_{where}")(animate=False)
