"""`hosting_asn`: the key was used from a cloud / hosting network. Usual for automation, so its severity
depends on whether the key's own learning period already used that network."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import (
    KeyContext,
    asn_key,
    events_text,
    key_param,
    network_uses,
)
from ddaudit_tui.analysis.signals import Flag, Severity

HOSTING_ASN = "hosting_asn"


def detect(ctx: KeyContext) -> list[Flag]:
    fs_asn = ctx.fs_asn
    assert fs_asn is not None  # built by analyze_key before any detection runs
    flags = []
    for n in network_uses(ctx):
        if n.cls.kind in ("vpn", "proxy"):
            continue
        if not fs_asn.evaluated:
            sev, what = Severity.LOW, "not enough history to tell whether this network is usual for the key"
        elif asn_key(n.events[0]) in fs_asn.known:
            sev, what = Severity.INFO, "one of the networks this key used in its learning period"
        else:
            sev, what = Severity.MEDIUM, "a network this key did not use in its learning period"
        reason = f"{events_text(n.count)} from {n.label}: {n.cls.label}; {what}; IPs {n.ip_txt}; {n.span}"
        flags.append(Flag(HOSTING_ASN, sev, reason, ctx.ids(n.events), n.subject, n.details))
    return flags


DETECTION = Detection(
    name=HOSTING_ASN,
    title="ASN is a cloud/hosting provider",
    analysis="key",
    severity="info when the key's learning period already used the network, medium when new, "
    "low with too little history",
    reference="detections.md §3.2, §6.3 G2, §8 (cloud / hosting ASN lists)",
    params=(key_param("learning_days", "days", "the learning period (see first_seen_asn)"),),
    detect=detect,
    rank=100,
)
