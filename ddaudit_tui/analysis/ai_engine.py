"""The AI activity summary's aggregate engine (issue 16): DDSQL counts the bulk, raw events travel only
where a finding needs them.

The bulk of an org's AI activity is MCP Server *reads* — tool calls whose name says they access
something (`search_logs`, `get_monitor`) — and connection set-ups. Their attribution (person, client,
tool, verb, resource family) and the recipe's summary read a handful of scalar fields, so one DDSQL
GROUP BY over those fields (`CELL_FIELDS`), with `count(*)`, `min(ts)` and `max(ts)`, stands for all of
them: each group is decoded into a stand-in event by the project's own decoder and attributed by
`ai_calls` like any event, then counted `n` times (`ai.CallGroup`). Everything else is fetched whole by
the search API: every AI event that is not an MCP Server event (Bits AI SRE, agent actions, the product
events an MCP call caused, raw MCP requests), MCP Server tool calls whose name does not say "read"
(their arguments name the resources they change), and MCP Server events with neither tool nor
connection. The two sets partition the AI events exactly: a group is bulk or not by the same attribution
its events get.

The flags then read whole events, fetched for the subjects that can flag:
- `ai_destructive`: the changes, all among the events fetched whole;
- `ai_first_time_user`, `ai_support_user`, `ai_out_of_scope`, `ai_new_client`: their firing condition is
  a set (no AI before, a SUPPORT_USER actor, a family outside the scope, a client not seen before), so a
  first pass of the detections over the groups names exactly the people and clients that will flag; all
  their MCP Server events are fetched (one search ORs them all), so each flag cites and counts what
  paging would;
- `ai_burst`: counted tool calls per person per burst-window bucket (a GROUP BY); a window that
  reaches the threshold lies in two adjacent buckets whose sum does, and only those ranges are fetched.
The timeline is a GROUP BY per timeline bucket and person (the burst buckets themselves when a timeline
bucket is made of whole burst buckets). `--user` fetches that person's events whole.

Requests grow with groups and findings, not with people (issue 16): the events fetched whole are one search
(`whole_filters`), the flagged subjects' evidence another, each OR-ing its clauses within a length bound
(`ai_queries.any_of`) and split back client-side; the independent searches and group-bys run concurrently.

Pure of Textual; I/O only through the source and DDSQL client given.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddaudit_tui.analysis.ai import (
    ACCESSED,
    CONNECTION,
    TOOL_CALL,
    AiActivity,
    AiCall,
    AiConfig,
    Baseline,
    CallGroup,
    analyze_groups,
    attribute_events,
    groups_of,
    tool_intent,
)
from ddaudit_tui.analysis.ai import _detect as detect_flags
from ddaudit_tui.analysis.ai_calls import _kind as call_kind
from ddaudit_tui.analysis.ai_model import timeline_bucket
from ddaudit_tui.analysis.ai_queries import _identities, any_of, client_clause, identity_clause, quote
from ddaudit_tui.analysis.ddsql_groups import stand_in
from ddaudit_tui.analysis.key_engine import merge_ranges, pages_needed
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.ddsql_sql import AuditColumn, audit_query, filter_term
from ddaudit_tui.timeutil import Window

if TYPE_CHECKING:
    from ddaudit_tui.sources.ddsql import DdsqlClient

ENGINES = ("auto", "search", "ddsql")
ROW_LIMIT = 10_000  # DDSQL's maximum (ddsql-api.md §3.1 [V])
MCP = '@evt.name:"MCP Server"'
CONNECTION_TEXT = "initialized a connection"  # ai_calls._kind reads it in the message
MAX_BURST_RANGES = 50  # candidate burst ranges fetched whole; past it, `ai_burst` is not evaluated
# Flags whose subjects are found by a first pass over the groups (their condition is a set, not a count).
SUBJECT_FLAGS = frozenset({"ai_first_time_user", "ai_support_user", "ai_out_of_scope"})

# The fields the attribution, the recipe's summary and the detections read from an MCP Server read or
# connection (dd.audit column, name in the statement).
CELL_FIELDS: tuple[tuple[str, str], ...] = (
    ("@evt.name", "evt"),
    ("@metadata.tool.name", "tool"),
    ("@metadata.client.name", "mcp"),
    ("@metadata.oauth_client.name", "oauth"),
    ("@usr.email", "email"),
    ("@usr.id", "uid"),
    ("@usr.uuid", "uuid"),
    ("@usr.name", "uname"),
    ("@delegator.id", "did"),
    ("@delegator.name", "dname"),
    ("@evt.actor.type", "atype"),
    ("@evt.actor.mode", "amode"),
    ("@action", "action"),
    ("@asset.type", "asset"),
    ("@org.name", "org"),
)
# Who a counted call is for: the person's fields (the timeline and burst group-bys).
PERSON_FIELDS: tuple[tuple[str, str], ...] = tuple(
    f for f in CELL_FIELDS if f[1] in ("email", "uid", "uuid", "uname", "did", "dname")
)
_TS = AuditColumn("timestamp", "ts", "TIMESTAMP")
_MSG = AuditColumn("message", "msg")


def validate_engine(engine: str, max_pages: int) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if max_pages < 1:
        raise ValueError(f"max_pages {max_pages} out of range: expected 1 or more")


async def count_events(dd: DdsqlClient, query: str, window: Window) -> int:
    """How many AI events the window holds: `auto`'s estimate (one statement)."""
    r = await dd.query(audit_query(["count(*) AS n"], [_TS], query), window, limit=1)
    return int(r.rows[0][0] or 0) if r.rows else 0


