"""The spike watch through a Datadog API outage: the real client over the fake API (in process), the
real poller, the SQLite state and the fake PagerDuty on loopback.

Several polls fail (503, connection reset, timeout) or come back partial, then the API recovers. While
it lasts the poller says so (stale, the error, the failure count, backing off); afterwards the events of
the outage are counted exactly once, a burst that straddles the outage pages exactly once (one dedup key
at PagerDuty), and a restart (new poller, same state) neither re-counts nor re-pages.

Time is a fake clock; the poller's waits advance it, the client's and PagerDuty's backoffs are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import KEY, T0, FakeClock, M, api_item

from ddaudit_tui.alerts.pagerduty import PagerDutyClient
from ddaudit_tui.alerts.poller import Poller, PollOutcome
from ddaudit_tui.alerts.state import WatchState
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import Rule
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

ROLE = Rule(
    name="role_changes", query="@asset.type:role @action:modified", threshold=3, severity=Severity.HIGH
)
DAVE, ALICE = "dave@example.com", "alice@example.com"
HOST = "api.datadoghq.com"

# Each outage poll and what the poller must report for it.
OUTAGE = [
    (5, "503", f"503 Service Unavailable from {HOST} after 1 retry"),
    (
        10,
        "reset",
        f"connection to {HOST} failed: Server disconnected without sending a response. after 1 retry",
    ),
    (
        20,
        "timeout",
        f"no answer from {HOST} within 30 s after 1 retry: the query may be too broad: narrow the window or "
        "add filters (DDAUDIT_TIMEOUT)",
    ),
]
RECOVERY = 40  # minute of the first good poll after the outage


def role_grant(minute: float, actor: str) -> dict[str, Any]:
    return api_item(minute, actor, "Access Management", "role", "modified")


def org_items() -> list[dict[str, Any]]:
    """Dave's burst straddles the outage: one grant before it, three during it. Alice is a near miss (never
    three grants within 15 minutes) — unless an event were counted twice: her grant at minute 39 falls in
    the overlap that the poll after recovery fetches again. Bob's dashboard edits match no rule."""
    items = [role_grant(m, DAVE) for m in (-4, 3, 8, 21)]
    items += [role_grant(m, ALICE) for m in (6, 30, 39)]
    items += [api_item(m, "bob@example.com", "Dashboard", "dashboard", "modified") for m in range(-20, 60, 3)]
    return items


async def no_sleep(_: float) -> None:
    return None


class Org:
    """The fake org behind the real client, and the fake PagerDuty."""

    def __init__(self, pd: FakePagerDuty, clock: FakeClock, page_limit: int = 1000) -> None:
        self.pd = pd
        self.clock = clock
        self.api = FakeDatadog(org_items(), clock=clock)
        self.page_limit = page_limit

    def truth(self, start_ms: int, end_ms: int) -> set[str]:
        """Ids of the rule's matches the org holds in [start, end)."""
        return {
            e.id
            for e in self.api.events
            if start_ms <= e.ts < end_ms and ROLE.compiled.matches(e)  # type: ignore[union-attr]
        }

    @asynccontextmanager
    async def poller(self, state: WatchState | None = None, **kwargs: Any) -> AsyncIterator[Poller]:
        """A new process: its own client and PagerDuty client, over the same org and state."""
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=self.api,
            max_retries=1,
            page_limit=self.page_limit,
            sleep=no_sleep,
        )
        pager = PagerDutyClient(KEY, self.pd.url, sleep=no_sleep, verify=False)
        kwargs.setdefault("interval_s", 300)
        kwargs.setdefault("overlap_s", 120)
        poller = Poller(
            client, [ROLE], clock=self.clock, sleep=self.clock.sleep, state=state, pager=pager, **kwargs
        )
        try:
            yield poller
        finally:
            await client.aclose()
            await pager.aclose()

    def fail_with(self, kind: str | None) -> None:
        self.api.faults = None if kind is None else FaultPlan(rates={kind: 1.0})

    def triggers(self) -> list[str]:
        return [b["dedup_key"] for b in self.pd.accepted("trigger")]


@pytest.fixture
def pd() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


def at(clock: FakeClock, minute: float) -> None:
    clock.now = (T0 + minute * M) / 1000


