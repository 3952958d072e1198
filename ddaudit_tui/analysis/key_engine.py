"""The key lookup's engines (issue 16 item 2): page the search API, or let DDSQL aggregate.

`search` pages every event of the key (`DatadogClient.fetch`). `ddsql` asks Datadog's SQL engine for the
group-bys the report is made of — totals, origins (country, ASN, IP with counts), endpoints (path, route,
method, count), events per hour, distinct IPs per 30-minute bucket, first-seen time per IP and per ASN —
so their cost grows with the number of groups, not with events. Raw events travel only where a group-by
cannot stand in for them: the deletions (fetched on their own, whatever their number), the key's creation
and Datadog's notifications (the asset query, as with paging), and the events the sequence flags read,
paged newest first within the `max_pages` budget (`docs/ddsql.md`, "The aggregate engine", says which
flags and why). `auto` asks DDSQL for the count first (one request) and pages when the budget holds it.

The origins come from one group-by over the whole `@network.client` and `@threat_intel` objects: each
group is decoded into a stand-in event by the project's own decoder, so countries, ASNs and network
classes are read exactly as from a paged event. Pure of Textual; I/O only through the clients given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ddaudit_tui.analysis.asn import AsnLists, OriginClass, classify_event, load_asn_lists
from ddaudit_tui.analysis.detections.key_context import asn_key
from ddaudit_tui.analysis.key_model import (
    CountryBaseline,
    EndpointGroup,
    KeyAggregates,
    Network,
    OriginGroup,
    country_key,
)
from ddaudit_tui.analysis.keys import FIRST_TIME, NORMAL, _jq_order, _jq_unique
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.record import KIND_API, Event
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.sources.ddsql import AuditColumn, DdsqlClient, audit_query, filter_term
from ddaudit_tui.timeutil import Window, iso

ENGINES = ("auto", "search", "ddsql")
DEFAULT_MAX_PAGES = 50
ROW_LIMIT = 10_000  # DDSQL's maximum (ddsql-api.md §3.1 [V])

_TS = AuditColumn("timestamp", "ts", "TIMESTAMP")
_IP = AuditColumn("@network.client.ip", "ip")
_NET = AuditColumn("@network.client", "net", "JSON")
_TI = AuditColumn("@threat_intel", "ti", "JSON")
_PATH = AuditColumn("@http.url_details.path", "path")
_ROUTE = AuditColumn("@route.path", "route")
_METHOD = AuditColumn("@http.method", "method")


def validate_engine(engine: str, max_pages: int) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if max_pages < 1:
        raise ValueError(f"max_pages {max_pages} out of range: expected 1 or more")


def supports_ddsql(source: Any) -> bool:
    """Only the Datadog API client (real, demo or gateway) can speak DDSQL; files and preloaded events
    are read whole anyway."""
    from ddaudit_tui.sources.datadog import DatadogClient

    return isinstance(source, DatadogClient)


def deletions_query(key_id: str) -> str:
    """The key's deleted events and DELETE requests: what `destructive_action` reads, fetched whole."""
    return f"@metadata.api_key.id:{key_id} (@action:deleted OR @http.method:DELETE)"


def _filter(key_id: str) -> str:
    return filter_term("@metadata.api_key.id", key_id)


@dataclass
class Count:
    total: int
    first_seen: int | None
    last_seen: int | None
    requests: int


async def count_key_events(dd: DdsqlClient, key_id: str, window: Window) -> Count:
    """COUNT(*), MIN and MAX of the key's events: `auto`'s estimate, and the report's totals."""
    before = dd.requests
    sql = audit_query(["count(*) AS n", "min(ts) AS lo", "max(ts) AS hi"], [_TS], _filter(key_id))
    r = await dd.query(sql, window, limit=1)
    n, lo, hi = r.rows[0] if r.rows else (0, None, None)
    return Count(int(n or 0), lo, hi, dd.requests - before)


def pages_needed(total: int, page_limit: int) -> int:
    return math.ceil(total / page_limit) if total else 1


@dataclass
class OriginCell:
    """One group of the origins group-by: a stand-in event for its network fields, and its counts."""

    event: Event
    count: int
    first: int
    last: int


