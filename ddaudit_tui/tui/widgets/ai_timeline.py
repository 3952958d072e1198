"""AI calls over the pane's window: bars scaled from zero, bursts marked, numbers beside the picture.

The buckets come from `analysis.ai.activity_timeline` at this widget's own width (the report keeps
its own 60-bucket timeline). Buckets that overlap a burst (≥ N calls by one person within the burst
window) get their bar in the burst style *and* a `▲` under it, so the mark survives NO_COLOR; the
label column says how many bursts and how big, and where the window starts and ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget

from ddaudit_tui.analysis.ai import AiCall, Burst, Timeline, activity_timeline
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.safe_text import fit
from ddaudit_tui.tui.widgets.sparkline import bars

BURST_GLYPH = "▲"
_LABEL_WIDTH = 20


def short_duration(ms: int) -> str:
    """`3h`, `15m`, `1d` — bucket sizes are whole minutes, hours or days."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms / 1000:g}s"


def burst_label(bursts: Sequence[Burst]) -> str:
    if not bursts:
        return "no bursts"
    if len(bursts) == 1:
        return f"{BURST_GLYPH} burst: {bursts[0].calls:,} calls"
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

    def _bars_width(self) -> int:
        return max(1, self.size.width - _LABEL_WIDTH - 1)

    @property
    def timeline(self) -> Timeline | None:
        """The buckets at the current width (computed once per data and width)."""
        if self._window is None:
            return None
        key = (self._generation, self._bars_width())
        if self._cache is None or self._cache[0] != key:
            t = activity_timeline(self._calls, self._window, self._bursts, max_buckets=key[1])
            self._cache = (key, t)
        return self._cache[1]

    def render(self) -> Text:
        t = self.timeline
        if t is None or self._window is None:
            return Text("", end="")
        height = max(2, self.size.height)
        width = self._bars_width()
        n = len(t.buckets)
        # Buckets stretched over the whole width (a bucket may take one column more than its
        # neighbour): the bars always span the window, edge to edge.
        index = [x * n // width for x in range(width)] if n < width else list(range(n))[:width]
        counts = [t.buckets[i].calls for i in index]
        burst = [t.buckets[i].burst for i in index]
        rows = bars(counts, height - 1)
        bar_style = self.get_component_rich_style("ai-timeline--bars")
        burst_style = self.get_component_rich_style("ai-timeline--burst")
        label_style = self.get_component_rich_style("ai-timeline--label")
        axis_style = self.get_component_rich_style("ai-timeline--axis")

        total = sum(b.calls for b in t.buckets)
        labels = [f"max {t.peak:,} per {short_duration(t.bucket_ms)}", f"{total:,} calls"]
        if height - 1 == 1:
            labels = [f"max {t.peak:,}/{short_duration(t.bucket_ms)} · {total:,}"]

        text = Text(no_wrap=True, end="")
        for r, row in enumerate(rows):
            if r:
                text.append("\n")
            line = row.ljust(width)[:width]
            x = 0
            while x < width:  # runs of the same style, not one span per cell
                y = x
                while y < width and burst[y] == burst[x]:
                    y += 1
                text.append(line[x:y], style=burst_style if burst[x] else bar_style)
                x = y
            label = labels[r] if r < len(labels) else ""
            text.append(" " + fit(label, _LABEL_WIDTH, "right"), style=label_style)

        # The last row: ▲ under burst buckets, the window's start and end where they fit.
        text.append("\n")
        marks = [BURST_GLYPH if b else " " for b in burst]
        start = fmt_ts(self._window.start, self.local_time, seconds=False)[5:]
        end = fmt_ts(self._window.end, self.local_time, seconds=False)[5:]
        axis = [" "] * width
        if cell_len(start) + cell_len(end) + 2 <= width:
            # A date label half covered by burst marks would misread: it is left out instead.
            if " " * (len(start) + 1) == "".join(marks[: len(start) + 1]):
                axis[: len(start)] = list(start)
            if " " * (len(end) + 1) == "".join(marks[width - len(end) - 1 :]):
                axis[width - len(end) :] = list(end)
        for x in range(width):
            if marks[x] != " ":
                text.append(marks[x], style=burst_style)
            else:
                text.append(axis[x], style=axis_style)
        last_label = fit(burst_label(self._bursts), _LABEL_WIDTH, "right")
        text.append(" " + last_label, style=burst_style if self._bursts else label_style)
        return text
