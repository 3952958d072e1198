"""`impossible_travel`: consecutive uses of the key too far apart for the time between them (eyeball
networks only; a VPN/proxy/hosting end is context, not a location)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ddaudit_tui.analysis.asn import OriginClass
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, key_param, place, ts
from ddaudit_tui.analysis.geo import haversine_km, speed_kmh, valid_coordinates
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import human_duration

IMPOSSIBLE_TRAVEL = "impossible_travel"


class Hop(NamedTuple):
    severity: Severity
    km: float
    kmh: float


def judge(cfg: Any, last: Event, e: Event, non_eyeball: bool, at: int | None = None) -> Hop | None:
    """The flag one hop from the baseline `last` to `e` raises, or None. `at` is the time of `e` (its own by
    default): the aggregate engine asks when a run of events at one place stops being flagged."""
    same_net = e.asn is not None and e.asn == last.asn
    if e.client_ip == last.client_ip or same_net:
        return None
    km = haversine_km(last.lat, last.lon, e.lat, e.lon)  # type: ignore[arg-type]
    dt = (e.ts if at is None else at) - last.ts
    kmh = speed_kmh(km, dt)
    if non_eyeball:
        # A VPN/proxy/hosting end says nothing about where the holder really is: context only,
        # and the baseline location stays where it was.
        if km >= cfg.travel_min_km and kmh >= cfg.travel_min_kmh:
            return Hop(Severity.INFO, km, kmh)
    elif kmh >= cfg.travel_min_kmh:
        if km >= cfg.travel_min_km:
            return Hop(Severity.HIGH, km, kmh)
        if km < cfg.jitter_km and dt < cfg.jitter_s * 1000:
            return Hop(Severity.LOW, km, kmh)  # likely GeoIP inaccuracy
    return None


def travel(
    events: Iterable[Event],
    classes: Mapping[str, OriginClass],
    cfg: Any,
    hops: Callable[[Event, Event], int] | None = None,
) -> list[Flag]:
    """The sequence judged in order (oldest first). `hops(last, e)`: how many flagged hops `e` stands for
    (1 by default; the aggregate engine's stand-in for a run of events at one place stands for several)."""
    last: Event | None = None  # the last use from an eyeball network: the baseline location (Panther)
    found: dict[tuple[str | None, str | None], list[Any]] = {}
    for e in events:
        if not valid_coordinates(e.lat, e.lon):
            continue
        cls = classes[e.id]
        if last is not None and e.ts - last.ts > cfg.travel_history_s * 1000:
            last = None  # a location older than the history window is no baseline (synapse-waf: 24 h)
        if last is None:
            if not cls.non_eyeball:
                last = e
            continue
        hop = judge(cfg, last, e, cls.non_eyeball)
        if hop is not None:
            n = 1 if hops is None else hops(last, e)
            pair = (last.client_ip, e.client_ip)
            if pair in found:
                found[pair][4] += n
            else:
                found[pair] = [last, e, hop.km, hop.kmh, n, hop.severity, cls]
        if not cls.non_eyeball:
            last = e
    flags = []
    for (a_ip, b_ip), (a, b, km, kmh, n, sev, cls) in found.items():
        note = f" ({cls.label} at the far end: not a location)" if sev == Severity.INFO else ""
        note = " (likely GeoIP inaccuracy)" if sev == Severity.LOW else note
        again = f"; {n} such hops" if n > 1 else ""
        reason = (
            f"{place(a)} ({a_ip}) at {ts(a.ts)} → {place(b)} ({b_ip}) at {ts(b.ts)}: "
            f"{km:,.0f} km in {human_duration(b.ts - a.ts)} = {kmh:,.0f} km/h{note}{again}"
        )
        details = {"km": round(km, 1), "kmh": round(kmh, 1), "seconds": (b.ts - a.ts) // 1000, "hops": n}
        flags.append(Flag(IMPOSSIBLE_TRAVEL, sev, reason, (a.id, b.id), f"{a_ip} → {b_ip}", details))
    return flags


def detect(ctx: KeyContext) -> list[Flag]:
    if ctx.travel is not None:  # past the budget: the location changes DDSQL found (key_engine.travel_rows)
        return travel(ctx.travel.events, ctx.travel.classes, ctx.cfg, ctx.travel.hops)
    return travel(ctx.events, ctx.classes, ctx.cfg)


DETECTION = Detection(
    name=IMPOSSIBLE_TRAVEL,
    title="Impossible travel between consecutive uses",
    analysis="key",
    severity="high at ≥ travel_min_km and ≥ travel_min_kmh; low for GeoIP jitter (< jitter_km in < jitter_s); "
    "info when a VPN/proxy/hosting end is involved",
    reference="detections.md §7.3 (impossible travel), §6.3 F2",
    params=(
        key_param("travel_min_km", "km", "minimum distance"),
        key_param("travel_min_kmh", "km/h", "minimum speed"),
        key_param("jitter_km", "km", "closer than this, quickly, is GeoIP inaccuracy"),
        key_param("jitter_s", "s", "… within this time"),
        key_param("travel_history_s", "s", "an older location is no baseline"),
    ),
    detect=detect,
    rank=40,
)
