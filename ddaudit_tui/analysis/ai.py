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

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ddaudit_tui.analysis.signals import Flag, Severity, max_severity, sort_flags
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import KIND_ARCHIVE, Event
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window, fmt_ts, human_duration, iso

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
]

# audit-events.md §4.2 "suggested AI-activity base query" (not an official Datadog query).
DEFAULT_BASE_QUERY = 'is_mcp_call:true OR @evt.actor.mode:* OR @evt.name:("MCP Server" OR "Bits AI SRE")'
# The recipe's selection for its weekly summary (detections.md §4.3).
SUMMARY_QUERY = '@evt.name:"MCP Server"'
# The raw HTTP request to the MCP endpoint (a plain `Request`, §4.3 third sample): optional widening.
MCP_ROUTE = "/api/unstable/mcp-server/mcp"

MINUTE_MS = 60_000
DAY_MS = 86_400_000

# Call kinds.
TOOL_CALL = "tool_call"  # MCP Server event with metadata.tool.name
CONNECTION = "connection"  # MCP Server connection initialisation
MCP_OTHER = "mcp_other"  # any other MCP Server event
BITS = "bits"  # Bits AI SRE: investigation started, agent tool_call, SYSTEM action task
AGENT = "agent"  # an action by a Datadog AI agent (`evt.actor.mode` set)
MCP_ACTION = "mcp_action"  # a product event tagged is_mcp_call:true (the change the MCP call made)
MCP_REQUEST = "mcp_request"  # the raw HTTP request to the MCP endpoint (duplicates a tool call)
OTHER = "other"  # anything else a custom base query selected
KINDS = (TOOL_CALL, CONNECTION, MCP_OTHER, BITS, AGENT, MCP_ACTION, MCP_REQUEST, OTHER)
# What counts as "an AI call" (per user, bursts, timeline): not connection set-up, not the HTTP
# request that merely carries a tool call already counted.
COUNTED_KINDS = frozenset({TOOL_CALL, MCP_OTHER, BITS, AGENT, MCP_ACTION, OTHER})

CREATED, MODIFIED, DELETED, ACCESSED = "created", "modified", "deleted", "accessed"
CHANGE_VERBS = (CREATED, MODIFIED, DELETED)

# Tool-name verbs (first word of `metadata.tool.name`). detections.md §4.3 names delete_/update_/create_;
# the rest are the usual spellings of the same intents in MCP tool sets.
_TOOL_VERBS: dict[str, str] = {
    **dict.fromkeys(("delete", "remove", "destroy", "purge", "drop", "revoke"), DELETED),
    **dict.fromkeys(
        ("update", "edit", "modify", "patch", "set", "mute", "unmute", "disable", "enable", "rename",
         "replace", "upsert", "resolve", "assign", "unassign", "change", "move", "toggle", "restore"),
        MODIFIED,
    ),
    **dict.fromkeys(("create", "add", "new", "clone", "duplicate", "import", "submit", "post"), CREATED),
    **dict.fromkeys(
        ("search", "get", "list", "query", "describe", "fetch", "find", "read", "show", "view", "analyze",
         "explain", "summarize", "lookup", "check", "validate", "aggregate", "count", "download", "export",
         "inspect", "retrieve", "browse"),
        ACCESSED,
    ),
}  # fmt: skip
# Argument values that reveal a change when the tool name does not (a generic `api_request` tool).
_ARG_VERB_KEYS = ("action", "operation", "method", "http_method", "verb")
_ARG_VERBS: dict[str, str] = {
    "delete": DELETED, "remove": DELETED, "destroy": DELETED,
    "put": MODIFIED, "patch": MODIFIED, "update": MODIFIED, "edit": MODIFIED, "modify": MODIFIED,
    "post": CREATED, "create": CREATED,
}  # fmt: skip
_ACTION_VERBS = {"created": CREATED, "modified": MODIFIED, "deleted": DELETED}

# Asset types that belong to the AI machinery itself, not to the org's resources.
AI_INTERNAL_TYPES = frozenset({"mcp", "investigation", "tool_call", "action_platform_task"})
# Resource families where even a read by AI outside the user's own scope is worth a flag (identity,
# access and security configuration); elsewhere only changes outside the scope are.
SENSITIVE_TYPES = frozenset(
    {
        "user", "role", "team", "service_account", "api_key", "application_key", "access_token",
        "security_rule", "security_signal", "security_filter", "notification_profile", "suppression",
        "restriction_policy", "identity_provider", "saml", "login_method", "authn_mapping",
        "audit_logs_setting", "org", "organization", "org_setting", "ip_allowlist", "email_domain_allowlist",
        "log_archive", "archive", "log_pipeline", "pipeline", "index", "exclusion_filter", "sensitive_data_scanner",
    }
)  # fmt: skip
# Events that say nothing about which resources a person works on: logins, and raw API requests
# (which carry no asset).
_SCOPE_EXCLUDED_EVT = frozenset({"authentication", "request"})


