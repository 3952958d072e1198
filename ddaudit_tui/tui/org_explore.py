"""Explore in every org at once (issue 16 item 5): `ddaudit --all-profiles`, `ddaudit --profile a,b`.

The query runs against each org concurrently, each through its own source (its own credentials, site,
client and so rate-limit budget), as `ddaudit search Q --all-profiles` does. The rows are merged newest
first with an `org` column after the time; above the table, one line per org says what it answered —
worst first (failed, partial, then the complete answers):

    org eu (datadoghq.eu): ✖ failed: cannot connect to 127.0.0.1:8802 …
    org prod (datadoghq.com): 1,204 events · complete · 3 requests · 0.4 s

One org's failure is named with its one-line reason and does not sink the others; the merged answer is
then partial (the header says which org is missing). Facets count the merged rows (the fetched events);
the whole-window DDSQL counts of one org are not asked for several.

The pane calls `fetch` (in its fetch worker) and `org_column`; nothing here is imported for one org.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from ddaudit_tui.events.record import Event
from ddaudit_tui.orgs import STATUS_FAILED, STATUS_NOT_SEEN, STATUS_OK, OrgAnswer, OrgSource
from ddaudit_tui.outcome import look
from ddaudit_tui.sources.base import FetchResult
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.orgs import failure_line, orgs_of
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.sizes import ORG_MAX
from ddaudit_tui.tui.widgets.event_table import Column
from ddaudit_tui.tui.widgets.header import status_style_for
from ddaudit_tui.tui.widgets.org_lines import OrgLines, cuttable

LINES_ID = "org-lines"


@dataclass
class OrgSearch:
    """One query asked of every org: the answers so far, and which org each merged row came from."""

    query: str
    orgs: list[OrgSource]
    answers: dict[str, OrgAnswer] = field(default_factory=dict)
    _org_of: dict[int, str] = field(default_factory=dict)  # id(event) -> profile (ids may repeat across orgs)

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.orgs)

    def org_of(self, event: Event) -> str | None:
        return self._org_of.get(id(event))

    def ordered(self) -> list[tuple[OrgSource, OrgAnswer | None]]:
        """Worst first: failed, partial, complete with rows, complete without, still asking."""

        def rank(row: tuple[OrgSource, OrgAnswer | None]) -> int:
            a = row[1]
            if a is None:
                return 4
            if a.status == STATUS_FAILED:
                return 0
            if not a.complete:
                return 1
            return 2 if a.status == STATUS_OK else 3

        return sorted(((o, self.answers.get(o.profile)) for o in self.orgs), key=rank)

    def merged(self, window: Window) -> FetchResult:
        """Every org's rows newest first (ties: the order asked), partial when an org failed or was."""
        per_org: list[tuple[str, list[Event]]] = []
        warnings: list[str] = []
        for org in self.orgs:
            a = self.answers.get(org.profile)
            if a is None:
                continue
            if a.result is None:
                warnings.append(f"org {org.profile}: failed: {a.error}")
                continue
            per_org.append((org.profile, a.result.events))
            warnings += [f"org {org.profile}: {w}" for w in a.result.warnings]
        self._org_of = {id(e): profile for profile, events in per_org for e in events}
        events = [e for _p, evs in per_org for e in evs]
        events.sort(key=lambda e: e.ts, reverse=True)  # stable: the order asked among equal times
        results = [a.result for a in self.answers.values() if a.result is not None]
        done = Completeness.combine(r.completeness for r in results)
        failed = [w for w in warnings if ": failed: " in w]
        if failed:
            done = done.with_reasons(*failed)
        complete = done.complete and all(r.complete for r in results)
        return FetchResult(
            events=events,
            window=window,
            query=self.query,
            complete=complete,
            warnings=warnings,
            pages=sum(r.pages for r in results),
            completeness=done,
        )


def org_column(search: Callable[[], OrgSearch | None]) -> Column:
    """The `org` column: the profile a row came from (`search()`: the pane's current OrgSearch)."""

    def text(ev: Event, _local: bool) -> str | None:
        s = search()
        return s.org_of(ev) if s is not None else None

    return Column("org", "org", text, lambda ev: text(ev, False), 5, ORG_MAX)


