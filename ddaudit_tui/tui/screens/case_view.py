"""The Case pane (`5`): the investigation's marks and notes in time order (issue 15).

Enter goes back to the marked thing in its pane, `d` removes a mark, `n` writes a note on it (or, on the
case line, on the case), `E` exports the whole investigation. The line above the table says which case
this is, where it lives, and where the last export went (its absolute path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ddaudit_tui.case.model import CASE_NOTE, Case
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.marks import MARK_GLYPH
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.screens.base import PaneScreen
from ddaudit_tui.tui.widgets.pane_bar import PaneBadge
from ddaudit_tui.tui.widgets.sortable_table import SortableTable, TableColumn

PANE_WORDS = {
    "lookup": "Key lookup",
    "watch": "Spike watch",
    "ai": "AI activity",
    "explore": "Explore",
    "cli": "CLI",
}


@dataclass(frozen=True)
class CaseRow:
    """One line of the Case view: a mark (with its note), or the note on the case."""

    ts: int
    target: str  # the mark id, or "case"
    pane: str
    kind: str
    label: str
    note: str
    event_ids: tuple[str, ...] = ()


def case_rows(case: Case) -> list[CaseRow]:
    rows = [
        CaseRow(
            m.ts,
            m.id,
            m.pane,
            m.kind,
            m.label,
            case.notes[m.id].text if m.id in case.notes else "",
            m.event_ids,
        )  # fmt: skip
        for m in case.marks.values()
    ]
    note = case.case_note()
    if note is not None:
        rows.append(CaseRow(note.ts, CASE_NOTE, "", "case note", "", note.text))
    return sorted(rows, key=lambda r: (r.ts, r.target))


def _text(value: str, style: str = "") -> Text:
    return Text(clean(value), style=style, no_wrap=True, end="")


# What was marked and the note come first: at 80 columns the table keeps them and drops the rest
# (the rows are in time order whatever is shown).
CASE_COLUMNS: tuple[TableColumn[CaseRow], ...] = (
    TableColumn("id", "mark", lambda r, _l: _text(r.target if r.target != CASE_NOTE else "—"), lambda r: r.ts),
    TableColumn("kind", "what", lambda r, _l: _text(r.kind), lambda r: r.kind),
    TableColumn("label", "marked", lambda r, _l: _text(r.label), lambda r: r.label, max_width=60),
    TableColumn("note", "note", lambda r, _l: _text(r.note.splitlines()[0] if r.note else "", "italic"),
                lambda r: r.note, max_width=40),
    TableColumn("pane", "pane", lambda r, _l: _text(PANE_WORDS.get(r.pane, r.pane)), lambda r: r.pane),
    TableColumn("time", "marked at", lambda r, local: _text(fmt_ts(r.ts, local)), lambda r: r.ts),
    TableColumn("events", "events", lambda r, _l: len(r.event_ids), lambda r: len(r.event_ids), "right"),
)  # fmt: skip


class CaseTable(SortableTable[CaseRow]):
    HELP_GROUP: ClassVar[str] = "Case"
    SHOW_MARKS: ClassVar[bool] = False  # every row is a mark

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Go to", id="case.go", tooltip="Show the marked thing in its pane"),
    ]

    def refresh_marks(self) -> None:
        pass  # every row here is a mark: no glyph column


class CaseScreen(PaneScreen):
    """The case: what was judged evidence, with the responder's notes, oldest first."""

    PANE_TITLE: ClassVar[str] = "Case"

    DEFAULT_CSS = """
    CaseScreen {
        #case-summary { height: auto; padding: 0 1; background: $panel; }
        #case-folder { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
        #case-export { height: auto; max-height: 3; padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d,delete", "remove_mark", "Remove mark", id="case.remove", tooltip="Remove the selected mark"),
        Binding("E", "app.export_case", "Export case", id="case.export",
                tooltip="Write the whole investigation: report.md/html, case.json, evidence, SHA256SUMS"),
    ]  # fmt: skip

    def compose_body(self) -> ComposeResult:
        yield Static(id="case-summary")
        yield Static(id="case-folder")
        yield CaseTable(
            CASE_COLUMNS,
            identity=lambda r: r.target,
            empty_text="nothing marked yet: m marks the selected event, flag, row or alert in any pane",
            id="case-marks",
        )
        yield Static(id="case-export")

    def on_mount(self) -> None:
        self.refresh_case()
        self.query_one(CaseTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_case()

    @property
    def rows(self) -> list[CaseRow]:
        return self.query_one(CaseTable).items

    @property
    def selected(self) -> CaseRow | None:
        return self.query_one(CaseTable).cursor_item

    def refresh_case(self) -> None:
        """Redraw from the app's case (after a mark, a note, an export)."""
        session = getattr(self.app, "case", None)
        if session is None:
            return
        case = session.load()
        self.query_one(CaseTable).set_items(case_rows(case), bool(getattr(self.app, "local_time", False)))
        # Wraps rather than cut: at 80 columns the counts take two lines, and none is lost.
        head = Text(end="")
        head.append(f"case {session.name}", style="bold")
        kinds = [e.kind for e in case.entries]
        head.append(
            f" · {MARK_GLYPH} {_n(len(case.marks), 'mark')} · {_n(kinds.count('query'), 'query', 'queries')} · "
            f"{_n(kinds.count('key'), 'key lookup')} · {_n(kinds.count('alert'), 'alert')}"
            + (f" (+{session.pending_work()} not saved)" if session.pending_work() else "")
        )
        folder = Text(overflow="fold", end="")
        if not session.on_disk:
            folder.append("not saved yet: the first mark or note saves it; E names and exports it")
        else:
            folder.append(f"saved in {session.path}")
        self.query_one("#case-folder", Static).update(folder)
        self.query_one("#case-summary", Static).update(head)
        export = Text(no_wrap=True, overflow="fold", end="")
        if session.last_export is not None:
            export.append("exported to ", style="bold")
            export.append(str(session.last_export))
        else:
            export.append(
                "E exports the whole investigation (report.md, report.html, case.json, evidence)", style="dim"
            )
        self.query_one("#case-export", Static).update(export)
        self.publish_badge()

    def refresh_marks(self) -> None:  # the app's refresh_all reaches screens too
        self.refresh_case()

    @staticmethod
    def badge_for(session: Any) -> PaneBadge | None:
        """`★ 3`: how many marks the case holds (every pane bar shows it)."""
        n = len(session.load().marks) if session is not None else 0
        return PaneBadge(f"{MARK_GLYPH} {n}", MARK_GLYPH, "info") if n else None

    def badge(self) -> PaneBadge | None:
        return self.badge_for(getattr(self.app, "case", None))

    def mark_id(self) -> str | None:
        """The selected mark's id ("case" on the case-note line), for `n`."""
        row = self.selected
        return row.target if row is not None else None

    @on(SortableTable.Chosen)
    async def _chosen(self, event: SortableTable.Chosen) -> None:
        event.stop()
        row: CaseRow = event.item
        session = getattr(self.app, "case", None)
        if session is None or row.target == CASE_NOTE:
            return
        mark = session.load().marks.get(row.target)
        if mark is None:
            return
        from ddaudit_tui.tui.case_targets import jump_to

        if not await jump_to(self.app, mark):
            self.notify(
                f"{PANE_WORDS.get(mark.pane, mark.pane)} cannot show {mark.id} now.",
                severity="warning",
                markup=False,
            )

    def action_remove_mark(self) -> None:
        row = self.selected
        session = getattr(self.app, "case", None)
        if row is None or session is None or row.target == CASE_NOTE:
            return
        from ddaudit_tui.tui.case_session import journal

        if journal(self.app, lambda case: case.unmark(row.target)):
            self.notify(f"Removed mark {row.target}.", markup=False)
            self.ddaudit.case_changed()


class TextDialog(ModalScreen[str | None]):
    """One line of text: a note, a case name. Enter returns it (empty allowed when `allow_empty`),
    Escape cancels (None)."""

    HELP_GROUP: ClassVar[str] = "Text dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="text-dialog.cancel"),
    ]

    DEFAULT_CSS = """
    TextDialog {
        align: center middle;
        & > #text-frame {
            width: 72;
            max-width: 95%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 0 1;
        }
        & #text-title { text-style: bold; }
        & #text-hint { color: $text-muted; }
        & #text-error { color: $text-error; }
    }
    """

    def __init__(
        self, title: str, value: str = "", hint: str = "", *, check: Any = None, placeholder: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint
        self.check = check  # value -> error message or None
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="text-frame"):
            yield Static(Text(self.title_text), id="text-title")
            yield Input(self.value, placeholder=self.placeholder, id="text-input")
            yield Static(Text(self.hint), id="text-hint")
            yield Static(id="text-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if self.check is not None and (problem := self.check(value)):
            self.query_one("#text-error", Static).update(Text(problem))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
