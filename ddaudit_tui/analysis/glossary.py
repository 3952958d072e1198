"""One name per quantity: what every count the panes show means, defined once.

The same number must carry the same name everywhere it appears (the overview, the drill-down, the
timeline, the report), and two numbers that differ must carry different names. These definitions are
what the pane's `?` help lists and what the labels' tooltips say. A label on screen uses the name as
written here (plural; the singular is the name without its final `s` where English allows).

Pure data: no Textual import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# -- AI activity -----------------------------------------------------------------------------------
# Why the AI pane's numbers differ (185 / 178 / 176 / 169 on the demo): they count different things.
# AI events ⊇ AI calls ⊇ tool calls; MCP Server events = tool calls + connections (+ other MCP Server
# events), which is what the recipe's jq calls `total_tool_calls`.
AI_EVENTS = "AI events"
AI_CALLS = "AI calls"
TOOL_CALLS = "tool calls"
MCP_SERVER_EVENTS = "MCP Server events"
CONNECTIONS = "connections"
DELEGATED = "delegated"
CHANGES = "changes"
USERS = "users"
MCP_USERS = "MCP users"
BURSTS = "bursts"
TOOLS = "tools"

AI_GLOSSARY: dict[str, str] = {
    AI_EVENTS: "every audit event the AI query selects in the window: MCP Server events, Bits AI SRE "
    "events, AI agents' actions and changes tagged is_mcp_call",
    AI_CALLS: "AI events that are calls by or for a person: all AI events except MCP connection set-ups "
    "and raw HTTP requests to the MCP endpoint (they repeat a tool call); the timeline, bursts and the "
    "users table count these",
    TOOL_CALLS: "MCP Server events that name a tool (metadata.tool.name); a part of the AI calls",
    MCP_SERVER_EVENTS: 'every @evt.name:"MCP Server" event, tool calls and connection set-ups alike: the '
    "recipe's total_tool_calls (the actions and resource types tables count these)",
    CONNECTIONS: "MCP connection set-ups (“… initialized a connection”); never counted as AI calls",
    DELEGATED: "AI events an AI agent made on a person's behalf (the person is the delegator)",
    CHANGES: "resources created, modified or deleted through AI: one per resource and event; the same "
    "change repeated within 5 minutes counts once",
    TOOLS: "distinct tools (MCP tool names, Bits AI SRE tools) among a person's AI events",
    USERS: "distinct people the AI events are attributed to (the delegator when an agent acted)",
    MCP_USERS: "distinct @usr.email values among the MCP Server events: the recipe's unique_users",
    BURSTS: "runs where one person made at least the threshold of AI calls within the burst window",
}

# -- Key lookup ------------------------------------------------------------------------------------
KEY_GLOSSARY: dict[str, str] = {
    "events": "audit events carrying this key's id (@metadata.api_key.id) in the window; the Endpoints "
    "table counts the same events per route",
    "flags": "findings about the key: a signal, a severity, a one-line reason and the events that prove it",
    "flagged events": "events cited by at least one flag above INFO (▒ and ! on the activity chart)",
    "deletions": "resources the key deleted: deleted product events, and DELETE requests with no "
    "matching event",
    "countries": "distinct countries the key was used from (GeoIP of the client IP)",
    "networks": "distinct networks (ASNs) the key was used from",
}

# -- Spike watch -----------------------------------------------------------------------------------
WATCH_GLOSSARY: dict[str, str] = {
    "events": "audit events matching at least one rule's query, each counted once, since the watch "
    "started (look-back included)",
    "events per minute": "matched events per minute over the last hour (the sparklines)",
    "total": "an actor's matched events in the actors table, each rule counting its own current window",
    "count": "the events of one alert's burst, from its first to its last event",
    "alerts": "one per rule, actor and burst: a rule reaching its threshold for one actor",
    "open alerts": "alerts whose burst is still going on (events keep coming within the rule's window)",
    "closed alerts": "alerts whose burst ended (quiet for the rule's window), kept for 24 hours",
}

# Pane title → its glossary (what `?` shows on that pane).
GLOSSARY: dict[str, Mapping[str, str]] = {
    "AI activity": AI_GLOSSARY,
    "Key lookup": KEY_GLOSSARY,
    "Spike watch": WATCH_GLOSSARY,
}


def define(glossary: Mapping[str, str], names: Iterable[str]) -> str:
    """`name: definition` lines for `names` (a tooltip over the labels that show them)."""
    return "\n".join(f"{n}: {glossary[n]}" for n in names)
