"""Columns that show AI calls: the drill-down's call list (an `EventTable`, virtualised — a busy person
can have thousands of calls) and the small aggregate tables of the AI pane (`AiTable`).

All text returned here is raw event text; the tables clean it when they render. Column headers use
the names of `analysis.glossary` (one name per quantity: "AI calls", "tool calls", "connections").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rich.text import Text

from ddaudit_tui.analysis.ai import (
    CONNECTION,
    AiCall,
    ClientRow,
    ModifiedResource,
    ToolRow,
    UserRow,
    jq_sort_key,
)
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.ai_flags import severity_text
from ddaudit_tui.tui.widgets.ai_table import TableColumn
from ddaudit_tui.tui.widgets.event_table import Column

CHANGE_VERBS = ("created", "modified", "deleted")


def _fold(value: str | None) -> str | None:
    return value.casefold() if value else None


# -- one call, in words ----------------------------------------------------------------------------


def call_action(c: AiCall) -> str:
    """What the AI did: the tool (or the event's action), with the derived change verb when it changed
    something."""
    if c.kind == CONNECTION:
        return f"connection ({c.event.mcp_client})" if c.event.mcp_client else "connection"
    label = c.tool or c.event.action or c.kind
    if c.verb in CHANGE_VERBS and c.verb != c.event.action:
        label += f" ({c.verb})"
    return label


def call_resource(c: AiCall) -> str | None:
    if c.kind == CONNECTION:
        return None
    rtype = c.resource_type or c.event.asset_type
    ids = list(c.resource_ids) or ([c.event.asset_id] if c.event.asset_id else [])
    name = c.resource_name or (c.event.asset_name if not c.resource_type else None)
    parts = [p for p in (rtype, ", ".join(ids) if ids else None) if p]
    if name:
        parts.append(f"“{name}”")
    return " ".join(parts) or None


def call_via(c: AiCall) -> str:
    """The client, and the agent when one acted on the person's behalf."""
    if c.delegated and c.actor and c.actor != c.human:
        return c.actor if c.actor == c.client else f"{c.client} · {c.actor}"
    return c.client


def call_columns(calls: Mapping[str, AiCall]) -> tuple[Column, ...]:
    """`EventTable` columns over events, read through their attributed calls (by event id)."""

    def of(ev: Event) -> AiCall | None:
        return calls.get(ev.id)

    def text(fn: Callable[[AiCall], str | None]) -> Callable[[Event, bool], str | None]:
        return lambda ev, _local: fn(c) if (c := of(ev)) is not None else None

    def key(fn: Callable[[AiCall], str | None]) -> Callable[[Event], Any]:
        return lambda ev: _fold(fn(c)) if (c := of(ev)) is not None else None

    return (
        Column("time", "time", lambda ev, local: fmt_ts(ev.ts, local), lambda ev: ev.ts, 20, 25,
               descending_first=True, attr="ts"),
        Column("action", "tool / action", text(call_action), key(call_action), 20, 34),
        Column("resource", "resource", text(call_resource), key(call_resource), 12, 40),
        Column("intent", "intent", text(lambda c: c.verb), key(lambda c: c.verb), 8, 9),
        Column("via", "client · agent", text(call_via), key(call_via), 10, 28),
        Column("kind", "kind", text(lambda c: c.kind), key(lambda c: c.kind), 6, 11),
    )  # fmt: skip


# -- aggregate tables ------------------------------------------------------------------------------


def _time(ms: int | None, local: bool) -> str:
    return fmt_ts(ms, local, seconds=False) if ms is not None else ""


def _severity_cell(row: UserRow, _local: bool) -> Text:
    if row.max_severity is None:
        return Text("—", style="dim", end="")
    text = severity_text(row.max_severity)
    if row.flags > 1:
        text.append(f" +{row.flags - 1}")
    return text


USER_COLUMNS: tuple[TableColumn[UserRow], ...] = (
    TableColumn("user", "user", lambda r, _l: r.user, lambda r: r.user.casefold(), max_width=30),
    TableColumn("calls", "AI calls", lambda r, _l: r.calls, lambda r: r.calls, "right", descending_first=True),
    TableColumn("flags", "flags", _severity_cell, lambda r: (int(r.max_severity) if r.max_severity is not None else -1, r.flags), descending_first=True, numeric=True),
    TableColumn("changes", "changes", lambda r, _l: r.changes, lambda r: r.changes, "right", descending_first=True),
    TableColumn("tool_calls", "tool calls", lambda r, _l: r.tool_calls, lambda r: r.tool_calls, "right", descending_first=True),
    TableColumn("connections", "connections", lambda r, _l: r.connections, lambda r: r.connections, "right", descending_first=True),
    TableColumn("delegated", "delegated", lambda r, _l: r.delegated, lambda r: r.delegated, "right", descending_first=True),
    TableColumn("tools", "tools", lambda r, _l: r.tools, lambda r: r.tools, "right", descending_first=True),
    TableColumn("clients", "clients", lambda r, _l: ", ".join(r.clients), lambda r: ", ".join(r.clients).casefold(), max_width=36),
    TableColumn("first", "first seen", lambda r, local: _time(r.first_seen, local), lambda r: r.first_seen, numeric=True),
    TableColumn("last", "last seen", lambda r, local: _time(r.last_seen, local), lambda r: r.last_seen, descending_first=True, numeric=True),
)  # fmt: skip

TOOL_COLUMNS: tuple[TableColumn[ToolRow], ...] = (
    TableColumn("tool", "tool", lambda r, _l: r.tool, lambda r: r.tool.casefold(), max_width=32),
    TableColumn("calls", "AI calls", lambda r, _l: r.calls, lambda r: r.calls, "right", descending_first=True),
    TableColumn("users", "users", lambda r, _l: r.users, lambda r: r.users, "right", descending_first=True),
    TableColumn("intent", "intent", lambda r, _l: r.verb, lambda r: r.verb),
    TableColumn("type", "resource type", lambda r, _l: r.resource_type, lambda r: r.resource_type),
    TableColumn("last", "last seen", lambda r, local: _time(r.last_seen, local), lambda r: r.last_seen, descending_first=True, numeric=True),
)  # fmt: skip

CLIENT_COLUMNS: tuple[TableColumn[ClientRow], ...] = (
    TableColumn("client", "client", lambda r, _l: r.client, lambda r: r.client.casefold(), max_width=30),
    TableColumn("calls", "AI calls", lambda r, _l: r.calls, lambda r: r.calls, "right", descending_first=True),
    TableColumn("connections", "connections", lambda r, _l: r.connections, lambda r: r.connections, "right", descending_first=True),
    TableColumn("users", "users", lambda r, _l: r.users, lambda r: r.users, "right", descending_first=True),
    TableColumn("mcp", "MCP clients", lambda r, _l: ", ".join(r.mcp_clients) or None, lambda r: ", ".join(r.mcp_clients) or None, max_width=30),
)  # fmt: skip


def jq_text(value: Any) -> str:
    """A value of the recipe's summary (any JSON) as its output would show it."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)


def summary_columns(label: str) -> tuple[TableColumn[dict[str, Any]], ...]:
    """The recipe's `actions_breakdown` / `resource_types` rows: `{action|type: value, count: n}`."""
    field = "action" if label == "action" else "type"
    return (
        TableColumn(
            field, label, lambda r, _l: jq_text(r[field]), lambda r: jq_sort_key(r[field]), max_width=30
        ),
        TableColumn(
            "count", "count", lambda r, _l: r["count"], lambda r: r["count"], "right", descending_first=True
        ),
    )


def _who(m: ModifiedResource, _local: bool) -> str:
    return f"{m.user} (via {m.actor})" if m.delegated and m.actor != m.user else m.user


def _action_cell(m: ModifiedResource, _local: bool) -> Text:
    # Deletions are what the recipe flags: bold (and red), readable without colour too.
    style = "bold red" if m.action == "deleted" else "yellow" if m.action == "modified" else ""
    return Text(m.action, style=style, end="")


MODIFIED_COLUMNS: tuple[TableColumn[ModifiedResource], ...] = (
    TableColumn("time", "time", lambda m, local: _time(m.ts, local), lambda m: m.ts, descending_first=True, numeric=True),
    TableColumn("user", "user", _who, lambda m: m.user.casefold(), max_width=30),
    TableColumn("action", "action", _action_cell, lambda m: m.action),
    TableColumn("type", "type", lambda m, _l: m.resource_type, lambda m: m.resource_type),
    TableColumn("id", "id", lambda m, _l: m.resource_id, lambda m: m.resource_id, max_width=24),
    TableColumn("name", "name", lambda m, _l: m.resource_name, lambda m: _fold(m.resource_name), max_width=36),
    TableColumn("tool", "tool", lambda m, _l: m.tool, lambda m: m.tool),
    TableColumn("client", "client", lambda m, _l: m.client, lambda m: m.client.casefold(), max_width=24),
)  # fmt: skip

DELEGATED_COLUMNS: tuple[TableColumn[AiCall], ...] = (
    TableColumn("time", "time", lambda c, local: _time(c.ts, local), lambda c: c.ts, descending_first=True, numeric=True),
    TableColumn("agent", "agent", lambda c, _l: c.actor, lambda c: c.actor.casefold(), max_width=24),
    TableColumn("action", "action", lambda c, _l: call_action(c), lambda c: call_action(c).casefold(), max_width=30),
    TableColumn("resource", "resource", lambda c, _l: call_resource(c), lambda c: _fold(call_resource(c)), max_width=40),
)  # fmt: skip


def safe_user(user: str, max_len: int = 60) -> str:
    return clean(user, max_len=max_len)
