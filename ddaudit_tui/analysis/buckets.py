"""Time buckets for every chart: the size comes from the window, never silently from the width.

A chart is honest when a reader can trust three things: every bucket covers the same time, every
bucket is drawn the same width, and the chart says what its axis is. So:

- the bucket size is chosen from the *window* (the smallest rung of `LADDER_MS` giving at most
  `MAX_BUCKETS` buckets — a 1-hour window gets minutes, a day quarter-hours, 90 days days), whatever
  the terminal width;
- only when the columns cannot hold that many buckets is the size coarsened, to the next rung that
  fits, and the label says so (`1 h buckets (coarsened from 15 min to fit)`);
- each bucket gets the same whole number of columns (`columns_per_bucket`); left-over columns stay
  blank rather than widening some buckets;
- edges are aligned to UTC multiples of the size (the same alignment as `explore.histogram`,
  `keys.activity_buckets` and `ai.activity_timeline`, so counts agree across them).

Pure: no Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ddaudit_tui.timeutil import Window, fmt_ts, zone_label

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
LADDER_MS: tuple[int, ...] = (
    MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS,
    12 * HOUR_MS, DAY_MS, 7 * DAY_MS,
)  # fmt: skip
# The most buckets a window is cut into by choice: ~100 is the resolution a reader picks by hand (60
# minutes, 96 quarter-hours, 91 days) and fits a 120-column terminal.
MAX_BUCKETS = 100


def size_label(size_ms: int) -> str:
    """`1 min`, `15 min`, `1 h`, `12 h`, `1 d`, `7 d` (the largest whole unit)."""
    for unit, ms in (("d", DAY_MS), ("h", HOUR_MS), ("min", MINUTE_MS), ("s", 1000)):
        if size_ms >= ms and size_ms % ms == 0:
            return f"{size_ms // ms} {unit}"
    return f"{size_ms} ms"


def aligned_start(window: Window, size_ms: int) -> int:
    return window.start - window.start % size_ms


def bucket_count(window: Window, size_ms: int) -> int:
    start = aligned_start(window, size_ms)
    return max(1, -(-(window.end - start) // size_ms))


def preferred_size(window: Window, most: int = MAX_BUCKETS) -> int:
    """The size the window asks for, whatever the width."""
    return next((s for s in LADDER_MS if bucket_count(window, s) <= most), LADDER_MS[-1])


@dataclass(frozen=True)
class BucketPlan:
    """Where the buckets of a window fall and how wide each is drawn in `columns`."""

    window: Window
    size_ms: int
    preferred_ms: int  # what the window asked for; larger `size_ms` means it was coarsened to fit
    columns: int  # the columns available for the bars

    @property
    def start(self) -> int:
        """The first edge (aligned: may be before the window's start)."""
        return aligned_start(self.window, self.size_ms)

    @property
    def count(self) -> int:
        return bucket_count(self.window, self.size_ms)

    @property
    def end(self) -> int:
        return self.start + self.count * self.size_ms

    @property
    def edges(self) -> tuple[int, ...]:
        """`count + 1` edges, from `start` to `end`, `size_ms` apart."""
        return tuple(self.start + i * self.size_ms for i in range(self.count + 1))

    @property
    def coarsened(self) -> bool:
        return self.size_ms != self.preferred_ms

    @property
    def columns_per_bucket(self) -> int:
        """The same for every bucket (at least 1)."""
        return max(1, self.columns // self.count)

    @property
    def drawn_width(self) -> int:
        return self.count * self.columns_per_bucket

    def index(self, ts: int) -> int | None:
        """The bucket of `ts`, or None outside the window."""
        if not self.window.contains(ts):
            return None
        return (ts - self.start) // self.size_ms

    def counts(self, stamps: Iterable[int]) -> tuple[int, ...]:
        out = [0] * self.count
        for ts in stamps:
            i = self.index(ts)
            if i is not None:
                out[i] += 1
        return tuple(out)

    def sums(self, points: Iterable[tuple[int, int]]) -> tuple[int, ...]:
        """(timestamp, value) pairs summed per bucket: a finer series re-bucketed (e.g. minutes into
        5-minute buckets)."""
        out = [0] * self.count
        for ts, value in points:
            i = self.index(ts)
            if i is not None:
                out[i] += value
        return tuple(out)

    def spread(self, values: Sequence[int]) -> list[int]:
        """Per-bucket values as per-column values: each bucket repeated `columns_per_bucket` times."""
        k = self.columns_per_bucket
        return [v for v in values for _ in range(k)]

    def column_bucket(self, x: int) -> int | None:
        """The bucket drawn in column `x` (None right of the last bucket)."""
        i = x // self.columns_per_bucket
        return i if 0 <= i < self.count else None

    @property
    def size_text(self) -> str:
        """`1 h buckets`, or `1 h buckets (coarsened from 15 min to fit)`."""
        text = f"{size_label(self.size_ms)} buckets"
        if self.coarsened:
            text += f" (coarsened from {size_label(self.preferred_ms)} to fit)"
        return text

    def span_text(self, local: bool) -> str:
        """The window in the zone shown: `2026-11-30 12:46Z → 2026-12-07 12:46Z`."""
        return f"{fmt_ts(self.window.start, local, False)} → {fmt_ts(self.window.end, local, False)}"

    def label(self, local: bool) -> str:
        """Start, end and bucket size in the zone shown: what every chart states under its bars."""
        return f"{self.span_text(local)} ({zone_label(local)}) · {self.size_text}"


def plan(window: Window, columns: int, size_ms: int | None = None) -> BucketPlan:
    """Buckets for `window` in `columns` columns. `size_ms` asks for a size (e.g. a chart's hour
    view); it is coarsened the same way when the columns cannot hold it."""
    columns = max(1, columns)
    preferred = size_ms or preferred_size(window)
    rungs = [s for s in LADDER_MS if s >= preferred] or [preferred]
    if preferred not in rungs:
        rungs.insert(0, preferred)
    size = next((s for s in rungs if bucket_count(window, s) <= columns), rungs[-1])
    return BucketPlan(window=window, size_ms=size, preferred_ms=preferred, columns=columns)


def fit_window(window: Window, focus: Window, columns: int, size_ms: int) -> Window:
    """`window` narrowed around `focus` so that buckets of `size_ms` fit `columns` — a zoom keeps its
    bucket size by showing less time. Unchanged when it already fits, or when `focus` itself would not
    fit (then the size must coarsen instead: cutting what the zoom is about would hide it)."""
    if bucket_count(window, size_ms) <= columns:
        return window
    span = (max(2, columns) - 1) * size_ms  # alignment may add one bucket
    if focus.duration_ms > span - size_ms:
        return window
    mid = (focus.start + focus.end) // 2
    start = max(window.start, min(mid - span // 2, window.end - span))
    return Window(start, min(window.end, start + span))


@dataclass(frozen=True)
class Buckets:
    """Counts per bucket with their plan: edges, counts and a label with start, end and size."""

    plan: BucketPlan
    counts: tuple[int, ...]

    @property
    def edges(self) -> tuple[int, ...]:
        return self.plan.edges

    @property
    def size_ms(self) -> int:
        return self.plan.size_ms

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def label(self, local: bool = False) -> str:
        return self.plan.label(local)


def bucketize(stamps: Iterable[int], window: Window, columns: int, size_ms: int | None = None) -> Buckets:
    """Count the timestamps (epoch ms) per bucket of the window, sized for `columns`."""
    p = plan(window, columns, size_ms)
    return Buckets(plan=p, counts=p.counts(stamps))


def axis_segments(p: BucketPlan, local: bool, width: int | None = None) -> list[tuple[int, str, str]]:
    """The axis under the bars as (column, text, kind) pieces, kind `start`, `size` or `end`: the
    window's start at the left edge, its end ending at the right of `width` (default: the last
    bucket's right edge), the bucket size between.
    Shorter forms when the width is small; what does not fit is left out whole, never cut mid-word."""
    width = p.drawn_width if width is None else width
    start = fmt_ts(p.window.start, local, False)
    end = fmt_ts(p.window.end, local, False)
    short = f"{size_label(p.size_ms)} buckets" + (" (coarsened)" if p.coarsened else "")
    candidates = (
        (start, f"{p.size_text} · {zone_label(local)}", end),
        (start, p.size_text, end),
        (start[5:], p.size_text, end[5:]),
        (start[5:], short, end[5:]),
        ("", short, ""),
        ("", size_label(p.size_ms) + (" (coarsened)" if p.coarsened else ""), ""),
    )
    for left, mid, right in candidates:
        need = len(left) + len(mid) + len(right) + (2 if left else 0) + (2 if right else 0)
        if need <= width:
            gap = width - len(left) - len(right) - len(mid)
            out = [(0, left, "start")] if left else []
            out.append((len(left) + gap // 2, mid, "size"))
            if right:
                out.append((width - len(right), right, "end"))
            return out
    return []


def axis_line(p: BucketPlan, local: bool, width: int | None = None) -> str:
    """`axis_segments` as one line of exactly `width` characters."""
    width = p.drawn_width if width is None else width
    cells = [" "] * width
    for x, text, _kind in axis_segments(p, local, width):
        cells[x : x + len(text)] = list(text)
    return "".join(cells)[:width]
