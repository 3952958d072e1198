"""Spike watch engine: bursts of sensitive audit events per actor, in sliding windows of EVENT time.

No I/O: the poller (`alerts/poller.py`) feeds events in and persists `export_state()`; the pane and the
headless command render `counts()`, `series()` and the alerts. Rules are plain data (`Rule`); loading
them from TOML lives in `alerts/rules.py`. They are "ddaudit rules", never Datadog detections.

Semantics (detections.md §7.1, with Datadog's keepAlive/maxSignalDuration for how long an alert lives):

- A rule matches events with its query; each match is put in a group (the actor by default: `usr.email`,
  then `usr.id`, then `metadata.api_key.id`). Events lacking the group or the distinct field are skipped.
- A group crosses the threshold when some window of `window` length (`span < window`) holds at least
  `threshold` matches (or `threshold` distinct values of the `distinct` field). That opens ONE alert,
  whose burst start (the first event of the earliest such window) is part of its stable dedup key.
- While the alert is open, every further match of the group attaches to it. It closes once the group
  has been quiet for a whole window (or after `max_duration`); only matches after the end of the
  previous alert can make up a new burst, so a burst is never reported twice.
- Events may arrive in any order and more than once (overlapping polls): duplicates are dropped by id,
  late events are inserted where they belong (they can complete a window in the past, or join the
  alert they were part of, even a closed one, without reopening it).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.events.fields import field_value
from ddaudit_tui.events.query import Query, parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import human_duration, iso

__all__ = [
    "ACTOR_FIELDS",
    "ActorRow",
    "Alert",
    "AlertChange",
    "Entry",
    "EngineState",
    "Rule",
    "SpikeEngine",
    "dedup_key_for",
    "union_query",
]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DEFAULT_WINDOW_MS = 15 * MINUTE_MS
DEFAULT_MAX_DURATION_MS = 24 * HOUR_MS
# How late an event may arrive and still be counted against windows it belongs to. The poller sets it
# to at least its overlap: the buffers must outlive the re-fetched overlap or dedupe would forget ids.
DEFAULT_LATENESS_MS = 10 * MINUTE_MS
DEFAULT_ALERT_RETENTION_MS = 24 * HOUR_MS

# The actor, as the workflow groups it: email, then id (service accounts), then the API key.
ACTOR_FIELDS: tuple[str, ...] = ("usr.email", "usr.id", "metadata.api_key.id")
NO_GROUP = "(all)"  # the one group of a rule with `group_by = []`

MAX_ALERT_IDS = 1000  # event ids kept per alert (the count goes on); a mass deletion must not bloat state
MAX_DISTINCT = 10_000
MAX_SAMPLES = 10  # "top events" carried into the page


class PageStatus(StrEnum):
    """An alert's `page_status` (set by the poller; the engine only creates alerts as NEW). Strings: a
    status read back from a state file is the plain string and compares equal."""

    NEW = "new"
    PENDING = "pending"  # due: sent at the next chance, retried every poll until it goes through
    SENT = "sent"
    DRY_RUN = "dry-run"
    OFF = "off"  # no PagerDuty routing key configured
    DISABLED = "disabled"  # the rule says page = false
    FAILED = "failed"  # PagerDuty refused the event (400): retrying cannot help


@dataclass(frozen=True)
class Rule:
    """One ddaudit rule: which events, grouped how, how many within which window, and how bad."""

    name: str
    query: str
    threshold: int = 1
    distinct: str | None = None  # field path: count distinct values instead of events
    window_ms: int | None = None  # None: the watch's window (`--window`)
    group_by: tuple[str, ...] = ACTOR_FIELDS  # first present wins; () = one group
    severity: Severity = Severity.MEDIUM
    description: str = ""
    enabled: bool = True
    page: bool = True
    max_duration_ms: int = DEFAULT_MAX_DURATION_MS

    @property
    def compiled(self) -> Query:
        return parse_query(self.query)  # cached by text

    def window(self, default_ms: int) -> int:
        return self.window_ms if self.window_ms is not None else default_ms

    def group_of(self, ev: Event) -> tuple[str, str] | None:
        """(field, value) of the event's group, or None when the event has none of the fields."""
        if not self.group_by:
            return ("", NO_GROUP)
        for path in self.group_by:
            value = _text(field_value(ev, path))
            if value is not None:
                return (path, value)
        return None

    def distinct_of(self, ev: Event) -> str | None:
        return _text(field_value(ev, self.distinct)) if self.distinct else None

    def threshold_text(self, default_window_ms: int) -> str:
        """`≥ 3 in 15m`, `≥ 10 distinct asset.id in 10m`."""
        what = f" distinct {self.distinct}" if self.distinct else ""
        return f"≥ {self.threshold}{what} in {human_duration(self.window(default_window_ms))}"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    s = str(value)
    return s if s.strip() else None


