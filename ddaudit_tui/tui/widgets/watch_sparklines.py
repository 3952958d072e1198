"""Events per minute for the spike watch: overall, and one line per hot actor, with numbers beside.

The poller keeps the last hour, minute by minute. Its buckets are one minute while the width holds 60
of them (each drawn the same number of columns, so the bars span the pane); a narrower pane coarsens
them to 5 minutes (`analysis.buckets`) and the axis says so — the bucket size never silently follows
the width. Bars are scaled from zero (`sparkline.bars`); the peak, the current minute and the span
are printed as numbers, so the picture reads without colour. Actor names are attacker-controlled:
cleaned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from ddaudit_tui.analysis.buckets import MINUTE_MS, BucketPlan, plan, size_label
from ddaudit_tui.analysis.glossary import WATCH_GLOSSARY, define
from ddaudit_tui.timeutil import Window, fmt_ts
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.widgets.sparkline import axis_text, bucket_bars

_LEFT = 11  # "events/min " / "last 60m   "


def series_plan(start_ms: int, minutes: int, columns: int) -> BucketPlan:
    """Buckets over the series' hour: one minute each while `columns` holds them, else coarser."""
    return plan(Window(start_ms, start_ms + minutes * MINUTE_MS), columns, size_ms=MINUTE_MS)


def rebucket(p: BucketPlan, start_ms: int, series: Sequence[int]) -> tuple[int, ...]:
    """Per-minute counts summed into the plan's buckets (the same counts when they are minutes)."""
    return p.sums((start_ms + i * MINUTE_MS, n) for i, n in enumerate(series))


