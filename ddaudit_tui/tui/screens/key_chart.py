"""The larger view of a key's activity: a bar chart of events per hour or day over the window, the
flagged events drawn over them in another colour *and* another character, and a `!` row under the
buckets holding flagged events (readable under NO_COLOR).

The chart is drawn here, not by plotext: plotext widens a bar to the gap between its neighbours, so
150 events in one hour were drawn ~11 hours wide. Here every bucket is exactly
`columns_per_bucket` columns (`analysis.buckets`), the hour view keeps its hours by zooming on the
flagged activity when the width cannot hold the whole window, and the title states the window, the
zone and the bucket size (saying so when it had to coarsen). Labels are dates and numbers the pane
computed, never event text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from ddaudit_tui.analysis.buckets import DAY_MS, HOUR_MS, BucketPlan, fit_window, plan, size_label
from ddaudit_tui.analysis.keys import KeyReport, activity_buckets
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.timeutil import Window, fmt_ts, zone_label
from ddaudit_tui.tui.widgets.pane_footer import PaneFooter
from ddaudit_tui.tui.widgets.sparkline import local_time_of

_BLOCKS = " ▁▂▃▄▅▆▇█"
_FLAGGED = "▒"
_TICK_STEPS = (1, 2, 3, 4, 6, 7, 8, 12, 14, 24, 28, 48, 56, 72, 96, 168)


def bucket_ticks(p: BucketPlan, local: bool, width: int) -> str:
    """The x labels: bucket starts (`MM-DD`, or `MM-DD HH:MM` under a day), every `step` buckets
    where `step` is the smallest that keeps the labels apart, each starting at its bucket's column."""
    day_or_more = p.size_ms >= DAY_MS
    sample = "12-31" if day_or_more else "12-31 23:59"
    k = p.columns_per_bucket
    step = next((s for s in _TICK_STEPS if s * k >= len(sample) + 2), _TICK_STEPS[-1])
    cells = [" "] * width
    for i in range(0, p.count, step):
        ts = fmt_ts(p.start + i * p.size_ms, local, seconds=False)  # "2026-11-19 15:00Z"
        label = ts[5:10] if day_or_more else ts[5:16]
        x = i * k
        if x + len(label) <= width:
            cells[x : x + len(label)] = list(label)
    return "".join(cells)


