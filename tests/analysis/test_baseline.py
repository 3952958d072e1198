"""Baselines (local time, hour-of-week slots, business hours, first-seen) and geography."""

from __future__ import annotations

import math

import pytest

from ddaudit_tui.analysis.baseline import (
    DAY_MS,
    HOUR_MS,
    BusinessHours,
    HourOfWeekProfile,
    LocalClock,
    describe_slots,
    first_seen,
    parse_days,
    parse_hours,
    zone,
)
from ddaudit_tui.analysis.geo import EARTH_RADIUS_KM, haversine_km, speed_kmh, valid_coordinates
from ddaudit_tui.timeutil import parse_instant

# -- geo ---------------------------------------------------------------------------------------------


def test_haversine_known_distances():
    assert EARTH_RADIUS_KM == 6371.0
    assert round(haversine_km(40.71427, -74.00597, 44.43225, 26.10626)) == 7650  # New York → Bucharest
    assert (
        round(haversine_km(51.50853, -0.12574, 48.85341, 2.3488), 1) == 343.8
    )  # London → Paris (spherical law of cosines agrees)
    assert haversine_km(10, 20, 10, 20) == 0.0
    assert round(haversine_km(0, 0, 0, 180)) == round(math.pi * 6371)  # antipodes: no math domain error


def test_speed_clamps_time():
    assert speed_kmh(900, 3_600_000) == 900.0
    assert speed_kmh(1, 0) == 1 / 0.0001  # same millisecond: Δt clamped to 0.0001 h
    assert speed_kmh(100, -3_600_000) == 100.0


def test_valid_coordinates():
    assert valid_coordinates(40.7, -74.0)
    assert not valid_coordinates(None, -74.0)
    assert not valid_coordinates(0.0, 0.0)
    assert not valid_coordinates(91.0, 0.0)
    assert not valid_coordinates(float("nan"), 1.0)


# -- local time ------------------------------------------------------------------------------------------


def test_zone_rejects_unknown_names():
    assert zone("America/New_York") is not None
    assert zone("UTC") is not None
    assert zone("Not/AZone") is None
    assert zone("../../etc/passwd") is None
    assert zone(None) is None


def test_local_clock_follows_dst_and_half_hour_zones():
    ny = LocalClock(zone("America/New_York"))
    # 2026-03-08 is the US DST switch: 06:59Z = 01:59 EST, 07:00Z = 03:00 EDT.
    before, after = ny.at(parse_instant("2026-03-08T06:59:00Z")), ny.at(parse_instant("2026-03-08T07:00:00Z"))
    assert (before.weekday, before.hour, before.minute) == (6, 1, 59)
    assert (after.weekday, after.hour, after.minute) == (6, 3, 0)
    assert after.slot == 6 * 24 + 3
    india = LocalClock(zone("Asia/Kolkata"))
    t = india.at(parse_instant("2026-06-01T03:29:00Z"))  # 08:59 IST
    assert (t.hour, t.minute) == (8, 59)
    t = india.at(parse_instant("2026-06-01T03:31:00Z"))  # 09:01 IST (the :30 offset crosses the hour)
    assert (t.hour, t.minute) == (9, 1)
    assert india.fmt(parse_instant("2026-06-01T03:31:00Z")) == "Mon 09:01"
    assert LocalClock(None).at(parse_instant("2026-06-01T03:31:00Z")).hour == 3  # UTC fallback


# -- hour-of-week profile ------------------------------------------------------------------------------------


def _profile(days_hours: list[tuple[int, int]]) -> tuple[HourOfWeekProfile, LocalClock]:
    clock = LocalClock(zone("UTC"))
    prof = HourOfWeekProfile(min_days=3, tolerance_h=1)
    monday = parse_instant("2026-06-01T00:00:00Z")
    for d, h in days_hours:
        prof.add(clock.at(monday + d * DAY_MS + h * HOUR_MS + 60_000))
    return prof, clock


