"""What one AI event is: its kind (tool call, connection, Bits AI SRE, agent action…), the person it counts
for, its client and tool, and what it did to which resource (pure, no I/O).

Attribution (`detections.md` §4.3, `audit-events.md` §4.4): the delegator when an agent acted on someone's
behalf, else the user; SYSTEM Bits AI SRE tasks inherit the human of their investigation through the
shared `metadata.dd.request_id` / `metadata.session_id`. Tool names and arguments say the verb and the
resource when the event's own action does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddaudit_tui.analysis.ai_recipe import jq_values
from ddaudit_tui.events.record import Event

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
    jq = jq_values(e) if _lower(e.evt_name) == "mcp server" else None

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