@dataclass(frozen=True)
class AiConfig:
    """Detection parameters. Defaults trace to detections.md §6.3 H1–H3 and §7.1–7.2."""

    baseline_days: int = 30  # history before the window for first-time and scope checks
    burst_calls: int = 100  # H3: "e.g. ≥ 100 in 5 min" per user
    burst_window_ms: int = 5 * MINUTE_MS
    destructive_types: frozenset[str] = frozenset({"monitor", "dashboard"})  # the recipe's flag
    sensitive_types: frozenset[str] = SENSITIVE_TYPES
    max_buckets: int = 60  # timeline resolution for a report (the pane may ask for its own)
    anomaly_events: int = 50  # at most this many sample event ids on first-time / scope flags


# -- jq semantics ---------------------------------------------------------------------------------


def jq_sort_key(value: Any) -> tuple[Any, ...]:
    """A sort key giving jq's total order: null < false < true < numbers < strings < arrays < objects.

    Strings compare by code point (= jq's UTF-8 byte order), arrays element-wise (shorter first on a
    common prefix), objects by their sorted key lists, then by values in key order. Numbers compare as
    doubles, like jq 1.6, so 1 and 1.0 are one group.
    """
    if value is None:
        return (0,)
    if value is False:
        return (1,)
    if value is True:
        return (2,)
    if isinstance(value, int | float):
        return (3, float(value))
    if isinstance(value, str):
        return (4, value)
    if isinstance(value, list | tuple):
        return (5, tuple(jq_sort_key(v) for v in value))
    if isinstance(value, dict):
        keys = sorted(value)
        return (6, tuple(keys), tuple(jq_sort_key(value[k]) for k in keys))
    return (4, str(value))  # not JSON; never produced by decoding


def _jq_group_counts(values: Sequence[Any]) -> list[tuple[Any, int]]:
    """`group_by(.) | map({k: .[0], n: length})`: groups in jq order; each group's first member."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for v in values:
        groups.setdefault(jq_sort_key(v), []).append(v)
    return [(members[0], len(members)) for _key, members in sorted(groups.items(), key=lambda kv: kv[0])]


def _jq_ranked(values: Sequence[Any]) -> list[tuple[Any, int]]:
    # `sort_by(-.count)` is stable: ties keep group (jq key) order.
    return sorted(_jq_group_counts(values), key=lambda kv: -kv[1])


def recipe_summary(rows: Sequence[tuple[Any, Any, Any]]) -> dict[str, Any]:
    """The recipe's "Weekly summary report" jq, over (usr.email, action, asset.type) raw JSON values.

    Same keys, order and values as
    `{total_tool_calls, unique_users, top_users (5), actions_breakdown, resource_types}` in jq.
    """
    users = [r[0] for r in rows]
    return {
        "total_tool_calls": len(rows),
        "unique_users": len(_jq_group_counts(users)),
        "top_users": [{"user": u, "calls": n} for u, n in _jq_ranked(users)[:5]],
        "actions_breakdown": [{"action": a, "count": n} for a, n in _jq_ranked([r[1] for r in rows])],
        "resource_types": [{"type": t, "count": n} for t, n in _jq_ranked([r[2] for r in rows])],
    }


# Only the three paths the recipe reads, decoded from the raw item as plain JSON values (a number or
# object where a string is expected must sort as jq sorts it, so typed record fields will not do).
class _JqInner(msgspec.Struct):
    usr: Any = None
    action: Any = None
    asset: Any = None


class _JqOuter(msgspec.Struct):
    attributes: _JqInner | None = None


class _JqApiItem(msgspec.Struct):
    attributes: _JqOuter | None = None


class _JqArchiveItem(msgspec.Struct):
    attributes: _JqInner | None = None


_jq_api = msgspec.json.Decoder(_JqApiItem)
_jq_archive = msgspec.json.Decoder(_JqArchiveItem)


def _jq_get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _jq_values(event: Event) -> tuple[Any, Any, Any]:
    """(usr.email, action, asset.type) as jq reads them from `.attributes.attributes`."""
    inner: Any
    try:
        if event.kind == KIND_ARCHIVE:
            inner = _jq_archive.decode(event.raw).attributes
        else:
            outer = _jq_api.decode(event.raw).attributes
            inner = outer.attributes if outer is not None else None
    except msgspec.DecodeError:
        # An odd shape (e.g. `attributes` not an object): fall back to the record's own reading.
        return (event.usr_email, event.action, event.asset_type)
    if inner is None:
        return (None, None, None)
    return (_jq_get(inner.usr, "email"), inner.action, _jq_get(inner.asset, "type"))


# -- tools and resources --------------------------------------------------------------------------


def resource_family(name: str | None) -> str | None:
    """One spelling per resource kind: `Monitors` → monitor, `logs_query` → log, `security rules` →
    security_rule, `search_datadog_rum_events`' `rum_events` → rum_event (quirk 17: spellings vary)."""
    if not name:
        return None
    s = name.strip().lower().replace(" ", "_").replace("-", "_")
    s = s.removeprefix("datadog_")
    for suffix in ("_query", "_queries"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
    if s.endswith("ies") and len(s) > 4:
        s = s[:-3] + "y"
    elif s.endswith(("sses", "xes", "shes", "ches")):
        s = s[:-2]
    elif s.endswith("s") and not s.endswith(("ss", "us", "is")) and len(s) > 3:
        s = s[:-1]
    return s or None


def tool_intent(tool: str | None) -> tuple[str | None, str | None]:
    """(verb, resource family) read from a tool name: `delete_monitor` → (deleted, monitor),
    `search_datadog_logs` → (accessed, log), `list_users` → (accessed, user). Unknown verb → (None, None)."""
    if not tool:
        return None, None
    parts = [p for p in tool.strip().lower().replace("-", "_").split("_") if p]
    if not parts or parts[0] not in _TOOL_VERBS:
        return None, None
    rest = parts[1:]
    if rest and rest[0] == "datadog":
        rest = rest[1:]
    return _TOOL_VERBS[parts[0]], resource_family("_".join(rest)) if rest else None


def _argument_ids(args: Mapping[str, Any], family: str | None) -> list[str]:
    """Resource ids named in tool arguments: `<family>_id`, `<family>_ids`, `id`, `ids`, else one other
    `*_id` (most tools take exactly one)."""
    keys = [f"{family}_id", f"{family}_ids"] if family else []
    keys += ["id", "ids", "resource_id", "resource_ids"]
    for key in keys:
        if key in args:
            return _id_list(args[key])
    other = [k for k in args if k.endswith(("_id", "_ids")) and k not in ("trace_id", "request_id")]
    return _id_list(args[other[0]]) if len(other) == 1 else []


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool)]
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [str(value)]
    return []


