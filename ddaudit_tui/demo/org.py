"""The built-in synthetic org "Example Corp": a deterministic generator of Audit Logs API items.

`generate()` returns API items (newest first) for `days` days ending at `end_ms`: background traffic
(people in their own time zones browsing and changing things, service accounts, Agents, workflows)
plus the planted incidents and steady key usage of `demo.incidents` (named in `PLANTED`).
`write_demo_data()` streams the same items to a file — a `pup -o json`-like document or NDJSON — in
day-sized chunks, so 200,000 events never sit in memory at once. `LiveDemo` keeps an org "alive":
new events stamped with the wall-clock time, for the fake API's live mode.

Module map (`ddaudit_tui/demo/`): `catalog` (the cast: places, networks, people, keys, assets), `shapes`
(item builders in the real event shapes), `incidents` (planted incidents and `PLANTED`), this module
(background volume, ordering, output, live mode).
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from bisect import bisect_right
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import msgspec

from ddaudit_tui.demo.catalog import (
    API_KEYS,
    BROWSER_UAS,
    CITIES,
    EXPORTER_KEY,
    INTEGRATIONS,
    LOG_INDEXES,
    METRICS,
    NOTEBOOKS,
    ORIGINS,
    PEOPLE,
    ROLES,
    SERVICE_ACCOUNTS,
    SESSION_PATHS,
    SITE_APP_HOST,
    SLOS,
    STABLE_DASHBOARDS,
    STABLE_MONITORS,
    STABLE_PIPELINES,
    SYNTHETICS,
    TERRAFORM_KEY,
    Origin,
    Person,
)
from ddaudit_tui.demo.incidents import (
    PLANTED,
    Planted,
    build_planted,
    zone,
)
from ddaudit_tui.demo.shapes import (
    TAGS_NOTABLE,
    TAGS_PREVIEW,
    Shapes,
    gc_paused,
    person_origin,
    person_usr,
    sa_usr,
)
from ddaudit_tui.events.decode import parse_timestamp

__all__ = [
    "PLANTED",
    "Planted",
    "LiveDemo",
    "default_events",
    "gc_paused",
    "generate",
    "iter_items",
    "write_demo_data",
]

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H

DEFAULT_EVENTS_PER_90_DAYS = 30_000  # keeps `--demo` snappy while still looking like an org
CHUNK_HOURS = 24

# People whose history is planted exactly (bursts, near misses, AI scope): the background never gives
# them deletions or privileged changes, so the incidents stay exactly as documented in PLANTED.
_PLANTED_ACTORS = {
    "alice", "marcus", "priya", "kevin", "emma", "tom", "sara", "dave", "rachel", "jonas", "ryan",
    "matt", "lucas", "jdoe", "vkral",
}  # fmt: skip

_WORKFLOWS = [("7d3a9c21-4e8b-4f61-a2d0-5b9c8e7f1a34", "Nightly cost report"),
              ("2b8e4f10-9c3d-4a7e-b165-0d2f8a9c4e57", "Auto-remediate disk full")]  # fmt: skip
_AGENT_HOSTS = [f"i-0{(n * 0x9E3779B1) & 0xFFFFFFFFFFFFFFF:015x}"[:19] for n in range(1, 41)]


def default_events(days: int = 90) -> int:
    return max(1, round(DEFAULT_EVENTS_PER_90_DAYS * days / 90))


def _now_minute_ms() -> int:
    now = int(time.time() * 1000)
    return now - now % M


# -- background actors and their hourly activity ------------------------------------------------

# Relative activity by local hour, weekdays and weekends (people work business hours, mostly).
_WEEKDAY = [0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.5, 1.0, 1.0, 1.0,
            0.7, 1.0, 1.0, 1.0, 0.9, 0.6, 0.3, 0.12, 0.12, 0.1, 0.04, 0.02]  # fmt: skip
_WEEKEND = [0.005] * 9 + [0.03, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03] + [0.01] * 6
_OFFICE = [0.0] * 8 + [0.3, 1.0, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 0.8, 0.3] + [0.0] * 6


class _Who:
    """What never changes between one person's events, built once and shared by all their items (which are
    read-only: see `demo.shapes`)."""

    __slots__ = ("person", "usr", "usr_full", "home", "vpn", "ua")

    def __init__(self, p: Person, ua: str) -> None:
        self.person = p
        self.usr = person_usr(p)
        self.usr_full = person_usr(p, full=True)
        self.home = person_origin(p)
        self.vpn: Origin | None = ORIGINS[p.vpn] if p.vpn is not None else None
        self.ua = ua


def _browser(i: int) -> str:
    return BROWSER_UAS[i % len(BROWSER_UAS)]


_WHO = {p.key: _Who(p, _browser(i)) for i, p in enumerate(PEOPLE.values())}


class _Weighted:
    """`rng.choices(population, weights)[0]` with the cumulative weights summed once: the same draws
    (one `random()` each, the same bisection) without re-accumulating the weights on every call."""

    def __init__(self, population: Sequence[Any], weights: Sequence[float]) -> None:
        self.population = list(population)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1] + 0.0
        self.hi = len(self.cum) - 1

    def pick(self, rng: random.Random) -> Any:
        return self.population[bisect_right(self.cum, rng.random() * self.total, 0, self.hi)]


class _Actor:
    __slots__ = ("kind", "ref", "tz", "weight", "profile", "weekend")

    def __init__(
        self, kind: str, ref: Any, tz: str, weight: float, profile: list[float], weekend: list[float]
    ):
        self.kind = kind
        self.ref = ref
        self.tz = tz
        self.weight = weight
        self.profile = profile
        self.weekend = weekend


def _actors() -> list[_Actor]:
    out = [
        _Actor("person", _WHO[p.key], CITIES[p.city].tz, p.weight, _WEEKDAY, _WEEKEND)
        for p in PEOPLE.values()
    ]
    # Terraform runs from CI in Pacific business hours; the exporter and the Agents never sleep.
    out.append(
        _Actor("terraform", SERVICE_ACCOUNTS["terraform"], "America/Los_Angeles", 2.5, _OFFICE, [0.0] * 24)
    )
    out.append(_Actor("exporter", SERVICE_ACCOUNTS["exporter"], "UTC", 0.9, [1.0] * 24, [1.0] * 24))
    out.append(_Actor("agent", None, "UTC", 0.45, [1.0] * 24, [1.0] * 24))
    out.append(_Actor("workflow", None, "UTC", 0.12, [1.0] * 24, [1.0] * 24))
    return out


class _Offsets:
    """UTC offsets (ms) per zone per day: DST changes are followed without a tz lookup per event."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], int] = {}

    def get(self, tz: str, ms: int) -> int:
        day = ms // D
        key = (tz, day)
        off = self._cache.get(key)
        if off is None:
            if tz == "UTC":
                off = 0
            else:
                delta = datetime.fromtimestamp(day * 86400 + 43200, zone(tz)).utcoffset()
                off = int(delta.total_seconds() * 1000) if delta is not None else 0
            self._cache[key] = off
        return off