def union_query(rules: Iterable[Rule]) -> str:
    """The rules' queries OR-ed into one, for pushing down to the search endpoint (one request per poll
    instead of one per rule). Identical queries are sent once."""
    queries: list[str] = []
    for r in rules:
        if r.enabled and r.query not in queries:
            queries.append(r.query)
    if not queries:
        return "*"
    if any(parse_query(q).is_match_all for q in queries):
        return "*"
    if len(queries) == 1:
        return queries[0]
    return " OR ".join(f"({q})" for q in queries)


def actor_of(ev: Event) -> str | None:
    for path in ACTOR_FIELDS:
        value = _text(field_value(ev, path))
        if value is not None:
            return value
    return None


def dedup_key_for(rule: str, group: str, started_ms: int) -> str:
    """Stable per (rule, actor, burst start): the same burst always gets the same key, across polls and
    restarts, so PagerDuty coalesces repeats and a resolve finds its incident. PagerDuty allows 255
    characters; an over-long or odd group is replaced by a hash so the key never gets truncated."""
    key = f"ddaudit:{rule}:{group}:{started_ms}"
    if len(key) <= 255 and group.isprintable():
        return key
    digest = hashlib.sha256(group.encode("utf-8", "replace")).hexdigest()[:20]
    return f"ddaudit:{rule[:150]}:sha256-{digest}:{started_ms}"


class Entry(NamedTuple):
    """One matched event as a rule's window remembers it (enough for counts, summaries and state)."""

    ts: int
    id: str
    distinct: str | None
    what: str  # "role modified", "dashboard deleted"
    asset: str | None  # asset name or id, for the alert's top events


def _entry_ts(e: Entry) -> int:
    return e.ts


def _entry_order(e: Entry) -> tuple[int, str]:
    return (e.ts, e.id)


def _what(ev: Event) -> str:
    return f"{ev.asset_type or ev.evt_name or 'event'} {ev.action or '?'}"


