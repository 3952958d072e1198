"""The compliance export dialog: choose SOC 2 or PCI DSS and the formats; Enter builds and writes the report.

`ComplianceDialog(framework="soc2", default_formats=("md", "json"))` — push it from anywhere in the app
(`self.app.push_screen(ComplianceDialog())`). It runs the recipe's control queries through the app's
source over the app's window (`analysis.compliance.build_compliance`, an async worker on the app's loop,
where the source's HTTP client lives), writes the files with `tui.export.export_report` in a thread
(mode 0600, timestamped `ddaudit-compliance-<framework>-…`), toasts their absolute paths and closes,
returning the paths (or None when cancelled).

Keyboard only: ↑/↓ choose the framework, tab moves to the formats, space toggles one, enter writes,
escape cancels (a build in progress is abandoned).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from ddaudit_tui.analysis.compliance import FRAMEWORK_NAMES, FRAMEWORKS, build_compliance
from ddaudit_tui.report import compliance_report  # noqa: F401  (registers the "compliance" renderers)
from ddaudit_tui.report.registry import formats as registered_formats
from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.base import Progress
from ddaudit_tui.tui.export import export_report
from ddaudit_tui.tui.screens.export_dialog import FORMAT_NAMES, FormatToggle

BUILD_GROUP = "compliance-build"
_FORMAT_ORDER = ("md", "json", "html", "text")
FRAMEWORK_LABELS = {
    "soc2": "SOC 2 — CC6.2, CC6.3, CC6.6, CC7.2",
    "pci": "PCI DSS — 10.2.2–10.2.7, 10.3.x, 10.7",
}


class FrameworkButton(RadioButton):
    """A radio button whose mark is a character, not only a colour: readable with NO_COLOR."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "●" if self.value else " "


