"""`--engine auto|search|ddsql` of the key lookup (issue 16 item 2): on the same data, paging the search API
and letting DDSQL aggregate give the same report — origins, endpoints, totals and flags — for every demo key;
`auto` picks DDSQL past the page budget; a refused DDSQL falls back to paging within the budget, partial."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ddaudit_tui.analysis.key_investigation import InvestigationOptions, investigate_key
from ddaudit_tui.analysis.keys import KeyReport
from ddaudit_tui.demo.catalog import API_KEYS, COMPROMISED_KEY
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window

END = 1_785_500_000_000
DAY = 86_400_000
WINDOW = Window(END - 90 * DAY, END)
KEYS = sorted(API_KEYS)


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return generate(seed=7, end_ms=END)


def fake(items: list[dict], **kwargs: Any) -> FakeDatadog:
    kwargs.setdefault("ddsql", DdsqlConfig(running_polls=0))
    return FakeDatadog(items, clock=lambda: END / 1000, **kwargs)


async def _no_sleep(_s: float) -> None:
    return None


def lookup(fk: FakeDatadog, key: str, engine: str, page_limit: int = 1000, **opts: Any) -> KeyReport:
    async def go() -> KeyReport:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=fk,
            page_limit=page_limit,
            sleep=_no_sleep,
        )
        try:
            options = InvestigationOptions(engine=engine, **opts)
            return await investigate_key(client, key, WINDOW, options=options, now_ms=END)
        finally:
            await client.aclose()

    return asyncio.run(go())


def ddsql_requests(fk: FakeDatadog) -> int:
    return sum(1 for r in fk.requests if "/ddsql/" in r.path)


def flag_view(report: KeyReport) -> list[tuple]:
    return [(f.signal, f.severity, f.subject, f.reason, f.event_ids, f.details) for f in report.flags]


@pytest.mark.parametrize("key", KEYS)
def test_both_engines_give_identical_origins_endpoints_totals_and_flags(items: list[dict], key: str) -> None:
    by_search = fake(items)
    searched = lookup(by_search, key, "search")
    by_ddsql = fake(items)
    aggregated = lookup(by_ddsql, key, "ddsql")
    assert ddsql_requests(by_search) == 0
    assert ddsql_requests(by_ddsql) > 0  # the group-bys really ran in DDSQL
    assert searched.total_events > 0
    assert aggregated.total_events == searched.total_events
    assert (aggregated.first_seen, aggregated.last_seen) == (searched.first_seen, searched.last_seen)
    assert aggregated.origins == searched.origins
    assert aggregated.endpoints == searched.endpoints
    assert aggregated.routes == searched.routes
    assert flag_view(aggregated) == flag_view(searched)
    assert (aggregated.verdict, aggregated.verdict_reasons) == (searched.verdict, searched.verdict_reasons)
    assert aggregated.destructive == searched.destructive
    assert aggregated.notifications == searched.notifications
    assert aggregated.created == searched.created
    assert aggregated.aggregates is not None and searched.aggregates is None
    assert (searched.engine, aggregated.engine) == ("search", "ddsql")
    assert searched.complete and aggregated.complete
    assert sum(n for _, n in aggregated.aggregates.per_hour) == searched.total_events
    assert set(aggregated.aggregates.first_seen_ip) == {o for g in searched.origins for o in g.ips if o}
    assert [w for w in aggregated.warnings if "DDSQL" in w] == []
    # The completeness record says which engine answered and how much matched, and agrees with itself.
    assert searched.completeness is not None and aggregated.completeness is not None
    assert searched.completeness.engine == "search" and aggregated.completeness.engine == "search+ddsql"
    c = aggregated.completeness
    assert c.complete and c.events_matched == c.events_fetched


def test_auto_pages_when_the_budget_suffices_and_aggregates_past_it(items: list[dict]) -> None:
    small = fake(items)
    report = lookup(small, COMPROMISED_KEY, "auto", page_limit=100, max_pages=50)
    assert ddsql_requests(small) == 1  # one COUNT(*), then paging: 380 events fit in 4 pages of 100
    assert report.aggregates is None and report.complete

    big = fake(items)
    report = lookup(big, COMPROMISED_KEY, "auto", page_limit=100, max_pages=2)
    assert ddsql_requests(big) > 1  # past the budget: the group-bys ran in DDSQL
    reference = lookup(fake(items), COMPROMISED_KEY, "search")
    assert report.aggregates is not None
    # Aggregates are complete whatever the budget: origins, endpoints and totals are those of a full paging.
    assert report.total_events == reference.total_events == 380
    assert report.origins == reference.origins
    assert report.endpoints == reference.endpoints
    assert (report.first_seen, report.last_seen) == (reference.first_seen, reference.last_seen)
    # Past the budget only the newest page is read (the timeline's); every flag is still evaluated, from the
    # aggregates and bounded evidence: complete.
    assert report.complete
    assert not [w for w in report.warnings if "not evaluated" in w]
    # Deletions are fetched on their own: complete even past the budget.
    assert report.destructive == reference.destructive


def test_refused_ddsql_falls_back_to_paging_within_the_budget_and_says_so_once(items: list[dict]) -> None:
    off = fake(items, ddsql=DdsqlConfig(enabled=False))
    report = lookup(off, COMPROMISED_KEY, "auto", page_limit=100, max_pages=2)
    refused = [w for w in report.warnings if "DDSQL" in w]
    assert len(refused) == 1 and "paging within the budget of 2 pages" in refused[0]
    assert report.aggregates is None
    assert not report.complete
    assert report.total_events == 200

    within = fake(items, ddsql=DdsqlConfig(enabled=False))
    report = lookup(within, COMPROMISED_KEY, "ddsql", max_pages=50)  # refused, but the budget holds it all
    assert len([w for w in report.warnings if "DDSQL" in w]) == 1
    assert report.complete and report.total_events == 380


def test_engine_is_validated() -> None:
    with pytest.raises(ValueError, match="engine"):
        InvestigationOptions(engine="sql")
    with pytest.raises(ValueError, match="max_pages"):
        InvestigationOptions(max_pages=0)


@pytest.mark.parametrize("key", KEYS)
def test_past_the_budget_every_flag_is_identical_to_paging_impossible_travel_included(
    items: list[dict], key: str
) -> None:
    reference = lookup(fake(items), key, "search")
    fk = fake(items)
    report = lookup(fk, key, "ddsql", page_limit=100, max_pages=2)
    assert report.total_events == reference.total_events
    assert report.aggregates is not None  # past the budget indeed
    assert report.complete  # every count and flag exact: the pages read are a sample, not a loss
    # Every flag, impossible_travel included (its location changes found by DDSQL): no false alarm, none lost.
    assert flag_view(report) == flag_view(reference)
    assert not [w for w in report.warnings if "not evaluated" in w]
    assert report.origins == reference.origins and report.endpoints == reference.endpoints


def test_a_budget_that_holds_every_event_is_complete_even_when_the_last_page_has_a_cursor(
    items: list[dict],
) -> None:
    # The search API may give a cursor on its last page (an empty page follows): the count says all is here.
    report = lookup(fake(items), COMPROMISED_KEY, "ddsql", max_pages=1)
    reference = lookup(fake(items), COMPROMISED_KEY, "search")
    assert report.complete
    assert not [w for w in report.warnings if w.startswith("not evaluated")]
    assert flag_view(report) == flag_view(reference)


def test_a_failing_ddsql_query_falls_back_like_a_refusal(items: list[dict], monkeypatch) -> None:
    from ddaudit_tui.sources import ddsql

    async def timeout(self, sql, window, *, limit=ddsql.DEFAULT_LIMIT):
        raise ddsql.DdsqlTimeout("DDSQL query still running after 120 s", requests=3)

    monkeypatch.setattr(ddsql.DdsqlClient, "query", timeout)
    report = lookup(fake(items), COMPROMISED_KEY, "ddsql", page_limit=100, max_pages=2)
    failed = [w for w in report.warnings if "DDSQL" in w]
    assert len(failed) == 1 and "still running" in failed[0] and "budget of 2 pages" in failed[0]
    assert not report.complete and report.total_events == 200


# -- the demo's heavy key, on a smaller instance of the same generator (30k steady events: fast) ----------


@pytest.fixture(scope="module")
def heavy_items() -> list[dict]:
    return generate(seed=7, events=3000, end_ms=END)


def heavy_fake(items: list[dict]) -> FakeDatadog:
    from ddaudit_tui.demo.heavy import HeavyKey

    return fake(items, heavy=HeavyKey(7, END, events=30_000))


HEAVY_FINDINGS = {
    "burst",
    "new_country",
    "concurrent_ips",
    "destructive_action",
    "first_seen_ip",
    "first_seen_asn",
    "hosting_asn",
}


def test_the_heavy_key_gives_identical_reports_by_search_and_by_ddsql(heavy_items: list[dict]) -> None:
    from ddaudit_tui.demo.heavy import HEAVY_KEY

    searched = lookup(heavy_fake(heavy_items), HEAVY_KEY, "search")
    by_ddsql = heavy_fake(heavy_items)
    aggregated = lookup(by_ddsql, HEAVY_KEY, "ddsql")
    assert ddsql_requests(by_ddsql) > 0
    assert searched.total_events == aggregated.total_events > 30_000
    assert (aggregated.first_seen, aggregated.last_seen) == (searched.first_seen, searched.last_seen)
    assert aggregated.origins == searched.origins
    assert aggregated.endpoints == searched.endpoints
    assert aggregated.routes == searched.routes
    assert flag_view(aggregated) == flag_view(searched)
    assert aggregated.verdict == searched.verdict
    assert aggregated.destructive == searched.destructive
    assert searched.complete and aggregated.complete
    assert {f.signal for f in searched.flags} >= HEAVY_FINDINGS


def test_past_the_budget_the_heavy_keys_findings_are_all_found(heavy_items: list[dict]) -> None:
    from ddaudit_tui.demo.heavy import HEAVY_KEY

    reference = lookup(heavy_fake(heavy_items), HEAVY_KEY, "search")
    fk = heavy_fake(heavy_items)
    report = lookup(fk, HEAVY_KEY, "auto", max_pages=5)  # 33 pages of 1,000: past the budget
    assert report.engine == "ddsql" and report.complete
    assert report.total_events == reference.total_events
    assert report.origins == reference.origins and report.endpoints == reference.endpoints
    assert flag_view(report) == flag_view(reference)  # every flag, impossible_travel included
    assert {f.signal for f in report.flags} >= HEAVY_FINDINGS
    assert not [w for w in report.warnings if "not evaluated" in w]
    # Aggregates, not pages: one page of the key's own events, whatever their number.
    own = [
        r
        for r in fk.requests
        if r.path.endswith("/search") and r.json()["filter"]["query"] == f"@metadata.api_key.id:{HEAVY_KEY}"
    ]
    assert len(own) == 1


def test_past_the_budget_off_hours_is_counted_by_ddsql_and_equals_paging(items: list[dict]) -> None:
    # The hour-of-week history comes from the 5-minute counts over every event, the home zone from the
    # days per zone; the buckets it would flag are fetched whole: the same flags as paging every event.
    reference = lookup(fake(items), COMPROMISED_KEY, "search")
    report = lookup(fake(items), COMPROMISED_KEY, "ddsql", page_limit=100, max_pages=2)
    want = [f for f in flag_view(reference) if f[0] == "off_hours"]
    assert want  # the demo's compromised key is used at night
    assert [f for f in flag_view(report) if f[0] == "off_hours"] == want
    assert report.complete and report.aggregates is not None  # past the budget, every flag exact


def test_past_the_budget_with_every_count_and_flag_exact_the_answer_is_complete(items: list[dict]) -> None:
    """The pages read past the budget are the timeline's sample by design: when DDSQL counted every event
    and every flag was evaluated, the answer is complete (no "counts are lower bounds", `--fail-on partial`
    passes) and the sample is said as such; a flag left out or a cut group-by still makes it partial."""
    report = lookup(fake(items), COMPROMISED_KEY, "ddsql", page_limit=100, max_pages=2)
    assert report.aggregates is not None and report.total_events == 380
    assert report.complete
    c = report.completeness
    assert c is not None and not c.partial and c.reasons == ()
    assert c.events_matched is not None and c.events_matched >= 380
    # The flags' evidence holds every one of this key's 380 events: the timeline is whole, nothing to say.
    assert len(report.events) == 380
    assert not [w for w in report.warnings if "events only" in w or "timeline:" in w]
