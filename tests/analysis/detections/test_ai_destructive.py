"""`ai_destructive`: deletions and modifications of monitors and dashboards, by action, tool name and arguments."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from ai_synthetic import WINDOW, D, M, analyze, change, mcp_tool, quiet_org, signals  # noqa: E402

from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_destructive_by_tool_name_action_and_arguments():
    t = WINDOW.start + 2 * D
    items = quiet_org() + [
        mcp_tool(t, "alice@example.com", "delete_monitor", {"monitor_id": 123}),
        mcp_tool(t + M, "alice@example.com", "delete_monitor", {"monitor_id": 456}),
        mcp_tool(t + 2 * M, "alice@example.com", "update_dashboard", {"dashboard_id": "abc-def", "title": "Ops"}),
        # a product event tagged is_mcp_call (the change an MCP call made)
        change(t + 3 * M, "Dashboard", "dashboard", "deleted", "d-9", email="bob@example.com", mcp=True),
        # a generic tool whose arguments carry the verb
        mcp_tool(t + 4 * M, "bob@example.com", "api_request", {"method": "DELETE", "resource_type": "monitors", "id": "m-7"}),
        # creations and non-monitor/dashboard changes are listed, not flagged as destructive
        mcp_tool(t + 5 * M, "alice@example.com", "create_monitor", {"name": "new"}),
        mcp_tool(t + 6 * M, "alice@example.com", "delete_notebook", {"notebook_id": 5}),
    ]  # fmt: skip
    result = analyze(items)
    destructive = signals(result)["ai_destructive"]
    by = {(f.details["user"], f.details["action"]): f for f in destructive}
    assert set(by) == {
        ("alice@example.com", "deleted"),
        ("alice@example.com", "modified"),
        ("bob@example.com", "deleted"),
    }
    assert by[("alice@example.com", "deleted")].severity == Severity.HIGH
    assert by[("alice@example.com", "modified")].severity == Severity.MEDIUM
    assert {r["id"] for r in by[("alice@example.com", "deleted")].details["resources"]} == {"123", "456"}
    assert {r["id"] for r in by[("bob@example.com", "deleted")].details["resources"]} == {"d-9", "m-7"}
    rows = {(m.action, m.resource_type, m.resource_id, m.via) for m in result.modified_resources}
    assert ("deleted", "monitor", "123", "tool_name") in rows
    assert ("modified", "dashboard", "abc-def", "tool_name") in rows
    assert ("deleted", "dashboard", "d-9", "action") in rows
    assert ("deleted", "monitor", "m-7", "arguments") in rows
    assert ("created", "monitor", None, "tool_name") in rows
    assert ("deleted", "notebook", "5", "tool_name") in rows
    # every flag names the events that prove it
    ids = {c.id for c in result.calls}
    assert all(f.event_ids and set(f.event_ids) <= ids for f in result.flags)
