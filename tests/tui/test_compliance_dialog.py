"""The compliance export dialog on the demo org: keyboard only, writes private files, Escape cancels."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from textual.app import App
from tui_helpers import screen_text, settle

from ddaudit_tui.demo.org import PLANTED as P
from ddaudit_tui.demo.source import open_demo
from ddaudit_tui.timeutil import Window, parse_instant
from ddaudit_tui.tui.app import DdauditApp
from ddaudit_tui.tui.screens.compliance_dialog import ComplianceDialog

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 90 * 86_400_000, END)


def demo_app(tmp_path: Path) -> DdauditApp:
    source = open_demo(events=3000, end_ms=END)
    return DdauditApp(source, WINDOW, clock=lambda: END / 1000, export_dir=tmp_path)


def notifications(app: DdauditApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_dialog(app: DdauditApp, pilot) -> ComplianceDialog:
    await settle(pilot)
    dialog = ComplianceDialog()
    app.push_screen(dialog)
    await settle(pilot)
    assert app.screen is dialog
    return dialog


async def test_choose_pci_and_write_markdown_and_json(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(app, pilot)
        assert dialog.framework() == "soc2" and dialog.chosen() == ["md", "json"]
        await pilot.press("down")  # the framework list has the focus: ↓ picks PCI DSS
        assert dialog.framework() == "pci"
        pressed = [b.BUTTON_INNER for b in dialog.query("FrameworkButton")]
        assert pressed == [" ", "●"]  # the choice is a character, not only a colour
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not dialog
        assert dialog.written is not None
        toast = notifications(app)[-1]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "ddaudit-compliance-pci-20260801T160000Z.json",
        "ddaudit-compliance-pci-20260801T160000Z.md",
    ]
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
        assert str(p.resolve()) in toast  # absolute paths in the toast
    md = (tmp_path / names[1]).read_text()
    assert "Framework: PCI DSS" in md and "## 10.2.4 — Invalid access attempts" in md
    assert P.brute_force_ip in md and "## Gaps" in md
    data = json.loads((tmp_path / names[0]).read_text())
    assert data["framework"] == "pci" and data["period"]["to"] == "2026-08-01T16:00:00.000Z"
    ids = {e["event_id"] for c in data["controls"] for e in c["events"]}
    assert ids and "10.2.6" in {c["id"] for c in data["controls"] if c["events_found"] == 1}


async def test_escape_cancels_then_formats_are_toggled_with_the_keyboard(tmp_path):
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        cancelled = await open_dialog(app, pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not cancelled and cancelled.written is None
        assert list(tmp_path.iterdir()) == []

        dialog = await open_dialog(app, pilot)
        await pilot.press("tab", "space")  # Markdown off
        await pilot.press("tab", "space")  # JSON off
        await pilot.press("enter")  # nothing chosen: refused, the dialog stays
        await settle(pilot)
        assert app.screen is dialog and "Choose at least one format" in notifications(app)[-1]
        await pilot.press("tab", "space")  # HTML on
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not dialog
    (written,) = tmp_path.iterdir()
    assert written.name == "ddaudit-compliance-soc2-20260801T160000Z.html"
    html = written.read_text()
    assert "<!DOCTYPE html>" in html and "CC7.2 — System monitoring — anomaly detection" in html


class _FailingSource:
    label = "failing"

    async def fetch(self, query, window, progress=None):
        from ddaudit_tui.sources.datadog_errors import ServerError

        raise ServerError("HTTP 503 from the API [bold]x[/]")

    async def exists(self, query, window):
        return True

    def default_window(self):
        return None

    async def aclose(self):
        return None


class _Host(App[None]):
    """Just what the dialog reads from the app: source, window, clock, export directory."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__()
        self.source = _FailingSource()
        self.window = WINDOW
        self.clock = lambda: END / 1000
        self.export_dir = tmp_path

    def on_mount(self) -> None:
        self.push_screen(ComplianceDialog(framework="pci"))


async def test_a_failed_build_is_explained_and_the_dialog_stays(tmp_path):
    app = _Host(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ComplianceDialog) and dialog.framework() == "pci"
        assert dialog.query_one("#fw-pci").has_class("-selected")  # the highlight starts on the choice
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and dialog.written is None
        assert "HTTP 503 from the API [bold]x[/]" in screen_text(app)  # shown literally, not as markup
        assert [n.message for n in app._notifications][-1] == "HTTP 503 from the API [bold]x[/]"
    assert list(tmp_path.iterdir()) == []
