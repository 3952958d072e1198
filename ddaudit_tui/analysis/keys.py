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

Flags: the key detections of `analysis/detections/` (analysis "key": one module each, with its
severity rule and parameters; `ddaudit detections` lists them), run over one `KeyContext`. Verdict and
recommended actions: `key_verdict.py`. The report's data: `key_model.py`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddaudit_tui.analysis import detections
from ddaudit_tui.analysis.asn import AsnLists, OriginClass, classify_event, load_asn_lists
from ddaudit_tui.analysis.baseline import DAY_MS, MINUTE_MS, FirstSeenResult, first_seen
from ddaudit_tui.analysis.buckets import HOUR_MS
from ddaudit_tui.analysis.detections.burst import BURST
from ddaudit_tui.analysis.detections.concurrent_ips import CONCURRENT_IPS
from ddaudit_tui.analysis.detections.destructive_action import DESTRUCTIVE, HIGH_IMPACT_TYPES
from ddaudit_tui.analysis.detections.first_seen_asn import FIRST_SEEN_ASN
from ddaudit_tui.analysis.detections.first_seen_ip import FIRST_SEEN_IP
from ddaudit_tui.analysis.detections.hosting_asn import HOSTING_ASN
from ddaudit_tui.analysis.detections.impossible_travel import IMPOSSIBLE_TRAVEL
from ddaudit_tui.analysis.detections.key_context import KeyContext, TravelInput, asn_key, ts
from ddaudit_tui.analysis.detections.new_country import NEW_COUNTRY
from ddaudit_tui.analysis.detections.off_hours import OFF_HOURS
from ddaudit_tui.analysis.detections.token_leaked import TOKEN_LEAKED
from ddaudit_tui.analysis.detections.vpn_asn import VPN_ASN
from ddaudit_tui.analysis.key_model import (
    NO_COUNTRY_BASELINE,
    CountryBaseline,
    Creation,
    Destructive,
    EndpointGroup,
    KeyAnalysisConfig,
    KeyChange,
    KeyReport,
    Network,
    Notification,
    OriginGroup,
    Resource,
    country_key,
)
from ddaudit_tui.analysis.key_verdict import (
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    recommended_actions,
    verdict,
)
from ddaudit_tui.analysis.signals import Flag, Severity, sort_flags
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window, iso

# -- names -----------------------------------------------------------------------------------------

# The key detections (`analysis/detections/`, analysis "key"), in their rank: the order of flags within
# one severity (most telling first).
KEY_DETECTIONS = detections.for_analysis("key")
SIGNAL_ORDER = tuple(d.name for d in KEY_DETECTIONS)

# What each signal means, in the recipe's words where it has them (reports show it next to the flag).
SIGNAL_TITLES = {d.name: d.title for d in KEY_DETECTIONS}

_verdict = verdict  # the name tests and older callers use

# Actions that change something (what "affected resources" lists); reads are excluded.
READ_ACTIONS = frozenset({"accessed", "queried", "authorized", "login", "notification", "viewed"})

NORMAL = "NORMAL"
FIRST_TIME = "FLAG: first-time origin"