def _argument_verb(args: Mapping[str, Any]) -> str | None:
    for key in _ARG_VERB_KEYS:
        v = args.get(key)
        if isinstance(v, str) and v.strip().lower() in _ARG_VERBS:
            return _ARG_VERBS[v.strip().lower()]
    return None


def _tool_arguments(event: Event) -> dict[str, Any]:
    md = event.inner().get("metadata")
    tool = md.get("tool") if isinstance(md, dict) else None
    args = tool.get("arguments") if isinstance(tool, dict) else None
    return args if isinstance(args, dict) else {}


# -- attribution ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AiCall:
    """One AI event, attributed. `human` is the person it counts for (display spelling)."""

    event: Event
    kind: str
    human: str
    actor: str  # who acted: the user, or the agent when delegated
    delegated: bool  # an agent acted on `human`'s behalf
    client: str  # OAuth / MCP client, "Bits AI SRE", or the agent's name; "(unknown)" if none
    tool: str | None  # MCP tool name, or the Bits tool / "investigation" / action task
    investigation: str | None  # Bits AI SRE investigation id, when known
    verb: str | None  # created / modified / deleted / accessed, from the action or the tool name
    verb_source: str | None  # "action", "tool_name" or "arguments": how the verb was read
    resource_type: str | None  # resource family touched (asset.type, or read from the tool name)
    resource_ids: tuple[str, ...] = ()
    resource_name: str | None = None
    jq: tuple[Any, Any, Any] | None = None  # (usr.email, action, asset.type) for recipe events

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def ts(self) -> int:
        return self.event.ts

    @property
    def counted(self) -> bool:
        return self.kind in COUNTED_KINDS

    @property
    def label(self) -> str:
        """What was done, in a word or two: the tool, else the action."""
        return self.tool or self.event.action or self.kind


def _lower(s: str | None) -> str | None:
    return s.strip().lower() if isinstance(s, str) and s.strip() else None


