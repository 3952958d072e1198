"""The `ai` report: the recipe's output format in text and Markdown, JSON field names, safe HTML."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from typing import Any

import msgspec
import pytest

from ddaudit_tui.analysis.ai import DEFAULT_BASE_QUERY, AiActivity, analyze_ai, baseline_from_events
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.report import ai_report
from ddaudit_tui.report.registry import formats, render
from ddaudit_tui.timeutil import Window, iso

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
END = 1_785_500_000_000 - 1_785_500_000_000 % H
WINDOW = Window(END - 7 * D, END)
PERIOD = Window(END - 37 * D, END - 7 * D)

HOSTILE = "<script>alert(1)</script> [x](http://evil) **b** \x1b]52;c;ZXZpbA==\x07 | `t` &amp;"

_n = iter(range(10**9))


def item(ts: int, inner: dict[str, Any], mcp: bool = True) -> dict[str, Any]:
    return {
        "id": f"r-{next(_n):06d}",
        "type": "audit",
        "attributes": {
            "attributes": {**inner, "org": {"name": "Example Corp"}},
            "message": "m",
            "tags": ["source:audit"] + (["is_mcp_call:true"] if mcp else []),
            "timestamp": iso(ts),
        },
    }


def tool(
    ts: int, email: str, name: str, args: dict[str, Any] | None = None, actor: str = "USER"
) -> dict[str, Any]:
    return item(
        ts,
        {
            "evt": {"actor": {"type": actor}, "name": "MCP Server"},
            "metadata": {"oauth_client": {"name": "Cursor"}, "tool": {"name": name, "arguments": args or {}}},
            "usr": {"id": email, "email": email},
            "action": "executed",
            "asset": {"type": "mcp"},
        },
    )


def own(ts: int, email: str, atype: str) -> dict[str, Any]:
    inner = {"evt": {"name": atype.title()}, "usr": {"id": email, "email": email}, "action": "modified"}
    return item(ts, {**inner, "asset": {"type": atype, "id": "x-1"}}, mcp=False)


def result_from(items: list[dict[str, Any]], user: str | None = None) -> AiActivity:
    events = [decode_item(msgspec.json.encode(i)) for i in items]
    q = parse_query(DEFAULT_BASE_QUERY)
    sel = [e for e in events if WINDOW.contains(e.ts) and q.matches(e)]
    return analyze_ai(sel, WINDOW, baseline_from_events(PERIOD, events), identities=events, user=user)


def quiet() -> list[dict[str, Any]]:
    items = []
    for who in ("alice@example.com", "bob@example.com"):
        for day in range(30, 0, -5):
            items.append(tool(END - day * D, who, "search_datadog_logs"))
        items.append(own(END - 20 * D, who, "dashboard"))
    return items


def busy() -> list[dict[str, Any]]:
    t = WINDOW.start + 2 * D
    return quiet() + [
        tool(t, "alice@example.com", "delete_monitor", {"monitor_id": 42}),
        tool(t + M, "alice@example.com", "update_dashboard", {"dashboard_id": "d-1", "title": HOSTILE}),
        tool(t + 2 * M, "support@datadoghq.com", "search_datadog_logs", actor="SUPPORT_USER"),
        tool(t + 3 * M, HOSTILE, "list_users"),
        *[tool(t + H + i * S, "bob@example.com", "get_datadog_metric") for i in range(100)],
    ]


@pytest.fixture(scope="module")
def busy_result() -> AiActivity:
    return result_from(busy())


def test_registered_formats():
    assert {"text", "md", "json", "html"} <= set(formats("ai"))
    assert ai_report.render_text is not None


# The recipe's Output Format, line by line (detections.md §4.3).
RECIPE_LINES = [
    r"AI Activity Audit — Example Corp — \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ → \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ",
    r"",
    r"Total MCP tool calls: \d+",
    r"Unique users: \d+",
    r"",
    r"Top users:",
]


def test_text_follows_the_recipe_output_format(busy_result):
    text = render("ai", "text", busy_result)
    lines = text.splitlines()
    for pattern, line in zip(RECIPE_LINES, lines, strict=False):
        assert re.fullmatch(pattern, line), (pattern, line)
    s = busy_result.summary
    assert f"Total MCP tool calls: {s['total_tool_calls']}" in lines
    assert f"  bob@example.com: {s['top_users'][0]['calls']} calls" in lines
    wanted = ("Top users:", "Actions breakdown:", "Resource types affected:", "Anomalies:")
    headings = [line for line in lines if line in wanted]
    assert headings == ["Top users:", "Actions breakdown:", "Resource types affected:", "Anomalies:"]
    assert "  executed: " + str(s["actions_breakdown"][0]["count"]) in lines
    assert "  mcp: " + str(s["resource_types"][0]["count"]) in lines
    # anomalies list the flagged events with timestamp, user, action and resource
    anomalies = text.split("Anomalies:\n", 1)[1]
    assert "ai_destructive" in anomalies and "ai_support_user" in anomalies and "ai_burst" in anomalies
    assert re.search(
        r"\d\d:\d\d:\d\dZ  alice@example\.com  delete_monitor \(deleted\)  monitor 42", anomalies
    )
    # ddaudit's own sections follow the recipe's
    for heading in ("Tools:", "Clients:", "Resources created / modified / deleted through AI:", "Activity ("):
        assert heading in text


def test_text_removes_terminal_controls(busy_result):
    text = render("ai", "text", busy_result)
    assert "\x1b" not in text and "\x07" not in text


def test_quiet_week_text_and_md_say_none():
    r = result_from(quiet())
    assert r.flags == []
    text = render("ai", "text", r)
    assert "Anomalies:\n  none\n" in text
    md = render("ai", "md", r)
    assert "## Anomalies\n\nNone.\n" in md


def test_markdown_has_the_same_headings_and_escapes_event_text(busy_result):
    md = render("ai", "md", busy_result)
    lines = md.splitlines()
    assert lines[0].startswith("# AI Activity Audit — Example Corp — ")
    s = busy_result.summary
    assert f"Total MCP tool calls: {s['total_tool_calls']}  " in lines
    assert f"Unique users: {s['unique_users']}" in lines
    order = [line for line in lines if line.startswith("## ")]
    assert order[:4] == ["## Top users", "## Actions breakdown", "## Resource types affected", "## Anomalies"]
    # hostile text stays literal: no raw HTML, no link, no emphasis, no terminal controls
    assert "<script>" not in md and "\x1b" not in md
    assert not re.search(r"(?<!\\)\]\(", md)  # `](` only after an escaped bracket: no link forms
    assert r"\<script\>" in md and r"\[x\]" in md and r"\*\*b\*\*" in md
    # table cells cannot be broken by a pipe in event text
    for line in lines:
        if line.startswith("| ") and "script" in line:
            assert "\\|" in line


def test_json_uses_the_recipe_field_names(busy_result):
    data = json.loads(render("ai", "json", busy_result))
    assert list(data)[:5] == [
        "total_tool_calls",
        "unique_users",
        "top_users",
        "actions_breakdown",
        "resource_types",
    ]
    assert {k: data[k] for k in list(data)[:5]} == busy_result.summary
    assert set(data["top_users"][0]) == {"user", "calls"}
    assert set(data["actions_breakdown"][0]) == {"action", "count"}
    assert set(data["resource_types"][0]) == {"type", "count"}
    assert data["window"] == {"from": iso(WINDOW.start), "to": iso(WINDOW.end)}
    assert {"tool", "calls", "users"} <= set(data["tools"][0])
    assert {"client", "calls", "users"} <= set(data["clients"][0])
    mod = {(m["action"], m["resource_type"], m["resource_id"]) for m in data["modified_resources"]}
    assert ("deleted", "monitor", "42") in mod and ("modified", "dashboard", "d-1") in mod
    for f in data["flags"]:
        assert {"signal", "severity", "reason", "event_ids"} <= set(f)
        assert f["severity"] in ("info", "low", "medium", "high", "critical") and f["event_ids"]
    assert {f["signal"] for f in data["flags"]} >= {"ai_destructive", "ai_support_user", "ai_burst"}
    assert data["timeline"]["buckets"] and any(b["burst"] for b in data["timeline"]["buckets"])
    assert data["baseline"]["known"] is True and data["complete"] is True
    assert data["user"] is None and "user_detail" not in data


def test_json_user_drill_down():
    r = result_from(busy(), user="alice@example.com")
    data = json.loads(render("ai", "json", r))
    assert data["user"] == "alice@example.com"
    assert data["unique_users"] == 1 and data["top_users"] == [{"user": "alice@example.com", "calls": 3}]
    detail = data["user_detail"]
    assert detail["had_ai_before"] is True and detail["scope_types"] == ["dashboard"]
    assert [c["tool"] for c in detail["calls"][-2:]] == ["delete_monitor", "update_dashboard"]
    assert all(f["details"]["user"] == "alice@example.com" for f in data["flags"])
    text = render("ai", "text", r)
    assert text.splitlines()[0].endswith("— user alice@example.com")
    assert "\nCalls:\n" in text


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_html_is_self_contained_and_escaped(busy_result):
    page = render("ai", "html", busy_result)
    assert page.startswith("<!DOCTYPE html>")
    p = _Collector()
    p.feed(page)
    assert "script" not in p.tags and "a" not in p.tags and "img" not in p.tags
    assert not any(name in ("src", "href") or name.startswith("on") for name, _ in p.attrs)
    assert "&lt;script&gt;" in page and "\x1b" not in page
    for heading in ("Top users", "Actions breakdown", "Resource types affected", "Anomalies"):
        assert f"<h2>{heading}</h2>" in page
    assert f"Total MCP tool calls: {busy_result.summary['total_tool_calls']}" in page


def test_reports_render_findings_without_recomputing(busy_result):
    # A doctored result renders as given: the renderers read the findings, they do not recount events.
    doctored = dataclasses.replace(busy_result, summary={**busy_result.summary, "total_tool_calls": 999_999})
    for fmt in ("text", "md", "html"):
        assert "999999" in render("ai", fmt, doctored)
    assert json.loads(render("ai", "json", doctored))["total_tool_calls"] == 999_999


def test_null_recipe_values_render_as_none():
    items = [item(WINDOW.start + M, {"evt": {"name": "MCP Server"}, "action": "executed"})]
    r = result_from(items)
    assert r.summary["top_users"] == [{"user": None, "calls": 1}]
    assert "  (none): 1 calls" in render("ai", "text", r)
    assert json.loads(render("ai", "json", r))["resource_types"] == [{"type": None, "count": 1}]
