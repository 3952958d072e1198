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
)
from ddaudit_tui.analysis.ai_recipe import jq_sort_key, jq_values, recipe_summary
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
    notes: list[str] = []
    if baseline is None:
        notes.append("no baseline period: first-time and scope checks skipped")
    elif not baseline.known:
        notes.append(
            f"no audit events in the baseline period ({fmt_ts(baseline.period.start)} → "
            f"{fmt_ts(baseline.period.end)}): first-time and scope checks skipped"
        )
    bursts = find_bursts(calls, cfg.burst_calls, cfg.burst_window_ms)
    modified = _modified_resources(calls)
    ctx = AiContext(calls, baseline, cfg, modified, bursts)
    found: list[Flag] = []
    for detection in AI_DETECTIONS:
        if detection.detect is None:  # a definition only (the pack's tests forbid it here)
            continue
        found += detection.detect(ctx)
    flags = sort_flags(found)
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
) -> AiActivity:
    if bursts is None:
        bursts = find_bursts(calls, cfg.burst_calls, cfg.burst_window_ms)
    if modified is None:
        modified = _modified_resources(calls)
    summary_q = parse_query(SUMMARY_QUERY)
    rows = [c.jq if c.jq is not None else jq_values(c.event) for c in calls if summary_q.matches(c.event)]
    counts = Counter(c.kind for c in calls)
    orgs = Counter(c.event.org_name for c in calls if c.event.org_name)
    return AiActivity(
        window=window,
        query=query,
        config=cfg,
        baseline=baseline,
        org=orgs.most_common(1)[0][0] if orgs else None,
        calls=calls,
        summary=recipe_summary(rows),
        counts={
            "ai_events": len(calls),
            "calls": sum(1 for c in calls if c.counted),
            "tool_calls": counts[TOOL_CALL],
            "connections": counts[CONNECTION],
            "bits_events": counts[BITS],
            "agent_actions": counts[AGENT],
            "mcp_actions": counts[MCP_ACTION],
            "mcp_requests": counts[MCP_REQUEST],
            "delegated": sum(1 for c in calls if c.delegated),
            "changes": len(modified),
            "users": len({c.human.lower() for c in calls}),
        },
        users=_user_rows(calls, modified, flags),
        tools=_tool_rows(calls),
        clients=_client_rows(calls),
        modified_resources=modified,
        timeline=activity_timeline(calls, window, bursts, max_buckets=cfg.max_buckets),
        bursts=bursts,
        flags=flags,
        notes=notes,
        warnings=warnings,
        complete=complete,
    )


def _user_rows(
    calls: Sequence[AiCall], modified: Sequence[ModifiedResource], flags: Sequence[Flag]
) -> list[UserRow]:
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    display: dict[str, str] = {}
    for c in calls:
        key = c.human.lower()
        by_user[key].append(c)
        display.setdefault(key, c.human)
    changes = Counter(m.user.lower() for m in modified)
    rows = []
    for key, cs in by_user.items():
        kinds = Counter(c.kind for c in cs)
        mine = [f for f in flags if flag_concerns(f, key)]
        rows.append(
            UserRow(
                user=display[key],
                calls=sum(1 for c in cs if c.counted),
                tool_calls=kinds[TOOL_CALL],
                connections=kinds[CONNECTION],
                bits=kinds[BITS],
                agent_actions=kinds[AGENT] + kinds[MCP_ACTION],
                delegated=sum(1 for c in cs if c.delegated),
                changes=changes[key],
                tools=len({c.tool for c in cs if c.tool}),
                clients=tuple(sorted({c.client for c in cs})),
                first_seen=cs[0].ts,
                last_seen=cs[-1].ts,
                flags=len(mine),
                max_severity=max_severity(mine),
            )
        )
    rows.sort(key=lambda r: (-r.calls, -r.connections, r.user.lower()))
    return rows


def _tool_rows(calls: Sequence[AiCall]) -> list[ToolRow]:
    by_tool: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if c.tool and c.counted:
            by_tool[c.tool].append(c)
    rows = []
    for tool, cs in by_tool.items():
        rows.append(
            ToolRow(
                tool=tool,
                calls=len(cs),
                users=len({c.human.lower() for c in cs}),
                verb=cs[0].verb,
                resource_type=cs[0].resource_type,
                first_seen=cs[0].ts,
                last_seen=cs[-1].ts,
            )
        )
    rows.sort(key=lambda r: (-r.calls, r.tool))
    return rows


def _client_rows(calls: Sequence[AiCall]) -> list[ClientRow]:
    by_client: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        by_client[c.client].append(c)
    rows = []
    for client, cs in by_client.items():
        rows.append(
            ClientRow(
                client=client,
                calls=sum(1 for c in cs if c.counted),
                connections=sum(1 for c in cs if c.kind == CONNECTION),
                users=len({c.human.lower() for c in cs}),
                mcp_clients=tuple(sorted({c.event.mcp_client for c in cs if c.event.mcp_client})),
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
