"""The export dialog: pick the report formats (default Markdown + JSON), Enter writes them.

Returns the chosen formats (in registry order) or None when cancelled. The pane then calls
`tui.export.export_report` in a thread worker and toasts the absolute paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Static

from ddaudit_tui.report.registry import formats as registered_formats

FORMAT_NAMES = {
    "md": "Markdown report",
    "json": "JSON (the recipe's field names)",
    "html": "HTML (self-contained, for mail)",
    "text": "Plain text",
    "csv": "CSV",
    "ndjson": "NDJSON of raw events",
}
_ORDER = ("md", "json", "html", "text", "csv", "ndjson")


class FormatToggle(Checkbox):
    """A checkbox whose mark is a character, not only a colour: readable with NO_COLOR."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "X" if self.value else " "


class ExportDialog(ModalScreen[list[str] | None]):
    """`ExportDialog(kind, title, default_formats=("md", "json"))`."""

    HELP_GROUP: ClassVar[str] = "Export dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "export", "Export", id="export.go", priority=True),
        Binding("escape,q", "cancel", "Cancel", id="export.cancel"),
        Binding("j,down", "app.focus_next", "Next format", show=False, id="export.next"),
        Binding("k,up", "app.focus_previous", "Previous format", show=False, id="export.previous"),
    ]

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
        & > #export-frame {
            width: 56;
            max-width: 95%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
        & FormatToggle { width: 1fr; border: none; padding: 0; }
        & FormatToggle:focus { border: none; text-style: bold reverse; }
        & #export-hint { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(self, kind: str, title: str, default_formats: Sequence[str] = ("md", "json")) -> None:
        super().__init__()
        self.kind = kind
        self.title_text = title
        known = set(registered_formats(kind))
        self.formats = [f for f in _ORDER if f in known] + sorted(known - set(_ORDER))
        self.defaults = set(default_formats) & known or set(self.formats[:1])

    def compose(self) -> ComposeResult:
        with Vertical(id="export-frame"):
            yield Static(Text(f"Export {self.title_text}", style="bold"))
            for fmt in self.formats:
                yield FormatToggle(FORMAT_NAMES.get(fmt, fmt), fmt in self.defaults, id=f"fmt-{fmt}")
            yield Static(
                Text("space toggles · enter writes (mode 0600, timestamped) · esc cancels"), id="export-hint"
            )

    def chosen(self) -> list[str]:
        return [f for f in self.formats if self.query_one(f"#fmt-{f}", Checkbox).value]

    def action_export(self) -> None:
        chosen = self.chosen()
        if not chosen:
            self.notify("Choose at least one format (space toggles).", severity="warning", markup=False)
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