async def poll_at(poller: Poller, clock: FakeClock, minute: float) -> PollOutcome:
    at(clock, minute)
    return await poller.poll_now()


def alerts_by_actor(poller: Poller) -> dict[str, Any]:
    return {a.group: a for a in poller.engine.alerts()}


# -- one process through an outage ------------------------------------------------------------------------------


async def test_an_outage_is_reported_then_caught_up_without_loss_double_count_or_second_page(
    pd: FakePagerDuty, tmp_path: Path
) -> None:
    clock = FakeClock()
    org = Org(pd, clock)
    with WatchState(tmp_path, "api:outage") as state:
        async with org.poller(state) as poller:
            first = await poll_at(poller, clock, 0)
            assert first.ok and first.fetched == 1 and poller.engine.events_total == 1
            assert not poller.snapshot().stale

            for n, (minute, kind, message) in enumerate(OUTAGE, start=1):
                org.fail_with(kind)
                outcome = await poll_at(poller, clock, minute)
                assert outcome.error == message
                snap = poller.snapshot()
                assert snap.stale and snap.error == message and snap.consecutive_failures == n
                assert snap.last_success == T0 / 1000  # the last good poll, shown as the data's age
                assert poller.last_polled_ms == T0 and state.last_polled == T0  # the mark waits
                assert poller.engine.events_total == 1 and pd.requests == []
            assert poller._delay() == 600  # backing off: 1×, 2×, then capped at 10 minutes

            org.fail_with(None)
            back = await poll_at(poller, clock, RECOVERY)
            # It catches up from the last good poll (minus the overlap), not from "now − interval".
            assert back.ok and back.window == Window(T0 - 2 * M, T0 + RECOVERY * M)
            assert back.new_events == len(org.truth(T0 - 2 * M, T0 + RECOVERY * M)) == 6
            [alert] = back.opened
            assert (alert.group, alert.count, alert.started) == (DAVE, 4, T0 - 4 * M)
            assert org.triggers() == [alert.dedup_key] and back.paged == [alert]
            snap = poller.snapshot()
            assert not snap.stale and snap.error is None and snap.consecutive_failures == 0
            assert snap.last_success == (T0 + RECOVERY * M) / 1000

            # The next poll fetches the overlap again (Alice's grant at minute 39): nothing counted twice.
            again = await poll_at(poller, clock, RECOVERY + 5)
            assert again.ok and again.fetched == 1 and again.new_events == 0
            assert ALICE not in alerts_by_actor(poller)
            # A second, short outage while the burst's alert is still open: still one page.
            org.fail_with("503")
            assert not (await poll_at(poller, clock, RECOVERY + 10)).ok
            org.fail_with(None)
            assert (await poll_at(poller, clock, RECOVERY + 15)).ok
            assert poller.engine.events_total == len(org.truth(T0 - 17 * M, T0 + (RECOVERY + 15) * M)) == 7
            assert alerts_by_actor(poller)[DAVE].count == 4
    assert org.triggers() == [alert.dedup_key] and pd.triggers == 1


async def test_the_run_loop_backs_off_during_the_outage_and_reports_each_failure(
    pd: FakePagerDuty,
) -> None:
    clock = FakeClock()
    org = Org(pd, clock)
    # What the API does on each poll (1-based): three polls of outage, then it is back.
    script = {2: "503", 3: "reset", 4: "timeout"}
    seen: list[tuple[bool, bool, str | None, int]] = []

    async with org.poller() as poller:

        def on_poll(outcome: PollOutcome) -> None:
            snap = poller.snapshot()
            seen.append((outcome.ok, snap.stale, snap.error, len(pd.requests)))
            org.fail_with(script.get(poller.polls + 1))

        poller.on_poll = on_poll
        await poller.run(max_polls=6)
    errors = [message for _, _, message in OUTAGE]
    assert seen == [
        (True, False, None, 0),
        (False, True, errors[0], 0),
        (False, True, errors[1], 0),
        (False, True, errors[2], 0),
        (True, False, None, 1),  # caught up: Dave's burst is complete, and paged
        (True, False, None, 1),
    ]
    assert clock.sleeps == [300, 300, 600, 600, 300]  # normal, then 1×, 2×, capped (10 min), then normal
    [alert] = poller.engine.alerts()
    assert alert.count == 4 and org.triggers() == [alert.dedup_key]


