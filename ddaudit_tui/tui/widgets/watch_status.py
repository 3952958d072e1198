"""One line of text that repaints only when it changes (the watch's status and titles).

The watch's countdown ticks once a second; a `Static.update` would re-layout the screen each time.
This widget has a fixed height of one line and refreshes only its own region, only on a change, which
keeps an idle watch well under the 1 % of a core DESIGN.md allows.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    """A single line of `Text` (built from cleaned strings by the caller)."""

    DEFAULT_CSS = """
    TextLine {
        height: 1;
        width: 1fr;
        /* Textual ignores a rich Text's own overflow: without these a long line is cut with no mark. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(
        self, text: Text | None = None, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text or Text("", end="")

    @property
    def text(self) -> Text:
        return self._text

    @property
    def plain(self) -> str:
        return self._text.plain

    def set_text(self, text: Text) -> None:
        if text.plain != self._text.plain or text.spans != self._text.spans or text.style != self._text.style:
            # A line that may wrap (height auto) needs a layout when its length changes.
            layout = self.styles.height is not None and self.styles.height.is_auto
            self._text = text
            self.refresh(layout=layout)

    def render(self) -> Text:
        return self._text
