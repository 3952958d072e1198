"""Events over the window as a bar sparkline with numeric labels.

Unlike Textual's `Sparkline` (scaled from the data's minimum), bars here are scaled from zero, buckets
are fixed and zero-filled (a quiet hour is a gap, not a squeezed-out column), and the peak and the
bucket size are printed beside the bars so the picture can be read as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.widget import Widget

from ddaudit_tui.analysis.explore import Histogram, histogram
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window

_BLOCKS = " ▁▂▃▄▅▆▇█"
_LABEL_WIDTH = 16
_SYNC_LIMIT = 20_000  # below this many events the histogram is computed inline (no flicker)


def bars(counts: Sequence[int], height: int) -> list[str]:
    """Rows of block characters, top row first; any non-zero count shows at least the lowest block."""
    peak = max(counts, default=0)
    levels = 8 * height
    rows = [[" "] * len(counts) for _ in range(height)]
    if peak <= 0:
        return ["".join(r) for r in rows]
    for x, n in enumerate(counts):
        if n <= 0:
            continue
        level = max(1, round(n * levels / peak))
        for r in range(height):  # r = 0 is the bottom row
            fill = min(8, max(0, level - 8 * r))
            rows[height - 1 - r][x] = _BLOCKS[fill]
    return ["".join(r) for r in rows]


class EventSparkline(Widget):
    """Histogram of the shown events over the window; bucket size follows the window and the width."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-sparkline--bars", "event-sparkline--label"}

    DEFAULT_CSS = """
    EventSparkline {
        height: 2;
        background: $surface;
        & > .event-sparkline--bars { color: $primary; }
        & > .event-sparkline--label { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._events: Sequence[Event] = ()
        self._window: Window | None = None
        self._hist: Histogram | None = None
        self._generation = 0
        self._computed: tuple[int, int] | None = None

    @property
    def histogram(self) -> Histogram | None:
        return self._hist

    def set_data(self, events: Sequence[Event], window: Window) -> None:
        self._events = events
        self._window = window
        self._generation += 1
        self._update()

    def on_resize(self, event: events.Resize) -> None:
        self._update()

    def _bars_width(self) -> int:
        return max(1, self.size.width - _LABEL_WIDTH - 1)

    def _update(self) -> None:
        if self._window is None or not self.size.width:
            return
        key = (self._generation, self._bars_width())
        if key == self._computed:
            return
        self._computed = key
        if len(self._events) <= _SYNC_LIMIT:
            self._set_histogram(histogram(self._events, self._window, max_buckets=key[1]), key)
        else:
            # A pass over 200k events is ~0.1 s: keep it off the UI thread.
            self._compute(self._events, self._window, key)

    # A description of its own: without one, Textual describes the worker by the repr of its arguments,
    # every event included (~5 s on the UI thread for 200k events).
    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sparkline",
        description="Counting events per time bucket",
    )
    def _compute(self, events: Sequence[Event], window: Window, key: tuple[int, int]) -> None:
        hist = histogram(events, window, max_buckets=key[1])
        self.app.call_from_thread(self._set_histogram, hist, key)

    def _set_histogram(self, hist: Histogram, key: tuple[int, int]) -> None:
        if key == self._computed:  # not superseded by newer data or another width meanwhile
            self._hist = hist
            self.refresh()

    def _ensure_histogram(self) -> Histogram | None:
        return self._hist

    def render(self) -> Text:
        height = max(1, self.size.height)
        hist = self._ensure_histogram()
        bar_style = self.get_component_rich_style("event-sparkline--bars")
        label_style = self.get_component_rich_style("event-sparkline--label")
        if hist is None:
            return Text("", end="")
        width = self._bars_width()
        # Buckets are stretched over the whole width (a bucket may take one column more than its
        # neighbour): the bars always span the window, edge to edge.
        n = len(hist.counts)
        counts = [hist.counts[x * n // width] for x in range(width)] if n < width else list(hist.counts)
        rows = bars(counts, height)
        peak = f"max {hist.max:,}"
        per = f"per {hist.bucket_label}"
        labels = [peak, per] if height > 1 else [f"{peak} {per}"]
        text = Text(no_wrap=True, end="")
        for i, row in enumerate(rows):
            if i:
                text.append("\n")
            text.append(row.ljust(width)[:width], style=bar_style)
            # Labels sit on the top rows, beside the peak they describe.
            label = labels[i] if i < len(labels) else ""
            text.append(" " + label.rjust(_LABEL_WIDTH)[:_LABEL_WIDTH], style=label_style)
        return text
