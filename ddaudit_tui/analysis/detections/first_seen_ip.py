"""`first_seen_ip`: the first use of the key from an IP address after its learning period."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import (
    KeyContext,
    asn_label,
    events_text,
    key_param,
    place,
    ts,
)
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.timeutil import human_duration

FIRST_SEEN_IP = "first_seen_ip"


def detect(ctx: KeyContext) -> list[Flag]:
    fs_asn, fs_ip = ctx.fs_asn, ctx.fs_ip
    assert fs_asn is not None and fs_ip is not None  # built by analyze_key before any detection runs
    if not fs_asn.evaluated and not fs_ip.evaluated:
        return []
    by_id = {e.id: e for e in ctx.events}
    period = f"{ts(fs_asn.learning_start)} → {ts(fs_asn.learning_end)}"
    flags = []
    for nv in fs_ip.new:
        e = by_id[nv.event_ids[0]]
        again = (
            f" (again, after {human_duration(nv.returned_after_ms)} unused)" if nv.returned_after_ms else ""
        )
        reason = (
            f"first use from {nv.value}{again} ({place(e)}, {asn_label(e.asn, e.asn_name)}) on "
            f"{ts(nv.first_ts)}: {events_text(nv.count)}; not used in the learning period {period}"
        )
        details = {"ip": nv.value, "events": nv.count}
        flags.append(
            Flag(
                FIRST_SEEN_IP,
                Severity.LOW,
                reason,
                ctx.ids(by_id[i] for i in nv.event_ids),
                str(nv.value),
                details,
            )
        )
    return flags


DETECTION = Detection(
    name=FIRST_SEEN_IP,
    title="First use from an IP address after the learning period",
    analysis="key",
    severity="low, one flag per new IP",
    reference="detections.md §7.2 (first-seen baselines; Elastic's key first seen from a source IP)",
    params=(
        key_param(
            "learning_days", "days", "the first days of the key's activity in the window are its baseline"
        ),
        key_param("forget_days", "days", "a value unused this long is new again"),
    ),
    detect=detect,
    rank=110,
)
