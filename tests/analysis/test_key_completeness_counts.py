"""The key report's completeness record counts everything the lookup asked and got (issue 16 item 1): every
request the fake Datadog API answered — pages, DDSQL group-bys, deletions, the key's creation and
notifications, the key lookup (`/api/v2/api_keys`), existence checks, and the bounded evidence samples
fetched past the page budget — and every event that travelled, evidence rows and deletions included."""

from __future__ import annotations

from typing import Any

import pytest
from test_key_engines import END, KEYS
from test_key_engines import lookup as lookup_on

from ddaudit_tui.analysis.keys import KeyReport
from ddaudit_tui.demo.fake_datadog import FakeDatadog
from ddaudit_tui.demo.fake_ddsql import DdsqlConfig
from ddaudit_tui.demo.org import generate


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return generate(seed=7, end_ms=END)


def lookup(items: list[dict], key: str, engine: str, **kwargs: Any) -> tuple[KeyReport, FakeDatadog]:
    """`test_key_engines.lookup` over a fake of its own (its requests are what this file counts), with
    one `running` answer per DDSQL statement (each adds a fetch to count)."""
    fk = FakeDatadog(items, clock=lambda: END / 1000, ddsql=DdsqlConfig(running_polls=1))
    return lookup_on(fk, key, engine, **kwargs), fk


@pytest.mark.parametrize("key", KEYS)
def test_past_the_budget_every_request_and_every_evidence_event_is_counted(items, key: str) -> None:
    report, fk = lookup(items, key, "auto", page_limit=100, max_pages=2)
    c = report.completeness
    assert c is not None
    assert c.requests == len(fk.requests)
    # Evidence rows and deletions are events that travelled: "fetched" holds them beside the pages'.
    travelled = {e.id for e in report.events} | {e.id for e in report.related}
    assert c.events_fetched >= len(travelled)
    assert c.events_fetched <= c.events_matched if c.events_matched is not None else True


@pytest.mark.parametrize("engine", ["search", "ddsql"])
def test_within_the_budget_the_counts_are_those_of_the_fetches(items, engine: str) -> None:
    key = KEYS[0]
    report, fk = lookup(items, key, engine)
    c = report.completeness
    assert c is not None and c.complete
    assert c.requests == len(fk.requests)
    assert c.events_fetched == len(report.events) + len(report.related)