def should_aggregate(total: int, page_limit: int, max_pages: int) -> bool:
    return pages_needed(total, page_limit) > max_pages


# -- the groups ------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One group of MCP Server events: its stand-in event, how many, first and last time."""

    event: Event
    n: int
    first: int
    last: int

    @property
    def bulk(self) -> bool:
        return is_bulk(self.event)


def is_bulk(e: Event) -> bool:
    """Counted in DDSQL groups, not fetched: an MCP Server read (its tool name says it accesses) or a
    connection set-up. Decided by the same reading `ai_calls` gives the event."""
    kind = call_kind(e)
    return kind == CONNECTION or (kind == TOOL_CALL and tool_intent(e.tool_name)[0] == ACCESSED)


def _cols(fields: Iterable[tuple[str, str]]) -> list[AuditColumn]:
    return [AuditColumn(f, n) for f, n in fields]


async def mcp_cells(dd: DdsqlClient, query: str, window: Window) -> tuple[list[Cell], bool]:
    """The MCP Server events in groups of identical attribution fields; and whether the row limit cut them."""
    names = [n for _f, n in CELL_FIELDS]
    conn = f"(msg LIKE '%{CONNECTION_TEXT}%') AS conn"
    r = await dd.query(
        audit_query(
            [*names, conn, "count(*) AS n", "min(ts) AS lo", "max(ts) AS hi"],
            [*_cols(CELL_FIELDS), _MSG, _TS],
            f"({query}) {MCP}",
            group_by=[*names, "conn"],
            order_by=["n DESC"],
        ),
        window,
        limit=ROW_LIMIT,
    )
    cells = []
    for i, row in enumerate(r.rows):
        *values, is_conn, n, lo, hi = row
        fields: dict[str, Any] = {f: v for (f, _n), v in zip(CELL_FIELDS, values, strict=True)}
        if is_conn:
            fields["message"] = CONNECTION_TEXT
        cells.append(Cell(stand_in(fields, int(lo), f"ddsql-cell-{i}"), int(n), int(lo), int(hi)))
    return cells, r.truncated


def whole_filters(query: str, change_tools: Sequence[str], other: bool) -> list[str]:
    """The searches for the AI events fetched whole: the events that are not MCP Server events, the MCP
    Server tool calls of `change_tools`, and (`other`) those with no tool name — OR-ed, as few searches
    as the query-length bound allows. A term also matches events that are not MCP Server events; those
    are in the first term's set anyway, so the union is the three sets'."""
    terms = [f"-{MCP}", *(f"@metadata.tool.name:{quote(t)}" for t in change_tools)]
    if other:
        terms.append("-@metadata.tool.name:*")
    return [f"({query}) {clause}" for clause, _i in any_of(terms)]


