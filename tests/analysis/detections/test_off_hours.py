"""`off_hours`: learned hours in the key's home zone, or configured business hours."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import (  # noqa: E402
    ASHBURN_AWS,
    BUCHAREST_HOME,
    DAY,
    HOUR,
    NYC_VERIZON,
    T0,
    by_signal,
    item,
    run,
    weekday_runs,
)

from ddaudit_tui.analysis.baseline import BusinessHours, parse_days  # noqa: E402
from ddaudit_tui.analysis.keys import (  # noqa: E402
    HOSTING_ASN,
    OFF_HOURS,
    VERDICT_SUSPICIOUS,
    CountryBaseline,
    KeyAnalysisConfig,
)
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


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
