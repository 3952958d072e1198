"""AI activity in every org at once (issue 16 item 5): `ddaudit --all-profiles`, `ddaudit --profile a,b`.

Each org's AI activity is analysed concurrently, each through its own source (its own credentials, site,
client and so rate-limit budget), as `ddaudit ai --all-profiles` does. A strip above the summary has one
line per org, worst first — the most HIGH (and CRITICAL) flags, then an org that could not be asked (it
may hide some), then the others by their flags:

    ▸ org prod (datadoghq.com): ! 3 HIGH · 120 AI events · 9 users · 7 flags · complete · 5 requests · 1.2 s
      org eu (datadoghq.eu): ✖ failed: cannot connect to 127.0.0.1:8802 …

Below it is the worst org's summary (`▸` marks it); `O` shows the next org's. A strip and `O`, rather than
an org column in the people table: each org's answer is a whole analysis (its counters, timeline, flags
and tables belong together), a merged people table would mix one org's flags with another's timeline,
and at 80×24 an org column would take the room of the people table's counts. The pane bar's badge counts
the HIGH flags of every org.

The pane calls `load`, `cycle` and `badge`; nothing here is imported for one org.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.orgs import STATUS_FAILED, STATUS_NOT_SEEN, STATUS_OK, OrgAnswer, OrgSource
from ddaudit_tui.outcome import look
from ddaudit_tui.timeutil import Window
from ddaudit_tui.tui.orgs import failed_everywhere, failure_line, next_org, orgs_of
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.header import Status, status_style_for
from ddaudit_tui.tui.widgets.org_lines import OrgLines, cuttable

LINES_ID = "org-lines"


def high_flags(result: Any) -> int:
    return sum(1 for f in getattr(result, "flags", ()) if f.severity >= Severity.HIGH)


def rank(answer: OrgAnswer | None) -> tuple[int, int]:
    """Worst first: HIGH flags (most first), failed, other flags (most first), nothing, still asking."""
    if answer is None:
        return (4, 0)
    if answer.status == STATUS_FAILED:
        return (1, 0)
    high = high_flags(answer.result)
    if high:
        return (0, -high)
    flags = len(answer.result.flags)
    return (2, -flags) if flags else (3, 0)


@dataclass
class OrgAi:
    """The AI activity of every org: the answers so far, and which org's is shown."""

    orgs: list[OrgSource]
    answers: dict[str, OrgAnswer] = field(default_factory=dict)
    shown: str | None = None
    chosen: bool = False  # the user picked the shown org (O): arriving answers do not take its place
    shown_status: Status | None = None  # the shown org's status, as one org's pane says it

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.orgs)

    def ordered(self) -> list[tuple[OrgSource, OrgAnswer | None]]:
        return sorted(((o, self.answers.get(o.profile)) for o in self.orgs), key=lambda r: rank(r[1]))

    def viewable(self) -> list[str]:
        """The orgs with an analysis to show, worst first."""
        return [o.profile for o, a in self.ordered() if a is not None and a.result is not None]

    def org(self, profile: str) -> OrgSource:
        return next(o for o in self.orgs if o.profile == profile)


# -- the lines ---------------------------------------------------------------------------------------------


def _line(org: OrgSource, a: OrgAnswer | None, shown: bool, site: bool, details: bool, style: Any) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    head = f"{'▸' if shown else ' '} org {clean(org.profile, max_len=40)}"
    if site:
        head += f" ({clean(org.site, max_len=40)})"
    text.append(head + ": ", style="bold" if shown else None)
    if a is None:
        text.append(f"{look('fetching').glyph} asking…", style=style("fetching"))
        return text
    if a.status == STATUS_FAILED:
        text.append(f"{look('error').glyph} failed", style=style("error"))
        return cuttable(text, ": " + clean(a.error or "", single_line=True))
    r = a.result
    high = high_flags(r)
    if high:
        text.append(f"! {high} HIGH", style=style("warning"))
        text.append(" · ")
    n = r.counts.get("ai_events", len(r.calls))
    text.append(f"{n:,} AI event{'s' if n != 1 else ''}")
    if details:
        text.append(f" · {len(r.users):,} user{'s' if len(r.users) != 1 else ''}")
    text.append(f" · {len(r.flags):,} flag{'s' if len(r.flags) != 1 else ''}")
    c = r.completeness
    if c is not None and c.partial:
        text.append(" · ")
        text.append(f"{look('partial').glyph} PARTIAL", style=style("partial"))
        if details and c.reasons:
            text.append(": " + clean(c.reasons[0], single_line=True))
    elif c is not None:
        text.append(" · " + (c.header_text(events=False) if details else "complete"))
    elif not r.complete:
        text.append(" · ")
        text.append(f"{look('partial').glyph} PARTIAL", style=style("partial"))
    else:
        text.append(" · complete")
    return text


def line_forms(state: OrgAi, style: Any) -> list[list[Text]]:
    rows = state.ordered()
    return [
        [_line(o, a, o.profile == state.shown, site, details, style) for o, a in rows]
        for site, details in ((True, True), (True, False), (False, False))
    ]


