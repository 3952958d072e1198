"""The base of the panes' lists of items (facet values, key flags, AI flags, keys seen): an `OptionList`
whose options are built from the items to fit its width, rebuilt when the width changes, navigated with
j/k/g/G, and whose Enter posts the subclass's message for the chosen item."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

T = TypeVar("T")


def nav_bindings(scope: str, noun: str) -> list[Binding]:
    """The hidden moves over a list's items: j/↓, k/↑, g/Home, G/End, ids `<scope>.down|up|top|bottom`."""
    return [
        Binding("j,down", "cursor_down", f"Next {noun}", show=False, id=f"{scope}.down"),
        Binding("k,up", "cursor_up", f"Previous {noun}", show=False, id=f"{scope}.up"),
        Binding("g,home", "first", f"First {noun}", show=False, id=f"{scope}.top"),
        Binding("G,end", "last", f"Last {noun}", show=False, id=f"{scope}.bottom"),
    ]


class ItemList(OptionList, Generic[T]):
    """Subclasses build their options in `_rebuild` and hand them to `_show`, each with the item choosing
    it chooses (None: a heading or a placeholder), and say in `_chosen` which message that posts."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)  # items hold event text: never markup
        self._items: dict[str, T] = {}  # option id → its item
        self._built_width = 0  # the widget width the options were built for

    def fits_width(self) -> bool:
        """Whether the options are built for the width (then rebuilt when it changes)."""
        return True

    def on_resize(self, event: events.Resize) -> None:
        if self.fits_width() and event.size.width != self._built_width:
            self._rebuild()

    def _rebuild(self) -> None:
        raise NotImplementedError

    def _chosen(self, item: T) -> Message:
        raise NotImplementedError

    def _show(self, entries: Iterable[tuple[Option, T | None]]) -> None:
        """Replace the options with `entries`' (the highlight is the subclass's to restore)."""
        entries = list(entries)
        self._built_width = self.size.width
        self._items = {option.id: item for option, item in entries if item is not None and option.id}
        self.set_options([option for option, _item in entries])

    @property
    def highlighted_item(self) -> T | None:
        if self.highlighted is None:
            return None
        try:
            option = self.get_option_at_index(self.highlighted)
        except OptionDoesNotExist:
            return None
        return self._items.get(option.id or "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        item = self._items.get(event.option.id or "")
        if item is not None:
            self.post_message(self._chosen(item))
