"""Key lookup in every org at once (issue 16 item 5): `ddaudit --all-profiles`, `ddaudit --profile a,b`.

"Did this key act in any of our orgs?" Looking a key up asks every org concurrently, each through its
own source (its own credentials, site, client and so rate-limit budget; `ddaudit_tui/orgs.py` opens
them as `ddaudit key --all-profiles` does). The answers arrive one by one in a strip at the top of the
report, one line per org, worst first:

    ▸ org prod (datadoghq.com): ✖ likely compromised · 1,204 events · complete · 3 requests · 0.4 s
      org eu (datadoghq.eu): not seen · complete · 2 requests · 0.1 s
      org staging (us5.datadoghq.com): ✖ failed: cannot connect to …

Below it is the report of the org where the key acted (the worst verdict; `▸` marks it); `O` shows the
next org's. An org that fails is named with its one-line reason and does not hold the others back.
Explore, AI activity and Spike watch ask every org too (tui/org_explore.py, org_ai.py, org_watch.py).

The pane calls three hooks (`several`, `start_lookup`, `cycle`) and keeps the rest of its code; nothing
here is imported unless several orgs are asked.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.analysis.keys import (
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    KeyReport,
    KeySeen,
)
from ddaudit_tui.orgs import STATUS_FAILED, STATUS_NOT_SEEN, STATUS_OK, OrgAnswer, OrgSource, one_line
from ddaudit_tui.outcome import look
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.header import Status, status_style_for, verdict_status_kind

if TYPE_CHECKING:
    # Key lookup is above this module (it calls the hooks): seen here as a pane with `_show_report`.
    from ddaudit_tui.tui.screens.base import PaneScreen as KeyLookupScreen

CYCLE_KEY = "O"
STRIP_ID = "org-strip"
KEYS_QUERY = "@metadata.api_key.id:*"  # Key lookup's own: the keys seen (not imported: the pane is above)
# Lines the strip may take: worst first, so the orgs left out (said in its last line) matter least.
MAX_LINES = 5
MAX_LINES_SHORT = 3
REASON_MIN = 24  # a failure's reason: at least this much of it before the lines lose details


# -- the orgs of the app -------------------------------------------------------------------------------


def orgs_of(app: Any) -> list[OrgSource]:
    return list(getattr(app, "orgs", None) or ())


def several(app: Any) -> bool:
    """Whether the app asks several orgs (`--profile a,b`, `--all-profiles`)."""
    return len(orgs_of(app)) > 1


def first_org(app: Any) -> OrgSource | None:
    """The first org that opened: the one whose source is the app's (the case and revocation use it)."""
    return next((o for o in orgs_of(app) if o.source is app.source and o.source is not None), None)


def orgs_label(app: Any) -> str:
    """`3 orgs` (the pane bar); '' for one org."""
    n = len(orgs_of(app))
    return f"{n} orgs" if n > 1 else ""


# The panes that ask every org (Key lookup here; Explore, AI activity, Spike watch in tui/org_*.py).
EVERY_ORG_MODES = frozenset({"lookup", "explore", "ai", "watch"})


def pane_source_label(app: Any, mode: str, default: str) -> str:
    """What a pane's header says for the source: the panes that ask every org `3 orgs: prod, eu, dev`,
    any other the first (`1 of 3 orgs: prod`). The count comes first: a narrow header cuts the end."""
    orgs = orgs_of(app)
    if len(orgs) < 2:
        return default
    if mode in EVERY_ORG_MODES:
        return f"{len(orgs)} orgs: " + ", ".join(o.profile for o in orgs)
    first = first_org(app)
    return f"1 of {len(orgs)} orgs: {first.profile}" if first is not None else default


# -- the answers -----------------------------------------------------------------------------------------

# Worst first: the verdicts that need action, then an org that could not be asked (it may hide one),
# then the quiet answers.
_RANK = {VERDICT_COMPROMISED: 0, VERDICT_SUSPICIOUS: 1, VERDICT_NONE: 4}
RANK_FAILED = 3
RANK_NOT_SEEN = 5
RANK_PENDING = 6