def _show_lines(screen: Any, state: OrgAi) -> None:
    widget = screen.query_one(f"#{LINES_ID}", OrgLines)
    widget.set_forms(line_forms(state, functools.partial(status_style_for, widget)))


# -- loading ---------------------------------------------------------------------------------------------


async def load(screen: Any, window: Window, engine: str, max_pages: int) -> None:
    """Every org's AI activity, concurrently (in the pane's load worker: `r` replaces it). Each answer
    updates its line; the worst so far is shown unless the user chose another org with `O`."""
    from ddaudit_tui.analysis.ai_investigation import investigate_ai

    app = screen.ddaudit
    orgs = orgs_of(app)
    previous: OrgAi | None = getattr(screen, "org_ai", None)
    state = OrgAi(orgs)
    if previous is not None and previous.chosen:  # `r` keeps the org the user was reading
        state.shown, state.chosen = previous.shown, True
    screen.org_ai = state
    _show_lines(screen, state)
    screen.set_status(Status("fetching", f"analysing the AI activity of {len(orgs)} orgs…"))

    async def one(org: OrgSource) -> None:
        try:
            if org.source is None:
                raise org.error or RuntimeError("the org could not be opened")
            result = await investigate_ai(org.source, window, engine=engine, max_pages=max_pages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # this org's failure only: named in its line
            answer = OrgAnswer(org.profile, org.site, STATUS_FAILED, error=failure_line(exc))
        else:
            seen = result.counts.get("ai_events", len(result.calls)) > 0
            answer = OrgAnswer(org.profile, org.site, STATUS_OK if seen else STATUS_NOT_SEEN, result=result)
        if screen.org_ai is state:
            answered(screen, state, answer)

    await asyncio.gather(*(one(o) for o in orgs))


def answered(screen: Any, state: OrgAi, answer: OrgAnswer) -> None:
    state.answers[answer.profile] = answer
    viewable = state.viewable()
    if state.chosen and state.shown == answer.profile and answer.result is not None:
        show(screen, state, answer.profile)
    elif viewable and not state.chosen and state.shown != viewable[0]:
        show(screen, state, viewable[0])
    elif not viewable and state.done:
        _every_org_failed(screen, state)
    else:
        _status(screen, state)
    _show_lines(screen, state)
    screen.publish_badge()


def show(screen: Any, state: OrgAi, profile: str) -> None:
    """Show `profile`'s analysis below the strip."""
    state.shown = profile
    screen._show_result(state.answers[profile].result)
    state.shown_status = screen.status
    _show_lines(screen, state)
    _status(screen, state)


def _status(screen: Any, state: OrgAi) -> None:
    """The shown org's status (as one org's pane says it), after which org it is and how many answered."""
    asked = len(state.orgs)
    waiting = asked - len(state.answers)
    tail = f"{waiting} of {asked} orgs still asked" if waiting else ""
    base = state.shown_status
    if state.shown is None or base is None:
        screen.set_status(Status("fetching", f"analysing the AI activity: {tail}"))
        return
    failed = [a.profile for a in state.answers.values() if a.status == STATUS_FAILED]
    text = f"org {state.shown}: {base.text}"
    if failed:
        text += f" · failed: {', '.join(failed)}"
    if tail:
        text += f" · ⟳ {tail}"
    screen.set_status(Status(base.kind, clean(text)))


def _every_org_failed(screen: Any, state: OrgAi) -> None:
    from ddaudit_tui.tui.widgets.ai_flags import AiCounters

    message = failed_everywhere("the AI analysis", state.answers.values())
    screen.set_status(Status("error", message))
    screen.query_one(AiCounters).set_result(None, Text(f"✖ {message} — r retries", style="bold"))


def cycle(screen: Any) -> None:
    """`O`: the next org's analysis (worst first, round), of the orgs that answered."""
    state: OrgAi | None = getattr(screen, "org_ai", None)
    viewable = state.viewable() if state is not None else []
    if state is None or not viewable:
        screen.notify("No org has answered with its AI activity yet.", severity="warning", markup=False)
        return
    state.chosen = True
    show(screen, state, next_org(screen, viewable, state.shown, len(state.orgs), "an answer"))


def shown_source(screen: Any) -> Any:
    """The source of the org whose analysis is shown (a drill-down asks it, not the first org)."""
    state: OrgAi | None = getattr(screen, "org_ai", None)
    if state is None or state.shown is None:
        return None
    return state.org(state.shown).source


def badge(screen: Any) -> Any:
    """The pane bar's badge: the HIGH flags of every org (`! 5`), `⟳` while no org has answered."""
    from ddaudit_tui.tui.widgets.pane_bar import PaneBadge

    state: OrgAi | None = getattr(screen, "org_ai", None)
    results = [a.result for a in state.answers.values() if a.result is not None] if state else []
    if not results:
        if state is not None and state.done:
            return PaneBadge(f"{look('error').glyph} failed", look("error").glyph, "alert")
        return None
    n = sum(high_flags(r) for r in results)
    return PaneBadge(f"! {n}", f"!{n}", "warn" if n else "info")