@dataclass
class Aggregated:
    aggregates: KeyAggregates
    origin_cells: list[OriginCell]
    endpoint_cells: list[tuple[str | None, str | None, str | None, int]]  # path, route, method, count
    warnings: list[str] = field(default_factory=list)


async def aggregate_key(dd: DdsqlClient, key_id: str, window: Window, count: Count) -> Aggregated:
    """The key's group-bys in DDSQL: four queries whatever the number of events."""
    before = dd.requests
    flt = _filter(key_id)
    origins = await dd.query(
        audit_query(
            ["net", "ti", "count(*) AS n", "min(ts) AS lo", "max(ts) AS hi"],
            [_NET, _TI, _TS],
            flt,
            group_by=["net", "ti"],
            order_by=["n DESC"],
        ),
        window,
        limit=ROW_LIMIT,
    )
    endpoints = await dd.query(
        audit_query(
            ["path", "route", "method", "count(*) AS n"],
            [_PATH, _ROUTE, _METHOD],
            flt,
            group_by=["path", "route", "method"],
            order_by=["n DESC"],
        ),
        window,
        limit=ROW_LIMIT,
    )
    hours = await dd.query(
        audit_query(
            ["date_trunc('hour', ts) AS h", "count(*) AS n"], [_TS], flt, group_by=["h"], order_by=["h"]
        ),
        window,
        limit=ROW_LIMIT,
    )
    halves = await dd.query(
        audit_query(
            ["date_bin('30 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS b", "count(DISTINCT ip) AS n"],
            [_TS, _IP],
            flt,
            group_by=["b"],
            order_by=["b"],
        ),
        window,
        limit=ROW_LIMIT,
    )
    cells = [
        OriginCell(_stand_in(i, net, ti, lo), int(n), int(lo), int(hi))
        for i, (net, ti, n, lo, hi) in enumerate(origins.rows)
    ]
    fs_ip: dict[str, int] = {}
    fs_asn: dict[str, int] = {}
    for c in cells:
        if c.event.client_ip:
            fs_ip[c.event.client_ip] = min(c.first, fs_ip.get(c.event.client_ip, c.first))
        a = asn_key(c.event)
        if a is not None:
            k = f"AS{a}" if isinstance(a, int) else a
            fs_asn[k] = min(c.first, fs_asn.get(k, c.first))
    results = {
        "origins": origins,
        "endpoints": endpoints,
        "hourly counts": hours,
        "30-minute buckets": halves,
    }
    cut = [name for name, r in results.items() if r.truncated]
    warnings = [f"DDSQL: the {name} group-by reached its row limit ({ROW_LIMIT:,}): partial" for name in cut]
    warnings += [f"DDSQL {name}: {w}" for name, r in results.items() for w in r.warnings]
    agg = KeyAggregates(
        total=count.total,
        first_seen=count.first_seen,
        last_seen=count.last_seen,
        per_hour=tuple((int(h), int(n)) for h, n in hours.rows),
        ips_per_30min=tuple((int(b), int(n)) for b, n in halves.rows),
        first_seen_ip=dict(sorted(fs_ip.items())),
        first_seen_asn=dict(sorted(fs_asn.items())),
        requests=count.requests + dd.requests - before,
        truncated=bool(cut),
    )
    ends = [(p, r, m, int(n)) for p, r, m, n in endpoints.rows]
    return Aggregated(agg, cells, ends, warnings)


def _stand_in(i: int, net: Any, ti: Any, ts: int) -> Event:
    """An event carrying one group's `network.client` and `threat_intel`, decoded like any other."""
    inner: dict[str, Any] = {}
    if isinstance(net, dict):
        inner["network"] = {"client": net}
    if isinstance(ti, dict):
        inner["threat_intel"] = ti
    item = {
        "id": f"ddsql-group-{i}",
        "type": "audit",
        "attributes": {"timestamp": iso(ts), "attributes": inner},
    }
    return decode_item(msgspec.json.encode(item), "ddsql", KIND_API)


# -- the report's groups from the aggregates (the same as keys._origins / _group_paths over events) ---------


