"""AI calls over the pane's window: bars scaled from zero, bursts marked, numbers beside the picture.

The buckets come from `analysis.ai.activity_timeline` with the size `analysis.buckets` chooses from
the window (7 days: 3-hour buckets), coarsened only when the width cannot hold them — and then the
axis says so. Every bucket is drawn the same number of columns. Buckets that overlap a burst (≥ N
calls by one person within the burst window) get their bar in the burst style *and* a `▲` under it,
so the mark survives NO_COLOR; the label column says how many bursts and how big; the axis row states
the window's start and end and the bucket size, in the zone shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget

from ddaudit_tui.analysis import glossary as G
from ddaudit_tui.analysis.ai import AiCall, Burst, Timeline, activity_timeline
from ddaudit_tui.analysis.buckets import BucketPlan, plan, size_label
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.safe_text import fit
from ddaudit_tui.tui.widgets.sparkline import axis_text, bucket_bars, styled_runs

BURST_GLYPH = "▲"
_LABEL_WIDTH = 20


def burst_label(bursts: Sequence[Burst]) -> str:
    if not bursts:
        return "no bursts"
    if len(bursts) == 1:
        return f"{BURST_GLYPH} burst: {bursts[0].calls:,} {G.AI_CALLS}"
    return f"{BURST_GLYPH} {len(bursts)} bursts, max {max(b.calls for b in bursts):,}"


class AiTimeline(Widget):
    """`set_activity(calls, window, bursts)`; height 2 or more (bars, then the burst / axis row)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ai-timeline--bars",
        "ai-timeline--burst",
        "ai-timeline--label",
        "ai-timeline--axis",
    }

    DEFAULT_CSS = """
    AiTimeline {
        height: 3;
        background: $surface;
        & > .ai-timeline--bars { color: $primary; }
        & > .ai-timeline--burst { color: $error; text-style: bold; }
        & > .ai-timeline--label { color: $text-muted; }
        & > .ai-timeline--axis { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._calls: Sequence[AiCall] = ()
        self._window: Window | None = None
        self._bursts: Sequence[Burst] = ()
        self._generation = 0
        self._cache: tuple[tuple[int, int], Timeline] | None = None
        self.local_time = False

    def set_activity(
        self, calls: Sequence[AiCall], window: Window, bursts: Sequence[Burst], local_time: bool = False
    ) -> None:
        self._calls = calls
        self._window = window
        self._bursts = bursts
        self.local_time = local_time
        self._generation += 1
        self.refresh()

    def set_local_time(self, local: bool) -> None:
        self.local_time = local
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    @property
    def label_width(self) -> int:
        """The label column: wide enough for its longest label (numbers are never cut), whatever the
        bucket size turns out to be (a bucket holds at most every call)."""
        total = sum(1 for c in self._calls if c.counted)
        longest = (f"max {total:,} per 30 min", f"{total:,} {G.AI_CALLS}", burst_label(self._bursts))
        return max(_LABEL_WIDTH, *(cell_len(s) for s in longest))

    def _bars_width(self) -> int:
        return max(1, self.size.width - self.label_width - 1)

    @property
    def plan(self) -> BucketPlan | None:
        if self._window is None:
            return None
        return plan(self._window, self._bars_width())

    @property
    def timeline(self) -> Timeline | None:
        """The buckets at the size the window asks for (computed once per data and size)."""
        p = self.plan
        if p is None or self._window is None:
            return None
        key = (self._generation, p.size_ms)
        if self._cache is None or self._cache[0] != key:
            t = activity_timeline(self._calls, self._window, self._bursts, bucket_ms=p.size_ms)
            self._cache = (key, t)
        return self._cache[1]

    def render(self) -> Text:
        t = self.timeline
        p = self.plan
        if t is None or p is None:
            return Text("", end="")
        height = max(2, self.size.height)
        width = self._bars_width()
        label_w = self.label_width
        counts = [b.calls for b in t.buckets]
        burst = p.spread([b.burst for b in t.buckets])
        bar_style = self.get_component_rich_style("ai-timeline--bars")
        burst_style = self.get_component_rich_style("ai-timeline--burst")
        label_style = self.get_component_rich_style("ai-timeline--label")
        axis_style = self.get_component_rich_style("ai-timeline--axis")

        total = sum(counts)
        size = size_label(t.bucket_ms)
        labels = [f"max {t.peak:,} per {size}", f"{total:,} {G.AI_CALLS}"]
        if height - 1 == 1:
            labels = [f"max {t.peak:,}/{size} · {total:,}"]

        text = Text(no_wrap=True, end="")
        for r, row in enumerate(bucket_bars(p, counts, height - 1, width)):
            if r:
                text.append("\n")
            text.append_text(styled_runs(row, burst, bar_style, burst_style))
            label = labels[r] if r < len(labels) else ""
            text.append(" " + fit(label, label_w, "right"), style=label_style)

        # The last row: ▲ under burst buckets; the window's start, end and bucket size where free.
        text.append("\n")
        text.append_text(axis_text(p, self.local_time, width, axis_style, burst, BURST_GLYPH, burst_style))
        last_label = fit(burst_label(self._bursts), label_w, "right")
        text.append(" " + last_label, style=burst_style if self._bursts else label_style)
        self.tooltip = (
            f"{p.label(self.local_time)}\nbars: {G.AI_CALLS} per bucket — {G.AI_GLOSSARY[G.AI_CALLS]}"
        )
        return text
