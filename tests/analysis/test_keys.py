"""The key-compromise analysis: the recipe's five steps, every flag, the verdict — on synthetic events and
on the demo org's planted compromised, clean and CI keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import (  # noqa: E402
    ASHBURN_AWS,
    BUCHAREST_HOME,
    BUCHAREST_VPN,
    DAY,
    DEMO_END,
    HOUR,
    KEY,
    LONDON_BT,
    MIN,
    NEWARK_VERIZON,
    NO_GEO,
    NYC_VERIZON,
    OTHER_KEY,
    T0,
    demo_events,
    demo_source,
    events,
    item,
    weekday_runs,
)

from ddaudit_tui.analysis.baseline import BusinessHours, parse_days  # noqa: E402
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
    CountryBaseline,
    KeyAnalysisConfig,
    analyze_key,
    resource_from_path,
    timeline_row,
)
from ddaudit_tui.analysis.signals import Flag, Severity  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.sources.api_keys import ApiKeyInfo, UserRef  # noqa: E402
from ddaudit_tui.timeutil import Window, iso  # noqa: E402

WIDE = Window(T0 - 400 * DAY, T0 + 400 * DAY)


def run(items, **kw):
    kw.setdefault("window", WIDE)
    kw.setdefault("now_ms", T0)
    evs = events(items)
    related = kw.pop("related_items", None)
    if related is not None:
        kw["related"] = events(related)
    return analyze_key(KEY, evs, **kw)


def by_signal(report, signal: str) -> list[Flag]:
    return [f for f in report.flags if f.signal == signal]


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


def test_origin_flags_follow_the_country_baseline():
    items = [item(T0, NYC_VERIZON), item(T0 + MIN, LONDON_BT), item(T0 + 2 * MIN, BUCHAREST_HOME)]
    cb = CountryBaseline("allowlist+learned", "test", frozenset({"GB"}), {"US": True, "RO": False})
    r = run(items, country_baseline=cb)
    assert {o.country: (o.status, o.flag) for o in r.origins} == {
        "United States": ("normal", "NORMAL"),
        "United Kingdom": ("normal", "NORMAL"),
        "Romania": ("new", "FLAG: first-time origin"),
    }
    [f] = by_signal(r, NEW_COUNTRY)
    assert (f.severity, f.subject, f.event_ids) == (Severity.HIGH, "RO", (r.events[2].id,))
    assert f.reason == (
        "first use from Romania (RO): 1 event 2026-06-01 00:02:00Z → 2026-06-01 00:02:00Z "
        "via RCS & RDS SA (AS8708); not in the org baseline (allowlist+learned)"
    )
    assert CountryBaseline("allowlist", "x", frozenset({"US"})).status("RO") == "new"
    assert CountryBaseline("allowlist", "x", frozenset({"US"})).status("us") == "normal"
    assert CountryBaseline("learned", "x", seen={"RO": None}).status("RO") == "unknown"
    assert CountryBaseline("none", "x").status("RO") == "unknown"


# -- step 4: destructive actions -----------------------------------------------------------------------------


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


def test_deletions_pair_requests_with_their_events_and_flag_by_type():
    t = T0 + 10 * DAY
    req = item(
        t, BUCHAREST_VPN, method="DELETE", path="/api/v1/monitor/123", route="/api/v1/monitor/{monitor_id}"
    )
    deleted = item(
        t + 300, BUCHAREST_VPN, method="DELETE", path="/api/v1/monitor/123", action="deleted", evt="Monitor",
        asset_type="monitor", asset_id="123", asset_name="[Prod] p99 latency",
    )  # fmt: skip
    lone = item(
        t + 5 * MIN, BUCHAREST_VPN, method="DELETE", path="/api/v1/logs/config/pipelines/p1",
        route="/api/v1/logs/config/pipelines/{pipeline_id}",
    )  # fmt: skip
    failed = item(t + 6 * MIN, BUCHAREST_VPN, method="DELETE", path="/api/v2/widgets/w9", status=403)
    modified = item(
        t + 7 * MIN, BUCHAREST_VPN, method="PUT", path="/api/v1/dashboard/d1", action="modified", evt="Dashboard",
        asset_type="dashboard", asset_id="d1", asset_name="Ops",
    )  # fmt: skip
    r = run([req, deleted, lone, failed, modified])
    assert [
        (d.kind, d.resource_type, d.resource_id, d.resource_name, d.ip, d.country, d.status)
        for d in r.destructive
    ] == [
        ("deleted", "monitor", "123", "[Prod] p99 latency", "192.0.2.147", "Romania", 200),
        ("DELETE request", "pipeline", "p1", None, "192.0.2.147", "Romania", 200),
        ("DELETE request", "widget", "w9", None, "192.0.2.147", "Romania", 403),
    ]
    assert r.destructive[0].related_ids == (req["id"],)
    flags = by_signal(r, DESTRUCTIVE)
    assert [(f.subject, f.severity, f.event_ids) for f in flags] == [
        ("monitor", Severity.HIGH, (deleted["id"], req["id"])),
        ("pipeline", Severity.HIGH, (lone["id"],)),
        ("widget", Severity.MEDIUM, (failed["id"],)),
    ]
    assert flags[2].reason == (
        "1 widget deletion (1 failed): w9; 2026-06-11 00:06:00Z → 2026-06-11 00:06:00Z from 192.0.2.147 (Romania)"
    )
    assert [(a.resource_type, a.resource_id, a.name, a.actions) for a in r.affected] == [
        ("dashboard", "d1", "Ops", ("modified",)),
        ("widget", "w9", None, ("deleted",)),
        ("pipeline", "p1", None, ("deleted",)),
        ("monitor", "123", "[Prod] p99 latency", ("deleted",)),
    ]
    assert r.recommended_actions[1] == (
        'Review affected resources: dashboard d1 "Ops" (modified); widget w9 (deleted); pipeline p1 (deleted); '
        'monitor 123 "[Prod] p99 latency" (deleted)'
    )
    assert r.recommended_actions[2] == (
        'Check if any deleted resources need restoration: monitor 123 "[Prod] p99 latency"; pipeline p1; widget w9'
    )


# -- bursts ------------------------------------------------------------------------------------------------


def _routine(days: int = 20, place=NYC_VERIZON) -> list[dict]:
    """Two calls a day at 14:10 and 15:10 UTC: 40 active 5-minute buckets of one event."""
    return [item(T0 + d * DAY + h * HOUR + 10 * MIN, place) for d in range(days) for h in (14, 15)]


def test_burst_relative_to_the_key_and_absolute():
    base = _routine()
    small = [item(T0 + 21 * DAY + i * 6_000, NYC_VERIZON) for i in range(30)]  # 30 in 3 minutes
    big = [item(T0 + 22 * DAY + i * 2_400, NYC_VERIZON) for i in range(120)]  # 120 in 4m48s
    r = run(base + small + big)
    flags = by_signal(r, BURST)
    assert [(f.severity, f.details["peak"], len(f.event_ids)) for f in flags] == [
        (Severity.HIGH, 120, 120),
        (Severity.MEDIUM, 30, 30),
    ]
    assert flags[1].event_ids == tuple(x["id"] for x in small)
    assert flags[1].subject == iso(T0 + 21 * DAY)
    assert flags[1].reason == (
        "30 events within 5 min from 2026-06-22 00:00:00Z (30 in the episode 2026-06-22 00:00:00Z → "
        "2026-06-22 00:02:54Z, 2m), 30× the key's typical rate; from 198.51.100.214"
    )
    assert r.baselines["rate"] == (
        "typically 1 event per active 5-minute interval (median of 42 intervals, MAD 0)"
    )


def test_steady_heavy_key_is_not_a_burst_but_a_cold_start_spike_is():
    steady = [item(T0 + i * 2_500, ASHBURN_AWS) for i in range(120 * 20)]  # 120 per 5 min for 100 min
    assert by_signal(run(steady), BURST) == []
    cold = [item(T0 + i * 2_000, NYC_VERIZON) for i in range(110)]  # a brand-new key: 110 in 3m40s
    [f] = by_signal(run(cold), BURST)
    assert (f.severity, f.details["peak"]) == (Severity.MEDIUM, 110)
    assert run(cold).baselines["rate"].startswith("only 1 active 5-minute intervals (need 12)")


# -- off-hours ---------------------------------------------------------------------------------------------


def _ci_key() -> list[dict]:
    """Four weeks of weekday runs at 13-17 New York time (UTC-4 in June), from AWS."""
    return weekday_runs(T0, 28, (13, 14, 15, 16, 17), ASHBURN_AWS)


def test_off_hours_learned_from_the_keys_own_history_in_its_home_zone():
    night = item(T0 + 30 * DAY + 7 * HOUR, ASHBURN_AWS)  # Wed 2026-07-01 03:00 New York
    r = run(_ci_key() + [night])
    [f] = by_signal(r, OFF_HOURS)
    assert (f.severity, f.subject, f.event_ids) == (Severity.MEDIUM, "2026-07-01", (night["id"],))
    assert f.reason == (
        "1 event on Wed 03:00–03:00 America/New_York (2026-07-01 07:00:00Z → 2026-07-01 07:00:00Z), "
        "outside the hours this key is normally used"
    )
    assert r.baselines["hours"] == (
        "learned from the key's own history (21 active days) in America/New_York: hour-of-week slots active on "
        "≥ 3 days, ± 1 h — Mon–Fri 13:00–18:00"
    )
    # The routine afternoons — evening in UTC — are not off-hours.
    assert r.event_signals.get(r.events[0].id) == (HOSTING_ASN,)
    assert r.verdict == VERDICT_SUSPICIOUS


def test_off_hours_with_configured_business_hours():
    night = item(T0 + 30 * DAY + 7 * HOUR, ASHBURN_AWS)
    bh = BusinessHours(9 * 60, 18 * 60, parse_days("mon-fri"), "America/New_York")
    r = run(_ci_key() + [night], config=KeyAnalysisConfig(business_hours=bh))
    [f] = by_signal(r, OFF_HOURS)
    assert f.event_ids == (night["id"],)
    assert f.reason.endswith("outside business hours Mon–Fri 09:00–18:00")
    assert r.baselines["hours"] == "configured business hours Mon–Fri 09:00–18:00 (America/New_York)"


def test_off_hours_needs_history_and_escalates_with_a_new_country():
    short = weekday_runs(T0, 3, (14,), NYC_VERIZON) + [item(T0 + 3 * DAY + 7 * HOUR, NYC_VERIZON)]
    r = run(short)
    assert by_signal(r, OFF_HOURS) == []
    assert r.baselines["hours"].startswith("not evaluated: 4 active days and 7 events of history")
    night_ro = item(T0 + 30 * DAY + 7 * HOUR, BUCHAREST_HOME)
    cb = CountryBaseline("learned", "t", seen={"US": True, "RO": False})
    r = run(_ci_key() + [night_ro], country_baseline=cb)
    [f] = by_signal(r, OFF_HOURS)
    assert f.severity == Severity.HIGH and "with a first-time country" in f.reason


# -- concurrent use --------------------------------------------------------------------------------------------

NYC_2 = dict(NYC_VERIZON, ip="198.51.100.215")
NYC_COMCAST = dict(NYC_VERIZON, ip="198.51.100.99", asn=7922, asn_name="Comcast Cable Communications, LLC")
BOSTON_VERIZON = dict(NYC_VERIZON, ip="198.51.100.50", city="Boston", lat=42.35843, lon=-71.05977)


@pytest.mark.parametrize(
    ("a", "b", "ua_b", "expected"),
    [
        (NYC_VERIZON, LONDON_BT, "curl/8", (Severity.HIGH, "multiple_ip_network_city_user_agent")),
        (NYC_VERIZON, LONDON_BT, "python-requests/2.31.0", (Severity.HIGH, "multiple_ip_network_city")),
        (NYC_VERIZON, BOSTON_VERIZON, "python-requests/2.31.0", (Severity.MEDIUM, "multiple_ip_city")),
        (NYC_VERIZON, NYC_COMCAST, "python-requests/2.31.0", (Severity.MEDIUM, "multiple_ip_network")),
        (NYC_VERIZON, NYC_2, "curl/8", (Severity.LOW, "multiple_ip_user_agent")),
        (NYC_VERIZON, NYC_2, "python-requests/2.31.0", None),
    ],
)
def test_concurrent_use_ladder(a, b, ua_b, expected):
    t = T0 + 10 * DAY + 30 * MIN  # bucket [00:30, 01:00)
    items = [item(t + MIN, a), item(t + 20 * MIN, b, ua=ua_b), item(t + 31 * MIN, LONDON_BT, ua="other/1")]
    flags = by_signal(run(items), CONCURRENT_IPS)
    if expected is None:
        assert flags == []
        return
    [f] = flags
    assert (f.severity, f.details["classification"]) == expected
    assert f.subject == iso(t)
    assert f.event_ids == (items[0]["id"], items[1]["id"])


# -- impossible travel ------------------------------------------------------------------------------------------


def test_impossible_travel_between_eyeball_networks():
    a = item(T0 + 10 * DAY, NYC_VERIZON)
    b = item(T0 + 10 * DAY + 10 * MIN, BUCHAREST_HOME)
    [f] = by_signal(run([a, b]), IMPOSSIBLE_TRAVEL)
    assert (f.severity, f.subject, f.event_ids) == (
        Severity.HIGH,
        "198.51.100.214 → 192.0.2.66",
        (a["id"], b["id"]),
    )
    assert f.details == {"km": 7650.3, "kmh": 45901.8, "seconds": 600, "hops": 1}
    assert f.reason == (
        "New York, United States (198.51.100.214) at 2026-06-11 00:00:00Z → Bucharest, Romania (192.0.2.66) at "
        "2026-06-11 00:10:00Z: 7,650 km in 10m = 45,902 km/h"
    )


def test_travel_through_a_vpn_is_context_and_keeps_the_baseline():
    a = item(T0 + 10 * DAY, NYC_VERIZON)
    vpn = item(T0 + 10 * DAY + 10 * MIN, BUCHAREST_VPN)
    back = item(T0 + 10 * DAY + 20 * MIN, NYC_VERIZON)
    [f] = by_signal(run([a, vpn, back]), IMPOSSIBLE_TRAVEL)  # NYC → NYC after the VPN: no travel
    assert (f.severity, f.event_ids) == (Severity.INFO, (a["id"], vpn["id"]))
    assert "(VPN (threat_intel: VPN NORD_VPN) at the far end: not a location)" in f.reason


def test_geoip_jitter_same_ip_and_old_locations():
    a = item(T0 + 10 * DAY, NYC_VERIZON)
    jitter = item(T0 + 10 * DAY + 30_000, NEWARK_VERIZON)  # 15 km in 30 s
    [f] = by_signal(run([a, jitter]), IMPOSSIBLE_TRAVEL)
    assert f.severity == Severity.LOW and f.reason.endswith("(likely GeoIP inaccuracy)")
    same_ip = item(T0 + 10 * DAY + 60_000, dict(NYC_VERIZON, city="X", lat=10.0, lon=10.0))
    assert by_signal(run([a, same_ip]), IMPOSSIBLE_TRAVEL) == []
    later = item(T0 + 12 * DAY, BUCHAREST_HOME)  # two days later: possible
    assert by_signal(run([a, later]), IMPOSSIBLE_TRAVEL) == []


# -- first seen ----------------------------------------------------------------------------------------------


def test_first_seen_network_and_ip_after_the_learning_period():
    base = [item(T0 + d * DAY + 14 * HOUR, NYC_VERIZON) for d in range(10)]
    new_ip_same_net = item(T0 + 11 * DAY, NYC_2)
    london = [item(T0 + 12 * DAY, LONDON_BT), item(T0 + 12 * DAY + HOUR, LONDON_BT)]
    r = run(base + [new_ip_same_net] + london)
    [asn_flag] = by_signal(r, FIRST_SEEN_ASN)
    assert (asn_flag.severity, asn_flag.subject, asn_flag.event_ids) == (
        Severity.MEDIUM,
        "AS2856",
        tuple(x["id"] for x in london),
    )
    assert asn_flag.reason == (
        "first use from British Telecommunications PLC (AS2856) on 2026-06-13 00:00:00Z: 2 events; "
        "not used in the learning period 2026-06-01 14:00:00Z → 2026-06-08 14:00:00Z"
    )
    ip_flags = by_signal(r, FIRST_SEEN_IP)
    assert [(f.severity, f.subject, len(f.event_ids)) for f in ip_flags] == [
        (Severity.LOW, "198.51.100.215", 1),
        (Severity.LOW, "203.0.113.9", 2),
    ]
    assert r.baselines["first_seen"].startswith(
        "learning period 2026-06-01 14:00:00Z → 2026-06-08 14:00:00Z (first 7 days of the key's activity in the window): "
        "1 IPs, 1 networks"
    )


def test_hosting_network_severity_depends_on_the_keys_own_baseline():
    aws_routine = [item(T0 + d * DAY + 14 * HOUR, ASHBURN_AWS) for d in range(10)]
    [f] = by_signal(run(aws_routine), HOSTING_ASN)
    assert (f.severity, f.subject, len(f.event_ids)) == (Severity.INFO, "AS16509", 10)
    assert f.reason.startswith(
        "10 events from Amazon.com, Inc. (AS16509): hosting (as.type); one of the networks"
    )
    new_cloud = [item(T0 + d * DAY + 14 * HOUR, NYC_VERIZON) for d in range(10)] + [
        item(T0 + 11 * DAY, ASHBURN_AWS)
    ]
    assert [f.severity for f in by_signal(run(new_cloud), HOSTING_ASN)] == [Severity.MEDIUM]
    young = [item(T0 + HOUR, ASHBURN_AWS)]
    assert [f.severity for f in by_signal(run(young), HOSTING_ASN)] == [Severity.LOW]


def test_vpn_networks():
    [f] = by_signal(run([item(T0, BUCHAREST_VPN)]), VPN_ASN)
    assert (f.severity, f.subject) == (Severity.HIGH, "AS9009")
    assert f.details["classified_by"] == "threat_intel"
    corp = dict(BUCHAREST_VPN, tunnel=("PROXY", "ZSCALER"))
    [f] = by_signal(run([item(T0, corp, ti_category="corp_vpn")]), VPN_ASN)
    assert f.severity == Severity.INFO and "a known corporate network" in f.reason


# -- step 5, notifications, verdict ----------------------------------------------------------------------------


def _created(ts: int) -> dict:
    return item(
        ts, NYC_VERIZON, key=None, method="POST", path="/api/v2/api_keys", action="created", evt="Authentication",
        asset_type="api_key", asset_id=KEY, asset_name="ci", usr_email="marcus@example.com",
    )  # fmt: skip


def test_creation_revocation_and_leak_notification():
    note = item(
        T0 + 2 * DAY, {}, key=None, method=None, path=None, action="notification", evt="Security Notification",
        asset_type="api_key", asset_id=KEY.upper(), usr_email=None, message="API key leaked on GitHub",
        new_value={"leak_source": "github", "url": "https://github.com/x/y"},
    )  # fmt: skip
    revoked = item(
        T0 + 3 * DAY, LONDON_BT, key=None, method="DELETE", path=f"/api/v2/api_keys/{KEY}", action="deleted",
        evt="Authentication", asset_type="api_key", asset_id=KEY, usr_email="sec@example.com",
    )  # fmt: skip
    other = dict(_created(T0), id="other-key-created")
    other["attributes"]["attributes"]["asset"]["id"] = OTHER_KEY
    r = run([item(T0 + DAY, NYC_VERIZON)], related_items=[_created(T0), note, revoked, other])
    c = r.created
    assert (c.created_at, c.created_by, c.creator_ip, c.creator_country, c.source) == (
        T0,
        "marcus@example.com",
        "198.51.100.214",
        "United States",
        "audit trail",
    )
    assert [(k.action, k.actor) for k in r.key_changes] == [
        ("created", "marcus@example.com"),
        ("deleted", "sec@example.com"),
    ]
    assert r.revoked.ts == T0 + 3 * DAY
    [n] = r.notifications
    assert (n.leak_source, n.url, n.message) == (
        "github",
        "https://github.com/x/y",
        "API key leaked on GitHub",
    )
    [f] = by_signal(r, TOKEN_LEAKED)
    assert (f.severity, f.event_ids, f.subject) == (Severity.CRITICAL, (note["id"],), KEY)
    assert f.reason == (
        "Datadog Security Notification on 2026-06-03 00:00:00Z: this key was leaked, source: github; it should be revoked"
    )
    assert r.verdict == VERDICT_COMPROMISED
    assert r.recommended_actions[0] == (
        "Revoke the key immediately if not already done — already revoked on 2026-06-04 00:00:00Z by sec@example.com"
    )
    assert r.recommended_actions[3] == (
        "Audit who else had access to this key — created by marcus@example.com on 2026-06-01 00:00:00Z; "
        "used as svc@example.com; clients: python-requests/2.31.0"
    )


def test_api_key_metadata_fills_creation_and_leak():
    info = ApiKeyInfo(
        id=KEY, name="ci", last4="abcd", created_at="2026-05-01T10:00:00+00:00",
        created_by=UserRef(id="u1", email="alice@example.com"), leaked=True, leak_date="2026-06-02", leak_source="github",
    )  # fmt: skip
    r = run([item(T0, NYC_VERIZON)], api_key=info, api_key_status="found")
    assert (r.created.created_by, r.created.source, r.created.creator_ip) == (
        "alice@example.com",
        "API Keys endpoint",
        None,
    )
    [f] = by_signal(r, TOKEN_LEAKED)
    assert (
        f.reason
        == "the API Keys endpoint reports this key as leaked on 2026-06-02 (source: github); it should be revoked"
    )
    assert r.recommended_actions[3].startswith(
        "Audit who else had access to this key — key name 'ci'; created by alice"
    )


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
