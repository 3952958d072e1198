"""The poller with a fake source, an injected clock and sleep: windows and overlap, errors and
backoff, staleness and catch-up, paging (queued, deduplicated, never twice across restarts),
resolve, snapshots for the pane, the timer controls, and replay of files and of the demo org."""

from __future__ import annotations

import asyncio

import pytest
from watch_helpers import (
    KEY,
    T0,
    FakeClock,
    FakeSource,
    M,
    RecordingPager,
    decode_items,
    event,
    planted_items,
    write_items,
)

from ddaudit_tui.alerts.pagerduty import PagerDutyClient, PageResult
from ddaudit_tui.alerts.poller import Poller, replay
from ddaudit_tui.alerts.rules import default_rules
from ddaudit_tui.alerts.state import WatchState
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import Rule
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty
from ddaudit_tui.sources.datadog_errors import AuthError, RateLimited
from ddaudit_tui.sources.files import FileSource

ROLE = Rule(
    name="role_changes", query="@asset.type:role @action:modified", threshold=3, severity=Severity.HIGH
)
MONITOR = Rule(name="monitor_deletion", query="@asset.type:monitor @action:deleted")
QUIET = Rule(name="quiet", query="@asset.type:notebook", page=False)


def make(source: FakeSource, clock: FakeClock, **kw) -> Poller:
    kw.setdefault("interval_s", 300)
    return Poller(source, kw.pop("rules", [ROLE, MONITOR]), clock=clock, sleep=clock.sleep, **kw)


# -- windows -------------------------------------------------------------------------------------


async def test_first_poll_covers_the_window_then_polls_overlap():
    source, clock = FakeSource(), FakeClock(T0 + 60 * M)
    poller = make(source, clock, overlap_s=120)
    await poller.poll_now()
    query, w1 = source.calls[0]
    assert query == f"({ROLE.query}) OR ({MONITOR.query})"  # one pushed-down query per poll
    assert (w1.start, w1.end) == (T0 + 60 * M - 17 * M, T0 + 60 * M)  # 15m window + 2m overlap
    clock.advance(300)
    await poller.poll_now()
    _, w2 = source.calls[1]
    assert (w2.start, w2.end) == (T0 + 58 * M, T0 + 65 * M)  # [last − overlap, now]


async def test_burst_across_polls_pages_once_and_late_events_count():
    source, clock = FakeSource(), FakeClock(T0)
    pager = RecordingPager()
    poller = make(source, clock, pager=pager)
    source.events += [event(-4), event(-2)]
    first = await poller.poll_now()
    assert first.opened == [] and pager.sent == []
    clock.advance(300)
    # The third grant, and one stamped before the last poll that the API only returns now (ingestion
    # delay): the overlap re-fetches [last poll − 2m, now], so it is found.
    source.events += [event(3), event(-1)]
    second = await poller.poll_now()
    [alert] = second.opened
    assert alert.count == 4 and alert.started == T0 - 4 * M
    assert second.paged == [alert] and alert.paged
    clock.advance(300)
    third = await poller.poll_now()  # the overlap re-fetches minute 3: no new alert, no new page
    assert third.opened == [] and third.paged == [] and len(pager.sent) == 1
    body = pager.sent[0]
    assert body["dedup_key"] == alert.dedup_key and "routing_key" not in body
    assert body["payload"]["source"] == "fake-org"


async def test_rules_with_page_false_and_no_pager():
    source, clock = FakeSource([event(-1, asset="notebook")]), FakeClock(T0)
    outcome = await make(source, clock, rules=[QUIET], pager=RecordingPager()).poll_now()
    assert outcome.opened[0].page_status == "disabled" and outcome.paged == []
    outcome = await make(FakeSource([event(-1, asset="notebook")]), clock, rules=[MONITOR, QUIET]).poll_now()
    assert outcome.opened[0].page_status == "disabled"
    src = FakeSource([event(-1, asset="monitor", action="deleted")])
    outcome = await make(src, clock).poll_now()
    assert outcome.opened[0].page_status == "off"


# -- failures -------------------------------------------------------------------------------------


