"""Events over the window as a bar sparkline with numeric labels and a time axis.

Unlike Textual's `Sparkline` (scaled from the data's minimum), bars here are scaled from zero, buckets
are fixed and zero-filled (a quiet hour is a gap, not a squeezed-out column), and the peak is printed
beside the bars so the picture can be read as numbers. The bucket size comes from the window
(`analysis.buckets`), every bucket is drawn the same number of columns, and the last row states the
axis: start, end and bucket size in the zone shown (UTC or local, the app's `z`).

`bars`, `bar_text` and `axis_text` are shared by every chart of the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.widget import Widget

from ddaudit_tui.analysis.buckets import BucketPlan, axis_segments, plan, size_label
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


def bucket_bars(p: BucketPlan, counts: Sequence[int], height: int, width: int) -> list[str]:
    """The bar rows of per-bucket `counts`: each bucket `p.columns_per_bucket` columns wide, padded
    with blanks to `width` (never stretched: no bucket is drawn wider than another)."""
    return [row.ljust(width)[:width] for row in bars(p.spread(counts), height)]


def styled_runs(line: str, highlight: Sequence[bool], normal: Style, marked: Style) -> Text:
    """`line` with the columns where `highlight` is true in `marked` (runs, not one span per cell)."""
    text = Text(no_wrap=True, end="")
    x = 0
    n = len(line)
    while x < n:
        on = x < len(highlight) and highlight[x]
        y = x
        while y < n and (y < len(highlight) and highlight[y]) == on:
            y += 1
        text.append(line[x:y], style=marked if on else normal)
        x = y
    return text


def axis_text(
    p: BucketPlan,
    local: bool,
    width: int,
    style: Style,
    marks: Sequence[bool] = (),
    glyph: str = "",
    mark_style: Style | None = None,
) -> Text:
    """The axis row: start, bucket size and end (`buckets.axis_segments`) over the drawn buckets,
    padded to `width`. With `marks` (per column), `glyph` is drawn under the marked columns; the start
    or end a mark would split is left out whole (a half-covered date would misread), the bucket size
    moves to the nearest free stretch."""
    cells = [" "] * width
    marked = [bool(marks[x]) if x < len(marks) else False for x in range(width)]

    def free(x: int, n: int) -> bool:
        return x >= 0 and x + n <= width and not any(marked[max(0, x - 1) : x + n + 1])

    taken: list[tuple[int, int]] = []

    def clear(x: int, n: int) -> bool:  # one blank column from the dates already placed
        return all(x + n + 1 <= a or x >= b + 1 for a, b in taken)

    span = min(width, p.drawn_width)  # the axis belongs under the buckets, not beyond them
    segments = axis_segments(p, local, span)
    for x, word, kind in sorted(segments, key=lambda s: s[2] == "size"):  # dates first
        n = len(word)
        if kind == "size" and not free(x, n):
            # Marks cover its place: the nearest free stretch under the buckets, else the blank
            # columns right of them (a caption, not a position on the axis).
            inside = [y for y in range(span - n + 1) if free(y, n) and clear(y, n)]
            after = [y for y in range(span + 2, width - n + 1) if free(y, n) and clear(y, n)]
            if inside:
                x = min(inside, key=lambda y: abs(y - x))
            elif after:
                x = after[0]
            else:
                continue
        elif not free(x, n):
            continue
        cells[x : x + n] = list(word)
        taken.append((x, x + n))
    text = Text(no_wrap=True, end="")
    for x in range(width):
        if marked[x]:
            text.append(glyph, style=mark_style or style)
        else:
            text.append(cells[x], style=style)
    return text


def local_time_of(widget: Widget) -> bool:
    """The app's UTC/local toggle (`z`), False outside the ddaudit app (tests mount widgets alone)."""
    try:
        return bool(getattr(widget.app, "local_time", False))
    except Exception:  # no active app
        return False


class EventSparkline(Widget):
    """Histogram of the shown events over the window: bars, then the time axis (when height ≥ 2)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-sparkline--bars", "event-sparkline--label"}

    DEFAULT_CSS = """
    EventSparkline {
        height: 3;
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
        self._plan: BucketPlan | None = None
        self._generation = 0
        self._computed: tuple[int, int] | None = None
        self._local: bool | None = None  # None: follow the app's toggle

    @property
    def histogram(self) -> Histogram | None:
        return self._hist

    @property
    def plan(self) -> BucketPlan | None:
        return self._plan

    @property
    def local_time(self) -> bool:
        return local_time_of(self) if self._local is None else self._local

    def set_local_time(self, local: bool | None) -> None:
        """Force the zone (None: follow the app's `z` toggle)."""
        self._local = local
        self.refresh()

    def on_mount(self) -> None:
        if hasattr(self.app, "local_time"):
            self.watch(self.app, "local_time", lambda _l: self.refresh(), init=False)

    def set_data(self, events: Sequence[Event], window: Window) -> None:
        self._events = events
        self._window = window
        self._generation += 1
        self._update()

    def on_resize(self, event: events.Resize) -> None:
        self._update()

    def _bars_width(self) -> int:
        return max(1, self.size.width - self.label_width - 1)

    @property
    def label_width(self) -> int:
        """Wide enough for the longest label at any bucket size (a bucket holds at most every event):
        a number is never cut."""
        n = len(self._events)
        return max(_LABEL_WIDTH, len(f"max {n:,} per 30 min"), len(f"{n:,} events"))

    def _update(self) -> None:
        if self._window is None or not self.size.width:
            return
        p = plan(self._window, self._bars_width())
        self._plan = p
        # The histogram depends on the bucket size only, not on the width: a resize that keeps the
        # size keeps the counts.
        key = (self._generation, p.size_ms)
        if key == self._computed:
            self.refresh()
            return
        self._computed = key
        if len(self._events) <= _SYNC_LIMIT:
            self._set_histogram(histogram(self._events, self._window, bucket_ms=p.size_ms), key)
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
        hist = histogram(events, window, bucket_ms=key[1])
        self.app.call_from_thread(self._set_histogram, hist, key)

    def _set_histogram(self, hist: Histogram, key: tuple[int, int]) -> None:
        if key == self._computed:  # not superseded by newer data or another size meanwhile
            self._hist = hist
            self.refresh()

    def render(self) -> Text:
        height = max(1, self.size.height)
        hist = self._hist
        p = self._plan
        bar_style = self.get_component_rich_style("event-sparkline--bars")
        label_style = self.get_component_rich_style("event-sparkline--label")
        if hist is None or p is None or p.size_ms != hist.bucket_ms:
            return Text("", end="")
        width = self._bars_width()
        label_w = self.label_width
        bar_rows = height - 1 if height > 1 else 1
        rows = bucket_bars(p, hist.counts, bar_rows, width)
        peak = f"max {hist.max:,}"
        per = f"per {size_label(hist.bucket_ms)}"
        labels = [peak, per] if bar_rows > 1 else [f"{peak} {per}"]
        text = Text(no_wrap=True, end="")
        for i, row in enumerate(rows):
            if i:
                text.append("\n")
            text.append(row, style=bar_style)
            # Labels sit on the top rows, beside the peak they describe.
            label = labels[i] if i < len(labels) else ""
            text.append(" " + label.rjust(label_w), style=label_style)
        if height > 1:
            text.append("\n")
            text.append_text(axis_text(p, self.local_time, width, label_style))
            total = f"{hist.total:,} events"
            text.append(" " + total.rjust(label_w), style=label_style)
        # At one row there is no room for the axis: the tooltip always carries it.
        self.tooltip = p.label(self.local_time)
        return text
