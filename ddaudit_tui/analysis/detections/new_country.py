"""`new_country`: the key was used from a country that is not in the org's normal baseline (a configured
allowlist and/or the countries the org is reached from outside this key)."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection, Param
from ddaudit_tui.analysis.detections.key_context import KeyContext, asn_label, events_text, ts
from ddaudit_tui.analysis.signals import Flag, Severity

NEW_COUNTRY = "new_country"


def detect(ctx: KeyContext) -> list[Flag]:
    flags = []
    for o in ctx.origins:
        if o.status != "new":
            continue
        evs = [e for e in ctx.events if e.country == o.country]
        name = o.country or o.country_iso or "?"
        iso_txt = f" ({o.country_iso})" if o.country_iso and o.country_iso != name else ""
        nets = ", ".join(asn_label(n.asn, n.asn_name) for n in o.networks[:3])
        reason = (
            f"first use from {name}{iso_txt}: {events_text(o.count)} {ts(o.first_seen)} → {ts(o.last_seen)} "
            f"via {nets}; not in the org baseline ({ctx.country_baseline.mode})"
        )
        details = {"country": o.country, "country_iso": o.country_iso, "events": o.count, "ips": list(o.ips)}
        flags.append(
            Flag(NEW_COUNTRY, Severity.HIGH, reason, ctx.ids(evs), o.country_iso or o.country, details)
        )
    return flags


DETECTION = Detection(
    name=NEW_COUNTRY,
    title="Country not in org's normal baseline",
    analysis="key",
    severity="high, one flag per new country",
    reference="detections.md §3.2 (key-compromise anomaly flags), §7.2 (new-value baselines)",
    params=(
        Param(
            "country_allowlist",
            (),
            "ISO codes",
            "config country_allowlist / key --country-allowlist",
            "countries always considered normal",
        ),
        Param(
            "learn_org_countries",
            True,
            "",
            "key --no-org-baseline",
            "ask the source which countries the org is reached from outside this key",
        ),
    ),
    detect=detect,
    rank=20,
)