async def test_api_errors_mark_stale_back_off_and_catch_up():
    source, clock = FakeSource(), FakeClock(T0)
    poller = make(source, clock, overlap_s=60)
    await poller.poll_now()
    assert poller.snapshot().stale is False
    source.failures = [RateLimited("429 Too Many Requests from api.datadoghq.com"), ConnectionError("boom")]
    clock.advance(300)
    bad = await poller.poll_now()
    assert not bad.ok and "429" in bad.error and poller.consecutive_failures == 1
    snap = poller.snapshot()
    assert snap.stale and snap.error == bad.error and snap.last_success == T0 / 1000
    assert poller._delay() == 300  # first retry at the normal interval
    clock.advance(300)
    await poller.poll_now()
    assert poller.consecutive_failures == 2 and poller._delay() == 600  # then 2×, 4×…
    # Recovery: the events of the failed polls are fetched from the last good poll.
    source.events += [event(2), event(4), event(7)]
    clock.advance(600)
    good = await poller.poll_now()
    _, window = source.calls[-1]
    assert window.start == T0 - 60_000 and window.end == T0 + 20 * M
    assert len(good.opened) == 1 and poller.snapshot().stale is False and poller.error is None


async def test_incomplete_fetch_keeps_the_mark_and_is_stale():
    source, clock = FakeSource([event(-1)]), FakeClock(T0)
    poller = make(source, clock)
    source.incomplete_next = True
    outcome = await poller.poll_now()
    assert not outcome.complete and outcome.warnings and poller.last_polled_ms is None
    assert poller.snapshot().stale and poller.snapshot().warnings == tuple(outcome.warnings)
    clock.advance(300)
    await poller.poll_now()
    assert poller.last_polled_ms == T0 + 5 * M and not poller.snapshot().stale


async def test_run_loop_backs_off_and_never_crashes():
    source, clock = FakeSource(), FakeClock(T0)
    poller = make(source, clock, interval_s=60, max_backoff_s=200)
    source.failures = [None, AuthError("403 Forbidden"), RuntimeError("bug"), RuntimeError("bug"), None]
    await poller.run(max_polls=5)
    assert len(source.calls) == 5
    assert clock.sleeps == [60, 60, 120, 200]  # 1×, 2×, capped
    assert poller.consecutive_failures == 0 and poller.polls == 5


async def test_broken_state_does_not_stop_the_loop():
    class BrokenState:
        last_polled = None
        calls = 0

        def load(self):
            return None

        def save(self, *a):
            self.calls += 1
            if self.calls == 1:
                raise OSError("disk full")

        def was_sent(self, *a):
            return False

        def record_page(self, *a):
            pass

    source, clock = FakeSource(), FakeClock(T0)
    poller = make(source, clock, state=BrokenState())
    await poller.run(max_polls=2)
    assert poller.polls == 1 + 1 and poller.consecutive_failures == 0
    assert clock.sleeps == [300]


# -- paging across failures and restarts ----------------------------------------------------------


async def test_failed_page_is_queued_and_retried_but_a_400_is_final():
    source, clock = FakeSource([event(-3), event(-2), event(-1)]), FakeClock(T0)
    pager = RecordingPager()
    pager.results = [PageResult(ok=False, status=503, message="503 error", retryable=True)]
    poller = make(source, clock, pager=pager)
    first = await poller.poll_now()
    [alert] = first.opened
    assert first.page_failures and alert.page_status == "pending" and alert.page_error == "503 error"
    clock.advance(300)
    second = await poller.poll_now()
    assert second.paged == [alert] and alert.paged and len(pager.sent) == 2
    # A 400 is not retried on later polls.
    source.events += [event(20, "eve@x"), event(21, "eve@x"), event(22, "eve@x")]
    pager.results = [PageResult(ok=False, status=400, message="400 invalid event", retryable=False)]
    clock.advance(20 * 60)
    third = await poller.poll_now()
    [refused] = third.opened
    assert refused.page_status == "failed"
    clock.advance(300)
    await poller.poll_now()
    assert len(pager.sent) == 3


