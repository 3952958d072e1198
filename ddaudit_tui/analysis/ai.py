"""AI activity audit: what the Datadog AI assistant / MCP server did, for whom, to what (pure, no I/O).

Recipe: `reference/seeds/004_35fb5315bfbd9abe.txt` (dd-audit-ai-activity) and `detections.md` §4.3.
The fetching (the base query over the window, the baseline questions) is `ai_investigation.py`.

Selection. AI activity is what the base query selects (`DEFAULT_BASE_QUERY`, from `audit-events.md`
§4.2): MCP Server and Bits AI SRE events, `is_mcp_call:true` and agent actions (`@evt.actor.mode:*`).

Attribution. Every selected event becomes an `AiCall` attributed to
- a human: the delegator when an agent acted on someone's behalf (the agent then fills `usr`), else the
  user; SYSTEM Bits AI SRE tasks (no `usr`) inherit the human of their investigation through the shared
  `metadata.dd.request_id` / `metadata.session_id` (`audit-events.md` §4.4);
- a client: the OAuth client name, else the MCP client name; "Bits AI SRE" for Bits events; the agent's
  name for agent actions;
- a tool (`metadata.tool.name`), or the Bits investigation and its tool.
MCP Server events with a tool name are *tool calls*; connection initialisations (`metadata.client`,
"… initialized a connection") are counted separately and never as calls (`detections.md` §4.3 notes).

The recipe's weekly summary (`recipe_summary`) is computed exactly as the recipe's jq does — over the
`@evt.name:"MCP Server"` events, with jq's value ordering — so `ddaudit ai --format json` can be checked
against the recipe. Everything else (users, tools, clients, resources changed, timeline, flags) is
ddaudit's own reading of the same events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddaudit_tui.analysis import detections
from ddaudit_tui.analysis.ai_baseline import (
    Baseline,
    Scope,
    baseline_from_events,
    is_ai_event,
    scope_from_events,
)
from ddaudit_tui.analysis.ai_calls import (
    ACCESSED,
    AGENT,
    AI_INTERNAL_TYPES,
    BITS,
    CHANGE_VERBS,
    CONNECTION,
    COUNTED_KINDS,
    CREATED,
    DAY_MS,
    DEFAULT_BASE_QUERY,
    DELETED,
    KINDS,
    MCP_ACTION,
    MCP_OTHER,
    MCP_REQUEST,
    MCP_ROUTE,
    MINUTE_MS,
    MODIFIED,
    OTHER,
    SENSITIVE_TYPES,
    SUMMARY_QUERY,
    TOOL_CALL,
    AiCall,
    _lower,
    attribute_events,
    bits_keys,
    resource_family,
    tool_intent,
)
from ddaudit_tui.analysis.ai_model import (
    AiConfig,
    Bucket,
    Burst,
    ClientRow,
    ModifiedResource,
    Timeline,
    ToolRow,
    UserDetail,
    UserRow,
    activity_timeline,
    find_bursts,
    timeline_from_counts,
)
from ddaudit_tui.analysis.ai_recipe import jq_sort_key, jq_values, recipe_summary, recipe_summary_counts
from ddaudit_tui.analysis.detections.ai_context import AiContext
from ddaudit_tui.analysis.signals import Flag, Severity, max_severity, sort_flags
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window, fmt_ts

__all__ = [
    "DEFAULT_BASE_QUERY",
    "SUMMARY_QUERY",
    "AiConfig",
    "AiCall",
    "Scope",
    "Baseline",
    "UserRow",
    "ToolRow",
    "ClientRow",
    "ModifiedResource",
    "Bucket",
    "Timeline",
    "Burst",
    "UserDetail",
    "AiActivity",
    "CallGroup",
    "analyze_groups",
    "groups_of",
    "attribute_events",
    "analyze_ai",
    "analyze_calls",
    "baseline_from_events",
    "scope_from_events",
    "is_ai_event",
    "recipe_summary",
    "jq_sort_key",
    "tool_intent",
    "resource_family",
    "activity_timeline",
    "find_bursts",
    "flag_concerns",
    # re-exported from the modules this one was split into (ai_calls, ai_model, ai_baseline, ai_recipe)
    "ACCESSED", "AGENT", "AI_INTERNAL_TYPES", "BITS", "CHANGE_VERBS", "CONNECTION", "COUNTED_KINDS", "CREATED",
    "DAY_MS", "DELETED", "KINDS", "MCP_ACTION", "MCP_OTHER", "MCP_REQUEST", "MCP_ROUTE", "MINUTE_MS", "MODIFIED",
    "OTHER", "SENSITIVE_TYPES", "TOOL_CALL", "bits_keys",
]  # fmt: skip

# The AI detections (`analysis/detections/`, analysis "ai"), run in rank order: flags of one severity
# keep that order.
AI_DETECTIONS = detections.for_analysis("ai")

# -- the result ------------------------------------------------------------------------------------


@dataclass
class AiActivity:
    """Everything the AI pane and the `ai` report show. Plain data, computed once."""

    window: Window
    query: str
    config: AiConfig
    baseline: Baseline | None
    org: str | None
    calls: list[AiCall]  # every AI event, attributed, oldest first
    summary: dict[str, Any]  # the recipe's five keys, exactly as its jq computes them
    counts: dict[str, int]
    users: list[UserRow]
    tools: list[ToolRow]
    clients: list[ClientRow]
    modified_resources: list[ModifiedResource]
    timeline: Timeline
    bursts: list[Burst]
    flags: list[Flag]
    notes: list[str] = field(default_factory=list)  # what was skipped and why
    warnings: list[str] = field(default_factory=list)  # from the source (incomplete fetch…)
    complete: bool = True
    user: str | None = None  # set on a per-user drill-down
    user_detail: UserDetail | None = None
    completeness: Completeness | None = None  # set by investigate_ai: how complete the answer is
    _by_id: dict[str, AiCall] = field(default_factory=dict, repr=False)

    def call(self, event_id: str) -> AiCall | None:
        if not self._by_id:
            self._by_id = {c.id: c for c in self.calls}
        return self._by_id.get(event_id)

    @property
    def max_severity(self) -> Severity | None:
        return max_severity(self.flags)

    def for_user(self, user: str) -> AiActivity:
        """The drill-down on one person: their calls (as user or as delegator), the tables and summary
        over those, and the flags about them. The flags are the ones already raised, not recomputed."""
        key = user.strip().lower()
        calls = [c for c in self.calls if _call_concerns(c, key)]
        flags = [f for f in self.flags if flag_concerns(f, key)]
        display = next((c.human for c in calls if c.human.lower() == key), user.strip())
        sub = _build(
            calls,
            self.window,
            self.baseline,
            self.config,
            query=self.query,
            flags=flags,
            notes=list(self.notes),
            warnings=list(self.warnings),
            complete=self.complete,
        )
        sub.org = self.org
        sub.completeness = self.completeness
        sub.user = display
        sub.user_detail = _user_detail(display, calls, self.baseline)
        return sub


def _call_concerns(c: AiCall, key: str) -> bool:
    if c.human.lower() == key:
        return True
    e = c.event
    return any(_lower(v) == key for v in (e.usr_email, e.usr_id, e.delegator_id, e.delegator_name))


def flag_concerns(flag: Flag, user: str) -> bool:
    """Whether a flag is about this person (its `user`, or one of its `users`)."""
    key = user.strip().lower()
    d = flag.details
    if isinstance(d.get("user"), str) and d["user"].lower() == key:
        return True
    users = d.get("users")
    return isinstance(users, list) and any(isinstance(u, str) and u.lower() == key for u in users)


# -- analysis ---------------------------------------------------------------------------------------


def analyze_ai(
    events: Iterable[Event],
    window: Window,
    baseline: Baseline | None = None,
    config: AiConfig | None = None,
    *,
    query: str = DEFAULT_BASE_QUERY,
    user: str | None = None,
    identities: Iterable[Event] = (),
    warnings: Sequence[str] = (),
    complete: bool = True,
) -> AiActivity:
    """Analyse the AI events of `window` (already selected by `query`). See `analyze_calls`."""
    calls = attribute_events((e for e in events if window.contains(e.ts)), identities)
    return analyze_calls(
        calls, window, baseline, config, query=query, user=user, warnings=warnings, complete=complete
    )


def analyze_calls(
    calls: Sequence[AiCall],
    window: Window,
    baseline: Baseline | None = None,
    config: AiConfig | None = None,
    *,
    query: str = DEFAULT_BASE_QUERY,
    user: str | None = None,
    warnings: Sequence[str] = (),
    complete: bool = True,
) -> AiActivity:
    """Summary, tables, timeline and flags over attributed calls; `user` narrows to a drill-down.

    Flags are raised over everyone and then narrowed, so a drill-down shows exactly the flags the
    whole-org report shows about that person.
    """
    cfg = config or AiConfig()
    calls = sorted(calls, key=lambda c: (c.ts, c.id))
    notes = _baseline_notes(baseline)
    flags, bursts, modified = _detect(calls, baseline, cfg)
    result = _build(
        calls,
        window,
        baseline,
        cfg,
        query=query,
        flags=flags,
        notes=notes,
        warnings=list(warnings),
        complete=complete,
        bursts=bursts,
        modified=modified,
    )
    return result.for_user(user) if user else result


def _baseline_notes(baseline: Baseline | None) -> list[str]:
    if baseline is None:
        return ["no baseline period: first-time and scope checks skipped"]
    if not baseline.known:
        return [
            f"no audit events in the baseline period ({fmt_ts(baseline.period.start)} → "
            f"{fmt_ts(baseline.period.end)}): first-time and scope checks skipped"
        ]
    return []


def _detect(
    calls: Sequence[AiCall], baseline: Baseline | None, cfg: AiConfig
) -> tuple[list[Flag], list[Burst], list[ModifiedResource]]:
    bursts = find_bursts(calls, cfg.burst_calls, cfg.burst_window_ms)
    modified = _modified_resources(calls)
    ctx = AiContext(calls, baseline, cfg, modified, bursts)
    found: list[Flag] = []
    for detection in AI_DETECTIONS:
        if detection.detect is None:  # a definition only (the pack's tests forbid it here)
            continue
        found += detection.detect(ctx)
    return sort_flags(found), bursts, modified


@dataclass(frozen=True)
class CallGroup:
    """`n` AI events that read the same (a DDSQL group's stand-in call, issue 16), the first at `first`
    and the last at `last`; or one call (n = 1). The tables and the summary count groups."""

    call: AiCall
    n: int
    first: int
    last: int


def groups_of(calls: Iterable[AiCall]) -> list[CallGroup]:
    return [CallGroup(c, 1, c.ts, c.ts) for c in calls]


def analyze_groups(
    groups: Sequence[CallGroup],
    calls: Sequence[AiCall],
    timeline_entries: Iterable[tuple[int, int, int, str]],
    window: Window,
    baseline: Baseline | None = None,
    config: AiConfig | None = None,
    *,
    query: str = DEFAULT_BASE_QUERY,
    user: str | None = None,
    warnings: Sequence[str] = (),
    complete: bool = True,
) -> AiActivity:
    """The aggregate engine's analysis (`ai_engine`): summary, counts and tables over `groups` (every AI
    event of the window, in DDSQL groups or one by one), the timeline over `timeline_entries`, and the
    flags over `calls` — the events fetched whole, which hold every call a flag can cite (ai_engine says
    why). `calls` is what the result keeps (`for_user`, flag evidence)."""
    cfg = config or AiConfig()
    calls = sorted(calls, key=lambda c: (c.ts, c.id))
    flags, bursts, modified = _detect(calls, baseline, cfg)
    timeline = timeline_from_counts(timeline_entries, window, bursts, max_buckets=cfg.max_buckets)
    result = _build(
        calls,
        window,
        baseline,
        cfg,
        query=query,
        flags=flags,
        notes=_baseline_notes(baseline),
        warnings=list(warnings),
        complete=complete,
        bursts=bursts,
        modified=modified,
        groups=sorted(groups, key=lambda g: (g.first, g.call.id)),
        timeline=timeline,
    )
    return result.for_user(user) if user else result


def _build(
    calls: list[AiCall],
    window: Window,
    baseline: Baseline | None,
    cfg: AiConfig,
    *,
    query: str,
    flags: list[Flag],
    notes: list[str],
    warnings: list[str],
    complete: bool,
    bursts: list[Burst] | None = None,
    modified: list[ModifiedResource] | None = None,
    groups: Sequence[CallGroup] | None = None,
    timeline: Timeline | None = None,
) -> AiActivity:
    """The result over `calls`; its summary, counts and tables over `groups` when given (the aggregate
    engine's: every event of the window, counted by DDSQL), else over `calls` one by one — one code path
    for both engines, so they cannot count differently."""
    if bursts is None:
        bursts = find_bursts(calls, cfg.burst_calls, cfg.burst_window_ms)
    if modified is None:
        modified = _modified_resources(calls)
    if groups is None:
        groups = groups_of(calls)
    summary_q = parse_query(SUMMARY_QUERY)
    rows = [
        (g.call.jq if g.call.jq is not None else jq_values(g.call.event), g.n)
        for g in groups
        if summary_q.matches(g.call.event)
    ]
    counts: Counter[str] = Counter()
    orgs: Counter[str] = Counter()
    for g in groups:
        counts[g.call.kind] += g.n
        if g.call.event.org_name:
            orgs[g.call.event.org_name] += g.n
    if timeline is None:
        timeline = activity_timeline(calls, window, bursts, max_buckets=cfg.max_buckets)
    return AiActivity(
        window=window,
        query=query,
        config=cfg,
        baseline=baseline,
        org=orgs.most_common(1)[0][0] if orgs else None,
        calls=calls,
        summary=recipe_summary_counts(rows),
        counts={
            "ai_events": sum(g.n for g in groups),
            "calls": sum(g.n for g in groups if g.call.counted),
            "tool_calls": counts[TOOL_CALL],
            "connections": counts[CONNECTION],
            "bits_events": counts[BITS],
            "agent_actions": counts[AGENT],
            "mcp_actions": counts[MCP_ACTION],
            "mcp_requests": counts[MCP_REQUEST],
            "delegated": sum(g.n for g in groups if g.call.delegated),
            "changes": len(modified),
            "users": len({g.call.human.lower() for g in groups}),
        },
        users=_user_rows(groups, modified, flags),
        tools=_tool_rows(groups),
        clients=_client_rows(groups),
        modified_resources=modified,
        timeline=timeline,
        bursts=bursts,
        flags=flags,
        notes=notes,
        warnings=warnings,
        complete=complete,
    )


def _user_rows(
    groups: Sequence[CallGroup], modified: Sequence[ModifiedResource], flags: Sequence[Flag]
) -> list[UserRow]:
    by_user: dict[str, list[CallGroup]] = defaultdict(list)
    display: dict[str, str] = {}
    for g in groups:
        key = g.call.human.lower()
        by_user[key].append(g)
        display.setdefault(key, g.call.human)
    changes = Counter(m.user.lower() for m in modified)
    rows = []
    for key, gs in by_user.items():
        kinds: Counter[str] = Counter()
        for g in gs:
            kinds[g.call.kind] += g.n
        mine = [f for f in flags if flag_concerns(f, key)]
        rows.append(
            UserRow(
                user=display[key],
                calls=sum(g.n for g in gs if g.call.counted),
                tool_calls=kinds[TOOL_CALL],
                connections=kinds[CONNECTION],
                bits=kinds[BITS],
                agent_actions=kinds[AGENT] + kinds[MCP_ACTION],
                delegated=sum(g.n for g in gs if g.call.delegated),
                changes=changes[key],
                tools=len({g.call.tool for g in gs if g.call.tool}),
                clients=tuple(sorted({g.call.client for g in gs})),
                first_seen=min(g.first for g in gs),
                last_seen=max(g.last for g in gs),
                flags=len(mine),
                max_severity=max_severity(mine),
            )
        )
    rows.sort(key=lambda r: (-r.calls, -r.connections, r.user.lower()))
    return rows


def _tool_rows(groups: Sequence[CallGroup]) -> list[ToolRow]:
    by_tool: dict[str, list[CallGroup]] = defaultdict(list)
    for g in groups:
        if g.call.tool and g.call.counted:
            by_tool[g.call.tool].append(g)
    rows = []
    for tool, gs in by_tool.items():
        rows.append(
            ToolRow(
                tool=tool,
                calls=sum(g.n for g in gs),
                users=len({g.call.human.lower() for g in gs}),
                verb=gs[0].call.verb,
                resource_type=gs[0].call.resource_type,
                first_seen=min(g.first for g in gs),
                last_seen=max(g.last for g in gs),
            )
        )
    rows.sort(key=lambda r: (-r.calls, r.tool))
    return rows


def _client_rows(groups: Sequence[CallGroup]) -> list[ClientRow]:
    by_client: dict[str, list[CallGroup]] = defaultdict(list)
    for g in groups:
        by_client[g.call.client].append(g)
    rows = []
    for client, gs in by_client.items():
        rows.append(
            ClientRow(
                client=client,
                calls=sum(g.n for g in gs if g.call.counted),
                connections=sum(g.n for g in gs if g.call.kind == CONNECTION),
                users=len({g.call.human.lower() for g in gs}),
                mcp_clients=tuple(sorted({g.call.event.mcp_client for g in gs if g.call.event.mcp_client})),
            )
        )
    rows.sort(key=lambda r: (-r.calls, -r.connections, r.client.lower()))
    return rows


_SAME_CHANGE_MS = 5 * MINUTE_MS


def _modified_resources(calls: Sequence[AiCall]) -> list[ModifiedResource]:
    """Resources created / modified / deleted through AI, from actions and from tool names/arguments.

    A tool call and the product event it caused (tagged is_mcp_call) describe one change: when both name
    the same resource and verb within a few minutes, the row is kept once.
    """
    out: list[ModifiedResource] = []
    seen: dict[tuple[str, str | None, str, str], int] = {}
    for c in calls:
        if c.verb not in CHANGE_VERBS:
            continue
        ids: Sequence[str | None] = c.resource_ids or (None,)
        for rid in ids:
            if rid is not None:
                key = (c.human.lower(), c.resource_type, rid, c.verb)
                prev = seen.get(key)
                if prev is not None and c.ts - prev <= _SAME_CHANGE_MS:
                    continue
                seen[key] = c.ts
            out.append(
                ModifiedResource(
                    ts=c.ts,
                    event_id=c.id,
                    user=c.human,
                    actor=c.actor,
                    delegated=c.delegated,
                    client=c.client,
                    action=c.verb,
                    resource_type=c.resource_type,
                    resource_id=rid,
                    resource_name=c.resource_name,
                    tool=c.tool,
                    via=c.verb_source or "action",
                )
            )
    return out


# -- drill-down ------------------------------------------------------------------------------------


def _user_detail(user: str, calls: Sequence[AiCall], baseline: Baseline | None) -> UserDetail:
    idents: dict[str, None] = {}
    for c in calls:
        e = c.event
        if c.delegated:
            vals: tuple[str | None, ...] = (e.delegator_id, e.delegator_name)
        else:
            vals = (e.usr_email, e.usr_id, e.usr_name)
        for v in vals:
            if v:
                idents.setdefault(v, None)
    scope = baseline.scope_of(user) if baseline is not None else None
    return UserDetail(
        user=user,
        identities=tuple(idents),
        first_seen=calls[0].ts if calls else None,
        last_seen=calls[-1].ts if calls else None,
        had_ai_before=baseline.had_ai(user) if baseline is not None else None,
        scope_types=tuple(sorted(scope.types)) if scope is not None else None,
        calls=tuple(calls),
    )
