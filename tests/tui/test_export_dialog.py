"""The shared export dialog and report export: chosen formats, private timestamped files."""

from __future__ import annotations

import json
import os

from textual.app import App

from ddaudit_tui.report.registry import register
from ddaudit_tui.tui.export import export_report
from ddaudit_tui.tui.screens.export_dialog import ExportDialog


@register("unit-test", "md")
def _md(result: dict) -> str:
    return f"# Report\n\n{result['n']} things\n"


@register("unit-test", "json")
def _json(result: dict) -> str:
    return json.dumps(result)


@register("unit-test", "html")
def _html(result: dict) -> str:
    return f"<p>{result['n']}</p>"


NOW = 1_785_525_798.0  # 2026-07-31T19:23:18Z


def test_export_report_writes_each_format_privately(tmp_path):
    paths = export_report("unit-test", {"n": 3}, ["md", "json"], tmp_path, "key", NOW)
    assert [p.name for p in paths] == ["ddaudit-key-20260731T192318Z.md", "ddaudit-key-20260731T192318Z.json"]
    assert all(p.is_absolute() and (os.stat(p).st_mode & 0o777) == 0o600 for p in paths)
    assert json.loads(paths[1].read_text()) == {"n": 3}
    again = export_report("unit-test", {"n": 4}, ["md"], tmp_path, "key", NOW)
    assert again[0].name == "ddaudit-key-20260731T192318Z-2.md"  # never overwrites
    assert paths[0].read_text() == "# Report\n\n3 things\n"


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.result: list[str] | None | str = "unset"

    def on_mount(self) -> None:
        self.push_screen(ExportDialog("unit-test", "the test report"), self._done)

    def _done(self, value: list[str] | None) -> None:
        self.result = value


async def test_dialog_defaults_to_markdown_and_json_and_toggles():
    app = _Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.formats == ["md", "json", "html"]
        assert dialog.chosen() == ["md", "json"]
        dialog.query_one("#fmt-html").focus()
        await pilot.press("space")
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == ["md", "json", "html"]


async def test_dialog_escape_cancels():
    app = _Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_marks_are_characters_not_only_colour():
    app = _Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        dialog = app.screen
        md, html = dialog.query_one("#fmt-md"), dialog.query_one("#fmt-html")
        assert md.BUTTON_INNER == "X" and html.BUTTON_INNER == " "
        html.focus()
        await pilot.press("space")
        assert html.BUTTON_INNER == "X"