@dataclass(eq=False)
class Alert:
    """A burst: one per (rule, group, burst start). Mutable while open; owned by the engine."""

    rule: str
    group: str
    group_field: str
    severity: Severity
    started: int  # burst start (event time, ms): part of the dedup key, never changes
    dedup_key: str
    first_seen: int
    last_seen: int
    opened_at: int  # event time at which the threshold was reached
    closed_at: int | None = None
    count: int = 0
    event_ids: list[str] = field(default_factory=list)
    distinct_values: set[str] = field(default_factory=set)
    actions: Counter[str] = field(default_factory=Counter)
    samples: list[Entry] = field(default_factory=list)  # earliest events, for the page's "top events"
    page_status: str = PageStatus.NEW
    page_error: str | None = None
    resolved: bool = False

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def paged(self) -> bool:
        return self.page_status == PageStatus.SENT

    @property
    def distinct_count(self) -> int:
        return len(self.distinct_values)

    def add(self, e: Entry) -> None:
        self.count += 1
        if len(self.event_ids) < MAX_ALERT_IDS:
            self.event_ids.append(e.id)
        if e.distinct is not None and len(self.distinct_values) < MAX_DISTINCT:
            self.distinct_values.add(e.distinct)
        self.actions[e.what] += 1
        self.first_seen = min(self.first_seen, e.ts)
        self.last_seen = max(self.last_seen, e.ts)
        if len(self.samples) < MAX_SAMPLES or e.ts < self.samples[-1].ts:
            insort(self.samples, e, key=_entry_order)
            del self.samples[MAX_SAMPLES:]

    def actions_text(self, limit: int = 4) -> str:
        """`role modified ×4, role created ×1`, most frequent first."""
        ranked = sorted(self.actions.items(), key=lambda kv: (-kv[1], kv[0]))
        parts = [f"{what} ×{n}" for what, n in ranked[:limit]]
        if len(ranked) > limit:
            parts.append(f"+{len(ranked) - limit} more")
        return ", ".join(parts)

    def copy(self) -> Alert:
        """A detached copy for snapshots (the engine keeps mutating the original)."""
        return Alert(
            rule=self.rule,
            group=self.group,
            group_field=self.group_field,
            severity=self.severity,
            started=self.started,
            dedup_key=self.dedup_key,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            count=self.count,
            event_ids=list(self.event_ids),
            distinct_values=set(self.distinct_values),
            actions=Counter(self.actions),
            samples=list(self.samples),
            page_status=self.page_status,
            page_error=self.page_error,
            resolved=self.resolved,
        )

    def to_json(self, rule: Rule | None = None, default_window_ms: int = DEFAULT_WINDOW_MS) -> dict[str, Any]:
        """The headless JSON shape: `alerts[]{rule,actor,count,first_seen,last_seen,severity,event_ids,
        dedup_key,paged}` plus context."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "actor": self.group,
            "count": self.count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "severity": self.severity.word,
            "event_ids": list(self.event_ids),
            "dedup_key": self.dedup_key,
            "paged": self.paged,
            "status": "open" if self.is_open else "closed",
            "page_status": self.page_status,
            "group_by": self.group_field or None,
            "burst_start": iso(self.started),
            "opened_at": iso(self.opened_at),
            "closed_at": iso(self.closed_at) if self.closed_at is not None else None,
            "actions": dict(sorted(self.actions.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
        if self.distinct_values:
            out["distinct_count"] = self.distinct_count
        if rule is not None:
            out["threshold"] = rule.threshold_text(default_window_ms)
            out["description"] = rule.description
        if self.page_error:
            out["page_error"] = self.page_error
        return out

    def to_state(self) -> dict[str, Any]:
        """Plain JSON for the state database."""
        return {
            "rule": self.rule,
            "group": self.group,
            "group_field": self.group_field,
            "severity": self.severity.word,
            "started": self.started,
            "dedup_key": self.dedup_key,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "count": self.count,
            "event_ids": self.event_ids,
            "distinct_values": sorted(self.distinct_values),
            "actions": dict(self.actions),
            "samples": [list(s) for s in self.samples],
            "page_status": self.page_status,
            "page_error": self.page_error,
            "resolved": self.resolved,
        }

    @classmethod
    def from_state(cls, d: Mapping[str, Any]) -> Alert:
        return cls(
            rule=str(d["rule"]),
            group=str(d["group"]),
            group_field=str(d.get("group_field") or ""),
            severity=Severity.parse(str(d.get("severity") or "medium")),
            started=int(d["started"]),
            dedup_key=str(d["dedup_key"]),
            first_seen=int(d["first_seen"]),
            last_seen=int(d["last_seen"]),
            opened_at=int(d.get("opened_at") or d["last_seen"]),
            closed_at=None if d.get("closed_at") is None else int(d["closed_at"]),
            count=int(d.get("count") or 0),
            event_ids=[str(x) for x in d.get("event_ids") or []],
            distinct_values={str(x) for x in d.get("distinct_values") or []},
            actions=Counter({str(k): int(v) for k, v in (d.get("actions") or {}).items()}),
            samples=[Entry(int(s[0]), str(s[1]), s[2], str(s[3]), s[4]) for s in d.get("samples") or []],
            page_status=str(d.get("page_status") or PageStatus.NEW),
            page_error=d.get("page_error"),
            resolved=bool(d.get("resolved")),
        )


class AlertChange(NamedTuple):
    kind: str  # "opened" | "updated" | "closed"
    alert: Alert


@dataclass(frozen=True)
class ActorRow:
    """One row of the pane's table: a group's counts per rule in each rule's current window."""

    actor: str
    counts: Mapping[str, int]
    hot: frozenset[str]  # rules at or over their threshold right now
    total: int


@dataclass
class EngineState:
    """What a restart needs: the rules' window contents, the alerts, and the event-time watermark."""

    entries: list[tuple[str, str, str, Entry]] = field(default_factory=list)  # (rule, group, field, entry)
    alerts: list[Alert] = field(default_factory=list)
    watermark: int | None = None


