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

import asyncio
import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ddaudit_tui.analysis.asn import AsnLists, OriginClass, classify_event, load_asn_lists
from ddaudit_tui.analysis.baseline import FirstSeenResult, NewValue
from ddaudit_tui.analysis.detections.key_context import asn_key
from ddaudit_tui.analysis.key_model import (
    CountryBaseline,
    EndpointGroup,
    KeyAggregates,
    Network,
    OriginGroup,
    country_key,
)
from ddaudit_tui.analysis.keys import _jq_order, _jq_unique, origin_status
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.record import KIND_API, Event
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.sources.ddsql_sql import AuditColumn, audit_query, filter_term
from ddaudit_tui.timeutil import Window, iso

ENGINES = ("auto", "search", "ddsql")
BUCKET_S = 300  # the aggregates' finest time bucket: `burst`'s default window, and a divisor of an hour
DEFAULT_MAX_PAGES = 50
ROW_LIMIT = 10_000  # DDSQL's maximum (ddsql-api.md §3.1 [V])

_TS = AuditColumn("timestamp", "ts", "TIMESTAMP")
_IP = AuditColumn("@network.client.ip", "ip")
_NET = AuditColumn("@network.client", "net", "JSON")
_TI = AuditColumn("@threat_intel", "ti", "JSON")
_PATH = AuditColumn("@http.url_details.path", "path")
_ROUTE = AuditColumn("@route.path", "route")
_METHOD = AuditColumn("@http.method", "method")
_ASN = AuditColumn("@network.client.geoip.as.number", "asn")
_ASN_NAME = AuditColumn("@network.client.geoip.as.name", "asn_name")
_CITY = AuditColumn("@network.client.geoip.city.name", "city")
_UA = AuditColumn("@http.useragent", "ua")

if TYPE_CHECKING:  # the client (and httpx) load when a DDSQL query is sent, not with the pane
    from ddaudit_tui.sources.ddsql import DdsqlClient


def validate_engine(engine: str, max_pages: int) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if max_pages < 1:
        raise ValueError(f"max_pages {max_pages} out of range: expected 1 or more")


def supports_ddsql(source: Any) -> bool:
    """Only the Datadog API client (real, demo or gateway) can speak DDSQL; files and preloaded events
    are read whole anyway."""
    from ddaudit_tui.sources.datadog import DatadogClient

    # A proxy that runs the client's calls on another loop (the TUI's LoopSource) names what it wraps.
    target = getattr(source, "ddsql_target", None)
    return isinstance(target if target is not None else source, DatadogClient)


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


# Past the budget the key's own events are not paged to the budget's end: the aggregates and the evidence
# statements give every flag they can, so only the newest page is read (the timeline's events). Paging
# 50 pages there cost 50 requests for nothing the report used.
SAMPLE_PAGES = 1
DELETION_PAGES = 10_000  # the deletions are paged whole (serially: usually one page, one request)


def budget_pages(total: int, page_limit: int, max_pages: int) -> int:
    """How many pages of the key's own events to read: all of them when the budget holds them, else
    the newest `SAMPLE_PAGES`."""
    return max_pages if pages_needed(total, page_limit) <= max_pages else SAMPLE_PAGES


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
    # Per 30-minute bucket: (start, distinct IPs, 2 when its events differ in network, city or user agent
    # else 1), over every event; `concurrency_ranges` fetches only the buckets where `concurrent_ips` could
    # flag.
    halves: list[tuple[int, int, int]] = field(default_factory=list)
    # Events per `BUCKET_S` bucket over every event: (bucket seconds, bucket number → events, cut).
    buckets: tuple[int, dict[int, int], bool] | None = None
    # Past the budget, `daily_cells` sent with the group-bys (or the DDSQL error it met).
    daily: tuple[list[tuple[Event, int, int, int]], bool] | Exception | None = None
    # Past the budget, `burst_candidates`, sent as soon as the bucket counts came (or its DDSQL error).
    burst: tuple[list[tuple[int, int]], bool] | Exception | None = None


@dataclass
class _Rows:
    """Part of a DDSQL result: its rows, and whether the statement was cut or warned."""

    rows: list[tuple[Any, ...]]
    truncated: bool
    warnings: list[str]


def halves_and_days_statement(flt: str) -> str:
    """One scan of the key's events for two group-bys: per 30-minute bucket (distinct IPs, smallest and
    largest network, city and user agent) and per day, IP, network and time zone (`daily_cells`). The
    events are grouped once by bucket, day, IP, network, city, user agent and zone (a bucket lies in one
    day), and both answers are rolled up from those groups, told apart by a `k` column (`UNION ALL`)."""
    cells = audit_query(
        [
            "date_bin('30 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS b",
            "date_trunc('day', ts) AS d",
            "ip",
            "asn",
            "asn_name",
            "city",
            "ua",
            "tz",
            "count(*) AS n",
            "min(ts) AS lo",
            "max(ts) AS hi",
        ],
        [_TS, _IP, _ASN, _ASN_NAME, _CITY, _UA, _TZ],
        flt,
        group_by=["b", "d", "ip", "asn", "asn_name", "city", "ua", "tz"],
    )
    halves = (
        "SELECT 'h' AS k, b AS t, count(DISTINCT ip) AS n, NULL AS ip, NULL AS asn, NULL AS asn_name, "
        "NULL AS tz, NULL AS lo, NULL AS hi, min(COALESCE(asn, '')) AS a0, max(COALESCE(asn, '')) AS a1, "
        "min(COALESCE(asn_name, '')) AS m0, max(COALESCE(asn_name, '')) AS m1, min(city) AS c0, "
        "max(city) AS c1, min(ua) AS u0, max(ua) AS u1 FROM c GROUP BY b"
    )
    days = (
        "SELECT 'd' AS k, d AS t, sum(n) AS n, ip, asn, asn_name, tz, min(lo) AS lo, max(hi) AS hi, "
        "NULL AS a0, NULL AS a1, NULL AS m0, NULL AS m1, NULL AS c0, NULL AS c1, NULL AS u0, NULL AS u1 "
        "FROM c GROUP BY d, ip, asn, asn_name, tz"
    )
    return f"WITH c AS ({cells}) {halves} UNION ALL {days} ORDER BY k DESC, t, ip, asn, asn_name, tz"


