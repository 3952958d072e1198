"""The spike watch's poller: fetch, detect, page, persist — on a timer, forever, without crashing.

Each poll fetches `[last polled − overlap, now]` (absolute times from one clock reading,
datadog-api.md §1.7) with ONE query — the rules' queries OR-ed — folds the events into the engine
(duplicates from the overlap dropped by id), closes quiet alerts, pages new ones, resolves ended ones
(optional), and saves the state. A failed fetch marks the data stale and backs off (1×, 2×, 4× the
interval, capped); the next good poll catches up from the last good one, so nothing is missed.

Driving it (the TUI pane or the headless command):

    poller = Poller(source, rules, interval_s=30, window_s=900, on_snapshot=render)
    poller.start()            # background task; or `await poller.run()`
    poller.request_poll()     # `r`: poll now (wakes the timer)
    poller.interval_s = 60    # reschedules the next poll
    poller.window_s = 1800    # the default rule window / the table's window
    async for snap in poller.snapshots(): ...   # latest-wins stream of WatchSnapshot
    await poller.stop()

Pausing is the view's business: a pane that pauses rendering keeps the poller running, so collection
and paging never stop (tui-practice.md §1.2). Time and sleep are injectable (`clock`, `sleep`) so tests
never wait; `replay()` drives the same poller over a file with a simulated clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from bisect import bisect_left
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddaudit_tui.alerts.pagerduty import DryRunPager, Pager, build_resolve, build_trigger
from ddaudit_tui.alerts.state import StateError
from ddaudit_tui.analysis.spikes import (
    DEFAULT_LATENESS_MS,
    ActorRow,
    Alert,
    PageStatus,
    Rule,
    SpikeEngine,
    union_query,
)
from ddaudit_tui.events.record import Event
from ddaudit_tui.safetext import clean
from ddaudit_tui.sources.base import FetchResult, Progress, ProgressCallback, Source
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import Window, human_duration

__all__ = ["PollOutcome", "Poller", "ReplayResult", "WatchSnapshot", "replay"]

log = logging.getLogger("ddaudit.watch")

DEFAULT_INTERVAL_S = 300.0  # headless, as in the workflow; the TUI uses 30 s
TUI_INTERVAL_S = 30.0
DEFAULT_WINDOW_S = 900.0
DEFAULT_OVERLAP_S = 120.0
DEFAULT_MAX_CATCH_UP_S = 86_400.0
MAX_BACKOFF_S = 600.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class WatchSnapshot:
    """Everything the pane renders, immutable (alerts are detached copies)."""

    rules: tuple[Rule, ...]
    window_s: float
    interval_s: float
    rows: tuple[ActorRow, ...]  # per-actor counts per rule in the current window, hot first
    series_start_ms: int  # the first minute of the sparklines
    series: tuple[int, ...]  # matched events per minute, oldest first
    actor_series: Mapping[str, tuple[int, ...]]  # per hot actor
    alerts: tuple[Alert, ...]  # newest first: open ones and those closed within the retention
    watermark_ms: int | None
    last_success: float | None  # epoch seconds of the last poll that fetched its whole window
    last_attempt: float | None
    next_poll: float | None
    polling: bool
    stale: bool
    error: str | None
    warnings: tuple[str, ...]
    activity: str  # progress text while polling ("rate limited, retrying in 3 s")
    events_total: int  # distinct matched events so far (a paused pane shows the difference)
    polls: int
    consecutive_failures: int
    # The last poll's completeness (engine, requests, events, partial reasons, rate limit): the report says
    # it like every other report. None before the first poll.
    completeness: Completeness | None = None

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.is_open]


@dataclass
class PollOutcome:
    """What one poll did."""

    window: Window | None = None
    fetched: int = 0
    new_events: int = 0
    opened: list[Alert] = field(default_factory=list)
    closed: list[Alert] = field(default_factory=list)
    paged: list[Alert] = field(default_factory=list)  # triggers sent (or dry-run) during this poll
    resolved: list[Alert] = field(default_factory=list)
    page_failures: list[tuple[Alert, str]] = field(default_factory=list)
    # Alerts whose page PagerDuty has not accepted, after this poll: queued (retried next poll) or refused
    # (400: retried once the PagerDuty configuration changes). Never empty while an alert is undelivered.
    undelivered: list[Alert] = field(default_factory=list)
    state_error: str | None = None  # the state could not be written (e.g. No space left on device: …)
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = None
    completeness: Completeness | None = None  # the fetch's; a failed poll's says why it is partial

    @property
    def ok(self) -> bool:
        return self.error is None


class Poller:
    """Polls a Source on a timer and runs the spike engine. See the module docstring."""

    def __init__(
        self,
        source: Source,
        rules: Sequence[Rule],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        window_s: float = DEFAULT_WINDOW_S,
        overlap_s: float = DEFAULT_OVERLAP_S,
        first_lookback_s: float | None = None,
        first_start_ms: int | None = None,
        max_catch_up_s: float = DEFAULT_MAX_CATCH_UP_S,
        state: Any = None,  # WatchState (kept loose so tests can pass a fake)
        save_state: bool = True,
        pager: Pager | None = None,
        resolve: bool = False,
        site: str | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        on_snapshot: Callable[[WatchSnapshot], None] | None = None,
        on_poll: Callable[[PollOutcome], None] | None = None,
        progress: ProgressCallback | None = None,
        series_minutes: int = 60,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        if interval_s <= 0 or window_s <= 0 or overlap_s < 0:
            raise ValueError("interval and window must be positive, overlap not negative")
        self.source = source
        self.rules = tuple(r for r in rules if r.enabled)
        self._rule_by_name = {r.name: r for r in self.rules}
        self.query = union_query(self.rules)
        self.overlap_ms = int(overlap_s * 1000)
        self.engine = SpikeEngine(
            self.rules,
            window_ms=int(window_s * 1000),
            lateness_ms=max(DEFAULT_LATENESS_MS, 2 * self.overlap_ms),
            series_minutes=series_minutes,
        )
        self._interval_s = float(interval_s)
        self._window_s = float(window_s)
        self.first_lookback_ms = int(first_lookback_s * 1000) if first_lookback_s is not None else None
        self._first_start_ms = first_start_ms
        self.max_catch_up_ms = int(max_catch_up_s * 1000)
        self.state = state
        self.save_state = save_state
        self.pager = pager
        self.resolve = resolve
        self.site = site
        self._clock = clock
        self._sleep = sleep
        self.on_snapshot = on_snapshot
        self.on_poll = on_poll
        self._progress_cb = progress
        self.max_backoff_s = max_backoff_s

        self.last_polled_ms: int | None = None
        self.last_success: float | None = None
        self.last_attempt: float | None = None
        self.next_poll: float | None = None
        self.polling = False
        self.polls = 0
        self.consecutive_failures = 0
        self.error: str | None = None
        self.warnings: tuple[str, ...] = ()
        self.completeness: Completeness | None = None  # the last poll's
        self.activity = ""
        self._stale = False
        self._stopping = False
        self._poll_requested = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._subscribers: list[asyncio.Queue[WatchSnapshot]] = []
        self._refusals: dict[str, str | None] = {}  # dedup key -> pager fingerprint that refused it

        if state is not None:
            saved = state.load()
            if saved is not None:
                self.engine.restore(saved)
            self.last_polled_ms = state.last_polled

    # -- settings the pane changes -------------------------------------------------------------------

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @interval_s.setter
    def interval_s(self, value: float) -> None:
        if value <= 0:
            raise ValueError("interval must be positive")
        self._interval_s = float(value)
        if self.next_poll is not None:
            self._schedule_next()
        self._wake.set()  # the timer re-reads next_poll

    @property
    def window_s(self) -> float:
        return self._window_s

    @window_s.setter
    def window_s(self, value: float) -> None:
        if value <= 0:
            raise ValueError("window must be positive")
        self._window_s = float(value)
        self.engine.set_window(int(value * 1000))
        self._emit()

    # -- running -------------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Run the loop in a background task (the TUI keeps it running while other panes show)."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="ddaudit-watch-poller")
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def request_poll(self) -> None:
        """Poll as soon as possible (the pane's `r`). A poll in progress finishes first."""
        self._poll_requested = True
        self._wake.set()

    async def run(self, max_polls: int | None = None, *, wait_first: bool = False) -> None:
        """Poll, wait, repeat, until `stop()` (or `max_polls`). Never raises but for cancellation.
        `wait_first`: start with a wait (the caller has just polled)."""
        done = 0
        self._stopping = False
        if wait_first:
            self._schedule_next()
            await self._wait()
        while not self._stopping:
            try:
                await self.poll_now()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or an unwritable state DB: report it, back off, keep watching
                log.exception("watch poll failed")
                self._failed(f"internal error: {type(exc).__name__}: {clean(str(exc), max_len=200)}")
            done += 1
            if max_polls is not None and done >= max_polls:
                break
            self._schedule_next()
            await self._wait()

    def _schedule_next(self) -> None:
        base = self.last_attempt if self.last_attempt is not None else self._clock()
        self.next_poll = base + self._delay()
        self._emit()

    def _delay(self) -> float:
        """The interval; after failures 2×, 4×, … the interval, capped (never faster than normal)."""
        if self.consecutive_failures <= 0:
            return self._interval_s
        backoff = self._interval_s * 2 ** min(self.consecutive_failures - 1, 16)
        return min(backoff, max(self._interval_s, self.max_backoff_s))

    async def _wait(self) -> None:
        while not self._stopping and not self._poll_requested:
            remaining = (self.next_poll or 0) - self._clock()
            if remaining <= 0:
                break
            self._wake.clear()
            sleeper = asyncio.ensure_future(self._sleep(remaining))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
        self._poll_requested = False

    # -- one poll --------------------------------------------------------------------------------------

    def _fetch_window(self, now_ms: int, outcome: PollOutcome) -> Window:
        if self._first_start_ms is not None:
            start = self._first_start_ms
            self._first_start_ms = None
        elif self.last_polled_ms is not None:
            start = self.last_polled_ms - self.overlap_ms
            if now_ms - start > self.max_catch_up_ms:
                outcome.warnings.append(
                    f"last poll was {human_duration(now_ms - self.last_polled_ms)} ago: catching up on the last "
                    f"{human_duration(self.max_catch_up_ms)} only"
                )
                start = now_ms - self.max_catch_up_ms
        else:
            lookback = self.first_lookback_ms or self.engine.max_window_ms() + self.overlap_ms
            start = now_ms - lookback
        return Window(min(start, now_ms), now_ms)

    async def poll_now(self) -> PollOutcome:
        """One poll, now. Source errors are caught (the outcome says what failed); the data goes stale."""
        async with self._lock:
            outcome = PollOutcome()
            now_s = self._clock()
            now_ms = round(now_s * 1000)
            self.last_attempt = now_s
            self.polling = True
            self.activity = "fetching…"
            self._emit()
            try:
                window = self._fetch_window(now_ms, outcome)
                outcome.window = window
                try:
                    result: FetchResult = await self.source.fetch(self.query, window, self._on_progress)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # API down, rate limited past every wait, auth revoked…
                    outcome.error = clean(str(exc), max_len=300) or type(exc).__name__
                    outcome.exception = exc
                    outcome.completeness = self.completeness = Completeness(
                        engine=self.completeness.engine if self.completeness else "search",
                        partial=True,
                        reasons=(f"poll failed: {outcome.error}",),
                    )
                    self._failed(outcome.error)
                    self.polls += 1
                    return outcome
                outcome.fetched = len(result.events)
                before = self.engine.events_total
                changes = self.engine.ingest(result.events)
                outcome.new_events = self.engine.events_total - before
                outcome.complete = result.complete
                outcome.completeness = self.completeness = result.completeness
                outcome.warnings.extend(result.warnings)
                if result.complete:
                    # Only a whole window moves the mark: after a partial one the next poll re-fetches it.
                    changes += self.engine.advance(now_ms)
                    self.last_polled_ms = now_ms
                for ch in changes:
                    if ch.kind == "opened":
                        self._decide_page(ch.alert)
                        outcome.opened.append(ch.alert)
                    elif ch.kind == "closed":
                        outcome.closed.append(ch.alert)
                await self._send_pages(outcome)
                if self.resolve:
                    await self._send_resolves(outcome)
                self.polls += 1
                if result.complete:
                    self.last_success = now_s
                    self.consecutive_failures = 0
                    self.error = None
                    self._stale = False
                else:
                    # The API answered: what is missing is in the warnings. An earlier poll's error left in
                    # place would make the pane say "poll failed" about a poll that fetched events.
                    self.consecutive_failures = 0
                    self.error = None
                    self._stale = True
                self.warnings = tuple(outcome.warnings)
                if self.state is not None and self.save_state:
                    # If this fails, memory is still ahead of the disk; the next save catches up. The pages
                    # sent are already recorded one by one: a re-fetched burst is not paged again.
                    try:
                        self.state.save(self.engine.export_state(), self.last_polled_ms)
                    except StateError as exc:
                        outcome.state_error = outcome.state_error or str(exc)
                if outcome.state_error is not None:
                    # The pane shows the poller's warnings; the headless command prints state_error.
                    self.warnings = (*self.warnings, f"watch state: {outcome.state_error}")
                return outcome
            finally:
                self.polling = False
                self.activity = ""
                if self.on_poll is not None:
                    self._call(self.on_poll, outcome)
                self._emit()

    def _failed(self, message: str) -> None:
        self.consecutive_failures += 1
        self.error = message
        self._stale = True

    def _on_progress(self, p: Progress) -> None:
        self.activity = p.message or f"fetching… {p.events:,} events"
        if self._progress_cb is not None:
            self._progress_cb(p)

    # -- paging ----------------------------------------------------------------------------------------

    def _decide_page(self, alert: Alert) -> None:
        if alert.page_status != PageStatus.NEW:
            return
        rule = self._rule_by_name.get(alert.rule)
        if rule is not None and not rule.page:
            alert.page_status = PageStatus.DISABLED
        elif self.pager is None:
            alert.page_status = PageStatus.OFF
        else:
            alert.page_status = PageStatus.PENDING

    def _pager_fingerprint(self) -> str | None:
        return getattr(self.pager, "fingerprint", None)

    def _retry_refused(self, alert: Alert) -> bool:
        """A page PagerDuty refused (400) is sent again once its configuration changed (routing key or
        URL): the same payload to the same configuration would be refused again."""
        if alert.dedup_key in self._refusals:
            return self._refusals[alert.dedup_key] != self._pager_fingerprint()
        stored = self.state.refused_by(alert.dedup_key) if self.state is not None else None
        # Refused before refusals were remembered (or state lost): try once more, which records it.
        return stored is None or stored[0] != self._pager_fingerprint()

    async def _send_pages(self, outcome: PollOutcome) -> None:
        """Trigger every pending alert, oldest first. A page that failed for a passing reason stays
        pending and is retried next poll (queued, never dropped); a refused one (400) is retried once the
        PagerDuty configuration has changed. Each page is recorded before it is sent: if it cannot be
        recorded it is not sent (it could not be recognised next time, and would be sent twice)."""
        if self.pager is None:
            return
        alerts = self.engine.alerts()
        refused = [a for a in alerts if a.page_status == PageStatus.FAILED and self._retry_refused(a)]
        for alert in refused:
            alert.page_status = PageStatus.PENDING
        pending = [a for a in alerts if a.page_status == PageStatus.PENDING]
        unwell = False
        for alert in reversed(pending):
            if self._remembered(alert.dedup_key, "trigger"):
                alert.page_status = PageStatus.SENT  # sent before a restart: never twice
                alert.page_error = None
                continue
            if unwell:
                continue  # PagerDuty is unwell: the rest stays queued for the next poll
            body = build_trigger(
                alert,
                self._rule_by_name.get(alert.rule),
                source=self.source.label,
                site=self.site,
                window_ms=self.engine.window_ms,
            )
            dry = isinstance(self.pager, DryRunPager)
            if not dry:
                try:
                    self._remember(alert.dedup_key, "trigger", None)  # sending
                except StateError as exc:
                    message = f"not sent: the page could not be recorded first ({exc})"
                    alert.page_error = message
                    outcome.page_failures.append((alert, message))
                    outcome.state_error = outcome.state_error or str(exc)
                    continue
            result = await self.pager.send(body)
            if result.dry_run:
                alert.page_status = PageStatus.DRY_RUN
                outcome.paged.append(alert)
            elif result.ok:
                alert.page_status = PageStatus.SENT
                alert.page_error = None
                outcome.paged.append(alert)
                try:
                    self._remember(alert.dedup_key, "trigger", result.status)
                except StateError as exc:  # the "sending" row stands: it counts as sent
                    outcome.state_error = outcome.state_error or str(exc)
            else:
                alert.page_error = result.message
                outcome.page_failures.append((alert, result.message))
                try:
                    self._forget(alert.dedup_key, "trigger")
                    if not result.retryable:
                        self._refused(alert.dedup_key, result.status)
                except StateError as exc:
                    outcome.state_error = outcome.state_error or str(exc)
                if not result.retryable:
                    alert.page_status = PageStatus.FAILED
                    continue
                unwell = True
        outcome.undelivered = [a for a in alerts if a.page_status in (PageStatus.PENDING, PageStatus.FAILED)]

    async def _send_resolves(self, outcome: PollOutcome) -> None:
        if self.pager is None:
            return
        for alert in self.engine.alerts():
            if (
                alert.is_open
                or alert.resolved
                or alert.page_status not in (PageStatus.SENT, PageStatus.DRY_RUN)
            ):
                continue
            if self._remembered(alert.dedup_key, "resolve"):
                alert.resolved = True
                continue
            result = await self.pager.send(build_resolve(alert.dedup_key))
            if result.ok:
                alert.resolved = True
                if not result.dry_run:
                    try:
                        self._remember(alert.dedup_key, "resolve", result.status)
                    except StateError as exc:
                        outcome.state_error = outcome.state_error or str(exc)
                outcome.resolved.append(alert)
            elif result.retryable:
                outcome.page_failures.append((alert, result.message))
                break
            else:
                alert.resolved = True  # PagerDuty refused it; retrying cannot help
                outcome.page_failures.append((alert, result.message))

    def _remembered(self, dedup_key: str, action: str) -> bool:
        return self.state is not None and self.state.was_sent(dedup_key, action)

    def _remember(self, dedup_key: str, action: str, status: int | None) -> None:
        if self.state is not None and self.save_state:
            self.state.record_page(dedup_key, action, status)

    def _forget(self, dedup_key: str, action: str) -> None:
        if self.state is not None and self.save_state:
            self.state.forget_page(dedup_key, action)

    def _refused(self, dedup_key: str, status: int | None) -> None:
        fingerprint = self._pager_fingerprint()
        self._refusals[dedup_key] = fingerprint
        if self.state is not None and self.save_state:
            self.state.record_refusal(dedup_key, "trigger", fingerprint, status)

    # -- snapshots -------------------------------------------------------------------------------------

    def snapshot(self) -> WatchSnapshot:
        now = self._clock()
        at = self.engine.watermark
        start, series = self.engine.series(at_ms=at)
        actor_series = {
            a: tuple(self.engine.actor_series(a, at_ms=at)[1]) for a in self.engine.hot_actors(at)
        }
        stale = self._stale or (
            self.last_success is not None and now - self.last_success > 2 * self._interval_s + 60
        )
        return WatchSnapshot(
            rules=self.rules,
            window_s=self._window_s,
            interval_s=self._interval_s,
            rows=tuple(self.engine.counts(at)),
            series_start_ms=start,
            series=tuple(series),
            actor_series=actor_series,
            alerts=tuple(a.copy() for a in self.engine.alerts()),
            watermark_ms=at,
            last_success=self.last_success,
            last_attempt=self.last_attempt,
            next_poll=self.next_poll,
            polling=self.polling,
            stale=stale,
            error=self.error,
            warnings=self.warnings,
            activity=self.activity,
            events_total=self.engine.events_total,
            polls=self.polls,
            consecutive_failures=self.consecutive_failures,
            completeness=self.completeness,
        )

    async def snapshots(self) -> AsyncIterator[WatchSnapshot]:
        """The current snapshot, then one after every change; a slow reader gets only the latest."""
        queue: asyncio.Queue[WatchSnapshot] = asyncio.Queue(maxsize=1)
        self._subscribers.append(queue)
        try:
            yield self.snapshot()
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    def _emit(self) -> None:
        if self.on_snapshot is None and not self._subscribers:
            return  # building a snapshot costs: skip it when nobody looks (replay, headless)
        snap = self.snapshot()
        for q in self._subscribers:
            if q.full():
                q.get_nowait()
            q.put_nowait(snap)
        if self.on_snapshot is not None:
            self._call(self.on_snapshot, snap)

    @staticmethod
    def _call(callback: Callable[[Any], None], arg: Any) -> None:
        try:
            callback(arg)
        except Exception:  # a broken view must not stop collection or paging
            log.exception("watch callback failed")


# -- replay -------------------------------------------------------------------------------------------


class _ListSource:
    """Events already in memory, sorted by time, served by window (the replay's simulated API)."""

    def __init__(self, events: list[Event], label: str) -> None:
        self._events = sorted(events, key=lambda e: (e.ts, e.id))
        self._ts = [e.ts for e in self._events]
        self.label = label

    async def fetch(
        self, query: str, window: Window, progress: ProgressCallback | None = None
    ) -> FetchResult:
        lo = bisect_left(self._ts, window.start)
        hi = bisect_left(self._ts, window.end)
        return FetchResult(events=self._events[lo:hi][::-1], window=window, query=query, pages=1)

    async def exists(self, query: str, window: Window) -> bool:
        return bisect_left(self._ts, window.end) > bisect_left(self._ts, window.start)

    def default_window(self) -> Window | None:
        return Window(self._ts[0], self._ts[-1] + 1) if self._ts else None

    async def aclose(self) -> None:
        return None


@dataclass
class ReplayResult:
    alerts: list[Alert]  # every alert that opened, in the order it opened
    window: Window
    events: int  # events matching any rule
    polls: int
    warnings: list[str]
    poller: Poller
    completeness: Completeness | None = None  # of the one fetch the replay read


async def replay(
    source: Source,
    rules: Sequence[Rule],
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    window_s: float = DEFAULT_WINDOW_S,
    start_ms: int | None = None,
    end_ms: int | None = None,
    pager: Pager | None = None,
    site: str | None = None,
    on_poll: Callable[[PollOutcome], None] | None = None,
    progress: ProgressCallback | None = None,
) -> ReplayResult:
    """Feed a source's history through the watch as if live: the rules' matches in event-time order,
    one simulated poll per interval, alerts opening and closing as they would have. No state is read
    or written; `pager` should be a dry run (replayed bursts are history, not incidents)."""
    span = source.default_window()
    if start_ms is None or end_ms is None:
        if span is None:
            raise ValueError("nothing to replay: the input holds no events")
        start_ms = span.start if start_ms is None else start_ms
        end_ms = span.end if end_ms is None else end_ms
    window = Window(start_ms, end_ms)
    rule_list = [r for r in rules if r.enabled]
    fetched = await source.fetch(union_query(rule_list), window, progress)
    matched = _ListSource(fetched.events, source.label)
    sim_ms = [start_ms]
    poller = Poller(
        matched,
        rule_list,
        interval_s=interval_s,
        window_s=window_s,
        overlap_s=0,  # a file has no late events
        first_start_ms=start_ms,
        pager=pager,
        site=site,
        clock=lambda: sim_ms[0] / 1000,
        on_poll=on_poll,
    )
    step = max(1, int(interval_s * 1000))
    opened: list[Alert] = []
    while True:
        # The next poll boundary; polls with no event in them are skipped: they could only close
        # alerts, and an alert's close time comes from its events, not from when the poll ran. That
        # keeps a 90-day replay at 30 s intervals proportional to the matches, not to 259,200 polls.
        nxt = sim_ms[0] + step
        i = bisect_left(matched._ts, sim_ms[0])
        if i == len(matched._ts):
            nxt = end_ms
        elif matched._ts[i] >= nxt:
            nxt = start_ms + ((matched._ts[i] - start_ms) // step + 1) * step
        sim_ms[0] = min(nxt, end_ms)
        outcome = await poller.poll_now()
        opened.extend(outcome.opened)
        if sim_ms[0] >= end_ms:
            break
    polls = max(1, -(-(end_ms - start_ms) // step))  # simulated polls, skipped ones included
    opened.sort(key=lambda a: (a.opened_at, a.dedup_key))
    return ReplayResult(
        alerts=opened,
        window=window,
        events=poller.engine.events_total,
        polls=polls,
        warnings=list(fetched.warnings),
        poller=poller,
        completeness=fetched.completeness,
    )
