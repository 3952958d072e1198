"""`impossible_travel`: consecutive uses of the key too far apart for the time between them (eyeball
networks only; a VPN/proxy/hosting end is context, not a location)."""

from __future__ import annotations

from typing import Any

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, key_param, place, ts
from ddaudit_tui.analysis.geo import haversine_km, speed_kmh, valid_coordinates
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import human_duration

IMPOSSIBLE_TRAVEL = "impossible_travel"


def detect(ctx: KeyContext) -> list[Flag]:
    cfg = ctx.cfg
    last: Event | None = None  # the last use from an eyeball network: the baseline location (Panther)
    found: dict[tuple[str | None, str | None], list[Any]] = {}
    for e in ctx.events:
        if not valid_coordinates(e.lat, e.lon):
            continue
        cls = ctx.classes[e.id]
        if last is not None and e.ts - last.ts > cfg.travel_history_s * 1000:
            last = None  # a location older than the history window is no baseline (synapse-waf: 24 h)
        if last is None:
            if not cls.non_eyeball:
                last = e
            continue
        same_net = e.asn is not None and e.asn == last.asn
        if e.client_ip == last.client_ip or same_net:
            if not cls.non_eyeball:
                last = e
            continue
        km = haversine_km(last.lat, last.lon, e.lat, e.lon)  # type: ignore[arg-type]
        dt = e.ts - last.ts
        kmh = speed_kmh(km, dt)
        sev: Severity | None = None
        if cls.non_eyeball:
            # A VPN/proxy/hosting end says nothing about where the holder really is: context only,
            # and the baseline location stays where it was.
            if km >= cfg.travel_min_km and kmh >= cfg.travel_min_kmh:
                sev = Severity.INFO
        elif kmh >= cfg.travel_min_kmh:
            if km >= cfg.travel_min_km:
                sev = Severity.HIGH
            elif km < cfg.jitter_km and dt < cfg.jitter_s * 1000:
                sev = Severity.LOW  # likely GeoIP inaccuracy
        if sev is not None:
            pair = (last.client_ip, e.client_ip)
            if pair in found:
                found[pair][4] += 1
            else:
                found[pair] = [last, e, km, kmh, 1, sev, cls]
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
