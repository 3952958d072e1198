"""Events per minute for the spike watch: overall, and one line per hot actor, with numbers beside.

One column is one minute (never resampled: "per minute" stays true whatever the width); the newest
minute is on the right and as many minutes show as fit. Bars are scaled from zero (`sparkline.bars`),
and the peak, the current minute and the span are printed as numbers, so the picture reads without
colour. Actor names are attacker-controlled: cleaned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.safe_text import clean, fit
from ddaudit_tui.tui.widgets.sparkline import bars

MINUTE_MS = 60_000
_LEFT = 11  # "events/min " / "last 60m   "


def _minutes(counts: Sequence[int], width: int) -> list[int]:
    """The newest `width` minutes (all of them when they fit)."""
    return list(counts[-width:]) if width > 0 else []


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

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        bar_style = self.get_component_rich_style("rate-sparkline--bars")
        label_style = self.get_component_rich_style("rate-sparkline--label")
        text = Text(no_wrap=True, end="")
        if not self.series or width < _LEFT + 10:
            return text
        now = self.series[-1]
        peak_all = max(self.series)
        last_minute = self.start_ms + (len(self.series) - 1) * MINUTE_MS
        right = [f"max {peak_all:,}/min", f"now {now:,} · {fmt_ts(last_minute, self.local_time, False)[11:]}"]
        right_w = (
            max(cell_len(r) for r in right) + 1 if height > 1 else cell_len(f"{right[0]} {right[1]}") + 1
        )
        n = max(1, min(len(self.series), width - _LEFT - right_w))
        shown = _minutes(self.series, n)
        rows = bars(shown, height)
        left = ["events/min", f"last {len(shown)}m"] if height > 1 else [f"last {len(shown)}m"]
        labels = right if height > 1 else [f"{right[0]} {right[1]}"]
        for i, row in enumerate(rows):
            if i:
                text.append("\n")
            text.append(fit(left[i] if i < len(left) else "", _LEFT), style=label_style)
            text.append(row, style=bar_style)
            text.append(" " + (labels[i] if i < len(labels) else ""), style=label_style)
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

    def set_series(self, actor_series: Mapping[str, Sequence[int]]) -> None:
        data = {a: tuple(s) for a, s in actor_series.items()}
        if data != self.actor_series:
            grew = len(data) != len(self.actor_series)
            self.actor_series = data
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
        text.append(fit("HOT ACTORS · events/min", width), style=title_style)
        if not self.actor_series:
            text.append("\n")
            text.append(fit("none", width), style=label_style)
            return text
        fits = max(0, (height - 1) // 2)
        actors = list(self.actor_series.items())
        shown = actors if len(actors) <= fits else actors[: max(0, fits - 1)]
        for actor, series in shown:
            peak = max(series, default=0)
            now = series[-1] if series else 0
            label = f" max {peak} now {now}"
            n = max(1, width - cell_len(label))
            minutes = _minutes(series, n)
            text.append("\n")
            text.append(fit("! " + clean(actor), width), style=actor_style)
            text.append("\n")
            text.append(bars(minutes, 1)[0].rjust(n)[:n], style=bar_style)
            text.append(label, style=label_style)
        if len(shown) < len(actors):
            text.append("\n")
            text.append(fit(f"… and {len(actors) - len(shown)} more", width), style=label_style)
        return text
