"""The AI activity investigation through a `Source`: fetch, ask the baseline questions, analyse.

1. The base query over the window (one paged fetch: the AI events are a small part of an org's trail).
2. The baseline period before the window (default 30 days), asked as small pushed-down questions
   rather than pulled whole (DESIGN.md "Scale") — or, for events already in memory (files), answered
   in one local pass (`analysis.ai.baseline_from_events`):
   - is there any audit data in the period at all? (if not, baseline checks are skipped, not guessed);
   - per person seen in the window: any AI activity of theirs (as user or delegator) in the period?
   - per OAuth / MCP client: was it used in the period?
   - per person whose scope can matter (AI changed something or touched a sensitive family for them,
     they are new to AI, or they are the drill-down's subject): their own non-AI events in the period,
     minus logins and raw requests — their scope.
   Asked per person, these cost ~85 requests for the demo's 7 people (issue 16); they are batched
   (`fetch_baseline`): DDSQL GROUP BYs when DDSQL answered (`--engine auto|ddsql`), else existence checks
   per person and client and one search for every scope, split back per person.
3. `analysis.ai.analyze_calls` on the result.

No Textual here; the TUI runs `investigate_ai` in a worker, the CLI with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ddaudit_tui.analysis.ai import (
    AI_INTERNAL_TYPES,
    CHANGE_VERBS,
    DAY_MS,
    DEFAULT_BASE_QUERY,
    AiActivity,
    AiCall,
    AiConfig,
    Baseline,
    Scope,
    analyze_calls,
    attribute_events,
    baseline_from_events,
)
from ddaudit_tui.analysis.ai_baseline import scope_from_groups
from ddaudit_tui.analysis.ai_queries import (
    _identities,
    any_of,
    client_clause,
    identity_clause,
    matcher,
    quote,
)
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.base import ProgressCallback, Source
from ddaudit_tui.sources.completeness import Completeness, RequestMeter, metering
from ddaudit_tui.timeutil import Window

if TYPE_CHECKING:
    from ddaudit_tui.sources.ddsql import DdsqlClient

__all__ = ["investigate_ai", "fetch_baseline", "quote", "identity_clause"]

T = TypeVar("T")

# Pages `--engine auto` may read before it lets DDSQL aggregate (config `max_pages`; as the key lookup's).
DEFAULT_MAX_PAGES = 50
# How many baseline questions run at once (each is one small request against the API).
CONCURRENCY = 6


async def _exists(source: Source, query: str, window: Window) -> bool:
    """`Source.exists` (a `page.limit: 1` pushdown); clients that spell it `count_exists`, or have
    neither, still answer (the last by a fetch)."""
    for name in ("exists", "count_exists"):
        fn = getattr(source, name, None)
        if callable(fn):
            return bool(await fn(query, window))
    result = await source.fetch(query, window)
    return bool(result.events)


async def _gather_limited(jobs: list[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    sem = asyncio.Semaphore(max(1, limit))

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return list(await asyncio.gather(*(run(j) for j in jobs)))


def _needs_scope(calls: Iterable[AiCall], cfg: AiConfig) -> bool:
    """Whether a person's scope can matter: only AI changes, or touches of sensitive families, are ever
    compared with it (`detections/ai_out_of_scope.py`), so the others are not asked about."""
    return any(
        c.resource_type
        and c.resource_type not in AI_INTERNAL_TYPES
        and (c.verb in CHANGE_VERBS or c.resource_type in cfg.sensitive_types)
        for c in calls
    )


# The baseline's answers that do not depend on whose calls the window holds: whether the period holds any
# audit data, and (DDSQL) the period's AI events grouped by person and client (None: ask the search per
# person). Asked while the window's AI events are fetched: one round trip less before the report.
Prelude = tuple[bool, list[tuple[Event, int]] | None]


async def baseline_prelude(
    source: Source, query: str, period: Window, dd: DdsqlClient | None = None
) -> Prelude:
    if period.duration_ms <= 0:
        return False, None
    if dd is None:
        return await _exists(source, "*", period), None
    from ddaudit_tui.analysis.ai_engine import ai_before_groups

    # Both at once: when the period is empty the group-by was not needed (one statement), else it saved
    # a round trip.
    known, rows = await asyncio.gather(
        _exists(source, "*", period), _ddsql_or_none(lambda: ai_before_groups(dd, query, period))
    )
    return known, rows


def start_prelude(
    source: Source, query: str, period: Window, dd: DdsqlClient | None
) -> asyncio.Task[Prelude]:
    return asyncio.ensure_future(baseline_prelude(source, query, period, dd))


async def fetch_baseline(
    source: Source,
    query: str,
    period: Window,
    calls: list[AiCall],
    *,
    config: AiConfig | None = None,
    user: str | None = None,
    concurrency: int = CONCURRENCY,
    warnings: list[str] | None = None,
    dd: DdsqlClient | None = None,
    prelude: Prelude | None = None,
) -> Baseline:
    """The baseline questions for the people and clients in `calls` (see the module doc).

    Two rounds: first "any AI before?" per person and "used before?" per client; then the own scopes,
    only for people whose scope can matter — AI changed something or touched a sensitive family for
    them, they are new to AI (the report says whether they had history), or they are the drill-down's
    subject. Batched (issue 16), so the cost grows with the questions' groups, not with the people: with
    `dd` (DDSQL answers), the first round is one GROUP BY over the period's AI events and the scopes one
    GROUP BY over the people's own events; without it, the first round is one `page.limit: 1` search per
    person and client, and the scopes one fetch of every scope person's own events at once. Either way
    each person's answer is split back by their own clause (`ai_queries.matcher`): the same answers as
    one question each. A DDSQL answer cut at its row limit, or refused, is asked by search instead.
    `prelude`: `baseline_prelude`'s answers, when they were asked already (while the window's events
    were fetched).
    """
    cfg = config or AiConfig()
    known, rows = prelude if prelude is not None else await baseline_prelude(source, query, period, dd)
    if not known:
        return Baseline(period=period, known=False)
    people = _identities(calls)
    clients = sorted(
        {c.client for c in calls if c.client != "(unknown)" and (c.event.oauth_client or c.event.mcp_client)}
    )
    base = f"({query})"
    keys = list(people)
    person_clause = {k: identity_clause(people[k], delegator=True) for k in keys}

    answers: list[bool] | None = None
    if rows is not None:
        stand_ins = [e for e, _n in rows]
        answers = [any(map(matcher(person_clause[k]), stand_ins)) for k in keys]
        answers += [any(map(matcher(client_clause(c)), stand_ins)) for c in clients]
    if answers is None:
        first: list[Callable[[], Awaitable[bool]]] = [
            _exists_job(source, f"{base} {person_clause[k]}", period) for k in keys
        ]
        first += [_exists_job(source, f"{base} {client_clause(c)}", period) for c in clients]
        answers = await _gather_limited(first, concurrency)
    ai_before = dict(zip(keys, answers[: len(keys)], strict=True))
    client_flags = answers[len(keys) :]

    by_person: dict[str, list[AiCall]] = {}
    for c in calls:
        by_person.setdefault(c.human.lower(), []).append(c)
    subject = user.strip().lower() if user else None
    scope_keys = [
        k for k in keys if not ai_before[k] or k == subject or _needs_scope(by_person.get(k, ()), cfg)
    ]
    scopes = await _scopes(
        source, base, period, {k: people[k] for k in scope_keys}, concurrency, warnings, dd
    )
    return Baseline(
        period=period,
        known=True,
        ai_users=frozenset(k for k, yes in ai_before.items() if yes),
        checked_users=frozenset(keys),
        clients=frozenset(c.lower() for c, yes in zip(clients, client_flags, strict=True) if yes),
        checked_clients=frozenset(c.lower() for c in clients),
        scopes=scopes,
    )


def _exists_job(source: Source, query: str, period: Window) -> Callable[[], Awaitable[bool]]:
    return lambda: _exists(source, query, period)


async def _ddsql_or_none(ask: Callable[[], Awaitable[T | None]]) -> T | None:
    """A DDSQL answer, or None when DDSQL cannot give it (refused, rejected, timed out): the caller asks
    the search instead, so the answer stays exact whoever gives it."""
    from ddaudit_tui.sources.ddsql import DdsqlError

    try:
        return await ask()
    except DdsqlError:
        return None


async def _scopes(
    source: Source,
    base: str,
    period: Window,
    people: dict[str, list[str]],
    concurrency: int,
    warnings: list[str] | None,
    dd: DdsqlClient | None,
) -> dict[str, Scope]:
    """The own scopes of `people` (key → identifiers): their product events of the period, not AI, not
    logins, not raw requests (which carry no resource). One question per batch of people (`any_of`), its
    answer split back by each person's own clause."""
    keys = list(people)
    clauses = [identity_clause(people[k]) for k in keys]
    rest = f"-@evt.name:(Request OR Authentication) -{base}"
    groups: dict[str, list[tuple[Event, int]]] = {k: [] for k in keys}
    fetch_jobs: list[Callable[[], Awaitable[Any]]] = []
    fetch_batches: list[list[int]] = []
    for clause, idx in any_of(clauses):
        q = f"{clause} {rest}"
        rows = None
        if dd is not None:
            from ddaudit_tui.analysis.ai_engine import scope_groups

            rows = await _ddsql_or_none(lambda q=q: scope_groups(dd, q, period))  # type: ignore[misc]
        if rows is None:
            fetch_jobs.append(lambda q=q: source.fetch(q, period))  # type: ignore[misc]
            fetch_batches.append(idx)
            continue
        _split(rows, [(keys[i], clauses[i]) for i in idx], groups)
    fetched_batches = await _gather_limited(fetch_jobs, concurrency)
    for idx, fetched in zip(fetch_batches, fetched_batches, strict=True):
        if warnings is not None and not fetched.complete:
            warnings.extend(f"baseline scope of {keys[i]}: {w}" for i in idx for w in fetched.warnings)
        _split([(e, 1) for e in fetched.events], [(keys[i], clauses[i]) for i in idx], groups)
    scopes: dict[str, Scope] = {}
    for key in keys:
        scope = scope_from_groups(groups[key])
        if scope.events:
            scopes[key] = scope
    return scopes


