"""`concurrent_ips`: the §7.5 ladder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import DAY, LONDON_BT, MIN, NYC_2, NYC_VERIZON, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import CONCURRENT_IPS  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402
from ddaudit_tui.timeutil import iso  # noqa: E402

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