class RateSparkline(Widget):
    """Matched events per minute over the last hour (the poller's series)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"rate-sparkline--bars", "rate-sparkline--label"}

    DEFAULT_CSS = """
    RateSparkline {
        height: 2;
        background: $surface;
        & > .rate-sparkline--bars { color: $primary; }
        & > .rate-sparkline--label { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series: tuple[int, ...] = ()
        self.start_ms = 0
        self.local_time = False

    def set_series(self, start_ms: int, series: Sequence[int], local: bool) -> None:
        series = tuple(series)
        if (start_ms, series, local) != (self.start_ms, self.series, self.local_time):
            self.start_ms, self.series, self.local_time = start_ms, series, local
            self.refresh()

    @property
    def plan(self) -> BucketPlan | None:
        if not self.series:
            return None
        return series_plan(self.start_ms, len(self.series), self._bars_width())

    def _right_labels(self) -> list[str]:
        now = self.series[-1]
        last_minute = self.start_ms + (len(self.series) - 1) * MINUTE_MS
        at = fmt_ts(last_minute, self.local_time, False)[11:]
        return [f"max {self._peak():,}/{self._bucket_text()}", f"now {now:,}/min · {at}"]

    def _peak(self) -> int:
        p = self.plan
        return max(rebucket(p, self.start_ms, self.series), default=0) if p is not None else 0

    def _bucket_text(self) -> str:
        p = self.plan
        return size_label(p.size_ms) if p is not None else ""

    def _bars_width(self) -> int:
        # Room for the right labels at their widest (the peak of a bucket holding the whole hour), so
        # the bucket size cannot depend on its own label.
        now = self.series[-1] if self.series else 0
        peak_w, now_w = len(f"max {sum(self.series):,}/30 min"), len(f"now {now:,}/min · 00:00+00:00")
        right = max(peak_w, now_w) if self.size.height > 1 else peak_w + 1 + now_w
        return max(1, self.size.width - _LEFT - right - 1)

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        bar_style = self.get_component_rich_style("rate-sparkline--bars")
        label_style = self.get_component_rich_style("rate-sparkline--label")
        text = Text(no_wrap=True, end="")
        p = self.plan
        if p is None or width < _LEFT + 10:
            return text
        counts = rebucket(p, self.start_ms, self.series)
        bars_width = self._bars_width()
        right = self._right_labels()
        # Two rows or more: bars, then the axis (start, end, bucket size). One row: bars and numbers,
        # the axis in the tooltip.
        bar_rows = height - 1 if height > 1 else 1
        rows = bucket_bars(p, counts, bar_rows, bars_width)
        size = self._bucket_text()
        left = [f"per {size}", f"last {len(self.series)}m"]
        labels = right if height > 1 else [f"{right[0]} {right[1]}"]
        for i, row in enumerate(rows):
            if i:
                text.append("\n")
            text.append(fit(left[i] if i < len(left) else "", _LEFT), style=label_style)
            text.append(row, style=bar_style)
            text.append(" " + (labels[i] if i < len(labels) else ""), style=label_style)
        if height > 1:
            text.append("\n")
            text.append(fit(left[1] if bar_rows == 1 else "", _LEFT), style=label_style)
            text.append_text(axis_text(p, self.local_time, bars_width, label_style))
            text.append(" " + (right[1] if bar_rows == 1 else ""), style=label_style)
        self.tooltip = f"{p.label(self.local_time)}\n{define(WATCH_GLOSSARY, ('events per minute',))}"
        return text


class HotActorSparklines(Widget):
    """For each hot actor (an open alert or a rule over threshold): name, then its minutes as bars."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hot-sparklines--title",
        "hot-sparklines--actor",
        "hot-sparklines--bars",
        "hot-sparklines--label",
    }

    DEFAULT_CSS = """
    HotActorSparklines {
        width: 40;
        height: 1fr;
        padding: 0 1 0 2;
        background: $surface;
        & > .hot-sparklines--title { text-style: bold; color: $text-accent; background: $panel; }
        & > .hot-sparklines--actor { text-style: bold; color: $text-error; }
        & > .hot-sparklines--bars { color: $error; }
        & > .hot-sparklines--label { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.actor_series: dict[str, tuple[int, ...]] = {}
        self.start_ms: int | None = None  # the first minute (the rate sparkline's): the axis
        self.local_time = False

    def set_series(
        self, actor_series: Mapping[str, Sequence[int]], start_ms: int | None = None, local: bool = False
    ) -> None:
        data = {a: tuple(s) for a, s in actor_series.items()}
        if (data, start_ms, local) != (self.actor_series, self.start_ms, self.local_time):
            grew = len(data) != len(self.actor_series)
            self.actor_series = data
            self.start_ms, self.local_time = start_ms, local
            self.refresh(layout=grew)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # A title, then two lines per actor (CSS caps it; render() says how many more there are).
        return 1 + 2 * max(1, len(self.actor_series))

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        height = max(1, self.content_region.height or self.size.height)
        title_style = self.get_component_rich_style("hot-sparklines--title")
        actor_style = self.get_component_rich_style("hot-sparklines--actor")
        bar_style = self.get_component_rich_style("hot-sparklines--bars")
        label_style = self.get_component_rich_style("hot-sparklines--label")
        text = Text(no_wrap=True, end="")
        minutes = max((len(s) for s in self.actor_series.values()), default=0)
        # One plan for every actor (the same columns per bucket), sized for the longest label.
        label_w = max((cell_len(self._label(s, sum(s))) for s in self.actor_series.values()), default=0)
        p = series_plan(self.start_ms or 0, minutes, max(1, width - label_w)) if minutes else None
        size = size_label(p.size_ms) if p is not None else "1 min"
        title = f"HOT ACTORS · events per {size}"
        if p is not None and self.start_ms is not None:
            span = f"{fmt_ts(p.window.start, self.local_time, False)[11:]}→{fmt_ts(p.window.end, self.local_time, False)[11:]}"
            if cell_len(f"{title} · {span}") <= width:
                title = f"{title} · {span}"
            self.tooltip = p.label(self.local_time)
        text.append(fit(title, width), style=title_style)
        if not self.actor_series or p is None:
            text.append("\n")
            text.append(fit("none", width), style=label_style)
            return text
        fits = max(0, (height - 1) // 2)
        actors = list(self.actor_series.items())
        shown = actors if len(actors) <= fits else actors[: max(0, fits - 1)]
        for actor, series in shown:
            counts = rebucket(p, self.start_ms or 0, series)
            label = self._label(series, max(counts, default=0))
            n = max(1, width - cell_len(label))
            text.append("\n")
            text.append(fit("! " + clean(actor), width), style=actor_style)
            text.append("\n")
            text.append(bucket_bars(p, counts, 1, n)[0], style=bar_style)
            text.append(label, style=label_style)
        if len(shown) < len(actors):
            text.append("\n")
            text.append(fit(f"… and {len(actors) - len(shown)} more", width), style=label_style)
        return text

    @staticmethod
    def _label(series: Sequence[int], peak: int) -> str:
        now = series[-1] if series else 0
        return f" max {peak} now {now}/min"