def read_filter(query: str, tools: Iterable[str]) -> str | None:
    """The MCP Server reads of `tools` (names): what the per-person group-bys count."""
    names = sorted(set(tools))
    if not names:
        return None
    return f"({query}) {MCP} @metadata.tool.name:(" + " OR ".join(quote(t) for t in names) + ")"


async def person_buckets(
    dd: DdsqlClient, filt: str, window: Window, bucket_ms: int, tag: str = "person"
) -> tuple[list[tuple[int, Event, int]], bool]:
    """Counted tool calls (MCP Server reads) per person and bucket: (bucket start, stand-in, count)."""
    names = [n for _f, n in PERSON_FIELDS]
    b = f"date_bin('{bucket_ms // 1000} seconds', ts, TIMESTAMP '1970-01-01 00:00:00') AS b"
    r = await dd.query(
        audit_query([b, *names, "count(*) AS n"], [_TS, *_cols(PERSON_FIELDS)], filt, group_by=["b", *names]),
        window,
        limit=ROW_LIMIT,
    )
    out = []
    for i, (start, *values, n) in enumerate(r.rows):
        fields: dict[str, Any] = {f: v for (f, _n), v in zip(PERSON_FIELDS, values, strict=True)}
        # A read tool call, as the rows counted (its name does not matter for the person).
        fields.update({"@evt.name": "MCP Server", "@metadata.tool.name": "get_x"})
        out.append((int(start), stand_in(fields, int(start), f"ddsql-{tag}-{i}"), int(n)))
    return out, r.truncated


# -- the baseline's questions as group-bys -----------------------------------------------------------------

# What the baseline's client clauses read (`ai_queries.client_clause`); PERSON_FIELDS hold what the identity
# clauses read. A person's own product events add what their scope reads (`ai_baseline.scope_from_groups`).
CLIENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("@metadata.oauth_client.name", "oauth"),
    ("@metadata.client.name", "mcp"),
)
SCOPE_FIELDS: tuple[tuple[str, str], ...] = (
    *(f for f in PERSON_FIELDS if f[1] in ("email", "uid", "uuid", "uname")),
    ("@evt.name", "evt"),
    ("@asset.type", "asset"),
    ("@asset.id", "aid"),
)


async def field_groups(
    dd: DdsqlClient, fields: Sequence[tuple[str, str]], filt: str, window: Window, tag: str
) -> tuple[list[tuple[Event, int]], bool]:
    """The events of `filt` grouped by `fields`: (stand-in, count) per group — the stand-in carries
    exactly the fields a clause over them reads — and whether the row limit cut the groups."""
    names = [n for _f, n in fields]
    r = await dd.query(
        audit_query([*names, "count(*) AS n"], _cols(fields), filt, group_by=names), window, limit=ROW_LIMIT
    )
    out = []
    for i, (*values, n) in enumerate(r.rows):
        cells = {f: v for (f, _n), v in zip(fields, values, strict=True)}
        out.append((stand_in(cells, window.start, f"ddsql-{tag}-{i}"), int(n)))
    return out, r.truncated


async def ai_before_groups(dd: DdsqlClient, query: str, period: Window) -> list[tuple[Event, int]] | None:
    """Who used AI in the baseline period, and through which clients: one GROUP BY over every AI event of
    the period by the fields the per-person and per-client questions read. Rows grow with the org's
    (person, client) pairs, not its events; None when the row limit cut them (then ask one by one)."""
    rows, cut = await field_groups(dd, (*PERSON_FIELDS, *CLIENT_FIELDS), f"({query})", period, "before")
    return None if cut else rows


async def scope_groups(dd: DdsqlClient, filt: str, period: Window) -> list[tuple[Event, int]] | None:
    """Some people's own product events of the period (`filt` names them) by identity, event name and
    resource: their scopes in groups; None when the row limit cut them (then fetch them whole)."""
    rows, cut = await field_groups(dd, SCOPE_FIELDS, filt, period, "scope")
    return None if cut else rows


