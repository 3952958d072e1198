"""The key lookup's data: its parameters (`KeyAnalysisConfig`), the org's country baseline and the
report (`KeyReport` and its parts). Plain data shared by `keys.py` (the assembly) and the key detections
(`analysis/detections/`); no analysis here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ddaudit_tui.analysis.asn import OriginClass
from ddaudit_tui.analysis.baseline import BusinessHours
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window

# -- configuration -----------------------------------------------------------------------------------

if TYPE_CHECKING:  # annotations only: pydantic (~0.2 s) loads when the API Keys endpoint is asked
    from ddaudit_tui.sources.api_keys import ApiKeyInfo


@dataclass(frozen=True)
class KeyAnalysisConfig:
    """Parameters, with defaults traced to `detections.md` §7 (see the README of each field)."""

    # first-seen (§7.2): learn from the first 7 days of the key's activity, forget after 28 days
    learning_days: float = 7.0
    forget_days: float = 28.0
    # burst (§7.1/§7.6): 5-minute sliding window; robust z ≥ 3 over the key's active 5-minute buckets,
    # with a floor so that 1 → 20 calls is not a burst; absolute threshold 100 calls in 5 minutes
    burst_window_s: int = 300
    burst_min_events: int = 20
    burst_z: float = 3.0
    burst_absolute: int = 100
    burst_min_baseline_buckets: int = 12
    # concurrent use (§7.5): 30-minute buckets
    concurrency_bucket_s: int = 1800
    concurrency_ignore_useragents: tuple[str, ...] = ()  # substrings, e.g. ("terraform", "pulumi")
    # impossible travel (§7.3): ≥ 500 km at ≥ 900 km/h; GeoIP jitter < 50 km in < 10 min
    travel_min_km: float = 500.0
    travel_min_kmh: float = 900.0
    jitter_km: float = 50.0
    jitter_s: int = 600
    travel_history_s: int = 24 * 3600
    # off-hours (§7.4): hour-of-week slots active on ≥ 3 distinct days, ± 1 h tolerance; only with
    # ≥ 7 active days and ≥ 20 events of history besides the day evaluated
    offhours_slot_days: int = 3
    offhours_tolerance_h: int = 1
    offhours_min_history_days: int = 7
    offhours_min_history_events: int = 20
    business_hours: BusinessHours | None = None  # configured hours replace the learned ones
    # evidence: at most this many event ids per flag (the count is in `details`)
    max_evidence: int = 500


@dataclass(frozen=True)
class CountryBaseline:
    """Which countries count as normal for the org: a configured allowlist and/or countries seen in the
    org outside this key (one pushed-down existence query per candidate country)."""

    mode: str  # "allowlist", "learned", "allowlist+learned" or "none"
    description: str
    allowlist: frozenset[str] = frozenset()  # ISO codes, upper case
    seen: Mapping[str, bool | None] = field(default_factory=dict)  # country key → seen? (None = unknown)

    def status(self, key: str | None) -> str:
        """`normal`, `new` or `unknown` for a country key (ISO code, or the name when there is none)."""
        if key is None:
            return "unknown"
        if key.upper() in self.allowlist:
            return "normal"
        if "learned" in self.mode:
            seen = self.seen.get(key)
            if seen is None:
                return "unknown"
            return "normal" if seen else "new"
        if self.mode == "allowlist":
            return "new"
        return "unknown"


NO_COUNTRY_BASELINE = CountryBaseline("none", "no country baseline (no allowlist configured, none learned)")


def country_key(event: Event) -> str | None:
    """How a country is identified in baselines: its ISO code, or its name when the code is missing."""
    if event.country_iso:
        return event.country_iso.upper()
    return event.country


# -- report data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creation:
    created_at: int | None
    created_by: str | None
    creator_ip: str | None = None
    creator_country: str | None = None
    event_id: str | None = None
    source: str = "audit trail"  # or "API Keys endpoint"


@dataclass(frozen=True)
class KeyChange:
    """Something that happened to the key itself (created, modified, deleted) per the audit trail."""

    ts: int
    action: str
    actor: str | None
    ip: str | None
    country: str | None
    event_id: str


@dataclass(frozen=True)
class Notification:
    """Datadog's own `Security Notification` (token leaked) for this key."""

    ts: int
    event_id: str
    message: str | None
    leak_source: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Network:
    """One network inside an origin group: an ASN (or an IP with no ASN) and how it is classified."""

    asn: int | None
    asn_name: str | None
    origin: OriginClass
    count: int
    ips: tuple[str, ...]