class FrameworkChoice(RadioSet):
    """A radio set where ↑/↓ select at once (no separate space to press)."""

    # New actions rather than overriding RadioSet's: it calls `action_next_button` itself when mounted.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "select_next", "Next framework", show=False),
        Binding("up,left", "select_previous", "Previous framework", show=False),
    ]

    def on_mount(self) -> None:
        # RadioSet highlights its first button when mounted; start from the pressed one instead.
        self.call_after_refresh(self._highlight_pressed)

    def _highlight_pressed(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    def action_select_next(self) -> None:
        self.action_next_button()
        self.action_toggle_button()

    def action_select_previous(self) -> None:
        self.action_previous_button()
        self.action_toggle_button()


class ComplianceDialog(ModalScreen[list[Path] | None]):
    """`ComplianceDialog(framework="soc2", default_formats=("md", "json"))`."""

    HELP_GROUP: ClassVar[str] = "Compliance report"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "export", "Write report", id="compliance.go", priority=True),
        Binding("escape", "cancel", "Cancel", id="compliance.cancel"),
    ]

    DEFAULT_CSS = """
    ComplianceDialog {
        align: center middle;
        & > #compliance-frame {
            width: 64;
            max-width: 95%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
        & FrameworkChoice { width: 1fr; height: auto; margin-bottom: 1; }
        & FormatToggle { width: 1fr; border: none; padding: 0; }
        & FormatToggle:focus { border: none; text-style: bold reverse; }
        & #compliance-status { margin-top: 1; }
        & #compliance-hint { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(self, framework: str = "soc2", default_formats: Sequence[str] = ("md", "json")) -> None:
        super().__init__()
        self.initial_framework = framework if framework in FRAMEWORKS else FRAMEWORKS[0]
        known = set(registered_formats("compliance"))
        self.formats = [f for f in _FORMAT_ORDER if f in known] + sorted(known - set(_FORMAT_ORDER))
        self.defaults = set(default_formats) & known or set(self.formats[:1])
        self.written: list[Path] | None = None
        self._events = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="compliance-frame"):
            yield Static(Text("Compliance evidence report", style="bold"))
            yield Static(Text(self._window_text(), style="dim"), id="compliance-window")
            with FrameworkChoice(id="compliance-framework"):
                for fw in FRAMEWORKS:
                    yield FrameworkButton(
                        Text(FRAMEWORK_LABELS[fw]), value=fw == self.initial_framework, id=f"fw-{fw}"
                    )
            for fmt in self.formats:
                yield FormatToggle(Text(FORMAT_NAMES.get(fmt, fmt)), fmt in self.defaults, id=f"fmt-{fmt}")
            yield Static("", id="compliance-status")
            yield Static(
                Text("↑/↓ framework · tab formats · space toggles · enter writes (mode 0600) · esc cancels"),
                id="compliance-hint",
            )

    def on_mount(self) -> None:
        self.query_one(FrameworkChoice).focus()

    def _window_text(self) -> str:
        window = getattr(self.app, "window", None)
        label = clean(getattr(self.app, "source_label", "") or "", max_len=60)
        period = window.describe() if window is not None else "(no window)"
        return f"Period: {period}" + (f" · source: {label}" if label else "")

    # -- state -----------------------------------------------------------------------------------

    def framework(self) -> str:
        index = self.query_one(FrameworkChoice).pressed_index
        return FRAMEWORKS[index] if 0 <= index < len(FRAMEWORKS) else self.initial_framework

    def chosen(self) -> list[str]:
        return [f for f in self.formats if self.query_one(f"#fmt-{f}", Checkbox).value]

    @property
    def building(self) -> bool:
        return any(w.group == BUILD_GROUP and w.is_running for w in self.workers)

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#compliance-status", Static).update(Text(text, style=style))

    # -- actions ---------------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.building:
            return
        chosen = self.chosen()
        if not chosen:
            self.notify("Choose at least one format (space toggles).", severity="warning", markup=False)
            return
        framework = self.framework()
        app: Any = self.app
        directory = Path(app.export_dir) if getattr(app, "export_dir", None) else Path.cwd()
        self._status(f"Building the {FRAMEWORK_NAMES[framework]} report…")
        self._build(framework, chosen, directory, float(app.clock()))

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, BUILD_GROUP)
        self.dismiss(None)

    # -- work ------------------------------------------------------------------------------------

    def _on_progress(self, p: Progress) -> None:
        # Called on the app's loop (the source is async): the widget can be updated directly.
        if p.events != self._events:
            self._events = p.events
            done = f", {p.slices_done}/{p.slices_total} queries" if p.slices_total > 1 else ""
            self._status(f"Building the report… {p.events:,} events{done}")

    @work(exclusive=True, exit_on_error=False, group=BUILD_GROUP, description="Building a compliance report")
    async def _build(self, framework: str, formats: list[str], directory: Path, now: float) -> None:
        app: Any = self.app
        report = await build_compliance(
            app.source, framework, app.window, progress=self._on_progress, now=now
        )
        # Rendering a long PCI report and writing files stays off the UI loop.
        paths = await asyncio.to_thread(
            export_report, "compliance", report, formats, directory, f"compliance-{framework}", now
        )
        self.written = paths
        listing = "\n".join(clean(str(p)) for p in paths)
        gaps = len(report.gaps)
        self.app.notify(
            f"Wrote the {report.framework_name} evidence report ({report.total_events:,} events, "
            f"{gaps} gap{'s' if gaps != 1 else ''}; mode 0600):\n{listing}",
            title="Exported",
            markup=False,
            timeout=15,
        )
        for warning in report.warnings[:3]:
            self.app.notify(
                clean(warning, max_len=300), title="Partial data", severity="warning", markup=False
            )
        self.dismiss(paths)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != BUILD_GROUP or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = clean(str(error) or type(error).__name__, max_len=300)
        self._status(f"✖ {message} — enter retries, esc closes", "bold")
        self.notify(message, title="Compliance report failed", severity="error", markup=False, timeout=10)
