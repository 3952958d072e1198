"""`burst`: relative to the key's own rate and absolute."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from keys_synthetic import ASHBURN_AWS, DAY, HOUR, MIN, NYC_VERIZON, T0, by_signal, item, run  # noqa: E402

from ddaudit_tui.analysis.keys import BURST  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402
from ddaudit_tui.timeutil import iso  # noqa: E402


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