class ActivityChart(Widget):
    """Events per bucket over `window` (at `size_ms`, coarsened only if the width cannot hold it),
    flagged events over them, a `!` row and the x labels. `plan` is set once the width is known."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "activity-chart--bars",
        "activity-chart--flagged",
        "activity-chart--axis",
    }

    DEFAULT_CSS = """
    ActivityChart {
        height: 1fr;
        background: $surface;
        & > .activity-chart--bars { color: $primary; }
        & > .activity-chart--flagged { color: $error; text-style: bold; }
        & > .activity-chart--axis { color: $text-muted; }
    }
    """

    class Planned(Message):
        """The buckets were (re)planned: the title can say what they are."""

    def __init__(self, report: KeyReport, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report = report
        self.window = report.window
        self.focus = report.window
        self.size_ms = DAY_MS
        self.plan: BucketPlan | None = None
        self.buckets: list[tuple[int, int, int]] = []

    def set_view(self, window: Window, focus: Window, size_ms: int) -> None:
        self.window, self.focus, self.size_ms = window, focus, size_ms
        self._replan()

    def on_resize(self, event: events.Resize) -> None:
        self._replan()

    def _y_width(self) -> int:
        peak = max((b[1] for b in activity_buckets(self.report, self.size_ms, self.window)), default=0)
        return len(f"{peak:,}") + 2  # "150 ┤"

    def _columns(self) -> int:
        return max(1, self.size.width - self._y_width())

    def _replan(self) -> None:
        if not self.size.width or self.window.end <= self.window.start:
            return
        columns = self._columns()
        window = fit_window(self.window, self.focus, columns, self.size_ms)
        p = plan(window, columns, size_ms=self.size_ms)
        if p != self.plan:
            self.plan = p
            self.buckets = activity_buckets(self.report, p.size_ms, window)
            self.post_message(self.Planned())
        self.refresh()

    def bar_rows(self) -> list[str]:
        """The bars as plain rows, top first, without the y labels (for tests and the tmux check)."""
        p = self.plan
        if p is None:
            return []
        height = max(1, self.size.height - 2)
        return [row for row, _flagged in self._rows(p, height)]

    def _rows(self, p: BucketPlan, height: int) -> list[tuple[str, list[bool]]]:
        k = p.columns_per_bucket
        totals = [b[1] for b in self.buckets]
        flagged = [b[2] for b in self.buckets]
        peak = max(totals, default=0)
        levels = 8 * height
        out: list[tuple[str, list[bool]]] = []
        for r in range(height - 1, -1, -1):  # r = 0 is the bottom row
            chars: list[str] = []
            marks: list[bool] = []
            for n, f in zip(totals, flagged, strict=True):
                level = max(1, round(n * levels / peak)) if n > 0 and peak > 0 else 0
                flevel = max(1, round(f * levels / peak)) if f > 0 and peak > 0 else 0
                fill = min(8, max(0, level - 8 * r))
                # A cell mostly under the flagged count is drawn as flagged (another character too).
                is_flagged = fill > 0 and flevel > 8 * r + (0 if r == 0 else 3)
                ch = _FLAGGED if is_flagged else _BLOCKS[fill]
                chars.extend([ch] * k)
                marks.extend([is_flagged] * k)
            out.append(("".join(chars), marks))
        return out

    def render(self) -> Text:
        p = self.plan
        text = Text(no_wrap=True, end="")
        if p is None:
            return text
        local = local_time_of(self)
        bar_style = self.get_component_rich_style("activity-chart--bars")
        flag_style = self.get_component_rich_style("activity-chart--flagged")
        axis_style = self.get_component_rich_style("activity-chart--axis")
        y_w = self._y_width()
        columns = max(1, self.size.width - y_w)
        height = max(1, self.size.height - 2)
        peak = max((b[1] for b in self.buckets), default=0)
        # A row's label is the count at its top edge; 0 sits on the baseline under the bars.
        y_labels = {0: f"{peak:,}"}
        if height >= 5:
            mid = height // 2
            y_labels[mid] = f"{peak * (height - mid) / height:,.0f}"
        for i, (row, marks) in enumerate(self._rows(p, height)):
            if i:
                text.append("\n")
            label = y_labels.get(i, "")
            text.append(label.rjust(y_w - 2) + (" ┤" if label else " │"), style=axis_style)
            x = 0
            row = row[:columns]
            while x < len(row):  # runs of the same style, not one span per cell
                y = x
                while y < len(row) and marks[y] == marks[x]:
                    y += 1
                text.append(row[x:y], style=flag_style if marks[x] else bar_style)
                x = y
        k = p.columns_per_bucket
        flags_row = "".join(("!" if b[2] else " ") * k for b in self.buckets)[:columns]
        text.append("\n")
        text.append("0".rjust(y_w - 2) + " └", style=axis_style)
        text.append(flags_row, style=Style.combine([flag_style]))
        text.append("\n")
        text.append(" " * y_w, style=axis_style)
        text.append(bucket_ticks(p, local, columns), style=axis_style)
        return text


class KeyChartScreen(ModalScreen[None]):
    """`KeyChartScreen(report, local_time)`; `b` switches between per-hour and per-day buckets."""

    HELP_GROUP: ClassVar[str] = "Activity chart"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,t", "close", "Close", id="key-chart.close"),
        Binding(
            "b", "toggle_bucket", "Hour/day", id="key-chart.bucket", tooltip="Events per hour or per day"
        ),
    ]

    DEFAULT_CSS = """
    KeyChartScreen {
        align: center middle;
        & > #chart-frame {
            width: 100%;
            height: 100%;
            border: tall $accent;
            background: $surface;
        }
        & #chart-title { height: auto; padding: 0 1; background: $panel; }
        & ActivityChart { height: 1fr; padding: 1 1 0 1; }
    }
    """

    def __init__(self, report: KeyReport, local_time: bool | None = None) -> None:
        super().__init__()
        self.report = report
        self._local = local_time
        span = report.window.end - report.window.start
        # Hours while they still fit a wide terminal; the window of a lookup is usually days.
        self.bucket_ms = HOUR_MS if span <= 4 * DAY_MS else DAY_MS

    @property
    def local_time(self) -> bool:
        return local_time_of(self) if self._local is None else self._local

    @property
    def chart(self) -> ActivityChart:
        return self.query_one(ActivityChart)

    def _has_flags(self) -> bool:
        return any(f.severity > Severity.INFO for f in self.report.flags)

    def chart_focus(self) -> Window | None:
        """What the hour view is about: the flagged events, else the key's last three active days."""
        r = self.report
        cited = {eid for f in r.flags if f.severity > Severity.INFO for eid in f.event_ids}
        stamps = [e.ts for e in r.events if e.id in cited]
        if stamps:
            return Window(min(stamps), max(stamps) + 1)
        if r.last_seen is not None:
            return Window(max(r.window.start, r.last_seen - 3 * DAY_MS), r.last_seen + 1)
        return None

    def chart_window(self) -> Window:
        """Days: the whole window. Hours: 90 days of hours would be 2,160 bars, so the hour view zooms
        on the flagged activity (a day either side), else on the key's last three active days."""
        r = self.report
        if self.bucket_ms != HOUR_MS or r.window.end - r.window.start <= 4 * DAY_MS:
            return r.window
        focus = self.chart_focus()
        if focus is None:
            return r.window
        pad = DAY_MS if focus.end - focus.start < 3 * DAY_MS - 2 else 0
        start, end = focus.start - pad, focus.end + (pad or HOUR_MS)
        return Window(max(r.window.start, start), min(r.window.end, end))

    def compose(self) -> ComposeResult:
        with Vertical(id="chart-frame"):
            yield Static(id="chart-title")
            yield ActivityChart(self.report, id="chart")
        yield PaneFooter(compact=True)

    def on_mount(self) -> None:
        if hasattr(self.app, "local_time"):
            self.watch(self.app, "local_time", lambda _l: self._retitle(), init=False)
        self.replot()

    @property
    def bucket_word(self) -> str:
        return "hour" if self.bucket_ms == HOUR_MS else "day"

    def replot(self) -> None:
        window = self.chart_window()
        self.chart.set_view(window, self.chart_focus() or window, self.bucket_ms)
        self._retitle()

    def on_activity_chart_planned(self, _event: ActivityChart.Planned) -> None:
        self._retitle()

    @property
    def title_text(self) -> str:
        return self.query_one("#chart-title", Static).render().plain  # type: ignore[union-attr]

    def _retitle(self) -> None:
        chart = self.chart
        p = chart.plan
        r = self.report
        local = self.local_time
        title = Text(end="")
        word = self.bucket_word if p is None or not p.coarsened else size_label(p.size_ms)
        title.append(f"API key {r.key_id} — events per {word}", style="bold")
        if p is not None:
            span = f"{fmt_ts(p.window.start, local, False)} → {fmt_ts(p.window.end, local, False)}"
            title.append(f" · {span} ({zone_label(local)}) · {p.size_text}")
            totals = sum(b[1] for b in chart.buckets)
            flagged = sum(b[2] for b in chart.buckets)
            title.append(f" · {flagged:,} of {totals:,} events flagged", style="dim")
            if p.window != r.window:
                what = (
                    "the flagged activity" if chart.focus != r.window and self._has_flags() else "recent days"
                )
                title.append(f" · zoomed on {what} (b: the whole window in days)", style="dim")
        title.append("\n")
        title.append(f"█ events   {_FLAGGED} flagged events (cited by a flag above INFO)   ", style="dim")
        title.append("!", style="bold")
        title.append(" under a bucket that holds flagged events", style="dim")
        self.query_one("#chart-title", Static).update(title)
        chart.refresh()

    def action_toggle_bucket(self) -> None:
        self.bucket_ms = DAY_MS if self.bucket_ms == HOUR_MS else HOUR_MS
        self.replot()

    def action_close(self) -> None:
        self.dismiss(None)
