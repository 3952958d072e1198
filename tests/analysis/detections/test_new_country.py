"""`new_country`: a country not in the org's baseline (allowlist and/or learned)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import BUCHAREST_HOME, LONDON_BT, MIN, NYC_VERIZON, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import NEW_COUNTRY, CountryBaseline  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


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
