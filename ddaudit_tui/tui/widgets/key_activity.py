"""A key's events over the window: bars per hour/day, with the buckets holding flagged events marked.

Bars are scaled from zero (like the Explore sparkline) and the buckets are fixed and zero-filled, so a
quiet day is a gap. Flagged buckets are drawn in the error colour *and* get a `!` on the marker row
under the bars: the mark survives NO_COLOR. "Flagged" is `activity_buckets`' own definition (events
cited by a flag above INFO).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from ddaudit_tui.analysis.keys import KeyReport, activity_buckets
from ddaudit_tui.tui.widgets.sparkline import bars

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Bucket sizes tried smallest first: the first that fits the bars' width is used.
BUCKETS: tuple[tuple[int, str], ...] = (
    (HOUR_MS, "hour"),
    (3 * HOUR_MS, "3 h"),
    (6 * HOUR_MS, "6 h"),
    (12 * HOUR_MS, "12 h"),
    (DAY_MS, "day"),
    (2 * DAY_MS, "2 days"),
    (3 * DAY_MS, "3 days"),
    (7 * DAY_MS, "week"),
    (14 * DAY_MS, "2 weeks"),
    (30 * DAY_MS, "30 days"),
)
_LABEL_WIDTH = 14


def choose_bucket(span_ms: int, columns: int) -> tuple[int, str]:
    for size, label in BUCKETS:
        if span_ms / size <= columns:
            return size, label
    return BUCKETS[-1]


def stretch(values: Sequence[int], width: int) -> list[int]:
    """`values` spread over `width` columns (a bucket may take one column more than its neighbour);
    with more buckets than columns (the window edges can add one), neighbours are summed."""
    n = len(values)
    if n == 0:
        return [0] * width
    if n > width:
        out = [0] * width
        for i, v in enumerate(values):
            out[i * width // n] += v
        return out
    return [values[x * n // width] for x in range(width)]


class KeyActivity(Widget):
    """Bars (all rows but the last) and the flagged-marker row (the last)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-activity--bars",
        "key-activity--flagged",
        "key-activity--label",
    }

    DEFAULT_CSS = """
    KeyActivity {
        height: 3;
        background: $surface;
        & > .key-activity--bars { color: $primary; }
        & > .key-activity--flagged { color: $error; text-style: bold; }
        & > .key-activity--label { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.report: KeyReport | None = None
        self.bucket_label = ""
        self.buckets: list[tuple[int, int, int]] = []
        self._computed: tuple[int, int] | None = None  # (report id, width) the buckets are for

    def set_report(self, report: KeyReport | None) -> None:
        self.report = report
        self._computed = None
        self.refresh()

    def _bars_width(self) -> int:
        return max(1, self.size.width - _LABEL_WIDTH - 1)

    def _compute(self, width: int) -> None:
        report = self.report
        if report is None:
            self.buckets = []
            return
        span = max(1, report.window.end - report.window.start)
        size, label = choose_bucket(span, width)
        self.bucket_label = label
        self.buckets = activity_buckets(report, size)

    def render(self) -> Text:
        text = Text(no_wrap=True, end="")
        if self.report is None:
            return text
        width = self._bars_width()
        key = (id(self.report), width)
        if self._computed != key:
            self._compute(width)
            self._computed = key
        counts = stretch([b[1] for b in self.buckets], width)
        flagged = stretch([b[2] for b in self.buckets], width)
        height = max(2, self.size.height)
        rows = bars(counts, height - 1)
        bar_style = self.get_component_rich_style("key-activity--bars")
        flag_style = self.get_component_rich_style("key-activity--flagged")
        label_style = self.get_component_rich_style("key-activity--label")
        peak = max((b[1] for b in self.buckets), default=0)
        labels = [f"max {peak:,}/{self.bucket_label}"]
        if height - 1 > 1:
            labels.append(f"per {self.bucket_label}")
        marker_label = "! = flagged" if any(flagged) else "nothing flagged"
        for i, row in enumerate(rows):
            if i:
                text.append("\n")
            for x, ch in enumerate(row.ljust(width)[:width]):
                text.append(ch, style=flag_style if flagged[x] else bar_style)
            label = labels[i] if i < len(labels) else ""
            text.append(" " + label.rjust(_LABEL_WIDTH)[:_LABEL_WIDTH], style=label_style)
        text.append("\n")
        markers = "".join("!" if f else " " for f in flagged)
        text.append(markers, style=flag_style)
        text.append(" " + marker_label.rjust(_LABEL_WIDTH)[:_LABEL_WIDTH], style=label_style)
        return text
