"""`hosting_asn`: severity from the key's own network baseline."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import ASHBURN_AWS, DAY, HOUR, NYC_VERIZON, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import HOSTING_ASN  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


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
