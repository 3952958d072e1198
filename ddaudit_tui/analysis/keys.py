"""Was API key K compromised? The key-compromise recipe (`detections.md` §3) over every event of the key.

Pure analysis: events (already fetched) in, a `KeyReport` out; no I/O, no Textual. The async part — which
queries to run, the org-wide country baseline pushed down to the source — is `key_investigation.py`.

What the report holds (the recipe's five steps, complete, plus findings):

1. the timeline of the key's events (`timeline_row` is the recipe's step-1 projection);
2. origins grouped by `geoip.country.name` with count, ASN names and IPs, most events first — exactly what
   the recipe's jq computes (jq's `group_by` order for ties, `unique` for the lists);
3. endpoints grouped by `http.url_details.path` with methods and count (the recipe's jq, exactly), and the
   same grouped by route (`Event.endpoint`: `route.path`, else the path without its query string), which
   is what a person reads;
4. destructive actions: `action == "deleted"` events and DELETE requests (paired with the `deleted` event
   they caused, so one deletion is counted once);
5. the key's creation (audit event and/or the API Keys endpoint).

Flags (`Flag.signal`, default severity): `token_leaked` (critical), `new_country` (high), `vpn_asn`
(high; info for a known corporate VPN), `hosting_asn` (info when the key's baseline already uses that
network, medium when new, low with no baseline), `destructive_action` (high for monitors, dashboards, log
pipelines and other monitoring/security configuration; medium otherwise), `burst` (high when above both
the key's own rate and the absolute threshold, medium for one of them), `off_hours` (medium; high with a
new country or an anonymising network), `concurrent_ips` (the §7.5 ladder), `impossible_travel` (high;
low for GeoIP jitter; info when a VPN/hosting end is involved), `first_seen_asn` (medium),
`first_seen_ip` (low). Verdict: `likely compromised` with a critical flag or high flags of ≥ 2 different
signals; `suspicious` with any high or medium flag; otherwise `no evidence`.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ddaudit_tui.analysis.asn import AsnLists, OriginClass, classify_event, load_asn_lists
from ddaudit_tui.analysis.baseline import (
    DAY_MS,
    MINUTE_MS,
    BusinessHours,
    FirstSeenResult,
    HourOfWeekProfile,
    LocalClock,
    first_seen,
    zone,
)
from ddaudit_tui.analysis.geo import haversine_km, speed_kmh, valid_coordinates
from ddaudit_tui.analysis.signals import Flag, Severity, sort_flags
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window, fmt_ts, human_duration, iso

if TYPE_CHECKING:  # annotations only: the model needs pydantic (~0.1 s), kept off first paint (issue 12)
    from ddaudit_tui.sources.api_keys import ApiKeyInfo

# -- names -----------------------------------------------------------------------------------------

TOKEN_LEAKED = "token_leaked"
NEW_COUNTRY = "new_country"
VPN_ASN = "vpn_asn"
HOSTING_ASN = "hosting_asn"
DESTRUCTIVE = "destructive_action"
BURST = "burst"
OFF_HOURS = "off_hours"
CONCURRENT_IPS = "concurrent_ips"
IMPOSSIBLE_TRAVEL = "impossible_travel"
FIRST_SEEN_ASN = "first_seen_asn"
FIRST_SEEN_IP = "first_seen_ip"

# Order of flags within one severity (most telling first).
SIGNAL_ORDER = (
    TOKEN_LEAKED, NEW_COUNTRY, VPN_ASN, IMPOSSIBLE_TRAVEL, CONCURRENT_IPS, BURST, DESTRUCTIVE,
    OFF_HOURS, FIRST_SEEN_ASN, HOSTING_ASN, FIRST_SEEN_IP,
)  # fmt: skip

# What each signal means, in the recipe's words where it has them (reports show it next to the flag).
SIGNAL_TITLES = {
    TOKEN_LEAKED: "Datadog reported the key as leaked",
    NEW_COUNTRY: "Country not in org's normal baseline",
    VPN_ASN: "ASN is a VPN/proxy provider",
    HOSTING_ASN: "ASN is a cloud/hosting provider",
    DESTRUCTIVE: "DELETE actions on monitors, dashboards, log pipelines or other resources",
    BURST: "Burst of activity in short window",
    OFF_HOURS: "Activity outside business hours",
    CONCURRENT_IPS: "Key used from multiple IPs simultaneously",
    IMPOSSIBLE_TRAVEL: "Impossible travel between consecutive uses",
    FIRST_SEEN_ASN: "First use from a network (ASN) after the learning period",
    FIRST_SEEN_IP: "First use from an IP address after the learning period",
}

VERDICT_COMPROMISED = "likely compromised"
VERDICT_SUSPICIOUS = "suspicious"
VERDICT_NONE = "no evidence"

# Deleting these is sabotage or defence evasion (monitoring, logging, security and access configuration).
HIGH_IMPACT_TYPES = frozenset(
    {
        "monitor", "dashboard", "pipeline", "pipeline_processor", "index", "archive", "exclusion_filter",
        "exclusion filter", "log_forwarding", "security_rule", "cws_agent_rule", "notification_profile",
        "security_signal", "slo", "synthetics_test", "notebook", "api_key", "application_key", "role",
        "user", "restriction_policy", "identity_provider", "audit_logs_settings", "ip_allowlist",
        "integration", "retention_filter", "sensitive_data_scanner_scanning_group", "metric",
    }
)  # fmt: skip

# Actions that change something (what "affected resources" lists); reads are excluded.
READ_ACTIONS = frozenset({"accessed", "queried", "authorized", "login", "notification", "viewed"})

NORMAL = "NORMAL"
FIRST_TIME = "FLAG: first-time origin"


# -- configuration -----------------------------------------------------------------------------------


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

    def __repr__(self) -> str:
        # Short on purpose: asyncio reprs a finished task's result (Python 3.11's Runner does when it
        # restores the SIGINT handler), and the default repr of 100k events with raw bytes takes seconds.
        return (
            f"KeyReport(key_id={self.key_id!r}, events={len(self.events)}, flags={len(self.flags)}, "
            f"verdict={self.verdict!r})"
        )

    @property
    def total_events(self) -> int:
        return len(self.events)

    @property
    def revoked(self) -> KeyChange | None:
        deleted = [c for c in self.key_changes if c.action == "deleted"]
        return deleted[-1] if deleted else None

    def flags_with(self, severity: Severity) -> list[Flag]:
        return [f for f in self.flags if f.severity >= severity]


def timeline_row(e: Event) -> dict[str, Any]:
    """The recipe's step-1 projection of one event (its jq field names and paths)."""
    return {
        "timestamp": iso(e.ts),
        "action": e.action,
        "event": e.evt_name,
        "resource_type": e.asset_type,
        "resource_id": e.asset_id,
        "endpoint": e.http_path,
        "method": e.http_method,
        "ip": e.client_ip,
        "city": e.city,
        "country": e.country,
        "asn": e.asn_name,
    }