def test_slots_need_three_other_days():
    # Monday 14:00 on three Mondays; Tuesday 03:00 once.
    prof, clock = _profile([(0, 14), (7, 14), (14, 14), (1, 3)])
    monday = parse_instant("2026-06-01T00:00:00Z")
    assert prof.active_slots() == [14]
    # A fourth Monday at 14:00 sees three other days: covered. One of the three sees only two others.
    assert prof.covered(clock.at(monday + 21 * DAY_MS + 14 * HOUR_MS))
    assert not prof.covered(clock.at(monday + 14 * DAY_MS + 14 * HOUR_MS + 60_000))
    # ±1 h tolerance: Monday 15:00 and 13:00 are covered, 16:00 is not; Tuesday 14:00 is not.
    assert prof.covered(clock.at(monday + 28 * DAY_MS + 15 * HOUR_MS))
    assert prof.covered(clock.at(monday + 28 * DAY_MS + 13 * HOUR_MS))
    assert not prof.covered(clock.at(monday + 28 * DAY_MS + 16 * HOUR_MS))
    assert not prof.covered(clock.at(monday + 29 * DAY_MS + 14 * HOUR_MS))
    assert not prof.covered(clock.at(monday + 8 * DAY_MS + 3 * HOUR_MS))


def test_describe_slots_merges_days():
    weekdays_afternoon = [d * 24 + h for d in range(5) for h in range(13, 18)]
    assert describe_slots(weekdays_afternoon) == "Mon–Fri 13:00–18:00"
    assert (
        describe_slots([9, 10, 14, 24 + 9, 6 * 24 + 23])
        == "Mon 09:00–11:00, 14:00–15:00; Tue 09:00–10:00; Sun 23:00–24:00"
    )
    assert describe_slots([]) == "no regular hours"


# -- business hours ------------------------------------------------------------------------------------------


def test_parse_hours_and_days():
    assert parse_hours("09:00-18:00") == (540, 1080)
    assert parse_hours("9-17") == (540, 1020)
    assert parse_hours("22:00–06:00") == (1320, 360)
    assert parse_days("mon-fri") == frozenset({0, 1, 2, 3, 4})
    assert parse_days("sun-thu") == frozenset({6, 0, 1, 2, 3})
    assert parse_days("Monday, wed,FRI") == frozenset({0, 2, 4})
    assert parse_days(["sat", "sun"]) == frozenset({5, 6})
    for bad in ("9am-5pm", "25:00-26:00", "09:00-09:00", ""):
        with pytest.raises(ValueError):
            parse_hours(bad)
    with pytest.raises(ValueError, match="invalid business days"):
        parse_days("funday")


def test_business_hours_contains_and_overnight():
    clock = LocalClock(zone("UTC"))
    monday = parse_instant("2026-06-01T00:00:00Z")
    bh = BusinessHours(540, 1080)
    assert bh.describe() == "Mon–Fri 09:00–18:00"
    assert bh.contains(clock.at(monday + 9 * HOUR_MS))
    assert not bh.contains(clock.at(monday + 18 * HOUR_MS))
    assert not bh.contains(clock.at(monday + 5 * DAY_MS + 10 * HOUR_MS))  # Saturday
    night = BusinessHours(1320, 360, frozenset(range(7)))
    assert night.contains(clock.at(monday + 23 * HOUR_MS)) and night.contains(clock.at(monday + 2 * HOUR_MS))
    assert not night.contains(clock.at(monday + 12 * HOUR_MS))


# -- first seen ----------------------------------------------------------------------------------------------


def test_first_seen_after_learning_and_forgetting():
    items = [
        (0, "a", "e1"),
        (1 * DAY_MS, "b", "e2"),
        (8 * DAY_MS, "a", "e3"),
        (9 * DAY_MS, "c", "e4"),  # new after the 7-day learning period
        (10 * DAY_MS, "c", "e5"),
        (40 * DAY_MS, "b", "e6"),  # b unused for 39 days > 28: new again
        (41 * DAY_MS, None, "e7"),  # no value: skipped
    ]
    r = first_seen(items, learning_ms=7 * DAY_MS, forget_ms=28 * DAY_MS)
    assert r.evaluated and (r.learning_start, r.learning_end) == (0, 7 * DAY_MS)
    assert r.known == {"a", "b"}
    assert [(n.value, n.first_ts, n.event_ids, n.count, n.returned_after_ms) for n in r.new] == [
        ("c", 9 * DAY_MS, ["e4", "e5"], 2, None),
        ("b", 40 * DAY_MS, ["e6"], 1, 39 * DAY_MS),
    ]


def test_first_seen_needs_history_longer_than_learning():
    r = first_seen([(0, "a", "e1"), (3 * DAY_MS, "b", "e2")], learning_ms=7 * DAY_MS)
    assert not r.evaluated and r.new == [] and r.known == {"a", "b"}
    assert first_seen([]).learning_start is None
