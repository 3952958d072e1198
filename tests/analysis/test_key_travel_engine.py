"""`impossible_travel` past the page budget (issue 16 item 2): DDSQL returns the key's location changes
(runs of one network, `travel_statement`), and the detection judges them as it judges every event: the
same flags as paging, on a crafted key with hops between eyeball networks, GeoIP jitter, a VPN session that
stops being flagged half-way (its flagged events counted by a follow-up statement), several IPs of one VPN,
events without coordinates and two events at the same millisecond. A row limit marks the answer partial."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import (  # noqa: E402
    BUCHAREST_HOME,
    BUCHAREST_VPN,
    DAY,
    HOUR,
    KEY,
    LONDON_BT,
    MIN,
    NEWARK_VERIZON,
    NO_GEO,
    NYC_VERIZON,
    T0,
    item,
)

from ddaudit_tui.analysis import key_engine  # noqa: E402
from ddaudit_tui.analysis.key_investigation import InvestigationOptions, investigate_key  # noqa: E402
from ddaudit_tui.analysis.keys import KeyReport  # noqa: E402
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog  # noqa: E402
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig  # noqa: E402
from ddaudit_tui.sources.datadog import Credentials, DatadogClient  # noqa: E402
from ddaudit_tui.timeutil import Window  # noqa: E402

END = T0 + 20 * DAY
WINDOW = Window(T0, END)
VPN_2 = dict(BUCHAREST_VPN, ip="192.0.2.148")  # a second address of the same VPN network


def crafted() -> list[dict[str, Any]]:
    t = T0 + 10 * DAY
    # Ten working days at home (09:00-15:00 New York): one long run.
    out = [item(T0 + d * DAY + 13 * HOUR + i * 30 * MIN, NYC_VERIZON) for d in range(10) for i in range(12)]
    out += [
        item(t, NYC_VERIZON),
        item(t + 30_000, NEWARK_VERIZON),  # 15 km in 30 s: GeoIP jitter (low)
        item(t + MIN, NO_GEO),  # no coordinates: skipped, never splits a run
        item(t + 10 * MIN, BUCHAREST_HOME),  # 7,650 km in 10 minutes (high)
        # Two events in the same millisecond: the order is (time, id), as paging sorts them.
        item(t + 20 * MIN, LONDON_BT, event_id="tie-a"),
        item(t + 20 * MIN, BUCHAREST_HOME, event_id="tie-b"),
        item(t + 60 * MIN, NYC_VERIZON),
    ]
    # A VPN session from New York: every event is judged against the last home event; at ≥ 900 km/h the
    # 7,650 km hop is flagged for 8.5 hours only, so half the session counts.
    start = t + 61 * MIN
    out += [item(start + i * 30 * MIN, VPN_2 if 10 <= i < 16 else BUCHAREST_VPN) for i in range(34)]
    out += [item(start + 18 * HOUR, NYC_VERIZON), item(start + 18 * HOUR + 5 * MIN, LONDON_BT)]
    return out


async def _no_sleep(_s: float) -> None:
    return None


def lookup(fk: FakeDatadog, engine: str, **opts: Any) -> KeyReport:
    async def go() -> KeyReport:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
            transport=fk,
            page_limit=100,
            sleep=_no_sleep,
        )
        try:
            options = InvestigationOptions(engine=engine, learn_org_countries=False, **opts)
            return await investigate_key(client, KEY, WINDOW, options=options, now_ms=END)
        finally:
            await client.aclose()

    return asyncio.run(go())


def fake(items: list[dict[str, Any]]) -> FakeDatadog:
    return FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=1))


def statements(fk: FakeDatadog) -> list[str]:
    return [
        r.json()["data"]["attributes"]["query"]
        for r in fk.requests
        if r.path.endswith("/ddsql/query/tabular") and r.json()["data"]["type"] == "ddsql_query_request"
    ]


def travel_view(report: KeyReport) -> list[tuple]:
    return [
        (f.severity, f.subject, f.reason, f.event_ids, f.details)
        for f in report.flags
        if f.signal == "impossible_travel"
    ]


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return crafted()


def test_past_the_budget_impossible_travel_equals_paging_on_a_crafted_key(
    items: list[dict[str, Any]],
) -> None:
    reference = lookup(fake(items), "search")
    fk = fake(items)
    report = lookup(fk, "ddsql", max_pages=1)  # 170 events in pages of 100: past the budget
    want = travel_view(reference)
    by_subject = {f[1]: f for f in want}
    # The crafted hops are all there: high, low (jitter), ties resolved by id, and the VPN session's
    # flagged half (17 of its 34 events: 11 from one of its two addresses, 6 from the other).
    assert by_subject["198.51.100.214 → 198.51.100.77"][0].word == "low"
    assert by_subject["198.51.100.77 → 192.0.2.66"][0].word == "high"  # from the jitter's end
    assert by_subject["192.0.2.66 → 203.0.113.9"][0].word == "high"  # the tie: tie-a (London) first
    assert by_subject["203.0.113.9 → 192.0.2.66"][3] == ("tie-a", "tie-b")
    assert by_subject["198.51.100.214 → 192.0.2.147"][4]["hops"] == 11
    assert by_subject["198.51.100.214 → 192.0.2.148"][4]["hops"] == 6
    assert travel_view(report) == want
    assert [f for f in report.flags] == [f for f in reference.flags]
    assert report.complete  # one page of the key's own events, every flag exact: a sample, not a loss
    assert not [w for w in report.warnings if "not evaluated" in w]
    sent = statements(fk)
    # One statement returns the location changes; the VPN session that stops being flagged half-way is
    # counted by a second one.
    assert sum("LAG(" in s and "PARTITION BY run" in s for s in sent) == 1
    assert sum(s.startswith("SELECT CASE WHEN (ip = ") for s in sent) == 1


def test_the_location_changes_are_few_rows_whatever_the_number_of_events(items: list[dict[str, Any]]) -> None:
    from ddaudit_tui.sources.ddsql import DdsqlClient

    async def go() -> key_engine.TravelRuns:
        client = DatadogClient(
            Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake(items), sleep=_no_sleep
        )
        try:
            return await key_engine.travel_rows(DdsqlClient(client), KEY, WINDOW)
        finally:
            await client.aclose()

    runs = asyncio.run(go())
    assert not runs.truncated and not runs.problem
    # 170 events, 169 with coordinates; the ten days at home are one run (its first and last event), and
    # each VPN address run gives its first event and its count.
    assert runs.rows < 40
    assert len(runs.events) < 25
    assert {e.client_ip for e in runs.events} >= {"192.0.2.147", "192.0.2.148", "198.51.100.214"}


def test_a_row_limit_on_the_location_changes_marks_the_answer_partial(
    items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(key_engine, "TRAVEL_ROW_LIMIT", 5)
    report = lookup(fake(items), "ddsql", max_pages=1)
    assert travel_view(report) == []  # not judged on a part: no false alarm
    said = [w for w in report.warnings if "impossible_travel not evaluated" in w]
    assert said == ["impossible_travel not evaluated: over 5 location changes (the DDSQL row limit)"]
    assert report.completeness is not None and not report.completeness.complete
    assert any("impossible_travel" in r for r in report.completeness.reasons)
    # The other flags are still evaluated and equal paging's.
    reference = lookup(fake(items), "search")
    want = [f for f in reference.flags if f.signal != "impossible_travel"]
    assert report.flags == want
