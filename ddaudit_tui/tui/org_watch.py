"""Spike watch over every org at once (issue 16 item 5): `ddaudit --all-profiles`, `ddaudit --profile a,b`.

Each org is watched by its own poller, through its own source (its own credentials, site, client and so
rate-limit budget), with its own settings (its PagerDuty routing key, its `ddaudit watch` state scope).
The pane shows one merged view: the alerts of every org (an `org` column; the line under the table and
the toasts say `org eu`), the actors of every org (an actor seen in several: its counts summed, the org
column lists them), the rate summed. Above it, one line per org says its poll state, worst first (open
alerts, then an org that fails or is partial, then the quiet ones):

    org prod (datadoghq.com): ● 2 open alerts · ok 12:00:01 · 1,234 events
    org eu (datadoghq.eu): ✖ poll failed: cannot connect to 127.0.0.1:8802 … · 0 open alerts

A stopped org is named there and in the header (`poll failed: org eu: …`, the stale banner); the others
keep polling and alerting. `i`, `w`, `r` apply to every org's poller.

The pane calls `open_every_org`; the rest of its code sees a `TuiWatch`-like object whose poller merges
the orgs' snapshots. Nothing here is imported for one org.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.alerts.wiring import TuiWatch, WatchOptions, open_tui_watch, state_scope
from ddaudit_tui.analysis.spikes import ActorRow, Alert
from ddaudit_tui.orgs import OrgSource
from ddaudit_tui.outcome import look
from ddaudit_tui.sources.completeness import Completeness
from ddaudit_tui.timeutil import fmt_ts
from ddaudit_tui.tui.orgs import failure_line, orgs_of
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.header import status_style_for
from ddaudit_tui.tui.widgets.org_lines import OrgLines, cuttable

LINES_ID = "org-lines"
KEY_SEP = "/"  # an alert's dedup key in the merged view: `<profile>/<its own key>` (keys may repeat)
MINUTE_MS = 60_000


# -- merging the orgs' snapshots ----------------------------------------------------------------------------------


def _add_series(into: list[int], start: int, series: tuple[int, ...], at: int) -> None:
    offset = (at - start) // MINUTE_MS
    for i, n in enumerate(series):
        if 0 <= offset + i < len(into):
            into[offset + i] += n


@dataclass
class Merged:
    snapshot: WatchSnapshot
    alert_org: dict[str, str]  # merged dedup key -> profile
    actor_orgs: dict[str, str]  # actor -> the orgs it acted in (`prod, eu`)


def merge(snaps: dict[str, WatchSnapshot], failed: dict[str, str]) -> Merged:
    """One snapshot of every org's (in the order asked); `failed`: the orgs whose watch could not start."""
    items = list(snaps.items())
    first = items[0][1]
    alert_org: dict[str, str] = {}
    alerts: list[Alert] = []
    for profile, s in items:
        for a in s.alerts:
            c = a.copy()
            c.dedup_key = f"{profile}{KEY_SEP}{a.dedup_key}"
            alert_org[c.dedup_key] = profile
            alerts.append(c)
    alerts.sort(key=lambda a: a.opened_at, reverse=True)  # newest first, as one org's

    rows: dict[str, ActorRow] = {}
    where: dict[str, list[str]] = {}
    for profile, s in items:
        for r in s.rows:
            where.setdefault(r.actor, []).append(profile)
            m = rows.get(r.actor)
            if m is None:
                rows[r.actor] = r
            else:
                counts = dict(m.counts)
                for rule, n in r.counts.items():
                    counts[rule] = counts.get(rule, 0) + n
                rows[r.actor] = ActorRow(r.actor, counts, m.hot | r.hot, m.total + r.total)
    merged_rows = sorted(rows.values(), key=lambda r: (-len(r.hot), -r.total, r.actor.casefold()))

    # Only orgs that have polled: before its first poll an org's series is anchored at the epoch
    # (watermark 0), and spanning it with a polled org's made a series from 1970 to now (29 million
    # minutes summed on every repaint). The merged series is as long as the longest (the watch's hour),
    # ending at the newest end: minutes older than that are off the sparkline anyway.
    with_series = [s for _p, s in items if s.series and s.polls > 0]
    end = max((s.series_start_ms + len(s.series) * MINUTE_MS for s in with_series), default=None)
    if end is None:
        start, series = first.series_start_ms, [0] * len(first.series)
    else:
        series = [0] * max(len(s.series) for s in with_series)
        start = end - len(series) * MINUTE_MS
    for s in with_series:
        _add_series(series, start, s.series, s.series_start_ms)
    actor_series: dict[str, tuple[int, ...]] = {}
    for s in with_series:
        for actor, values in s.actor_series.items():
            line = list(actor_series.get(actor, (0,) * len(series)))
            _add_series(line, start, values, s.series_start_ms)
            actor_series[actor] = tuple(line)

    errors = [f"org {p}: {s.error}" for p, s in items if s.error]
    errors += [f"org {p}: {why}" for p, why in failed.items()]
    successes = [s.last_success for _p, s in items if s.last_success is not None]
    nexts = [s.next_poll for _p, s in items if s.next_poll is not None]
    attempts = [s.last_attempt for _p, s in items if s.last_attempt is not None]
    marks = [s.watermark_ms for _p, s in items if s.watermark_ms is not None]
    done = [s.completeness for _p, s in items if s.completeness is not None]
    snapshot = WatchSnapshot(
        rules=first.rules,
        window_s=first.window_s,
        interval_s=first.interval_s,
        rows=tuple(merged_rows),
        series_start_ms=start,
        series=tuple(series),
        actor_series=actor_series,
        alerts=tuple(alerts),
        watermark_ms=max(marks) if marks else None,
        last_success=min(successes) if successes else None,  # the oldest: what makes data stale
        last_attempt=max(attempts) if attempts else None,
        next_poll=min(nexts) if nexts else None,
        polling=any(s.polling for _p, s in items),
        stale=bool(failed) or any(s.stale for _p, s in items),
        error="; ".join(errors) or None,
        warnings=tuple(f"org {p}: {w}" for p, s in items for w in s.warnings),
        activity="; ".join(f"org {p}: {s.activity}" for p, s in items if s.polling and s.activity),
        events_total=sum(s.events_total for _p, s in items),
        polls=min(s.polls for _p, s in items),
        consecutive_failures=max(s.consecutive_failures for _p, s in items),
        completeness=Completeness.combine(done) if done else None,
    )
    return Merged(snapshot, alert_org, {a: ", ".join(ps) for a, ps in where.items()})