def origins_from_cells(
    cells: Iterable[OriginCell], baseline: CountryBaseline, lists: AsnLists | None = None
) -> list[OriginGroup]:
    lists = lists or load_asn_lists()
    groups: dict[str | None, list[OriginCell]] = defaultdict(list)
    for c in cells:
        groups[c.event.country].append(c)
    out: list[OriginGroup] = []
    for country in sorted(groups, key=_jq_order):
        g = groups[country]
        keys = {country_key(c.event) for c in g} - {None}
        statuses = {baseline.status(k) for k in keys}
        if not keys:
            status, flag = "no_geo", "UNKNOWN: no geo data"
        elif "new" in statuses:
            status, flag = "new", FIRST_TIME
        elif "unknown" in statuses:
            status, flag = "unknown", "UNKNOWN: baseline unavailable"
        else:
            status, flag = "normal", NORMAL
        nets: dict[tuple[int | None, str | None, OriginClass], list[OriginCell]] = defaultdict(list)
        for c in g:
            nets[(c.event.asn, c.event.asn_name, classify_event(c.event, lists))].append(c)
        networks = sorted(
            (
                Network(
                    asn,
                    name,
                    cls,
                    sum(c.count for c in ns),
                    tuple(sorted({c.event.client_ip for c in ns if c.event.client_ip})),
                )
                for (asn, name, cls), ns in nets.items()
            ),
            key=lambda n: (-n.count, n.asn or 0, n.asn_name or ""),
        )
        isos = sorted({c.event.country_iso for c in g if c.event.country_iso})
        out.append(
            OriginGroup(
                country=country,
                count=sum(c.count for c in g),
                asns=_jq_unique(c.event.asn_name for c in g),
                ips=_jq_unique(c.event.client_ip for c in g),
                flag=flag,
                country_iso=isos[0] if isos else None,
                status=status,
                networks=tuple(networks),
                first_seen=min(c.first for c in g),
                last_seen=max(c.last for c in g),
            )
        )
    out.sort(key=lambda o: -o.count)
    return out


def endpoints_from_cells(
    cells: Iterable[tuple[str | None, str | None, str | None, int]], by_route: bool
) -> list[EndpointGroup]:
    counts: dict[str | None, int] = defaultdict(int)
    methods: dict[str | None, set[str | None]] = defaultdict(set)
    for path, route, method, n in cells:
        path, route, method = path or None, route or None, method or None  # decoded events hold no ""
        k = (route or (path.split("?", 1)[0] if path else None)) if by_route else path
        counts[k] += n
        methods[k].add(method)
    out = [EndpointGroup(p, _jq_unique(methods[p]), counts[p]) for p in sorted(counts, key=_jq_order)]
    out.sort(key=lambda g: -g.count)
    return out


# -- paging within the budget ---------------------------------------------------------------------------


async def page_within(client: Any, query: str, window: Window, max_pages: int) -> FetchResult:
    """The newest events matching `query`, at most `max_pages` pages; complete when the last page had no
    cursor. Serial on purpose: the budget is counted in requests."""
    events: list[Event] = []
    seen: set[str] = set()
    cursor: str | None = None
    pages = 0
    warnings: list[str] = []
    complete = True
    while True:
        page = await client.search_page(query, window, cursor=cursor, what="key events within the budget")
        pages += 1
        for e in page.events:
            if e.id not in seen:
                seen.add(e.id)
                events.append(e)
        warnings.extend(page.warnings)
        if page.status == "timeout":
            complete = False
            warnings.append("the search timed out server-side (meta.status: timeout): events may be missing")
        cursor = page.cursor
        if cursor is None:
            if page.next_unfollowable:
                complete = False
            break
        if pages >= max_pages:
            complete = False
            break
    return FetchResult(
        events=events, window=window, query=query, pages=pages, complete=complete, warnings=warnings
    )


__all__ = [
    "DEFAULT_MAX_PAGES",
    "ENGINES",
    "Aggregated",
    "Count",
    "OriginCell",
    "aggregate_key",
    "count_key_events",
    "deletions_query",
    "endpoints_from_cells",
    "origins_from_cells",
    "page_within",
    "pages_needed",
    "supports_ddsql",
    "validate_engine",
]