class _Changes:
    """Changes of one call, each (kind, alert) once, in order."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], AlertChange] = {}

    def add(self, kind: str, alert: Alert) -> None:
        self._items.setdefault((id(alert), kind), AlertChange(kind, alert))

    def list(self) -> list[AlertChange]:
        return list(self._items.values())


class SpikeEngine:
    """Incremental burst detection for a set of rules. Feed `ingest()` events (any order, duplicates
    fine), call `advance(now_ms)` after each poll so quiet alerts close and old state is pruned."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        window_ms: int = DEFAULT_WINDOW_MS,
        lateness_ms: int = DEFAULT_LATENESS_MS,
        series_minutes: int = 60,
        alert_retention_ms: int = DEFAULT_ALERT_RETENTION_MS,
    ) -> None:
        self.rules: dict[str, Rule] = {r.name: r for r in rules if r.enabled}
        self._compiled: list[tuple[Rule, Query]] = [(r, r.compiled) for r in self.rules.values()]
        self._window_ms = window_ms
        self.lateness_ms = lateness_ms
        self.series_minutes = series_minutes
        self.alert_retention_ms = alert_retention_ms
        self.watermark: int | None = None
        self.events_total = 0  # distinct matched events ever ingested (the pane's "N new events")
        self._buffers: dict[tuple[str, str], list[Entry]] = {}
        self._group_fields: dict[tuple[str, str], str] = {}
        self._alerts: dict[tuple[str, str], list[Alert]] = {}
        self._seen: dict[str, int] = {}  # event id -> ts, for dedupe across overlapping polls
        self._minutes: Counter[int] = Counter()
        self._actor_minutes: dict[str, Counter[int]] = {}

    # -- configuration ---------------------------------------------------------------------------

    @property
    def window_ms(self) -> int:
        return self._window_ms

    def set_window(self, window_ms: int) -> None:
        """Change the default window (rules without their own). Applies from now on: events already
        pruned under a shorter window are not brought back."""
        if window_ms <= 0:
            raise ValueError("window must be positive")
        self._window_ms = window_ms

    def window_of(self, rule_name: str) -> int:
        rule = self.rules.get(rule_name)
        return rule.window(self._window_ms) if rule else self._window_ms

    def max_window_ms(self) -> int:
        return max([self._window_ms, *(r.window(self._window_ms) for r in self.rules.values())])

    # -- feeding -----------------------------------------------------------------------------------

    def ingest(self, events: Iterable[Event]) -> list[AlertChange]:
        """Fold events in (in event-time order, whatever order they come in). Returns what changed."""
        fresh: dict[str, Event] = {}
        for ev in events:
            if ev.id not in self._seen and ev.id not in fresh:
                fresh[ev.id] = ev
        changes = _Changes()
        for ev in sorted(fresh.values(), key=lambda e: (e.ts, e.id)):
            matched = False
            for rule, query in self._compiled:
                if not query.matches(ev):
                    continue
                group = rule.group_of(ev)
                if group is None:
                    continue
                distinct = None
                if rule.distinct:
                    distinct = rule.distinct_of(ev)
                    if distinct is None:
                        continue
                matched = True
                entry = Entry(ev.ts, ev.id, distinct, _what(ev), ev.asset_name or ev.asset_id)
                self._add(rule, group[0], group[1], entry, changes)
            if matched:
                self._seen[ev.id] = ev.ts
                self.events_total += 1
                self._count_minute(ev.ts, actor_of(ev))
        return changes.list()

    def advance(self, watermark_ms: int) -> list[AlertChange]:
        """Event time has reached `watermark_ms` (the end of the last poll): close alerts whose group has
        been quiet for a whole window, prune what no window can need any more."""
        if self.watermark is None or watermark_ms > self.watermark:
            self.watermark = watermark_ms
        wm = self.watermark
        changes = _Changes()
        for alerts in self._alerts.values():
            for a in alerts:
                if a.is_open:
                    end = self._alert_end(a)
                    if wm >= end:
                        a.closed_at = end
                        changes.add("closed", a)
        self._prune(wm)
        return changes.list()

    def _alert_end(self, a: Alert) -> int:
        rule = self.rules.get(a.rule)
        max_duration = rule.max_duration_ms if rule else DEFAULT_MAX_DURATION_MS
        return min(a.last_seen + self.window_of(a.rule), a.started + max_duration)

    def _add(self, rule: Rule, gfield: str, group: str, entry: Entry, changes: _Changes) -> None:
        key = (rule.name, group)
        buf = self._buffers.setdefault(key, [])
        self._group_fields[key] = gfield
        in_order = not buf or _entry_order(buf[-1]) < _entry_order(entry)
        insort(buf, entry, key=_entry_order)
        w = rule.window(self._window_ms)
        alert = self._covering(key, entry.ts, w, rule)
        if alert is not None:
            alert.add(entry)
            changes.add("updated", alert)
            return
        self._check_crossing(rule, key, gfield, group, entry.ts, w, in_order, changes)

    def _covering(self, key: tuple[str, str], ts: int, w: int, rule: Rule) -> Alert | None:
        """The alert an event at `ts` belongs to: within a window of it, before its max duration."""
        for a in reversed(self._alerts.get(key, ())):
            if a.first_seen - w < ts < a.last_seen + w and ts < a.started + rule.max_duration_ms:
                return a
        return None

    def _check_crossing(
        self,
        rule: Rule,
        key: tuple[str, str],
        gfield: str,
        group: str,
        ts: int,
        w: int,
        in_order: bool,
        changes: _Changes,
    ) -> None:
        buf = self._buffers[key]
        alerts = self._alerts.get(key, [])
        # Only matches after the previous alert (and before the next one) may form a new burst.
        floor = max((a.last_seen for a in alerts if a.last_seen < ts), default=None)
        ceiling = min((a.first_seen for a in alerts if a.first_seen > ts), default=None)
        lo = bisect_right(buf, floor, key=_entry_ts) if floor is not None else 0
        hi = bisect_left(buf, ceiling, key=_entry_ts) if ceiling is not None else len(buf)
        first = max(lo, bisect_right(buf, ts - w, key=_entry_ts))
        last = min(hi, bisect_right(buf, ts, key=_entry_ts))
        # Windows [s, s + w) that contain the new event, s taken from the events themselves. In order,
        # the earliest window holds every other candidate's events (nothing is later than `ts`), so it
        # is the only one to check; a late event can complete any of them.
        starts = range(first, min(last, first + 1)) if in_order else range(first, last)
        for i in starts:
            s = buf[i].ts
            if i > first and buf[i - 1].ts == s:
                continue
            j = min(hi, bisect_left(buf, s + w, key=_entry_ts))
            window = buf[i:j]
            reached = _reached_at(window, rule)
            if reached is None:
                continue
            alert = Alert(
                rule=rule.name,
                group=group,
                group_field=gfield,
                severity=rule.severity,
                started=s,
                dedup_key=dedup_key_for(rule.name, group, s),
                first_seen=s,
                last_seen=s,
                opened_at=reached,
            )
            for e in window:
                alert.add(e)
            # Matches already here beyond the window (they came before this late event) continue it.
            for e in buf[j:hi]:
                if e.ts < alert.last_seen + w and e.ts < alert.started + rule.max_duration_ms:
                    alert.add(e)
                else:
                    break
            insort(self._alerts.setdefault(key, []), alert, key=lambda a: a.started)
            changes.add("opened", alert)
            return

    # -- reading -------------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Every alert still remembered (open, and closed within the retention), newest first."""
        out = [a for alerts in self._alerts.values() for a in alerts]
        out.sort(key=lambda a: (a.opened_at, a.dedup_key), reverse=True)
        return out

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts() if a.is_open]

    def counts(self, at_ms: int | None = None) -> list[ActorRow]:
        """Per group, the count (or distinct count) per rule in each rule's window ending at `at_ms`
        (default: the watermark). Hot groups first."""
        at = self.watermark if at_ms is None else at_ms
        if at is None:
            return []
        counts: dict[str, dict[str, int]] = {}
        hot: dict[str, set[str]] = {}
        for (name, group), buf in self._buffers.items():
            rule = self.rules.get(name)
            if rule is None:
                continue
            w = rule.window(self._window_ms)
            window = buf[bisect_right(buf, at - w, key=_entry_ts) : bisect_right(buf, at, key=_entry_ts)]
            if not window:
                continue
            n = len({e.distinct for e in window}) if rule.distinct else len(window)
            counts.setdefault(group, {})[name] = n
            if n >= rule.threshold:
                hot.setdefault(group, set()).add(name)
        rows = [
            ActorRow(group, dict(c), frozenset(hot.get(group, ())), sum(c.values()))
            for group, c in counts.items()
        ]
        rows.sort(key=lambda r: (-len(r.hot), -r.total, r.actor))
        return rows

    def series(self, minutes: int | None = None, at_ms: int | None = None) -> tuple[int, list[int]]:
        """Matched events per minute over the last `minutes` minutes ending at `at_ms`: (start ms, counts)."""
        return self._series(self._minutes, minutes, at_ms)

    def actor_series(
        self, actor: str, minutes: int | None = None, at_ms: int | None = None
    ) -> tuple[int, list[int]]:
        return self._series(self._actor_minutes.get(actor, Counter()), minutes, at_ms)

    def hot_actors(self, at_ms: int | None = None) -> list[str]:
        """Groups with an open alert or a rule over threshold right now, most recent alert first."""
        out: list[str] = []
        for a in self.alerts():
            if a.is_open and a.group not in out:
                out.append(a.group)
        for row in self.counts(at_ms):
            if row.hot and row.actor not in out:
                out.append(row.actor)
        return out

    def _series(
        self, minutes_counter: Mapping[int, int], minutes: int | None, at_ms: int | None
    ) -> tuple[int, list[int]]:
        n = minutes or self.series_minutes
        at = self.watermark if at_ms is None else at_ms
        if at is None:
            return 0, [0] * n
        end = at // MINUTE_MS
        start = end - n + 1
        return start * MINUTE_MS, [minutes_counter.get(m, 0) for m in range(start, end + 1)]

    def _count_minute(self, ts: int, actor: str | None) -> None:
        minute = ts // MINUTE_MS
        self._minutes[minute] += 1
        if actor is not None:
            self._actor_minutes.setdefault(actor, Counter())[minute] += 1

    # -- state -----------------------------------------------------------------------------------

    def _prune(self, wm: int) -> None:
        horizon = wm - self.max_window_ms() - self.lateness_ms
        for key in list(self._buffers):
            buf = self._buffers[key]
            cut = bisect_left(buf, horizon, key=_entry_ts)
            if cut:
                del buf[:cut]
            if not buf:
                del self._buffers[key]
        stale = [eid for eid, ts in self._seen.items() if ts < horizon]
        for eid in stale:
            del self._seen[eid]
        keep_after = wm - self.alert_retention_ms
        for key in list(self._alerts):
            alerts = [a for a in self._alerts[key] if a.closed_at is None or a.closed_at >= keep_after]
            if alerts:
                self._alerts[key] = alerts
            else:
                del self._alerts[key]
        for key in list(self._group_fields):
            if key not in self._buffers and key not in self._alerts:
                del self._group_fields[key]
        first_minute = (wm - max(self.series_minutes * MINUTE_MS, self.max_window_ms())) // MINUTE_MS - 1
        for m in [m for m in self._minutes if m < first_minute]:
            del self._minutes[m]
        for actor in list(self._actor_minutes):
            c = self._actor_minutes[actor]
            for m in [m for m in c if m < first_minute]:
                del c[m]
            if not c:
                del self._actor_minutes[actor]

    def export_state(self) -> EngineState:
        entries = [
            (name, group, self._group_fields.get((name, group), ""), e)
            for (name, group), buf in self._buffers.items()
            for e in buf
        ]
        alerts = [a for alerts in self._alerts.values() for a in alerts]
        return EngineState(entries=entries, alerts=alerts, watermark=self.watermark)

    def restore(self, state: EngineState) -> None:
        """Load a saved state (replacing the current one). Entries of rules no longer defined are
        dropped; their alerts are kept so they can still close (and resolve) normally."""
        self._buffers.clear()
        self._group_fields.clear()
        self._alerts.clear()
        self._seen.clear()
        self._minutes.clear()
        self._actor_minutes.clear()
        self.watermark = state.watermark
        counted: set[str] = set()
        for name, group, gfield, e in sorted(state.entries, key=lambda t: _entry_order(t[3])):
            if name not in self.rules:
                continue
            self._buffers.setdefault((name, group), []).append(e)
            self._group_fields[(name, group)] = gfield
            self._seen[e.id] = e.ts
            if e.id not in counted:
                counted.add(e.id)
                # The actor is the group for actor-grouped rules; good enough for a restored sparkline.
                self._count_minute(e.ts, group if self.rules[name].group_by == ACTOR_FIELDS else None)
        for a in sorted(state.alerts, key=lambda a: a.started):
            key = (a.rule, a.group)
            self._alerts.setdefault(key, []).append(a)
            self._group_fields.setdefault(key, a.group_field)


def _reached_at(window: Sequence[Entry], rule: Rule) -> int | None:
    """Event time at which `window` reaches the rule's threshold, or None if it never does."""
    if not rule.distinct:
        return window[rule.threshold - 1].ts if len(window) >= rule.threshold else None
    seen: set[str | None] = set()
    for e in window:
        seen.add(e.distinct)
        if len(seen) >= rule.threshold:
            return e.ts
    return None