# -- the pollers, as one --------------------------------------------------------------------------------------------


class EveryOrgPoller:
    """The pane's poller: every org's, started, stopped and tuned together; its snapshots merged."""

    def __init__(self, watch: EveryOrgWatch) -> None:
        self._watch = watch
        self.pollers = {p: s.poller for p, s in watch.setups.items()}

    @property
    def _first(self) -> Any:
        return next(iter(self.pollers.values()))

    @property
    def interval_s(self) -> float:
        return float(self._first.interval_s)

    @interval_s.setter
    def interval_s(self, seconds: float) -> None:
        for p in self.pollers.values():
            p.interval_s = seconds

    @property
    def window_s(self) -> float:
        return float(self._first.window_s)

    @window_s.setter
    def window_s(self, seconds: float) -> None:
        for p in self.pollers.values():
            p.window_s = seconds

    @property
    def polls(self) -> int:
        return min(p.polls for p in self.pollers.values())

    def request_poll(self) -> None:
        for p in self.pollers.values():
            p.request_poll()

    async def run(self) -> None:
        await asyncio.gather(*(p.run() for p in self.pollers.values()))

    async def stop(self) -> None:
        for p in self.pollers.values():
            await p.stop()

    async def snapshots(self) -> AsyncIterator[WatchSnapshot]:
        """A merged snapshot once every org has given its first, then after every org's change."""
        latest: dict[str, WatchSnapshot] = {}
        changed = asyncio.Event()

        async def follow(profile: str, poller: Any) -> None:
            async for snap in poller.snapshots():
                latest[profile] = snap
                changed.set()

        tasks = [asyncio.create_task(follow(p, poller)) for p, poller in self.pollers.items()]
        try:
            while True:
                await changed.wait()
                changed.clear()
                if len(latest) < len(self.pollers):
                    continue
                ordered = {p: latest[p] for p in self.pollers}
                self._watch.latest = ordered
                merged = merge(ordered, self._watch.failed)
                self._watch.alert_org.update(merged.alert_org)
                self._watch.actor_orgs = merged.actor_orgs
                yield merged.snapshot
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t


