"""AI activity analysis: attribution, the recipe's summary (checked with the real jq), tables, flags.

Synthetic orgs are built from the real event shapes of `audit-events.md` §4.3–4.4; the real samples in
`tests/fixtures/reference/elastic_archive.ndjson` and the demo org (when present) are used as well.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ai_synthetic import (  # noqa: E402
    AGENT,
    END,
    PERIOD,
    WINDOW,
    D,
    H,
    M,
    S,
    _item,
    analyze,
    change,
    decode,
    mcp_tool,
    quiet_org,
    signals,
)

from ddaudit_tui.analysis import ai  # noqa: E402
from ddaudit_tui.analysis.ai import (  # noqa: E402
    DEFAULT_BASE_QUERY,
    SUMMARY_QUERY,
    AiConfig,
    Baseline,
    analyze_ai,
    attribute_events,
    baseline_from_events,
    jq_sort_key,
    recipe_summary,
    resource_family,
    tool_intent,
)
from ddaudit_tui.analysis.ai_investigation import fetch_baseline, identity_clause, investigate_ai, quote  # noqa: E402
from ddaudit_tui.events.decode import iter_decode  # noqa: E402
from ddaudit_tui.events.query import parse_query  # noqa: E402
from ddaudit_tui.events.record import Event  # noqa: E402
from ddaudit_tui.events.store import EventStore  # noqa: E402
from ddaudit_tui.sources.base import FetchResult  # noqa: E402
from ddaudit_tui.sources.files import FileSource  # noqa: E402
from ddaudit_tui.timeutil import Window, iso  # noqa: E402

REF = Path(__file__).parent.parent / "fixtures" / "reference"
JQ = shutil.which("jq") or "/usr/bin/jq"
needs_jq = pytest.mark.skipif(not Path(JQ).exists(), reason="jq not installed")


# The recipe's "Weekly summary report" jq program, verbatim (detections.md §4.3).
RECIPE_JQ = """{
      total_tool_calls: (.data | length),
      unique_users: ([.data[] | .attributes.attributes.usr.email] | unique | length),
      top_users: (
        [.data[] | .attributes.attributes.usr.email]
        | group_by(.)
        | map({user: .[0], calls: length})
        | sort_by(-.calls)
        | .[:5]
      ),
      actions_breakdown: (
        [.data[] | .attributes.attributes.action]
        | group_by(.)
        | map({action: .[0], count: length})
        | sort_by(-.count)
      ),
      resource_types: (
        [.data[] | .attributes.attributes.asset.type]
        | group_by(.)
        | map({type: .[0], count: length})
        | sort_by(-.count)
      )
    }"""
RECIPE_KEYS = ("total_tool_calls", "unique_users", "top_users", "actions_breakdown", "resource_types")


def run_jq(program: str, documents: list[Any]) -> list[Any]:
    """Run jq once over a stream of JSON documents; one result per document."""
    stdin = "\n".join(json.dumps(d) for d in documents)
    proc = subprocess.run([JQ, "-c", program], input=stdin, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


# -- synthetic events in the real shapes ----------------------------------------------------------


# -- the recipe's summary, exactly as jq computes it ------------------------------------------------


@needs_jq
def test_jq_sort_key_orders_like_jq():
    values = [
        {"b": 1},
        {"a": 2},
        {"a": 1, "b": 0},
        [2],
        [1, 2],
        [1],
        "b",
        "a",
        "",
        "é",
        2,
        1.5,
        -3,
        True,
        False,
        None,
    ]
    ours = sorted(values, key=jq_sort_key)
    assert ours == run_jq("sort", [values])[0]
    assert ours[:3] == [None, False, True]


@needs_jq
def test_recipe_summary_equals_jq_on_odd_values_and_ties():
    # nulls, numbers where strings are expected, ties (stable sort keeps key order), unicode, > 5 users
    emails = [None, "zoë@example.com", "bob@example.com", 7, "bob@example.com", None, "amy@example.com",
              "émile@example.com", "carl@example.com", "dan@example.com", "amy@example.com", 7.0]  # fmt: skip
    actions = [
        "executed",
        None,
        "executed",
        "accessed",
        "modified",
        "executed",
        None,
        "deleted",
        "x",
        "x",
        "y",
        "y",
    ]
    types = ["mcp", "mcp", None, "monitor", "dashboard", {"a": 1}, ["l"], "mcp", "mcp", "monitor", "z", "z"]
    items = []
    for i, (e, a, t) in enumerate(zip(emails, actions, types, strict=True)):
        inner: dict[str, Any] = {
            "evt": {"name": "MCP Server"},
            "usr": {"email": e},
            "action": a,
            "asset": {"type": t},
        }
        if i == 3:
            del inner["usr"]  # missing usr block: null for jq
        items.append(_item(WINDOW.start + i * M, inner, mcp=True))
    calls = attribute_events(decode(items))
    ours = recipe_summary([c.jq for c in calls])
    assert ours == run_jq(RECIPE_JQ, [{"data": items}])[0]


@needs_jq
def test_recipe_summary_equals_jq_on_random_datasets():
    rng = random.Random(5)
    pool_users: list[Any] = [
        None,
        "a@x.com",
        "b@x.com",
        "B@x.com",
        "c@x.com",
        "d@x.com",
        "e@x.com",
        "f@x.com",
        3,
    ]
    pool_actions: list[Any] = [None, "executed", "accessed", "created", "modified", "deleted"]
    pool_types: list[Any] = [None, "mcp", "monitor", "dashboard", "notebook"]
    docs, ours = [], []
    for _ in range(150):
        items = []
        for i in range(rng.randrange(0, 40)):
            inner = {
                "evt": {"name": "MCP Server"},
                "usr": {"email": rng.choice(pool_users)},
                "action": rng.choice(pool_actions),
                "asset": {"type": rng.choice(pool_types)},
            }
            items.append(_item(WINDOW.start + i * S, inner, mcp=True))
        docs.append({"data": items})
        calls = attribute_events(decode(items))
        ours.append(recipe_summary([c.jq for c in calls]))
    assert ours == run_jq(RECIPE_JQ, docs)


@needs_jq
def test_summary_equals_jq_over_the_same_mcp_server_events(tmp_path):
    items = quiet_org()
    items.append(
        change(
            WINDOW.start + H, "Bits AI SRE", "investigation", "started", "inv-1", email="carol@example.com"
        )
    )
    result = analyze(items)
    store = EventStore(decode(items))
    selected = asyncio.run(FileSource(store, "t").fetch(SUMMARY_QUERY, WINDOW)).events
    assert selected and all(e.evt_name == "MCP Server" for e in selected)
    expected = run_jq(RECIPE_JQ, [{"data": [e.api_item() for e in selected]}])[0]
    assert result.summary == expected
    assert list(result.summary) == list(RECIPE_KEYS)


# -- the real shapes (audit-events.md §4.3–4.4) ------------------------------------------------------


def reference_events() -> list[Event]:
    return list(iter_decode((REF / "elastic_archive.ndjson").read_bytes(), "elastic_archive.ndjson"))


def test_reference_shapes_selection_and_attribution():
    events = reference_events()
    selected = parse_query(DEFAULT_BASE_QUERY).filter(events)
    # the MCP Server tool call and connection, the three Bits AI SRE events; not the plain Requests
    assert sorted(e.evt_name or "" for e in selected) == ["Bits AI SRE"] * 3 + ["MCP Server"] * 2
    calls = {c.event.id: c for c in attribute_events(selected)}
    tool = calls["id-000122"]
    assert (tool.kind, tool.human, tool.client, tool.tool) == (
        "tool_call", "user06@example.com", "Datadog Generic MCP Client", "search_datadog_rum_events",
    )  # fmt: skip
    assert (tool.verb, tool.resource_type, tool.counted) == ("accessed", "rum_event", True)
    init = calls["id-000084"]
    assert (init.kind, init.client, init.counted) == ("connection", "Cursor", False)
    started, tool_call, task = calls["id-000110"], calls["id-000094"], calls["id-000099"]
    assert started.tool == "investigation" and started.investigation == "id-000096"
    assert tool_call.tool == "submit_remediations" and tool_call.client == "Bits AI SRE"
    # the SYSTEM task has no usr: it counts for the person whose investigation it served
    assert task.human == "user03@example.com" and task.actor == "(system)"
    assert task.investigation == "id-000096" and task.tool == "com.datadoghq.slack.listWorkspaces"
    # Bits agent tool calls are the agent's own records, not resources created in the org
    assert not [c for c in calls.values() if c.verb in ("created", "modified", "deleted")]


@needs_jq
def test_reference_shapes_summary_equals_jq():
    events = reference_events()
    window = Window(min(e.ts for e in events), max(e.ts for e in events) + 1)
    result = analyze_ai(parse_query(DEFAULT_BASE_QUERY).filter(events), window)
    mcp = [e.api_item() for e in parse_query(SUMMARY_QUERY).filter(events)]
    assert result.summary == run_jq(RECIPE_JQ, [{"data": mcp}])[0]
    assert result.summary["total_tool_calls"] == 2  # the recipe counts the connection too
    assert result.counts["tool_calls"] == 1 and result.counts["connections"] == 1
    assert result.counts["bits_events"] == 3
    assert [t.tool for t in result.tools if t.tool == "search_datadog_rum_events"]
    assert not result.flags  # no baseline: first-time / scope skipped, nothing destructive
    assert any("first-time and scope checks skipped" in n for n in result.notes)


# -- tool names and resources ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("delete_monitor", ("deleted", "monitor")),
        ("update_dashboard", ("modified", "dashboard")),
        ("create_notebook", ("created", "notebook")),
        ("search_datadog_logs", ("accessed", "log")),
        ("search_datadog_rum_events", ("accessed", "rum_event")),
        ("list_users", ("accessed", "user")),
        ("get_security_rule", ("accessed", "security_rule")),
        ("Delete-Dashboards", ("deleted", "dashboard")),
        ("submit_remediations", ("created", "remediation")),
        ("frobnicate", (None, None)),
        ("", (None, None)),
    ],
)
def test_tool_intent(tool, expected):
    assert tool_intent(tool) == expected


def test_resource_family_spellings():
    assert resource_family("logs_query") == resource_family("logs") == "log"
    assert resource_family("Security Rules") == "security_rule"
    assert resource_family("policies") == "policy"
    assert resource_family("indexes") == "index"
    assert resource_family("status") == "status"
    assert resource_family(None) is None


# -- flags ------------------------------------------------------------------------------------------


def test_quiet_week_raises_nothing():
    result = analyze(quiet_org())
    assert result.flags == []
    assert result.notes == []
    assert {u.user for u in result.users} == {"alice@example.com", "bob@example.com"}
    assert result.counts["connections"] == 2 * 2  # sessions 6 and 3 days before the end
    assert not result.modified_resources and not result.bursts


def test_tool_call_and_resulting_event_are_one_change():
    t = WINDOW.start + D
    items = quiet_org() + [
        mcp_tool(t, "alice@example.com", "delete_monitor", {"monitor_id": "m-1"}),
        change(t + 2 * S, "Monitor", "monitor", "deleted", "m-1", email="alice@example.com", mcp=True),
    ]
    result = analyze(items)
    assert [(m.action, m.resource_id) for m in result.modified_resources] == [("deleted", "m-1")]


def test_no_baseline_data_skips_first_time_and_scope_with_a_note():
    items = [mcp_tool(WINDOW.start + H, "new@example.com", "list_users")]
    events = decode(items)
    result = analyze_ai(events, WINDOW, baseline_from_events(PERIOD, events))
    assert result.flags == []
    assert any("no audit events in the baseline period" in n for n in result.notes)


def test_delegated_agent_actions_count_for_the_delegator():
    t = WINDOW.start + 6 * D
    items = quiet_org() + [
        # delegator by email, by full name only, and by id that maps through usr.uuid
        change(t, "Monitor", "monitor", "modified", "m-1", user=dict(AGENT), mode="interactive",
               delegator={"id": "alice@example.com", "name": "Alice"}),
        change(t + M, "Dashboard", "dashboard", "modified", "d-1", user=dict(AGENT), mode="interactive",
               delegator={"name": "Bob"}),
        change(t + 2 * M, "Notebook", "notebook", "modified", "n-1", user=dict(AGENT), mode="interactive",
               delegator={"id": "uuid-bob"}),
        # an autonomous agent action has no human behind it
        change(t + 3 * M, "Cloud Security Platform", "security_signal", "modified", "sig-1", user=dict(AGENT),
               mode="autonomous", actor_type="SYSTEM"),
    ]  # fmt: skip
    result = analyze(items)
    agent_calls = [c for c in result.calls if c.kind == "agent"]
    assert [(c.human, c.delegated, c.actor, c.client) for c in agent_calls] == [
        ("alice@example.com", True, "Bits AI", "Bits AI"),
        ("bob@example.com", True, "Bits AI", "Bits AI"),
        ("bob@example.com", True, "Bits AI", "Bits AI"),
        ("Bits AI", False, "Bits AI", "Bits AI"),
    ]
    alice = next(u for u in result.users if u.user == "alice@example.com")
    assert alice.delegated == 1 and alice.changes == 1
    destructive = {(f.details["user"], f.details["action"]) for f in signals(result)["ai_destructive"]}
    assert destructive == {("alice@example.com", "modified"), ("bob@example.com", "modified")}
    # the drill-down on bob includes what the agent did for him, and only his flags
    bob = result.for_user("BOB@example.com")
    assert bob.user == "bob@example.com" and bob.user_detail is not None
    assert {c.kind for c in bob.calls} >= {"agent", "tool_call", "connection"}
    assert all(c.human == "bob@example.com" for c in bob.calls)
    assert bob.flags and all(f.details.get("user") == "bob@example.com" for f in bob.flags)
    assert "uuid-bob" in bob.user_detail.identities and bob.user_detail.had_ai_before is True


@needs_jq
def test_drill_down_summary_equals_jq_over_the_users_mcp_events():
    items = quiet_org()
    result = analyze(items).for_user("alice@example.com")
    mcp = [
        it
        for it in items
        if it["attributes"]["attributes"]["evt"]["name"] == "MCP Server"
        and it["attributes"]["attributes"]["usr"]["email"] == "alice@example.com"
        and WINDOW.start <= decode([it])[0].ts < WINDOW.end
    ]
    assert result.summary == run_jq(RECIPE_JQ, [{"data": mcp}])[0]
    assert result.summary["unique_users"] == 1


def test_timeline_buckets_cover_the_window():
    result = analyze(quiet_org())
    t = result.timeline
    assert t.bucket_ms == 3 * H and len(t.buckets) <= 60
    assert t.buckets[0].start <= WINDOW.start < t.buckets[0].start + t.bucket_ms
    assert t.buckets[-1].start < WINDOW.end <= t.buckets[-1].start + t.bucket_ms
    fine = ai.activity_timeline(result.calls, WINDOW, max_buckets=200)
    assert fine.bucket_ms == H and sum(b.calls for b in fine.buckets) == result.counts["calls"]


def test_tables_are_sorted_and_complete():
    result = analyze(quiet_org())
    assert [r.calls for r in result.users] == sorted((r.calls for r in result.users), reverse=True)
    assert {t.tool for t in result.tools} == {
        "search_datadog_logs",
        "get_datadog_metric",
        "search_datadog_monitors",
    }
    clients = {c.client: c for c in result.clients}
    assert clients["Cursor"].mcp_clients == ("cursor-vscode",) and clients["Cursor"].users == 1
    assert sum(u.calls for u in result.users) == result.counts["calls"]


def test_custom_config_thresholds():
    t = WINDOW.start + D
    items = quiet_org() + [
        mcp_tool(t + i * S, "bob@example.com", "search_datadog_logs", client="Claude") for i in range(12)
    ]
    assert "ai_burst" not in signals(analyze(items))
    assert "ai_burst" in signals(analyze(items, config=AiConfig(burst_calls=10, burst_window_ms=M)))


# -- the orchestrator through a Source --------------------------------------------------------------


def file_source(items: list[dict[str, Any]]) -> FileSource:
    return FileSource(EventStore(decode(items)), "test")


def scenario() -> list[dict[str, Any]]:
    t = WINDOW.start + 2 * D
    return quiet_org() + [
        mcp_tool(t, "alice@example.com", "delete_monitor", {"monitor_id": "m-1"}),
        mcp_tool(t + H, "support@datadoghq.com", "search_datadog_logs", actor_type="SUPPORT_USER"),
        change(END - 20 * D, "Monitor", "monitor", "modified", "m-1", email="tom@example.com"),
        mcp_tool(t + 2 * H, "tom@example.com", "list_users"),
        *[
            mcp_tool(t + 3 * H + i * S, "bob@example.com", "get_datadog_metric", client="Claude")
            for i in range(100)
        ],
    ]


def test_investigation_through_a_source_matches_the_pure_baseline():
    items = scenario()
    through_source = asyncio.run(investigate_ai(file_source(items), WINDOW))
    pure = analyze(items)
    assert [(f.signal, f.severity, f.reason, f.event_ids) for f in through_source.flags] == [
        (f.signal, f.severity, f.reason, f.event_ids) for f in pure.flags
    ]
    assert {f.signal for f in through_source.flags} == {
        "ai_destructive", "ai_support_user", "ai_first_time_user", "ai_out_of_scope", "ai_burst",
    }  # fmt: skip
    assert through_source.summary == pure.summary
    assert through_source.baseline is not None and through_source.baseline.known


def test_investigation_user_drill_down_and_custom_query():
    items = scenario()
    result = asyncio.run(investigate_ai(file_source(items), WINDOW, user="tom@example.com"))
    assert result.user == "tom@example.com"
    assert {f.signal for f in result.flags} == {"ai_first_time_user", "ai_out_of_scope"}
    narrow = asyncio.run(investigate_ai(file_source(items), WINDOW, query="@evt.actor.type:SUPPORT_USER"))
    assert narrow.query == "@evt.actor.type:SUPPORT_USER"
    assert {c.human for c in narrow.calls} == {"support@datadoghq.com"}


def test_investigation_rejects_a_bad_query_before_fetching():
    from ddaudit_tui.events.query import QuerySyntaxError

    with pytest.raises(QuerySyntaxError):
        asyncio.run(investigate_ai(file_source([]), WINDOW, query='@evt.name:"MCP'))


class _FetchOnly:
    """A source with no `exists`: the baseline falls back to fetches. Records every query it is asked."""

    label = "fetch-only"

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.inner = file_source(items)
        self.queries: list[str] = []

    async def fetch(self, query: str, window: Window, progress: Any = None) -> FetchResult:
        self.queries.append(query)
        return await self.inner.fetch(query, window)

    def default_window(self) -> Window | None:
        return None

    async def aclose(self) -> None:
        return None


def test_baseline_questions_are_pushed_down_and_quoted():
    items = scenario()
    src = _FetchOnly(items)
    calls = attribute_events(parse_query(DEFAULT_BASE_QUERY).filter(decode(items)))
    calls = [c for c in calls if WINDOW.contains(c.ts)]
    baseline = asyncio.run(fetch_baseline(src, DEFAULT_BASE_QUERY, PERIOD, calls))
    assert isinstance(baseline, Baseline) and baseline.known
    assert baseline.had_ai("alice@example.com") is True and baseline.had_ai("tom@example.com") is False
    assert baseline.scope_of("tom@example.com") is not None
    # every question parses, and each person's questions name them (no org-wide pull of the period)
    for q in src.queries:
        parse_query(q)
    assert any('@delegator.id:"tom@example.com"' in q for q in src.queries)
    assert all(q == "*" or "@usr." in q or "@metadata." in q for q in src.queries)


def test_pushed_down_baseline_gives_the_same_flags_as_a_local_pass():
    items = scenario()
    remote = asyncio.run(investigate_ai(_FetchOnly(items), WINDOW))  # no in-memory store: questions
    local = asyncio.run(investigate_ai(file_source(items), WINDOW))  # one local pass
    assert [(f.signal, f.reason, f.event_ids) for f in remote.flags] == [
        (f.signal, f.reason, f.event_ids) for f in local.flags
    ]
    assert remote.baseline is not None and remote.baseline.checked_users is not None


def test_baseline_scopes_are_one_search_split_back_per_person():
    """Issue 16: the own-scope question of every person is one search ORing their clauses; each person's
    share is what their own search returned (the scopes equal a local pass's)."""
    items = scenario()
    src = _FetchOnly(items)
    calls = attribute_events(parse_query(DEFAULT_BASE_QUERY).filter(decode(items)))
    calls = [c for c in calls if WINDOW.contains(c.ts)]
    baseline = asyncio.run(fetch_baseline(src, DEFAULT_BASE_QUERY, PERIOD, calls, user="alice@example.com"))
    scope_queries = [q for q in src.queries if "-@evt.name:(Request OR Authentication)" in q]
    assert len(scope_queries) == 1 and len(baseline.scopes) >= 2
    local = baseline_from_events(PERIOD, decode(items))
    for key, scope in baseline.scopes.items():
        assert scope == local.scopes[key]


def test_any_of_batches_clauses_within_the_length_bound():
    from ddaudit_tui.analysis.ai_queries import any_of

    clauses = ['@usr.id:"a"', '@usr.id:"b"', '@usr.id:"c"']
    [(query, idx)] = any_of(clauses)
    assert idx == [0, 1, 2] and parse_query(query)
    assert query == '(@usr.id:"a" OR @usr.id:"b" OR @usr.id:"c")'
    batches = any_of(clauses, max_chars=len('(@usr.id:"a" OR @usr.id:"b")'))
    assert [i for _q, i in batches] == [[0, 1], [2]]
    assert all(len(q) <= len('(@usr.id:"a" OR @usr.id:"b")') for q, _i in batches)
    assert [i for _q, i in any_of(["x" * 50, "y"], max_chars=10)] == [[0], [1]]  # too long: alone
    assert any_of([]) == []


def test_quote_and_identity_clause_escape_values():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    clause = identity_clause(['x"y@example.com', "Full Name", "id-1"], delegator=True)
    q = parse_query(clause)  # parses
    assert "@delegator.name:" in clause and "@usr.uuid:" in clause
    assert not q.is_match_all


# -- the demo org (when the demo generator is present) -----------------------------------------------


def _demo() -> tuple[Any, list[dict[str, Any]], Window] | None:
    try:
        from ddaudit_tui.demo import org as mod
    except ImportError:
        return None
    end = END
    return mod, mod.generate(seed=7, end_ms=end), Window(end - 7 * D, end)


@pytest.fixture(scope="module")
def demo() -> tuple[Any, ai.AiActivity, list[dict[str, Any]], Window]:
    loaded = _demo()
    if loaded is None:
        pytest.skip("the demo org is not available")
    mod, items, window = loaded
    src = FileSource(EventStore(iter_decode(msgspec.json.encode({"data": items}))), "demo")
    return mod, asyncio.run(investigate_ai(src, window)), items, window


def test_demo_flags_every_planted_ai_signal(demo):
    mod, result, _items, _window = demo
    p = mod.PLANTED
    flags = signals(result)

    def users(signal: str) -> set[str]:
        return {f.details.get("user") for f in flags.get(signal, [])}

    destructive = {(f.details["user"], f.details["action"]) for f in flags["ai_destructive"]}
    assert (p.ai_destructive_user, "deleted") in destructive
    assert (p.ai_destructive_user, "modified") in destructive
    deleted = next(f for f in flags["ai_destructive"] if f.details["action"] == "deleted")
    assert {r["id"] for r in deleted.details["resources"]} >= set(p.ai_deleted_monitors)
    assert set(p.ai_destructive_tools) <= {t for f in flags["ai_destructive"] for t in f.details["tools"]}
    assert p.ai_support_user in users("ai_support_user")
    assert p.ai_first_time_user in users("ai_first_time_user")
    assert p.ai_burst_user in users("ai_burst")
    burst = next(f for f in flags["ai_burst"] if f.details["user"] == p.ai_burst_user)
    assert burst.details["peak"] >= p.ai_burst_calls
    assert p.ai_out_of_scope_user in users("ai_out_of_scope")
    # delegated agent actions are attributed to their delegators
    delegated = {c.human for c in result.calls if c.delegated and c.kind == "agent"}
    assert set(p.ai_delegators) <= delegated
    # the quiet regular user raises nothing, and is not "first-time"
    assert not [f for f in result.flags if f.details.get("user") == p.ai_quiet_user]
    assert p.ai_quiet_user in {u.user for u in result.users}


@needs_jq
def test_demo_summary_equals_the_recipe_jq(demo, tmp_path):
    _mod, result, items, window = demo
    # jq selects the window's MCP Server events itself (timestamps are ISO with milliseconds, so string
    # order is time order), then runs the recipe's program.
    select = (
        '{data: [.data[] | select(.attributes.attributes.evt.name == "MCP Server" '
        "and .attributes.timestamp >= $f and .attributes.timestamp < $t)]} | " + RECIPE_JQ
    )
    path = tmp_path / "demo.json"
    path.write_bytes(msgspec.json.encode({"data": items}))
    proc = subprocess.run(
        [JQ, "--arg", "f", iso(window.start), "--arg", "t", iso(window.end), select, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.summary == json.loads(proc.stdout)
    assert result.summary["total_tool_calls"] > 0
