"""`?`: every key binding of the app, the pane and its widgets — generated, never hand-written.

One group per place a key works (the app, the pane, each focusable widget, dialogs not open yet), each
entry a key column and a one-line description; a description that wraps (80 columns) continues under
its own column. Text inputs' editing keys (cursor, delete, select…: the same ~30 in every input) sit in
one "Text input" group, collapsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Collapsible, Static

from ddaudit_tui.analysis.glossary import GLOSSARY
from ddaudit_tui.tui.commands import KeyGroup, binding_groups

_KEYS_WIDTH = 18


def _keys(group: KeyGroup, n: int) -> str:
    return ", ".join(group.entries[n].keys)


def render_group(group: KeyGroup, *, title: bool = True) -> Table:
    """The group as a two-column grid: wrapped descriptions stay in their column."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=_KEYS_WIDTH, no_wrap=False, overflow="fold")
    grid.add_column(ratio=1, overflow="fold")
    if title:
        grid.add_row(Text(group.title.upper(), style="bold underline"), "")
        if group.description:
            grid.add_row("", Text(group.description, style="italic"))
    for n, entry in enumerate(group.entries):
        description = Text(entry.description)
        if entry.tooltip and entry.tooltip != entry.description:
            description.append(f" — {entry.tooltip}", style="dim")
        grid.add_row(Text("  " + _keys(group, n), style="bold"), description)
    return grid


def render_help(groups: Sequence[KeyGroup]) -> Text:
    """The whole help as plain lines (for the `text` property, tests and the palette-less terminals)."""
    text = Text(end="")
    for n, group in enumerate(groups):
        if n:
            text.append("\n")
        text.append(group.title.upper(), style="bold underline")
        text.append("\n")
        if group.description:
            text.append(group.description + "\n", style="italic")
        for i, entry in enumerate(group.entries):
            text.append("  " + _keys(group, i).ljust(_KEYS_WIDTH), style="bold")
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
        & .help-group { height: auto; margin-bottom: 1; }
        & Collapsible { padding: 0; border: none; background: $surface; }
        & Collapsible > Contents { padding: 0; }
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
        groups = self.groups
        with frame:
            with VerticalScroll(id="help-body", can_focus=True):
                for group in groups:
                    if group.editing:
                        n = len(group.entries)
                        title = f"{group.title}: {n} editing keys (cursor, delete, select, copy…)"
                        with Collapsible(title=title, collapsed=True, id="help-text-input"):
                            yield Static(render_group(group, title=False), classes="help-group")
                    else:
                        yield Static(render_group(group), classes="help-group")
                glossary = render_glossary(self.for_screen)
                if glossary.plain:
                    yield Static(glossary, id="help-glossary", classes="help-group")
            yield Static(
                Text("escape / q / ? closes · j/k scroll · ctrl+p: every action by name"), id="help-hint"
            )

    @property
    def groups(self) -> list[KeyGroup]:
        return binding_groups(self.app, self.for_screen, (*self.extra, type(self)))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    @property
    def text(self) -> str:
        """Every group's keys and descriptions, the collapsed ones included, and what the pane's numbers
        mean, as plain text."""
        return render_help(self.groups).plain + render_glossary(self.for_screen).plain

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        getattr(body, f"scroll_{where}")(animate=False)
