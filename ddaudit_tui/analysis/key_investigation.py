"""Running a key lookup against a `Source`: the queries, the pushed-down country baseline, the API Keys
lookup — then `keys.analyze_key` on what came back.

Queries (each pushed down to the source, `DESIGN.md` "Scale"):

- `@metadata.api_key.id:K` over the window — every event the key made, all pages;
- `@asset.type:api_key @asset.id:K` over the window extended `related_lookback_days` back — the key as an
  asset: its creation (the recipe's step 5 `@action:created`), modification and deletion, and Datadog's
  token-leaked `Security Notification`, in one query instead of one per action;
- per candidate country XX the key was used from (and not allow-listed):
  `@network.client.geoip.country.iso_code:XX -@metadata.api_key.id:K` with `exists()` (a `page.limit: 1`
  request) over [window start − `org_learning_days`, window end): "has the org been reached from XX outside
  this key?". The key's own events are excluded, so the window itself can serve as learning period
  (Datadog retention often makes "before the window" empty). Answers are cached per source.
- `get_api_key(K)` when the source has it (the Datadog client and the demo do): name, created_at,
  created_by, last4, last use, leak information. Never the secret.

Files: `load_files_for_key` decodes only the items that mention the key (the decoder's byte-needle
prefilter), so a 200 MB export costs one scan, not a full decode. The org-country baseline then comes
from the raw bytes: for each candidate country, the input holds the JSON string `"XX"` more often than the
key's own events do ⇔ something else in the input came from XX (one memchr-speed scan per country at
worst; a second, needle-free decoding pass would cost ~10× more). A file is its own learning period: the
whole input outside this key, whatever `--from/--to` say (the report says so).
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ddaudit_tui.analysis.baseline import FirstSeenResult
from ddaudit_tui.analysis.detections.key_context import TravelInput, asn_key
from ddaudit_tui.analysis.detections.off_hours import off_bucket_starts
from ddaudit_tui.analysis.geo import valid_coordinates
from ddaudit_tui.analysis.key_engine import (
    DEFAULT_MAX_PAGES,
    DELETION_PAGES,
    EXACT_PAST_BUDGET,
    MAX_EVIDENCE_RANGES,
    MAX_NEW_VALUES,
    ROW_LIMIT,
    Aggregated,
    EvidencePart,
    aggregate_key,
    bucket_counts,
    budget_pages,
    burst_candidates,
    classed_cells,
    concurrency_ranges,
    count_key_events,
    deletions_query,
    endpoints_from_cells,
    evidence_parts,
    evidence_rows,
    first_seen_from_days,
    fs_asn_from_cells,
    merge_ranges,
    non_eyeball_networks,
    origins_from_cells,
    page_within,
    pages_needed,
    supports_ddsql,
    travel_input,
    travel_rows,
    validate_engine,
    zone_days,
)
from ddaudit_tui.analysis.keys import (
    NO_COUNTRY_BASELINE,
    CountryBaseline,
    KeyAnalysisConfig,
    KeyReport,
    analyze_key,
    country_key,
)
from ddaudit_tui.events.decode import DecodeError, decode_item, iter_decode
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import KIND_API, Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback, Source
from ddaudit_tui.sources.completeness import ENGINE_FILE, Completeness, metering
from ddaudit_tui.sources.files import InputError, read_input
from ddaudit_tui.timeutil import Window, fmt_ts

if TYPE_CHECKING:  # annotations only: the model needs pydantic (~0.1 s), kept off first paint (issue 12)
    from ddaudit_tui.sources.api_keys import ApiKeyInfo

DAY_MS = 86_400_000

_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX_SECRET = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$")


def validate_key_id(key_id: str) -> str:
    """The key's id, normalised (UUIDs lower-case, as Datadog writes them). Raises ValueError for an
    empty id, a key *secret* (32/40 hex characters: it must never travel in a query or a report), or
    characters no key id has (they would change the meaning of the search query)."""
    k = (key_id or "").strip()
    if not k:
        raise ValueError("no API key id given: pass the key's id (a UUID), e.g. from @metadata.api_key.id")
    if _HEX_SECRET.match(k):
        raise ValueError(
            "that looks like an API key itself (a hex secret), not its id: pass the key's id "
            "(a UUID, shown as @metadata.api_key.id), never the key"
        )
    if not _KEY_ID.match(k):
        raise ValueError(f"invalid API key id {clean(k, max_len=60)!r}: expected a UUID such as 9f3c2e71-…")
    return k.lower() if _UUID.match(k) else k


def key_query(key_id: str) -> str:
    return f"@metadata.api_key.id:{key_id}"


def asset_query(key_id: str) -> str:
    return f"@asset.type:api_key @asset.id:{key_id}"


def country_query(country: str, key_id: str) -> str:
    """ "Seen in the org from this country, outside this key?" — by ISO code, or by name without one."""
    if len(country) == 2 and country.isalpha():
        return f"@network.client.geoip.country.iso_code:{country.upper()} -@metadata.api_key.id:{key_id}"
    name = country.replace("\\", "\\\\").replace('"', '\\"')
    return f'@network.client.geoip.country.name:"{name}" -@metadata.api_key.id:{key_id}'


@dataclass(frozen=True)
class InvestigationOptions:
    """How the org baseline and related events are gathered (analysis parameters are in the config)."""

    country_allowlist: frozenset[str] = frozenset()
    learn_org_countries: bool = True
    org_learning_days: float = 30.0
    related_lookback_days: float = 90.0
    # Issue 16: how the key's events are read (`key_engine`): auto | search (paging) | ddsql (aggregates),
    # and the paging budget `auto` weighs and a refused DDSQL falls back to.
    engine: str = "search"
    max_pages: int = DEFAULT_MAX_PAGES

    def __post_init__(self) -> None:
        validate_engine(self.engine, self.max_pages)


async def investigate_key(
    source: Source,
    key_id: str,
    window: Window,
    *,
    config: KeyAnalysisConfig | None = None,
    options: InvestigationOptions | None = None,
    progress: ProgressCallback | None = None,
    now_ms: int | None = None,
) -> KeyReport:
    """Fetch everything the key lookup needs from `source` and analyse it."""
    key = validate_key_id(key_id)
    opts = options or InvestigationOptions()
    warnings: list[str] = []
    rel_window = Window(max(0, window.start - int(opts.related_lookback_days * DAY_MS)), window.end)
    # Everything asked below (the fetches, DDSQL, the key lookup, the existence checks) is counted by the meter.
    with metering() as meter:
        # With DDSQL the asset query is paged serially: one request when it fits a page (the time-sliced
        # fetch sends one per slice).
        serial = opts.engine != "search" and supports_ddsql(source)
        (main, agg, deletions, engine), (related, related_done), (info, status) = await asyncio.gather(
            _key_events(source, key, window, opts, warnings, progress, config),
            _fetch_related(source, key, rel_window, warnings, serial=serial),
            _api_key(source, key),
        )
        if agg is not None and not main.complete and len({e.id for e in main.events}) >= agg.aggregates.total:
            # The budget ended on a page with a cursor (the API may give one on its last page): the count says
            # every event is here.
            main = FetchResult(main.events, main.window, main.query, True, main.warnings, main.pages)
        warnings.extend(f"key events: {w}" for w in main.warnings)
        events = main.events
        complete = main.complete and not (agg is not None and agg.aggregates.truncated)
        if not main.complete and agg is None:
            warnings.append(
                "the key's events are incomplete (see the warnings above): findings may be missing"
            )
        total = agg.aggregates.total if agg is not None else len(events)
        if not total:
            warnings.append(
                f"no events for key {key} between {fmt_ts(window.start)} and {fmt_ts(window.end)}"
            )
        # The country baseline needs the key's countries only: the aggregate groups carry them all.
        countries_of = [c.event for c in agg.origin_cells] if agg is not None else events
        cfg = config or KeyAnalysisConfig()
        past = agg is not None and not main.complete
        early: _Early | None = None
        if agg is not None and past:
            # Past the budget the statements that need only the aggregates run beside the country checks.
            baseline, early = await asyncio.gather(
                country_baseline(source, key, countries_of, window, opts, warnings),
                _evidence_early(source, key, window, cfg, agg, warnings, progress),
            )
        else:
            baseline = await country_baseline(source, key, countries_of, window, opts, warnings)
        grouped = None
        burst_counts: dict[int, int] | None = None
        skip: frozenset[str] = frozenset()
        cells = None
        fs_asn = fs_ip = None
        hour_counts = None
        travel = None
        if agg is not None:
            grouped = (
                origins_from_cells(agg.origin_cells, baseline),
                endpoints_from_cells(agg.endpoint_cells, by_route=False),
                endpoints_from_cells(agg.endpoint_cells, by_route=True),
            )
            warnings.extend(agg.warnings)
            if early is not None:  # past the budget: exact inputs and bounded evidence for every flag
                cells = classed_cells(agg.origin_cells)
                extra, burst_counts, skip, fs_asn, fs_ip, hour_counts, travel = await _evidence(
                    key, window, cfg, agg, grouped[0], early, warnings
                )
                events = events + extra
                if skip:
                    warnings.append(
                        f"not evaluated on {len(main.events):,} of {agg.aggregates.total:,} events (the "
                        f"{opts.max_pages}-page budget; see the warnings above): {', '.join(sorted(skip))}"
                    )
                elif main.sample and not agg.aggregates.truncated:
                    # Every count and every flag is exact (DDSQL over every event, each flag's evidence
                    # fetched): the pages read are the timeline's sample by design, not a loss. Partial
                    # would say "counts are lower bounds" of exact counts and fail `--fail-on partial`.
                    main, complete = _sample_is_complete(main, events, agg.aggregates.total, warnings), True
    report = analyze_key(
        key,
        events,
        window=window,
        related=related,
        api_key=info,
        api_key_status=status,
        country_baseline=baseline,
        config=config,
        source_label=getattr(source, "label", ""),
        warnings=warnings,
        now_ms=now_ms,
        aggregated=grouped,
        deletions=deletions,
        burst_counts=burst_counts,
        skip_signals=skip,
        origin_cells=cells,
        fs_asn=fs_asn,
        hour_counts=hour_counts,
        fs_ip=fs_ip,
        travel=travel,
    )
    report.complete = complete
    report.engine = engine
    if agg is not None:
        report.aggregates = agg.aggregates
        report.first_seen, report.last_seen = agg.aggregates.first_seen, agg.aggregates.last_seen
        if agg.aggregates.total != len(report.events):
            report.matched_events = agg.aggregates.total
    completeness = Completeness.combine(
        [
            main.completeness.labelled("key events"),
            related_done.completeness.labelled("creation/notification events"),
        ],
        engine="search+ddsql" if engine == "ddsql" else engine,
    )
    if agg is not None:
        # DDSQL counted every event of the key (the creation/notification events were all fetched): what
        # matched, beside what was fetched; and the engine is said whatever the fetches' own records say.
        matched = agg.aggregates.total + related_done.completeness.events_fetched
        # Evidence samples and deletions travelled as DDSQL rows: fetched events too, beside the pages'.
        fetched = (
            len({e.id for e in (*events, *(deletions or ()))}) + related_done.completeness.events_fetched
        )
        completeness = replace(
            completeness,
            engine="search+ddsql",
            events_matched=matched,
            events_fetched=max(completeness.events_fetched, fetched),
        )
    if not complete:
        # What the fetches' own records cannot say: flags left out past the budget, DDSQL refused, a
        # group-by cut at the row limit (a page that failed is in the records already).
        skipped = [w for w in warnings if w.startswith(("not evaluated on", "DDSQL unavailable"))]
        if agg is not None and agg.aggregates.truncated:
            skipped.append("DDSQL row limit reached: the aggregates are cut")
        completeness = completeness.with_reasons(*skipped)
    lost = [
        w for w in warnings if w.startswith(("creation/notification events unavailable", "country baseline"))
    ]
    completeness = completeness.with_reasons(*lost)
    report.completeness = completeness.with_retention(
        window, getattr(source, "retention_days", None), now_ms
    ).timed(meter)
    return report


def _sample_is_complete(
    main: FetchResult, events: Sequence[Event], total: int, warnings: list[str]
) -> FetchResult:
    """`main` (the newest pages, stopped by the budget alone) as the complete sample it is; its budget
    line in `warnings` becomes what the timeline holds (`events`: those pages and the flags' evidence)."""
    budget_line = f"key events: {main.warnings[-1]}"
    held = len({e.id for e in events})
    notes = (
        [f"timeline: {held:,} of {total:,} events, the newest {len(main.events):,} and the flags' evidence "
         "(DDSQL counted every event)"]
        if held < total else []
    )  # fmt: skip
    warnings[:] = [n for w in warnings for n in (notes if w == budget_line else [w])]
    return FetchResult(
        main.events, main.window, main.query, True, [], main.pages,
        completeness=replace(main.completeness, partial=False, reasons=()),
    )  # fmt: skip


@dataclass
class _Early:
    """The first round of statements past the budget (`_evidence_early`), for `_evidence`."""

    dd: Any
    skip: set[str]
    counts: dict[int, int]
    cut: bool
    burst: list[tuple[int, int]]
    hours: tuple[dict[int, int], dict[str, set[int]]] | None
    off_ranges: list[Window]
    fs_asn: FirstSeenResult
    fs_ip: FirstSeenResult | None
    travel: Any = None
    out: list[Event] = field(default_factory=list)


async def _evidence_early(
    source: Source,
    key: str,
    window: Window,
    cfg: KeyAnalysisConfig,
    agg: Aggregated,
    warnings: list[str],
    progress: ProgressCallback | None = None,
) -> _Early:
    """Past the budget, what needs only the aggregates, sent together (beside the country checks): the
    burst candidates, the location changes for `impossible_travel`, and one statement for the first events
    of each VPN/proxy/hosting network and of each first-seen network and IP."""
    from ddaudit_tui.analysis.keys import KEY_DETECTIONS
    from ddaudit_tui.sources.ddsql import DdsqlClient, DdsqlError, progress_reporter

    skip = {d.name for d in KEY_DETECTIONS} - EXACT_PAST_BUDGET
    # The aggregate engine runs on a DatadogClient only; its waits for a running query show as progress.
    dd = DdsqlClient(source, report=progress_reporter(progress))  # type: ignore[arg-type]
    try:
        if agg.buckets is not None and agg.buckets[0] == cfg.burst_window_s:
            counts, cut = agg.buckets[1], agg.buckets[2]  # counted with the aggregates
        else:
            counts, cut = await bucket_counts(dd, key, window, cfg.burst_window_s)
    except DdsqlError as exc:
        warnings.append(f"burst not evaluated: DDSQL bucket counts failed ({_one_line(exc)})")
        counts, cut = {}, True
    if cut:
        skip.add("burst")
    daily = agg.daily
    if isinstance(daily, Exception):
        warnings.append(f"off_hours not evaluated: {_one_line(daily)}")
        daily = None
    size = cfg.burst_window_s * 1000
    hours: tuple[dict[int, int], dict[str, set[int]]] | None = None
    off_ranges: list[Window] = []
    if not cut and daily is not None and not daily[1] and (15 * 60_000) % size == 0:
        # each bucket inside one local quarter-hour: one slot, one day
        days = zone_days(daily[0], agg.origin_cells)
        if days is not None:
            hours = ({b * size: n for b, n in counts.items()}, days)
            starts_off = off_bucket_starts(cfg, hours[0], days, size)
            off_ranges = merge_ranges(((b, b + size) for b in starts_off), window)
    if hours is None:
        skip.add("off_hours")
    fs_asn, fs_ip, fs_parts = _first_seen(cfg, agg, skip, warnings, daily, agg.daily)
    nets = non_eyeball_networks(agg.origin_cells)
    parts = [EvidencePart(cfg.max_evidence, ips=tuple(ips)) for ips in nets] + [p for _, _, p in fs_parts]

    async def burst() -> tuple[list[tuple[int, int]], bool]:
        if cut:
            return [], True
        try:
            if agg.burst is None:  # not sent with the bucket counts (another burst window)
                return await burst_candidates(dd, key, window, counts, cfg)
            if isinstance(agg.burst, Exception):
                raise agg.burst
            return agg.burst
        except DdsqlError as exc:
            warnings.append(f"burst not evaluated: DDSQL burst candidates failed ({_one_line(exc)})")
            return [], True

    async def samples() -> list[list[Event]] | None:
        try:
            return await evidence_parts(dd, key, window, parts)
        except DdsqlError as exc:
            warnings.append(f"vpn_asn, hosting_asn and first-seen evidence not evaluated: {_one_line(exc)}")
            return None

    async def travel() -> Any:
        if not agg.aggregates.truncated and not any(
            not cls.non_eyeball and valid_coordinates(e.lat, e.lon)
            for e, cls, *_ in classed_cells(agg.origin_cells)
        ):
            # No eyeball location in any origins group: no baseline, so no hop can be flagged.
            return TravelInput([], {})
        try:
            runs = await travel_rows(dd, key, window)
            got, why = await travel_input(dd, key, window, cfg, runs)
        except DdsqlError as exc:
            got, why = None, _one_line(exc)
        if got is None:
            warnings.append(f"impossible_travel not evaluated: {why}")
            skip.add("impossible_travel")
        return got

    (starts, burst_cut), got, travel_in = await asyncio.gather(burst(), samples(), travel())
    early = _Early(dd, skip, counts, cut, [], hours, off_ranges, fs_asn, fs_ip, travel_in)
    if burst_cut:
        skip.add("burst")
    else:
        early.burst = starts
    if got is None:
        skip |= {"vpn_asn", "hosting_asn"} | {signal for signal, _, _ in fs_parts}
    else:
        for events in got[: len(nets)]:
            early.out += events
        for (signal, nv, _), events in zip(fs_parts, got[len(nets) :], strict=True):
            value_of = asn_key if signal == "first_seen_asn" else (lambda e: e.client_ip)
            fs = fs_asn if signal == "first_seen_asn" else fs_ip
            assert fs is not None
            later = [o.first_ts for o in fs.new if o.value == nv.value and o.first_ts > nv.first_ts]
            until = min(later) if later else None
            mine = [e for e in events if value_of(e) == nv.value and (until is None or e.ts < until)]
            nv.event_ids = [e.id for e in mine]
            early.out.extend(mine)
            if not mine:
                skip.add(signal)  # its first events could not be found: the flag could not cite them
    return early


async def _evidence(
    key: str,
    window: Window,
    cfg: KeyAnalysisConfig,
    agg: Aggregated,
    origins: list[Any],
    early: _Early,
    warnings: list[str],
) -> tuple[
    list[Event],
    dict[int, int] | None,
    frozenset[str],
    FirstSeenResult,
    FirstSeenResult | None,
    tuple[dict[int, int], dict[str, set[int]]] | None,
    Any,
]:
    """Past the budget, the second round: the events the exact flags must see, as DDSQL rows — one
    statement for the candidate burst intervals, the 30-minute buckets where `concurrent_ips` could flag
    and the off-hours buckets, one for the first `max_evidence` events of each new country (sent together).
    Returns (events, burst counts, detections to skip, first-seen networks and IPs, hour counts, the
    `impossible_travel` input)."""
    from ddaudit_tui.sources.ddsql import DdsqlError

    dd, skip, out = early.dd, early.skip, list(early.out)
    bucket_ms = cfg.concurrency_bucket_s * 1000
    wanted = [
        *merge_ranges(early.burst, window),
        *merge_ranges(concurrency_ranges(agg.halves, bucket_ms), window),
        *early.off_ranges,
    ]
    ranges = merge_ranges(((w.start, w.end) for w in wanted), window)
    whole = {"burst", "concurrent_ips", "off_hours"}
    if len(ranges) > MAX_EVIDENCE_RANGES:
        warnings.append(
            f"burst, concurrent_ips and off_hours not evaluated: {len(ranges):,} candidate intervals (at most "
            f"{MAX_EVIDENCE_RANGES} are fetched)"
        )
        skip |= whole
        ranges = []
    new = [o.country for o in origins if o.status == "new" and o.country]

    async def intervals() -> None:
        if not ranges:
            return
        try:
            got, truncated = await evidence_rows(dd, key, window, ranges=ranges)
        except DdsqlError as exc:
            skip.update(whole)
            warnings.append(f"burst, concurrent_ips and off_hours not evaluated: {_one_line(exc)}")
            return
        out.extend(got)
        if truncated:
            skip.update(whole)
            warnings.append(
                f"burst, concurrent_ips and off_hours not evaluated: their intervals hold over {ROW_LIMIT:,} events"
            )

    async def countries() -> None:
        try:
            got = await evidence_parts(
                dd, key, window, [EvidencePart(cfg.max_evidence, country=c) for c in new]
            )
        except DdsqlError as exc:
            skip.add("new_country")
            warnings.append(
                f"new_country not evaluated: evidence for {', '.join(new)} failed ({_one_line(exc)})"
            )
            return
        for events in got:
            out.extend(events)

    await asyncio.gather(intervals(), countries())
    hours = early.hours if "off_hours" not in skip else None
    counts = early.counts if "burst" not in skip else None
    travel = early.travel if "impossible_travel" not in skip else None
    return out, counts, frozenset(skip), early.fs_asn, early.fs_ip, hours, travel


def _first_seen(
    cfg: KeyAnalysisConfig,
    agg: Aggregated,
    skip: set[str],
    warnings: list[str],
    daily: tuple[list[Any], bool] | None,
    failed: Any = None,
) -> tuple[FirstSeenResult, FirstSeenResult | None, list[tuple[str, Any, EvidencePart]]]:
    """First-seen networks and IPs from the use per IP, network and day (`daily_cells`), and the evidence
    sample each new value needs (its first events: signal, new value, part). Falls back to the network
    baseline alone, the two flags skipped."""
    learning_ms = int(cfg.learning_days * DAY_MS)
    forget_ms = int(cfg.forget_days * DAY_MS) if cfg.forget_days else None
    fallback = fs_asn_from_cells(agg.origin_cells, learning_ms)
    both = {"first_seen_ip", "first_seen_asn"}
    if forget_ms is not None and forget_ms < DAY_MS:
        skip |= both
        return fallback, None, []
    if daily is None:
        reason = _one_line(failed) if isinstance(failed, Exception) else "no use per day"
        warnings.append(f"first_seen_ip and first_seen_asn not evaluated: {reason}")
        skip |= both
        return fallback, None, []
    rows, cut = daily
    if cut:
        warnings.append(f"first_seen_ip and first_seen_asn not evaluated: over {ROW_LIMIT:,} network-days")
        skip |= both
        return fallback, None, []
    fs_asn = first_seen_from_days(((asn_key(e), n, lo, hi) for e, n, lo, hi in rows), learning_ms, forget_ms)
    fs_ip = first_seen_from_days(
        ((e.client_ip, n, lo, hi) for e, n, lo, hi in rows), learning_ms, forget_ms, fs_asn.learning_start
    )
    parts: list[tuple[str, Any, EvidencePart]] = []
    for signal, fs, value_of in (
        ("first_seen_asn", fs_asn, asn_key),
        ("first_seen_ip", fs_ip, lambda e: e.client_ip),
    ):
        if len(fs.new) > MAX_NEW_VALUES:
            warnings.append(
                f"{signal} not evaluated: {len(fs.new)} new values (at most {MAX_NEW_VALUES} are fetched)"
            )
            skip.add(signal)
            continue
        for nv in fs.new:
            ips = tuple(sorted({e.client_ip for e, *_ in rows if e.client_ip and value_of(e) == nv.value}))
            parts.append((signal, nv, EvidencePart(cfg.max_evidence, ips=ips, since=nv.first_ts)))
    return fs_asn, fs_ip, parts


async def _key_events(
    source: Source,
    key: str,
    window: Window,
    opts: InvestigationOptions,
    warnings: list[str],
    progress: ProgressCallback | None,
    cfg: KeyAnalysisConfig | None = None,
) -> tuple[FetchResult, Aggregated | None, list[Event] | None, str]:
    """The key's events by the engine asked for: (events, DDSQL aggregates, deletions, engine used)."""
    query = key_query(key)
    if opts.engine == "search" or not supports_ddsql(source):
        from ddaudit_tui.sources.files import FileSource

        engine = "file" if isinstance(source, KeyFileSource | FileSource) else "search"
        return await source.fetch(query, window, progress), None, None, engine
    from ddaudit_tui.sources.ddsql import DdsqlClient, DdsqlError, progress_reporter

    # supports_ddsql: a DatadogClient. Its waits for a running query show as progress.
    dd = DdsqlClient(source, report=progress_reporter(progress))  # type: ignore[arg-type]
    try:
        count = await count_key_events(dd, key, window)
        past = pages_needed(count.total, source.page_limit) > opts.max_pages  # type: ignore[attr-defined]
        if opts.engine == "auto" and not past:
            return await source.fetch(query, window, progress), None, None, "search"
        # The group-bys and the two pagings are independent: sent together, their round trips overlap.
        results = await asyncio.gather(
            aggregate_key(
                dd, key, window, count, daily=past, burst_cfg=(cfg or KeyAnalysisConfig()) if past else None
            ),
            page_within(source, query, window, budget_pages(count.total, source.page_limit, opts.max_pages)),  # type: ignore[attr-defined]
            page_within(source, deletions_query(key), window, DELETION_PAGES),
            return_exceptions=True,  # a refused group-by falls back below, once the pagings are done
        )
        for r in results:
            if isinstance(r, BaseException):
                raise r
        agg, main, dels = results
    except DdsqlError as exc:  # refused (403, not enabled, no endpoint), timed out, or a statement it rejects
        warnings.append(
            f"DDSQL unavailable ({_one_line(exc)}): paging within the budget of {opts.max_pages} pages instead"
        )
        return await page_within(source, query, window, opts.max_pages), None, None, "search"
    if not dels.complete:
        warnings.append("the key's deletions are incomplete: " + "; ".join(dels.warnings[:2]))
    return main, agg, dels.events, "ddsql"


async def _fetch_related(
    source: Source, key: str, window: Window, warnings: list[str], *, serial: bool = False
) -> tuple[list[Event], FetchResult]:
    try:
        if serial:
            result = await page_within(source, asset_query(key), window, DELETION_PAGES)
        else:
            result = await source.fetch(asset_query(key), window)
    except Exception as exc:  # the creation and notification events enrich the report; never fatal
        warnings.append(f"creation/notification events unavailable: {_one_line(exc)}")
        return [], FetchResult(events=[], window=window, query=asset_query(key))  # the reason: its warning
    warnings.extend(f"creation/notification events: {w}" for w in result.warnings)
    return result.events, result


async def _api_key(source: Source, key: str) -> tuple[ApiKeyInfo | None, str]:
    get = getattr(source, "get_api_key", None)
    if get is None:
        return None, "not available from this source"
    try:
        info = await get(key)
    except Exception as exc:  # e.g. 403 without api_keys_read: the audit trail still answers the question
        return None, f"error: {_one_line(exc)}"
    if info is None:
        return None, "not found (revoked, or never existed in this org)"
    return info, "found"


def _one_line(exc: BaseException) -> str:
    return clean(str(exc) or type(exc).__name__, max_len=300)


# -- the org's country baseline -----------------------------------------------------------------------

_EXISTS_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, int, int], bool]] = weakref.WeakKeyDictionary()


