"""`first_seen_asn`: first use after the learning period."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import DAY, HOUR, LONDON_BT, NYC_2, NYC_VERIZON, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import FIRST_SEEN_ASN  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def _scenario():
    """Ten days from one network, then a new IP on it and two uses from a new network."""
    base = [item(T0 + d * DAY + 14 * HOUR, NYC_VERIZON) for d in range(10)]
    new_ip_same_net = item(T0 + 11 * DAY, NYC_2)
    london = [item(T0 + 12 * DAY, LONDON_BT), item(T0 + 12 * DAY + HOUR, LONDON_BT)]
    return london, run(base + [new_ip_same_net] + london)


def test_first_seen_network_after_the_learning_period():
    london, r = _scenario()
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
