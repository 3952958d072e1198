"""What was known before the AI window: who used AI, which clients, and each person's own (non-AI) scope —
the baseline of the first-time and out-of-scope detections (pure, no I/O; `ai_investigation.py` asks a
source for it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ddaudit_tui.analysis.ai_calls import (
    _SCOPE_EXCLUDED_EVT,
    AI_INTERNAL_TYPES,
    DEFAULT_BASE_QUERY,
    _attribute_all,
    _Identities,
    _lower,
    resource_family,
)
from ddaudit_tui.events.query import parse_query
from ddaudit_tui.events.record import Event
from ddaudit_tui.timeutil import Window


@dataclass(frozen=True)
class Scope:
    """What a person touched themselves (not through AI) in the baseline period."""

    types: frozenset[str]  # resource families
    resources: frozenset[tuple[str, str]]  # (family, id)
    events: int


@dataclass(frozen=True)
class Baseline:
    """What was known before the window. Keys are lower-cased human keys (emails where known).

    `known` is False when the period holds no audit events at all (e.g. an input file that starts at the
    window): then nothing can be "first" and the baseline checks are skipped rather than guessed.
    """

    period: Window
    known: bool
    ai_users: frozenset[str] = frozenset()  # humans with AI activity in the period
    checked_users: frozenset[str] | None = None  # humans looked up (None: everyone in the data)
    clients: frozenset[str] = frozenset()  # clients used in the period
    checked_clients: frozenset[str] | None = None
    scopes: Mapping[str, Scope] = field(default_factory=dict)  # only people with non-AI history

    def had_ai(self, human: str) -> bool | None:
        """True / False, or None when unknown (no baseline, or the person was not looked up)."""
        key = human.lower()
        if not self.known or (self.checked_users is not None and key not in self.checked_users):
            return None
        return key in self.ai_users

    def client_seen(self, client: str) -> bool | None:
        key = client.lower()
        if not self.known or (self.checked_clients is not None and key not in self.checked_clients):
            return None
        return key in self.clients

    def scope_of(self, human: str) -> Scope | None:
        """The person's own non-AI scope, or None when they have no such history (no scope to exceed)."""
        if not self.known:
            return None
        return self.scopes.get(human.lower())


def scope_from_events(events: Iterable[Event]) -> Scope:
    """A person's non-AI scope from their own events: the resource families and resources they touched
    (logins and raw API requests carry no resource and are ignored)."""
    return scope_from_groups((e, 1) for e in events)


def scope_from_groups(groups: Iterable[tuple[Event, int]]) -> Scope:
    """`scope_from_events` over (event, how many such events): a DDSQL group's stand-in counts `n` times
    (issue 16), read by the same rules as a fetched event."""
    types: set[str] = set()
    resources: set[tuple[str, str]] = set()
    n = 0
    for e, count in groups:
        if (_lower(e.evt_name) or "") in _SCOPE_EXCLUDED_EVT:
            continue
        fam = resource_family(e.asset_type)
        if fam is None or fam in AI_INTERNAL_TYPES:
            continue
        n += count
        types.add(fam)
        if e.asset_id:
            resources.add((fam, e.asset_id))
    return Scope(frozenset(types), frozenset(resources), n)


def is_ai_event(event: Event, query: str = DEFAULT_BASE_QUERY) -> bool:
    return parse_query(query).matches(event)


def baseline_from_events(
    period: Window, events: Iterable[Event], query: str = DEFAULT_BASE_QUERY
) -> Baseline:
    """A baseline from every event of the period (AI and not) — for files and tests; the orchestrator
    asks the source smaller questions instead (`ai_investigation.fetch_baseline`)."""
    q = parse_query(query)
    evs = [e for e in events if period.contains(e.ts)]
    ai: list[Event] = []
    own_events: list[Event] = []
    for e in evs:
        (ai if q.matches(e) else own_events).append(e)
    ids = _Identities(evs)
    calls = _attribute_all(sorted(ai, key=lambda e: (e.ts, e.id)), ids)
    own: dict[str, list[Event]] = defaultdict(list)
    for e in own_events:
        if (_lower(e.evt_name) or "") in _SCOPE_EXCLUDED_EVT or not e.asset_type:
            continue  # cheap pre-filter: scope_from_events would drop these anyway
        who = ids.resolve(e.usr_email, e.usr_id, e.usr_uuid, e.usr_name)
        if who:
            own[who.lower()].append(e)
    scopes = {k: s for k, v in own.items() if (s := scope_from_events(v)).events}
    return Baseline(
        period=period,
        known=bool(evs),
        ai_users=frozenset(c.human.lower() for c in calls),
        clients=frozenset(c.client.lower() for c in calls if c.client != "(unknown)"),
        scopes=scopes,
    )
