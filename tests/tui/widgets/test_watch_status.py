"""`TextLine`, the one-line status widget of Spike watch: a line longer than the widget ends in `…` (issue
11: the STALE DATA line was cut at the edge with no mark, hiding the end of the poll error)."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from ddaudit_tui.tui.widgets.watch_status import TextLine

LINE = "⚠ STALE DATA – last successful poll 12:00:30Z · poll failed: 429 Too Many Requests: rate limited"


class OneLine(App[None]):
    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield TextLine(self.text)


def first_line(app: App[None]) -> str:
    return app.screen._compositor.render_strips()[0].text


async def test_a_line_too_long_ends_in_an_ellipsis():
    app = OneLine(Text(LINE, no_wrap=True, end=""))
    async with app.run_test(size=(60, 3)) as pilot:
        await pilot.pause()
        shown = first_line(app).rstrip()
        assert shown.endswith("…"), shown
        assert len(shown) == 60 and LINE.startswith(shown[:-1])


async def test_a_line_that_fits_is_shown_whole():
    app = OneLine(Text(LINE, no_wrap=True, end=""))
    async with app.run_test(size=(120, 3)) as pilot:
        await pilot.pause()
        assert first_line(app).rstrip() == LINE