@dataclass(frozen=True)
class OriginGroup:
    country: str | None  # geoip.country.name, the recipe's group key
    count: int
    asns: tuple[str | None, ...]  # jq `[.[].asn] | unique`
    ips: tuple[str | None, ...]  # jq `[.[].ip] | unique`
    flag: str  # NORMAL / FLAG: first-time origin / UNKNOWN: …
    country_iso: str | None
    status: str  # normal | new | unknown | no_geo
    networks: tuple[Network, ...]
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class EndpointGroup:
    path: str | None
    methods: tuple[str | None, ...]
    count: int


@dataclass(frozen=True)
class Destructive:
    ts: int
    resource_type: str | None
    resource_id: str | None
    resource_name: str | None
    ip: str | None
    country: str | None
    event_id: str
    kind: str  # "deleted" (a product event) or "DELETE request" (a request with no matching event)
    method: str | None = None
    path: str | None = None
    status: int | None = None
    related_ids: tuple[str, ...] = ()  # the DELETE request(s) behind a `deleted` event


@dataclass(frozen=True)
class Resource:
    """A resource the key changed (created, modified, deleted, …)."""

    resource_type: str | None
    resource_id: str | None
    name: str | None
    actions: tuple[str, ...]
    count: int
    last_ts: int


@dataclass(frozen=True)
class KeyAggregates:
    """What DDSQL computed for the key (issue 16, `--engine ddsql`): group-bys over every matching event,
    however many; only the aggregate engine fills it (`KeyReport.aggregates`)."""

    total: int  # COUNT(*) of the key's events in the window
    first_seen: int | None
    last_seen: int | None
    per_hour: tuple[tuple[int, int], ...]  # (hour start, events), active hours only
    ips_per_30min: tuple[tuple[int, int], ...]  # (30-minute bucket start, distinct IPs)
    first_seen_ip: dict[str, int]  # IP → first event in the window
    first_seen_asn: dict[str, int]  # "AS123" (or the network's name without a number) → first event
    requests: int  # DDSQL execute + fetch calls
    truncated: bool = False  # a group-by hit its row limit: the aggregates are partial


@dataclass(repr=False)
class KeyReport:
    """Everything the key lookup found. Renderers and the pane read it; nothing here is recomputed."""

    key_id: str
    window: Window
    source_label: str
    generated_at: int
    events: list[Event]  # the key's events, oldest first
    first_seen: int | None
    last_seen: int | None
    created: Creation | None
    api_key: ApiKeyInfo | None
    api_key_status: str  # found / not found / not available from this source / error: …
    key_changes: list[KeyChange]
    notifications: list[Notification]
    origins: list[OriginGroup]
    endpoints: list[EndpointGroup]  # by http.url_details.path, as the recipe's jq
    routes: list[EndpointGroup]  # by route (Event.endpoint), for people
    destructive: list[Destructive]
    affected: list[Resource]
    flags: list[Flag]
    verdict: str
    verdict_reasons: list[str]
    recommended_actions: list[str]
    baselines: dict[str, str]
    warnings: list[str]
    event_signals: dict[str, tuple[str, ...]]  # event id → signals of the flags citing it
    # The key's creation/notification events (the key as an asset): flags cite them; a case keeps them.
    related: list[Event] = field(default_factory=list)
    completeness: Completeness | None = None  # set by investigate_key: how complete the answer is
    # Issue 16: False when something the report rests on is missing (the warnings say what).
    complete: bool = True
    engine: str = "search"  # search (paging) | ddsql (aggregates) | file
    aggregates: KeyAggregates | None = None
    matched_events: int | None = None  # the key's events in the window when more than were fetched

    def __repr__(self) -> str:
        # Short on purpose: asyncio reprs a finished task's result (Python 3.11's Runner does when it
        # restores the SIGINT handler), and the default repr of 100k events with raw bytes takes seconds.
        return (
            f"KeyReport(key_id={self.key_id!r}, events={len(self.events)}, flags={len(self.flags)}, "
            f"verdict={self.verdict!r})"
        )

    @property
    def total_events(self) -> int:
        return self.matched_events if self.matched_events is not None else len(self.events)

    @property
    def revoked(self) -> KeyChange | None:
        deleted = [c for c in self.key_changes if c.action == "deleted"]
        return deleted[-1] if deleted else None

    def flags_with(self, severity: Severity) -> list[Flag]:
        return [f for f in self.flags if f.severity >= severity]
