"""Synthetic AI-activity events in the real shapes, and a one-call analysis over them (for
tests/analysis/test_ai.py and the AI detections' tests)."""

from __future__ import annotations

from typing import Any

import msgspec

from ddaudit_tui.analysis import ai
from ddaudit_tui.analysis.ai import DEFAULT_BASE_QUERY, analyze_ai, baseline_from_events
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window, iso

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
END = 1_785_500_000_000 - 1_785_500_000_000 % H
WINDOW = Window(END - 7 * D, END)
PERIOD = Window(END - 37 * D, END - 7 * D)


_ids = iter(range(10**9))


def _item(ts: int, inner: dict[str, Any], message: str = "", mcp: bool = False) -> dict[str, Any]:
    tags = ["source:audit"] + (["is_mcp_call:true"] if mcp else [])
    return {
        "id": f"ev-{next(_ids):08d}",
        "type": "audit",
        "attributes": {
            "attributes": {**inner, "org": {"name": "Example Corp"}},
            "message": message,
            "service": "audit",
            "tags": tags,
            "timestamp": iso(ts),
        },
    }


def usr(email: str) -> dict[str, Any]:
    name = email.split("@")[0].replace(".", " ").title()
    return {"id": email, "email": email, "name": name, "uuid": "uuid-" + email.split("@")[0]}


def mcp_tool(
    ts: int,
    email: str,
    tool: str,
    args: dict[str, Any] | None = None,
    client: str = "Cursor",
    actor_type: str = "USER",
) -> dict[str, Any]:
    inner = {
        "evt": {"actor": {"type": actor_type}, "name": "MCP Server"},
        "metadata": {"oauth_client": {"name": client}, "tool": {"name": tool, "arguments": args or {}}},
        "auth_method": "OAUTH_TOKEN",
        "usr": usr(email),
        "action": "executed",
        "asset": {"type": "mcp"},
    }
    return _item(ts, inner, f"{email} successfully called tool '{tool}'", mcp=True)


def mcp_init(
    ts: int, email: str, client: str = "Cursor", mcp_client: str = "cursor-vscode"
) -> dict[str, Any]:
    inner = {
        "evt": {"actor": {"type": "USER"}, "name": "MCP Server"},
        "metadata": {"client": {"name": mcp_client, "version": "1.0.0"}, "oauth_client": {"name": client}},
        "usr": usr(email),
        "action": "executed",
        "asset": {"type": "mcp"},
    }
    return _item(ts, inner, f"{email} initialized a connection", mcp=True)


def change(
    ts: int,
    evt: str,
    atype: str,
    action: str,
    aid: str | None,
    *,
    email: str | None = None,
    user: dict[str, Any] | None = None,
    mode: str | None = None,
    delegator: dict[str, Any] | None = None,
    mcp: bool = False,
    actor_type: str = "USER",
    name: str | None = None,
) -> dict[str, Any]:
    actor: dict[str, Any] = {"type": actor_type}
    if mode:
        actor["mode"] = mode
    inner: dict[str, Any] = {"evt": {"actor": actor, "name": evt}, "action": action, "asset": {"type": atype}}
    if aid is not None:
        inner["asset"]["id"] = aid
    if name is not None:
        inner["asset"]["name"] = name
    if email is not None:
        inner["usr"] = usr(email)
    if user is not None:
        inner["usr"] = user
    if delegator is not None:
        inner["delegator"] = delegator
    return _item(ts, inner, f"{action} {atype}", mcp=mcp)


AGENT = {"id": "bits-ai", "uuid": "agent-uuid", "name": "Bits AI"}


def decode(items: list[dict[str, Any]]) -> list[Event]:
    return [decode_item(msgspec.json.encode(it)) for it in items]


def quiet_org() -> list[dict[str, Any]]:
    """Two regular AI users reading things, before and during the window; their own non-AI work."""
    items: list[dict[str, Any]] = []
    for who, client in (("alice@example.com", "Cursor"), ("bob@example.com", "Claude")):
        for day in range(36, 0, -3):
            t = END - day * D + 10 * H
            items.append(mcp_init(t, who, client, "cursor-vscode" if client == "Cursor" else "claude-code"))
            for i, tool in enumerate(
                ("search_datadog_logs", "get_datadog_metric", "search_datadog_monitors")
            ):
                items.append(mcp_tool(t + (i + 1) * M, who, tool, {"query": "service:web"}, client))
        for day in range(35, 8, -4):
            items.append(change(END - day * D + 14 * H, "Monitor", "monitor", "modified", "m-1", email=who))
            items.append(
                change(END - day * D + 15 * H, "Dashboard", "dashboard", "modified", "d-1", email=who)
            )
            items.append(change(END - day * D + 9 * H, "Authentication", "user", "login", None, email=who))
    return items


def analyze(items: list[dict[str, Any]], **kw: Any) -> ai.AiActivity:
    events = decode(items)
    q = parse_query(DEFAULT_BASE_QUERY)
    window_ai = [e for e in events if WINDOW.contains(e.ts) and q.matches(e)]
    return analyze_ai(window_ai, WINDOW, baseline_from_events(PERIOD, events), identities=events, **kw)


def signals(result: ai.AiActivity) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in result.flags:
        out.setdefault(f.signal, []).append(f)
    return out
