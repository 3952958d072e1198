"""`first_seen_ip`: first use from an IP after the learning period (the scenario of `first_seen_asn`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import by_signal  # noqa: E402
from test_first_seen_asn import _scenario  # noqa: E402

from ddaudit_tui.analysis.keys import FIRST_SEEN_IP  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_first_seen_ip_after_the_learning_period():
    _london, r = _scenario()
    ip_flags = by_signal(r, FIRST_SEEN_IP)
    assert [(f.severity, f.subject, len(f.event_ids)) for f in ip_flags] == [
        (Severity.LOW, "198.51.100.215", 1),
        (Severity.LOW, "203.0.113.9", 2),
    ]
    assert r.baselines["first_seen"].startswith(
        "learning period 2026-06-01 14:00:00Z → 2026-06-08 14:00:00Z (first 7 days of the key's activity in the window): "
        "1 IPs, 1 networks"
    )
