"""`vpn_asn`: VPN and proxy networks; a known corporate VPN is context."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import BUCHAREST_VPN, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import VPN_ASN  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_vpn_networks():
    [f] = by_signal(run([item(T0, BUCHAREST_VPN)]), VPN_ASN)
    assert (f.severity, f.subject) == (Severity.HIGH, "AS9009")
    assert f.details["classified_by"] == "threat_intel"
    corp = dict(BUCHAREST_VPN, tunnel=("PROXY", "ZSCALER"))
    [f] = by_signal(run([item(T0, corp, ti_category="corp_vpn")]), VPN_ASN)
    assert f.severity == Severity.INFO and "a known corporate network" in f.reason