def rank(answer: OrgAnswer | None) -> int:
    if answer is None:
        return RANK_PENDING
    if answer.status == STATUS_FAILED:
        return RANK_FAILED
    if answer.status == STATUS_NOT_SEEN:
        return RANK_NOT_SEEN
    return _RANK.get(getattr(answer.result, "verdict", ""), 2)


def failure_line(exc: BaseException) -> str:
    """One line for an org that failed (never a traceback in the strip; never a credential: the
    client's messages name sites and statuses, not keys)."""
    from ddaudit_tui.orgs import failure

    try:
        return failure(exc)[1]
    except Exception:  # not a known failure: still that org's only
        return one_line(str(exc) or type(exc).__name__)


def answer_for(org: OrgSource, outcome: KeyReport | BaseException) -> OrgAnswer:
    if isinstance(outcome, BaseException):
        return OrgAnswer(org.profile, org.site, STATUS_FAILED, error=failure_line(outcome))
    status = STATUS_OK if outcome.total_events > 0 else STATUS_NOT_SEEN
    return OrgAnswer(org.profile, org.site, status, result=outcome)


@dataclass
class OrgLookup:
    """One key looked up in every org: the answers so far, and which org's report is shown."""

    key_id: str
    orgs: list[OrgSource]
    token: int
    answers: dict[str, OrgAnswer] = field(default_factory=dict)
    shown: str | None = None
    chosen: bool = False  # the user picked the shown org (O): arriving answers do not take its place
    verdict_status: Status | None = None  # the shown report's status, as one org's lookup says it

    def ordered(self) -> list[tuple[OrgSource, OrgAnswer | None]]:
        """Every org, worst first (ties: the order asked)."""
        rows = [(o, self.answers.get(o.profile)) for o in self.orgs]
        return sorted(rows, key=lambda r: rank(r[1]))

    def viewable(self) -> list[str]:
        """The orgs with a report to show (answered, not failed), worst first."""
        return [o.profile for o, a in self.ordered() if a is not None and a.result is not None]

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.orgs)


# -- the strip ---------------------------------------------------------------------------------------------


def _completeness(report: KeyReport) -> tuple[str, str, bool]:
    """(full, short, partial): `complete · 3 requests · 0.4 s` / `complete`, or the partial reason."""
    c = report.completeness
    if c is not None:
        full = c.header_text(events=False)
        if c.partial:
            return full, "PARTIAL", True
        return full, "complete", False
    from ddaudit_tui.orgs import completeness_of

    complete, line = completeness_of(report)
    return line, ("complete" if complete else "PARTIAL"), not complete


@dataclass(frozen=True)
class _Form:
    """How much of a line to show, most to least: the site, the completeness's details, the verdict's
    long word, the whole profile name."""

    site: bool = True
    details: bool = True
    long_word: bool = True
    profile_max: int = 40


_FORMS = (
    _Form(),
    _Form(details=False),
    _Form(site=False, details=False),
    _Form(site=False, details=False, long_word=False),
    _Form(site=False, details=False, long_word=False, profile_max=12),
)

_SHORT_WORDS = {VERDICT_COMPROMISED: "compromised"}


def strip_line(
    org: OrgSource, answer: OrgAnswer | None, form: _Form, shown: bool, style: Any
) -> list[tuple[str, Any]]:
    """One org's line as (text, style) parts. `style(kind)`: the outcome's style on the strip."""
    head = f"{'▸' if shown else ' '} org {clean(org.profile, max_len=form.profile_max)}"
    if form.site:
        head += f" ({clean(org.site, max_len=40)})"
    parts: list[tuple[str, Any]] = [(head + ": ", "bold" if shown else None)]
    if answer is None:
        parts.append((f"{look('fetching').glyph} asking…", style("fetching")))
        return parts
    if answer.status == STATUS_FAILED:
        parts.append((f"{look('error').glyph} failed", style("error")))
        parts.append((": " + clean(answer.error or "", single_line=True), None))  # cut last, with …
        return parts
    report: KeyReport = answer.result
    full, short, partial = _completeness(report)
    if answer.status == STATUS_NOT_SEEN:
        parts.append(("not seen", None))
    else:
        verdict = report.verdict
        kind = verdict_status_kind(verdict)
        word = verdict if form.long_word else _SHORT_WORDS.get(verdict, verdict)
        parts.append((f"{look(kind).glyph} {clean(word)}", style(kind)))
        n = report.total_events
        parts.append((f" · {n:,} event{'s' if n != 1 else ''}", None))
    if partial:
        parts.append((" · ", None))
        parts.append((f"{look('partial').glyph} {short}", style("partial")))
        if form.details:
            parts.append((full.removeprefix("PARTIAL"), None))
    else:
        parts.append((" · " + (full if form.details else short), None))
    return parts


