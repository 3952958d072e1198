"""`ai_out_of_scope`: AI outside the person's own (non-AI) scope."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from ai_synthetic import WINDOW, D, M, analyze, mcp_tool, quiet_org, signals  # noqa: E402

from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_out_of_scope_types_resources_and_reads():
    t = WINDOW.start + 5 * D
    items = quiet_org() + [
        # sensitive reads and a change outside alice's scope (monitor, dashboard)
        mcp_tool(t, "alice@example.com", "list_users"),
        mcp_tool(t + M, "alice@example.com", "get_security_rule", {"rule_id": "r-1"}),
        mcp_tool(t + 2 * M, "alice@example.com", "update_synthetics_test", {"synthetics_test_id": "s-1"}),
        # telemetry reads outside her screens are normal assistant use
        mcp_tool(t + 3 * M, "alice@example.com", "search_datadog_spans"),
        # bob: a change to a monitor he never touched (monitor is in his scope): weaker signal
        mcp_tool(t + 4 * M, "bob@example.com", "update_monitor", {"monitor_id": "m-other"}, client="Claude"),
        # somebody with no history of their own: nothing to compare with
        mcp_tool(t + 5 * M, "carol@example.com", "list_users"),
    ]
    flags = {f.details["user"]: f for f in signals(analyze(items))["ai_out_of_scope"]}
    assert set(flags) == {"alice@example.com", "bob@example.com"}
    alice = flags["alice@example.com"]
    assert alice.severity == Severity.MEDIUM
    assert alice.details["outside_types"] == ["security_rule", "synthetics_test", "user"]
    assert alice.details["scope_types"] == ["dashboard", "monitor"]
    bob = flags["bob@example.com"]
    assert bob.severity == Severity.LOW and bob.details["new_resources"] == [
        {"type": "monitor", "id": "m-other"}
    ]
