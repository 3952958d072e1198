"""`ddaudit ai --engine auto|search|ddsql` (issue 16): on the demo org, through the real client against the fake
API, paging every AI event and letting DDSQL count the bulk give the same summary, counts, tables,
timeline, bursts and flags; the aggregate engine fetches far fewer events, says so in its completeness
record, and `auto` picks it past the page budget. A refused DDSQL falls back to paging."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ddaudit_tui.analysis.ai import AiActivity, AiConfig
from ddaudit_tui.analysis.ai_engine import is_bulk
from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import PLANTED, generate
from ddaudit_tui.report.ai_report import ai_json
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 7 * DAY, END)


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return generate(seed=7, end_ms=END)


async def _no_sleep(_s: float) -> None:
    return None


def fake(items: list[dict], **ddsql: Any) -> FakeDatadog:
    return FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=0, **ddsql))


def run(fk: FakeDatadog, engine: str, *, page_limit: int = 1000, **kwargs: Any) -> AiActivity:
    async def go() -> AiActivity:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=fk,
            page_limit=page_limit,
            sleep=_no_sleep,
            retention_days=None,
        )
        try:
            return await investigate_ai(client, WINDOW, engine=engine, **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(go())


def ddsql_requests(fk: FakeDatadog) -> int:
    return sum(1 for r in fk.requests if "/ddsql/" in r.path)


def report_view(a: AiActivity) -> dict[str, Any]:
    """The report without what says how it was made (completeness, warnings)."""
    out = ai_json(a)
    for k in ("completeness", "warnings", "complete"):
        out.pop(k)
    return out


@pytest.fixture(scope="module")
def both(items: list[dict]) -> tuple[AiActivity, AiActivity, FakeDatadog, FakeDatadog]:
    by_search, by_ddsql = fake(items), fake(items)
    return run(by_search, "search"), run(by_ddsql, "ddsql"), by_search, by_ddsql


def test_both_engines_give_the_same_report(both) -> None:
    searched, aggregated, by_search, by_ddsql = both
    assert ddsql_requests(by_search) == 0 and ddsql_requests(by_ddsql) > 0
    assert searched.counts["ai_events"] > 0 and searched.flags
    assert aggregated.summary == searched.summary
    assert aggregated.counts == searched.counts
    assert aggregated.users == searched.users
    assert aggregated.tools == searched.tools
    assert aggregated.clients == searched.clients
    assert aggregated.modified_resources == searched.modified_resources
    assert aggregated.timeline == searched.timeline
    assert aggregated.bursts == searched.bursts
    assert [f.to_json() for f in aggregated.flags] == [f.to_json() for f in searched.flags]
    assert aggregated.baseline == searched.baseline
    assert report_view(aggregated) == report_view(searched)
    assert aggregated.complete and searched.complete
    # Every planted AI signal is still raised.
    signals = {(f.signal, f.details.get("user")) for f in aggregated.flags}
    for signal, user in (
        ("ai_destructive", PLANTED.ai_destructive_user),
        ("ai_support_user", PLANTED.ai_support_user),
        ("ai_first_time_user", PLANTED.ai_first_time_user),
        ("ai_burst", PLANTED.ai_burst_user),
        ("ai_out_of_scope", PLANTED.ai_out_of_scope_user),
    ):
        assert (signal, user) in signals


def test_the_aggregate_engine_fetches_less_and_says_how_it_answered(both) -> None:
    searched, aggregated, _s, _d = both
    s, d = searched.completeness, aggregated.completeness
    assert s is not None and d is not None
    assert (s.engine, d.engine) == ("search", "search+ddsql")
    assert d.complete and d.events_matched == searched.counts["ai_events"]
    # The bulk (MCP Server reads and connections) was counted, not fetched.
    bulk = sum(1 for c in searched.calls if is_bulk(c.event))
    assert bulk > 0
    assert len(aggregated.calls) < len(searched.calls)
    assert all(c.id in {x.id for x in searched.calls} for c in aggregated.calls)


def test_drill_down_is_the_same(items: list[dict]) -> None:
    user = PLANTED.ai_burst_user
    searched = run(fake(items), "search", user=user)
    aggregated = run(fake(items), "ddsql", user=user)
    assert report_view(aggregated) == report_view(searched)
    assert aggregated.user_detail == searched.user_detail


def test_auto_pages_within_the_budget_and_aggregates_past_it(items: list[dict], both) -> None:
    searched = both[0]
    within = fake(items)
    report = run(within, "auto", page_limit=1000, max_pages=50)
    # The count, then paging; the baseline's two questions are DDSQL group-bys (running_polls=0 here).
    assert ddsql_requests(within) == 3
    assert report.completeness is not None and report.completeness.engine == "search"
    past = fake(items)
    report = run(past, "auto", page_limit=100, max_pages=1)
    assert ddsql_requests(past) > 1
    assert report.completeness is not None and report.completeness.engine == "search+ddsql"
    assert report_view(report) == report_view(searched)


def test_refused_ddsql_falls_back_to_paging_and_says_so(items: list[dict], both) -> None:
    searched = both[0]
    report = run(fake(items, enabled=False), "ddsql")
    assert report.warnings and report.warnings[0].startswith("DDSQL unavailable (DDSQL refused")
    assert report.completeness is not None and report.completeness.engine == "search"
    assert report.summary == searched.summary and report.counts == searched.counts


def test_a_small_burst_threshold_is_found_by_both(items: list[dict]) -> None:
    cfg = AiConfig(burst_calls=12)
    searched = run(fake(items), "search", config=cfg)
    aggregated = run(fake(items), "ddsql", config=cfg)
    assert len(searched.bursts) >= 1
    assert aggregated.bursts == searched.bursts
    assert [f.to_json() for f in aggregated.flags] == [f.to_json() for f in searched.flags]


def test_groups_cut_at_the_row_limit_make_the_answer_partial(items: list[dict], monkeypatch) -> None:
    from ddaudit_tui.analysis import ai_engine

    monkeypatch.setattr(ai_engine, "ROW_LIMIT", 5)
    report = run(fake(items), "ddsql")
    c = report.completeness
    assert c is not None and c.partial and c.engine == "search+ddsql"
    assert any("row limit" in r for r in c.reasons)
    assert not report.complete


# -- batched questions (issue 16: cost grows with groups and findings, not with people) ------------------


def searches(fk: FakeDatadog) -> list[str]:
    import json

    return [json.loads(r.body)["filter"]["query"] for r in fk.requests if r.path.endswith("/events/search")]


@pytest.mark.parametrize("engine", ["search", "ddsql"])
def test_batched_questions_split_back_as_asked_one_by_one(
    items: list[dict], both, monkeypatch, engine
) -> None:
    """One clause per search (the bound at 1 character) is a question per person, client and tool name,
    as before the batching: the report is the same, from more requests."""
    from ddaudit_tui.analysis import ai_queries

    expected = both[0] if engine == "search" else both[1]
    batched_fake = both[2] if engine == "search" else both[3]
    monkeypatch.setattr(ai_queries, "MAX_CLAUSE_CHARS", 1)
    one_by_one = fake(items)
    report = run(one_by_one, engine)
    assert report_view(report) == report_view(expected)
    assert report.baseline == expected.baseline
    assert report.completeness is not None and expected.completeness is not None
    assert report.completeness.events_fetched == expected.completeness.events_fetched
    assert len(one_by_one.requests) > len(batched_fake.requests)
    scope = [q for q in searches(batched_fake) if "-@evt.name:(Request OR Authentication)" in q]
    if engine == "search":
        # The scopes of several people came from one search, split back by each person's clause.
        assert len(set(scope)) == 1 and scope[0].count("@usr.email:") >= 2  # one query, its pages
    else:
        assert scope == []  # a DDSQL GROUP BY answered them


def test_baseline_groups_cut_at_the_row_limit_are_asked_by_search(
    items: list[dict], both, monkeypatch
) -> None:
    """`auto` within the page budget pages the AI events and lets DDSQL group the baseline's questions; a
    group-by cut at its row limit is not trusted: those questions go to the search, the answer stays exact."""
    from ddaudit_tui.analysis import ai_engine

    searched = both[0]
    monkeypatch.setattr(ai_engine, "ROW_LIMIT", 1)
    fk = fake(items)
    report = run(fk, "auto")
    assert report.completeness is not None and report.completeness.engine == "search"
    assert report.complete and report.baseline == searched.baseline
    assert report_view(report) == report_view(searched)
    assert any("-@evt.name:(Request OR Authentication)" in q for q in searches(fk))


def test_a_refused_baseline_group_by_is_asked_by_search(items: list[dict], both, monkeypatch) -> None:
    from ddaudit_tui.analysis import ai_engine
    from ddaudit_tui.sources.ddsql import DdsqlError

    async def rejected(*_a: Any, **_k: Any) -> None:
        raise DdsqlError("unsupported statement")

    monkeypatch.setattr(ai_engine, "ai_before_groups", rejected)
    monkeypatch.setattr(ai_engine, "scope_groups", rejected)
    searched, aggregated = both[0], both[1]
    for engine, expected in (("auto", searched), ("ddsql", aggregated)):
        report = run(fake(items), engine)
        assert report.complete and report.baseline == expected.baseline
        assert report_view(report) == report_view(expected)