def render_strip(
    lookup: OrgLookup | None, orgs: Sequence[OrgSource], width: int, lines: int, style: Any
) -> Text:
    """The strip at `width`: each line in the most detailed form that fits every line shown; a line that
    still does not fit is cut at its end with `…` (only a failure's reason or a long name can be)."""
    rows = lookup.ordered() if lookup is not None else [(o, None) for o in orgs]
    shown = lookup.shown if lookup is not None else None
    room = max(1, lines)
    cut = rows[room - 1 :] if len(rows) > room else []
    rows = rows[: room - 1] if cut else rows

    def needed(org: OrgSource, answer: OrgAnswer | None, form: _Form) -> int:
        parts = strip_line(org, answer, form, org.profile == shown, style)
        if answer is not None and answer.status == STATUS_FAILED:
            # A failure's reason is cut with `…` rather than the other lines losing their details.
            return sum(cell_len(t) for t, _ in parts[:-1]) + min(cell_len(parts[-1][0]), REASON_MIN)
        return sum(cell_len(t) for t, _ in parts)

    def fits(form: _Form) -> bool:
        return all(needed(o, a, form) <= width for o, a in rows)

    form = next((f for f in _FORMS if fits(f)), _FORMS[-1])
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, (org, answer) in enumerate(rows):
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for part, part_style in strip_line(org, answer, form, org.profile == shown, style):
            line.append(part, style=part_style)
        line.truncate(max(1, width), overflow="ellipsis")
        if i:
            out.append("\n")
        out.append_text(line)
    if cut:
        counts: dict[str, int] = {}
        for _o, a in cut:
            what = "asking" if a is None else ("failed" if a.status == STATUS_FAILED else
                   "not seen" if a.status == STATUS_NOT_SEEN else "seen")  # fmt: skip
            counts[what] = counts.get(what, 0) + 1
        more = Text(f"  + {len(cut)} more orgs: " + ", ".join(f"{n} {w}" for w, n in counts.items()),
                    no_wrap=True, overflow="ellipsis", end="")  # fmt: skip
        more.truncate(max(1, width), overflow="ellipsis")
        out.append("\n")
        out.append_text(more)
    return out


class OrgStrip(Widget):
    """One line per org at the top of the key's report, worst first (see the module's docstring)."""

    DEFAULT_CSS = """
    OrgStrip {
        height: auto;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, orgs: Sequence[OrgSource], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.orgs = list(orgs)
        self.lookup: OrgLookup | None = None

    def set_lookup(self, lookup: OrgLookup | None) -> None:
        self.lookup = lookup
        self.refresh(layout=True)

    @property
    def max_lines(self) -> int:
        return MAX_LINES_SHORT if self.app.size.height < 30 else MAX_LINES

    @property
    def plain(self) -> str:
        return self._build(self.size.width or 200).plain

    def _build(self, width: int) -> Text:
        return render_strip(
            self.lookup, self.orgs, width, self.max_lines, functools.partial(status_style_for, self)
        )

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return min(len(self.orgs), self.max_lines)

    def render(self) -> Text:
        return self._build(self.size.width)


# -- the hooks the Key lookup pane calls --------------------------------------------------------------------


def strip_of(screen: KeyLookupScreen) -> OrgStrip:
    """The strip, mounted above the key's summary card the first time it is needed."""
    found = screen.query(f"#{STRIP_ID}")
    if found:
        return found.first(OrgStrip)
    from ddaudit_tui.tui.widgets.key_summary import KeySummary

    strip = OrgStrip(orgs_of(screen.app), id=STRIP_ID)
    screen.query_one("#key-results").mount(strip, before=screen.query_one(KeySummary))
    return strip