async def _cached_exists(source: Any, query: str, window: Window) -> bool:
    """`source.exists` (or the client's `count_exists`), cached per source for the session."""
    fn = getattr(source, "exists", None) or getattr(source, "count_exists", None)
    if fn is None:
        raise NotImplementedError(
            f"{getattr(source, 'label', 'this source')} cannot answer existence queries"
        )
    try:
        cache = _EXISTS_CACHE.setdefault(source, {})
    except TypeError:  # not weak-referenceable: no cache, still correct
        cache = {}
    k = (query, window.start, window.end)
    if k not in cache:
        cache[k] = bool(await fn(query, window))
    return cache[k]


async def country_baseline(
    source: Source,
    key_id: str,
    events: Iterable[Event],
    window: Window,
    options: InvestigationOptions,
    warnings: list[str],
) -> CountryBaseline:
    """Which of the key's countries the org knows: allowlist and/or pushed-down existence checks."""
    allow = frozenset(c.strip().upper() for c in options.country_allowlist if c.strip())
    candidates = sorted({k for k in (country_key(e) for e in events) if k is not None})
    to_check = [c for c in candidates if c.upper() not in allow] if options.learn_org_countries else []
    seen: dict[str, bool | None] = {}
    learned = options.learn_org_countries
    checker = getattr(source, "country_seen_outside_key", None)
    learn = Window(max(0, window.start - int(options.org_learning_days * DAY_MS)), window.end)
    if checker is not None:
        learned_desc = checker_description(source)
    else:
        learned_desc = (
            f"countries seen in the org outside this key from {fmt_ts(learn.start)} to {fmt_ts(learn.end)} "
            f"(one existence query per country)"
        )
    if to_check and checker is not None:
        seen.update(checker(to_check, key_id))
    elif to_check:
        results = await asyncio.gather(
            *(_cached_exists(source, country_query(c, key_id), learn) for c in to_check),
            return_exceptions=True,
        )
        failed = []
        for c, r in zip(to_check, results, strict=True):
            if isinstance(r, BaseException):
                seen[c] = None
                failed.append(f"{c} ({_one_line(r)})")
            else:
                seen[c] = r
        if failed:
            warnings.append("country baseline unavailable for " + "; ".join(failed))
    if allow and learned:
        mode = "allowlist+learned"
    elif allow:
        mode = "allowlist"
    elif learned:
        mode = "learned"
    else:
        return NO_COUNTRY_BASELINE
    parts = []
    if allow:
        parts.append("configured allowlist " + ", ".join(sorted(allow)))
    if learned:
        parts.append(learned_desc)
    checked = "; ".join(
        f"{c}: {'seen' if v else 'not seen' if v is False else 'unknown'}" for c, v in seen.items()
    )
    desc = " + ".join(parts) + (f" — {checked}" if checked else "")
    return CountryBaseline(mode, desc, allow, seen)


