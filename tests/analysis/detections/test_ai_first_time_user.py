"""`ai_first_time_user`: a person new to AI against the baseline."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from ai_synthetic import END, WINDOW, D, M, analyze, change, mcp_init, mcp_tool, quiet_org, signals  # noqa: E402

from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def _scenario():
    """Tom, with a history of his own but none of AI, starts with a new client; Alice (an AI user) tries it."""
    t = WINDOW.end - D
    items = quiet_org() + [
        change(END - 20 * D, "Monitor", "monitor", "modified", "m-1", email="tom@example.com"),
        mcp_init(t, "tom@example.com", "Windsurf", "windsurf"),
        mcp_tool(t + M, "tom@example.com", "search_datadog_logs", client="Windsurf"),
        # Alice used AI before: not first-time, even through a new client
        mcp_tool(t + 2 * M, "alice@example.com", "search_datadog_logs", client="Windsurf"),
    ]
    return signals(analyze(items))


def test_first_time_user_against_the_baseline():
    flags = _scenario()
    (first,) = flags["ai_first_time_user"]
    assert first.details["user"] == "tom@example.com" and first.severity == Severity.LOW
    assert "first time in 30 days" in first.reason