@dataclass(frozen=True)
class KeySeen:
    """A key that appears in loaded events (for the pane's key-id suggestions)."""

    key_id: str
    events: int
    first_seen: int
    last_seen: int
    actors: tuple[str, ...]


def keys_seen(events: Iterable[Event], limit: int | None = None) -> list[KeySeen]:
    """API keys used in `events`, most recently used first, with counts and who used them."""
    acc: dict[str, list[Any]] = {}
    for e in events:
        k = e.api_key_id
        if not k:
            continue
        a = acc.get(k)
        if a is None:
            acc[k] = [1, e.ts, e.ts, {e.actor}]
        else:
            a[0] += 1
            a[1] = min(a[1], e.ts)
            a[2] = max(a[2], e.ts)
            if len(a[3]) < 5:
                a[3].add(e.actor)
    out = [KeySeen(k, n, lo, hi, tuple(sorted(actors))) for k, (n, lo, hi, actors) in acc.items()]
    out.sort(key=lambda s: (-s.last_seen, s.key_id))
    return out if limit is None else out[:limit]


def activity_buckets(
    report: KeyReport, bucket_ms: int, window: Window | None = None
) -> list[tuple[int, int, int]]:
    """(bucket start, events, flagged events) for every bucket of the window — zeros included, so a
    sparkline or chart can be drawn directly; "flagged" counts events cited by a flag above INFO."""
    w = window or report.window
    if bucket_ms <= 0 or w.end <= w.start:
        return []
    cited = {eid for f in report.flags if f.severity > Severity.INFO for eid in f.event_ids}
    first = w.start - w.start % bucket_ms
    n = (w.end - first + bucket_ms - 1) // bucket_ms
    counts = [0] * n
    flagged = [0] * n
    for e in report.events:
        if w.start <= e.ts < w.end:
            i = (e.ts - first) // bucket_ms
            counts[i] += 1
            if e.id in cited:
                flagged[i] += 1
    return [(first + i * bucket_ms, counts[i], flagged[i]) for i in range(n)]


# -- the analysis ------------------------------------------------------------------------------------


