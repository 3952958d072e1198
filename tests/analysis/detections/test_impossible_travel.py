"""`impossible_travel`: eyeball networks only; VPN ends are context; GeoIP jitter is low."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import (  # noqa: E402
    BUCHAREST_HOME,
    BUCHAREST_VPN,
    DAY,
    MIN,
    NEWARK_VERIZON,
    NYC_VERIZON,
    T0,
    by_signal,
    item,
    run,
)

from ddaudit_tui.analysis.keys import IMPOSSIBLE_TRAVEL  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


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