async def test_a_partial_poll_is_refetched_and_its_events_count_once(pd: FakePagerDuty) -> None:
    # Two events a page: the recovery poll's second page fails (and its retry), so it keeps the newest two
    # matches and the mark does not move; the next poll fetches the whole window again.
    clock = FakeClock()
    org = Org(pd, clock, page_limit=2)
    async with org.poller() as poller:
        assert (await poll_at(poller, clock, 0)).ok
        org.fail_with("503")
        assert not (await poll_at(poller, clock, 5)).ok
        n = org.api.audit_request_count
        org.api.faults = FaultPlan(at={n + 2: "503", n + 3: "503"})
        partial = await poll_at(poller, clock, 25)
        assert partial.ok and not partial.complete and partial.new_events == 2
        assert (
            partial.warnings
            and "failed after 1 retry: 503 Service Unavailable; 2 events from it kept"
            in (partial.warnings[0])
        )
        # Stale, and why: this poll's warning — not the error of the failed poll before it.
        snap = poller.snapshot()
        assert snap.stale and snap.error is None and snap.warnings == tuple(partial.warnings)
        assert snap.consecutive_failures == 0 and poller._delay() == 300
        assert poller.last_polled_ms == T0  # the partial window will be fetched again
        org.fail_with(None)
        full = await poll_at(poller, clock, 31)
        assert full.complete and full.window == Window(T0 - 2 * M, T0 + 31 * M)
        assert full.new_events == len(org.truth(T0 - 2 * M, T0 + 31 * M)) - 2 == 3
        assert poller.engine.events_total == len(org.truth(T0 - 17 * M, T0 + 31 * M)) == 6
        assert not poller.snapshot().stale
        [alert] = poller.engine.alerts()
        assert (alert.group, alert.count) == (DAVE, 4)
    assert org.triggers() == [alert.dedup_key]


# -- restarts --------------------------------------------------------------------------------------------------


async def test_a_restart_after_an_outage_neither_recounts_nor_pages_twice(
    pd: FakePagerDuty, tmp_path: Path
) -> None:
    clock = FakeClock()
    org = Org(pd, clock)
    # Process A: a good poll, then the outage; it is stopped while the API is still down.
    with WatchState(tmp_path, "api:outage") as state:
        async with org.poller(state) as a:
            assert (await poll_at(a, clock, 0)).ok
            for minute, kind, _ in OUTAGE[:2]:
                org.fail_with(kind)
                assert not (await poll_at(a, clock, minute)).ok
    # Process B: starts after the API is back, catches up from A's last good poll, pages once.
    org.fail_with(None)
    with WatchState(tmp_path, "api:outage") as state:
        async with org.poller(state) as b:
            assert state.last_polled == T0
            back = await poll_at(b, clock, RECOVERY)
            assert back.window == Window(T0 - 2 * M, T0 + RECOVERY * M)
            [alert] = back.opened
            assert alert.count == 4 and org.triggers() == [alert.dedup_key]
            # Another outage; B is stopped during it.
            org.fail_with("timeout")
            assert not (await poll_at(b, clock, RECOVERY + 5)).ok
    # Process C: the overlap brings Alice's minute-39 grant back, with Dave's burst still in the state.
    org.fail_with(None)
    with WatchState(tmp_path, "api:outage") as state:
        async with org.poller(state) as c:
            after = await poll_at(c, clock, RECOVERY + 10)
            assert after.ok and after.window == Window(T0 + (RECOVERY - 2) * M, T0 + (RECOVERY + 10) * M)
            assert after.fetched == 1 and after.new_events == 0 and after.opened == [] and after.paged == []
            alerts = alerts_by_actor(c)
            assert set(alerts) == {DAVE} and alerts[DAVE].count == 4 and alerts[DAVE].paged
            assert [(key, action) for key, action, *_ in state.pages()] == [(alert.dedup_key, "trigger")]
    assert org.triggers() == [alert.dedup_key] and pd.triggers == 1