def checker_description(source: Any) -> str:
    describe = getattr(source, "baseline_description", None)
    return describe() if callable(describe) else "countries seen in the input outside this key"


# -- files: decode only what mentions the key ------------------------------------------------------------


@dataclass
class _Buffer:
    name: str
    data: bytes
    events: list[Event] = field(default_factory=list)  # what the needle decoded from this buffer


class KeyFileSource:
    """A Source over input files for one key lookup: only the items that mention the key are decoded.

    `fetch` answers from those items (exact for the key's own queries); `exists` is exact but decodes
    the whole input (slow: the key lookup uses `country_seen_outside_key` instead).
    """

    def __init__(self, buffers: list[_Buffer], key_id: str, label: str) -> None:
        self._buffers = buffers
        self.key_id = key_id
        self.label = label
        self.store = EventStore()
        for b in buffers:
            self.store.extend(b.events)

    def default_window(self) -> Window | None:
        return self.store.span()

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        q = parse_query(query)
        events = [e for e in self.store.events if window.start <= e.ts < window.end]
        if not q.is_match_all:
            events = q.filter(events)
        if progress is not None:
            progress(Progress(events=len(events), pages=1, slices_done=1, slices_total=1))
        warnings = []
        if self.key_id.lower() not in query.lower():
            warnings.append(f"only the input's events that mention key {self.key_id} were loaded")
        completeness = Completeness(engine=ENGINE_FILE, events_fetched=len(events))
        return FetchResult(
            events=events, window=window, query=query, pages=1, warnings=warnings, completeness=completeness
        )

    async def exists(self, query: str, window: Window) -> bool:
        q = parse_query(query)
        for b in self._buffers:
            for e in iter_decode(b.data, b.name):
                if window.start <= e.ts < window.end and q.matches(e):
                    return True
        return False

    def country_seen_outside_key(self, countries: Iterable[str], key_id: str) -> dict[str, bool]:
        """For each country key (ISO code or name): does anything in the input other than this key's own
        events carry it? The country's JSON string (`"RO"`, `"Romania"`) is counted in the raw bytes —
        whatever the whitespace style of the file — and compared with its count in the key's own events,
        per file, so an event present in two overlapping files cannot pass for someone else's."""
        want = key_id.lower()
        out: dict[str, bool] = {}
        for country in countries:
            token = _country_token(country)
            found = False
            for b in self._buffers:
                own = sum(e.raw.count(token) for e in b.events if (e.api_key_id or "").lower() == want)
                if _count_at_least(b.data, token, own + 1):
                    found = True
                    break
            out[country] = found
        return out

    def baseline_description(self) -> str:
        # Base names only: the report may be mailed, local directory names are nobody's business.
        names = ", ".join(Path(b.name).name for b in self._buffers[:3]) + (
            " …" if len(self._buffers) > 3 else ""
        )
        return f"countries in the input ({names}) outside this key (the whole input is the learning period)"

    async def aclose(self) -> None:
        for b in self._buffers:
            b.data = b""  # the raw input is only needed for baselines; let it go