def _hourly_weights(actors: list[_Actor], end: int, hours: int) -> list[list[float]]:
    """Per hour (newest first), each actor's weight: its activity profile at that hour of its own local
    day and week. Local time is worked out once per zone and hour, not once per actor."""
    zones = sorted({a.tz for a in actors})
    zone_of = [zones.index(a.tz) for a in actors]
    # Each actor's weight by slot: local hour 0-23 on weekdays, 24-47 on weekends.
    slots = [[a.weight * v for v in a.profile] + [a.weight * v for v in a.weekend] for a in actors]
    offsets = _Offsets()
    rows = []
    for i in range(hours):
        mid = end - (i + 1) * H + H // 2
        local = [mid + offsets.get(tz, mid) for tz in zones]
        # 1970-01-01 was a Thursday: (days + 3) % 7 counts from Monday = 0.
        slot = [(t // H) % 24 + (0 if (t // D + 3) % 7 < 5 else 24) for t in local]
        rows.append([slots[j][slot[z]] for j, z in enumerate(zone_of)])
    return rows


def _allocate(weights: list[float], total: int) -> list[int]:
    """Integer counts proportional to weights summing exactly to `total` (largest remainder)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [w * total / s for w in weights]
    counts = [int(r) for r in raw]
    short = total - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[:short]:
        counts[i] += 1
    return counts


# -- background event builders ------------------------------------------------------------------


class _Background:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sh = Shapes(rng)
        self.paths = _Weighted([(m, t) for m, t, _ in SESSION_PATHS], [w for _, _, w in SESSION_PATHS])

    def event(self, actor: _Actor, ts: int) -> dict[str, Any]:
        kind = actor.kind
        if kind == "person":
            return self.person(actor.ref, ts)
        if kind == "terraform":
            return self.terraform(ts)
        if kind == "exporter":
            return self.key_request(
                ts, "exporter", EXPORTER_KEY, [("POST", "/api/v2/query/timeseries"), ("GET", "/api/v1/query")]
            )
        if kind == "agent":
            return self.sh.agent_update_config(ts, self.rng.choice(_AGENT_HOSTS))
        return self.sh.workflow_run(ts, self.rng.choice(_WORKFLOWS), SERVICE_ACCOUNTS["terraform"])

    def person(self, who: _Who, ts: int) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.72:
            return self.session_request(who, ts)
        if r < 0.78:
            return self.request_2022(who, ts)
        if r < 0.80:
            did = self.rng.choice(STABLE_DASHBOARDS)[0]
            return self.sh.request_authorized(ts, who.person, "dashboard", did, self.origin(who))
        if r < 0.83:
            return self.login(who, ts)
        if who.person.quiet:  # their changes (and so their non-AI scope) are planted exactly
            return self.session_request(who, ts)
        if r < 0.97:
            return self.change(who, ts)
        if r < 0.985:
            return self.logs_query(who, ts)
        return self.session_request(who, ts)

    def origin(self, who: _Who) -> Origin:
        if who.vpn is not None and self.rng.random() < 0.3:
            return who.vpn
        return who.home

    def session_request(self, who: _Who, ts: int) -> dict[str, Any]:
        rng = self.rng
        method, template = self.paths.pick(rng)
        path, route = _fill(rng, template)
        x = rng.random()
        code = (
            200
            if x < 0.975
            else (400 if x < 0.985 else 403 if x < 0.99 else 404 if x < 0.994 else 500 if x < 0.997 else 0)
        )
        return self.sh.request(
            ts, who.usr, "USER", who.person.email, self.origin(who), method, path, route, code, who.ua,
            host=SITE_APP_HOST,
        )  # fmt: skip

    def request_2022(self, who: _Who, ts: int) -> dict[str, Any]:
        rng = self.rng
        p = who.person
        method, template = self.paths.pick(rng)
        path, _ = _fill(rng, template)
        code = 200 if rng.random() < 0.98 else 400
        return self.sh.request_2022(ts, who.usr, p.email, p.ip, method, path, code, who.ua)

    def login(self, who: _Who, ts: int) -> dict[str, Any]:
        p = who.person
        ok = self.rng.random() < 0.94
        method = ("SAML" if p.key < "m" else "GOOGLE") if ok else "PASSWORD"
        if p.contractor:
            method = "PASSWORD"
        return self.sh.login(ts, who.usr_full, p.email, self.origin(who), ok, method, who.ua)

    def logs_query(self, who: _Who, ts: int) -> dict[str, Any]:
        rng = self.rng
        p = who.person
        search = rng.choice(
            ["service:checkout status:error", "env:prod source:nginx", "@http.status_code:>=500"]
        )
        return self.sh.change(
            ts, "Log Management", "logs_query", "queried", None, None, usr=who.usr_full,
            email=p.email, origin=self.origin(who),
            new={"query": {"search": search, "indexes": ["main"], "time_range": "15m", "limit": 50}},
            metadata={"user_uuid": p.uuid, "track": "logs"}, message=f"{p.email} successfully queried logs",
        )  # fmt: skip

    def change(self, who: _Who, ts: int) -> dict[str, Any]:
        rng = self.rng
        p = who.person
        area = rng.choice(p.scope)
        common: dict[str, Any] = {"usr": who.usr_full, "email": p.email, "origin": self.origin(who)}
        may_delete = p.key not in _PLANTED_ACTORS
        if area == "monitor":
            mid, name = rng.choice(STABLE_MONITORS)
            x = rng.random()
            action = "modified" if x < 0.85 else "created" if x < 0.97 else "resolved"
            if action == "created":
                mid = str(19124000 + rng.randrange(100_000))
            crit = rng.choice([300, 500, 800, 1000])
            return self.sh.change(
                ts, "Monitor", "monitor", action, mid, name, inner_tags=[f"monitor_id:{mid}", "origin:UI"],
                tags=TAGS_PREVIEW, prev={"options": {"thresholds": {"critical": crit}}} if action == "modified" else None,
                new={"options": {"thresholds": {"critical": crit + 100}}}, **common,
            )  # fmt: skip
        if area == "notebook":
            nid, name = rng.choice(NOTEBOOKS)
            action = "modified" if rng.random() < 0.85 else "created"
            if may_delete and rng.random() < 0.04:
                nid, name, action = (
                    str(8813000 + rng.randrange(10_000)),
                    f"Scratch {rng.randrange(100)}",
                    "deleted",
                )
            return self.sh.change(ts, "Notebook", "notebook", action, nid, name, **common)
        if area in ("pipeline", "index"):
            if area == "index" and rng.random() < 0.3:
                idx = rng.choice(LOG_INDEXES)
                return self.sh.change(
                    ts, "Log Management", "index", "modified", idx, idx, tags=TAGS_NOTABLE,
                    prev={"daily_limit": 50_000_000}, new={"daily_limit": 80_000_000}, **common,
                )  # fmt: skip
            pid, name = rng.choice(STABLE_PIPELINES)
            kind = "pipeline" if rng.random() < 0.6 else "pipeline_processor"
            return self.sh.change(ts, "Log Management", kind, "modified", pid, name, **common)
        if area == "synthetics_test":
            sid, name = rng.choice(SYNTHETICS)
            return self.sh.change(
                ts, "Synthetics Monitoring", "synthetics_test", "modified", sid, name, **common
            )
        if area == "slo":
            sid, name = rng.choice(SLOS)
            return self.sh.change(ts, "SLO", "slo", "modified", sid, name, **common)
        if area == "metric":
            m = rng.choice(METRICS)
            return self.sh.change(
                ts, "Metrics", "metric", "modified", m, m, tags=TAGS_NOTABLE,
                new={"tags": ["env", "service", "region"]}, **common,
            )  # fmt: skip
        if area == "apm":
            return self.sh.change(
                ts, "APM", "retention_filter", "modified", f"rf-{rng.randrange(1000, 9999)}", "Errors and slow spans",
                tags=TAGS_NOTABLE, new={"rate": rng.choice([0.1, 0.5, 1.0])}, **common,
            )  # fmt: skip
        if area == "rum":
            return self.sh.change(
                ts, "Real User Monitoring", "real_user_monitoring_application", "modified",
                "3f9c1a7e-5b2d-4e80-9a6c-d1e4f7b0c352", "web-storefront", **common,
            )  # fmt: skip
        if area == "integration":
            name = rng.choice(INTEGRATIONS)
            return self.sh.change(
                ts, "Integration", "integration", "modified", name, name, tags=TAGS_PREVIEW,
                prev={"channels": ["#alerts"]}, new={"channels": ["#alerts", "#sre-oncall"]}, **common,
            )  # fmt: skip
        if area == "security_rule":
            return self.sh.change(
                ts, "Cloud Security Platform", "security_signal", "modified", f"AAAAA{rng.getrandbits(60):015x}",
                "Suspicious login pattern", new={"state": "archived"}, **common,
            )  # fmt: skip
        # dashboards (also the fallback for areas whose changes are planted: roles, keys, policies)
        did, name = rng.choice(STABLE_DASHBOARDS)
        x = rng.random()
        if x < 0.82:
            prev = None
            if rng.random() < 0.05:  # quirk 12: whole dashboard definitions in prev_value
                prev = {"dashboard_definition": _dashboard_definition(rng, name)}
            return self.sh.change(ts, "Dashboard", "dashboard", "modified", did, name, prev=prev, **common)
        if x < 0.95 or not may_delete:
            nid = f"{_code(rng)}-{_code(rng)}-{_code(rng)}"
            return self.sh.change(ts, "Dashboard", "dashboard", "created", nid, f"Copy of {name}", **common)
        nid = f"{_code(rng)}-{_code(rng)}-{_code(rng)}"
        return self.sh.change(ts, "Dashboard", "dashboard", "deleted", nid, f"Copy of {name}", **common)

    def key_request(self, ts: int, owner: str, key: str, paths: list[tuple[str, str]]) -> dict[str, Any]:
        rng = self.rng
        sa = SERVICE_ACCOUNTS[owner]
        method, template = rng.choice(paths)
        path, route = _fill(rng, template)
        code = 200 if rng.random() < 0.99 else 429
        return self.sh.request(
            ts, sa_usr(sa), "SERVICE_ACCOUNT", sa.email, sa.origin, method, path, route, code, sa.useragent,
            api_key=key, app_key=API_KEYS[key].app_key_id,
        )  # fmt: skip

    def terraform(self, ts: int) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.08:
            sa = SERVICE_ACCOUNTS["terraform"]
            mid, name = rng.choice(STABLE_MONITORS)
            return self.sh.change(
                ts, "Monitor", "monitor", "modified", mid, name, usr=sa_usr(sa), actor_type="SERVICE_ACCOUNT",
                email=sa.email, origin=sa.origin, auth="API_AND_APP_KEY",
                metadata={"api_key": {"id": TERRAFORM_KEY}, "application_key": {"id": API_KEYS[TERRAFORM_KEY].app_key_id}},
                inner_tags=[f"monitor_id:{mid}", "origin:terraform"], tags=TAGS_PREVIEW,
            )  # fmt: skip
        return self.key_request(
            ts,
            "terraform",
            TERRAFORM_KEY,
            [("GET", "/api/v1/monitor/{mon}"), ("GET", "/api/v1/dashboard/{dash}"), ("PUT", "/api/v1/monitor/{mon}"),
             ("GET", "/api/v2/roles"), ("GET", "/api/v1/synthetics/tests/{syn}")],
        )  # fmt: skip


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(3))


def _fill(rng: random.Random, template: str) -> tuple[str, str]:
    if "{" not in template:
        return template, template
    path = route = template
    if "{dash}" in path:
        path = path.replace("{dash}", rng.choice(STABLE_DASHBOARDS)[0])
        route = route.replace("{dash}", "{dashboard_id}")
    if "{mon}" in path:
        path = path.replace("{mon}", rng.choice(STABLE_MONITORS)[0])
        route = route.replace("{mon}", "{monitor_id}")
    if "{syn}" in path:
        path = path.replace("{syn}", rng.choice(SYNTHETICS)[0])
        route = route.replace("{syn}", "{public_id}")
    return path, route


def _dashboard_definition(rng: random.Random, title: str) -> dict[str, Any]:
    widgets = [
        {
            "id": rng.getrandbits(52),
            "definition": {
                "type": "timeseries",
                "title": f"{title} — panel {i}",
                "requests": [{"q": f"avg:trace.http.request.duration{{service:svc-{i}}} by {{resource_name}}",
                              "display_type": "line", "style": {"palette": "dog_classic"}}],
            },
            "layout": {"x": (i % 4) * 3, "y": (i // 4) * 2, "width": 3, "height": 2},
        }
        for i in range(24)
    ]  # fmt: skip
    return {"title": title, "layout_type": "ordered", "widgets": widgets, "template_variables": []}


# -- the generator ------------------------------------------------------------------------------

_TS_ID = itemgetter(0, 1)  # sort key of (ts, id, item) rows


def _planted_in_window(end_ms: int, start_ms: int) -> list[tuple[int, str, dict[str, Any]]]:
    items, _ = build_planted(end_ms)
    out = []
    for it in items:
        ts = parse_timestamp(it["attributes"]["timestamp"]) or 0
        if start_ms <= ts < end_ms:
            out.append((ts, it["id"], it))
    return out


def iter_items(
    seed: int = 7, events: int | None = None, end_ms: int | None = None, days: int = 90
) -> Iterator[list[dict[str, Any]]]:
    """The demo items in chunks of one day each, newest first within and across chunks.

    With `events=N` exactly N items are produced: the background is scaled to N minus the planted
    items in the window. If N is smaller than the planted set, the N newest planted items are kept.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    end = _now_minute_ms() if end_ms is None else int(end_ms)
    start = end - days * D
    total = default_events(days) if events is None else int(events)
    if total < 0:
        raise ValueError("events must not be negative")
    with gc_paused():
        planted = _planted_in_window(end, start)
    planted.sort(key=_TS_ID, reverse=True)
    if total < len(planted):
        planted = planted[:total]
        background = 0
    else:
        background = total - len(planted)

    rng = random.Random(seed)
    actors = _actors()
    hours = days * 24
    per_hour = _hourly_weights(actors, end, hours)
    totals = [sum(row) * rng.lognormvariate(0.0, 0.25) for row in per_hour]  # day-to-day variation
    counts = _allocate(totals, background)

    bg = _Background(rng)
    getrandbits, hour_bits = rng.getrandbits, H.bit_length()
    pi = 0
    for chunk_start in range(0, hours, CHUNK_HOURS):
        chunk_end = min(hours, chunk_start + CHUNK_HOURS)
        chunk: list[tuple[int, str, dict[str, Any]]] = []
        with gc_paused():  # not across the yield: the consumer's own code runs with the GC as it was
            for i in range(chunk_start, chunk_end):
                n = counts[i]
                if not n:
                    continue
                hour_start = end - (i + 1) * H
                for a in rng.choices(actors, weights=per_hour[i], k=n):
                    # `hour_start + rng.randrange(H)` spelled out (the same draws as CPython's
                    # `_randbelow`): two Python calls fewer per event.
                    r = getrandbits(hour_bits)
                    while r >= H:
                        r = getrandbits(hour_bits)
                    item = bg.event(a, hour_start + r)
                    chunk.append((bg.sh.last_ts, item["id"], item))
        lower = end - chunk_end * H
        while pi < len(planted) and planted[pi][0] >= lower:
            chunk.append(planted[pi])
            pi += 1
        chunk.sort(key=_TS_ID, reverse=True)
        yield [t[2] for t in chunk]


def generate(
    seed: int = 7, events: int | None = None, end_ms: int | None = None, days: int = 90
) -> list[dict[str, Any]]:
    """All demo items, newest first (see `iter_items`). Deterministic for (seed, events, end_ms, days)."""
    out: list[dict[str, Any]] = []
    with gc_paused():  # the whole list: each chunk would otherwise be walked as the list grows
        for chunk in iter_items(seed, events, end_ms, days):
            out.extend(chunk)
    return out


def write_demo_data(
    path_or_stream: str | Path | IO[bytes],
    events: int | None = None,
    seed: int = 7,
    fmt: str = "json",
    end_ms: int | None = None,
    days: int = 90,
) -> int:
    """Write demo items as one `{"data": [...], "meta": {"page": {}}}` document or as NDJSON.

    Streams day-sized chunks (low memory even for 200,000 events). Returns the number written.
    """
    if fmt not in ("json", "ndjson"):
        raise ValueError(f"unknown format {fmt!r}: expected json or ndjson")
    if isinstance(path_or_stream, str | Path):
        with Path(path_or_stream).expanduser().open("wb") as fh:
            return _write(fh, events, seed, fmt, end_ms, days)
    return _write(path_or_stream, events, seed, fmt, end_ms, days)


def _write(out: IO[bytes], events: int | None, seed: int, fmt: str, end_ms: int | None, days: int) -> int:
    enc = msgspec.json.Encoder()
    n = 0
    with gc_paused():  # each chunk is freed by reference counting once written
        if fmt == "json":
            out.write(b'{"data":[')
        for chunk in iter_items(seed, events, end_ms, days):
            if not chunk:
                continue
            if fmt == "json":
                if n:
                    out.write(b",")
                # One encode per chunk: `[a,b,…]` without its brackets is the items joined by ",".
                out.write(memoryview(enc.encode(chunk))[1:-1])
            else:
                out.write(enc.encode_lines(chunk))  # one item per line, each line ending in "\n"
            n += len(chunk)
        if fmt == "json":
            out.write(b'],"meta":{"page":{}}}\n')
    out.flush()
    return n


# -- live mode -----------------------------------------------------------------------------------


class LiveDemo:
    """New events over wall-clock time: a trickle of requests, and now and then a planted burst.

    `advance(now_ms)` returns the items that "happened" since the previous call (oldest first), each
    stamped with its own moment in (previous, now]; nothing is ever stamped in the future. Bursts cycle
    through role grants, key minting, a monitor deletion and a bulk dashboard deletion.
    """

    BURSTS = ("role_grants", "key_minting", "monitor_deletion", "bulk_deletion")

    def __init__(
        self,
        seed: int = 7,
        *,
        base: list[dict[str, Any]] | None = None,
        start_ms: int | None = None,
        clock: Callable[[], float] = time.time,
        rate_per_min: float = 20.0,
        burst_every_s: float = 600.0,
        first_burst_after_s: float = 60.0,
        max_catchup_s: float = 900.0,
    ) -> None:
        self.clock = clock
        self.rng = random.Random(f"ddaudit-live-{seed}")
        self.bg = _Background(self.rng)
        if start_ms is None and base:
            start_ms = max(parse_timestamp(it["attributes"]["timestamp"]) or 0 for it in base)
        self.last_ms = int(clock() * 1000) if start_ms is None else int(start_ms)
        self.rate_per_ms = max(rate_per_min, 0.0) / M
        self.burst_every_ms = int(burst_every_s * 1000)
        self.max_catchup_ms = int(max_catchup_s * 1000)
        self._next_ms = self.last_ms + self._gap()
        self._next_burst_ms = self.last_ms + int(first_burst_after_s * 1000)
        self._burst_no = 0
        self._pending: list[tuple[int, int, dict[str, Any]]] = []  # heap of (ts, seq, item)
        self._seq = 0
        self._people = [p for p in PEOPLE.values() if not p.contractor]
        self._weights = [p.weight for p in self._people]
        self.bursts: list[tuple[str, int]] = []  # (kind, start ms) of every burst emitted so far

    def _gap(self) -> int:
        if self.rate_per_ms <= 0:
            return 10**15
        return max(1, int(self.rng.expovariate(self.rate_per_ms)))

    def _push(self, ts: int, item: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (ts, self._seq, item))

    def advance(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        now = int(self.clock() * 1000) if now_ms is None else int(now_ms)
        if now <= self.last_ms:
            return []
        floor = now - self.max_catchup_ms  # after a long pause, do not invent hours of backlog
        if self._next_ms < floor:
            self._next_ms = floor + self._gap()
        while self._next_ms <= now:
            p = self.rng.choices(self._people, weights=self._weights)[0]
            self._push(self._next_ms, self.bg.session_request(_WHO[p.key], self._next_ms))
            self._next_ms += self._gap()
        while self.burst_every_ms > 0 and self._next_burst_ms <= now:
            self._burst(max(self._next_burst_ms, floor))
            self._next_burst_ms += self.burst_every_ms
        out = []
        while self._pending and self._pending[0][0] <= now:
            out.append(heapq.heappop(self._pending)[2])
        self.last_ms = now
        return out

    async def stream(self, interval_s: float = 5.0) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield the new items every `interval_s` seconds (forever)."""
        while True:
            await asyncio.sleep(interval_s)
            items = self.advance()
            if items:
                yield items

    def _burst(self, t: int) -> None:
        kind = self.BURSTS[self._burst_no % len(self.BURSTS)]
        self._burst_no += 1
        self.bursts.append((kind, t))
        sh, rng = self.bg.sh, self.rng
        if kind == "role_grants":
            who = PEOPLE["dave"]
            for i, grantee in enumerate(("tom", "zoe", "nina", "omar")):
                g = PEOPLE[grantee]
                role = ROLES[i % 2 * 3]
                self._push(t + i * 40 * S, sh.change(
                    t + i * 40 * S, "Access Management", "role", "modified", role[0], role[1],
                    usr=person_usr(who, full=True), email=who.email, origin=person_origin(who),
                    prev={"users": {"count": 7 + i}}, new={"users": {"count": 8 + i, "added": [g.email]}},
                ))  # fmt: skip
        elif kind == "key_minting":
            who = PEOPLE["jdoe"]
            for i in range(3):
                self._push(t + i * 50 * S, sh.change(
                    t + i * 50 * S, "Authentication", "api_key", "created", sh.uuid(), f"live-temp-{self._burst_no}-{i}",
                    usr=person_usr(who, full=True), email=who.email, origin=person_origin(who),
                    http=("POST", "/api/v2/api_keys", 201),
                ))  # fmt: skip
        elif kind == "monitor_deletion":
            who = PEOPLE["sara"]
            mid = str(19125000 + rng.randrange(10_000))
            self._push(t, sh.change(
                t, "Monitor", "monitor", "deleted", mid, f"[Staging] canary {mid[-3:]}", usr=person_usr(who, full=True),
                email=who.email, origin=person_origin(who), inner_tags=[f"monitor_id:{mid}", "origin:UI"],
            ))  # fmt: skip
        else:
            who = PEOPLE["matt"]
            for i in range(11):
                did = f"{_code(rng)}-{_code(rng)}-{_code(rng)}"
                self._push(t + i * 15 * S, sh.change(
                    t + i * 15 * S, "Dashboard", "dashboard", "deleted", did, f"[Scratch] board {i + 1}",
                    usr=person_usr(who, full=True), email=who.email, origin=person_origin(who),
                ))  # fmt: skip


# Small helper for callers that need a planted time without generating the whole org.
def planted_times(end_ms: int) -> dict[str, int]:
    return PLANTED.times(end_ms)
