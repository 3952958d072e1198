"""`concurrent_ips`: the key used from several IPs at once (a shared or stolen credential), graded by how
many networks, cities and user agents the IPs of one 30-minute bucket span (the §7.5 ladder)."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, asn_key, asn_label, key_param, place, ts
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import iso

CONCURRENT_IPS = "concurrent_ips"


def detect(ctx: KeyContext) -> list[Flag]:
    cfg = ctx.cfg
    size = cfg.concurrency_bucket_s * 1000
    ignore = tuple(s.lower() for s in cfg.concurrency_ignore_useragents)
    buckets: dict[int, list[Event]] = defaultdict(list)
    for e in ctx.events:
        if e.client_ip and not (ignore and e.useragent and any(s in e.useragent.lower() for s in ignore)):
            buckets[e.ts // size].append(e)
    flags = []
    for b, group in sorted(buckets.items()):
        ips = {e.client_ip for e in group}
        if len(ips) < 2:
            continue
        asns = {asn_key(e) for e in group} - {None}
        cities = {e.city for e in group} - {None}
        uas = {e.useragent for e in group} - {None}
        n_asn, n_city, n_ua = len(asns), len(cities), len(uas)
        if n_asn >= 2 and n_city >= 2 and n_ua >= 2:
            sev, cls = Severity.HIGH, "multiple_ip_network_city_user_agent"
        elif n_asn >= 2 and n_city >= 2:
            sev, cls = Severity.HIGH, "multiple_ip_network_city"
        elif n_city >= 2:
            sev, cls = Severity.MEDIUM, "multiple_ip_city"
        elif n_asn >= 2:
            sev, cls = Severity.MEDIUM, "multiple_ip_network"
        elif n_ua >= 2:
            sev, cls = Severity.LOW, "multiple_ip_user_agent"
        else:
            continue  # several IPs of one network, city and client: a NAT pool or load balancer
        start = b * size
        places = sorted({f"{e.client_ip} ({place(e)}, {asn_label(e.asn, e.asn_name)})" for e in group})
        reason = (
            f"{len(ips)} IPs, {n_asn} networks, {n_city} cities, {n_ua} user agents within 30 min from "
            f"{ts(start)}: "
            + "; ".join(places[:4])
            + (f"; +{len(places) - 4} more" if len(places) > 4 else "")
        )
        details = {
            "classification": cls,
            "ips": sorted(ips),
            "networks": n_asn,
            "cities": sorted(cities),
            "user_agents": n_ua,
        }
        flags.append(Flag(CONCURRENT_IPS, sev, reason, ctx.ids(group), iso(start), details))
    return flags


DETECTION = Detection(
    name=CONCURRENT_IPS,
    title="Key used from multiple IPs simultaneously",
    analysis="key",
    severity="per 30-minute bucket with ≥ 2 IPs: high with ≥ 2 networks and ≥ 2 cities; medium with ≥ 2 "
    "cities or ≥ 2 networks; low with ≥ 2 user agents only; none for one network, city and client",
    reference="detections.md §3.2, §7.5 (concurrent use from multiple IPs), §6.3 G3",
    params=(
        key_param("concurrency_bucket_s", "s", "bucket length"),
        key_param(
            "concurrency_ignore_useragents", "substrings", "user agents left out, e.g. terraform, pulumi"
        ),
    ),
    detect=detect,
    rank=50,
)