def _country_token(country: str) -> bytes:
    """The JSON string of a country key: `"RO"` (ISO codes are upper case in geoip) or `"Romania"`."""
    return msgspec.json.encode(country.upper() if len(country) == 2 and country.isalpha() else country)


def _count_at_least(data: bytes, token: bytes, n: int) -> bool:
    """Whether `token` occurs at least `n` times in `data` — stops as soon as it does (one memchr-speed
    scan at worst: ~0.1 s for 270 MB)."""
    if n <= 0:
        return True
    count = 0
    i = data.find(token)
    while i != -1:
        count += 1
        if count >= n:
            return True
        i = data.find(token, i + len(token))
    return False


class _Envelope(msgspec.Struct, gc=False):
    data: list[msgspec.Raw] | None = None
    status: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def decode_mentioning(data: bytes, name: str, needle: bytes) -> list[Event]:
    """The events of `data` whose raw JSON contains `needle`.

    Fast path for the common `{"data": [...]}` document (API page, `pup -o json`): one parse into raw
    items, a byte search per item, and only the matches decoded. `iter_decode(needle=…)` does the same
    after probing the shape with a first full parse; that probe is a third of the cost on a 200 MB file.
    Any other shape, or any problem, goes through `iter_decode`, which also gives the precise error.
    """
    if data.lstrip()[:1] == b"{":
        try:
            env = _ENVELOPE.decode(data)
        except (msgspec.DecodeError, RecursionError):  # NDJSON, another shape, broken: iter_decode decides
            env = None
        if env is not None and env.data is not None and env.status in (None, "success", "ok"):
            find = re.compile(re.escape(needle)).search
            try:
                if env.data and find(env.data[0]) is None:  # check the shape even when nothing matches
                    decode_item(bytes(env.data[0]), name, KIND_API)
                return [decode_item(bytes(raw), name, KIND_API) for raw in env.data if find(raw)]
            except Exception:  # an item that is not audit data: let iter_decode report where
                pass
    return list(iter_decode(data, name, needle=needle))


def load_files_for_key(paths: list[str], key_id: str) -> KeyFileSource:
    """Read input files (or '-' for stdin) and decode only the items mentioning `key_id`."""
    key = validate_key_id(key_id)
    needle = key.encode()
    buffers: list[_Buffer] = []
    for path in paths:
        name, data = read_input(path)
        try:
            events = decode_mentioning(data, name, needle)
        except DecodeError as exc:
            raise InputError(str(exc)) from None
        buffers.append(_Buffer(name, data, events))
    names = ["stdin" if p == "-" else Path(p).name for p in paths]
    label = names[0] if len(names) == 1 else f"{len(names)} files"
    return KeyFileSource(buffers, key, label)


__all__ = [
    "InvestigationOptions",
    "KeyFileSource",
    "asset_query",
    "country_baseline",
    "country_query",
    "investigate_key",
    "key_query",
    "load_files_for_key",
    "validate_key_id",
]
