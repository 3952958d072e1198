"""The keys seen in the loaded data, for the Key lookup input: id, events, last use, who used them.

A list rather than a hidden completion: a responder who does not know the id yet picks the key from
here (the most recently used first), and typing in the input narrows the list to ids or users that
contain the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ddaudit_tui.analysis.keys import KeySeen
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.safe_text import clean


def suggestion_text(k: KeySeen, local: bool, id_width: int, short: bool = False) -> Text:
    """One key: id, events, last use (with its zone), who used it. `short` drops the year, leaving
    room for the users at 80 columns."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    key_id = clean(k.key_id)
    text.append(key_id + " " * max(0, id_width - cell_len(key_id)), style="bold")
    text.append(f"  {k.events:>7,} event{'s' if k.events != 1 else ' '}")
    # Minutes are enough to tell keys apart.
    last = fmt_ts(k.last_seen, local, seconds=False)
    text.append(f"  last {last[5:] if short else last}", style="dim")
    if k.actors:
        text.append("  " + ", ".join(clean(a, max_len=40) for a in k.actors[:3]))
    return text


def matches(k: KeySeen, needle: str) -> bool:
    n = needle.strip().casefold()
    if not n:
        return True
    return n in k.key_id.casefold() or any(n in a.casefold() for a in k.actors)


class KeySuggestions(OptionList):
    """Enter picks the highlighted key (the pane looks it up)."""

    HELP_GROUP: ClassVar[str] = "Keys seen"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Look up", id="key-suggest.pick", tooltip="Look up the highlighted key"),
        Binding("j,down", "cursor_down", "Next key", show=False, id="key-suggest.down"),
        Binding("k,up", "cursor_up", "Previous key", show=False, id="key-suggest.up"),
        Binding("g,home", "first", "First key", show=False, id="key-suggest.top"),
        Binding("G,end", "last", "Last key", show=False, id="key-suggest.bottom"),
    ]

    DEFAULT_CSS = """
    KeySuggestions {
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
        scrollbar-size-vertical: 1;
        &:focus { border: none; }
    }
    """

    class Picked(Message):
        def __init__(self, suggestions: KeySuggestions, key: KeySeen) -> None:
            super().__init__()
            self.suggestions = suggestions
            self.key = key

        @property
        def control(self) -> KeySuggestions:
            return self.suggestions

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self.keys: list[KeySeen] = []
        self.shown: list[KeySeen] = []
        self.needle = ""
        self.local_time = False
        self.empty_text = "loading the keys seen in the loaded data…"
        self._built_width = 0

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._built_width:
            self._rebuild()

    def set_keys(self, keys: Sequence[KeySeen], empty_text: str | None = None) -> None:
        self.keys = list(keys)
        if empty_text is not None:
            self.empty_text = empty_text
        self._rebuild()

    def set_filter(self, needle: str) -> None:
        if needle != self.needle:
            self.needle = needle
            self._rebuild()

    def set_local_time(self, local: bool) -> None:
        if local != self.local_time:
            self.local_time = local
            self._rebuild()

    def _rebuild(self) -> None:
        current = self.highlighted_key
        self.shown = [k for k in self.keys if matches(k, self.needle)]
        id_width = max((cell_len(clean(k.key_id)) for k in self.shown), default=0)
        # One line per key, cut with … (the list would wrap it: the users then look like keys).
        width = max(20, (self.scrollable_content_region.width or 80) - 2)
        self._built_width = self.size.width
        options = []
        for i, k in enumerate(self.shown):
            text = suggestion_text(k, self.local_time, id_width, short=width < 100)
            text.truncate(width, overflow="ellipsis")
            options.append(Option(text, id=f"key:{i}"))
        if not options:
            text = (
                self.empty_text
                if not self.keys
                else f"no key seen matches {clean(self.needle, max_len=40)!r}"
            )
            options = [Option(Text(text, style="dim italic"), id="none", disabled=True)]
        self.set_options(options)
        if self.shown:
            index = next((i for i, k in enumerate(self.shown) if current and k.key_id == current.key_id), 0)
            self.highlighted = index

    @property
    def highlighted_key(self) -> KeySeen | None:
        if self.highlighted is None or not self.shown or self.highlighted >= len(self.shown):
            return None
        return self.shown[self.highlighted]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("key:"):
            self.post_message(self.Picked(self, self.shown[int(option_id[4:])]))
