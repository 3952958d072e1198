"""Merging the orgs' Spike watch snapshots (tui/org_watch.merge): the per-minute series stay one hour long
whatever the orgs' own states. Found in tmux: an org not polled yet has a series anchored at the epoch
(watermark 0), and the merged series then ran from 1970 to now — 29 million minutes summed on every
repaint, the pane frozen for ~90 s while a cold fake answered its first poll."""

from __future__ import annotations

from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.tui.org_watch import merge

M = 60_000
NOW = 1_796_000_000_000 - 1_796_000_000_000 % M


def snap(start_ms: int, series: tuple[int, ...], polls: int, actors: dict | None = None) -> WatchSnapshot:
    return WatchSnapshot(
        rules=(), window_s=900.0, interval_s=30.0, rows=(), series_start_ms=start_ms, series=series,
        actor_series=actors or {}, alerts=(), watermark_ms=start_ms + len(series) * M if polls else None,
        last_success=None, last_attempt=None, next_poll=None, polling=False, stale=False, error=None,
        warnings=(), activity="", events_total=sum(series), polls=polls, consecutive_failures=0,
    )  # fmt: skip


def test_an_org_not_polled_yet_does_not_stretch_the_series_to_the_epoch() -> None:
    polled = snap(NOW - 60 * M, tuple(range(60)), polls=1, actors={"eve": (1,) * 60})
    cold = snap(-60 * M, (0,) * 60, polls=0)  # what a poller shows before its first poll
    merged = merge({"prod": polled, "eu": cold}, {}).snapshot
    assert merged.series_start_ms == NOW - 60 * M
    assert merged.series == tuple(range(60))
    assert merged.actor_series == {"eve": (1,) * 60}


def test_two_polled_orgs_are_summed_minute_by_minute_over_the_newest_hour() -> None:
    a = snap(NOW - 60 * M, (1,) * 60, polls=3)
    b = snap(NOW - 58 * M, (2,) * 60, polls=3)  # polled two minutes later: its hour ends later
    merged = merge({"prod": a, "eu": b}, {}).snapshot
    assert len(merged.series) == 60
    assert merged.series_start_ms == NOW - 58 * M
    assert merged.series == (3,) * 58 + (2,) * 2