class _Identities:
    """Maps any identifier seen for a person (usr.id, usr.uuid, usr.name, email) to their email."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.email_of: dict[str, str] = {}
        ambiguous: set[str] = set()
        seen: set[tuple[str | None, ...]] = set()
        for e in events:
            email = e.usr_email
            if not email or "@" not in email:
                continue
            person = (e.usr_id, e.usr_uuid, e.usr_name, email)
            if person in seen:
                continue  # the same usr block again (most events): nothing new to learn
            seen.add(person)
            for ident in person:
                key = _lower(ident)
                if key is None or key in ambiguous:
                    continue
                known = self.email_of.get(key)
                if known is None:
                    self.email_of[key] = email
                elif known.lower() != email.lower():
                    ambiguous.add(key)  # two people share a name: never guess
                    del self.email_of[key]

    def resolve(self, *candidates: str | None, fallback: Sequence[str | None] = ()) -> str | None:
        """The email behind any of `candidates`; else the first of `fallback` (display order), else
        the first candidate."""
        for c in candidates:
            key = _lower(c)
            if key is None:
                continue
            if "@" in key:
                return c.strip()  # type: ignore[union-attr]
            if key in self.email_of:
                return self.email_of[key]
        for c in (*fallback, *candidates):
            if _lower(c) is not None:
                return c.strip()  # type: ignore[union-attr]
        return None


def _kind(e: Event) -> str:
    name = _lower(e.evt_name)
    if name == "mcp server":
        if e.tool_name:
            return TOOL_CALL
        if e.mcp_client or "initialized a connection" in (e.message or ""):
            return CONNECTION
        return MCP_OTHER
    if name == "bits ai sre":
        return BITS
    if e.actor_mode:
        return AGENT
    if e.is_mcp_call:
        return MCP_ACTION
    if e.endpoint == MCP_ROUTE:
        return MCP_REQUEST
    return OTHER


def bits_keys(e: Event) -> tuple[str | None, str | None]:
    """(metadata.dd.request_id, metadata.session_id) of a Bits AI SRE event: they tie an investigation's
    started / tool_call / SYSTEM task events together (audit-events.md §4.4)."""
    md = e.inner().get("metadata")
    if not isinstance(md, dict):
        return None, None
    dd = md.get("dd")
    rid = dd.get("request_id") if isinstance(dd, dict) else None
    sid = md.get("session_id")
    return (str(rid) if rid is not None else None, str(sid) if sid is not None else None)


def attribute_events(events: Iterable[Event], identities: Iterable[Event] = ()) -> list[AiCall]:
    """Attribute AI events to a human, a client and a tool. Oldest first.

    `identities`: more events (e.g. the baseline) from which to learn which email a usr id / name
    belongs to, so delegators given by id or full name resolve to the same person as their own calls.
    """
    evs = sorted(events, key=lambda e: (e.ts, e.id))
    return _attribute_all(evs, _Identities([*evs, *identities]))


def _attribute_all(evs: list[Event], ids: _Identities) -> list[AiCall]:
    # Bits AI SRE: the human of each investigation, by request id and by investigation (= session) id.
    bits_human: dict[str, str] = {}
    bits_inv: dict[str, str] = {}
    keys_of: dict[str, tuple[str | None, str | None]] = {}
    for e in evs:
        if _lower(e.evt_name) != "bits ai sre":
            continue
        rid, sid = keys = bits_keys(e)
        keys_of[e.id] = keys
        who = ids.resolve(e.delegator_id, e.delegator_name, fallback=(e.delegator_name,)) or ids.resolve(
            e.usr_email, e.usr_id, e.usr_uuid, e.usr_name, fallback=(e.usr_name,)
        )
        inv = e.asset_id if _lower(e.asset_type) == "investigation" else None
        for k in (rid, sid, inv):
            if k is None:
                continue
            if who:
                bits_human.setdefault(k, who)
            if inv:
                bits_inv.setdefault(k, inv)
    calls: list[AiCall] = []
    for e in evs:
        calls.append(_attribute(e, ids, bits_human, bits_inv, keys_of.get(e.id)))
    return calls


def _attribute(
    e: Event,
    ids: _Identities,
    bits_human: Mapping[str, str],
    bits_inv: Mapping[str, str],
    keys: tuple[str | None, str | None] | None,
) -> AiCall:
    kind = _kind(e)
    actor = e.usr_email or e.usr_name or e.usr_id or e.usr_uuid
    delegated = bool(e.delegator_id or e.delegator_name)
    investigation = None
    # Unresolved people show by name rather than by an opaque id (an agent is "Bits AI", not "bits-ai").
    if delegated:
        human = ids.resolve(e.delegator_id, e.delegator_name, fallback=(e.delegator_name,)) or "(unknown)"
    else:
        human = ids.resolve(e.usr_email, e.usr_id, e.usr_uuid, e.usr_name, fallback=(e.usr_name,)) or ""
    if kind == BITS:
        rid, sid = keys or (None, None)
        for k in (sid, rid, e.asset_id):
            if k and k in bits_inv:
                investigation = bits_inv[k]
                break
        if not human:
            # A SYSTEM task of an investigation: it counts for the person who started it.
            human = next((bits_human[k] for k in (sid, rid) if k and k in bits_human), "")
            delegated = bool(human)
    if not human:
        human = "(system)" if _lower(e.actor_type) == "system" else "(unknown)"
    if not actor:
        actor = "(system)" if _lower(e.actor_type) == "system" else human

    client = e.oauth_client or e.mcp_client
    if not client:
        if kind == BITS:
            client = "Bits AI SRE"
        elif e.actor_mode:
            client = e.usr_name or e.usr_id or "AI agent"
    client = client or "(unknown)"

    tool: str | None = None
    verb: str | None = None
    verb_source: str | None = None
    rtype: str | None = None
    rids: tuple[str, ...] = ()
    rname: str | None = None
    jq = _jq_values(e) if _lower(e.evt_name) == "mcp server" else None

    if kind == TOOL_CALL:
        tool = e.tool_name
        verb, rtype = tool_intent(tool)
        if verb is not None:
            verb_source = "tool_name"
        if verb != ACCESSED:
            # Changes, and tools whose name says nothing: the arguments name the resource (and
            # sometimes the verb: a generic `api_request` with method DELETE).
            args = _tool_arguments(e)
            if verb is None and (arg_verb := _argument_verb(args)) is not None:
                verb, verb_source = arg_verb, "arguments"
                rtype = rtype or resource_family(_str_arg(args, "resource_type"))
            rids = tuple(_argument_ids(args, rtype))
            rname = _str_arg(args, "title") or _str_arg(args, "name")
    elif kind == BITS:
        atype = _lower(e.asset_type)
        if atype == "tool_call":
            tool = e.asset_name or "tool_call"
        elif atype == "investigation":
            tool = "investigation"
        elif atype == "action_platform_task":
            tool = (e.asset_name or "action task").removeprefix("action task ")
        else:
            tool = e.asset_type
        if atype not in AI_INTERNAL_TYPES:
            verb = _ACTION_VERBS.get(_lower(e.action) or "")
            rtype = resource_family(e.asset_type)
            rids = (e.asset_id,) if e.asset_id else ()
            rname = e.asset_name
            verb_source = "action" if verb else None
    elif kind not in (CONNECTION, MCP_REQUEST):
        atype = _lower(e.asset_type)
        if atype and atype not in AI_INTERNAL_TYPES:
            verb = _ACTION_VERBS.get(_lower(e.action) or "", ACCESSED if e.action else None)
            verb_source = "action" if verb else None
            rtype = resource_family(e.asset_type)
            rids = (e.asset_id,) if e.asset_id else ()
            rname = e.asset_name
    return AiCall(
        event=e,
        kind=kind,
        human=human,
        actor=actor,
        delegated=delegated,
        client=client,
        tool=tool,
        investigation=investigation,
        verb=verb,
        verb_source=verb_source,
        resource_type=rtype,
        resource_ids=rids,
        resource_name=rname,
        jq=jq,
    )


def _str_arg(args: Mapping[str, Any], key: str) -> str | None:
    v = args.get(key)
    return v if isinstance(v, str) and v.strip() else None


# -- baseline -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a person touched themselves (not through AI) in the baseline period."""

    types: frozenset[str]  # resource families
    resources: frozenset[tuple[str, str]]  # (family, id)
    events: int


