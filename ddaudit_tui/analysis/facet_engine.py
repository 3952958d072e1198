"""Explore's facet counts over the whole window, by DDSQL (issue 16): one GROUP BY per facet.

Explore fetches at most `max_events` events. When the query matches more, counting the facets over the
fetched page would show a sample's counts as if they were the window's. On an API source, each facet is
then one `SELECT <fields>, count(*) … GROUP BY <fields> ORDER BY count DESC` over the same query (the
search filter of `dd.audit`) and window; each group is decoded into a stand-in event by the project's own
decoder and read by the facet's own getter (`explore.FACETS`), so a value is spelled, and the actor's
precedence (email, name, id, delegator) is applied, exactly as over fetched events. Ranking is
`explore.ranked_facet`, shared with the fetched-events path.

A facet whose values exceed the DDSQL row limit keeps its exact top values (ordered by count, cut
after) and says its distinct count is a lower bound. Pure of Textual; I/O only through the client given.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ddaudit_tui.analysis.ddsql_groups import stand_in
from ddaudit_tui.analysis.explore import FACETS, Facet, ranked_facet
from ddaudit_tui.sources.ddsql_sql import AuditColumn, audit_query
from ddaudit_tui.timeutil import Window

if TYPE_CHECKING:
    from ddaudit_tui.sources.ddsql import DdsqlClient

ROW_LIMIT = 10_000  # DDSQL's maximum (ddsql-api.md §3.1 [V])

BASIS_DDSQL = "ddsql"  # every matching event of the window, counted by Datadog
BASIS_FETCHED = "fetched"  # the fetched events only

# The dd.audit fields each facet's getter reads (explore.FACETS): the user facet needs all four of its
# precedence, grouped together so the precedence is applied per group.
FACET_FIELDS: dict[str, tuple[str, ...]] = {
    "evt.name": ("@evt.name",),
    "action": ("@action",),
    "user": ("@usr.email", "@usr.name", "@usr.id", "@delegator.name"),
    "country": ("@network.client.geoip.country.name",),
    "asn": ("@network.client.geoip.as.name",),
}


@dataclass
class FacetCounts:
    """The facets and what they count: `basis` ddsql (the whole window) or fetched (the page only)."""

    facets: list[Facet]
    basis: str
    total: int  # events counted
    requests: int = 0
    truncated: list[str] = field(default_factory=list)  # facet keys cut at the row limit
    note: str | None = None  # why the counts are the fetched events' only, when they are


def panel_note(counts: FacetCounts, fetched: int, complete: bool) -> str | None:
    """What the facet panel says about its counts: nothing when the fetch was complete (the fetched
    events are the window's); else whether they are the whole window's (DDSQL) or the page's only."""
    if counts.basis == BASIS_DDSQL:
        cut = f"; {', '.join(counts.truncated)} cut at {ROW_LIMIT:,} values" if counts.truncated else ""
        return f"counts of all {counts.total:,} matching events (DDSQL){cut}"
    if complete:
        return None
    why = f" ({counts.note})" if counts.note else ""
    return f"⚠ counts of the {fetched:,} fetched events only, not the window{why}"


async def window_facets(dd: DdsqlClient, query: str, window: Window, top: int = 10) -> FacetCounts:
    """Every facet over every event `query` matches in `window`: one DDSQL GROUP BY per facet, run
    concurrently. Raises `DdsqlError` (refused, rejected, timed out) for the caller to fall back on."""
    before = dd.requests
    filt = query.strip() or "*"

    async def one(key: str) -> tuple[Counter[tuple[str, str] | None], int, bool]:
        fields = FACET_FIELDS[key]
        cols = [AuditColumn(f, f"f{i}") for i, f in enumerate(fields)]
        names = [c.name for c in cols]
        r = await dd.query(
            audit_query([*names, "count(*) AS n"], cols, filt, group_by=names, order_by=["n DESC"]),
            window,
            limit=ROW_LIMIT,
        )
        get = next(g for k, _t, _f, g in FACETS if k == key)
        counts: Counter[tuple[str, str] | None] = Counter()
        total = 0
        for row in r.rows:
            *values, n = row
            counts[get(stand_in(dict(zip(fields, values, strict=True))))] += int(n)
            total += int(n)
        return counts, total, r.truncated

    results = await asyncio.gather(*(one(key) for key, *_ in FACETS))
    out: list[Facet] = []
    truncated: list[str] = []
    # Every facet counts every event once (a missing field is the "(none)" group): the largest total is
    # the window's, whatever a truncated facet lost.
    total = max((t for _c, t, _cut in results), default=0)
    for (key, title, none_field, _get), (counts, _t, cut) in zip(FACETS, results, strict=True):
        out.append(ranked_facet(key, title, none_field, counts, top, total))
        if cut:
            truncated.append(key)
    return FacetCounts(out, BASIS_DDSQL, total, dd.requests - before, truncated)


__all__ = [
    "BASIS_DDSQL",
    "BASIS_FETCHED",
    "FACET_FIELDS",
    "ROW_LIMIT",
    "FacetCounts",
    "panel_note",
    "window_facets",
]
