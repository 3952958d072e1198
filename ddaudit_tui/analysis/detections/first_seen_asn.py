"""`first_seen_asn`: the first use of the key from a network (ASN) after its learning period."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, asn_label, events_text, key_param, ts
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.timeutil import human_duration

FIRST_SEEN_ASN = "first_seen_asn"


def detect(ctx: KeyContext) -> list[Flag]:
    fs_asn, fs_ip = ctx.fs_asn, ctx.fs_ip
    assert fs_asn is not None and fs_ip is not None  # built by analyze_key before any detection runs
    if not fs_asn.evaluated and not fs_ip.evaluated:
        return []
    by_id = {e.id: e for e in ctx.events}
    period = f"{ts(fs_asn.learning_start)} → {ts(fs_asn.learning_end)}"
    flags = []
    for nv in fs_asn.new:
        e = by_id[nv.event_ids[0]]
        again = (
            f" (again, after {human_duration(nv.returned_after_ms)} unused)" if nv.returned_after_ms else ""
        )
        reason = (
            f"first use from {asn_label(e.asn, e.asn_name)}{again} on {ts(nv.first_ts)}: {events_text(nv.count)}; "
            f"not used in the learning period {period}"
        )
        subject = f"AS{e.asn}" if e.asn is not None else str(nv.value)
        details = {"asn": e.asn, "asn_name": e.asn_name, "events": nv.count}
        flags.append(
            Flag(
                FIRST_SEEN_ASN,
                Severity.MEDIUM,
                reason,
                ctx.ids(by_id[i] for i in nv.event_ids),
                subject,
                details,
            )
        )
    return flags


DETECTION = Detection(
    name=FIRST_SEEN_ASN,
    title="First use from a network (ASN) after the learning period",
    analysis="key",
    severity="medium, one flag per new network",
    reference="detections.md §7.2 (first-seen baselines), §6.3 G1",
    params=(
        key_param(
            "learning_days", "days", "the first days of the key's activity in the window are its baseline"
        ),
        key_param("forget_days", "days", "a value unused this long is new again"),
    ),
    detect=detect,
    rank=90,
)
