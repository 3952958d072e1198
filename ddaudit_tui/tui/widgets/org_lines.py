"""One line per org, above a pane's answer, when several orgs are asked (`--all-profiles`; tui/org_panes.py).

The pane gives the lines in several forms, most detailed first (e.g. with the site and the completeness's
details, then without); the widget draws the first form whose every line fits its width, so the lines
stay alike. A line that still does not fit is cut at its end with `…` (the pane puts what may be cut —
a failure's reason, a long name — last). Never markup: the lines are `Text` built from cleaned parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

MAX_LINES = 5
MAX_LINES_SHORT = 3  # below 30 rows
REASON_MIN = 24  # a cuttable tail (a failure's reason) counts this much when a form is chosen


class CuttableText(Text):
    """A line whose end from `cut_from` (a failure's reason) may be cut rather than its details dropped."""

    __slots__ = ("cut_from",)

    def __init__(self, *args: Any, cut_from: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cut_from = cut_from


def cuttable(text: Text, tail: str) -> Text:
    """`text` followed by `tail`, which may be cut with `…` rather than the lines losing their details."""
    out = CuttableText(no_wrap=True, overflow="ellipsis", end="", cut_from=cell_len(text.plain))
    out.append_text(text)
    out.append(tail)
    return out


def needed(line: Text) -> int:
    """The width `line` needs: all of it, or up to REASON_MIN of its cuttable tail."""
    total = cell_len(line.plain)
    cut_from = getattr(line, "cut_from", None)
    return total if cut_from is None else min(total, cut_from + REASON_MIN)


def render_lines(forms: Sequence[Sequence[Text]], width: int, max_lines: int = MAX_LINES) -> Text:
    """The lines at `width`: the first form that fits, else the last one cut with `…`. More lines than
    `max_lines`: the last shown says how many more orgs there are (the pane orders them worst first)."""
    if not forms:
        return Text(end="")
    width = max(1, width)
    form = next((f for f in forms if all(needed(line) <= width for line in f)), forms[-1])
    lines = list(form)
    more = 0
    if len(lines) > max_lines:
        more = len(lines) - (max_lines - 1)
        lines = lines[: max_lines - 1]
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, line in enumerate(lines):
        cut = line.copy()
        cut.no_wrap = True
        cut.truncate(width, overflow="ellipsis")
        if i:
            out.append("\n")
        out.append_text(cut)
    if more:
        tail = Text(f"  + {more} more orgs (worst first above)", style="dim", end="")
        tail.truncate(width, overflow="ellipsis")
        out.append("\n")
        out.append_text(tail)
    return out


class OrgLines(Widget):
    """The per-org lines of a pane (see the module's docstring)."""

    DEFAULT_CSS = """
    OrgLines {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.forms: list[list[Text]] = []

    def set_forms(self, forms: Sequence[Sequence[Text]]) -> None:
        old = len(self.forms[0]) if self.forms else 0
        self.forms = [list(f) for f in forms]
        self.refresh(layout=(len(self.forms[0]) if self.forms else 0) != old)

    @property
    def max_lines(self) -> int:
        return MAX_LINES_SHORT if self.app.size.height < 30 else MAX_LINES

    @property
    def plain(self) -> str:
        return self._build(self.content_size.width or 200).plain

    def _build(self, width: int) -> Text:
        return render_lines(self.forms, width, self.max_lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return min(len(self.forms[0]), self.max_lines) if self.forms else 1

    def render(self) -> Text:
        return self._build(self.content_size.width)
