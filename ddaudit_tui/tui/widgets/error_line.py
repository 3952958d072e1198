"""A line under an input that is shown only while it holds an error (the `-visible` class)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ErrorLine(Static):
    """Screens style `#id` / `#id.-visible`; this keeps the text and the class in step."""

    def show(self, text: Text) -> None:
        self.update(text)
        self.add_class("-visible")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-visible")

    @property
    def message(self) -> str | None:
        return str(self.render()) if self.has_class("-visible") else None
