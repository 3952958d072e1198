"""Behavioural baselines shared by the analyses: local time, hour-of-week activity, business hours and
first-seen values.

References: `detections.md` §7.4 (off-hours: hour-of-week slots active on ≥ 3 distinct days, Panther's
Okta behavioural rule) and §7.2 (first-seen / new-value: learning period 7 days, forget after 28 days).
Everything here is plain data in, plain data out; no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
WEEKDAYS = frozenset(range(5))

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


# -- time zones and local time ---------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo | None:
    """An IANA zone by name, or None when unknown (event data is not trusted to name a real zone)."""
    if not name:
        return None
    if name.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError on odd names, no tz database
        return None


@dataclass(frozen=True)
class LocalTime:
    weekday: int  # 0 = Monday
    hour: int
    minute: int
    day: int  # proleptic ordinal of the local date (distinct-day counting)

    @property
    def slot(self) -> int:
        """Hour of week, 0 … 167 (Monday 00:00 = 0), as in Panther's `DAYOFWEEK*24 + HOUR`."""
        return self.weekday * 24 + self.hour


class LocalClock:
    """Epoch ms → local weekday/hour/date in one zone, cached per 15 minutes.

    Converting every event with `datetime.fromtimestamp(tz)` costs microseconds each; a key with 100k
    events reuses the same few thousand quarter-hours. Quarter-hours keep zones with :30 and :45 offsets
    exact (every offset and DST change falls on a quarter-hour boundary).
    """

    _QUARTER = 15 * MINUTE_MS

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz or UTC
        self._cache: dict[int, tuple[int, int, int, int]] = {}

    def at(self, ts_ms: int) -> LocalTime:
        q = ts_ms // self._QUARTER
        hit = self._cache.get(q)
        if hit is None:
            dt = datetime.fromtimestamp(q * self._QUARTER / 1000, self.tz)
            hit = (dt.weekday(), dt.hour, dt.minute, dt.toordinal())
            self._cache[q] = hit
        weekday, hour, minute, day = hit
        return LocalTime(weekday, hour, minute + (ts_ms % self._QUARTER) // MINUTE_MS, day)

    def fmt(self, ts_ms: int) -> str:
        """`Tue 03:04` in this zone (for reasons)."""
        t = self.at(ts_ms)
        return f"{DAY_NAMES[t.weekday]} {t.hour:02d}:{t.minute:02d}"


# -- hour-of-week activity ---------------------------------------------------------------------------


@dataclass
class HourOfWeekProfile:
    """Which hour-of-week slots an entity is active in, counted in distinct local days.

    `covered(slot, day)` asks whether the slot is part of the entity's normal hours *without* the day
    being evaluated (leave-one-day-out: an attacker's single night at 03:00 cannot make 03:00 normal,
    and three such nights still each see only two other days). `tolerance_h` also accepts the
    neighbouring hours of the same day, so one sparse slot inside a regular block (a job that happened
    to skip a few 15:00 runs) does not turn ordinary activity into an "off-hours" finding.
    """

    min_days: int = 3
    tolerance_h: int = 1
    days_by_slot: dict[int, set[int]] = field(default_factory=dict)
    all_days: set[int] = field(default_factory=set)
    events: int = 0

    def add(self, t: LocalTime) -> None:
        self.days_by_slot.setdefault(t.slot, set()).add(t.day)
        self.all_days.add(t.day)
        self.events += 1

    def active(self, slot: int, exclude_day: int | None = None) -> bool:
        days = self.days_by_slot.get(slot % 168)
        if not days:
            return False
        n = len(days) - (1 if exclude_day is not None and exclude_day in days else 0)
        return n >= self.min_days

    def covered(self, t: LocalTime) -> bool:
        """Whether local time `t` falls in the entity's normal hours, judged from the other days."""
        for delta in range(-self.tolerance_h, self.tolerance_h + 1):
            hour = t.hour + delta
            if 0 <= hour < 24 and self.active(t.weekday * 24 + hour, exclude_day=t.day):
                return True
        return False

    def active_slots(self) -> list[int]:
        return sorted(s for s in self.days_by_slot if self.active(s))

    def describe(self) -> str:
        return describe_slots(self.active_slots())


def describe_slots(slots: Iterable[int]) -> str:
    """Hour-of-week slots → `Mon–Fri 13:00–18:00`, or `Mon 09:00–10:00, 14:00–16:00; Tue …`."""
    by_day: dict[int, list[int]] = {}
    for s in sorted(set(slots)):
        by_day.setdefault(s // 24, []).append(s % 24)
    if not by_day:
        return "no regular hours"
    ranges: dict[int, str] = {}
    for day, hours in by_day.items():
        parts: list[str] = []
        start = prev = hours[0]
        for h in [*hours[1:], None]:
            if h is not None and h == prev + 1:
                prev = h
                continue
            parts.append(f"{start:02d}:00–{prev + 1:02d}:00")
            if h is not None:
                start = prev = h
        ranges[day] = ", ".join(parts)
    # Merge consecutive days with identical hours: "Mon–Fri 13:00–18:00".
    out: list[str] = []
    days = sorted(ranges)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and ranges[days[j + 1]] == ranges[days[i]]:
            j += 1
        label = DAY_NAMES[days[i]] if i == j else f"{DAY_NAMES[days[i]]}–{DAY_NAMES[days[j]]}"
        out.append(f"{label} {ranges[days[i]]}")
        i = j + 1
    return "; ".join(out)


# -- configured business hours -----------------------------------------------------------------------

_HOURS = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class BusinessHours:
    """Configured office hours: [start, end) minutes after local midnight on the given weekdays."""

    start_min: int
    end_min: int
    days: frozenset[int] = WEEKDAYS
    timezone: str | None = None  # None: evaluate in the entity's own home zone

    def contains(self, t: LocalTime) -> bool:
        if t.weekday not in self.days:
            return False
        minute = t.hour * 60 + t.minute
        if self.start_min <= self.end_min:
            return self.start_min <= minute < self.end_min
        return minute >= self.start_min or minute < self.end_min  # overnight shift, e.g. 22:00-06:00

    def describe(self) -> str:
        def hm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        days = describe_days(self.days)
        return f"{days} {hm(self.start_min)}–{hm(self.end_min)}"


def parse_hours(text: str) -> tuple[int, int]:
    """`09:00-18:00` / `9-18` → (540, 1080). Raises ValueError with a readable message."""
    m = _HOURS.match(text or "")
    if not m:
        raise ValueError(f"invalid business hours {text!r}: expected e.g. 09:00-18:00")
    h1, m1, h2, m2 = int(m.group(1)), int(m.group(2) or 0), int(m.group(3)), int(m.group(4) or 0)
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ValueError(f"invalid business hours {text!r}: hours are 0-24, minutes 0-59")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"invalid business hours {text!r}: start and end are the same")
    return start, end


def parse_days(text: str | Iterable[str]) -> frozenset[int]:
    """`mon-fri`, `mon,tue,sat`, `sun-thu` or a list of day names → weekday numbers (0 = Monday)."""
    items = [text] if isinstance(text, str) else list(text)
    days: set[int] = set()
    for item in items:
        for part in str(item).split(","):
            part = part.strip().lower()
            if not part:
                continue
            lo, sep, hi = part.partition("-")
            try:
                a = _DAY_INDEX[lo.strip()[:3]]
                b = _DAY_INDEX[hi.strip()[:3]] if sep else a
            except KeyError:
                raise ValueError(
                    f"invalid business days {part!r}: expected e.g. mon-fri or mon,wed,fri"
                ) from None
            d = a
            while True:  # ranges may wrap around the week (sun-thu)
                days.add(d)
                if d == b:
                    break
                d = (d + 1) % 7
    if not days:
        raise ValueError("invalid business days: none given")
    return frozenset(days)


def describe_days(days: Iterable[int]) -> str:
    ds = sorted(set(days))
    if ds == list(range(ds[0], ds[-1] + 1)) and len(ds) > 1:
        return f"{DAY_NAMES[ds[0]]}–{DAY_NAMES[ds[-1]]}"
    return ",".join(DAY_NAMES[d] for d in ds)


# -- first-seen values -------------------------------------------------------------------------------


@dataclass
class NewValue:
    """A value first seen (or seen again after being forgotten) after the learning period."""

    value: object
    first_ts: int
    event_ids: list[str] = field(default_factory=list)
    count: int = 0
    returned_after_ms: int | None = None  # set when the value had been forgotten, not never seen


@dataclass
class FirstSeenResult:
    learning_start: int | None
    learning_end: int | None
    known: set = field(default_factory=set)  # values seen during the learning period
    new: list[NewValue] = field(default_factory=list)
    evaluated: bool = False  # False: not enough history to learn from (no finding is possible)


def first_seen(
    items: Iterable[tuple[int, object, str]],
    learning_ms: int = 7 * DAY_MS,
    forget_ms: int | None = 28 * DAY_MS,
    start_ms: int | None = None,
) -> FirstSeenResult:
    """New values after a learning period (`detections.md` §7.2).

    `items` = (ts, value, event_id), in any order; None values are skipped. The learning period is
    [start, start + learning_ms) with start = `start_ms` or the first item's time; values seen in it are
    the baseline. After it, a value never seen before — or not seen for `forget_ms` — is reported once,
    with every event of that value from its (re)appearance on. Nothing is reported when the history ends
    before the learning period does (an entity younger than its learning period cannot have "new" values).
    """
    rows = sorted((ts, eid, v) for ts, v, eid in items if v is not None)
    if not rows:
        return FirstSeenResult(None, None)
    start = rows[0][0] if start_ms is None else start_ms
    end = start + learning_ms
    result = FirstSeenResult(start, end)
    if rows[-1][0] < end:
        result.known = {v for _, _, v in rows}
        return result
    result.evaluated = True
    last_seen: dict[object, int] = {}
    current: dict[object, NewValue] = {}
    for ts, eid, v in rows:
        prev = last_seen.get(v)
        if ts < end:
            result.known.add(v)
        elif prev is None or (forget_ms is not None and ts - prev > forget_ms):
            nv = NewValue(v, ts, returned_after_ms=None if prev is None else ts - prev)
            result.new.append(nv)
            current[v] = nv
        if v in current and ts >= end:
            current[v].event_ids.append(eid)
            current[v].count += 1
        last_seen[v] = ts
    return result