# -- the lines -------------------------------------------------------------------------------------------------


def _line(org: OrgSource, answer: OrgAnswer | None, site: bool, details: bool, style: Any) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    head = f"org {clean(org.profile, max_len=40)}"
    if site:
        head += f" ({clean(org.site, max_len=40)})"
    text.append(head + ": ")
    if answer is None:
        text.append(f"{look('fetching').glyph} asking…", style=style("fetching"))
        return text
    if answer.status == STATUS_FAILED:
        text.append(f"{look('error').glyph} failed", style=style("error"))
        return cuttable(text, ": " + clean(answer.error or "", single_line=True))  # cut with … when long
    result: FetchResult = answer.result
    n = len(result.events)
    text.append(f"{n:,} event{'s' if n != 1 else ''}")
    c = result.completeness
    if not answer.complete:
        text.append(" · ")
        text.append(f"{look('partial').glyph} PARTIAL", style=style("partial"))
        if details:
            first = (
                c.reasons[0] if c.reasons else (result.warnings or ["some events could not be fetched"])[0]
            )
            text.append(": " + clean(first, single_line=True))
        return text
    full = c.header_text(events=False)
    text.append(" · " + (full if details else "complete"))
    return text


def line_forms(search: OrgSearch, style: Any) -> list[list[Text]]:
    """The lines, most detailed first: the site and the completeness's details, then the site, then neither."""
    rows = search.ordered()
    return [
        [_line(o, a, site, details, style) for o, a in rows]
        for site, details in ((True, True), (True, False), (False, False))
    ]


def lines_of(screen: Any) -> OrgLines:
    return screen.query_one(f"#{LINES_ID}", OrgLines)


def _show_lines(screen: Any, search: OrgSearch) -> None:
    widget = lines_of(screen)
    widget.set_forms(line_forms(search, functools.partial(status_style_for, widget)))


# -- the fetch -----------------------------------------------------------------------------------------------------


async def fetch(screen: Any, text: str, window: Window) -> FetchResult:
    """Ask every org `text` over `window` concurrently (in the pane's fetch worker: a newer query cancels
    it); each answer updates its line as it arrives. The merged answer, once every org has answered."""
    app = screen.ddaudit
    orgs = orgs_of(app)
    search = OrgSearch(text, orgs)
    # The rows shown keep their org (the table's column reads `org_search`) until this answer replaces them.
    screen.org_search_asking = search
    _show_lines(screen, search)

    async def one(org: OrgSource) -> None:
        try:
            if org.source is None:
                raise org.error or RuntimeError("the org could not be opened")
            result: FetchResult = await org.source.fetch(text, window)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # this org's failure only: named in its line
            answer = OrgAnswer(org.profile, org.site, STATUS_FAILED, error=failure_line(exc))
        else:
            status = STATUS_OK if result.events else STATUS_NOT_SEEN
            answer = OrgAnswer(org.profile, org.site, status, result=result)
        search.answers[org.profile] = answer
        if screen.org_search_asking is search:
            _show_lines(screen, search)
            waiting = len(orgs) - len(search.answers)
            if waiting:
                from ddaudit_tui.tui.widgets.header import Status

                screen.set_status(Status("fetching", f"fetching… {waiting} of {len(orgs)} orgs still asked"))

    await asyncio.gather(*(one(o) for o in orgs))
    merged = search.merged(window)
    screen.org_search = search  # the pane shows `merged` next, at once
    return merged


def status_lead(search: OrgSearch) -> str:
    """The header's lead: `2 orgs` or `1 of 2 orgs (failed: eu)`."""
    failed = [a.profile for a in search.answers.values() if a.status == STATUS_FAILED]
    n = len(search.orgs)
    if not failed:
        return f"{n} orgs"
    return f"{n - len(failed)} of {n} orgs (failed: {', '.join(clean(p, max_len=ORG_MAX) for p in failed)})"
