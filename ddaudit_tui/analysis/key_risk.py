"""Which of the keys seen is the riskiest? The order of Key lookup's key picker.

A key's risk is read off the report Key lookup itself produces (`investigate_key` → `analyze_key`): its
verdict, its CRITICAL and HIGH flag counts, and whether it was leaked or revoked. No new verdict, no new
scoring: the picker must never disagree with the lookup it leads to.

- `KeyRisk`, `key_risk(report)`: the part of a `KeyReport` the picker shows (pure).
- `rank_keys(keys, risks)`: the picker's order (pure): verdict severity, then CRITICAL, then HIGH flag
  counts, then the most recently used; keys not assessed yet rank between the keys with some evidence and
  the keys with none (unknown is riskier than known-clean).
- `PreloadedKeySource`: a source for `investigate_key` that answers a key's own-events query from events
  already fetched (the picker's `@metadata.api_key.id:*` search), so assessing N keys does not fetch their
  events N more times; every other call goes to the real source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddaudit_tui.analysis.keys import (
    TOKEN_LEAKED,
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    KeyReport,
    KeySeen,
)
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.sources.base import FetchResult, ProgressCallback
from ddaudit_tui.timeutil import Window

# How the picker says its order (its title), kept next to the order itself.
RANK_ORDER = "riskiest first"

# Verdict severity, most severe highest. A verdict this module does not know ranks as "not assessed".
VERDICT_RANK: dict[str, int] = {VERDICT_COMPROMISED: 3, VERDICT_SUSPICIOUS: 2, VERDICT_NONE: 0}
PENDING_RANK = 1


@dataclass(frozen=True)
class KeyRisk:
    """What the picker shows of a key's report."""

    verdict: str
    critical: int  # CRITICAL flags
    high: int  # HIGH flags
    flags: int  # every flag
    leaked: bool  # a token_leaked flag (Datadog's notification or the API Keys endpoint)
    revoked: bool  # the audit trail records the key's deletion

    @property
    def rank(self) -> tuple[int, int, int]:
        """Bigger is riskier: verdict severity, then CRITICAL, then HIGH flag counts."""
        return (VERDICT_RANK.get(self.verdict, PENDING_RANK), self.critical, self.high)


def key_risk(report: KeyReport) -> KeyRisk:
    flags = report.flags
    return KeyRisk(
        verdict=report.verdict,
        critical=sum(1 for f in flags if f.severity == Severity.CRITICAL),
        high=sum(1 for f in flags if f.severity == Severity.HIGH),
        flags=len(flags),
        leaked=any(f.signal == TOKEN_LEAKED for f in flags),
        revoked=report.revoked is not None,
    )


def risk_sort_key(key: KeySeen, risk: KeyRisk | None) -> tuple[int, int, int, int, str]:
    """Ascending sort key: riskiest first, then the most recently used, then by id (a stable order)."""
    verdict, critical, high = risk.rank if risk is not None else (PENDING_RANK, 0, 0)
    return (-verdict, -critical, -high, -key.last_seen, key.key_id)


def rank_keys(keys: Iterable[KeySeen], risks: Mapping[str, KeyRisk]) -> list[KeySeen]:
    """`keys` riskiest first (see the module doc); `risks` by key id, missing while not assessed."""
    return sorted(keys, key=lambda k: risk_sort_key(k, risks.get(k.key_id)))


class PreloadedKeySource:
    """`source`, except that a key's own-events query over `window` is answered from `events` (the result
    of a search that includes every event of every key over that same window, e.g.
    `@metadata.api_key.id:*`). The answer is what the source itself would return: the same query engine
    selects the events, in the same order, with the same completeness and warnings."""

    def __init__(self, source: Any, preloaded: FetchResult) -> None:
        self.source = source
        self.preloaded = preloaded
        self.label = getattr(source, "label", "")
        self._by_key: dict[str, list[Event]] = {}
        for e in preloaded.events:
            if e.api_key_id:
                self._by_key.setdefault(e.api_key_id.casefold(), []).append(e)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)  # AttributeError for what the source lacks, as probed

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        key = _own_events_key(query)
        if key is None or window != self.preloaded.window:
            return await self.source.fetch(query, window, progress)
        match = parse_query(query).matches
        # The local engine compares case-insensitively: the candidates are grouped the same way.
        events = [e for e in self._by_key.get(key.casefold(), ()) if match(e)]
        p = self.preloaded
        # Answered from memory: no request, the preloaded search's engine and partial reasons.
        done = dataclasses.replace(p.completeness, requests=0, events_fetched=len(events), elapsed_ms=0)
        return FetchResult(events, window, query, p.complete, list(p.warnings), 0, done)


def _own_events_key(query: str) -> str | None:
    # `key_investigation.key_query(K)`; imported lazily would be circular-free but a plain prefix is enough.
    prefix = "@metadata.api_key.id:"
    if query.startswith(prefix) and " " not in query and not query.endswith("*"):
        return query[len(prefix) :]
    return None


def assessed_order(keys: Sequence[KeySeen]) -> list[KeySeen]:
    """The order keys are assessed in the background: the most recently used first (what a responder
    most likely looks at), as `keys_seen` already gives them."""
    return sorted(keys, key=lambda k: (-k.last_seen, k.key_id))


__all__ = [
    "PENDING_RANK",
    "RANK_ORDER",
    "VERDICT_RANK",
    "KeyRisk",
    "PreloadedKeySource",
    "assessed_order",
    "key_risk",
    "rank_keys",
    "risk_sort_key",
]
