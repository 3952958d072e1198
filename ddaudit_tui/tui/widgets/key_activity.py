"""A key's events over the window: bars per bucket, the buckets holding flagged events marked, and the
time axis.

Bars are scaled from zero (like the Explore sparkline) and the buckets are fixed and zero-filled, so a
quiet day is a gap. The bucket size comes from the window (`analysis.buckets`: 90 days read in days),
not from the width; a width too small for it coarsens the size, and the axis says so. Every bucket is
drawn the same number of columns. Flagged buckets are drawn in the error colour *and* get a `!` on the
axis row under the bars: the mark survives NO_COLOR. "Flagged" is `activity_buckets`' own definition
(events cited by a flag above INFO).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from ddaudit_tui.analysis.buckets import DAY_MS, HOUR_MS, BucketPlan, plan, preferred_size, size_label
from ddaudit_tui.analysis.glossary import KEY_GLOSSARY, define
from ddaudit_tui.analysis.keys import KeyReport, activity_buckets, smallest_bucket_ms
from ddaudit_tui.tui.widgets.sparkline import axis_text, bucket_bars, local_time_of, styled_runs

__all__ = ["DAY_MS", "HOUR_MS", "KeyActivity"]

_LABEL_WIDTH = len("nothing flagged")


class KeyActivity(Widget):
    """Bars (all rows but the last) and the axis row with the flagged markers (the last)."""

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
        self.plan: BucketPlan | None = None
        self.buckets: list[tuple[int, int, int]] = []
        self._computed: tuple[int, int] | None = None  # (report id, bucket size) the buckets are for

    @property
    def bucket_label(self) -> str:
        return size_label(self.plan.size_ms) if self.plan is not None else ""

    def on_mount(self) -> None:
        if hasattr(self.app, "local_time"):
            self.watch(self.app, "local_time", lambda _l: self.refresh(), init=False)

    def set_report(self, report: KeyReport | None) -> None:
        self.report = report
        self._computed = None
        self.refresh()

    def _bars_width(self) -> int:
        return max(1, self.size.width - self.label_width - 1)

    @property
    def label_width(self) -> int:
        """Wide enough for the longest label at any bucket size: a number is never cut."""
        n = self.report.total_events if self.report is not None else 0  # aggregated: more than fetched
        return max(_LABEL_WIDTH, len(f"max {n:,}/12 h"), len(f"{n:,} events"))

    def _compute(self, width: int) -> BucketPlan | None:
        report = self.report
        if report is None or report.window.end <= report.window.start:
            self.plan, self.buckets = None, []
            return None
        # Aggregated (DDSQL) counts are hourly: a short window's minutes cannot be drawn from them.
        p = plan(report.window, width, size_ms=max(preferred_size(report.window), smallest_bucket_ms(report)))
        self.plan = p
        key = (id(report), p.size_ms)
        if self._computed != key:  # a resize that keeps the bucket size keeps the counts
            self.buckets = activity_buckets(report, p.size_ms)
            self._computed = key
        return p

    def render(self) -> Text:
        text = Text(no_wrap=True, end="")
        width = self._bars_width()
        p = self._compute(width)
        if p is None:
            return text
        local = local_time_of(self)
        counts = [b[1] for b in self.buckets]
        flagged_buckets = [b[2] > 0 for b in self.buckets]
        flagged = [f for f in flagged_buckets for _ in range(p.columns_per_bucket)]
        height = max(2, self.size.height)
        label_w = self.label_width
        # Three rows or more: bars, a row of `!` under the flagged buckets, the axis. Two: the `!`
        # marks share the axis row (a date they would split is left out; the tooltip has it).
        separate = height >= 3
        bar_rows = height - 2 if separate else height - 1
        bar_style = self.get_component_rich_style("key-activity--bars")
        flag_style = self.get_component_rich_style("key-activity--flagged")
        label_style = self.get_component_rich_style("key-activity--label")
        peak = max(counts, default=0)
        labels = [f"max {peak:,}/{size_label(p.size_ms)}"]
        if bar_rows > 1:
            labels.append(f"{sum(counts):,} events")
        marker_label = "! = flagged" if any(flagged) else "nothing flagged"

        def label(s: str) -> str:
            return " " + s.rjust(label_w)

        for i, row in enumerate(bucket_bars(p, counts, bar_rows, width)):
            if i:
                text.append("\n")
            text.append_text(styled_runs(row, flagged, bar_style, flag_style))
            text.append(label(labels[i] if i < len(labels) else ""), style=label_style)
        text.append("\n")
        if separate:
            markers = "".join("!" if f else " " for f in flagged).ljust(width)[:width]
            text.append(markers, style=flag_style)
            text.append(label(marker_label), style=label_style)
            text.append("\n")
            text.append_text(axis_text(p, local, width, label_style))
            text.append(label(f"{sum(counts):,} events" if bar_rows == 1 else ""), style=label_style)
        else:
            text.append_text(axis_text(p, local, width, label_style, flagged, "!", flag_style))
            text.append(label(marker_label), style=label_style)
        self.tooltip = f"{p.label(local)}\n{define(KEY_GLOSSARY, ('events', 'flagged events'))}"
        return text
