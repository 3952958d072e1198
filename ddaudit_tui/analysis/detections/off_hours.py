"""`off_hours`: activity outside business hours — configured ones, or the hours the key is normally used
(hour-of-week slots learned from its own history, in its home time zone)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from ddaudit_tui.analysis.asn import OriginClass
from ddaudit_tui.analysis.baseline import DAY_MS, HourOfWeekProfile, LocalClock, zone
from ddaudit_tui.analysis.detections import Detection, Param
from ddaudit_tui.analysis.detections.key_context import KeyContext, events_text, key_param, ts
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event

OFF_HOURS = "off_hours"


def detect(ctx: KeyContext) -> list[Flag]:
    flags, ctx.hours_description = _off_hours(ctx)
    return flags


def _off_hours(ctx: KeyContext) -> tuple[list[Flag], str]:
    cfg, evs = ctx.cfg, ctx.events
    new_countries = {o.country for o in ctx.origins if o.status == "new"}
    if not evs:
        return [], "not evaluated (no events)"
    bh = cfg.business_hours
    agg = ctx.hour_counts  # past the page budget: the history from DDSQL counts, `evs` holds the off ones
    home = zone_of_days(agg[1]) if agg is not None else _home_zone(evs, ctx.classes)
    tz_name = (bh.timezone if bh else None) or home
    tz = zone(tz_name)
    if tz is None:
        tz_name = "UTC"
    clock = LocalClock(tz)
    local = [clock.at(e.ts) for e in evs]
    off: list[int] = []
    if bh is not None:
        desc = f"configured business hours {bh.describe()} ({tz_name})"
        off = [i for i, t in enumerate(local) if not bh.contains(t)]
    else:
        counted = agg[0].items() if agg is not None else ((e.ts, 1) for e in evs)
        prof, per_day = learn_hours(cfg, clock, counted)
        n_days, n_events = len(prof.all_days), prof.events
        if n_days - 1 < cfg.offhours_min_history_days or n_events < cfg.offhours_min_history_events:
            return [], (
                f"not evaluated: {n_days} active days and {n_events} events of history "
                f"(need {cfg.offhours_min_history_days + 1} days and {cfg.offhours_min_history_events} events); "
                "set business hours in the config to judge new keys"
            )
        desc = (
            f"learned from the key's own history ({n_days} active days) in {tz_name}: hour-of-week slots active "
            f"on ≥ {cfg.offhours_slot_days} days, ± {cfg.offhours_tolerance_h} h — {prof.describe()}"
        )
        for i, t in enumerate(local):
            if n_events - per_day[t.day] < cfg.offhours_min_history_events:
                continue  # without this day there is too little history to judge it
            if not prof.covered(t):
                off.append(i)
    by_day: dict[int, list[int]] = defaultdict(list)
    for i in off:
        by_day[local[i].day].append(i)
    flags = []
    for day, idx in sorted(by_day.items()):
        group = [evs[i] for i in idx]
        geo_shift = any(e.country in new_countries for e in group)
        anonymised = any(ctx.classes[e.id].anonymising for e in group)
        sev = Severity.HIGH if geo_shift or anonymised else Severity.MEDIUM
        first, last = group[0], group[-1]
        why = " with a first-time country" if geo_shift else (" through a VPN/proxy" if anonymised else "")
        reason = (
            f"{events_text(len(group))} on {clock.fmt(first.ts)}–{clock.fmt(last.ts)[4:]} {tz_name} "
            f"({ts(first.ts)} → {ts(last.ts)}){why}, outside "
            + (f"business hours {bh.describe()}" if bh else "the hours this key is normally used")
        )
        details = {
            "timezone": tz_name,
            "events": len(group),
            "local_start": clock.fmt(first.ts),
            "local_end": clock.fmt(last.ts),
        }
        flags.append(Flag(OFF_HOURS, sev, reason, ctx.ids(group), date.fromordinal(day).isoformat(), details))
    return flags, desc


def _home_zone(evs: list[Event], classes: dict[str, OriginClass]) -> str | None:
    """The key's home time zone: the geoip zone with the most distinct active days (not events, so a
    one-night burst from elsewhere cannot outvote weeks of routine use)."""
    days: dict[str, set[int]] = defaultdict(set)
    for e in evs:
        if e.geo_timezone and not classes[e.id].anonymising:
            days[e.geo_timezone].add(e.ts // DAY_MS)
    return zone_of_days(days)


def zone_of_days(days: dict[str, set[int]]) -> str | None:
    """The zone with the most distinct UTC days (zone → days of use from a non-anonymising network)."""
    if not days:
        return None
    return max(sorted(days), key=lambda z: len(days[z]))


def learn_hours(
    cfg: Any, clock: LocalClock, counted: Iterable[tuple[int, int]]
) -> tuple[HourOfWeekProfile, Counter[int]]:
    """The hour-of-week profile and the events per local day, from (time, events) pairs: one per event,
    or one per DDSQL bucket (a bucket inside one local quarter-hour has one local slot and day)."""
    prof = HourOfWeekProfile(min_days=cfg.offhours_slot_days, tolerance_h=cfg.offhours_tolerance_h)
    per_day: Counter[int] = Counter()
    for ts_ms, n in counted:
        t = clock.at(ts_ms)
        prof.days_by_slot.setdefault(t.slot, set()).add(t.day)
        prof.all_days.add(t.day)
        prof.events += n
        per_day[t.day] += n
    return prof, per_day


def off_bucket_starts(
    cfg: Any, counts: dict[int, int], days: dict[str, set[int]], bucket_ms: int
) -> list[int]:
    """Past the page budget: the buckets (start ms → events, each inside one quarter-hour) whose events
    this detection would flag, judged from the counts as `detect` judges the events; their events are
    fetched whole, so the flags are exact."""
    bh = cfg.business_hours
    tz = zone((bh.timezone if bh else None) or zone_of_days(days))
    clock = LocalClock(tz)
    if bh is not None:  # business hours may end mid-bucket: each minute of it is judged
        return sorted(
            b for b in counts if any(not bh.contains(clock.at(m)) for m in range(b, b + bucket_ms, 60_000))
        )
    prof, per_day = learn_hours(cfg, clock, counts.items())
    n_days, n_events = len(prof.all_days), prof.events
    if n_days - 1 < cfg.offhours_min_history_days or n_events < cfg.offhours_min_history_events:
        return []
    out = []
    for b in sorted(counts):
        t = clock.at(b)
        if n_events - per_day[t.day] >= cfg.offhours_min_history_events and not prof.covered(t):
            out.append(b)
    return out


DETECTION = Detection(
    name=OFF_HOURS,
    title="Activity outside business hours",
    analysis="key",
    severity="medium; high with a first-time country or an anonymising network (VPN/proxy) the same day",
    reference="detections.md §3.2, §7.4 (off-hours activity)",
    params=(
        key_param(
            "business_hours",
            "HH:MM-HH:MM",
            "configured hours replace the learned ones (days: config business_days / --business-days)",
            "config business_hours / key --business-hours",
        ),
        Param(
            "business_timezone",
            None,
            "IANA zone",
            "config business_timezone / key --business-timezone",
            "zone of the business hours; default: the key's home zone from GeoIP",
        ),
        key_param(
            "offhours_slot_days", "days", "an hour-of-week slot is usual when active on this many days"
        ),
        key_param("offhours_tolerance_h", "h", "tolerance around usual slots"),
        key_param(
            "offhours_min_history_days",
            "days",
            "learned hours need this many active days besides the one judged",
        ),
        key_param("offhours_min_history_events", "events", "… and this many events"),
    ),
    detect=detect,
    rank=80,
)
