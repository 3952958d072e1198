"""The key picker's order: each key's risk read off its lookup report, riskiest first, then recency; and
the preloaded source that lets the picker assess every key without fetching its events again."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from keys_synthetic import DAY, DEMO_END, demo_source  # noqa: E402

from ddaudit_tui.analysis.key_investigation import investigate_key, key_query  # noqa: E402
from ddaudit_tui.analysis.key_risk import (  # noqa: E402
    RANK_ORDER,
    KeyRisk,
    PreloadedKeySource,
    key_risk,
    rank_keys,
)
from ddaudit_tui.analysis.keys import (  # noqa: E402
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    KeySeen,
    keys_seen,
)
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.sources.base import FetchResult  # noqa: E402
from ddaudit_tui.timeutil import Window  # noqa: E402

WINDOW = Window(DEMO_END - 90 * DAY, DEMO_END)


def seen(key_id: str, last_seen: int) -> KeySeen:
    return KeySeen(key_id, 10, 0, last_seen, ("someone",))


def risk(verdict: str, critical: int = 0, high: int = 0) -> KeyRisk:
    return KeyRisk(verdict, critical, high, critical + high, leaked=False, revoked=False)


# -- the order (pure) ---------------------------------------------------------------------------------


def test_verdict_severity_first_then_critical_then_high_then_recency():
    keys = [
        seen("clean-new", 900),
        seen("susp-1high", 800),
        seen("comp-0crit-3high", 700),
        seen("comp-1crit-1high", 100),
        seen("comp-1crit-2high", 50),
        seen("susp-0high-old", 10),
        seen("susp-0high-new", 20),
        seen("clean-old", 1),
    ]
    risks = {
        "clean-new": risk(VERDICT_NONE),
        "clean-old": risk(VERDICT_NONE),
        "susp-1high": risk(VERDICT_SUSPICIOUS, high=1),
        "susp-0high-old": risk(VERDICT_SUSPICIOUS),
        "susp-0high-new": risk(VERDICT_SUSPICIOUS),
        "comp-0crit-3high": risk(VERDICT_COMPROMISED, high=3),
        "comp-1crit-1high": risk(VERDICT_COMPROMISED, critical=1, high=1),
        "comp-1crit-2high": risk(VERDICT_COMPROMISED, critical=1, high=2),
    }
    assert [k.key_id for k in rank_keys(keys, risks)] == [
        "comp-1crit-2high",
        "comp-1crit-1high",
        "comp-0crit-3high",
        "susp-1high",
        "susp-0high-new",
        "susp-0high-old",
        "clean-new",
        "clean-old",
    ]


def test_keys_not_assessed_yet_rank_below_evidence_above_no_evidence_by_recency():
    keys = [seen("pending-old", 5), seen("clean", 100), seen("pending-new", 50), seen("susp", 1)]
    risks = {"clean": risk(VERDICT_NONE), "susp": risk(VERDICT_SUSPICIOUS)}
    assert [k.key_id for k in rank_keys(keys, risks)] == ["susp", "pending-new", "pending-old", "clean"]
    # With nothing assessed: the most recently used first (ties by id, so the order is stable).
    tied = [seen("b", 5), seen("a", 5), seen("c", 9)]
    assert [k.key_id for k in rank_keys(tied, {})] == ["c", "a", "b"]


def test_the_stated_order():
    assert RANK_ORDER == "riskiest first"


# -- risk of a report, and the preloaded source --------------------------------------------------------------


class CountingSource:
    """The demo file source, counting the queries it is asked."""

    def __init__(self) -> None:
        self.source = demo_source()
        self.label = self.source.label
        self.queries: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    async def fetch(self, query: str, window: Window, progress: Any = None) -> FetchResult:
        self.queries.append(query)
        return await self.source.fetch(query, window, progress)


async def test_demo_keys_risk_equals_their_lookup_and_the_compromised_key_ranks_first():
    plain = demo_source()
    everything = await plain.fetch("@metadata.api_key.id:*", WINDOW)
    keys = keys_seen(everything.events)
    assert len(keys) >= 3

    counting = CountingSource()
    preloaded = PreloadedKeySource(counting, everything)
    risks: dict[str, KeyRisk] = {}
    for k in keys:
        direct = await investigate_key(plain, k.key_id, WINDOW, now_ms=DEMO_END)
        via = await investigate_key(preloaded, k.key_id, WINDOW, now_ms=DEMO_END)
        # The same report, hence the same verdict and flags as the lookup the picker leads to.
        assert [e.id for e in via.events] == [e.id for e in direct.events]
        assert [f.to_json() for f in via.flags] == [f.to_json() for f in direct.flags]
        assert via.verdict == direct.verdict
        risks[k.key_id] = key_risk(via)
    # The key's own events came from the preloaded search, never from the source again.
    assert not any(q == key_query(k.key_id) for q in counting.queries for k in keys)

    compromised = risks[PLANTED.compromised_key]
    assert compromised.verdict == VERDICT_COMPROMISED
    assert compromised.leaked and compromised.critical >= 1 and compromised.high >= 2
    assert not compromised.revoked
    assert risks[PLANTED.clean_key].verdict == VERDICT_NONE
    assert not risks[PLANTED.clean_key].leaked
    assert rank_keys(keys, risks)[0].key_id == PLANTED.compromised_key


async def test_preloaded_source_forwards_other_windows_and_queries():
    plain = demo_source()
    everything = await plain.fetch("@metadata.api_key.id:*", WINDOW)
    counting = CountingSource()
    preloaded = PreloadedKeySource(counting, everything)
    other = Window(WINDOW.start, WINDOW.end - DAY)
    await preloaded.fetch(key_query(PLANTED.clean_key), other)
    await preloaded.fetch("@asset.type:api_key", WINDOW)
    assert counting.queries == [key_query(PLANTED.clean_key), "@asset.type:api_key"]
    assert preloaded.label == plain.label


async def test_revoked_key_is_marked():
    from ddaudit_tui.analysis.keys import KeyChange

    plain = demo_source()
    report = await investigate_key(plain, PLANTED.clean_key, WINDOW, now_ms=DEMO_END)
    assert key_risk(report).revoked is False
    report.key_changes.append(KeyChange(DEMO_END - DAY, "deleted", "admin@example.com", None, None, "x"))
    assert key_risk(report).revoked is True