async def test_no_second_page_after_a_restart(tmp_path):
    source, clock = FakeSource([event(-3), event(-2), event(-1)]), FakeClock(T0)
    with FakePagerDuty() as pd:
        for run in range(3):  # three separate processes, one after another
            with WatchState(tmp_path, "api:test") as state:
                client = PagerDutyClient(KEY, pd.url, sleep=clock.sleep)
                poller = make(source, clock, state=state, pager=client)
                outcome = await poller.poll_now()
                await client.aclose()
                assert (len(outcome.opened), len(outcome.paged)) == ((1, 1) if run == 0 else (0, 0))
                [alert] = poller.engine.alerts()
                assert alert.paged
            clock.advance(60)
        assert pd.triggers == 1 and len(pd.requests) == 1
        # Even if the alert itself was lost (a crash before the state was saved), the page log stops
        # a second page for the same burst.
        with WatchState(tmp_path, "api:test") as state:
            state._db.execute("DELETE FROM alerts")
            state._db.execute("DELETE FROM entries")
            state._db.execute("DELETE FROM meta WHERE key != 'schema'")
            client = PagerDutyClient(KEY, pd.url, sleep=clock.sleep)
            outcome = await make(source, clock, state=state, pager=client).poll_now()
            await client.aclose()
        assert len(outcome.opened) == 1 and outcome.opened[0].paged and pd.triggers == 1
    # The routing key is nowhere in the state.
    data = (tmp_path / "watch.sqlite3").read_bytes()
    assert KEY.encode() not in data


async def test_restart_continues_a_burst_that_straddles_it(tmp_path):
    source, clock = FakeSource([event(-4), event(-2)]), FakeClock(T0)
    with WatchState(tmp_path, "s") as state:
        assert (await make(source, clock, state=state).poll_now()).opened == []
    source.events.append(event(3))
    clock.advance(300)
    with WatchState(tmp_path, "s") as state:
        poller = make(source, clock, state=state)
        [alert] = (await poller.poll_now()).opened
    assert alert.started == T0 - 4 * M and alert.count == 3


async def test_resolve_when_the_burst_ends():
    source, clock = FakeSource([event(-3), event(-2), event(-1)]), FakeClock(T0)
    pager = RecordingPager()
    poller = make(source, clock, pager=pager, resolve=True)
    [alert] = (await poller.poll_now()).opened
    clock.advance(300)
    assert (await poller.poll_now()).resolved == []  # still inside the window: open
    clock.advance(15 * 60)
    outcome = await poller.poll_now()
    assert outcome.closed == [alert] and outcome.resolved == [alert]
    assert pager.actions() == [("trigger", alert.dedup_key), ("resolve", alert.dedup_key)]
    clock.advance(300)
    await poller.poll_now()
    assert len(pager.sent) == 2


# -- the pane's controls and snapshots ------------------------------------------------------------


async def test_snapshot_has_what_the_pane_needs():
    source = FakeSource([event(-3), event(-2), event(-1), event(-1, "alice@x")])
    clock = FakeClock(T0)
    poller = make(source, clock, series_minutes=5)
    await poller.poll_now()
    snap = poller.snapshot()
    assert [r.actor for r in snap.rows] == ["dave@example.com", "alice@x"]
    assert snap.rows[0].counts == {"role_changes": 3} and snap.rows[0].hot == {"role_changes"}
    # Per minute, the last bucket being the current minute (the watermark's).
    assert snap.series == (0, 1, 1, 2, 0) and snap.series_start_ms == T0 - 4 * M
    assert snap.actor_series == {"dave@example.com": (0, 1, 1, 1, 0)}
    assert len(snap.open_alerts) == 1 and snap.events_total == 4
    assert snap.last_success == T0 / 1000 and not snap.stale and not snap.polling
    assert snap.window_s == 900 and snap.interval_s == 300 and snap.polls == 1
    snap.alerts[0].count = 99  # a detached copy: the engine's alert is untouched
    assert poller.engine.alerts()[0].count == 3


async def test_timer_controls_request_poll_interval_and_snapshot_stream():
    source, clock = FakeSource(), FakeClock(T0)
    never = asyncio.Event()

    async def sleep_forever(_seconds: float) -> None:
        await never.wait()  # only a wake-up ends a wait: no real time passes in this test

    poller = Poller(source, [ROLE], interval_s=300, clock=clock, sleep=sleep_forever)
    stream = poller.snapshots()
    first = await anext(stream)
    assert first.polls == 0
    poller.start()

    async def until(pred):
        while True:
            snap = await anext(stream)
            if pred(snap):
                return snap

    snap = await until(lambda s: s.polls == 1 and not s.polling and s.next_poll is not None)
    assert snap.next_poll == T0 / 1000 + 300
    poller.interval_s = 30  # reschedules from the last poll
    snap = await until(lambda s: s.interval_s == 30)
    assert snap.next_poll == T0 / 1000 + 30
    poller.window_s = 1800
    assert (await until(lambda s: s.window_s == 1800)).window_s == 1800
    assert poller.engine.window_ms == 1800 * 1000
    poller.request_poll()  # `r`: poll now
    await until(lambda s: s.polls == 2 and not s.polling)
    assert len(source.calls) == 2
    await poller.stop()
    await stream.aclose()