@dataclass
class EveryOrgWatch:
    """What the pane reads of a `TuiWatch`, for every org: the merged poller, the paging of each, and
    which org each alert and actor came from."""

    orgs: list[OrgSource]
    setups: dict[str, TuiWatch]
    failed: dict[str, str]  # profile -> why its watch could not start (one line)
    clock: Callable[[], float]
    warnings: list[str] = field(default_factory=list)
    fixed_now_ms: int | None = None  # several orgs are API orgs: always live
    alert_org: dict[str, str] = field(default_factory=dict)
    actor_orgs: dict[str, str] = field(default_factory=dict)
    latest: dict[str, WatchSnapshot] = field(default_factory=dict)
    poller: EveryOrgPoller = field(init=False)

    def __post_init__(self) -> None:
        self.poller = EveryOrgPoller(self)

    @property
    def pollers(self) -> dict[str, Any]:
        return self.poller.pollers

    @property
    def paging(self) -> str:
        """Every org's paging when they agree (`off`), else each org's (`prod on, eu off`)."""
        modes = {p: s.paging for p, s in self.setups.items()}
        if len(set(modes.values())) == 1:
            return next(iter(modes.values()))
        return ", ".join(f"{p} {m}" for p, m in modes.items())

    @property
    def paging_note(self) -> str:
        return "; ".join(f"org {p}: {s.paging_note}" for p, s in self.setups.items() if s.paging_note)

    @property
    def dry_run_payloads(self) -> list[dict[str, Any]]:
        return [x for s in self.setups.values() for x in s.dry_run_payloads]

    def org_of_alert(self, alert: Alert) -> str | None:
        return self.alert_org.get(alert.dedup_key)

    def org_of_actor(self, row: ActorRow) -> str | None:
        return self.actor_orgs.get(row.actor)

    def source_of_alert(self, alert: Alert) -> Any:
        """The source the alert's events are read from: its org's."""
        profile = self.org_of_alert(alert)
        return next((o.source for o in self.orgs if o.profile == profile), None)

    def source_of_actor(self, actor: str) -> Any:
        """The first org (in the order asked) the actor acted in."""
        first = (self.actor_orgs.get(actor) or "").split(", ")[0]
        return next((o.source for o in self.orgs if o.profile == first), None)

    async def aclose(self) -> None:
        for s in self.setups.values():
            await s.aclose()


def _named(progress: Any, profile: str) -> Any:
    """The pane's progress callback, its message naming the org (`org eu: rate limited, retrying…`)."""
    if progress is None:
        return None

    def report(p: Any) -> None:
        progress(dataclasses.replace(p, message=f"org {profile}: {p.message}") if p.message else p)

    return report


def open_every_org(app: Any, options: WatchOptions, progress: Any = None) -> EveryOrgWatch:
    """A watch per org that could be opened (its own settings, state scope, pager), merged for the pane.
    Raises what `open_tui_watch` raises (a malformed rules file: the same for every org) when no org's
    watch could start."""
    setups: dict[str, TuiWatch] = {}
    failed: dict[str, str] = {}
    errors: list[BaseException] = []
    for org in orgs_of(app):
        if org.source is None:
            failed[org.profile] = failure_line(org.error or RuntimeError("the org could not be opened"))
            continue
        own = options
        if org.settings is not None:
            # Its own routing key and its own `ddaudit watch` state (as `ddaudit watch --profile NAME`).
            scope = options.scope
            if scope is not None and not scope.startswith(("demo:", "input:")):
                scope = state_scope(argparse.Namespace(), org.settings)
            own = dataclasses.replace(options, settings=org.settings, scope=scope)
        try:
            setups[org.profile] = open_tui_watch(
                org.source,
                own,
                app_window=app.window,
                clock=app.clock,
                progress=_named(progress, org.profile),
            )
        except Exception as exc:  # e.g. that org's rules file: that org only
            errors.append(exc)
            failed[org.profile] = clean(str(exc) or type(exc).__name__, max_len=200)
    if not setups:
        raise errors[0] if errors else RuntimeError("no org could be watched")
    first = next(iter(setups.values()))
    warnings = [f"org {p}: {w}" for p, s in setups.items() for w in s.warnings]
    return EveryOrgWatch(orgs_of(app), setups, failed, first.clock, warnings)