async def aggregate_key(
    dd: DdsqlClient, key_id: str, window: Window, count: Count, *, daily: bool = False, burst_cfg: Any = None
) -> Aggregated:
    """The key's group-bys in DDSQL: four queries whatever the number of events (five with `daily`: the
    use per IP, network and day that the flags past the budget read, sent with the others). With
    `burst_cfg` (past the budget), `burst_candidates` follows the bucket counts at once, while the other
    group-bys still run."""
    before = dd.requests
    flt = _filter(key_id)
    # The four statements are independent: sent together, their round trips overlap.
    origins_q = dd.query(
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
    endpoints_q = dd.query(
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

    # Events per 5 minutes (what `burst` counts, reused past the budget) also give the events per hour.
    async def buckets_q() -> tuple[dict[int, int], bool, Any]:
        from ddaudit_tui.sources.ddsql import DdsqlError

        counts, cut = await bucket_counts(dd, key_id, window, BUCKET_S)
        if burst_cfg is None or cut or burst_cfg.burst_window_s != BUCKET_S:
            return counts, cut, None
        try:
            return counts, cut, await burst_candidates(dd, key_id, window, counts, burst_cfg)
        except DdsqlError as exc:  # `burst` is then not evaluated (its warning says why)
            return counts, cut, exc

    halves_sql = audit_query(
        [
            "date_bin('30 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS b",
            "count(DISTINCT ip) AS n",
            # Two networks, cities or user agents in a bucket show as a smallest and a largest value
            # that differ (networks compared as number and name, as finely as `concurrent_ips` keys them
            # or finer): streaming aggregates, no second DISTINCT.
            "min(COALESCE(asn, '')) AS a0",
            "max(COALESCE(asn, '')) AS a1",
            "min(COALESCE(asn_name, '')) AS m0",
            "max(COALESCE(asn_name, '')) AS m1",
            "min(city) AS c0",
            "max(city) AS c1",
            "min(ua) AS u0",
            "max(ua) AS u1",
        ],
        [_TS, _IP, _ASN, _ASN_NAME, _CITY, _UA],
        flt,
        group_by=["b"],
        order_by=["b"],
    )

    async def halves_q() -> tuple[Any, tuple[list[tuple[Event, int, int, int]], bool] | None]:
        """The 30-minute buckets, and past the budget the use per day from the same scan of the events."""
        if not daily:
            return await dd.query(halves_sql, window, limit=ROW_LIMIT), None
        r = await dd.query(halves_and_days_statement(flt), window, limit=ROW_LIMIT)
        halves = [tuple(row[1:3]) + tuple(row[9:]) for row in r.rows if row[0] == "h"]
        # (ip, asn, asn_name, tz, day, events, first, last), as `daily_cells` reads them
        days = [(r_[3], r_[4], r_[5], r_[6], r_[1], r_[2], r_[7], r_[8]) for r_ in r.rows if r_[0] == "d"]
        return _Rows(halves, r.truncated, r.warnings), (_daily_rows(days), r.truncated)

    # The bucket counts first: `burst_candidates` waits for them.
    (buckets, buckets_cut, burst), origins, endpoints, (halves, days) = await asyncio.gather(
        buckets_q(), origins_q, endpoints_q, halves_q()
    )
    per_hour: dict[int, int] = {}
    for b, n in buckets.items():
        h = b * BUCKET_S * 1000 // 3_600_000 * 3_600_000
        per_hour[h] = per_hour.get(h, 0) + n
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
        "30-minute buckets": halves,
    }
    cut = [name for name, r in results.items() if r.truncated] + (["5-minute counts"] if buckets_cut else [])
    warnings = [f"DDSQL: the {name} group-by reached its row limit ({ROW_LIMIT:,}): partial" for name in cut]
    warnings += [f"DDSQL {name}: {w}" for name, r in results.items() for w in r.warnings]
    agg = KeyAggregates(
        total=count.total,
        first_seen=count.first_seen,
        last_seen=count.last_seen,
        per_hour=tuple(sorted(per_hour.items())),
        ips_per_30min=tuple((int(b), int(n)) for b, n, *_ in halves.rows),
        first_seen_ip=dict(sorted(fs_ip.items())),
        first_seen_asn=dict(sorted(fs_asn.items())),
        requests=count.requests + dd.requests - before,
        truncated=bool(cut),
    )
    ends = [(p, r, m, int(n)) for p, r, m, n in endpoints.rows]
    halves_rows = [
        (int(b), int(n), 2 if (a0, m0, c0, u0) != (a1, m1, c1, u1) else 1)
        for b, n, a0, a1, m0, m1, c0, c1, u0, u1 in halves.rows
    ]
    return Aggregated(agg, cells, ends, warnings, halves_rows, (BUCKET_S, buckets, buckets_cut), days, burst)


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


# -- what the flags need past the budget: exact inputs and bounded evidence ---------------------------------

# Flags a group-by plus bounded evidence computes exactly (docs/ddsql.md, "The aggregate engine"): all of
# them since `impossible_travel` reads DDSQL's location changes. A detection added later and missing here is
# not evaluated on a partial answer (no false alarm from a partial view).
EXACT_PAST_BUDGET = frozenset(
    {
        "token_leaked",
        "new_country",
        "concurrent_ips",
        "burst",
        "destructive_action",
        "vpn_asn",
        "hosting_asn",
        "first_seen_ip",
        "first_seen_asn",
        "off_hours",
        "impossible_travel",
    }
)
BUCKET_ROWS = 5_000  # rows per bucket-count statement, each holding up to BUCKET_COLUMNS buckets
BUCKET_COLUMNS = 64


async def bucket_counts(
    dd: DdsqlClient, key_id: str, window: Window, bucket_s: int
) -> tuple[dict[int, int], bool]:
    """Events per `bucket_s` bucket (bucket number = ts // bucket ms, as `burst` counts), over every
    event; and whether a statement was cut at the row limit. Each row holds m consecutive buckets (one
    column each, `sum(CASE …)`), so 90 days of 5-minute buckets (25,920) are one statement of 4,320 rows
    rather than four 30-day statements of one bucket per row."""
    size = bucket_s * 1000
    span = max(1, window.end - (window.start // size) * size)
    m = max(1, min(BUCKET_COLUMNS, math.ceil(span / size / BUCKET_ROWS)))
    stride = m * size
    chunks = []
    lo = window.start
    while lo < window.end:  # only when m is capped: a tiny bucket over a long window
        hi = min(window.end, (lo // stride) * stride + BUCKET_ROWS * stride)
        chunks.append(Window(lo, hi))
        lo = hi
    origin = "TIMESTAMP '1970-01-01 00:00:00'"
    # Counted per bucket first (one sort of the events), then m buckets folded into each row.
    inner = audit_query(
        [f"date_bin('{int(bucket_s)} seconds', ts, {origin}) AS s", "count(*) AS n"],
        [_TS],
        _filter(key_id),
        group_by=["s"],
    )
    binned = f"SELECT s, n, date_bin('{m * int(bucket_s)} seconds', s, {origin}) AS b FROM ({inner}) AS c"
    columns = []
    for j in range(m):
        at = f"b + INTERVAL '{j * int(bucket_s)} seconds'" if j else "b"
        columns.append(f"sum(CASE WHEN s = {at} THEN n ELSE 0 END) AS n{j}")
    sql = f"SELECT b, {', '.join(columns)} FROM ({binned}) AS t GROUP BY b"

    async def chunk(w: Window) -> Any:
        return await dd.query(sql, w, limit=ROW_LIMIT)

    results = await asyncio.gather(*(chunk(w) for w in chunks))  # independent: their round trips overlap
    counts: dict[int, int] = {}
    for r in results:
        for b, *ns in r.rows:
            for j, n in enumerate(ns):
                if n:
                    k = int(b) // size + j
                    counts[k] = counts.get(k, 0) + int(n)
    return counts, any(r.truncated for r in results)


def burst_ranges(counts: dict[int, int], cfg: Any) -> list[tuple[int, int]]:
    """Time ranges whose every event `burst` must see: two buckets from each bucket where a window
    starting in it could reach a burst (its count plus the next one's is an upper bound)."""
    import statistics

    if not counts:
        return []
    values = sorted(counts.values())
    median = statistics.median(values)
    scale = max(1.4826 * statistics.median(abs(c - median) for c in values), 1.0)
    baseline_ok = len(values) >= cfg.burst_min_baseline_buckets
    size = cfg.burst_window_s * 1000
    out = []
    for b in sorted(counts):
        n = counts[b] + counts.get(b + 1, 0)
        relative = baseline_ok and n >= cfg.burst_min_events and (n - median) / scale >= cfg.burst_z
        if relative or n >= cfg.burst_absolute:
            out.append((b * size, (b + 2) * size))
    return out


def burst_threshold(counts: dict[int, int], cfg: Any) -> int:
    """The fewest events in one `burst_window_s` window that `burst` flags, given the key's bucket counts:
    relative to its rate once it has a baseline (the detection's own arithmetic), else the absolute one."""
    import statistics

    values = sorted(counts.values()) or [0]
    median = statistics.median(values)
    scale = max(1.4826 * statistics.median(abs(c - median) for c in values), 1.0)
    if len(values) < cfg.burst_min_baseline_buckets:
        return int(cfg.burst_absolute)
    n = max(int(cfg.burst_min_events), math.ceil(median + cfg.burst_z * scale) - 2, 1)
    while (n - median) / scale < cfg.burst_z:
        n += 1
    return n


async def burst_candidates(
    dd: DdsqlClient, key_id: str, window: Window, counts: dict[int, int], cfg: Any
) -> tuple[list[tuple[int, int]], bool]:
    """The time ranges whose every event `burst` must see, from one statement: with K the threshold, a
    window starting at an event holds K events or more exactly when the event K − 1 places later is less
    than a window later (`LEAD`). Each such start's window is fetched, so the detection counts every one
    of them exactly; and whether the row limit cut the answer."""
    k = burst_threshold(counts, cfg)
    w_s = int(cfg.burst_window_s)
    inner = audit_query(["ts", f"LEAD(ts, {k - 1}) OVER (ORDER BY ts) AS later"], [_TS], _filter(key_id))
    r = await dd.query(
        f"SELECT date_bin('{w_s} seconds', ts, TIMESTAMP '1970-01-01 00:00:00') AS b, min(ts) AS lo, "
        f"max(ts) AS hi FROM ({inner}) AS s WHERE later < ts + INTERVAL '{w_s} seconds' GROUP BY b ORDER BY b",
        window,
        limit=ROW_LIMIT,
    )
    return [(int(lo), int(hi) + w_s * 1000) for _b, lo, hi in r.rows], r.truncated


def concurrency_ranges(halves: Iterable[tuple[int, ...]], bucket_ms: int) -> list[tuple[int, int]]:
    """The buckets where `concurrent_ips` could flag — two IPs or more, and (when the row says) two
    network/city/user-agent combinations: several IPs of one network, city and client flag nothing. The
    detection judges each one whole."""
    out = []
    for b, n, *more in halves:
        if n >= 2 and (not more or max(more) >= 2):
            out.append((b, b + bucket_ms))
    return out


def merge_ranges(ranges: Iterable[tuple[int, int]], window: Window) -> list[Window]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        lo, hi = max(lo, window.start), min(hi, window.end)
        if lo >= hi:
            continue
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [Window(lo, hi) for lo, hi in out]


MAX_EVIDENCE_RANGES = 200  # time ranges OR-ed into one evidence statement

# The objects a stand-in event is rebuilt from: everything the detections and the timeline read.
_EVIDENCE = (
    AuditColumn("id", "id"),
    _TS,
    _NET,
    _TI,
    AuditColumn("@http", "http", "JSON"),
    AuditColumn("@route", "route", "JSON"),
    AuditColumn("@evt", "evt", "JSON"),
    AuditColumn("@action", "action"),
    AuditColumn("@asset", "asset", "JSON"),
    AuditColumn("@usr", "usr", "JSON"),
    AuditColumn("@metadata", "metadata", "JSON"),
)


def _sql_ts(ms: int) -> str:
    return "TIMESTAMP '" + datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "'"


def _evidence_filter(key_id: str, country: str | None, ips: Iterable[str]) -> str:
    flt = _filter(key_id)
    if country is not None:
        flt += " " + filter_term("@network.client.geoip.country.name", country)
    ip_list = sorted(ips)
    if ip_list:
        flt += " (" + " OR ".join(filter_term("@network.client.ip", ip) for ip in ip_list) + ")"
    return flt


def _evidence_event(v: dict[str, Any]) -> Event:
    inner: dict[str, Any] = {}
    for name, path in (("net", ("network", "client")), ("ti", ("threat_intel",))):
        if isinstance(v[name], dict):
            _put(inner, path, v[name])
    for name in ("http", "route", "evt", "asset", "usr", "metadata"):
        if isinstance(v[name], dict):
            inner[name] = v[name]
    if v["action"] is not None:
        inner["action"] = v["action"]
    item = {
        "id": v["id"],
        "type": "audit",
        "attributes": {"timestamp": iso(v["ts"]), "attributes": inner},
    }
    return decode_item(msgspec.json.encode(item), "ddsql", KIND_API)


async def evidence_rows(
    dd: DdsqlClient,
    key_id: str,
    window: Window,
    *,
    ranges: list[Window] | None = None,
    country: str | None = None,
    ips: Iterable[str] = (),
    since: int | None = None,
    limit: int = ROW_LIMIT,
) -> tuple[list[Event], bool]:
    """The key's events in `ranges` (or its first `limit` from `country`), oldest first, as DDSQL rows
    decoded into events; and whether the row limit cut them."""
    ip_list = sorted(ips)
    flt = _evidence_filter(key_id, country, ip_list)
    where = None
    if ranges:
        where = " OR ".join(f"(ts >= {_sql_ts(w.start)} AND ts < {_sql_ts(w.end)})" for w in ranges)
    elif since is not None:
        where = f"ts >= {_sql_ts(since)}"
    names = [c.name for c in _EVIDENCE]
    r = await dd.query(
        audit_query(names, list(_EVIDENCE), flt, where=where, order_by=["ts", "id"]), window, limit=limit
    )
    events = [_evidence_event(dict(zip(names, row, strict=True))) for row in r.rows]
    return events, r.truncated and country is None and not ip_list


@dataclass(frozen=True)
class EvidencePart:
    """One bounded evidence sample: the key's first `limit` events (from `since`) from `country` or `ips`."""

    limit: int
    country: str | None = None
    ips: tuple[str, ...] = ()
    since: int | None = None


async def evidence_parts(
    dd: DdsqlClient, key_id: str, window: Window, parts: list[EvidencePart]
) -> list[list[Event]]:
    """Several bounded evidence samples in one statement (`UNION ALL` of one ordered, limited SELECT per
    sample, a discriminator column naming it): the flags' first events cost one request, not one each.
    Samples that together exceed the row limit go in several statements, sent together."""
    groups: list[list[int]] = []
    size = 0
    for i, part in enumerate(parts):
        if not groups or size + part.limit > ROW_LIMIT:
            groups.append([])
            size = 0
        groups[-1].append(i)
        size += part.limit
    out: list[list[Event]] = [[] for _ in parts]
    results = await asyncio.gather(*(_evidence_union(dd, key_id, window, parts, g) for g in groups))
    for got in results:
        for i, e in got:
            out[i].append(e)
    for events in out:
        events.sort(key=lambda e: (e.ts, e.id))
    return out


async def _evidence_union(
    dd: DdsqlClient, key_id: str, window: Window, parts: list[EvidencePart], which: list[int]
) -> list[tuple[int, Event]]:
    names = [c.name for c in _EVIDENCE]
    selects = []
    for i in which:
        part = parts[i]
        where = f"ts >= {_sql_ts(part.since)}" if part.since is not None else None
        inner = audit_query(
            names,
            list(_EVIDENCE),
            _evidence_filter(key_id, part.country, part.ips),
            where=where,
            order_by=["ts", "id"],
            limit=part.limit,
        )
        selects.append(f"SELECT {i} AS part, {', '.join(names)} FROM ({inner}) AS p{i}")
    total = sum(parts[i].limit for i in which)
    r = await dd.query(" UNION ALL ".join(selects), window, limit=min(ROW_LIMIT, max(1, total)))
    return [(int(row[0]), _evidence_event(dict(zip(names, row[1:], strict=True)))) for row in r.rows]


def _put(d: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for p in path[:-1]:
        d = d.setdefault(p, {})
    d[path[-1]] = value


def classed_cells(
    cells: Iterable[OriginCell], lists: AsnLists | None = None
) -> list[tuple[Event, OriginClass, int, int, int]]:
    """`KeyContext.origin_cells`: each origins group with its network class."""
    lists = lists or load_asn_lists()
    return [(c.event, classify_event(c.event, lists), c.count, c.first, c.last) for c in cells]


def non_eyeball_networks(cells: Iterable[OriginCell], lists: AsnLists | None = None) -> list[list[str]]:
    """The IPs of each VPN, proxy or hosting network: `vpn_asn` and `hosting_asn` cite its first events."""
    nets: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for e, cls, _n, _lo, _hi in classed_cells(cells, lists):
        if cls.non_eyeball and e.client_ip:
            nets[(e.asn, e.asn_name, cls)].add(e.client_ip)
    return [sorted(ips) for ips in nets.values()]


def fs_asn_from_cells(cells: Iterable[OriginCell], learning_ms: int) -> FirstSeenResult:
    """The network baseline `first_seen` learns (its learning period and known values) from the groups:
    the values seen in the first `learning_ms` of the key's activity. New values are left to
    `first_seen_asn`, which is not evaluated on a partial answer."""
    rows = [(c.first, c.last, asn_key(c.event)) for c in cells if asn_key(c.event) is not None]
    if not rows:
        return FirstSeenResult(None, None)
    start = min(r[0] for r in rows)
    end = start + learning_ms
    result = FirstSeenResult(start, end)
    if max(r[1] for r in rows) < end:
        result.known = {v for _, _, v in rows}
        return result
    result.evaluated = True
    result.known = {v for first, _, v in rows if first < end}
    return result


DAY_MS = 86_400_000
_TZ = AuditColumn("@network.client.geoip.timezone", "tz")


def zone_days(
    rows: Iterable[tuple[Event, int, int, int]], cells: Iterable[OriginCell], lists: AsnLists | None = None
) -> dict[str, set[int]] | None:
    """Per geoip time zone, the UTC days the key was used from a network that does not anonymise (what
    `off_hours` takes the home zone from), from `daily_cells`; None when an IP's origins groups disagree
    on whether it anonymises (its days could not be told apart)."""
    anonymising: dict[str, set[bool]] = defaultdict(set)
    for e, cls, *_ in classed_cells(cells, lists):
        if e.client_ip:
            anonymising[e.client_ip].add(cls.anonymising)
    days: dict[str, set[int]] = defaultdict(set)
    for e, _n, lo, _hi in rows:
        if not e.geo_timezone:
            continue
        seen = anonymising.get(e.client_ip, {False}) if e.client_ip else {False}
        if len(seen) > 1:
            return None
        if not next(iter(seen)):
            days[e.geo_timezone].add(lo // DAY_MS)
    return dict(days)


MAX_NEW_VALUES = 20  # first-seen values whose first events are fetched (one statement each)


async def daily_cells(
    dd: DdsqlClient, key_id: str, window: Window
) -> tuple[list[tuple[Event, int, int, int]], bool]:
    """The key's use per IP, network and UTC day: (stand-in event, events, first, last) per group; and
    whether the row limit cut it. `first_seen` needs when each value was used, to the day, and reads only
    the IP and the network (number, else name) of each group: grouped by those scalars, not by the whole
    `@network.client` object, the statement sorts a few bytes per event instead of a kilobyte."""
    r = await dd.query(
        audit_query(
            [
                "ip",
                "asn",
                "asn_name",
                "tz",
                "date_trunc('day', ts) AS d",
                "count(*) AS n",
                "min(ts) AS lo",
                "max(ts) AS hi",
            ],
            [_IP, _ASN, _ASN_NAME, _TZ, _TS],
            _filter(key_id),
            group_by=["d", "ip", "asn", "asn_name", "tz"],  # the day first: cheaper to sort on
        ),
        window,
        limit=ROW_LIMIT,
    )
    return _daily_rows(r.rows), r.truncated


def _daily_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Event, int, int, int]]:
    """(ip, asn, asn_name, tz, day, events, first, last) rows as (stand-in event, events, first, last)."""
    out = []
    for i, (ip, asn, name, tz, _d, n, lo, hi) in enumerate(rows):
        net: dict[str, Any] = {}
        if ip is not None:
            net["ip"] = ip
        geo: dict[str, Any] = {}
        if asn is not None or name is not None:
            geo["as"] = {k: v for k, v in (("number", asn), ("name", name)) if v is not None}
        if tz is not None:
            geo["timezone"] = tz  # `off_hours` takes the home zone from the days per zone
        if geo:
            net["geoip"] = geo
        out.append((_stand_in(i, net, None, lo), int(n), int(lo), int(hi)))
    return out


def first_seen_from_days(
    rows: Iterable[tuple[object, int, int, int]],
    learning_ms: int,
    forget_ms: int | None,
    start_ms: int | None = None,
) -> FirstSeenResult:
    """`baseline.first_seen` over (value, events, first, last) per value and day, without the event ids
    (the caller fetches each new value's first events). Exact while `forget_ms` is a day or more: a gap
    longer than that lies between two days, from one day's last use to the next one's first."""
    days: dict[object, dict[int, list[int]]] = defaultdict(dict)
    for v, n, lo, hi in rows:
        if v is None:
            continue
        d = days[v].setdefault(lo // DAY_MS, [0, lo, hi])
        d[0] += n
        d[1], d[2] = min(d[1], lo), max(d[2], hi)
    if not days:
        return FirstSeenResult(None, None)
    start = min(d[1] for per in days.values() for d in per.values()) if start_ms is None else start_ms
    end = start + learning_ms
    result = FirstSeenResult(start, end)
    if max(d[2] for per in days.values() for d in per.values()) < end:
        result.known = set(days)
        return result
    result.evaluated = True
    for v, per in days.items():
        prev: int | None = None
        current: NewValue | None = None
        for n, lo, hi in sorted(per.values(), key=lambda d: d[1]):
            if lo < end:
                result.known.add(v)
            elif prev is None or (forget_ms is not None and lo - prev > forget_ms):
                current = NewValue(v, lo, returned_after_ms=None if prev is None else lo - prev)
                result.new.append(current)
            if current is not None:
                current.count += n
            prev = hi
    result.new.sort(key=lambda nv: (nv.first_ts, str(nv.value)))
    return result


# -- impossible_travel past the budget: the location changes, found by DDSQL ------------------------------

_ID = AuditColumn("id", "id")
_ASN_TYPE = AuditColumn("@network.client.geoip.as.type", "asn_type")
_LAT = AuditColumn("@network.client.geoip.location.latitude", "lat", "DECIMAL")
_LON = AuditColumn("@network.client.geoip.location.longitude", "lon", "DECIMAL")
_COUNTRY = AuditColumn("@network.client.geoip.country.name", "country")
# `valid_coordinates` in SQL: the events `impossible_travel` skips never split a run.
_VALID = (
    "lat IS NOT NULL AND lon IS NOT NULL AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 "
    "AND NOT (lat = 0 AND lon = 0)"
)
_IN_ORDER = "OVER (ORDER BY ts, id)"
# What makes two consecutive events one run: the network number, its type and the threat-intel results
# (everything the network class reads, so a run has one class), and the IP when there is no network number
# (then `impossible_travel` compares IPs, not networks).
_RUN_KEY = ("ka", "kt", "ki", "kp")
MAX_TRAVEL_COUNTS = 200  # places whose flagged events are counted by the follow-up statement
TRAVEL_ROW_LIMIT = ROW_LIMIT


def travel_statement(key_id: str) -> str:
    """The rows `impossible_travel` needs, in time order: the key's events (with usable coordinates) cut
    into runs of one network (number, type, threat intel; the IP when there is no number), and of each
    run its first and last event and the first event at each place (IP and coordinates) with how many
    events the place has in the run and the last one's time. Its rows grow with the location changes, not
    with the events: a CI fleet rotating through three NAT addresses of one network is one run."""
    inner = audit_query(
        [
            "ts",
            "id",
            "ip",
            "asn",
            "asn_type",
            "lat",
            "lon",
            "city",
            "country",
            "COALESCE(asn, '') AS ka",
            "COALESCE(asn_type, '') AS kt",
            "COALESCE(json_extract_path_text(ti, 'results'), '') AS ki",
            "CASE WHEN COALESCE(asn, '') = '' THEN COALESCE(ip, '') ELSE '' END AS kp",
        ],
        [_TS, _ID, _IP, _ASN, _ASN_TYPE, _LAT, _LON, _CITY, _COUNTRY, _TI],
        _filter(key_id),
        where=_VALID,
    )

    def differs(fn: str) -> str:
        return " OR ".join(
            [f"{fn}(ts) {_IN_ORDER} IS NULL", *(f"{k} <> {fn}({k}) {_IN_ORDER}" for k in _RUN_KEY)]
        )

    marked = (
        f"SELECT v.*, CASE WHEN {differs('LAG')} THEN 1 ELSE 0 END AS chg, "
        f"CASE WHEN {differs('LEAD')} THEN 1 ELSE 0 END AS fin FROM ({inner}) AS v"
    )
    runs = (
        "SELECT c.*, SUM(chg) OVER (ORDER BY ts, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run "
        f"FROM ({marked}) AS c"
    )
    place = "PARTITION BY run, ip, lat, lon"
    places = (
        f"SELECT s.*, ROW_NUMBER() OVER ({place} ORDER BY ts, id) AS si, COUNT(*) OVER ({place}) AS sn, "
        f"MAX(ts) OVER ({place}) AS sl FROM ({runs}) AS s"
    )
    return (
        "SELECT ts, id, ip, asn, asn_type, lat, lon, city, country, ki, run, chg, fin, si, sn, sl "
        f"FROM ({places}) AS p WHERE chg = 1 OR fin = 1 OR si = 1 ORDER BY ts, id"
    )


@dataclass
class TravelRuns:
    """What `impossible_travel` judges past the budget (`KeyContext.travel`): stand-ins for the first and
    last event of each run of an eyeball network (between them the key stays on one network or IP, so no
    hop), and for the first event at each place of a run of a VPN, proxy or hosting network (each of its
    events is judged against the same baseline, the last eyeball event before the run)."""

    events: list[Event]
    classes: dict[str, OriginClass]
    places: dict[str, tuple[int, int]]  # stand-in id → (events at its place in its run, the last one's time)
    rows: int = 0
    truncated: bool = False
    problem: str = ""  # why the runs cannot stand in for the events ("" when they can)


async def travel_rows(
    dd: DdsqlClient, key_id: str, window: Window, lists: AsnLists | None = None
) -> TravelRuns:
    """One statement (`travel_statement`): the key's location changes, as a `TravelRuns`."""
    r = await dd.query(travel_statement(key_id), window, limit=TRAVEL_ROW_LIMIT)
    return travel_sequence(r.rows, lists, truncated=r.truncated)


def travel_sequence(
    rows: Iterable[tuple[Any, ...]], lists: AsnLists | None = None, *, truncated: bool = False
) -> TravelRuns:
    """The rows of `travel_statement` as the sequence `impossible_travel` judges."""
    from ddaudit_tui.events.decode import parse_asn

    lists = lists or load_asn_lists()
    runs: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    n = 0
    problem = ""
    for row in rows:
        n += 1
        runs[int(row[10])].append(row)
        asn = row[3]
        if asn is not None and str(asn).strip() and parse_asn(asn) is None and not problem:
            # A network "number" that is no number: `impossible_travel` then compares IPs, which the
            # runs (one per network) do not keep apart.
            problem = f"a network number that is not a number ({str(asn)[:40]!r})"
    events: dict[str, Event] = {}
    places: dict[str, tuple[int, int]] = {}
    for run in sorted(runs):
        got = runs[run]
        first = next((row for row in got if row[11]), got[0])
        cls = classify_event(_travel_event(first), lists)
        if cls.non_eyeball:
            for row in got:
                if row[13] == 1:
                    e = events.setdefault(row[1], _travel_event(row))
                    places[e.id] = (int(row[14]), int(row[15]))
        else:
            for row in got:
                if row[11] or row[12]:
                    events.setdefault(row[1], _travel_event(row))
    seq = sorted(events.values(), key=lambda e: (e.ts, e.id))
    classes = {e.id: classify_event(e, lists) for e in seq}
    return TravelRuns(seq, classes, places, n, truncated, problem)


def _travel_event(row: tuple[Any, ...]) -> Event:
    """A stand-in for one event of `travel_statement`: its id, time, IP, network, place and threat intel,
    decoded like any event."""
    ts_ms, event_id, ip, asn, asn_type, lat, lon, city, country, ki = row[:10]
    geo: dict[str, Any] = {}
    as_ = {k: v for k, v in (("number", asn), ("type", asn_type)) if v is not None}
    if as_:
        geo["as"] = as_
    if lat is not None or lon is not None:
        geo["location"] = {"latitude": lat, "longitude": lon}
    if city is not None:
        geo["city"] = {"name": city}
    if country is not None:
        geo["country"] = {"name": country}
    net: dict[str, Any] = {"ip": ip} if ip is not None else {}
    if geo:
        net["geoip"] = geo
    inner: dict[str, Any] = {"network": {"client": net}}
    if ki:
        with contextlib.suppress(msgspec.DecodeError):  # not JSON: read as no results
            inner["threat_intel"] = {"results": msgspec.json.decode(ki)}
    item = {
        "id": event_id,
        "type": "audit",
        "attributes": {"timestamp": iso(int(ts_ms)), "attributes": inner},
    }
    return decode_item(msgspec.json.encode(item), "ddsql", KIND_API)


class TravelHops:
    """`hops(last, e)` for `impossible_travel` over `TravelRuns`: a stand-in for the first event at a place
    of a VPN/proxy/hosting run counts every event there that the detection would flag against the same
    baseline. Those are the first ones (the speed falls as time passes): all of them when the last one is
    flagged, else up to the last flagged instant (found with the detection's own `judge`), counted by a
    follow-up statement (`travel_counts`). Until then `needed` names them and they count 1."""

    def __init__(self, runs: TravelRuns, cfg: Any) -> None:
        self.places = runs.places
        self.cfg = cfg
        self.counts: dict[str, int] = {}
        self.needed: dict[str, tuple[Event, int]] = {}

    def __call__(self, last: Event, e: Event) -> int:
        from ddaudit_tui.analysis.detections.impossible_travel import judge

        place = self.places.get(e.id)
        if place is None or place[0] <= 1:
            return 1
        n, end = place
        history = self.cfg.travel_history_s * 1000

        def flagged(at: int) -> bool:
            return at - last.ts <= history and judge(self.cfg, last, e, True, at) is not None

        if flagged(end):
            return n
        lo, hi = e.ts, end  # flagged at e.ts (the detection asks only then), not at `end`
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if flagged(mid) else (lo, mid)
        if e.id in self.counts:
            return self.counts[e.id]
        self.needed[e.id] = (e, lo)
        return 1


def _num(x: float) -> str:
    return repr(float(x))


async def travel_counts(
    dd: DdsqlClient, key_id: str, window: Window, needed: dict[str, tuple[Event, int]]
) -> dict[str, int]:
    """For each place (stand-in id → (its first event, the last flagged instant)): its events from the
    first to that instant, in one statement (a CASE names the place of each counted event)."""
    from ddaudit_tui.sources.ddsql_sql import sql_literal

    conds = []
    for e, until in needed.values():
        ip = "ip IS NULL" if e.client_ip is None else f"ip = {sql_literal(e.client_ip)}"
        start = _sql_ts(e.ts)
        conds.append(
            f"({ip} AND lat = {_num(e.lat or 0)} AND lon = {_num(e.lon or 0)} AND (ts > {start} OR "
            f"(ts = {start} AND id >= {sql_literal(e.id)})) AND ts <= {_sql_ts(until)})"
        )
    which = "CASE " + " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(conds)) + " END"
    r = await dd.query(
        audit_query(
            [f"{which} AS g", "count(*) AS n"],
            [_TS, _ID, _IP, _LAT, _LON],
            _filter(key_id),
            where=" OR ".join(conds),
            group_by=["g"],
        ),
        window,
        limit=max(1, len(conds)),
    )
    ids = list(needed)
    return {ids[int(g)]: int(n) for g, n in r.rows if g is not None}


async def travel_input(
    dd: DdsqlClient, key_id: str, window: Window, cfg: Any, runs: TravelRuns
) -> tuple[Any, str]:
    """`KeyContext.travel` from the runs: (input, "") or (None, why it is not evaluated)."""
    from ddaudit_tui.analysis.detections.impossible_travel import travel
    from ddaudit_tui.analysis.detections.key_context import TravelInput

    if runs.truncated:
        return None, f"over {TRAVEL_ROW_LIMIT:,} location changes (the DDSQL row limit)"
    if runs.problem:
        return None, runs.problem
    hops = TravelHops(runs, cfg)
    travel(runs.events, runs.classes, cfg, hops)  # a first pass names the places to count
    if len(hops.needed) > MAX_TRAVEL_COUNTS:
        return None, f"{len(hops.needed):,} places to count (at most {MAX_TRAVEL_COUNTS})"
    if hops.needed:
        hops.counts = await travel_counts(dd, key_id, window, hops.needed)
        missing = set(hops.needed) - set(hops.counts)
        if missing:
            return None, "the events at a place could not be counted"
    return TravelInput(runs.events, runs.classes, hops), ""


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
        status, flag = origin_status(keys, baseline)
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
    sample = False
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
            sample = complete and not warnings  # the budget alone stopped it
            complete = False
            # Said, so that the answer's partial line names why (not "some events could not be fetched").
            warnings.append(
                f"the newest {len(events):,} events only ({pages:,} page{'s' if pages != 1 else ''})"
            )
            break
    return FetchResult(
        events=events, window=window, query=query, pages=pages, complete=complete, warnings=warnings,
        sample=sample,
    )  # fmt: skip


__all__ = [
    "DEFAULT_MAX_PAGES",
    "MAX_EVIDENCE_RANGES",
    "ROW_LIMIT",
    "EXACT_PAST_BUDGET",
    "DELETION_PAGES",
    "SAMPLE_PAGES",
    "MAX_TRAVEL_COUNTS",
    "TravelHops",
    "TravelRuns",
    "bucket_counts",
    "budget_pages",
    "burst_candidates",
    "burst_ranges",
    "burst_threshold",
    "concurrency_ranges",
    "classed_cells",
    "daily_cells",
    "first_seen_from_days",
    "evidence_rows",
    "evidence_parts",
    "EvidencePart",
    "fs_asn_from_cells",
    "non_eyeball_networks",
    "merge_ranges",
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
    "travel_counts",
    "travel_input",
    "travel_rows",
    "travel_sequence",
    "travel_statement",
    "validate_engine",
]