# -- replay ---------------------------------------------------------------------------------------


async def test_replay_a_file(tmp_path):
    path = write_items(tmp_path / "export.json", planted_items())
    source = FileSource.open([str(path)])
    result = await replay(source, default_rules(), interval_s=300)
    fired = sorted((a.rule, a.group) for a in result.alerts)
    assert fired == [
        ("bulk_deletion", "matt@example.com"),
        ("monitor_deletion", "sara@example.com"),
        ("role_changes", "dave@example.com"),
    ]
    bulk = next(a for a in result.alerts if a.rule == "bulk_deletion")
    assert bulk.distinct_count == 12 and bulk.count == 12
    assert all(a.page_status == "off" for a in result.alerts)
    # Polls every 5 minutes over the file's span, in event-time order; alerts closed by the end.
    assert result.polls == -(-result.window.duration_ms // (5 * M))
    assert all(not a.is_open for a in result.alerts if a.last_seen < result.window.end - 15 * M)


async def test_replay_gives_the_same_alerts_whatever_the_interval(tmp_path):
    path = write_items(tmp_path / "export.json", planted_items())
    keys = []
    for interval in (30, 300, 3600):
        result = await replay(FileSource.open([str(path)]), default_rules(), interval_s=interval)
        keys.append(sorted(a.dedup_key for a in result.alerts))
    assert keys[0] == keys[1] == keys[2]


def test_demo_org_planted_bursts_fire_and_near_misses_do_not():
    demo_org = pytest.importorskip("ddaudit_tui.demo.org")
    planted = demo_org.PLANTED
    end_ms = 1_785_000_000_000 - (1_785_000_000_000 % 60_000)
    events = decode_items(demo_org.generate(seed=7, end_ms=end_ms, days=2))
    source = FakeSource(events)
    source.default_window = lambda: None  # the replay gets its window explicitly
    result = asyncio.run(
        replay(source, default_rules(), interval_s=300, start_ms=end_ms - 2 * 86_400_000, end_ms=end_ms)
    )
    fired = {(a.rule, a.group) for a in result.alerts}
    expected = {
        ("role_changes", planted.role_grant_user),
        ("api_key_creation", planted.key_minting_user),
        ("monitor_deletion", planted.monitor_deletion_user),
        ("bulk_deletion", planted.bulk_deletion_user),
        ("audit_settings_change", planted.audit_settings_user),
        ("support_admin_action", planted.support_user),
        ("access_policy_change", planted.access_policy_user),
        ("unusual_login_notification", planted.unusual_login_user),
        ("log_config_change", planted.log_config_user),
    }
    assert expected <= fired, expected - fired
    # The near misses: two role grants, nine distinct deletions.
    assert ("role_changes", planted.role_grant_near_miss_user) not in fired
    assert ("bulk_deletion", planted.bulk_near_miss_user) not in fired
    by_rule = {(a.rule, a.group): a for a in result.alerts}
    assert by_rule[("role_changes", planted.role_grant_user)].count == planted.role_grants
    assert (
        by_rule[("bulk_deletion", planted.bulk_deletion_user)].distinct_count
        == planted.bulk_deleted_dashboards
    )
    minted = by_rule[("api_key_creation", planted.key_minting_user)]
    assert minted.count == len(planted.minted_keys) + 1
    assert any(a.rule == "leaked_key_notification" for a in result.alerts)


def test_every_page_status_has_its_words():
    """One owner of the page statuses (`PageStatus`); every one reads as words, and a status read back
    from a state file (a plain string) finds the same words."""
    from ddaudit_tui.alerts.wiring import PAGE_WORDS
    from ddaudit_tui.analysis.spikes import PageStatus

    assert set(PAGE_WORDS) == set(PageStatus)
    assert PAGE_WORDS["sent"] == PAGE_WORDS[PageStatus.SENT] == "paged"
    assert [str(s) for s in PageStatus] == ["new", "pending", "sent", "dry-run", "off", "disabled", "failed"]
