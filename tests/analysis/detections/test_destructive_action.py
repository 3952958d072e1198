"""`destructive_action`: deletions paired with the requests behind them, flagged per resource type."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import BUCHAREST_VPN, DAY, MIN, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import DESTRUCTIVE  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


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
