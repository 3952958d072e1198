"""The AI activity's parameters (`AiConfig`), its tables (users, tools, clients, resources changed), its
timeline and its bursts: plain data shared by `ai.py` (the assembly) and the AI detections."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ddaudit_tui.analysis.ai_calls import DAY_MS, MINUTE_MS, SENSITIVE_TYPES, TOOL_CALL, AiCall
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.timeutil import Window


@dataclass(frozen=True)
class AiConfig:
    """Detection parameters. Defaults trace to detections.md §6.3 H1–H3 and §7.1–7.2."""

    baseline_days: int = 30  # history before the window for first-time and scope checks
    burst_calls: int = 100  # H3: "e.g. ≥ 100 in 5 min" per user
    burst_window_ms: int = 5 * MINUTE_MS
    destructive_types: frozenset[str] = frozenset({"monitor", "dashboard"})  # the recipe's flag
    sensitive_types: frozenset[str] = SENSITIVE_TYPES
    max_buckets: int = 60  # timeline resolution for a report (the pane may ask for its own)
    anomaly_events: int = 50  # at most this many sample event ids on first-time / scope flags


# -- tables -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """AI activity of one person (their own calls plus agents acting on their behalf)."""

    user: str
    calls: int  # counted calls (no connection set-ups)
    tool_calls: int
    connections: int
    bits: int
    agent_actions: int
    delegated: int  # calls an agent made on their behalf
    changes: int  # resources created / modified / deleted through AI
    tools: int  # distinct tools
    clients: tuple[str, ...]
    first_seen: int
    last_seen: int
    flags: int = 0
    max_severity: Severity | None = None


@dataclass(frozen=True)
class ToolRow:
    tool: str
    calls: int
    users: int
    verb: str | None  # created / modified / deleted / accessed (None: unknown)
    resource_type: str | None
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class ClientRow:
    client: str
    calls: int  # counted calls
    connections: int
    users: int
    mcp_clients: tuple[str, ...]  # MCP client names seen on connections under this OAuth client


@dataclass(frozen=True)
class ModifiedResource:
    """A resource created / modified / deleted through AI (one row per resource and event)."""

    ts: int
    event_id: str
    user: str  # the human
    actor: str
    delegated: bool
    client: str
    action: str  # created / modified / deleted
    resource_type: str | None
    resource_id: str | None
    resource_name: str | None
    tool: str | None
    via: str  # "action" (the event's action), "tool_name" or "arguments"


@dataclass(frozen=True)
class Bucket:
    start: int
    calls: int
    tool_calls: int
    users: int
    burst: bool


@dataclass(frozen=True)
class Timeline:
    start: int
    bucket_ms: int
    buckets: tuple[Bucket, ...]

    @property
    def peak(self) -> int:
        return max((b.calls for b in self.buckets), default=0)


@dataclass(frozen=True)
class Burst:
    """A run of one person's AI calls at or above the threshold within the sliding window."""

    user: str
    start: int
    end: int
    calls: int  # calls in the whole run
    peak: int  # the most calls inside any one window of the run
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class UserDetail:
    """The per-user drill-down: the person, their identities, baseline and every call."""

    user: str
    identities: tuple[str, ...]  # emails, ids and names seen for them
    first_seen: int | None
    last_seen: int | None
    had_ai_before: bool | None
    scope_types: tuple[str, ...] | None  # their own non-AI resource families (None: no history)
    calls: tuple[AiCall, ...]


# -- timeline and bursts -----------------------------------------------------------------------------

_BUCKET_SIZES_MS = (
    MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, 60 * MINUTE_MS, 3 * 60 * MINUTE_MS,
    6 * 60 * MINUTE_MS, 12 * 60 * MINUTE_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS,
)  # fmt: skip


def timeline_bucket(window: Window, max_buckets: int = 60) -> int:
    """The bucket size of the activity timeline over `window`: the smallest with at most `max_buckets`."""
    span = max(1, window.duration_ms)
    return next(
        (s for s in _BUCKET_SIZES_MS if math.ceil(span / s) + 1 <= max(2, max_buckets)),
        _BUCKET_SIZES_MS[-1],
    )


def activity_timeline(
    calls: Sequence[AiCall],
    window: Window,
    bursts: Sequence[Burst] = (),
    *,
    max_buckets: int = 60,
    bucket_ms: int | None = None,
) -> Timeline:
    """Calls per bucket across the window (buckets aligned to UTC multiples of their size), with the
    buckets that overlap a burst marked. The pane can ask for its own `max_buckets` (its width)."""
    entries = ((c.ts, 1, int(c.kind == TOOL_CALL), c.human.lower()) for c in calls if c.counted)
    return timeline_from_counts(entries, window, bursts, max_buckets=max_buckets, bucket_ms=bucket_ms)


def timeline_from_counts(
    entries: Iterable[tuple[int, int, int, str]],
    window: Window,
    bursts: Sequence[Burst] = (),
    *,
    max_buckets: int = 60,
    bucket_ms: int | None = None,
) -> Timeline:
    """`activity_timeline` over (time, counted calls, tool calls, person) entries: one per call, or one
    per DDSQL group of a bucket (its time inside the bucket, issue 16)."""
    if bucket_ms is None:
        bucket_ms = timeline_bucket(window, max_buckets)
    start = window.start - window.start % bucket_ms
    n = max(1, math.ceil((window.end - start) / bucket_ms))
    calls_n = [0] * n
    tools_n = [0] * n
    users: list[set[str]] = [set() for _ in range(n)]
    for ts, calls, tools, human in entries:
        i = min(n - 1, max(0, (ts - start) // bucket_ms))
        calls_n[i] += calls
        tools_n[i] += tools
        users[i].add(human)
    burst = [False] * n
    for b in bursts:
        lo = max(0, (b.start - start) // bucket_ms)
        hi = min(n - 1, (b.end - start) // bucket_ms)
        for i in range(lo, hi + 1):
            burst[i] = True
    return Timeline(
        start=start,
        bucket_ms=bucket_ms,
        buckets=tuple(
            Bucket(start + i * bucket_ms, calls_n[i], tools_n[i], len(users[i]), burst[i]) for i in range(n)
        ),
    )


def find_bursts(calls: Sequence[AiCall], threshold: int, window_ms: int) -> list[Burst]:
    """Per person, runs where ≥ `threshold` calls fall within a sliding `window_ms` (detections.md §7.1).

    Overlapping qualifying windows merge into one burst, so a 120-call loop is one finding, not 21.
    """
    if threshold < 1:
        return []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    for c in calls:
        if c.counted:
            by_user[c.human.lower()].append(c)
    out: list[Burst] = []
    for cs in by_user.values():
        cs.sort(key=lambda c: (c.ts, c.id))
        runs: list[list[int]] = []  # [first index, last index, peak]
        j = 0
        for i, c in enumerate(cs):
            while cs[j].ts <= c.ts - window_ms:
                j += 1
            n = i - j + 1
            if n < threshold:
                continue
            if runs and j <= runs[-1][1]:
                runs[-1][1] = i
                runs[-1][2] = max(runs[-1][2], n)
            else:
                runs.append([j, i, n])
        for lo, hi, peak in runs:
            part = cs[lo : hi + 1]
            out.append(
                Burst(
                    user=part[0].human,
                    start=part[0].ts,
                    end=part[-1].ts,
                    calls=len(part),
                    peak=peak,
                    event_ids=tuple(c.id for c in part),
                )
            )
    out.sort(key=lambda b: (b.start, b.user))
    return out