@dataclass(frozen=True)
class Baseline:
    """What was known before the window. Keys are lower-cased human keys (emails where known).

    `known` is False when the period holds no audit events at all (e.g. an input file that starts at the
    window): then nothing can be "first" and the baseline checks are skipped rather than guessed.
    """

    period: Window
    known: bool
    ai_users: frozenset[str] = frozenset()  # humans with AI activity in the period
    checked_users: frozenset[str] | None = None  # humans looked up (None: everyone in the data)
    clients: frozenset[str] = frozenset()  # clients used in the period
    checked_clients: frozenset[str] | None = None
    scopes: Mapping[str, Scope] = field(default_factory=dict)  # only people with non-AI history

    def had_ai(self, human: str) -> bool | None:
        """True / False, or None when unknown (no baseline, or the person was not looked up)."""
        key = human.lower()
        if not self.known or (self.checked_users is not None and key not in self.checked_users):
            return None
        return key in self.ai_users

    def client_seen(self, client: str) -> bool | None:
        key = client.lower()
        if not self.known or (self.checked_clients is not None and key not in self.checked_clients):
            return None
        return key in self.clients

    def scope_of(self, human: str) -> Scope | None:
        """The person's own non-AI scope, or None when they have no such history (no scope to exceed)."""
        if not self.known:
            return None
        return self.scopes.get(human.lower())


def scope_from_events(events: Iterable[Event]) -> Scope:
    """A person's non-AI scope from their own events: the resource families and resources they touched
    (logins and raw API requests carry no resource and are ignored)."""
    types: set[str] = set()
    resources: set[tuple[str, str]] = set()
    n = 0
    for e in events:
        if (_lower(e.evt_name) or "") in _SCOPE_EXCLUDED_EVT:
            continue
        fam = resource_family(e.asset_type)
        if fam is None or fam in AI_INTERNAL_TYPES:
            continue
        n += 1
        types.add(fam)
        if e.asset_id:
            resources.add((fam, e.asset_id))
    return Scope(frozenset(types), frozenset(resources), n)


def is_ai_event(event: Event, query: str = DEFAULT_BASE_QUERY) -> bool:
    return parse_query(query).matches(event)


def baseline_from_events(
    period: Window, events: Iterable[Event], query: str = DEFAULT_BASE_QUERY
) -> Baseline:
    """A baseline from every event of the period (AI and not) — for files and tests; the orchestrator
    asks the source smaller questions instead (`ai_investigation.fetch_baseline`)."""
    q = parse_query(query)
    evs = [e for e in events if period.contains(e.ts)]
    ai: list[Event] = []
    own_events: list[Event] = []
    for e in evs:
        (ai if q.matches(e) else own_events).append(e)
    ids = _Identities(evs)
    calls = _attribute_all(sorted(ai, key=lambda e: (e.ts, e.id)), ids)
    own: dict[str, list[Event]] = defaultdict(list)
    for e in own_events:
        if (_lower(e.evt_name) or "") in _SCOPE_EXCLUDED_EVT or not e.asset_type:
            continue  # cheap pre-filter: scope_from_events would drop these anyway
        who = ids.resolve(e.usr_email, e.usr_id, e.usr_uuid, e.usr_name)
        if who:
            own[who.lower()].append(e)
    scopes = {k: s for k, v in own.items() if (s := scope_from_events(v)).events}
    return Baseline(
        period=period,
        known=bool(evs),
        ai_users=frozenset(c.human.lower() for c in calls),
        clients=frozenset(c.client.lower() for c in calls if c.client != "(unknown)"),
        scopes=scopes,
    )