def lookup_options(screen: Any, engine: str | None = None) -> Any:
    """The options one org's lookup gets: the pane's own (`investigation_options()`, its engine and page
    budget, when the pane has it), else the app's; `engine` replaces the engine (the picker's
    assessment reads preloaded events: `search`)."""
    make = getattr(screen, "investigation_options", None)
    options = make() if callable(make) else getattr(screen.app, "key_investigation_options", None)
    if engine is not None and options is not None and hasattr(options, "engine"):
        import dataclasses

        options = dataclasses.replace(options, engine=engine)
    return options


def start_lookup(screen: KeyLookupScreen, key: str, group: str, proxy: Callable[[Any, Any], Any]) -> None:
    """Look `key` up in every org (replacing a lookup still running, in the pane's worker `group`);
    answers arrive one by one. `proxy(source, loop)`: the pane's LoopSource (a source seen from a thread)."""
    app = screen.ddaudit
    orgs = orgs_of(app)
    previous: OrgLookup | None = getattr(screen, "org_lookup", None)
    lookup = OrgLookup(key, orgs, token=(previous.token + 1 if previous else 1))
    screen.org_lookup = lookup  # type: ignore[attr-defined]
    strip_of(screen).set_lookup(lookup)
    screen.set_status(Status("fetching", f"looking up key {key} in {len(orgs)} orgs…"))
    loop = asyncio.get_running_loop()
    options = lookup_options(screen)
    work = functools.partial(
        _ask_every_org, screen, lookup, app.window, int(app.clock() * 1000), loop, proxy, options
    )
    screen.run_worker(
        work,
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=group,
        description=f"Looking up an API key in {len(orgs)} orgs",
    )