def analyze_key(
    key_id: str,
    events: Iterable[Event],
    *,
    window: Window,
    related: Iterable[Event] = (),
    api_key: ApiKeyInfo | None = None,
    api_key_status: str = "not available from this source",
    country_baseline: CountryBaseline = NO_COUNTRY_BASELINE,
    config: KeyAnalysisConfig | None = None,
    source_label: str = "",
    warnings: Sequence[str] = (),
    now_ms: int | None = None,
    asn_lists: AsnLists | None = None,
) -> KeyReport:
    """Analyse the events of key `key_id` in `window`.

    `events`: the key's events (`@metadata.api_key.id:K`); anything else, or outside the window, is
    ignored. `related`: events about the key as an asset (`@asset.type:api_key @asset.id:K`: its creation,
    changes, deletion, Datadog's token-leaked notification), from any time.
    """
    cfg = config or KeyAnalysisConfig()
    lists = asn_lists or load_asn_lists()
    want = key_id.strip().lower()
    evs = sorted(
        (e for e in events if e.api_key_id and e.api_key_id.lower() == want and window.contains(e.ts)),
        key=lambda e: (e.ts, e.id),
    )
    evs = _dedupe(evs)
    rel = _dedupe(sorted((e for e in related if _is_about_key(e, want)), key=lambda e: (e.ts, e.id)))
    classes = {e.id: classify_event(e, lists) for e in evs}
    ctx = _Context(key_id, evs, classes, cfg)

    created, key_changes, notifications = _key_lifecycle(rel, api_key)
    origins = _origins(evs, classes, country_baseline)
    endpoints = _group_paths(evs, lambda e: e.http_path)
    routes = _group_paths(evs, lambda e: e.endpoint)
    destructive = _destructive(evs)
    affected = _affected(evs, destructive)

    fs_asn = first_seen(
        ((e.ts, _asn_key(e), e.id) for e in evs),
        learning_ms=int(cfg.learning_days * DAY_MS),
        forget_ms=int(cfg.forget_days * DAY_MS) if cfg.forget_days else None,
    )
    fs_ip = first_seen(
        ((e.ts, e.client_ip, e.id) for e in evs),
        learning_ms=int(cfg.learning_days * DAY_MS),
        forget_ms=int(cfg.forget_days * DAY_MS) if cfg.forget_days else None,
        start_ms=fs_asn.learning_start,
    )

    flags: list[Flag] = []
    flags += _token_leaked(ctx, notifications, api_key)
    flags += _new_country(ctx, origins, country_baseline)
    flags += _network_flags(ctx, fs_asn)
    flags += _destructive_flags(ctx, destructive)
    flags += _burst(ctx)
    off_flags, hours_desc = _off_hours(ctx, {k for k, g in _by_country_status(origins).items() if g == "new"})
    flags += off_flags
    flags += _concurrent(ctx)
    flags += _travel(ctx)
    flags += _first_seen_flags(ctx, fs_asn, fs_ip)
    order = {s: i for i, s in enumerate(SIGNAL_ORDER)}
    flags = sort_flags(sorted(flags, key=lambda f: (order.get(f.signal, 99), str(f.subject or ""))))

    verdict, reasons = _verdict(flags, len(evs))
    actions = _recommended_actions(key_id, evs, created, key_changes, destructive, affected, api_key)

    event_signals: dict[str, set[str]] = defaultdict(set)
    for f in flags:
        for eid in f.event_ids:
            event_signals[eid].add(f.signal)

    baselines = {
        "countries": country_baseline.description,
        "hours": hours_desc,
        "first_seen": _describe_learning(fs_asn, fs_ip, cfg),
        "rate": ctx.rate_description,
    }
    return KeyReport(
        key_id=key_id,
        window=window,
        source_label=source_label,
        generated_at=now_ms if now_ms is not None else _now_ms(),
        events=evs,
        first_seen=evs[0].ts if evs else None,
        last_seen=evs[-1].ts if evs else None,
        created=created,
        api_key=api_key,
        api_key_status=api_key_status,
        key_changes=key_changes,
        notifications=notifications,
        origins=origins,
        endpoints=endpoints,
        routes=routes,
        destructive=destructive,
        affected=affected,
        flags=flags,
        verdict=verdict,
        verdict_reasons=reasons,
        recommended_actions=actions,
        baselines=baselines,
        warnings=list(warnings),
        event_signals={k: tuple(sorted(v)) for k, v in event_signals.items()},
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dedupe(evs: list[Event]) -> list[Event]:
    seen: set[str] = set()
    out = []
    for e in evs:
        if e.id not in seen:
            seen.add(e.id)
            out.append(e)
    return out


def _is_about_key(e: Event, want: str) -> bool:
    return bool(e.asset_id) and e.asset_id.lower() == want and (e.asset_type or "").lower() == "api_key"


@dataclass
class _Context:
    key_id: str
    events: list[Event]
    classes: dict[str, OriginClass]
    cfg: KeyAnalysisConfig
    rate_description: str = "not computed"

    def ids(self, events: Iterable[Event]) -> tuple[str, ...]:
        out: list[str] = []
        for e in events:
            if len(out) >= self.cfg.max_evidence:
                break
            out.append(e.id)
        return tuple(out)


def _asn_key(e: Event) -> int | str | None:
    return e.asn if e.asn is not None else e.asn_name


def _asn_label(asn: int | None, name: str | None) -> str:
    if asn is not None and name:
        return f"{name} (AS{asn})"
    if asn is not None:
        return f"AS{asn}"
    return name or "unknown network"


def _place(e: Event) -> str:
    parts = [p for p in (e.city, e.country) if p]
    return ", ".join(parts) if parts else (e.client_ip or "unknown place")


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def _ts(ms: int | None) -> str:
    return fmt_ts(ms) if ms is not None else "?"


# -- step 5: creation, changes, notifications ---------------------------------------------------------


def _key_lifecycle(
    rel: list[Event], api_key: ApiKeyInfo | None
) -> tuple[Creation | None, list[KeyChange], list[Notification]]:
    changes: list[KeyChange] = []
    notes: list[Notification] = []
    for e in rel:
        action = (e.action or "").lower()
        if (e.evt_name or "").lower() == "security notification" or action == "notification":
            leak_source = url = None
            try:
                new = e.inner().get("asset", {}).get("new_value")
                if isinstance(new, dict):
                    leak_source = _opt_str(new.get("leak_source"))
                    url = _opt_str(new.get("url"))
            except Exception:  # the raw JSON is only read for these few events; never fail on it
                pass
            notes.append(Notification(e.ts, e.id, e.message, leak_source, url))
        elif action:
            changes.append(
                KeyChange(
                    e.ts, action, e.actor if e.actor != "(unknown)" else None, e.client_ip, e.country, e.id
                )
            )
    created_events = [c for c in changes if c.action == "created"]
    creation: Creation | None = None
    if created_events:
        c = created_events[0]
        creation = Creation(c.ts, c.actor, c.ip, c.country, c.event_id, "audit trail")
    elif api_key is not None and (api_key.created_at_ms is not None or api_key.created_by is not None):
        creation = Creation(
            api_key.created_at_ms,
            api_key.created_by.display if api_key.created_by else None,
            source="API Keys endpoint",
        )
    return creation, changes, notes


def _opt_str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


# -- steps 2-3: origins and endpoints (the recipe's jq, exactly) ---------------------------------------


def _jq_order(v: str | None) -> tuple[int, str]:
    """jq's sort order for null-or-string values: null first, then strings by code point."""
    return (0, "") if v is None else (1, v)


def _jq_unique(values: Iterable[str | None]) -> tuple[str | None, ...]:
    return tuple(sorted(set(values), key=_jq_order))


def _origins(
    evs: list[Event], classes: dict[str, OriginClass], baseline: CountryBaseline
) -> list[OriginGroup]:
    groups: dict[str | None, list[Event]] = defaultdict(list)
    for e in evs:
        groups[e.country].append(e)
    out: list[OriginGroup] = []
    for country in sorted(groups, key=_jq_order):  # jq group_by order; sort_by(-count) below is stable
        g = groups[country]
        keys = {country_key(e) for e in g} - {None}
        statuses = {baseline.status(k) for k in keys}
        if not keys:
            status, flag = "no_geo", "UNKNOWN: no geo data"
        elif "new" in statuses:
            status, flag = "new", FIRST_TIME
        elif "unknown" in statuses:
            status, flag = "unknown", "UNKNOWN: baseline unavailable"
        else:
            status, flag = "normal", NORMAL
        nets: dict[tuple[int | None, str | None, OriginClass], list[Event]] = defaultdict(list)
        for e in g:
            nets[(e.asn, e.asn_name, classes[e.id])].append(e)
        networks = sorted(
            (
                Network(asn, name, cls, len(ns), tuple(sorted({e.client_ip for e in ns if e.client_ip})))
                for (asn, name, cls), ns in nets.items()
            ),
            key=lambda n: (-n.count, n.asn or 0, n.asn_name or ""),
        )
        isos = sorted({e.country_iso for e in g if e.country_iso})
        out.append(
            OriginGroup(
                country=country,
                count=len(g),
                asns=_jq_unique(e.asn_name for e in g),
                ips=_jq_unique(e.client_ip for e in g),
                flag=flag,
                country_iso=isos[0] if isos else None,
                status=status,
                networks=tuple(networks),
                first_seen=g[0].ts,
                last_seen=g[-1].ts,
            )
        )
    out.sort(key=lambda o: -o.count)
    return out


def _by_country_status(origins: list[OriginGroup]) -> dict[str | None, str]:
    return {o.country: o.status for o in origins}


def _group_paths(evs: list[Event], key: Any) -> list[EndpointGroup]:
    groups: dict[str | None, list[str | None]] = defaultdict(list)
    for e in evs:
        groups[key(e)].append(e.http_method)
    out = [EndpointGroup(p, _jq_unique(groups[p]), len(groups[p])) for p in sorted(groups, key=_jq_order)]
    out.sort(key=lambda g: -g.count)
    return out


# -- step 4: destructive actions -------------------------------------------------------------------------

_GENERIC_PARAMS = {"", "id", "public", "uuid", "resource", "key", "name"}


def resource_from_path(path: str | None, route: str | None = None) -> tuple[str | None, str | None]:
    """(resource type, id) a DELETE request addressed: `/api/v1/monitor/123` → ("monitor", "123")."""
    if not path:
        return None, None
    segs = [s for s in path.split("?", 1)[0].split("/") if s]
    if not segs:
        return None, None
    rsegs = [s for s in (route or "").split("/") if s]
    if rsegs and len(rsegs) == len(segs):
        for i in range(len(rsegs) - 1, -1, -1):
            r = rsegs[i]
            if r.startswith("{") and r.endswith("}"):
                name = r[1:-1]
                name = name[:-3] if name.endswith("_id") else name
                if name in _GENERIC_PARAMS:
                    name = _singular(rsegs[i - 1]) if i > 0 else ""
                return name or None, segs[i]
    rid = segs[-1]
    rtype = _singular(segs[-2]) if len(segs) >= 2 else None
    return rtype, rid


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _destructive(evs: list[Event]) -> list[Destructive]:
    deleted = [e for e in evs if (e.action or "").lower() == "deleted"]
    requests = [
        e for e in evs if (e.http_method or "").upper() == "DELETE" and (e.action or "").lower() != "deleted"
    ]
    # Pair each DELETE request with the `deleted` event it caused: same resource id, within 10 minutes.
    by_id: dict[str, list[Event]] = defaultdict(list)
    for d in deleted:
        if d.asset_id:
            by_id[d.asset_id].append(d)
    related: dict[str, list[str]] = defaultdict(list)
    unmatched: list[tuple[Event, str | None, str | None]] = []
    for r in requests:
        rtype, rid = resource_from_path(r.http_path, r.route_path)
        rid = r.asset_id or rid
        match = next((d for d in by_id.get(rid or "", []) if abs(d.ts - r.ts) <= 10 * MINUTE_MS), None)
        if match is not None:
            related[match.id].append(r.id)
        else:
            unmatched.append((r, r.asset_type or rtype, rid))
    out = [
        Destructive(
            d.ts, d.asset_type, d.asset_id, d.asset_name, d.client_ip, d.country, d.id, "deleted",
            d.http_method, d.http_path, d.http_status, tuple(related.get(d.id, ())),
        )
        for d in deleted
    ]  # fmt: skip
    out += [
        Destructive(
            r.ts, rtype, rid, r.asset_name, r.client_ip, r.country, r.id, "DELETE request",
            r.http_method, r.http_path, r.http_status,
        )
        for r, rtype, rid in unmatched
    ]  # fmt: skip
    out.sort(key=lambda d: (d.ts, d.event_id))
    return out


def _affected(evs: list[Event], destructive: list[Destructive]) -> list[Resource]:
    acc: dict[tuple[str | None, str | None], dict[str, Any]] = {}

    def add(rtype: str | None, rid: str | None, name: str | None, action: str, ts: int) -> None:
        slot = acc.setdefault((rtype, rid), {"name": None, "actions": set(), "count": 0, "last": ts})
        slot["name"] = slot["name"] or name
        slot["actions"].add(action)
        slot["count"] += 1
        slot["last"] = max(slot["last"], ts)

    for e in evs:
        action = (e.action or "").lower()
        if e.asset_type and action and action not in READ_ACTIONS:
            add(e.asset_type, e.asset_id, e.asset_name, action, e.ts)
    for d in destructive:
        if d.kind == "DELETE request":
            add(d.resource_type, d.resource_id, d.resource_name, "deleted", d.ts)
    out = [
        Resource(t, i, v["name"], tuple(sorted(v["actions"])), v["count"], v["last"])
        for (t, i), v in acc.items()
    ]
    out.sort(key=lambda r: (-r.last_ts, r.resource_type or "", r.resource_id or ""))
    return out


# -- flags ---------------------------------------------------------------------------------------------------


def _token_leaked(ctx: _Context, notes: list[Notification], api_key: ApiKeyInfo | None) -> list[Flag]:
    if notes:
        n = notes[0]
        src = f", source: {n.leak_source}" if n.leak_source else ""
        more = f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""
        reason = f"Datadog Security Notification on {_ts(n.ts)}: this key was leaked{src}{more}; it should be revoked"
        details: dict[str, Any] = {"notifications": len(notes)}
        if n.url:
            details["url"] = n.url
        if api_key is not None and api_key.leaked:
            details["api_leak_date"] = api_key.leak_date
        return [
            Flag(
                TOKEN_LEAKED, Severity.CRITICAL, reason, tuple(x.event_id for x in notes), ctx.key_id, details
            )
        ]
    if api_key is not None and api_key.leaked:
        when = f" on {api_key.leak_date}" if api_key.leak_date else ""
        src = f" (source: {api_key.leak_source})" if api_key.leak_source else ""
        reason = f"the API Keys endpoint reports this key as leaked{when}{src}; it should be revoked"
        return [
            Flag(TOKEN_LEAKED, Severity.CRITICAL, reason, (), ctx.key_id, {"source": "API Keys endpoint"})
        ]
    return []


def _new_country(ctx: _Context, origins: list[OriginGroup], baseline: CountryBaseline) -> list[Flag]:
    flags = []
    for o in origins:
        if o.status != "new":
            continue
        evs = [e for e in ctx.events if e.country == o.country]
        name = o.country or o.country_iso or "?"
        iso_txt = f" ({o.country_iso})" if o.country_iso and o.country_iso != name else ""
        nets = ", ".join(_asn_label(n.asn, n.asn_name) for n in o.networks[:3])
        reason = (
            f"first use from {name}{iso_txt}: {_events(o.count)} {_ts(o.first_seen)} → {_ts(o.last_seen)} "
            f"via {nets}; not in the org baseline ({baseline.mode})"
        )
        details = {"country": o.country, "country_iso": o.country_iso, "events": o.count, "ips": list(o.ips)}
        flags.append(
            Flag(NEW_COUNTRY, Severity.HIGH, reason, ctx.ids(evs), o.country_iso or o.country, details)
        )
    return flags


def _network_flags(ctx: _Context, fs_asn: FirstSeenResult) -> list[Flag]:
    groups: dict[tuple[int | None, str | None, OriginClass], list[Event]] = defaultdict(list)
    for e in ctx.events:
        cls = ctx.classes[e.id]
        if cls.non_eyeball:
            groups[(e.asn, e.asn_name, cls)].append(e)
    flags = []
    for (asn, name, cls), evs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0][0] or 0)):
        label = _asn_label(asn, name)
        ips = sorted({e.client_ip for e in evs if e.client_ip})
        ip_txt = ", ".join(ips[:3]) + (f" (+{len(ips) - 3})" if len(ips) > 3 else "")
        span = f"{_ts(evs[0].ts)} → {_ts(evs[-1].ts)}"
        details = {
            "asn": asn,
            "asn_name": name,
            "class": cls.kind,
            "classified_by": cls.source,
            "ips": ips,
            "events": len(evs),
        }
        subject = f"AS{asn}" if asn is not None else (name or (ips[0] if ips else None))
        if cls.kind in ("vpn", "proxy"):
            if cls.benign:
                sev, what = Severity.INFO, "a known corporate network (context, not an alarm)"
            else:
                sev, what = Severity.HIGH, "proxied traffic hides the real origin"
            reason = f"{_events(len(evs))} via {label}: {cls.label}; {what}; IPs {ip_txt}; {span}"
            flags.append(Flag(VPN_ASN, sev, reason, ctx.ids(evs), subject, details))
            continue
        if not fs_asn.evaluated:
            sev, what = Severity.LOW, "not enough history to tell whether this network is usual for the key"
        elif _asn_key(evs[0]) in fs_asn.known:
            sev, what = Severity.INFO, "one of the networks this key used in its learning period"
        else:
            sev, what = Severity.MEDIUM, "a network this key did not use in its learning period"
        reason = f"{_events(len(evs))} from {label}: {cls.label}; {what}; IPs {ip_txt}; {span}"
        flags.append(Flag(HOSTING_ASN, sev, reason, ctx.ids(evs), subject, details))
    return flags