# -- tables -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """AI activity of one person (their own calls plus agents acting on their behalf)."""

    user: str
    calls: int  # counted calls (no connection set-ups)
    tool_calls: int
    connections: int
    bits: int
    agent_actions: int
    delegated: int  # calls an agent made on their behalf
    changes: int  # resources created / modified / deleted through AI
    tools: int  # distinct tools
    clients: tuple[str, ...]
    first_seen: int
    last_seen: int
    flags: int = 0
    max_severity: Severity | None = None


@dataclass(frozen=True)
class ToolRow:
    tool: str
    calls: int
    users: int
    verb: str | None  # created / modified / deleted / accessed (None: unknown)
    resource_type: str | None
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class ClientRow:
    client: str
    calls: int  # counted calls
    connections: int
    users: int
    mcp_clients: tuple[str, ...]  # MCP client names seen on connections under this OAuth client


@dataclass(frozen=True)
class ModifiedResource:
    """A resource created / modified / deleted through AI (one row per resource and event)."""

    ts: int
    event_id: str
    user: str  # the human
    actor: str
    delegated: bool
    client: str
    action: str  # created / modified / deleted
    resource_type: str | None
    resource_id: str | None
    resource_name: str | None
    tool: str | None
    via: str  # "action" (the event's action), "tool_name" or "arguments"


@dataclass(frozen=True)
class Bucket:
    start: int
    calls: int
    tool_calls: int
    users: int
    burst: bool


@dataclass(frozen=True)
class Timeline:
    start: int
    bucket_ms: int
    buckets: tuple[Bucket, ...]

    @property
    def peak(self) -> int:
        return max((b.calls for b in self.buckets), default=0)


@dataclass(frozen=True)
class Burst:
    """A run of one person's AI calls at or above the threshold within the sliding window."""

    user: str
    start: int
    end: int
    calls: int  # calls in the whole run
    peak: int  # the most calls inside any one window of the run
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class UserDetail:
    """The per-user drill-down: the person, their identities, baseline and every call."""

    user: str
    identities: tuple[str, ...]  # emails, ids and names seen for them
    first_seen: int | None
    last_seen: int | None
    had_ai_before: bool | None
    scope_types: tuple[str, ...] | None  # their own non-AI resource families (None: no history)
    calls: tuple[AiCall, ...]


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
    flags = sort_flags(
        [
            *_destructive_flags(modified, cfg),
            *_support_flags(calls),
            *_first_time_flags(calls, baseline, cfg),
            *_burst_flags(bursts, cfg),
            *_scope_flags(calls, baseline, cfg),
        ]
    )
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
    rows = [c.jq if c.jq is not None else _jq_values(c.event) for c in calls if summary_q.matches(c.event)]
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


# -- timeline and bursts -----------------------------------------------------------------------------

_BUCKET_SIZES_MS = (
    MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, 60 * MINUTE_MS, 3 * 60 * MINUTE_MS,
    6 * 60 * MINUTE_MS, 12 * 60 * MINUTE_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS,
)  # fmt: skip