async def _ask_every_org(
    screen: KeyLookupScreen,
    lookup: OrgLookup,
    window: Any,
    now_ms: int,
    loop: asyncio.AbstractEventLoop,
    make_proxy: Callable[[Any, Any], Any],
    options: Any,
) -> None:
    # A thread with its own loop, as the one-org lookup: the analysis must not freeze the UI, and every
    # source call still runs on the app's loop (LoopSource), where each org's client lives.
    app = screen.app
    proxies: dict[int, Any] = getattr(screen, "_org_loop_sources", None) or {}
    screen._org_loop_sources = proxies  # type: ignore[attr-defined]  # keeps each org's country cache

    async def one(org: OrgSource) -> None:
        try:
            if org.source is None:
                raise org.error or RuntimeError("the org could not be opened")
            proxy = proxies.get(id(org.source))
            if proxy is None:
                proxy = proxies[id(org.source)] = make_proxy(org.source, loop)
            outcome: KeyReport | BaseException = await investigate_key(
                proxy,  # type: ignore[arg-type]
                lookup.key_id,
                window,
                config=getattr(app, "key_analysis_config", None),
                options=options,
                now_ms=now_ms,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # this org's failure only: named in its line
            outcome = exc
        app.call_from_thread(answered, screen, lookup, answer_for(org, outcome))

    await asyncio.gather(*(one(o) for o in lookup.orgs))


def answered(screen: KeyLookupScreen, lookup: OrgLookup, answer: OrgAnswer) -> None:
    """One org answered (on the UI thread). The report shown is the worst so far, unless the user chose."""
    if getattr(screen, "org_lookup", None) is not lookup:
        return  # a newer lookup replaced this one
    lookup.answers[answer.profile] = answer
    strip = strip_of(screen)
    viewable = lookup.viewable()
    if viewable and not lookup.chosen and lookup.shown != viewable[0]:
        show(screen, lookup, viewable[0])
    elif not viewable and lookup.done:
        _every_org_failed(screen, lookup)
    else:
        _status(screen, lookup)
    strip.set_lookup(lookup)


def show(screen: KeyLookupScreen, lookup: OrgLookup, profile: str) -> None:
    """Show `profile`'s report below the strip."""
    answer = lookup.answers[profile]
    org = next(o for o in lookup.orgs if o.profile == profile)
    lookup.shown = profile
    app = screen.ddaudit
    case = getattr(app, "case", None)
    saved = getattr(case, "source", None)
    if case is not None and org.settings is not None:
        # The case journals the report shown: under the org it came from, not the first org's name.
        import argparse

        from ddaudit_tui.case.record import source_info

        case.source = source_info(argparse.Namespace(), org.settings)
    try:
        screen._show_report(answer.result)
    finally:
        if case is not None:
            case.source = saved
    lookup.verdict_status = screen.status
    strip_of(screen).set_lookup(lookup)
    _status(screen, lookup)


def _status(screen: KeyLookupScreen, lookup: OrgLookup) -> None:
    """The header: the shown org's verdict (as one org's lookup says it), after which org it is and how
    many have answered."""
    asked = len(lookup.orgs)
    waiting = asked - len(lookup.answers)
    tail = f"{waiting} of {asked} orgs still asked" if waiting else ""
    base = lookup.verdict_status
    if lookup.shown is None or base is None:
        screen.set_status(Status("fetching", f"looking up key {lookup.key_id}: {tail}"))
        return
    text = f"org {lookup.shown}: {base.text}" + (f" · ⟳ {tail}" if tail else "")
    screen.set_status(Status(base.kind, text))


def _every_org_failed(screen: KeyLookupScreen, lookup: OrgLookup) -> None:
    from ddaudit_tui.tui.widgets.key_summary import KeySummary

    message = failed_everywhere("the lookup", lookup.answers.values())
    screen.set_status(Status("error", message))
    screen.query_one(KeySummary).show(None, Text(f"✖ {message}", style="bold"))


def failed_everywhere(what: str, answers: Iterable[OrgAnswer]) -> str:
    """The one status line of a pane whose question failed in every org, each org's reason in it."""
    reasons = "; ".join(f"{a.profile}: {a.error}" for a in answers)
    return clean(f"{what} failed in every org ({reasons})", max_len=300)


def cycle(screen: KeyLookupScreen) -> None:
    """`O`: the next org's report (worst first, round), of the orgs that answered."""
    lookup: OrgLookup | None = getattr(screen, "org_lookup", None)
    if lookup is None:
        screen.notify("Look a key up first: O then shows each org's report in turn.", markup=False)
        return
    viewable = lookup.viewable()
    if not viewable:
        screen.notify("No org has answered with a report yet.", severity="warning", markup=False)
        return
    lookup.chosen = True
    show(screen, lookup, next_org(screen, viewable, lookup.shown, len(lookup.orgs), "a report"))


def next_org(screen: Any, viewable: list[str], shown: str | None, total: int, what: str) -> str:
    """`O` in any pane: the org after `shown` among those with an answer (`viewable`, worst first), round;
    when it is the only one, a notice says why `O` shows no other."""
    index = viewable.index(shown) if shown in viewable else -1
    target = viewable[(index + 1) % len(viewable)]
    if len(viewable) == 1:
        others = total - 1
        screen.notify(
            f"Only org {clean(target)} has {what} to show ({others} other org{'s' if others != 1 else ''}: "
            "not answered or failed, see the lines above).",
            markup=False,
        )
    return target


def revoke_refusal(screen: KeyLookupScreen) -> str | None:
    """Why `R` does not revoke here: the app's client (the one revocation goes through) is the first
    org's; a key shown from another org is revoked with that org's profile. None: the first org's."""
    lookup: OrgLookup | None = getattr(screen, "org_lookup", None)
    first = first_org(screen.app)
    if lookup is None or lookup.shown is None or first is None or lookup.shown == first.profile:
        return None
    shown = clean(lookup.shown, max_len=40)
    return (
        f"Refused: this report is org {shown}'s, and R revokes in org {clean(first.profile, max_len=40)} "
        f"(the first org). Revoke it with `ddaudit revoke {lookup.key_id} --profile {shown}`. "
        "Nothing was revoked."
    )


# -- the keys seen, in every org ------------------------------------------------------------------------------


def merge_keys(
    per_org: Sequence[tuple[OrgSource, Sequence[KeySeen]]],
) -> tuple[list[KeySeen], dict[str, str]]:
    """The keys seen in any org (a key seen in several: its events summed, its first and last use over all
    of them), most recently used first; and, by key, the orgs it was seen in (`prod, eu`)."""
    merged: dict[str, KeySeen] = {}
    where: dict[str, list[str]] = {}
    for org, keys in per_org:
        for k in keys:
            where.setdefault(k.key_id, []).append(org.profile)
            m = merged.get(k.key_id)
            if m is None:
                merged[k.key_id] = k
            else:
                actors = tuple(sorted({*m.actors, *k.actors}))[:5]
                merged[k.key_id] = KeySeen(
                    k.key_id,
                    m.events + k.events,
                    min(m.first_seen, k.first_seen),
                    max(m.last_seen, k.last_seen),
                    actors,
                )
    out = sorted(merged.values(), key=lambda s: (-s.last_seen, s.key_id))
    return out, {key: ", ".join(profiles) for key, profiles in where.items()}


async def load_keys(
    screen: Any, assess_group: str, assess_limit: int, proxy: Callable[[Any, Any], Any]
) -> None:
    """The picker's keys from every org (an org column says where each was seen), then each key assessed
    in the orgs it was seen in — its worst verdict ranks it. An org that cannot list its keys is named in
    the status line; the others' keys are still listed."""
    from textual.suggester import SuggestFromList

    from ddaudit_tui.analysis.key_investigation import validate_key_id
    from ddaudit_tui.analysis.keys import keys_seen
    from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions

    app = screen.ddaudit
    orgs = orgs_of(app)
    query = KEYS_QUERY
    if screen.key_id is None:
        screen.set_status(Status("fetching", f"listing the API keys of {len(orgs)} orgs…"))

    async def listed(org: OrgSource) -> Any:
        if org.source is None:
            raise org.error or RuntimeError("the org could not be opened")
        return await org.source.fetch(query, app.window)

    outcomes = await asyncio.gather(*(listed(o) for o in orgs), return_exceptions=True)
    per_org: list[tuple[OrgSource, Any, list[KeySeen]]] = []
    failed: list[str] = []
    for org, outcome in zip(orgs, outcomes, strict=True):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException):
            failed.append(f"org {org.profile}: {failure_line(outcome)}")
            continue
        per_org.append((org, outcome, await asyncio.to_thread(keys_seen, outcome.events)))
    seen, org_of = merge_keys([(o, keys) for o, _r, keys in per_org])
    screen.keys = seen
    screen._keys_partial = bool(failed) or any(not r.complete for _o, r, _k in per_org)
    suggestions = screen.query_one(KeySuggestions)
    suggestions.org_of = org_of
    empty = f"no API key was used in any of the {len(orgs)} orgs: type a key id above"
    suggestions.set_keys(seen, empty_text=empty)

    def valid(key_id: str) -> bool:
        try:
            validate_key_id(key_id)
        except ValueError:
            return False
        return True

    screen.query_one("#key-input").suggester = SuggestFromList(
        [k.key_id for k in seen if valid(k.key_id)], case_sensitive=False
    )
    if screen.key_id is None:
        n = len(seen)
        text = f"{n} API key{'s' if n != 1 else ''} seen in {len(per_org)} of {len(orgs)} orgs · pick one"
        if failed:
            screen.set_status(Status("partial", clean(f"{text} · failed: {'; '.join(failed)}")))
        else:
            screen.set_status(Status("complete", text))
    screen.org_keys_note = (  # kept after the assessment's own status (see `_assessed`)
        f"in {len(per_org)} of {len(orgs)} orgs" + (f" · failed: {'; '.join(failed)}" if failed else "")
    )
    _start_assessment(screen, per_org, seen, assess_group, assess_limit, proxy)


