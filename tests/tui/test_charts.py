"""Charts are honest (issue 11 item 5): the bucket size comes from the window, not the terminal width;
every bucket is drawn the same number of columns; every chart states its time axis (start, end,
bucket size) in the zone shown; sparklines span the pane; a one-hour burst is one hour wide.

Each widget is mounted alone in a small host app, fed fixed data, and measured from its render.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from tui_helpers import settle

from ddaudit_tui.analysis.ai import attribute_events, find_bursts
from ddaudit_tui.analysis.buckets import DAY_MS, HOUR_MS, MINUTE_MS
from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.analysis.keys import KeyReport
from ddaudit_tui.demo.org import PLANTED, generate
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, fmt_ts, parse_instant
from ddaudit_tui.tui.screens.key_chart import KeyChartScreen
from ddaudit_tui.tui.widgets.ai_timeline import AiTimeline
from ddaudit_tui.tui.widgets.key_activity import KeyActivity
from ddaudit_tui.tui.widgets.sparkline import EventSparkline
from ddaudit_tui.tui.widgets.watch_sparklines import HotActorSparklines, RateSparkline

END = parse_instant("2026-08-01T16:00:00Z")
WINDOW_90D = Window(END - 90 * DAY_MS, END)


class Host(App[None]):
    """One widget, full width, at a fixed height."""

    def __init__(self, widget: Widget, height: int) -> None:
        super().__init__()
        self.widget = widget
        self.widget_height = height

    def compose(self) -> ComposeResult:
        self.widget.styles.height = self.widget_height
        yield self.widget


def ev(i: int, ts: int) -> Event:
    return Event(id=f"e{i}", ts=ts, raw=b"{}")


def spread_events(window: Window, every_ms: int, per: Sequence[int] = (1,)) -> list[Event]:
    """`per[k % len(per)]` events in the k-th `every_ms` slot of the window."""
    out: list[Event] = []
    n = itertools.count()
    for k, t in enumerate(range(window.start, window.end, every_ms)):
        out.extend(ev(next(n), t) for _ in range(per[k % len(per)]))
    return out


def runs(row: str) -> list[int]:
    """Lengths of the runs of equal non-blank characters in a bar row."""
    out = []
    for ch, group in itertools.groupby(row.rstrip()):
        if ch != " ":
            out.append(len(list(group)))
    return out


def lines_of(widget: Widget) -> list[str]:
    return str(widget.render()).split("\n")


# -- Explore's sparkline -----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [120, 200])
async def test_explore_sparkline_bucket_size_comes_from_the_window_not_the_width(width: int):
    spark = EventSparkline()
    async with Host(spark, 3).run_test(size=(width, 10)) as pilot:
        spark.set_data(spread_events(WINDOW_90D, HOUR_MS), WINDOW_90D)
        await settle(pilot)
        assert spark.histogram is not None
        assert spark.histogram.bucket_ms == DAY_MS  # 90 days read in days at 120 and at 200 columns


async def test_explore_sparkline_states_start_end_and_bucket_size():
    spark = EventSparkline()
    async with Host(spark, 3).run_test(size=(120, 10)) as pilot:
        spark.set_data(spread_events(WINDOW_90D, HOUR_MS), WINDOW_90D)
        await settle(pilot)
        text = str(spark.render())
        assert fmt_ts(WINDOW_90D.start, False, False) in text
        assert fmt_ts(WINDOW_90D.end, False, False) in text
        assert "1 d buckets" in text and "UTC" in text


async def test_explore_sparkline_axis_follows_the_zone_toggle():
    spark = EventSparkline()
    async with Host(spark, 3).run_test(size=(120, 10)) as pilot:
        spark.set_data(spread_events(WINDOW_90D, HOUR_MS), WINDOW_90D)
        spark.set_local_time(True)
        await settle(pilot)
        assert fmt_ts(WINDOW_90D.start, True, False) in str(spark.render())


async def test_explore_sparkline_draws_every_bucket_the_same_width():
    window = Window(END - 10 * HOUR_MS, END)  # 40 quarter-hours
    spark = EventSparkline()
    async with Host(spark, 3).run_test(size=(100, 10)) as pilot:
        # Alternating 1 and 2 events per quarter-hour: the bars alternate, each run is one bucket.
        spark.set_data(spread_events(window, 15 * MINUTE_MS, per=(1, 2)), window)
        await settle(pilot)
        top = lines_of(spark)[0][: spark.size.width - 17]  # the bars' top row: only the 2-event buckets
        assert spark.plan is not None and spark.plan.count == 40
        k = spark.plan.columns_per_bucket
        assert k == 2  # 83 columns: two each (stretching drew them 2 or 3 columns wide)
        # Every drawn 2-event bucket is exactly k columns, with a k-column gap before the next.
        assert [x for x, ch in enumerate(top) if ch == "█"] == [
            x for i in range(1, 40, 2) for x in range(i * k, i * k + k)
        ]


async def test_explore_sparkline_coarsens_and_says_so_when_the_width_cannot_hold_the_window():
    spark = EventSparkline()
    async with Host(spark, 3).run_test(size=(80, 10)) as pilot:
        spark.set_data(spread_events(WINDOW_90D, HOUR_MS), WINDOW_90D)
        await settle(pilot)
        assert spark.histogram is not None and spark.histogram.bucket_ms == 7 * DAY_MS
        assert "coarsened" in str(spark.render())


# -- Key lookup: the activity sparkline and the chart ------------------------------------------------


@pytest.fixture(scope="module")
def report() -> KeyReport:
    items = generate(seed=7, events=4000, end_ms=END)
    events = tuple(iter_decode(msgspec.json.encode({"data": items}), "demo"))
    source = FileSource(EventStore(events), "demo")
    return asyncio.run(investigate_key(source, PLANTED.compromised_key, WINDOW_90D, now_ms=END))


@pytest.mark.parametrize("width", [130, 200])
async def test_key_activity_bucket_size_comes_from_the_window(width: int, report: KeyReport):
    activity = KeyActivity()
    async with Host(activity, 3).run_test(size=(width, 10)) as pilot:
        activity.set_report(report)
        await settle(pilot)
        text = str(activity.render())
        assert activity.plan is not None and activity.plan.size_ms == DAY_MS
        assert "1 d buckets" in text
        assert fmt_ts(report.window.start, False, False) in text
        assert fmt_ts(report.window.end, False, False) in text


async def test_key_chart_hour_view_draws_a_one_hour_burst_one_hour_wide(report: KeyReport):
    host = Host(Widget(), 1)
    async with host.run_test(size=(120, 35)) as pilot:
        chart_screen = KeyChartScreen(report)
        await host.push_screen(chart_screen)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert chart_screen.bucket_word == "hour"
        chart = chart_screen.chart
        plan = chart.plan
        assert plan is not None and plan.size_ms == HOUR_MS
        # The burst: 150 events within five minutes, all in one hour.
        burst = next(f for f in report.flags if f.signal == "burst")
        stamps = sorted(e.ts for e in report.events if e.id in set(burst.event_ids))
        assert stamps[-1] - stamps[0] < HOUR_MS
        hour = plan.index(stamps[0])
        assert hour is not None
        rows = chart.bar_rows()
        top = rows[0]  # the tallest bar's top row: only the burst's hour reaches it
        filled = [x for x, ch in enumerate(top) if ch != " "]
        k = plan.columns_per_bucket
        assert filled == list(range(hour * k, hour * k + k))


async def test_key_chart_states_its_axis_and_bucket_size(report: KeyReport):
    host = Host(Widget(), 1)
    async with host.run_test(size=(120, 35)) as pilot:
        chart_screen = KeyChartScreen(report)
        await host.push_screen(chart_screen)
        await settle(pilot)
        title = chart_screen.title_text
        assert "1 d buckets" in title and "UTC" in title
        assert fmt_ts(report.window.start, False, False) in title


# -- AI activity timeline ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def ai_calls() -> tuple[Any, Window]:
    window = Window(END - 7 * DAY_MS, END)
    items = generate(seed=7, events=4000, end_ms=END)
    events = [e for e in iter_decode(msgspec.json.encode({"data": items}), "demo") if window.contains(e.ts)]
    return attribute_events(events), window


@pytest.mark.parametrize("width", [130, 200])
async def test_ai_timeline_bucket_size_comes_from_the_window(width: int):
    calls, window = ai_calls()
    timeline = AiTimeline()
    async with Host(timeline, 3).run_test(size=(width, 10)) as pilot:
        timeline.set_activity(calls, window, find_bursts(calls, 100, 5 * MINUTE_MS))
        await settle(pilot)
        t = timeline.timeline
        assert t is not None and t.bucket_ms == 3 * HOUR_MS  # 7 days: 3-hour buckets at any width
        text = str(timeline.render())
        assert "3 h buckets" in text
        assert fmt_ts(window.start, False, False) in text and fmt_ts(window.end, False, False) in text


# -- Spike watch --------------------------------------------------------------------------------------


async def test_rate_sparkline_spans_the_pane_at_200_columns():
    start = END - 60 * MINUTE_MS
    series = [(i % 5) + 1 for i in range(60)]
    spark = RateSparkline()
    async with Host(spark, 2).run_test(size=(200, 10)) as pilot:
        spark.set_series(start, series, False)
        await settle(pilot)
        lines = lines_of(spark)
        p = spark.plan
        assert p is not None and p.size_ms == MINUTE_MS and p.count == 60
        assert p.drawn_width == 120  # two columns a minute (was one: 60 columns at any width)
        bars = lines[0][11 : 11 + p.drawn_width]
        k = p.columns_per_bucket
        # Each minute is k columns: within a minute every column shows the same bar.
        assert all(len(set(bars[i * k : i * k + k])) == 1 for i in range(60))
        assert "1 min buckets" in lines[-1]
        assert fmt_ts(start, False, False) in lines[-1]


async def test_rate_sparkline_coarsens_at_80_columns_and_says_so():
    start = END - 60 * MINUTE_MS
    spark = RateSparkline()
    async with Host(spark, 2).run_test(size=(80, 10)) as pilot:
        spark.set_series(start, [1] * 60, False)
        await settle(pilot)
        assert spark.plan is not None and spark.plan.size_ms == 5 * MINUTE_MS
        assert "coarsened" in lines_of(spark)[-1]


async def test_hot_actor_sparklines_state_their_bucket_size():
    start = END - 60 * MINUTE_MS
    hot = HotActorSparklines()
    async with Host(hot, 8).run_test(size=(40, 10)) as pilot:
        hot.set_series({"dave@example.com": [1] * 60}, start, False)
        await settle(pilot)
        text = str(hot.render())
        assert "5 min" in text  # 60 minutes do not fit 40 columns: coarsened, and said
