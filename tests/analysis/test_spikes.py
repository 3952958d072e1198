"""The spike engine: planted bursts and near misses, poll boundaries, late and duplicate events,
alert lifetime, distinct counts, grouping, counts/series for the pane, and state round trips."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import (
    ACTOR_FIELDS,
    NO_GROUP,
    Alert,
    Rule,
    SpikeEngine,
    dedup_key_for,
    union_query,
)
from ddaudit_tui.events.record import Event

M = 60_000
T0 = 1_785_000_000_000  # a fixed epoch-ms origin: no wall clock anywhere

ROLE = Rule(
    name="role_changes",
    query='@evt.name:"Access Management" @asset.type:role @action:(created OR modified OR deleted)',
    threshold=3,
    window_ms=15 * M,
    severity=Severity.HIGH,
)
MONITOR = Rule(name="monitor_deletion", query="@evt.name:Monitor @asset.type:monitor @action:deleted")
BULK = Rule(
    name="bulk_deletion", query="@action:deleted", threshold=10, distinct="asset.id", window_ms=10 * M
)

_n = [0]


def ev(
    minute: float,
    actor: str | None = "dave@example.com",
    *,
    evt: str = "Access Management",
    asset: str = "role",
    action: str = "modified",
    asset_id: str | None = None,
    eid: str | None = None,
    api_key: str | None = None,
) -> Event:
    _n[0] += 1
    return Event(
        id=eid or f"ev-{_n[0]:06d}",
        ts=T0 + int(minute * M),
        raw=b"{}",
        evt_name=evt,
        asset_type=asset,
        action=action,
        asset_id=asset_id,
        usr_email=actor,
        usr_id=actor,
        api_key_id=api_key,
    )


def grant(minute: float, actor: str = "dave@example.com", **kw) -> Event:
    return ev(minute, actor, **kw)


def delete(minute: float, asset_id: str, actor: str = "matt@example.com", asset: str = "dashboard") -> Event:
    return ev(minute, actor, evt="Dashboard", asset=asset, action="deleted", asset_id=asset_id)


def opened(changes) -> list[Alert]:
    return [c.alert for c in changes if c.kind == "opened"]


# -- thresholds ----------------------------------------------------------------------------------


def test_planted_burst_opens_one_alert_with_stable_key():
    eng = SpikeEngine([ROLE])
    burst = [grant(0), grant(2), grant(5), grant(9)]
    changes = eng.ingest(burst)
    [alert] = opened(changes)
    assert alert.rule == "role_changes" and alert.group == "dave@example.com"
    assert alert.group_field == "usr.email"
    assert alert.count == 4 and alert.event_ids == [e.id for e in burst]
    assert alert.started == alert.first_seen == T0
    assert alert.opened_at == T0 + 5 * M  # the third grant crossed the threshold
    assert alert.last_seen == T0 + 9 * M
    assert alert.dedup_key == dedup_key_for("role_changes", "dave@example.com", T0)
    assert alert.severity is Severity.HIGH and alert.is_open
    assert alert.actions == {"role modified": 4}


def test_near_miss_two_grants_never_fire():
    eng = SpikeEngine([ROLE])
    assert eng.ingest([grant(0, "alice@example.com"), grant(6, "alice@example.com")]) == []
    eng.advance(T0 + 120 * M)
    assert eng.alerts() == []


def test_window_is_strictly_shorter_than_its_length():
    """Three grants spanning exactly 15 minutes are not "3 in 15 min"; 14:59.999 is."""
    eng = SpikeEngine([ROLE])
    assert opened(eng.ingest([grant(0, "a@x"), grant(7, "a@x"), grant(15, "a@x")])) == []
    assert len(opened(eng.ingest([grant(0, "b@x"), grant(7, "b@x"), grant(15 - 1 / M, "b@x")]))) == 1


def test_three_grants_by_three_people_are_not_a_burst():
    eng = SpikeEngine([ROLE])
    assert opened(eng.ingest([grant(0, "a@x"), grant(1, "b@x"), grant(2, "c@x")])) == []


def test_threshold_one_fires_on_any_single_event():
    eng = SpikeEngine([MONITOR])
    [alert] = opened(eng.ingest([ev(3, "sara@x", evt="Monitor", asset="monitor", action="deleted")]))
    assert alert.count == 1 and alert.started == T0 + 3 * M


# -- polls, overlap, duplicates, late events -------------------------------------------------------


def test_burst_across_a_poll_boundary():
    eng = SpikeEngine([ROLE])
    first = [grant(0), grant(4)]
    assert eng.ingest(first) == []
    eng.advance(T0 + 5 * M)
    # The next poll re-fetches the overlap (duplicates) and brings the third grant.
    [alert] = opened(eng.ingest([*first, grant(8)]))
    assert alert.started == T0 and alert.count == 3


def test_duplicates_from_overlapping_polls_are_counted_once():
    eng = SpikeEngine([ROLE])
    batch = [grant(0), grant(1)]
    eng.ingest(batch)
    eng.ingest(batch)
    eng.ingest(list(reversed(batch)))
    assert eng.alerts() == []  # 2 distinct events, however often they arrive
    assert eng.events_total == 2
    [alert] = opened(eng.ingest([grant(2), *batch]))
    assert alert.count == 3


def test_late_event_completes_a_window_in_the_past():
    eng = SpikeEngine([ROLE])
    eng.ingest([grant(0), grant(10)])
    eng.advance(T0 + 12 * M)
    # Ingestion delay: an event from minute 5 shows up in a later poll.
    [alert] = opened(eng.ingest([grant(5)]))
    assert alert.started == T0 and alert.count == 3 and alert.last_seen == T0 + 10 * M


def test_late_event_joins_the_alert_it_belongs_to_without_reopening_it():
    eng = SpikeEngine([ROLE])
    [alert] = opened(eng.ingest([grant(0), grant(1), grant(2)]))
    closed = eng.advance(T0 + 40 * M)
    assert [c.kind for c in closed] == ["closed"] and alert.closed_at == T0 + 17 * M
    changes = eng.ingest([grant(10)])  # late, inside the burst's keep-alive
    assert opened(changes) == [] and not alert.is_open
    assert alert.count == 4 and alert.last_seen == T0 + 10 * M
    assert len(eng.alerts()) == 1


def test_alert_stays_open_while_the_burst_continues_then_a_new_burst_gets_a_new_key():
    eng = SpikeEngine([ROLE])
    keys = set()
    # Three grants, then one every 10 minutes for an hour: one continuing burst, one alert.
    for minute in (0, 1, 2, *range(10, 61, 10)):
        for c in eng.ingest([grant(minute)]):
            keys.add(c.alert.dedup_key)
        eng.advance(T0 + minute * M)
    [alert] = eng.alerts()
    assert len(keys) == 1 and alert.is_open and alert.count == 9
    eng.advance(T0 + 74 * M)
    assert alert.is_open  # quiet for 14 minutes only
    eng.advance(T0 + 75 * M)
    assert not alert.is_open and alert.closed_at == T0 + 75 * M
    # A single grant after the close is not a burst; three are, with their own dedup key.
    assert opened(eng.ingest([grant(80)])) == []
    [second] = opened(eng.ingest([grant(82), grant(84)]))
    assert second.started == T0 + 80 * M and second.dedup_key != alert.dedup_key


def test_a_new_burst_never_reuses_events_of_the_previous_alert():
    rule = Rule(name="r", query=ROLE.query, threshold=3, window_ms=15 * M, max_duration_ms=20 * M)
    eng = SpikeEngine([rule])
    [first] = opened(eng.ingest([grant(0), grant(1), grant(2), grant(10), grant(19)]))
    assert first.count == 5
    # At minute 20 the alert hits its max duration and closes although the activity goes on; the
    # matches after it start counting from zero (minutes 0-19 are never counted twice).
    assert opened(eng.ingest([grant(21)])) == []
    eng.advance(T0 + 21 * M)
    assert not first.is_open and first.closed_at == T0 + 20 * M
    [second] = opened(eng.ingest([grant(22), grant(23)]))
    assert second.started == T0 + 21 * M and second.count == 3


def test_batch_order_does_not_matter():
    events = [grant(m) for m in (0, 3, 4, 30, 31, 33, 60)]
    expected = None
    rng = random.Random(4)
    for _ in range(5):
        shuffled = events[:]
        rng.shuffle(shuffled)
        eng = SpikeEngine([ROLE])
        eng.ingest(shuffled)
        got = sorted((a.started, a.count) for a in eng.alerts())
        expected = expected or got
        assert got == expected == [(T0, 3), (T0 + 30 * M, 3)]


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=180), min_size=1, max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=180), max_size=8),
    overlap=st.integers(min_value=0, max_value=10),
)
def test_polling_in_pieces_with_overlap_equals_one_batch(minutes, cuts, overlap):
    """However the timeline is cut into polls (in time order, each re-fetching an overlap), the alerts
    are those of a single batch: same bursts, same starts, same counts."""
    events = [grant(m, "x@example.com", eid=f"e{i}") for i, m in enumerate(sorted(minutes))]
    whole = SpikeEngine([ROLE])
    whole.ingest(events)
    whole.advance(T0 + 400 * M)
    pieces = SpikeEngine([ROLE])
    last = None
    for cut in [*sorted(cuts), 181]:
        start = T0 + (last - overlap) * M if last is not None else 0
        batch = [e for e in events if start <= e.ts < T0 + cut * M]
        pieces.ingest(batch)
        pieces.advance(T0 + cut * M)
        last = cut
    pieces.advance(T0 + 400 * M)
    summary = lambda eng: sorted((a.started, a.count, a.last_seen) for a in eng.alerts())  # noqa: E731
    assert summary(pieces) == summary(whole)


# -- distinct counts and grouping -------------------------------------------------------------------


def test_bulk_deletion_counts_distinct_assets():
    eng = SpikeEngine([BULK])
    [alert] = opened(eng.ingest([delete(i * 0.7, f"dash-{i}") for i in range(12)]))
    assert alert.count == 12 and alert.distinct_count == 12
    assert alert.opened_at == T0 + int(9 * 0.7 * M)  # the tenth distinct asset


def test_bulk_deletion_near_miss_nine_assets_spread_out():
    eng = SpikeEngine([BULK])
    assert opened(eng.ingest([delete(i * 68 / 60, f"qa-{i}", "lucas@x") for i in range(9)])) == []
    # Deleting the same five assets over and over is not ten distinct assets.
    assert opened(eng.ingest([delete(30 + i * 0.1, f"a-{i % 5}", "tf@x") for i in range(40)])) == []
    # Ten distinct, but spread over more than 10 minutes.
    assert opened(eng.ingest([delete(60 + i * 1.2, f"b-{i}", "slow@x") for i in range(10)])) == []


def test_events_missing_the_distinct_field_or_the_actor_are_skipped():
    eng = SpikeEngine([BULK, ROLE])
    eng.ingest([ev(m, "m@x", evt="Dashboard", asset="dashboard", action="deleted") for m in range(12)])
    eng.ingest([grant(m, actor=None) for m in range(5)])
    assert eng.alerts() == []


def test_actor_falls_back_to_the_api_key():
    eng = SpikeEngine([ROLE])
    [alert] = opened(eng.ingest([grant(m, actor=None, api_key="key-123") for m in range(3)]))
    assert alert.group == "key-123" and alert.group_field == "metadata.api_key.id"


def test_custom_and_no_grouping():
    by_asset = Rule(name="leak", query="@action:deleted", group_by=("asset.id", *ACTOR_FIELDS))
    everyone = Rule(name="all", query="@action:deleted", threshold=3, group_by=())
    eng = SpikeEngine([by_asset, everyone])
    changes = eng.ingest([delete(0, "k1", "a@x"), delete(1, "k2", "b@x"), delete(2, "k3", "c@x")])
    groups = sorted((a.rule, a.group) for a in opened(changes))
    assert groups == [("all", NO_GROUP), ("leak", "k1"), ("leak", "k2"), ("leak", "k3")]


def test_disabled_rules_are_ignored_and_the_union_query_pushes_everything_down():
    off = Rule(name="off", query="@action:created", enabled=False)
    eng = SpikeEngine([ROLE, off])
    assert set(eng.rules) == {"role_changes"}
    assert union_query([ROLE, MONITOR, off]) == f"({ROLE.query}) OR ({MONITOR.query})"
    assert union_query([ROLE, ROLE]) == ROLE.query
    assert union_query([ROLE, Rule(name="all", query="*")]) == "*"


def test_window_change_applies_to_rules_without_their_own_window():
    rule = Rule(name="r", query=ROLE.query, threshold=3)  # no window: the engine's
    eng = SpikeEngine([rule], window_ms=15 * M)
    assert opened(eng.ingest([grant(0, "a@x"), grant(10, "a@x"), grant(20, "a@x")])) == []
    eng.set_window(30 * M)
    assert eng.window_of("r") == 30 * M
    assert len(opened(eng.ingest([grant(40, "b@x"), grant(55, "b@x"), grant(65, "b@x")]))) == 1


# -- what the pane shows --------------------------------------------------------------------------


def test_counts_per_actor_per_rule_and_hot_rows():
    eng = SpikeEngine([ROLE, MONITOR])
    eng.ingest([grant(0), grant(1), grant(2), grant(3, "alice@x")])
    eng.ingest([ev(4, "alice@x", evt="Monitor", asset="monitor", action="deleted")])
    eng.advance(T0 + 5 * M)
    rows = {r.actor: r for r in eng.counts()}
    assert rows["dave@example.com"].counts == {"role_changes": 3}
    assert rows["dave@example.com"].hot == {"role_changes"}
    assert rows["alice@x"].counts == {"role_changes": 1, "monitor_deletion": 1}
    assert rows["alice@x"].hot == {"monitor_deletion"}
    # 20 minutes later every window has moved on.
    eng.advance(T0 + 25 * M)
    assert eng.counts() == []


def test_events_per_minute_series_overall_and_per_hot_actor():
    eng = SpikeEngine([ROLE], series_minutes=10)
    eng.ingest([grant(0), grant(0.5), grant(2), grant(3, "alice@x")])
    eng.advance(T0 + 9 * M)
    start, series = eng.series()
    assert start == T0 and series == [2, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert eng.hot_actors() == ["dave@example.com"]
    assert eng.actor_series("dave@example.com")[1][:4] == [2, 0, 1, 0]


# -- state ----------------------------------------------------------------------------------------


def test_state_round_trip_continues_the_same_burst_after_a_restart():
    eng = SpikeEngine([ROLE])
    first = [grant(0), grant(4)]
    eng.ingest(first)
    eng.advance(T0 + 5 * M)
    saved = eng.export_state()

    restarted = SpikeEngine([ROLE])
    restarted.restore(saved)
    assert restarted.watermark == T0 + 5 * M
    # The overlap is re-fetched: duplicates are recognised, and the third grant completes the burst.
    [alert] = opened(restarted.ingest([*first, grant(8)]))
    assert alert.started == T0 and alert.count == 3

    restarted.advance(T0 + 10 * M)
    again = SpikeEngine([ROLE])
    again.restore(restarted.export_state())
    [restored] = again.alerts()
    assert restored.dedup_key == alert.dedup_key and restored.is_open
    # A continuing burst attaches to the restored alert instead of opening a second one.
    assert opened(again.ingest([grant(9), grant(12), grant(13)])) == []
    assert restored.count == 6


def test_alert_state_serialisation_round_trip():
    eng = SpikeEngine([BULK])
    [alert] = opened(eng.ingest([delete(i * 0.5, f"d{i}") for i in range(11)]))
    alert.page_status = "sent"
    copy = Alert.from_state(alert.to_state())
    assert copy.to_state() == alert.to_state()
    assert copy.paged and copy.distinct_count == 11
    assert alert.to_json()["paged"] is True
    assert set(alert.to_json()) >= {
        "rule", "actor", "count", "first_seen", "last_seen", "severity", "event_ids", "dedup_key", "paged",
    }  # fmt: skip


def test_pruning_forgets_old_windows_but_keeps_recent_alerts():
    eng = SpikeEngine([ROLE], lateness_ms=5 * M, alert_retention_ms=60 * M)
    eng.ingest([grant(0), grant(1), grant(2)])
    eng.advance(T0 + 30 * M)
    state = eng.export_state()
    assert state.entries == [] and len(state.alerts) == 1
    eng.advance(T0 + 200 * M)
    assert eng.alerts() == []


def test_dedup_key_stays_within_pagerduty_limits():
    key = dedup_key_for("r", "x" * 400, T0)
    assert len(key) <= 255 and key.endswith(str(T0))
    assert dedup_key_for("r", "a\x1b[31mb", T0) != dedup_key_for("r", "ab", T0)
    assert "\x1b" not in dedup_key_for("r", "a\x1b[31mb", T0)
