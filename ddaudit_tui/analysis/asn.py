"""Where a request came from, as a kind of network: VPN, proxy, cloud/hosting, or an ordinary ISP.

Precedence (`detections.md` §8.4, first match wins):

1. Datadog's `threat_intel` enrichment (Spur): a tunnel (`VPN`, `PROXY`, `TOR`, …) → `vpn` / `proxy`;
   `risks` such as `CALLBACK_PROXY` → `proxy`; `infrastructure: DATACENTER` → `hosting`. A Spur
   category such as `corp_vpn` marks the origin as *benign* context (a known corporate VPN), not an alarm.
2. `network.client.geoip.as.type == "hosting"` → `hosting`.
3. The vendored X4B lists (`data/asn_vpn.txt` → `vpn`, `data/asn_datacenter.txt` → `hosting`), keyed on
   the ASN number (geoip's `"AS396982"` is normalised to an int by the decoder).
4. Otherwise `isp` when the ASN is known, else `unknown`.

The label says which rule decided (`VPN (threat_intel: VPN NORD_VPN)`, `hosting (as.type)`,
`hosting (list: X4B datacenter)`) so a responder can judge the classification. Shared by every analysis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from ddaudit_tui.events.record import Event

VPN = "vpn"
PROXY = "proxy"
HOSTING = "hosting"
ISP = "isp"
UNKNOWN = "unknown"

# Spur categories that describe a sanctioned network (a corporate VPN / secure web gateway).
BENIGN_TI_CATEGORIES = frozenset({"corp_vpn", "enterprise_vpn", "corporate_vpn"})

LIST_FILES = {VPN: ("asn_vpn.txt", "X4B vpn"), HOSTING: ("asn_datacenter.txt", "X4B datacenter")}


@dataclass(frozen=True)
class OriginClass:
    """The kind of network an event came from, and which rule said so."""

    kind: str  # vpn | proxy | hosting | isp | unknown
    source: str = ""  # threat_intel | as.type | list: X4B vpn | list: X4B datacenter | ""
    detail: str = ""  # e.g. "VPN NORD_VPN", "CALLBACK_PROXY"
    benign: bool = False  # threat_intel says it is a known corporate network (context, not an alarm)
    vpn_listed: bool = False  # also on the vendored VPN ASN list (shown to the responder)

    @property
    def anonymising(self) -> bool:
        """A VPN or proxy hides the real origin (benign corporate networks excluded)."""
        return self.kind in (VPN, PROXY) and not self.benign

    @property
    def non_eyeball(self) -> bool:
        """Not a residential/office ISP: VPN, proxy or hosting (benign corporate VPNs included)."""
        return self.kind in (VPN, PROXY, HOSTING)

    @property
    def label(self) -> str:
        names = {VPN: "VPN", PROXY: "proxy", HOSTING: "hosting", ISP: "ISP", UNKNOWN: "unknown"}
        text = names.get(self.kind, self.kind)
        if self.benign:
            text = f"corporate {text}"
        why = ": ".join(p for p in (self.source, self.detail) if p)
        if self.vpn_listed and self.kind != VPN:
            why = f"{why}; on the X4B VPN ASN list" if why else "on the X4B VPN ASN list"
        return f"{text} ({why})" if why else text


@dataclass(frozen=True, eq=False)  # identity hash: instances are cache keys of `_classify`
class AsnLists:
    """ASN number → (kind, list name, upstream comment)."""

    entries: dict[int, tuple[str, str, str]]

    def lookup(self, asn: int | None) -> tuple[str, str, str] | None:
        return None if asn is None else self.entries.get(asn)

    def __len__(self) -> int:
        return len(self.entries)


def parse_asn_list(text: str) -> dict[int, str]:
    """`AS9009 # M247, GB (NordVPN)` lines → {9009: "M247, GB (NordVPN)"}; comments and junk skipped."""
    out: dict[int, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, comment = line.partition("#")
        token = head.strip()
        if token[:2].upper() == "AS":
            token = token[2:]
        if token.isdigit():
            out.setdefault(int(token), comment.strip())  # upstream has duplicates: first comment wins
    return out


@functools.lru_cache(maxsize=1)
def load_asn_lists() -> AsnLists:
    """The vendored lists, read once. VPN entries win over datacenter ones (M247 is on both)."""
    entries: dict[int, tuple[str, str, str]] = {}
    data = resources.files("ddaudit_tui.analysis").joinpath("data")
    for kind in (VPN, HOSTING):
        filename, name = LIST_FILES[kind]
        for asn, comment in parse_asn_list(data.joinpath(filename).read_text(encoding="utf-8")).items():
            entries.setdefault(asn, (kind, name, comment))
    return AsnLists(entries)


def classify_event(event: Event, lists: AsnLists | None = None) -> OriginClass:
    """The origin class of one event (see the module docstring for the precedence)."""
    return _classify(
        event.ti_tunnel,
        event.ti_infrastructure,
        event.ti_category,
        event.ti_risks,
        event.asn_type,
        event.asn,
        lists or load_asn_lists(),
    )


@functools.lru_cache(maxsize=4096)
def _classify(
    tunnel: str | None,
    infrastructure: str | None,
    category: str | None,
    risks: tuple[str, ...],
    asn_type: str | None,
    asn: int | None,
    lists: AsnLists,
) -> OriginClass:
    # Cached: a key's events come from a handful of networks, so the same arguments repeat.
    listed = lists.lookup(asn)
    vpn_listed = listed is not None and listed[0] == VPN
    benign = (category or "").strip().lower() in BENIGN_TI_CATEGORIES
    if tunnel:
        kind = VPN if tunnel.split(" ", 1)[0].upper() in ("VPN", "TOR") else PROXY
        return OriginClass(kind, "threat_intel", tunnel, benign, vpn_listed)
    if risks:
        return OriginClass(PROXY, "threat_intel", ", ".join(risks), benign, vpn_listed)
    if infrastructure and infrastructure.upper() == "DATACENTER":
        return OriginClass(HOSTING, "threat_intel", "DATACENTER", benign, vpn_listed)
    if asn_type and asn_type.strip().lower() == "hosting":
        return OriginClass(HOSTING, "as.type", "", benign, vpn_listed)
    if listed is not None:
        kind, name, _comment = listed
        return OriginClass(kind, f"list: {name}", "", benign, vpn_listed)
    if asn is not None or asn_type:
        # An ASN nobody calls hosting: an eyeball network (residential, mobile, office ISP).
        return OriginClass(ISP, "as.type" if asn_type else "", "", benign)
    return OriginClass(UNKNOWN, "", "", benign)  # no network enrichment at all (internal/system events)
