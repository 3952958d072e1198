"""`vpn_asn`: the key was used through a VPN or proxy network, which hides where its holder really is."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection, Param
from ddaudit_tui.analysis.detections.key_context import KeyContext, events_text, network_uses
from ddaudit_tui.analysis.signals import Flag, Severity

VPN_ASN = "vpn_asn"


def detect(ctx: KeyContext) -> list[Flag]:
    flags = []
    for n in network_uses(ctx):
        if n.cls.kind not in ("vpn", "proxy"):
            continue
        if n.cls.benign:
            sev, what = Severity.INFO, "a known corporate network (context, not an alarm)"
        else:
            sev, what = Severity.HIGH, "proxied traffic hides the real origin"
        reason = f"{events_text(n.count)} via {n.label}: {n.cls.label}; {what}; IPs {n.ip_txt}; {n.span}"
        flags.append(Flag(VPN_ASN, sev, reason, ctx.ids(n.events), n.subject, n.details))
    return flags


DETECTION = Detection(
    name=VPN_ASN,
    title="ASN is a VPN/proxy provider",
    analysis="key",
    severity="high; info for a known corporate VPN",
    reference="detections.md §3.2, §6.3 G2, §8 (VPN / proxy ASN lists)",
    params=(
        Param(
            "asn_lists",
            "shipped lists",
            "",
            None,
            "which ASNs are VPN, proxy or hosting networks (analysis/data, detections.md §8)",
        ),
    ),
    detect=detect,
    rank=30,
)