def _split(
    rows: list[tuple[Event, int]], who: list[tuple[str, str]], into: dict[str, list[tuple[Event, int]]]
) -> None:
    """Each person's share of a batched answer: the events (or groups) their own clause matches."""
    for key, clause in who:
        match = matcher(clause)
        into[key].extend(r for r in rows if match(r[0]))


def _abandon(task: asyncio.Task[Any] | None) -> None:
    """The work beside `task` failed: `task` is not waited for — cancelled, and its own failure (if
    any) retrieved rather than logged as never retrieved."""
    if task is None:
        return
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


def _slice(newest_first: list[Event], window: Window) -> list[Event]:
    """The events of `window` from a list sorted newest first (an EventStore's order), by bisection."""
    key = lambda e: -e.ts  # noqa: E731  (ascending key for a descending list)
    lo = bisect.bisect_right(newest_first, -window.end, key=key)
    hi = bisect.bisect_right(newest_first, -window.start, key=key)
    return newest_first[lo:hi]


async def investigate_ai(
    source: Source,
    window: Window,
    *,
    query: str | None = None,
    config: AiConfig | None = None,
    user: str | None = None,
    progress: ProgressCallback | None = None,
    baseline: bool = True,
    concurrency: int = CONCURRENCY,
    engine: str = "search",
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AiActivity:
    """Fetch the AI events of `window`, ask the baseline questions, and analyse (see module doc).

    `query` replaces the base query (`DEFAULT_BASE_QUERY`); `user` narrows the result to that person's
    drill-down (flags are still raised over everyone first, so they match the whole-org report).
    `engine` (issue 16): `search` pages every AI event; `ddsql` lets DDSQL count the bulk (`ai_engine`);
    `auto` counts first and aggregates when paging would exceed `max_pages` pages. Files and preloaded
    events are read whole whatever the engine.
    """
    # The engines load with a request for them: the AI pane's first paint does not wait for them.
    from ddaudit_tui.analysis.ai_engine import count_events, should_aggregate, validate_engine
    from ddaudit_tui.analysis.key_engine import supports_ddsql

    validate_engine(engine, max_pages)
    cfg = config or AiConfig()
    q = (query or "").strip() or DEFAULT_BASE_QUERY
    parse_query(q)  # a malformed query fails here, before any request
    with metering() as meter:  # the fetch and every baseline question count
        fallback: str | None = None
        dd: DdsqlClient | None = None
        if engine != "search" and supports_ddsql(source):
            from ddaudit_tui.sources.ddsql import DdsqlClient, DdsqlError

            dd = DdsqlClient(source)  # type: ignore[arg-type]  # supports_ddsql: a DatadogClient
            try:
                total = await count_events(dd, q, window)
                if engine == "ddsql" or should_aggregate(total, source.page_limit, max_pages):  # type: ignore[attr-defined]
                    return await _aggregated(
                        source, dd, window, q, cfg, user, baseline, concurrency, meter, total
                    )
            except DdsqlError as exc:
                dd = None  # refused: the baseline asks the search too
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                fallback = f"DDSQL unavailable ({first}): paging the search instead"
        # Paging the AI events; DDSQL, when it answered the count, still groups the baseline's questions.
        activity = await _investigate(
            source, window, q, cfg, user, progress, baseline, concurrency, meter, dd
        )
        if fallback is not None:
            activity.warnings.insert(0, fallback)
        return activity


async def _aggregated(
    source: Source,
    dd: Any,
    window: Window,
    q: str,
    cfg: AiConfig,
    user: str | None,
    baseline: bool,
    concurrency: int,
    meter: RequestMeter,
    total: int,
) -> AiActivity:
    """The aggregate engine (`ai_engine`): DDSQL counts the MCP Server reads and connections, the rest
    and the flags' subjects are fetched whole."""
    from ddaudit_tui.analysis.ai_engine import aggregate_ai, analyze

    warnings: list[str] = []
    period = Window(window.start - cfg.baseline_days * DAY_MS, window.start)
    early = start_prelude(source, q, period, dd) if baseline and cfg.baseline_days > 0 else None

    async def baseline_for(calls: list[AiCall]) -> Baseline | None:
        if early is None:
            return None
        return await fetch_baseline(
            source,
            q,
            period,
            calls,
            config=cfg,
            user=user,
            concurrency=concurrency,
            warnings=warnings,
            dd=dd,
            prelude=await early,
        )

    try:
        agg, base = await aggregate_ai(source, dd, q, window, cfg, baseline_for, user=user, total=total)
    except BaseException:
        _abandon(early)
        raise
    activity = analyze(agg, window, base, cfg, query=q, user=user, warnings=warnings)
    reasons = [*agg.warnings, *(w for w in warnings if w.startswith("baseline scope of"))]
    done = Completeness(
        engine="search+ddsql",
        events_fetched=agg.fetched,
        events_matched=agg.total,
        partial=not agg.complete,
    ).with_reasons(*reasons)
    retention = getattr(source, "retention_days", None)
    activity.completeness = done.with_retention(window, retention).timed(meter)
    return activity


async def _investigate(
    source: Source,
    window: Window,
    q: str,
    cfg: AiConfig,
    user: str | None,
    progress: ProgressCallback | None,
    baseline: bool,
    concurrency: int,
    meter: RequestMeter,
    dd: DdsqlClient | None = None,
) -> AiActivity:
    period = Window(window.start - cfg.baseline_days * DAY_MS, window.start)
    store = getattr(source, "store", None)
    remote = baseline and cfg.baseline_days > 0 and not isinstance(store, EventStore)
    early = start_prelude(source, q, period, dd) if remote else None
    try:
        fetched = await source.fetch(q, window, progress)
    except BaseException:
        _abandon(early)
        raise
    warnings = list(fetched.warnings)
    if not fetched.complete and not warnings:
        warnings.append("the fetch was incomplete: counts are lower bounds")
    calls = attribute_events(e for e in fetched.events if window.contains(e.ts))
    base: Baseline | None = None
    if baseline and cfg.baseline_days > 0:
        if isinstance(store, EventStore):
            # Events already in memory (files): one local pass answers every baseline question at once,
            # with the same query semantics, instead of a scan of the whole store per question.
            base = baseline_from_events(period, _slice(store.events, period), q)
        else:
            base = await fetch_baseline(
                source,
                q,
                period,
                calls,
                config=cfg,
                user=user,
                concurrency=concurrency,
                warnings=warnings,
                dd=dd,
                prelude=await early if early is not None else None,
            )
    activity = analyze_calls(
        calls, window, base, cfg, query=q, user=user, warnings=warnings, complete=fetched.complete
    )
    done = fetched.completeness.with_reasons(*(w for w in warnings if w.startswith("baseline scope of")))
    retention = getattr(source, "retention_days", None)
    activity.completeness = done.with_retention(window, retention).timed(meter)
    return activity