def activity_timeline(
    calls: Sequence[AiCall],
    window: Window,
    bursts: Sequence[Burst] = (),
    *,
    max_buckets: int = 60,
    bucket_ms: int | None = None,
) -> Timeline:
    """Calls per bucket across the window (buckets aligned to UTC multiples of their size), with the
    buckets that overlap a burst marked. The pane can ask for its own `max_buckets` (its width)."""
    span = max(1, window.duration_ms)
    if bucket_ms is None:
        bucket_ms = next(
            (s for s in _BUCKET_SIZES_MS if math.ceil(span / s) + 1 <= max(2, max_buckets)),
            _BUCKET_SIZES_MS[-1],
        )
    start = window.start - window.start % bucket_ms
    n = max(1, math.ceil((window.end - start) / bucket_ms))
    calls_n = [0] * n
    tools_n = [0] * n
    users: list[set[str]] = [set() for _ in range(n)]
    for c in calls:
        if not c.counted:
            continue
        i = min(n - 1, max(0, (c.ts - start) // bucket_ms))
        calls_n[i] += 1
        tools_n[i] += c.kind == TOOL_CALL
        users[i].add(c.human.lower())
    burst = [False] * n
    for b in bursts:
        lo = max(0, (b.start - start) // bucket_ms)
        hi = min(n - 1, (b.end - start) // bucket_ms)
        for i in range(lo, hi + 1):
            burst[i] = True
    return Timeline(
        start=start,
        bucket_ms=bucket_ms,
        buckets=tuple(
            Bucket(start + i * bucket_ms, calls_n[i], tools_n[i], len(users[i]), burst[i]) for i in range(n)
        ),
    )


def find_bursts(calls: Sequence[AiCall], threshold: int, window_ms: int) -> list[Burst]:
    """Per person, runs where ≥ `threshold` calls fall within a sliding `window_ms` (detections.md §7.1).

    Overlapping qualifying windows merge into one burst, so a 120-call loop is one finding, not 21.
    """
    if threshold < 1:
        return []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if c.counted:
            by_user[c.human.lower()].append(c)
    out: list[Burst] = []
    for cs in by_user.values():
        cs.sort(key=lambda c: (c.ts, c.id))
        runs: list[list[int]] = []  # [first index, last index, peak]
        j = 0
        for i, c in enumerate(cs):
            while cs[j].ts <= c.ts - window_ms:
                j += 1
            n = i - j + 1
            if n < threshold:
                continue
            if runs and j <= runs[-1][1]:
                runs[-1][1] = i
                runs[-1][2] = max(runs[-1][2], n)
            else:
                runs.append([j, i, n])
        for lo, hi, peak in runs:
            part = cs[lo : hi + 1]
            out.append(
                Burst(
                    user=part[0].human,
                    start=part[0].ts,
                    end=part[-1].ts,
                    calls=len(part),
                    peak=peak,
                    event_ids=tuple(c.id for c in part),
                )
            )
    out.sort(key=lambda b: (b.start, b.user))
    return out


# -- flags --------------------------------------------------------------------------------------------


def _resource_label(m: ModifiedResource) -> str:
    parts = [m.resource_type or "resource"]
    if m.resource_id:
        parts.append(m.resource_id)
    if m.resource_name:
        parts.append(f"“{m.resource_name}”")
    return " ".join(parts)


def _destructive_flags(modified: Sequence[ModifiedResource], cfg: AiConfig) -> list[Flag]:
    """The recipe's "AI performing deleted actions on monitors or dashboards", plus modifications
    (detections.md H1: by action and by destructive tool names), one flag per person and verb."""
    groups: dict[tuple[str, str], list[ModifiedResource]] = defaultdict(list)
    for m in modified:
        if m.action in (DELETED, MODIFIED) and m.resource_type in cfg.destructive_types:
            groups[(m.user.lower(), m.action)].append(m)
    flags = []
    for (_key, verb), ms in groups.items():
        user = ms[0].user
        types = sorted({m.resource_type or "" for m in ms})
        tools = sorted({m.tool for m in ms if m.tool})
        clients = sorted({m.client for m in ms})
        # One label per distinct resource (a tool call and an agent action on the same monitor are two
        # events but one monitor).
        labels: dict[tuple[str | None, str | None], str] = {}
        for m in ms:
            key = (m.resource_type, m.resource_id or m.event_id)
            if key not in labels or m.resource_name:
                labels[key] = _resource_label(m)
        k = len(labels)
        what = "/".join(f"{t}s" if k > 1 else t for t in types)
        events = f" in {len(ms)} events" if len(ms) != k else ""
        how = f" with {', '.join(tools)}" if tools else ""
        delegated = " (an agent on their behalf)" if any(m.delegated for m in ms) else ""
        sample = ", ".join(list(labels.values())[:3]) + (" …" if k > 3 else "")
        flags.append(
            Flag(
                signal="ai_destructive",
                severity=Severity.HIGH if verb == DELETED else Severity.MEDIUM,
                reason=(
                    f"{user} {verb} {k} {what} through AI{events}{delegated}{how} "
                    f"via {', '.join(clients)}: {sample}"
                ),
                event_ids=tuple(dict.fromkeys(m.event_id for m in ms)),
                subject=user,
                details={
                    "user": user,
                    "action": verb,
                    "resource_types": types,
                    "tools": tools,
                    "clients": clients,
                    "resources": [
                        {"type": m.resource_type, "id": m.resource_id, "name": m.resource_name} for m in ms
                    ],
                },
            )
        )
    return flags


def _support_flags(calls: Sequence[AiCall]) -> list[Flag]:
    """The recipe's "AI acting as SUPPORT_USER": Datadog support using AI in the org."""
    groups: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if _lower(c.event.actor_type) == "support_user":
            groups[c.human.lower()].append(c)
    flags = []
    for cs in groups.values():
        user = cs[0].human
        tools = sorted({c.tool for c in cs if c.tool})
        n = sum(1 for c in cs if c.counted)
        flags.append(
            Flag(
                signal="ai_support_user",
                severity=Severity.HIGH,
                reason=(
                    f"Datadog support ({user}) used AI in the org as SUPPORT_USER: {n} calls"
                    + (f" ({', '.join(tools[:5])}{' …' if len(tools) > 5 else ''})" if tools else "")
                    + f" via {', '.join(sorted({c.client for c in cs}))}"
                ),
                event_ids=tuple(c.id for c in cs),
                subject=user,
                details={"user": user, "calls": n, "tools": tools},
            )
        )
    return flags


def _first_time_flags(calls: Sequence[AiCall], baseline: Baseline | None, cfg: AiConfig) -> list[Flag]:
    """The recipe's "First-time user invoking AI tools" (H2: new value on usr / OAuth client, §7.2)."""
    if baseline is None or not baseline.known:
        return []
    days = max(1, baseline.period.duration_ms // DAY_MS)
    flags = []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    by_client: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if c.human not in ("(system)", "(unknown)"):
            by_user[c.human.lower()].append(c)
        if c.client != "(unknown)" and (c.event.oauth_client or c.event.mcp_client):
            by_client[c.client.lower()].append(c)
    for key, cs in by_user.items():
        if baseline.had_ai(key) is not False:
            continue
        user = cs[0].human
        history = baseline.scope_of(key)
        known = "" if history is None else f" (they had {history.events} events of their own in that period)"
        n = sum(1 for c in cs if c.counted)
        flags.append(
            Flag(
                signal="ai_first_time_user",
                severity=Severity.LOW,
                reason=(
                    f"{user} used AI for the first time in {days} days: first call {fmt_ts(cs[0].ts)}, "
                    f"{n} calls via {', '.join(sorted({c.client for c in cs}))}{known}"
                ),
                event_ids=tuple(c.id for c in cs[: cfg.anomaly_events]),
                subject=user,
                details={"user": user, "first_seen": iso(cs[0].ts), "calls": n, "baseline_days": days},
            )
        )
    for key, cs in by_client.items():
        if baseline.client_seen(key) is not False:
            continue
        client = cs[0].client
        users = sorted({c.human for c in cs})
        flags.append(
            Flag(
                signal="ai_new_client",
                severity=Severity.LOW,
                reason=(
                    f"AI client {client} first seen in {days} days: {len(cs)} events by "
                    f"{', '.join(users[:5])}{' …' if len(users) > 5 else ''}"
                ),
                event_ids=tuple(c.id for c in cs[: cfg.anomaly_events]),
                subject=client,
                details={"client": client, "users": users},
            )
        )
    return flags


def _burst_flags(bursts: Sequence[Burst], cfg: AiConfig) -> list[Flag]:
    """The recipe's "High volume of tool calls in short window" (H3; automated / batch AI usage)."""
    window = human_duration(cfg.burst_window_ms)
    return [
        Flag(
            signal="ai_burst",
            severity=Severity.MEDIUM,
            reason=(
                f"{b.user} made {b.calls} AI calls between {fmt_ts(b.start)} and {fmt_ts(b.end)} "
                f"({b.peak} within {window}; threshold {cfg.burst_calls})"
            ),
            event_ids=b.event_ids,
            subject=b.user,
            details={
                "user": b.user,
                "start": iso(b.start),
                "end": iso(b.end),
                "calls": b.calls,
                "peak": b.peak,
            },
        )
        for b in bursts
    ]


def _scope_flags(calls: Sequence[AiCall], baseline: Baseline | None, cfg: AiConfig) -> list[Flag]:
    """The recipe's "AI accessing resources outside user's normal scope" (over-permissioned session).

    Scope = the resource families (and resources) the person touched themselves, not through AI, in
    the baseline period. A family outside it counts when AI changed something there, or when it is
    sensitive (identity, access, security); routine reads of telemetry (logs, metrics, traces) outside
    a person's usual screens are normal assistant use and are not flagged. Changes to a specific
    resource the person never touched, in a family they do work on, are a weaker (low) signal.
    People with no non-AI history are skipped (nothing to compare with; §7.2 "prior history").
    """
    if baseline is None or not baseline.known:
        return []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if c.resource_type and c.resource_type not in AI_INTERNAL_TYPES:
            by_user[c.human.lower()].append(c)
    flags = []
    for key, cs in by_user.items():
        scope = baseline.scope_of(key)
        if scope is None:
            continue
        user = cs[0].human
        outside = sorted(
            {
                c.resource_type
                for c in cs
                if c.resource_type not in scope.types
                and (c.verb in CHANGE_VERBS or c.resource_type in cfg.sensitive_types)
            }
        )
        evidence = [c for c in cs if c.resource_type in outside]
        new_resources = sorted(
            {
                (c.resource_type, rid)
                for c in cs
                if c.verb in (MODIFIED, DELETED) and c.resource_type in scope.types
                for rid in c.resource_ids
                if (c.resource_type, rid) not in scope.resources
            }
        )
        if not outside and not new_resources:
            continue
        evidence += [
            c
            for c in cs
            if c.verb in (MODIFIED, DELETED)
            and any((c.resource_type, r) in new_resources for r in c.resource_ids)
        ]
        evidence.sort(key=lambda c: (c.ts, c.id))
        usual = ", ".join(sorted(scope.types)) or "nothing"
        if outside:
            reason = (
                f"AI touched {', '.join(outside)} for {user}, outside their own (non-AI) scope in the "
                f"baseline period ({usual})"
            )
            if new_resources:
                reason += f"; and changed {len(new_resources)} resource(s) they never touched"
        else:
            reason = (
                f"AI changed {len(new_resources)} resource(s) for {user} that they never touched themselves "
                f"in the baseline period: " + ", ".join(f"{t} {r}" for t, r in new_resources[:3])
            )
        flags.append(
            Flag(
                signal="ai_out_of_scope",
                severity=Severity.MEDIUM if outside else Severity.LOW,
                reason=reason,
                event_ids=tuple(dict.fromkeys(c.id for c in evidence[: cfg.anomaly_events])),
                subject=user,
                details={
                    "user": user,
                    "outside_types": outside,
                    "scope_types": sorted(scope.types),
                    "new_resources": [{"type": t, "id": r} for t, r in new_resources],
                },
            )
        )
    return flags


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
