"""The key-compromise analysis: the recipe's five steps, every flag, the verdict — on synthetic events and
on the demo org's planted compromised, clean and CI keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import (  # noqa: E402
    ASHBURN_AWS,
    BUCHAREST_VPN,
    DAY,
    DEMO_END,
    HOUR,
    KEY,
    LONDON_BT,
    MIN,
    NO_GEO,
    NYC_VERIZON,
    OTHER_KEY,
    T0,
    WIDE,
    by_signal,
    demo_events,
    demo_source,
    events,
    item,
    run,
)

from ddaudit_tui.analysis.key_investigation import investigate_key  # noqa: E402
from ddaudit_tui.analysis.keys import (  # noqa: E402
    BURST,
    CONCURRENT_IPS,
    DESTRUCTIVE,
    FIRST_SEEN_ASN,
    FIRST_SEEN_IP,
    HOSTING_ASN,
    IMPOSSIBLE_TRAVEL,
    NEW_COUNTRY,
    OFF_HOURS,
    TOKEN_LEAKED,
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    VPN_ASN,
    KeyAnalysisConfig,
    analyze_key,
    resource_from_path,
    timeline_row,
)
from ddaudit_tui.analysis.signals import Flag, Severity  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.timeutil import Window, iso  # noqa: E402

# -- steps 1-3: timeline, origins, endpoints ---------------------------------------------------------------


def test_timeline_origins_and_endpoints_follow_the_recipe():
    items = [
        item(T0 + 1 * MIN, NYC_VERIZON, path="/api/v1/dashboard"),
        item(T0 + 2 * MIN, NYC_VERIZON, path="/api/v1/dashboard"),
        item(T0 + 3 * MIN, LONDON_BT, method="POST", path="/api/v2/query/scalar?x=1", route="/api/v2/query/scalar"),
        item(T0 + 4 * MIN, LONDON_BT, method="POST", path="/api/v2/query/scalar?x=2", route="/api/v2/query/scalar"),
        item(T0 + 5 * MIN, NO_GEO, method=None, path=None),
        item(T0 + 6 * MIN, NO_GEO, method=None, path=None),
        item(T0 + 7 * MIN, ASHBURN_AWS, path="/api/v1/dashboard/abc", route="/api/v1/dashboard/{dashboard_id}"),
        item(T0 + 8 * MIN, ASHBURN_AWS, method="DELETE", path="/api/v1/dashboard/abc", route="/api/v1/dashboard/{dashboard_id}"),
        item(T0 + 9 * MIN, NYC_VERIZON, key=OTHER_KEY),  # another key: ignored
        item(T0 + 500 * DAY, NYC_VERIZON),  # outside the window: ignored
    ]  # fmt: skip
    r = run(items)
    assert r.total_events == 8
    assert (r.first_seen, r.last_seen) == (T0 + 1 * MIN, T0 + 8 * MIN)
    assert [e.ts for e in r.events] == [T0 + i * MIN for i in range(1, 9)]
    assert timeline_row(r.events[2]) == {
        "timestamp": iso(T0 + 3 * MIN),
        "action": "accessed",
        "event": "Request",
        "resource_type": None,
        "resource_id": None,
        "endpoint": "/api/v2/query/scalar?x=1",
        "method": "POST",
        "ip": "203.0.113.9",
        "city": "London",
        "country": "United Kingdom",
        "asn": "British Telecommunications PLC",
    }
    # jq: group_by(.country) (null first, then by name), sort_by(-count) is stable: the null group (2)
    # stays before the United Kingdom (2).
    assert [(o.country, o.count, o.asns, o.ips) for o in r.origins] == [
        ("United States", 4, ("Amazon.com, Inc.", "Verizon Business"), ("198.51.100.214", "3.230.117.42")),
        (None, 2, (None,), (None,)),
        ("United Kingdom", 2, ("British Telecommunications PLC",), ("203.0.113.9",)),
    ]
    assert [o.flag for o in r.origins] == [
        "UNKNOWN: baseline unavailable",
        "UNKNOWN: no geo data",
        "UNKNOWN: baseline unavailable",
    ]
    # Endpoints exactly as jq groups them: by url_details.path, query string included.
    assert [(g.path, g.methods, g.count) for g in r.endpoints] == [
        (None, (None,), 2),
        ("/api/v1/dashboard", ("GET",), 2),
        ("/api/v1/dashboard/abc", ("DELETE", "GET"), 2),
        ("/api/v2/query/scalar?x=1", ("POST",), 1),
        ("/api/v2/query/scalar?x=2", ("POST",), 1),
    ]
    # Routes, for people: route.path, else the path without its query string.
    assert [(g.path, g.methods, g.count) for g in r.routes] == [
        (None, (None,), 2),
        ("/api/v1/dashboard", ("GET",), 2),
        ("/api/v1/dashboard/{dashboard_id}", ("DELETE", "GET"), 2),
        ("/api/v2/query/scalar", ("POST",), 2),
    ]


# -- step 4: destructive actions (the flag: tests/analysis/detections/test_destructive_action.py) -----------------------------------------------------------------------------


def test_resource_from_path():
    assert resource_from_path("/api/v1/monitor/123", "/api/v1/monitor/{monitor_id}") == ("monitor", "123")
    assert resource_from_path(
        "/api/v1/logs/config/pipelines/p1", "/api/v1/logs/config/pipelines/{pipeline_id}"
    ) == (
        "pipeline",
        "p1",
    )
    assert resource_from_path("/api/v1/synthetics/tests/abc-123", "/api/v1/synthetics/tests/{public_id}") == (
        "test",
        "abc-123",
    )
    assert resource_from_path("/api/v2/api_keys/k1?x=1") == ("api_key", "k1")
    assert resource_from_path("/api/v1/dashboard/lists/manual/7") == ("manual", "7")
    assert resource_from_path("/api/v2/policies/p") == ("policy", "p")
    assert resource_from_path(None) == (None, None)
    assert resource_from_path("/") == (None, None)


# -- verdict (each signal's tests: tests/analysis/detections/test_<signal>.py) ----------------------------------------------------------------------------


def _flag(signal: str, sev: Severity) -> Flag:
    return Flag(signal, sev, f"{signal} reason")


@pytest.mark.parametrize(
    ("flags", "verdict"),
    [
        ([_flag(TOKEN_LEAKED, Severity.CRITICAL)], VERDICT_COMPROMISED),
        ([_flag(NEW_COUNTRY, Severity.HIGH), _flag(BURST, Severity.HIGH)], VERDICT_COMPROMISED),
        ([_flag(DESTRUCTIVE, Severity.HIGH), _flag(DESTRUCTIVE, Severity.HIGH)], VERDICT_SUSPICIOUS),
        ([_flag(FIRST_SEEN_ASN, Severity.MEDIUM)], VERDICT_SUSPICIOUS),
        ([_flag(FIRST_SEEN_IP, Severity.LOW), _flag(HOSTING_ASN, Severity.INFO)], VERDICT_NONE),
        ([], VERDICT_NONE),
    ],
)
def test_verdict_rule(flags, verdict):
    from ddaudit_tui.analysis.keys import _verdict

    assert _verdict(flags, 10)[0] == verdict


def test_no_events_is_no_evidence():
    r = analyze_key(KEY, [], window=WIDE, now_ms=T0)
    assert (r.total_events, r.verdict, r.verdict_reasons, r.flags) == (
        0,
        VERDICT_NONE,
        ["no events for this key in the window"],
        [],
    )
    assert r.origins == [] and r.endpoints == [] and r.first_seen is None
    assert r.baselines["hours"] == "not evaluated (no events)"


def test_evidence_is_capped():
    cfg = KeyAnalysisConfig(max_evidence=5)
    r = run([item(T0 + i * MIN, BUCHAREST_VPN) for i in range(12)], config=cfg)
    [f] = by_signal(r, VPN_ASN)
    assert len(f.event_ids) == 5 and f.details["events"] == 12


# -- the demo org's planted keys -----------------------------------------------------------------------------


def _demo_report(key: str):
    import asyncio

    source = demo_source()
    return asyncio.run(investigate_key(source, key, source.default_window(), now_ms=DEMO_END))


def _ids(evs) -> set[str]:
    return {e.id for e in evs}


def test_demo_compromised_key_fires_every_planted_flag():
    times = PLANTED.times(DEMO_END)
    key = PLANTED.compromised_key
    all_events = demo_events()
    key_events = [e for e in all_events if e.api_key_id == key]
    r = _demo_report(key)
    assert r.verdict == VERDICT_COMPROMISED
    assert r.total_events == len(key_events)

    # creation (step 5)
    c = r.created
    [creation] = [e for e in all_events if e.asset_id == key and e.action == "created"]
    assert (c.created_by, c.creator_ip, c.created_at, c.creator_country, c.event_id) == (
        PLANTED.compromised_key_creator,
        PLANTED.compromised_key_creator_ip,
        creation.ts,
        "United States",
        creation.id,
    )
    assert c.created_at // 1000 == times["compromised_key_created"] // 1000
    # origins: Romania is new to the org, the United States is not
    assert {o.country_iso: o.flag for o in r.origins} == {"US": "NORMAL", "RO": "FLAG: first-time origin"}
    ro = next(o for o in r.origins if o.country_iso == "RO")
    assert set(ro.ips) == {PLANTED.attacker_vpn_ip, PLANTED.attacker_home_ip}
    assert "RO: not seen" in r.baselines["countries"] and "US: seen" in r.baselines["countries"]

    flags = {(f.signal, f.subject): f for f in r.flags}
    # token leaked (critical)
    leak = flags[(TOKEN_LEAKED, key)]
    notification = [e for e in all_events if e.asset_id == key and e.evt_name == "Security Notification"]
    assert leak.severity == Severity.CRITICAL and leak.event_ids == tuple(e.id for e in notification)
    # new country
    f = flags[(NEW_COUNTRY, PLANTED.attacker_country_iso)]
    assert f.severity == Severity.HIGH
    assert set(f.event_ids) == _ids(e for e in key_events if e.country_iso == "RO")
    # VPN ASN with the threat_intel tunnel
    f = flags[(VPN_ASN, f"AS{PLANTED.attacker_asn}")]
    assert f.severity == Severity.HIGH and f.details["classified_by"] == "threat_intel"
    assert set(f.event_ids) == _ids(e for e in key_events if e.client_ip == PLANTED.attacker_vpn_ip)
    # burst: the 150 requests of the planted burst
    [burst] = [x for x in r.flags if x.signal == BURST]
    assert burst.severity == Severity.HIGH and burst.details["peak"] == PLANTED.burst_requests
    start = times["compromise_burst_start"]
    assert set(burst.event_ids) == _ids(e for e in key_events if start <= e.ts < start + 5 * MIN)
    # concurrent IPs in the planted 30-minute bucket
    f = flags[(CONCURRENT_IPS, iso(times["compromise_concurrent_bucket"]))]
    assert (
        f.severity == Severity.HIGH and f.details["classification"] == "multiple_ip_network_city_user_agent"
    )
    assert f.details["ips"] == sorted(
        [PLANTED.attacker_vpn_ip, PLANTED.attacker_home_ip, PLANTED.leak_home_ip]
    )
    # impossible travel New York (home ISP) → Bucharest (home ISP)
    f = flags[(IMPOSSIBLE_TRAVEL, f"{PLANTED.leak_home_ip} → {PLANTED.attacker_home_ip}")]
    assert f.severity == Severity.HIGH
    arrival = next(e for e in all_events if e.id == f.event_ids[1])
    assert (arrival.client_ip, arrival.ts // 1000) == (
        PLANTED.attacker_home_ip,
        times["compromise_travel_to"] // 1000,
    )
    # off-hours: the night burst, the recon before it, and the next morning's deletions
    off = [x for x in r.flags if x.signal == OFF_HOURS]
    off_ids = set().union(*(x.event_ids for x in off))
    assert set(burst.event_ids) <= off_ids
    assert any(
        e.id in off_ids for e in key_events if e.ts // 1000 == times["compromise_first_foreign_use"] // 1000
    )
    assert {x.severity for x in off} == {Severity.HIGH}
    # deletions of monitors, dashboards and log pipelines
    deleted = {(d.resource_type, d.resource_id) for d in r.destructive}
    assert deleted == (
        {("monitor", m) for m in PLANTED.deleted_monitors}
        | {("dashboard", d) for d in PLANTED.deleted_dashboards}
        | {("pipeline", p) for p in PLANTED.deleted_pipelines}
    )
    assert {x.subject: x.severity for x in r.flags if x.signal == DESTRUCTIVE} == {
        "monitor": Severity.HIGH,
        "dashboard": Severity.HIGH,
        "pipeline": Severity.HIGH,
    }
    # first-seen networks after the learning period
    assert {x.subject for x in r.flags if x.signal == FIRST_SEEN_ASN} == {"AS9009", "AS8708", "AS701"}
    # the key's routine cloud origin is context only
    assert flags[(HOSTING_ASN, "AS396982")].severity == Severity.INFO
    assert r.revoked is None
    assert r.recommended_actions[0].startswith(
        "Revoke the key immediately if not already done — `ddaudit revoke"
    )


def test_demo_clean_key_has_no_flag():
    r = _demo_report(PLANTED.clean_key)
    assert r.flags == []
    assert r.verdict == VERDICT_NONE
    assert r.total_events > 300
    assert [o.flag for o in r.origins] == ["NORMAL"]
    assert r.baselines["hours"].endswith("Mon–Fri 10:00–17:00")


def test_demo_ci_key_in_the_cloud_during_new_york_afternoons_is_no_evidence():
    r = _demo_report(PLANTED.ci_key)
    assert [(f.signal, f.severity, f.subject) for f in r.flags] == [(HOSTING_ASN, Severity.INFO, "AS16509")]
    assert r.verdict == VERDICT_NONE
    assert r.baselines["hours"].startswith("learned from the key's own history")
    assert "America/New_York" in r.baselines["hours"] and r.baselines["hours"].endswith("Mon–Fri 13:00–18:00")


# -- helpers for the pane ----------------------------------------------------------------------------------


def test_keys_seen_for_suggestions():
    from ddaudit_tui.analysis.keys import KeySeen, keys_seen

    evs = events(
        [
            item(T0, NYC_VERIZON),
            item(T0 + DAY, NYC_VERIZON, usr_email="b@example.com"),
            item(T0 + 2 * DAY, LONDON_BT, key=OTHER_KEY),
            item(T0 + 3 * DAY, LONDON_BT, key=None),
        ]
    )
    assert keys_seen(evs) == [
        KeySeen(OTHER_KEY, 1, T0 + 2 * DAY, T0 + 2 * DAY, ("svc@example.com",)),
        KeySeen(KEY, 2, T0, T0 + DAY, ("b@example.com", "svc@example.com")),
    ]
    assert [k.key_id for k in keys_seen(evs, limit=1)] == [OTHER_KEY]


def test_activity_buckets_mark_flagged_events():
    from ddaudit_tui.analysis.keys import activity_buckets

    items = [
        item(T0 + 1 * HOUR, NYC_VERIZON),
        item(T0 + 3 * HOUR, BUCHAREST_VPN),
        item(T0 + 3 * HOUR + MIN, NYC_VERIZON),
    ]
    r = run(items, window=Window(T0, T0 + 4 * HOUR))
    # the VPN event and the New York one a minute later: VPN, new network, concurrent use — both cited
    assert activity_buckets(r, 2 * HOUR) == [(T0, 1, 0), (T0 + 2 * HOUR, 2, 2)]
    assert activity_buckets(r, HOUR) == [
        (T0, 0, 0),
        (T0 + HOUR, 1, 0),
        (T0 + 2 * HOUR, 0, 0),
        (T0 + 3 * HOUR, 2, 2),
    ]
    assert activity_buckets(r, 0) == []


def test_activity_buckets_count_every_event_the_aggregates_counted():
    """Past the budget (issue 16) the report holds a sample of the key's events; its hourly counts from
    DDSQL are the activity, so the chart of 1,002,784 events is not drawn from the 5,334 fetched."""
    from ddaudit_tui.analysis.key_model import KeyAggregates
    from ddaudit_tui.analysis.keys import activity_buckets

    items = [
        item(T0 + 1 * HOUR, NYC_VERIZON),
        item(T0 + 3 * HOUR, BUCHAREST_VPN),
        item(T0 + 3 * HOUR + MIN, NYC_VERIZON),
    ]
    r = run(items, window=Window(T0, T0 + 4 * HOUR))
    r.aggregates = KeyAggregates(
        total=1_503,
        first_seen=T0,
        last_seen=T0 + 3 * HOUR + MIN,
        per_hour=((T0, 500), (T0 + HOUR, 1_000), (T0 + 3 * HOUR, 3), (T0 + 9 * HOUR, 7)),  # the last: outside
        ips_per_30min=(),
        first_seen_ip={},
        first_seen_asn={},
        requests=4,
    )
    assert activity_buckets(r, 2 * HOUR) == [(T0, 1_500, 0), (T0 + 2 * HOUR, 3, 2)]
    assert activity_buckets(r, HOUR)[0] == (T0, 500, 0)
    # Under an hour the aggregates cannot say which minutes: the bucket is refused, not drawn from the sample.
    with pytest.raises(ValueError, match="hour"):
        activity_buckets(r, 15 * MIN)
