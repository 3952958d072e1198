"""The revocation confirmation: names the key (id, name, creator) and asks for the id's last four
characters. Dismisses True only when they match; nothing else revokes, and Escape always cancels.

Like `ddaudit revoke`, the whole id is accepted too (`commands.revoke.confirmed`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ddaudit_tui.commands.revoke import confirmed
from ddaudit_tui.tui.safe_text import clean


class KeyRevokeScreen(ModalScreen[bool]):
    """`KeyRevokeScreen(key_id, name=..., creator=..., created=..., where=...)` → True to revoke."""

    HELP_GROUP: ClassVar[str] = "Revoke dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="revoke.cancel"),
    ]

    DEFAULT_CSS = """
    KeyRevokeScreen {
        align: center middle;
        & > #revoke-frame {
            width: 72;
            max-width: 96%;
            height: auto;
            max-height: 96%;
            border: thick $error;
            background: $surface;
            padding: 0 1;
        }
        & #revoke-title { text-style: bold; color: $error; }
        & #revoke-answer { width: 12; margin: 1 0 0 0; }
        & #revoke-error { color: $error; text-style: bold; height: auto; }
        & #revoke-hint { color: $text-muted; }
    }
    """

    def __init__(
        self,
        key_id: str,
        *,
        name: str | None = None,
        creator: str | None = None,
        created: str | None = None,
        last4: str | None = None,
        where: str = "",
    ) -> None:
        super().__init__()
        self.key_id = key_id
        self.key_name = name
        self.creator = creator
        self.created = created
        self.last4 = last4
        self.where = where
        self.refusals = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="revoke-frame"):
            yield Static(Text("✖ Revoke API key — this cannot be undone"), id="revoke-title")
            yield Static(self._details(), id="revoke-details")
            # The placeholder says what to type, not the answer: it must never look pre-filled.
            yield Input(placeholder="last 4", id="revoke-answer", max_length=64)
            yield Static("", id="revoke-error")
            yield Static(Text("enter revokes (only if it matches) · esc cancels"), id="revoke-hint")

    def _details(self) -> Text:
        text = Text(end="")
        where = f" on {clean(self.where, max_len=40)}" if self.where else ""
        text.append(f"This deletes the API key{where}:\n")
        rows = [
            ("id", self.key_id),
            ("name", self.key_name or "(unknown)"),
            ("creator", self.creator or "(unknown)"),
        ]
        if self.created:
            rows.append(("created", self.created))
        if self.last4:
            rows.append(("secret", f"…{self.last4}"))
        for label, value in rows:
            text.append(f"  {label:<8}", style="dim")
            text.append(clean(value, max_len=80) + "\n", style="bold")
        text.append("Every client using this key stops working at once.\n")
        text.append("Type the last 4 characters of the key id ")
        text.append(f"({self.key_id[-4:]})", style="bold")
        text.append(" to confirm:")
        return text

    def on_mount(self) -> None:
        self.query_one("#revoke-answer", Input).focus()

    @on(Input.Submitted, "#revoke-answer")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if confirmed(event.value, self.key_id):
            self.dismiss(True)
            return
        # Refused: the dialog stays, says why, and nothing is sent.
        self.refusals += 1
        self.query_one("#revoke-error", Static).update(
            Text(
                f"✖ does not match: type {self.key_id[-4:]} (the id's last 4 characters), or esc to cancel. "
                "Nothing was revoked."
            )
        )
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)