def _start_assessment(
    screen: Any,
    per_org: Sequence[tuple[OrgSource, Any, Sequence[KeySeen]]],
    keys: Sequence[KeySeen],
    group: str,
    limit: int,
    proxy: Callable[[Any, Any], Any],
) -> None:
    """As the pane's own assessment (its token, its `_apply_risks`), with each key assessed in its orgs."""
    from ddaudit_tui.analysis.key_risk import PreloadedKeySource, assessed_order
    from ddaudit_tui.tui.widgets.key_suggestions import KeySuggestions

    app = screen.ddaudit
    screen._assess_token += 1
    screen._assess_cancelled = False
    screen._assessing = bool(keys)
    screen._update_picker_title()
    if not keys:
        return
    loop = asyncio.get_running_loop()
    sources = {o.profile: PreloadedKeySource(proxy(o.source, loop), result) for o, result, _k in per_org}
    where: dict[str, list[str]] = {}
    for o, _r, org_keys in per_org:
        for k in org_keys:
            where.setdefault(k.key_id, []).append(o.profile)
    order = assessed_order(keys)
    screen.query_one(KeySuggestions).set_skipped(k.key_id for k in order[limit:])
    work = functools.partial(
        _assess,
        screen,
        sources,
        where,
        order[:limit],
        app.window,
        int(app.clock() * 1000),
        screen._assess_token,
        lookup_options(screen, engine="search"),  # each key's events are preloaded: no aggregate
    )
    screen.run_worker(
        work,
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=group,
        description="Assessing the keys seen",
    )


