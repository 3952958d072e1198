"""What every key detection reads: the key's events and their network classes, the groupings the key
lookup already made (origins, deletions, Datadog's notifications), the first-seen baselines and the
parameters. `keys.analyze_key` builds one `KeyContext` and hands it to each key detection in turn.

Also the few phrases every key flag words the same way (`asn_label`, `place`, `events_text`, `ts`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddaudit_tui.analysis.asn import OriginClass
from ddaudit_tui.analysis.baseline import FirstSeenResult
from ddaudit_tui.analysis.detections import Param
from ddaudit_tui.analysis.key_model import (
    NO_COUNTRY_BASELINE,
    CountryBaseline,
    Destructive,
    KeyAnalysisConfig,
    Notification,
    OriginGroup,
)
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import fmt_ts

_DEFAULTS = KeyAnalysisConfig()

if TYPE_CHECKING:  # annotations only: pydantic (~0.2 s) loads when the API Keys endpoint is asked
    from ddaudit_tui.sources.api_keys import ApiKeyInfo


@dataclass
class TravelInput:
    """Issue 16: the sequence `impossible_travel` judges when `events` holds only part of the key's events:
    stand-ins for the events at each location change (found by DDSQL, `key_engine.travel_rows`), their
    classes, and `hops(last, e)`, how many flagged hops a stand-in counts for."""

    events: list[Event]
    classes: dict[str, OriginClass]
    hops: Callable[[Event, Event], int] | None = None


@dataclass
class KeyContext:
    key_id: str
    events: list[Event]  # the key's events in the window, oldest first
    classes: dict[str, OriginClass]  # event id → network class
    cfg: KeyAnalysisConfig
    notifications: list[Notification] = field(default_factory=list)
    api_key: ApiKeyInfo | None = None
    origins: list[OriginGroup] = field(default_factory=list)
    country_baseline: CountryBaseline = NO_COUNTRY_BASELINE
    destructive: list[Destructive] = field(default_factory=list)
    fs_asn: FirstSeenResult | None = None
    fs_ip: FirstSeenResult | None = None
    # Written by the detections that learn them, read into the report's `baselines`.
    rate_description: str = "not computed"
    hours_description: str = "not computed"
    # Issue 16: the key's events per `burst_window_s` bucket (bucket number → events), counted by DDSQL over
    # every event when `events` holds only part of them; None: counted from `events`.
    burst_counts: dict[int, int] | None = None
    # Issue 16: the origins group-by (stand-in event, its class, events, first, last) when `events` holds
    # only part of them; `network_uses` then counts networks from it (`events` holds each one's first events).
    origin_cells: list[tuple[Event, OriginClass, int, int, int]] | None = None
    # Issue 16: (events per 5-minute bucket start, zone → UTC days of use from a non-anonymising network),
    # counted by DDSQL over every event when `events` holds only part of them (and every off-hours one).
    hour_counts: tuple[dict[int, int], dict[str, set[int]]] | None = None
    # Issue 16: what `impossible_travel` judges instead of `events` when they are partial.
    travel: TravelInput | None = None

    def ids(self, events: Iterable[Event]) -> tuple[str, ...]:
        out: list[str] = []
        for e in events:
            if len(out) >= self.cfg.max_evidence:
                break
            out.append(e.id)
        return tuple(out)


def key_param(name: str, unit: str, description: str, config_key: str | None = None) -> Param:
    """A `KeyAnalysisConfig` field as a parameter; its default is read from the config itself."""
    return Param(name, getattr(_DEFAULTS, name), unit, config_key, description)


def asn_key(e: Event) -> int | str | None:
    return e.asn if e.asn is not None else e.asn_name


def asn_label(asn: int | None, name: str | None) -> str:
    if asn is not None and name:
        return f"{name} (AS{asn})"
    if asn is not None:
        return f"AS{asn}"
    return name or "unknown network"


def place(e: Event) -> str:
    parts = [p for p in (e.city, e.country) if p]
    return ", ".join(parts) if parts else (e.client_ip or "unknown place")


def events_text(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def ts(ms: int | None) -> str:
    return fmt_ts(ms) if ms is not None else "?"


@dataclass(frozen=True)
class NetworkUse:
    """The key's events through one non-eyeball network (VPN, proxy, hosting), as its flags word them."""

    cls: OriginClass
    events: list[Event]  # every event through the network, or its first ones (`count` says how many)
    label: str
    ip_txt: str
    span: str
    subject: str | None
    details: dict[str, Any]
    count: int = 0


def network_uses(ctx: KeyContext) -> list[NetworkUse]:
    """The key's non-eyeball networks, most events first (shared by `vpn_asn` and `hosting_asn`)."""
    groups: dict[tuple[int | None, str | None, OriginClass], list[Event]] = defaultdict(list)
    for e in ctx.events:
        cls = ctx.classes[e.id]
        if cls.non_eyeball:
            groups[(e.asn, e.asn_name, cls)].append(e)
    # Counted from the aggregate groups when `events` is partial: (events, IPs, first, last) per network.
    tally: dict[tuple[int | None, str | None, OriginClass], list[Any]] | None = None
    if ctx.origin_cells is not None:
        tally = {}
        for stand_in, cls, n, first, last in ctx.origin_cells:
            k = (stand_in.asn, stand_in.asn_name, cls)
            if k in groups:
                t = tally.setdefault(k, [0, set(), first, last])
                t[0] += n
                t[1].update([stand_in.client_ip] if stand_in.client_ip else [])
                t[2], t[3] = min(t[2], first), max(t[3], last)

    def size(kv: Any) -> int:
        return tally[kv[0]][0] if tally is not None else len(kv[1])

    out = []
    for (asn, name, cls), evs in sorted(groups.items(), key=lambda kv: (-size(kv), kv[0][0] or 0)):
        t = tally[(asn, name, cls)] if tally is not None else None
        ips = sorted(t[1]) if t is not None else sorted({e.client_ip for e in evs if e.client_ip})
        n = t[0] if t is not None else len(evs)
        lo, hi = (t[2], t[3]) if t is not None else (evs[0].ts, evs[-1].ts)
        details = {
            "asn": asn,
            "asn_name": name,
            "class": cls.kind,
            "classified_by": cls.source,
            "ips": ips,
            "events": n,
        }
        out.append(
            NetworkUse(
                cls=cls,
                events=evs,
                label=asn_label(asn, name),
                ip_txt=", ".join(ips[:3]) + (f" (+{len(ips) - 3})" if len(ips) > 3 else ""),
                span=f"{ts(lo)} → {ts(hi)}",
                subject=f"AS{asn}" if asn is not None else (name or (ips[0] if ips else None)),
                details=details,
                count=n,
            )
        )
    return out