# -- the lines -------------------------------------------------------------------------------------------------------


def _rank(snap: WatchSnapshot | None, failed: bool) -> tuple[int, int]:
    """Worst first: open alerts (most first), a failed or partial org, the quiet ones, not polled yet."""
    if failed:
        return (1, 0)
    if snap is None:
        return (3, 0)
    n_open = len(snap.open_alerts)
    if n_open:
        return (0, -n_open)
    if snap.error or snap.stale:
        return (1, 0)
    return (2, 0) if snap.polls else (3, 0)


def _line(
    org: OrgSource,
    snap: WatchSnapshot | None,
    why: str | None,
    site: bool,
    details: bool,
    local: bool,
    style: Any,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    head = f"org {clean(org.profile, max_len=40)}"
    if site:
        head += f" ({clean(org.site, max_len=40)})"
    text.append(head + ": ")
    if why is not None:
        text.append(f"{look('error').glyph} not watched", style=style("error"))
        return cuttable(text, ": " + clean(why, single_line=True))
    if snap is None:
        text.append(f"{look('fetching').glyph} first poll…", style=style("fetching"))
        return text
    n_open = len(snap.open_alerts)
    alerts = f"{n_open} open alert{'s' if n_open != 1 else ''}"
    if n_open:
        text.append(f"● {alerts}", style=style("warning"))
    else:
        text.append(f"○ {alerts}")
    ok = f"ok {fmt_ts(round(snap.last_success * 1000), local)[11:]}" if snap.last_success is not None else ""
    if snap.polling:
        text.append(" · ")
        text.append(f"{look('fetching').glyph} polling", style=style("fetching"))
    if details:
        text.append(f" · {snap.events_total:,} event{'s' if snap.events_total != 1 else ''}")
    if snap.error:
        text.append(" · ")
        text.append(f"{look('error').glyph} poll failed", style=style("error"))
        tail = f" ({ok})" if ok and details else ""
        return cuttable(text, f"{tail}: {clean(snap.error, single_line=True)}")
    if snap.stale:
        text.append(" · ")
        text.append(f"{look('partial').glyph} partial poll", style=style("partial"))
        if snap.warnings:
            return cuttable(text, ": " + clean(snap.warnings[0], single_line=True))
        return text
    if ok:
        text.append(f" · {ok}")
    return text


def line_forms(watch: EveryOrgWatch, local: bool, style: Any) -> list[list[Text]]:
    rows = [(o, watch.latest.get(o.profile), watch.failed.get(o.profile)) for o in watch.orgs]
    rows.sort(key=lambda r: _rank(r[1], r[2] is not None))
    return [
        [_line(o, s, why, site, details, local, style) for o, s, why in rows]
        for site, details in ((True, True), (True, False), (False, False))
    ]


def show_lines(screen: Any, watch: EveryOrgWatch) -> None:
    found = screen.query(f"#{LINES_ID}")
    if not found:
        return
    widget = found.first(OrgLines)
    widget.set_forms(
        line_forms(watch, bool(screen.ddaudit.local_time), functools.partial(status_style_for, widget))
    )


def alert_prefix(watch: Any, alert: Alert) -> str:
    """`org eu · ` before an alert's toast title and its line under the table; '' for one org."""
    org_of = getattr(watch, "org_of_alert", None)
    profile = org_of(alert) if org_of is not None else None
    return f"org {clean(profile, max_len=40)} · " if profile else ""
