"""Time ranges resolve to absolute UTC instants once; display always shows the zone."""

from __future__ import annotations

import pytest

from ddaudit_tui.timeutil import (
    TimeParseError,
    Window,
    fmt_ts,
    iso,
    parse_duration,
    parse_instant,
    resolve_window,
)

NOW = 1_785_525_798.758  # 2026-07-31T19:23:18.758Z


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("now", 1_785_525_798_758),
        ("90d", 1_785_525_798_758 - 90 * 86_400_000),
        ("15m", 1_785_525_798_758 - 15 * 60_000),
        ("now-2h", 1_785_525_798_758 - 2 * 3_600_000),
        ("now - 30 minutes", 1_785_525_798_758 - 30 * 60_000),
        ("-1w", 1_785_525_798_758 - 7 * 86_400_000),
        ("now+1h", 1_785_525_798_758 + 3_600_000),
        ("2026-07-31T19:23:18.758Z", 1_785_525_798_758),
        ("2026-07-31T21:23:18.758+02:00", 1_785_525_798_758),
        ("2026-07-31T19:23:18", 1_785_525_798_000),  # no zone: UTC
        ("2026-07-31", 1_785_456_000_000),
        ("1785525798758", 1_785_525_798_758),  # epoch ms
        ("1785525798", 1_785_525_798_000),  # epoch s
    ],
)
def test_parse_instant(text, expected_ms):
    assert parse_instant(text, now=NOW) == expected_ms


@pytest.mark.parametrize("bad", ["", "yesterday", "90x", "now-", "2026-13-01", "1.5h"])
def test_parse_instant_rejects_with_the_value_named(bad):
    with pytest.raises(TimeParseError) as info:
        parse_instant(bad, now=NOW)
    assert repr(bad.strip()) in str(info.value) or "empty" in str(info.value)


def test_resolve_window_is_absolute_and_ordered():
    w = resolve_window("90d", "now", now=NOW)
    assert w.end - w.start == 90 * 86_400_000
    assert w.api_from().endswith("Z") and w.api_to() == "2026-07-31T19:23:18.758Z"
    with pytest.raises(TimeParseError, match="ends .* before it starts"):
        resolve_window("now", "2d", now=NOW)


def test_split_covers_window_exactly_without_overlap():
    w = Window(1000, 1_000_000_007)
    parts = w.split(7)
    assert len(parts) == 7
    assert parts[0].start == w.start and parts[-1].end == w.end
    assert all(a.end == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert Window(0, 3).split(10) == [Window(0, 1), Window(1, 2), Window(2, 3)]


def test_display_shows_zone():
    assert iso(1_785_525_798_758) == "2026-07-31T19:23:18.758Z"
    assert fmt_ts(1_785_525_798_758) == "2026-07-31 19:23:18Z"
    assert fmt_ts(1_785_525_798_758, seconds=False) == "2026-07-31 19:23Z"


def test_local_display_honours_tz(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert fmt_ts(1_785_525_798_758, local=True) == "2026-08-01 00:53:18+05:30"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_parse_duration():
    assert parse_duration("15m") == 900
    assert parse_duration("5 minutes") == 300
    with pytest.raises(TimeParseError):
        parse_duration("soon")
