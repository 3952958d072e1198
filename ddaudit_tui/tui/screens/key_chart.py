"""The larger view of a key's activity: a plotext bar chart of events per hour or day over the window,
the flagged events drawn over them in another colour *and* another marker (readable under NO_COLOR).

plotext's figure is a module-level global and not thread-safe: the chart is built on the UI thread.
Labels are dates and numbers the pane computed, never event text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from ddaudit_tui.analysis.keys import KeyReport, activity_buckets
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.timeutil import Window, fmt_ts, zone_label
from ddaudit_tui.tui.widgets.key_activity import DAY_MS, HOUR_MS

_MAX_TICKS = 8


def bucket_ticks(
    starts: list[int], bucket_ms: int, local: bool, most: int = _MAX_TICKS
) -> tuple[list[int], list[str]]:
    """At most `most` evenly spaced x ticks with short labels (`MM-DD`, or `MM-DD HH:MM` for hours)."""
    n = len(starts)
    if n == 0:
        return [], []
    step = max(1, -(-n // most))
    xs = list(range(0, n, step))
    labels = []
    for i in xs:
        ts = fmt_ts(starts[i], local, seconds=False)  # "2026-11-19 15:00Z"
        labels.append(ts[5:10] if bucket_ms >= DAY_MS else ts[5:16])
    return xs, labels


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
        & #chart-title { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
        & PlotextPlot { height: 1fr; }
    }
    """

    def __init__(self, report: KeyReport, local_time: bool = False) -> None:
        super().__init__()
        self.report = report
        self.local_time = local_time
        span = report.window.end - report.window.start
        # Hours while they still fit a wide terminal; the window of a lookup is usually days.
        self.bucket_ms = HOUR_MS if span <= 4 * DAY_MS else DAY_MS

    def chart_window(self) -> Window:
        """Days: the whole window. Hours: 90 days of hours would be 2,160 bars, so the hour view zooms
        on the flagged activity (a day either side), else on the key's last three active days."""
        r = self.report
        if self.bucket_ms != HOUR_MS or r.window.end - r.window.start <= 4 * DAY_MS:
            return r.window
        cited = {eid for f in r.flags if f.severity > Severity.INFO for eid in f.event_ids}
        stamps = [e.ts for e in r.events if e.id in cited]
        if stamps:
            start, end = min(stamps) - DAY_MS, max(stamps) + DAY_MS
        elif r.last_seen is not None:
            start, end = r.last_seen - 3 * DAY_MS, r.last_seen + HOUR_MS
        else:
            return r.window
        return Window(max(r.window.start, start), min(r.window.end, end))

    def compose(self) -> ComposeResult:
        with Vertical(id="chart-frame"):
            yield Static(id="chart-title")
            yield PlotextPlot(id="chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.replot()

    @property
    def bucket_word(self) -> str:
        return "hour" if self.bucket_ms == HOUR_MS else "day"

    def replot(self) -> None:
        r = self.report
        window = self.chart_window()
        buckets = activity_buckets(r, self.bucket_ms, window)
        starts = [b[0] for b in buckets]
        totals = [b[1] for b in buckets]
        flagged = [b[2] for b in buckets]
        xs = list(range(len(buckets)))
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append(f"API key {r.key_id} — events per {self.bucket_word}", style="bold")
        start, stop = (fmt_ts(t, self.local_time, False) for t in (window.start, window.end))
        title.append(f" · {start} → {stop} ({zone_label(self.local_time)})")
        title.append(f" · {sum(flagged):,} of {sum(totals):,} flagged", style="dim")
        self.query_one("#chart-title", Static).update(title)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        if xs:
            # Only non-empty buckets: plotext draws a one-row stub for a zero bar, which would read as
            # activity. The x axis still spans the whole window (the ticks and limits below).
            for values, marker, color, label in (
                (totals, "sd", "blue", "events"),
                (flagged, "▒", "red", "flagged"),
            ):
                points = [(x, v) for x, v in zip(xs, values, strict=True) if v]
                if points:
                    px, py = zip(*points, strict=True)
                    plt.bar(list(px), list(py), marker=marker, color=color, label=label, width=1)
            plt.xlim(-0.5, len(xs) - 0.5)
            ticks, labels = bucket_ticks(starts, self.bucket_ms, self.local_time)
            plt.xticks(ticks, labels)
        plt.ylabel("events")
        plot.refresh()

    def action_toggle_bucket(self) -> None:
        self.bucket_ms = DAY_MS if self.bucket_ms == HOUR_MS else HOUR_MS
        self.replot()

    def action_close(self) -> None:
        self.dismiss(None)