def _destructive_flags(ctx: _Context, destructive: list[Destructive]) -> list[Flag]:
    by_type: dict[str, list[Destructive]] = defaultdict(list)
    for d in destructive:
        by_type[d.resource_type or "unknown"].append(d)
    flags = []
    for rtype, ds in sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sev = Severity.HIGH if rtype.lower() in HIGH_IMPACT_TYPES else Severity.MEDIUM
        ids_txt = ", ".join(str(d.resource_id) for d in ds[:5]) + (
            f" (+{len(ds) - 5})" if len(ds) > 5 else ""
        )
        failed = sum(1 for d in ds if d.status is not None and d.status >= 400)
        fail_txt = f" ({failed} failed)" if failed else ""
        places = sorted({_place_of(d) for d in ds})
        reason = (
            f"{len(ds)} {rtype} deletion{'s' if len(ds) != 1 else ''}{fail_txt}: {ids_txt}; "
            f"{_ts(ds[0].ts)} → {_ts(ds[-1].ts)} from {', '.join(places)}"
        )
        ids: list[str] = []
        for d in ds:
            ids.append(d.event_id)
            ids.extend(d.related_ids)
        details = {"resource_type": rtype, "resource_ids": [d.resource_id for d in ds], "failed": failed}
        flags.append(Flag(DESTRUCTIVE, sev, reason, tuple(ids[: ctx.cfg.max_evidence]), rtype, details))
    return flags