if TYPE_CHECKING:  # annotations only: pydantic (~0.2 s) loads when the API Keys endpoint is asked
    from ddaudit_tui.sources.api_keys import ApiKeyInfo


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
    sparkline or chart can be drawn directly; "flagged" counts events cited by a flag above INFO.

    When DDSQL aggregated the key (`report.aggregates`), `report.events` is a sample (the newest page,
    deletions, evidence): the counts are then its hourly counts of every event, and buckets under an hour
    are refused (ValueError; `smallest_bucket_ms` says what a chart may ask for). Flagged counts stay the
    cited events fetched."""
    w = window or report.window
    if bucket_ms <= 0 or w.end <= w.start:
        return []
    hourly = report.aggregates.per_hour if report.aggregates is not None else None
    if hourly is not None and bucket_ms % HOUR_MS:
        raise ValueError(f"{bucket_ms} ms buckets: the aggregates count whole hours")
    cited = {eid for f in report.flags if f.severity > Severity.INFO for eid in f.event_ids}
    first = w.start - w.start % bucket_ms
    n = (w.end - first + bucket_ms - 1) // bucket_ms
    counts = [0] * n
    flagged = [0] * n
    for e in report.events:
        if w.start <= e.ts < w.end:
            i = (e.ts - first) // bucket_ms
            if hourly is None:
                counts[i] += 1
            if e.id in cited:
                flagged[i] += 1
    for hour, events in hourly or ():
        if w.start - HOUR_MS < hour < w.end:  # an hour the window starts in counts whole
            counts[(max(hour, w.start) - first) // bucket_ms] += events
    return [(first + i * bucket_ms, counts[i], flagged[i]) for i in range(n)]


def smallest_bucket_ms(report: KeyReport) -> int:
    """The finest bucket `activity_buckets` can count: an hour when DDSQL aggregated the key, else a minute."""
    return HOUR_MS if report.aggregates is not None else MINUTE_MS


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
    aggregated: tuple[list[OriginGroup], list[EndpointGroup], list[EndpointGroup]] | None = None,
    deletions: Iterable[Event] | None = None,
    burst_counts: dict[int, int] | None = None,
    skip_signals: frozenset[str] = frozenset(),
    origin_cells: list[tuple[Event, OriginClass, int, int, int]] | None = None,
    fs_asn: FirstSeenResult | None = None,
    fs_ip: FirstSeenResult | None = None,
    hour_counts: tuple[dict[int, int], dict[str, set[int]]] | None = None,
    travel: TravelInput | None = None,
) -> KeyReport:
    """Analyse the events of key `key_id` in `window`.

    `events`: the key's events (`@metadata.api_key.id:K`); anything else, or outside the window, is
    ignored. `related`: events about the key as an asset (`@asset.type:api_key @asset.id:K`: its creation,
    changes, deletion, Datadog's token-leaked notification), from any time. `aggregated`: origins,
    endpoints and routes computed by DDSQL over every event (`key_engine`), used instead of grouping
    `events` (which may then be the newest part only); `deletions`: the key's deleted events and DELETE
    requests, fetched whole, used instead of picking them out of `events`. `burst_counts`: the events per
    burst interval over every event (`KeyContext.burst_counts`); `origin_cells`, `fs_asn` and `fs_ip`: the
    origins group-by (`KeyContext.origin_cells`) and the first-seen results computed from it per day. `skip_signals`: detections not run (they
    need every event and `events` holds only part: the caller says so in a warning).
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

    created, key_changes, notifications = _key_lifecycle(rel, api_key)
    if aggregated is not None:
        origins, endpoints, routes = aggregated
    else:
        origins = _origins(evs, classes, country_baseline)
        endpoints = _group_paths(evs, lambda e: e.http_path)
        routes = _group_paths(evs, lambda e: e.endpoint)
    if deletions is not None:
        dels = _dedupe(
            sorted(
                (
                    e
                    for e in deletions
                    if e.api_key_id and e.api_key_id.lower() == want and window.contains(e.ts)
                ),
                key=lambda e: (e.ts, e.id),
            )
        )
        destructive = _destructive(dels)
    else:
        destructive = _destructive(evs)
    affected = _affected(evs, destructive)

    fs_asn = fs_asn or first_seen(
        ((e.ts, asn_key(e), e.id) for e in evs),
        learning_ms=int(cfg.learning_days * DAY_MS),
        forget_ms=int(cfg.forget_days * DAY_MS) if cfg.forget_days else None,
    )
    fs_ip = fs_ip or first_seen(
        ((e.ts, e.client_ip, e.id) for e in evs),
        learning_ms=int(cfg.learning_days * DAY_MS),
        forget_ms=int(cfg.forget_days * DAY_MS) if cfg.forget_days else None,
        start_ms=fs_asn.learning_start,
    )

    ctx = KeyContext(
        key_id,
        evs,
        classes,
        cfg,
        notifications,
        api_key,
        origins,
        country_baseline,
        destructive,
        fs_asn,
        fs_ip,
        burst_counts=burst_counts,
        origin_cells=origin_cells,
        hour_counts=hour_counts,
        travel=travel,
    )
    flags: list[Flag] = []
    for detection in KEY_DETECTIONS:
        if detection.detect is None or detection.name in skip_signals:  # a definition only, or not judged
            continue
        flags += detection.detect(ctx)
    order = {s: i for i, s in enumerate(SIGNAL_ORDER)}
    flags = sort_flags(sorted(flags, key=lambda f: (order.get(f.signal, 99), str(f.subject or ""))))

    verdict_word, reasons = verdict(flags, len(evs))
    actions = recommended_actions(key_id, evs, created, key_changes, destructive, affected, api_key)

    event_signals: dict[str, set[str]] = defaultdict(set)
    for f in flags:
        for eid in f.event_ids:
            event_signals[eid].add(f.signal)

    baselines = {
        "countries": country_baseline.description,
        "hours": ctx.hours_description,
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
        verdict=verdict_word,
        verdict_reasons=reasons,
        recommended_actions=actions,
        baselines=baselines,
        warnings=list(warnings),
        event_signals={k: tuple(sorted(v)) for k, v in event_signals.items()},
        related=rel,
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


def origin_status(countries: set[str], baseline: CountryBaseline) -> tuple[str, str]:
    """A country group's status and the recipe's flag text, from the baseline's view of its countries
    (the paged and the aggregate engines share it: the same group reads the same on both)."""
    statuses = {baseline.status(k) for k in countries}
    if not countries:
        return "no_geo", "UNKNOWN: no geo data"
    if "new" in statuses:
        return "new", FIRST_TIME
    if "unknown" in statuses:
        return "unknown", "UNKNOWN: baseline unavailable"
    return "normal", NORMAL


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
        status, flag = origin_status(keys, baseline)
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


def _describe_learning(fs_asn: FirstSeenResult, fs_ip: FirstSeenResult, cfg: KeyAnalysisConfig) -> str:
    if fs_asn.learning_start is None:
        return "not evaluated (no network data)"
    period = f"{ts(fs_asn.learning_start)} → {ts(fs_asn.learning_end)}"
    if not fs_asn.evaluated:
        return f"not evaluated: the key's history is shorter than its {cfg.learning_days:g}-day learning period ({period})"
    return (
        f"learning period {period} (first {cfg.learning_days:g} days of the key's activity in the window): "
        f"{len(fs_ip.known)} IPs, {len(fs_asn.known)} networks; values unused for {cfg.forget_days:g} days are forgotten"
    )


def severity_counts(flags: Iterable[Flag]) -> dict[str, int]:
    counts = Counter(f.severity for f in flags)
    return {s.word: counts.get(s, 0) for s in sorted(Severity, reverse=True)}


__all__ = [
    "BURST", "CONCURRENT_IPS", "DESTRUCTIVE", "HIGH_IMPACT_TYPES", "FIRST_SEEN_ASN", "FIRST_SEEN_IP", "HOSTING_ASN",
    "IMPOSSIBLE_TRAVEL", "NEW_COUNTRY", "OFF_HOURS", "TOKEN_LEAKED", "VPN_ASN", "SIGNAL_ORDER",
    "SIGNAL_TITLES", "VERDICT_COMPROMISED", "VERDICT_NONE", "VERDICT_SUSPICIOUS", "CountryBaseline",
    "Creation", "Destructive", "EndpointGroup", "KeyAnalysisConfig", "KeyChange", "KeyReport", "Network",
    "KeySeen", "Notification", "OriginGroup", "Resource", "activity_buckets", "analyze_key", "smallest_bucket_ms", "country_key",
    "keys_seen", "resource_from_path",
    "severity_counts", "timeline_row",
]  # fmt: skip
