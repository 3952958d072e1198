"""`ai_support_user`: Datadog support using AI in the org."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from ai_synthetic import WINDOW, D, M, analyze, mcp_tool, quiet_org, signals  # noqa: E402

from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_support_user():
    t = WINDOW.start + 3 * D
    items = quiet_org() + [
        mcp_tool(t + i * M, "support@datadoghq.com", tool, client="Datadog Generic MCP Client", actor_type="SUPPORT_USER")
        for i, tool in enumerate(("search_datadog_logs", "get_datadog_metric"))
    ]  # fmt: skip
    flags = signals(analyze(items))
    (support,) = flags["ai_support_user"]
    assert support.severity == Severity.HIGH and len(support.event_ids) == 2
    assert support.details["user"] == "support@datadoghq.com"
    # also new to AI: no baseline activity
    assert [f.details["user"] for f in flags["ai_first_time_user"]] == ["support@datadoghq.com"]
