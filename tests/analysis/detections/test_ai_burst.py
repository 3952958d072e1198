"""`ai_burst`: many AI calls by one person within the window."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from ai_synthetic import WINDOW, D, M, S, analyze, decode, mcp_tool, quiet_org, signals  # noqa: E402

from ddaudit_tui.analysis.ai import attribute_events, find_bursts  # noqa: E402
from ddaudit_tui.analysis.signals import Severity  # noqa: E402


def test_burst_threshold_and_window():
    t = WINDOW.start + 4 * D
    burst = [
        mcp_tool(t + i * 2500, "bob@example.com", "search_datadog_logs", client="Claude") for i in range(120)
    ]
    slow = [
        mcp_tool(t + i * 6 * S, "alice@example.com", "get_datadog_metric") for i in range(100)
    ]  # 100 in 9m54s
    result = analyze(quiet_org() + burst + slow)
    (flag,) = signals(result)["ai_burst"]
    assert flag.details["user"] == "bob@example.com" and flag.details["calls"] == 120
    assert len(flag.event_ids) == 120 and flag.severity == Severity.MEDIUM
    (b,) = result.bursts
    assert b.peak == 120 and b.end - b.start < 5 * M
    assert [x.burst for x in result.timeline.buckets].count(True) >= 1
    assert sum(x.calls for x in result.timeline.buckets) == result.counts["calls"]


def test_burst_exact_threshold_is_one_burst():
    calls = attribute_events(
        decode([mcp_tool(WINDOW.start + i * S, "a@example.com", "search_datadog_logs") for i in range(10)])
    )
    assert len(find_bursts(calls, 10, 10 * S)) == 1
    assert find_bursts(calls, 11, 10 * S) == []
    assert find_bursts(calls, 10, 9 * S) == []  # window (t-9s, t] holds 9