def _place_of(d: Destructive) -> str:
    return " ".join(p for p in (d.ip, f"({d.country})" if d.country else None) if p) or "unknown origin"


def _burst(ctx: _Context) -> list[Flag]:
    cfg, evs = ctx.cfg, ctx.events
    if not evs:
        return []
    w = cfg.burst_window_s * 1000
    buckets = Counter(e.ts // w for e in evs)
    counts = sorted(buckets.values())
    median = statistics.median(counts)
    mad = statistics.median(abs(c - median) for c in counts)
    scale = max(1.4826 * mad, 1.0)  # MAD 0 (a perfectly regular key) must not divide by zero
    baseline_ok = len(counts) >= cfg.burst_min_baseline_buckets
    minutes = cfg.burst_window_s // 60
    if baseline_ok:
        ctx.rate_description = (
            f"typically {median:g} event{'' if median == 1 else 's'} per active {minutes}-minute interval "
            f"(median of {len(counts)} intervals, MAD {mad:g})"
        )
    else:
        ctx.rate_description = (
            f"only {len(counts)} active {minutes}-minute intervals (need {cfg.burst_min_baseline_buckets}): "
            f"bursts judged on the absolute threshold ({cfg.burst_absolute} in {minutes} min) alone"
        )
    ts = [e.ts for e in evs]
    # Sliding window: for each event, how many events fall in [its time, its time + w).
    spans: list[tuple[int, int, int, Severity]] = []  # (first index, last index, count, severity)
    j = 0
    for i in range(len(ts)):
        if j < i:
            j = i
        while j < len(ts) and ts[j] < ts[i] + w:
            j += 1
        n = j - i
        z = (n - median) / scale
        relative = baseline_ok and n >= cfg.burst_min_events and z >= cfg.burst_z
        absolute = n >= cfg.burst_absolute
        if relative and absolute:
            sev = Severity.HIGH
        elif relative or (absolute and not baseline_ok):
            sev = Severity.MEDIUM
        else:
            continue
        spans.append((i, j - 1, n, sev))
    # Merge overlapping windows into episodes.
    episodes: list[list[Any]] = []
    for i, last, n, sev in spans:
        if episodes and i <= episodes[-1][1]:
            ep = episodes[-1]
            ep[1] = max(ep[1], last)
            if n > ep[2]:
                ep[2], ep[3] = n, i
            ep[4] = max(ep[4], sev)
        else:
            episodes.append([i, last, n, i, sev])
    flags = []
    for first, last, peak, peak_i, sev in episodes:
        group = evs[first : last + 1]
        ips = sorted({e.client_ip for e in group if e.client_ip})
        ratio = f", {peak / median:.0f}× the key's typical rate" if baseline_ok and median else ""
        reason = (
            f"{peak} events within {minutes} min from {_ts(ts[peak_i])} ({len(group)} in the episode "
            f"{_ts(group[0].ts)} → {_ts(group[-1].ts)}, {human_duration(group[-1].ts - group[0].ts)}){ratio}; "
            f"from {', '.join(ips[:3]) or 'unknown IPs'}"
        )
        details = {
            "peak": peak,
            "window_s": cfg.burst_window_s,
            "events": len(group),
            "typical": median,
            "ips": ips,
        }
        flags.append(Flag(BURST, sev, reason, ctx.ids(group), iso(ts[peak_i]), details))
    return flags


def _home_zone(evs: list[Event], classes: dict[str, OriginClass]) -> str | None:
    """The key's home time zone: the geoip zone with the most distinct active days (not events, so a
    one-night burst from elsewhere cannot outvote weeks of routine use)."""
    days: dict[str, set[int]] = defaultdict(set)
    for e in evs:
        if e.geo_timezone and not classes[e.id].anonymising:
            days[e.geo_timezone].add(e.ts // DAY_MS)
    if not days:
        return None
    return max(sorted(days), key=lambda z: len(days[z]))


def _off_hours(ctx: _Context, new_countries: set[str | None]) -> tuple[list[Flag], str]:
    cfg, evs = ctx.cfg, ctx.events
    if not evs:
        return [], "not evaluated (no events)"
    bh = cfg.business_hours
    tz_name = (bh.timezone if bh else None) or _home_zone(evs, ctx.classes)
    tz = zone(tz_name)
    if tz is None:
        tz_name = "UTC"
    clock = LocalClock(tz)
    local = [clock.at(e.ts) for e in evs]
    off: list[int] = []
    if bh is not None:
        desc = f"configured business hours {bh.describe()} ({tz_name})"
        off = [i for i, t in enumerate(local) if not bh.contains(t)]
    else:
        prof = HourOfWeekProfile(min_days=cfg.offhours_slot_days, tolerance_h=cfg.offhours_tolerance_h)
        per_day: Counter[int] = Counter()
        for t in local:
            prof.add(t)
            per_day[t.day] += 1
        n_days, n_events = len(prof.all_days), prof.events
        if n_days - 1 < cfg.offhours_min_history_days or n_events < cfg.offhours_min_history_events:
            return [], (
                f"not evaluated: {n_days} active days and {n_events} events of history "
                f"(need {cfg.offhours_min_history_days + 1} days and {cfg.offhours_min_history_events} events); "
                "set business hours in the config to judge new keys"
            )
        desc = (
            f"learned from the key's own history ({n_days} active days) in {tz_name}: hour-of-week slots active "
            f"on ≥ {cfg.offhours_slot_days} days, ± {cfg.offhours_tolerance_h} h — {prof.describe()}"
        )
        for i, t in enumerate(local):
            if n_events - per_day[t.day] < cfg.offhours_min_history_events:
                continue  # without this day there is too little history to judge it
            if not prof.covered(t):
                off.append(i)
    by_day: dict[int, list[int]] = defaultdict(list)
    for i in off:
        by_day[local[i].day].append(i)
    flags = []
    for day, idx in sorted(by_day.items()):
        group = [evs[i] for i in idx]
        geo_shift = any(e.country in new_countries for e in group)
        anonymised = any(ctx.classes[e.id].anonymising for e in group)
        sev = Severity.HIGH if geo_shift or anonymised else Severity.MEDIUM
        first, last = group[0], group[-1]
        why = " with a first-time country" if geo_shift else (" through a VPN/proxy" if anonymised else "")
        reason = (
            f"{_events(len(group))} on {clock.fmt(first.ts)}–{clock.fmt(last.ts)[4:]} {tz_name} "
            f"({_ts(first.ts)} → {_ts(last.ts)}){why}, outside "
            + (f"business hours {bh.describe()}" if bh else "the hours this key is normally used")
        )
        details = {
            "timezone": tz_name,
            "events": len(group),
            "local_start": clock.fmt(first.ts),
            "local_end": clock.fmt(last.ts),
        }
        flags.append(Flag(OFF_HOURS, sev, reason, ctx.ids(group), date.fromordinal(day).isoformat(), details))
    return flags, desc


def _concurrent(ctx: _Context) -> list[Flag]:
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
        asns = {_asn_key(e) for e in group} - {None}
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
        places = sorted({f"{e.client_ip} ({_place(e)}, {_asn_label(e.asn, e.asn_name)})" for e in group})
        reason = (
            f"{len(ips)} IPs, {n_asn} networks, {n_city} cities, {n_ua} user agents within 30 min from "
            f"{_ts(start)}: "
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


def _travel(ctx: _Context) -> list[Flag]:
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
            f"{_place(a)} ({a_ip}) at {_ts(a.ts)} → {_place(b)} ({b_ip}) at {_ts(b.ts)}: "
            f"{km:,.0f} km in {human_duration(b.ts - a.ts)} = {kmh:,.0f} km/h{note}{again}"
        )
        details = {"km": round(km, 1), "kmh": round(kmh, 1), "seconds": (b.ts - a.ts) // 1000, "hops": n}
        flags.append(Flag(IMPOSSIBLE_TRAVEL, sev, reason, (a.id, b.id), f"{a_ip} → {b_ip}", details))
    return flags


def _first_seen_flags(ctx: _Context, fs_asn: FirstSeenResult, fs_ip: FirstSeenResult) -> list[Flag]:
    if not fs_asn.evaluated and not fs_ip.evaluated:
        return []
    by_id = {e.id: e for e in ctx.events}
    period = f"{_ts(fs_asn.learning_start)} → {_ts(fs_asn.learning_end)}"
    flags = []
    for nv in fs_asn.new:
        e = by_id[nv.event_ids[0]]
        again = (
            f" (again, after {human_duration(nv.returned_after_ms)} unused)" if nv.returned_after_ms else ""
        )
        reason = (
            f"first use from {_asn_label(e.asn, e.asn_name)}{again} on {_ts(nv.first_ts)}: {_events(nv.count)}; "
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
    for nv in fs_ip.new:
        e = by_id[nv.event_ids[0]]
        again = (
            f" (again, after {human_duration(nv.returned_after_ms)} unused)" if nv.returned_after_ms else ""
        )
        reason = (
            f"first use from {nv.value}{again} ({_place(e)}, {_asn_label(e.asn, e.asn_name)}) on "
            f"{_ts(nv.first_ts)}: {_events(nv.count)}; not used in the learning period {period}"
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


def _describe_learning(fs_asn: FirstSeenResult, fs_ip: FirstSeenResult, cfg: KeyAnalysisConfig) -> str:
    if fs_asn.learning_start is None:
        return "not evaluated (no network data)"
    period = f"{_ts(fs_asn.learning_start)} → {_ts(fs_asn.learning_end)}"
    if not fs_asn.evaluated:
        return f"not evaluated: the key's history is shorter than its {cfg.learning_days:g}-day learning period ({period})"
    return (
        f"learning period {period} (first {cfg.learning_days:g} days of the key's activity in the window): "
        f"{len(fs_ip.known)} IPs, {len(fs_asn.known)} networks; values unused for {cfg.forget_days:g} days are forgotten"
    )


# -- verdict and actions ------------------------------------------------------------------------------------


def _verdict(flags: list[Flag], n_events: int) -> tuple[str, list[str]]:
    critical = [f for f in flags if f.severity == Severity.CRITICAL]
    high = [f for f in flags if f.severity == Severity.HIGH]
    medium = [f for f in flags if f.severity == Severity.MEDIUM]
    high_signals = sorted({f.signal for f in high}, key=SIGNAL_ORDER.index)
    reasons: list[str] = []
    for f in critical:
        reasons.append(f"critical: {f.reason}")
    if critical or len(high_signals) >= 2:
        if high_signals:
            reasons.append(
                f"{len(high)} high-severity flags across {len(high_signals)} signals: "
                + ", ".join(high_signals)
            )
        return VERDICT_COMPROMISED, reasons
    if high or medium:
        for f in high:
            reasons.append(f"high: {f.reason}")
        med_signals = sorted({f.signal for f in medium}, key=SIGNAL_ORDER.index)
        if medium:
            reasons.append(f"{len(medium)} medium-severity flags: " + ", ".join(med_signals))
        if not high:
            reasons.append("no high-severity flag: worth a look, not proof of compromise")
        else:
            reasons.append("only one high-severity signal: corroborate before revoking")
        return VERDICT_SUSPICIOUS, reasons
    if n_events == 0:
        return VERDICT_NONE, ["no events for this key in the window"]
    low = [f for f in flags if f.severity <= Severity.LOW]
    if low:
        reasons.append(
            f"only {len(low)} low/informational flags (" + ", ".join(sorted({f.signal for f in low})) + ")"
        )
    else:
        reasons.append(f"no anomaly in {n_events} events")
    return VERDICT_NONE, reasons


def _resource_label(rtype: str | None, rid: str | None, name: str | None) -> str:
    text = " ".join(p for p in (rtype or "resource", rid) if p)
    return f'{text} "{name}"' if name else text


def _recommended_actions(
    key_id: str,
    evs: list[Event],
    created: Creation | None,
    changes: list[KeyChange],
    destructive: list[Destructive],
    affected: list[Resource],
    api_key: ApiKeyInfo | None,
) -> list[str]:
    """The recipe's four actions, in its words, each completed with what this key actually did."""
    deleted = [c for c in changes if c.action == "deleted"]
    if deleted:
        d = deleted[-1]
        revoke = f"already revoked on {_ts(d.ts)}" + (f" by {d.actor}" if d.actor else "")
    else:
        revoke = f"`ddaudit revoke {key_id}`, or Organization Settings > API Keys > Revoke"
    actions = [f"Revoke the key immediately if not already done — {revoke}"]

    if affected:
        items = [
            _resource_label(r.resource_type, r.resource_id, r.name) + f" ({', '.join(r.actions)})"
            for r in affected[:10]
        ]
        more = f"; and {len(affected) - 10} more" if len(affected) > 10 else ""
        actions.append("Review affected resources: " + "; ".join(items) + more)
    else:
        actions.append("Review affected resources: none recorded — the key only read data")

    if destructive:
        items = [_resource_label(d.resource_type, d.resource_id, d.resource_name) for d in destructive[:10]]
        more = f"; and {len(destructive) - 10} more" if len(destructive) > 10 else ""
        actions.append("Check if any deleted resources need restoration: " + "; ".join(items) + more)
    else:
        actions.append("Check if any deleted resources need restoration — no deletions recorded")

    who: list[str] = []
    if created is not None and created.created_by:
        who.append(
            f"created by {created.created_by}"
            + (f" on {_ts(created.created_at)}" if created.created_at else "")
        )
    users = sorted({e.actor for e in evs if e.actor != "(unknown)"})
    if users:
        who.append("used as " + ", ".join(users[:5]))
    agents = [ua for ua, _ in Counter(e.useragent for e in evs if e.useragent).most_common(5)]
    if agents:
        who.append("clients: " + ", ".join(agents))
    if api_key is not None and api_key.name:
        who.insert(0, f"key name {api_key.name!r}")
    actions.append("Audit who else had access to this key" + (" — " + "; ".join(who) if who else ""))
    return actions


def severity_counts(flags: Iterable[Flag]) -> dict[str, int]:
    counts = Counter(f.severity for f in flags)
    return {s.word: counts.get(s, 0) for s in sorted(Severity, reverse=True)}


__all__ = [
    "BURST", "CONCURRENT_IPS", "DESTRUCTIVE", "FIRST_SEEN_ASN", "FIRST_SEEN_IP", "HOSTING_ASN",
    "IMPOSSIBLE_TRAVEL", "NEW_COUNTRY", "OFF_HOURS", "TOKEN_LEAKED", "VPN_ASN", "SIGNAL_ORDER",
    "SIGNAL_TITLES", "VERDICT_COMPROMISED", "VERDICT_NONE", "VERDICT_SUSPICIOUS", "CountryBaseline",
    "Creation", "Destructive", "EndpointGroup", "KeyAnalysisConfig", "KeyChange", "KeyReport", "Network",
    "KeySeen", "Notification", "OriginGroup", "Resource", "activity_buckets", "analyze_key", "country_key",
    "keys_seen", "resource_from_path",
    "severity_counts", "timeline_row",
]  # fmt: skip