# -- the investigation ---------------------------------------------------------------------------------------


@dataclass
class Aggregated:
    """What the aggregate engine gathered, for `analyze_groups`."""

    groups: list[CallGroup]
    calls: list[AiCall]  # fetched whole: everything a flag reads
    timeline: list[tuple[int, int, int, str]]
    total: int  # AI events in the window (DDSQL's count)
    fetched: int  # events fetched whole
    complete: bool = True
    warnings: list[str] = field(default_factory=list)


async def aggregate_ai(
    source: Any,
    dd: DdsqlClient,
    query: str,
    window: Window,
    cfg: AiConfig,
    baseline_for: Any,
    *,
    user: str | None = None,
    total: int | None = None,
) -> tuple[Aggregated, Baseline | None]:
    """The groups, the events fetched whole and the baseline (`baseline_for(calls)` asks its questions
    about the people and clients of `calls`). See the module doc."""
    warnings: list[str] = []
    complete = True
    if total is None:
        total = await count_events(dd, query, window)
    cells, cut = await mcp_cells(dd, query, window)
    if cut:
        complete = False
        warnings.append(
            f"DDSQL: the AI groups reached the row limit ({ROW_LIMIT:,}): counts are lower bounds"
        )
    bulk = [c for c in cells if c.bulk]
    change_tools = sorted({c.event.tool_name for c in cells if not c.bulk and c.event.tool_name})
    other = any(not c.bulk and not c.event.tool_name for c in cells)
    stand_ins = [c.event for c in bulk]
    # Distinct events: the searches overlap (a person's evidence, a burst range), and "N fetched of M
    # matched" must never say more were fetched than exist. The requests are counted apart.
    fetched_ids: set[str] = set()

    def take(got: Any) -> list[Event]:
        """A search's events, counted once, its incompleteness carried into the answer's (in the order
        the searches were asked, whatever order they finished in)."""
        nonlocal complete
        fetched_ids.update(e.id for e in got.events)
        if not got.complete:
            complete = False
            warnings.extend(got.warnings or ["some AI events could not be fetched"])
        return list(got.events)

    # Fetched whole: every AI event outside the bulk — the events that are not MCP Server events, and
    # the MCP Server events that are changes or neither tool call nor connection. One search ORs them
    # (`whole_filters`); the split is the grouping's own: outside the MCP Server events none is grouped,
    # among them a bulk one is counted by its group. Meanwhile DDSQL counts the reads per person.
    reads = read_filter(query, (c.event.tool_name or "" for c in bulk if c.event.tool_name))
    burst_ms = cfg.burst_window_ms
    timeline_ms = timeline_bucket(window, cfg.max_buckets)
    # A timeline bucket made of whole burst buckets is their sum: one GROUP BY serves both.
    bucket_sizes = [burst_ms] if timeline_ms % burst_ms == 0 else [timeline_ms, burst_ms]
    fetches = [source.fetch(q, window) for q in whole_filters(query, change_tools, other)]
    counts = [
        person_buckets(dd, reads, window, ms, "burst" if ms == burst_ms else "person")
        for ms in (bucket_sizes if reads is not None else [])
    ]
    got_all = await asyncio.gather(*fetches, *counts)
    mcp = parse_query(MCP)
    raw: dict[str, Event] = {}
    for got in got_all[: len(fetches)]:
        for e in take(got):
            if window.contains(e.ts) and (not mcp.matches(e) or not is_bulk(e)):
                raw.setdefault(e.id, e)
    bucket_rows: list[Any] = list(got_all[len(fetches) :])

    cell_call = {c.id: c for c in attribute_events(stand_ins, raw.values())}
    groups = [CallGroup(cell_call[c.event.id], c.n, c.first, c.last) for c in bulk]
    raw_calls = attribute_events(raw.values(), stand_ins)
    every = [g.call for g in groups] + raw_calls

    # Timeline and bursts: counted reads per person per bucket, plus the calls fetched whole.
    timeline: list[tuple[int, int, int, str]] = [
        (c.ts, 1, int(c.kind == TOOL_CALL), c.human.lower()) for c in raw_calls if c.counted
    ]
    per_bucket: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for c in raw_calls:
        if c.counted:
            per_bucket[c.human.lower()][c.ts // burst_ms] += 1
    if bucket_rows:
        (rows, cut), (burst_rows, burst_cut) = bucket_rows[0], bucket_rows[-1]
        if cut or burst_cut:
            complete = False
            warnings.append(f"DDSQL: the per-person buckets reached the row limit ({ROW_LIMIT:,})")
        both = rows + burst_rows if len(bucket_rows) > 1 else burst_rows
        people_of = {
            c.id: c for c in attribute_events([e for _b, e, _n in both], [*raw.values(), *stand_ins])
        }
        timeline += [(b, n, n, people_of[e.id].human.lower()) for b, e, n in rows]
        for b, e, n in burst_rows:
            per_bucket[people_of[e.id].human.lower()][b // burst_ms] += n
    ranges = []
    for counted in per_bucket.values():
        for b, n in counted.items():
            if n + counted.get(b + 1, 0) >= cfg.burst_calls:
                ranges.append((b * burst_ms, (b + 2) * burst_ms))
    merged = merge_ranges(ranges, window)
    if len(merged) > MAX_BURST_RANGES:
        complete = False
        warnings.append(
            f"ai_burst not evaluated on every candidate: {len(merged)} intervals reach the threshold "
            f"(at most {MAX_BURST_RANGES} are fetched)"
        )
        merged = merged[:MAX_BURST_RANGES]

    baseline = await baseline_for(every)

    # Whose MCP Server events the flags read whole: the subjects a first pass over the groups flags —
    # one search for all of them (`any_of`), with the burst ranges' searches beside it.
    first_pass, _b, _m = detect_flags(sorted(every, key=lambda c: (c.ts, c.id)), baseline, cfg)
    people = {str(f.details.get("user")).lower() for f in first_pass if f.signal in SUBJECT_FLAGS}
    clients = {str(f.details.get("client")) for f in first_pass if f.signal == "ai_new_client"}
    if user:
        people.add(user.strip().lower())
    idents = _identities(every)
    subjects = [identity_clause(idents.get(p, [p]), delegator=True) for p in sorted(people)]
    subjects += [client_clause(c) for c in sorted(clients)]
    evidence_fetches = [source.fetch(f"({query}) {MCP} {clause}", window) for clause, _i in any_of(subjects)]
    evidence_fetches += [source.fetch(f"({query}) {MCP}", w) for w in merged]
    evidence: dict[str, Event] = {}
    for got in await asyncio.gather(*evidence_fetches):
        for e in take(got):
            if window.contains(e.ts) and is_bulk(e):
                evidence.setdefault(e.id, e)

    whole = [*raw.values(), *(e for i, e in evidence.items() if i not in raw)]
    calls = attribute_events(whole, stand_ins)
    raw_groups = groups_of(c for c in calls if c.id in raw)
    return (
        Aggregated(groups + raw_groups, calls, timeline, total, len(fetched_ids), complete, warnings),
        baseline,
    )


def analyze(
    agg: Aggregated,
    window: Window,
    baseline: Baseline | None,
    cfg: AiConfig,
    *,
    query: str,
    user: str | None,
    warnings: Sequence[str],
) -> AiActivity:
    return analyze_groups(
        agg.groups,
        agg.calls,
        agg.timeline,
        window,
        baseline,
        cfg,
        query=query,
        user=user,
        warnings=[*warnings, *agg.warnings],
        complete=agg.complete,
    )


__all__ = [
    "CELL_FIELDS",
    "ENGINES",
    "MAX_BURST_RANGES",
    "ROW_LIMIT",
    "Aggregated",
    "CLIENT_FIELDS",
    "SCOPE_FIELDS",
    "Cell",
    "aggregate_ai",
    "ai_before_groups",
    "analyze",
    "count_events",
    "field_groups",
    "filter_term",
    "is_bulk",
    "mcp_cells",
    "person_buckets",
    "scope_groups",
    "should_aggregate",
    "validate_engine",
    "whole_filters",
]