async def _assess(
    screen: Any,
    sources: dict[str, Any],
    where: dict[str, list[str]],
    keys: Sequence[KeySeen],
    window: Any,
    now_ms: int,
    token: int,
    options: Any,
) -> None:
    """The pane's assessment loop (tui/key_assess.py), each key assessed in every org it was seen in: its
    worst verdict ranks it; it fails only when it could be assessed in none."""
    from textual.worker import get_current_worker

    from ddaudit_tui.analysis.key_risk import KeyRisk
    from ddaudit_tui.tui.key_assess import assess_keys, risk_of

    app = screen.app
    worker = get_current_worker()

    async def worst_of_orgs(k: KeySeen) -> KeyRisk | None:
        worst: KeyRisk | None = None
        for profile in where.get(k.key_id, ()):
            if worker.is_cancelled:
                return worst
            try:
                risk = await risk_of(app, sources[profile], k.key_id, window, options, now_ms)
            except Exception:  # that org's assessment of that key only
                continue
            if worst is None or risk.rank > worst.rank:
                worst = risk
        return worst

    def apply(risks: dict[str, KeyRisk], failed: list[str], done: bool) -> None:
        if done:
            _assessed(screen, token, risks, failed)
        else:
            screen._apply_risks(token, risks, failed, False)

    await assess_keys(app, worker, keys, worst_of_orgs, apply)


def _assessed(screen: Any, token: int, risks: dict[str, Any], failed: list[str]) -> None:
    """The pane's last update of the verdicts, then which orgs the keys came from (and which failed)."""
    screen._apply_risks(token, risks, failed, True)
    note = getattr(screen, "org_keys_note", "")
    if token == screen._assess_token and screen.key_id is None and note:
        status = screen.status
        screen.set_status(Status(status.kind, clean(status.text.replace(" seen · ", f" seen {note} · ", 1))))


_BADGE_LEVELS = {"compromised": "alert", "suspicious": "warn", "no evidence": "ok"}


def badge(screen: Any) -> Any:
    """The pane bar's badge with several orgs: the worst verdict of any org (`✖ compromised`), not the
    verdict of the org whose report happens to be shown; `⟳` while no org has answered."""
    from ddaudit_tui.tui.widgets.pane_bar import PaneBadge

    lookup: OrgLookup | None = getattr(screen, "org_lookup", None)
    viewable = lookup.viewable() if lookup is not None else []
    if lookup is None or not viewable:
        if lookup is not None and lookup.done:
            return PaneBadge(f"{look('error').glyph} failed", look("error").glyph, "alert")
        return PaneBadge("⟳", "⟳", "info")
    worst = lookup.answers[viewable[0]]
    if worst.status == STATUS_NOT_SEEN:
        return PaneBadge("not seen", "·", "info")
    kind = verdict_status_kind(worst.result.verdict)
    glyph = look(kind).glyph
    word = {"compromised": "compromised"}.get(kind, kind if kind in _BADGE_LEVELS else "warning")
    return PaneBadge(f"{glyph} {word}", glyph, _BADGE_LEVELS.get(kind, "warn"))  # type: ignore[arg-type]
