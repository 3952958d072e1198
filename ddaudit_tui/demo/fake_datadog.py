"""A fake of the Datadog API, in-process (an httpx transport) or on a loopback port.

It serves any list of audit events through the real endpoints and the real response shapes, so the real
client (`httpx.AsyncClient(transport=fake)`, or a plain client against `start_loopback(fake)` from
`demo/loopback.py`) runs its real code: request bodies and query strings, date math, the `[from, to)`
window, sort, cursor paging with the recorded quirks (a short page still has a cursor; the terminal page
is exactly `{"data":[]}`), auth headers, `X-RateLimit-*` headers and the empty-bodied 429, the API Keys
API and the validate endpoints — and scripted faults (5xx, timeouts, resets, truncated bodies, partial
pages, duplicates, rejected cursors). Shapes: `reference/datadog-api.md` §1–3.

Endpoints:
    POST   /api/v2/audit/events/search      GET /api/v2/audit/events
    GET    /api/v2/api_keys/{id}            DELETE /api/v2/api_keys/{id}       GET /api/v2/api_keys
    GET    /api/v2/validate_keys            GET /api/v1/validate               GET /api/v2/validate
    POST   /api/v2/ddsql/query/tabular      POST /api/v2/ddsql/query/tabular/fetch   (`fake_ddsql`)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import msgspec

from ddaudit_tui.demo.credentials import DEMO_API_KEY, DEMO_APP_KEY, DEMO_TOKEN
from ddaudit_tui.demo.fake_ddsql import DDSQL_PERMISSION, EXECUTE_PATH, FETCH_PATH, DdsqlConfig, FakeDdsql
from ddaudit_tui.events.decode import decode_item, parse_timestamp
from ddaudit_tui.events.record import KIND_API, Event

if TYPE_CHECKING:  # the demo's catalogue: imported when the org is built, after the TUI's first frame
    from ddaudit_tui.demo.fake_api_keys import KeyTable

__all__ = [
    "DEMO_API_KEY",
    "DEMO_APP_KEY",
    "DEMO_TOKEN",
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "FakeCredentials",
    "FakeDatadog",
    "LoggedRequest",
    "RateLimit",
]


AUDIT_PERMISSION = "audit_logs_read"
ALL_PERMISSIONS = frozenset(
    {AUDIT_PERMISSION, "api_keys_read", "api_keys_write", "api_keys_delete", DDSQL_PERMISSION}
)

SEARCH_PATH = "/api/v2/audit/events/search"
LIST_PATH = "/api/v2/audit/events"
KEYS_PATH = "/api/v2/api_keys"
DDSQL_PATHS = (EXECUTE_PATH, FETCH_PATH)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


# -- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeCredentials:
    """What the fake accepts: an API + application key pair (both headers), or any of the bearer tokens."""

    api_key: str = DEMO_API_KEY
    app_key: str = DEMO_APP_KEY
    tokens: tuple[str, ...] = (DEMO_TOKEN,)
    api_key_id: str = "0d3e5f7a-1b2c-4d6e-8f90-a1b2c3d4e5f6"  # what /api/v2/validate reports for it

    def headers(self) -> dict[str, str]:
        return {"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key}


@dataclass
class RateLimit:
    """One rate-limit budget: `limit` requests per calendar-aligned `period_s` (fake clock).

    `on_exhausted` decides the 429: "empty" (recorded: headers, empty body), "json" (headers and
    `{"errors":["Too many requests"]}`) or "no_headers" (empty body and no `X-RateLimit-*` at all).
    """

    limit: int = 1000
    period_s: int = 60
    name: str = "audit_logs_search"
    on_exhausted: str = "empty"


# Fault kinds: HTTP status answers, transport failures, and damaged-but-200 answers.
FAULT_KINDS = (
    "429",  # rate limited (see Fault.headers / Fault.body)
    "500",
    "502",
    "503",
    "timeout",  # in-process: httpx.ReadTimeout (after Fault.sleep_s); loopback: no answer for sleep_s
    "reset",  # in-process: httpx.RemoteProtocolError; loopback: TCP RST without an answer
    "truncated",  # 200 with the body cut in half (valid JSON prefix)
    "partial",  # meta.status "timeout" + meta.warnings, half a page, cursor still valid
    "duplicate",  # the page repeats the last `overlap` events of the previous page
    "short_page",  # fewer events than the limit, with a cursor (the recorded 2 / 1 / empty pattern)
    "bad_cursor",  # 400 {"errors":["Invalid cursor"]} (only on requests that carry a cursor)
    "stuck",  # the first page again (the same events), with a new cursor every time: endless
    "empty_cursor",  # no events, yet a cursor to where the page should have been: paging goes on
    "links_only",  # no meta.page.after, only links.next (whose page[cursor] is the cursor)
    "trickle",  # the page's body sent one byte every Fault.sleep_s (default 1 s): never a read timeout
)


@dataclass(frozen=True)
class Fault:
    kind: str
    headers: bool = True  # 429: send X-RateLimit-* headers
    body: str = "empty"  # 429: "empty" or "json"
    reset_s: int = 1  # 429: X-RateLimit-Reset
    sleep_s: float = 0.0  # timeout: in-process delay before raising; loopback stall (default 2 s);
    # trickle: the pause before each byte (default 1 s)
    overlap: int = 3  # duplicate: events repeated from the previous page
    keep: float = 0.5  # short_page / partial: share of the page kept

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}: expected one of {', '.join(FAULT_KINDS)}")


@dataclass
class FaultPlan:
    """Faults by request number (`at`, 1-based) and/or by probability per request (`rates`, seeded).

    Requests are counted over the audit endpoints only unless `endpoints="all"`.
    """

    at: dict[int, Fault | str] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    endpoints: str = "audit"

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.at = {n: (f if isinstance(f, Fault) else Fault(f)) for n, f in self.at.items()}
        for kind in self.rates:
            Fault(kind)  # validates

    def pick(self, n: int) -> Fault | None:
        scripted = self.at.get(n)
        if scripted is not None:
            return scripted  # type: ignore[return-value]
        for kind, p in sorted(self.rates.items()):
            if self._rng.random() < p:
                return Fault(kind)
        return None


@dataclass
class LoggedRequest:
    """One request as the fake received it (header names lower-cased) and what it answered."""

    method: str
    url: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    fault: str | None = None

    def json(self) -> Any:
        return _dec.decode(self.body) if self.body else None


@dataclass
class Outcome:
    """What to answer: a response, or a transport-level failure (`action` "timeout" / "reset")."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    action: str | None = None
    sleep_s: float = 0.0


class _BadRequest(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


# -- time parsing (the API's accepted formats) --------------------------------------------------

_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_MATH = re.compile(r"^now((?:[+-]\d+[smhdw])*)(?:/([smhdw]))?$")
_TERM = re.compile(r"([+-])(\d+)([smhdw])")


def parse_api_time(value: Any, now_ms: int) -> int:
    """`from`/`to` as the API takes them: date math (`now`, `now-15m`, `now/d`), ISO-8601, epoch-ms
    strings (or numbers). Anything else — notably a bare `1h` — is a 400, as on the real API."""
    if isinstance(value, bool):
        raise _BadRequest(f"Invalid time value: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str) or not value.strip():
        raise _BadRequest(f"Invalid time value: {value!r}")
    s = value.strip()
    m = _MATH.match(s)
    if m:
        ms = now_ms
        for sign, n, unit in _TERM.findall(m.group(1)):
            ms += (1 if sign == "+" else -1) * int(n) * _UNIT_MS[unit]
        if m.group(2):
            ms -= ms % _UNIT_MS[m.group(2)]
        return ms
    if s.isdigit():
        return int(s)
    if "T" in s or re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        try:
            dt = datetime.fromisoformat(s.replace("z", "Z"))
        except ValueError:
            raise _BadRequest(f"Invalid time value: {s!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp() * 1000)
    raise _BadRequest(f"Invalid time value: {s!r} (expected date math such as now-15m, ISO-8601 or epoch ms)")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


# -- cursors ---------------------------------------------------------------------------------------


def encode_cursor(ts: int, event_id: str, nonce: int | None = None) -> str:
    """Opaque like the real one: base64url (no padding) of `{"after": "..."}`. A `nonce` makes a new
    cursor for the same position (servers that go nowhere with fresh cursors)."""
    doc: dict[str, Any] = {"after": f"{ts}|{event_id}"}
    if nonce is not None:
        doc["n"] = nonce
    raw = _enc.encode(doc)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = _dec.decode(raw)["after"]
        ts, event_id = after.split("|", 1)
        return int(ts), event_id
    except (binascii.Error, msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise _BadRequest("Invalid cursor") from None


# -- the fake -------------------------------------------------------------------------------------


def _item_key(item: Any) -> tuple[int, str] | None:
    """(ts, id) of a well-formed API item dict, read directly: exactly what decoding its JSON would give
    (`decode_item` takes `str(id)` and parses `attributes.timestamp` the same way), at a fraction of the
    cost. None for anything else — an archive-like `date`, a missing or non-string id or timestamp."""
    if type(item) is not dict or "date" in item:
        return None
    event_id = item.get("id")
    attrs = item.get("attributes")
    if type(event_id) is not str or type(attrs) is not dict:
        return None
    stamp = attrs.get("timestamp")
    ts = parse_timestamp(stamp) if type(stamp) is str else None
    return None if ts is None else (ts, event_id)


def _error(status: int, *messages: str) -> tuple[int, bytes]:
    return status, _enc.encode({"errors": list(messages)})


class _Trickle(httpx.AsyncByteStream):
    """A body that arrives one byte at a time (the in-process side of the "trickle" fault)."""

    def __init__(self, body: bytes, pause_s: float) -> None:
        self.body, self.pause_s = body, pause_s

    async def __aiter__(self):  # type: ignore[override]
        for i in range(len(self.body)):
            await asyncio.sleep(self.pause_s)
            yield self.body[i : i + 1]


class FakeDatadog(httpx.AsyncBaseTransport):
    """A fake Datadog API over a list of audit events (API items as dicts, or `Event` records).

    Use in-process as the transport of an `httpx.AsyncClient`, or over a socket with
    `demo.loopback.start_loopback`.
    `requests` logs every request received. Thread-safe (the loopback server is threaded).
    """

    def __init__(
        self,
        events: Iterable[Event] | Iterable[dict[str, Any]] = (),
        *,
        api_keys: dict[str, dict[str, Any]] | None = None,
        latency_s: float = 0.0,
        page_limit_max: int = 1000,
        faults: FaultPlan | None = None,
        require_auth: bool = True,
        clock: Callable[[], float] = time.time,
        credentials: FakeCredentials | None = None,
        permissions: Iterable[str] = ALL_PERMISSIONS,
        rate_limit: RateLimit | None = None,
        live: Any = None,
        meta: str = "full",
        default_sort: str = "-timestamp",
        org_uuid: str = "4f6b2c1e-7d3a-4e89-9b21-5c0d8a7e3f10",
        log_limit: int | None = 10_000,
        auth_echo: str | None = None,
        ddsql: DdsqlConfig | None = None,
        ddsql_rate_limit: RateLimit | None = None,
        heavy: Any = None,
    ) -> None:
        self.latency_s = latency_s
        # How a refusal echoes what it was sent (gateways do), with a 401: None; "after160" (the API
        # key, raw, after 170 characters of text: across a 200-character cut); "prefix" (`id=<its
        # first 12 characters>`); "basic" (the `Authorization` header: `Basic base64(user:password)`).
        self.auth_echo = auth_echo
        self.page_limit_max = page_limit_max
        self.faults = faults
        self.require_auth = require_auth
        self.clock = clock
        self.credentials = credentials or FakeCredentials()
        self.permissions = set(permissions)
        self.rate_limit = rate_limit or RateLimit()
        self.other_rate_limit = RateLimit(limit=1000, period_s=60, name="api_keys")
        # DDSQL has its own budget, observed as 60 per 20 s (ddsql-api.md §7.4 [3P]).
        self.ddsql_rate_limit = ddsql_rate_limit or RateLimit(60, 20, "logs_advanced_query_api_query")
        self.ddsql = FakeDdsql(self, ddsql)
        self.live = live  # anything with `.advance(now_ms) -> list[dict]` (demo.org.LiveDemo)
        self.meta_style = meta  # "full" (elapsed, request_id, status) or "recorded" (page.after only)
        self.default_sort = default_sort
        self.org_uuid = org_uuid
        # The newest `log_limit` requests (a live demo serves for hours; the log must not grow forever).
        self.requests: deque[LoggedRequest] = deque(maxlen=log_limit)
        self.request_count = 0  # every request
        self.audit_request_count = 0  # requests to the audit endpoints (what FaultPlan numbers)
        self._lock = threading.RLock()
        self._keys: list[tuple[int, str]] = []  # (ts, id), ascending
        self._raws: list[bytes] = []  # each event's JSON, encoded once: pages are joined from these
        # Decoded on first use (None until then): serving `*` needs only the keys and the raw bytes.
        self._events: list[Event | None] = []
        self._ids: set[str] = set()
        self._version = 0
        self._cache: dict[tuple[str, int, int], tuple[int, Any]] = {}
        self._rl_window: dict[str, tuple[int, int]] = {}  # bucket name -> (window index, used)
        self._request_seq = 0
        self._api_key_overrides = dict(api_keys or {})
        self._key_table: KeyTable | None = None
        # The demo's heavy key (`demo.heavy.HeavyKey`): a million events as columns, built only when a
        # filter names the key, and served beside the stored events (`_Merged`); None: no such key.
        self.heavy = heavy
        self.add_events(events)

    # -- data ------------------------------------------------------------------------------------

    @classmethod
    def from_demo(
        cls,
        seed: int = 7,
        events: int | None = None,
        end_ms: int | None = None,
        live: bool = False,
        heavy: bool = True,
        **kwargs: Any,
    ) -> FakeDatadog:
        """The demo org behind a fake API (optionally alive: new events keep arriving). `heavy`: with the
        heavy key (`demo.heavy`), whose events are generated only when a request names it."""
        from ddaudit_tui.demo.org import LiveDemo, _now_minute_ms, generate
        from ddaudit_tui.demo.shapes import gc_paused

        end_ms = _now_minute_ms() if end_ms is None else int(end_ms)
        if heavy and "heavy" not in kwargs:
            from ddaudit_tui.demo.heavy import HeavyKey

            kwargs["heavy"] = HeavyKey(seed, end_ms)

        # The items only live until they are encoded: with the cyclic GC paused throughout, they are
        # freed by reference counting without the collector ever walking them.
        with gc_paused():
            items = generate(seed=seed, events=events, end_ms=end_ms)
            if live:
                kwargs["live"] = LiveDemo(seed, base=items, clock=kwargs.get("clock", time.time))
            fake = cls(items, **kwargs)
            del items
        return fake

    def add_events(self, events: Iterable[Event] | Iterable[dict[str, Any]]) -> int:
        """Add events (dedup by id); returns how many were new. Raw bytes are kept and served unchanged."""
        # (imported here: the demo's catalogue is not needed before the TUI's first frame, issue 12)
        from ddaudit_tui.demo.shapes import gc_paused

        with self._lock, gc_paused():  # see gc_paused: the items are often temporaries
            return self._add_events(events)

    def _add_events(self, events: Iterable[Event] | Iterable[dict[str, Any]]) -> int:
        new: list[tuple[tuple[int, str], bytes, Event | None]] = []
        ids = self._ids
        for item in events:
            ev: Event | None
            if isinstance(item, Event):
                raw = item.raw if item.kind == KIND_API else _enc.encode(item.api_item())
                ev = item if item.kind == KIND_API else decode_item(raw, "<fake>", KIND_API)
                key = (ev.ts, ev.id)
            else:
                raw = _enc.encode(item)
                ev = None  # decoded on first use
                item_key = _item_key(item)
                if item_key is None:  # an unusual shape: let the decoder settle it (or reject it) now
                    ev = decode_item(raw, "<fake>", KIND_API)
                    item_key = (ev.ts, ev.id)
                key = item_key
            if key[1] in ids:
                continue
            ids.add(key[1])
            new.append((key, raw, ev))
        if not new:
            return 0
        new.sort(key=lambda t: t[0])
        if not self._keys or new[0][0] >= self._keys[-1]:
            # The common case (initial load, live events stamped "now"): append in order.
            for key, raw, ev in new:
                self._keys.append(key)
                self._raws.append(raw)
                self._events.append(ev)
        else:
            merged = sorted(
                [*zip(self._keys, self._raws, self._events, strict=True), *new], key=lambda t: t[0]
            )
            self._keys = [t[0] for t in merged]
            self._raws = [t[1] for t in merged]
            self._events = [t[2] for t in merged]
        self._version += 1
        self._cache.clear()
        self._key_table = None
        return len(new)

    @property
    def events(self) -> list[Event]:
        """The stored events, oldest first."""
        with self._lock:
            return self._decoded(0, len(self._events))

    def _decoded(self, lo: int, hi: int) -> list[Event]:
        """The events at indices [lo, hi), decoding (once) those not decoded yet."""
        events, raws = self._events, self._raws
        out: list[Event] = []
        for i in range(lo, hi):
            ev = events[i]
            if ev is None:
                ev = events[i] = decode_item(raws[i], "<fake>", KIND_API)
            out.append(ev)
        return out

    def matching_events(self, query: str, start: int, end: int) -> list[Event]:
        """The events in [start, end) matching `query`, oldest first: what the search endpoint serves
        (the same matcher, the same cache), for DDSQL's `dd.audit(filter => ...)`."""
        with self._lock:
            matched = self._match(query, start, end)
            if isinstance(matched, range):
                return self._decoded(matched.start, matched.stop)
            if isinstance(matched, _Merged):
                return [self._event_of(r) for r in matched]
            return [self._decoded(i, i + 1)[0] for i in matched]

    def ddsql_sources(self, query: str, start: int, end: int) -> tuple[list[Event], Any]:
        """For DDSQL: the stored events matching `query` in [start, end), and the heavy key's matching rows
        (None when it has none) — read from the heavy key's own SQLite tables, never built as events."""
        with self._lock:
            matched = self._match(query, start, end)
            if not isinstance(matched, _Merged):
                return self.matching_events(query, start, end), None
            return [self._event_of(r) for r in matched.org], matched.rows

    # A match is a sequence of refs: a stored event's index (>= 0), or a heavy row `j` as `-(j + 1)`.

    def _key_of(self, ref: int) -> tuple[int, str]:
        return self._keys[ref] if ref >= 0 else self.heavy.key(-ref - 1)

    def _raw_of(self, ref: int) -> bytes:
        return self._raws[ref] if ref >= 0 else self.heavy.raw(-ref - 1)

    def _event_of(self, ref: int) -> Event:
        return self._decoded(ref, ref + 1)[0] if ref >= 0 else self.heavy.event(-ref - 1)

    @property
    def key_table(self) -> KeyTable:
        from ddaudit_tui.demo.fake_api_keys import KeyTable

        with self._lock:
            if self._key_table is None:
                overrides = dict(self._api_key_overrides)
                if self.heavy is not None:  # listed without building it: its spec needs no events
                    overrides.setdefault(self.heavy.key_id, self.heavy.key_spec())
                self._key_table = KeyTable.build(self.events, overrides)
            return self._key_table

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- httpx transport ---------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        base = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        args = (request.method, request.url.raw_path.decode("ascii"), request.headers, body, base)
        if self.heavy is not None and self.heavy.key_id.encode() in body.lower():
            # The heavy key's answers take seconds (its first build, SQLite over a million rows): off the
            # caller's event loop, which may be the TUI's. Other requests stay inline, in order.
            outcome = await asyncio.to_thread(self.handle, *args)
        else:
            outcome = self.handle(*args)
        if outcome.action == "timeout":
            if outcome.sleep_s > 0:
                await asyncio.sleep(outcome.sleep_s)
            raise httpx.ReadTimeout("fake: the server did not answer in time", request=request)
        if outcome.action == "reset":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if outcome.action == "trickle":
            return httpx.Response(
                outcome.status,
                headers=[*outcome.headers, ("Content-Length", str(len(outcome.body)))],
                stream=_Trickle(outcome.body, outcome.sleep_s),
                request=request,
            )
        return httpx.Response(outcome.status, headers=outcome.headers, content=outcome.body, request=request)

    def client(self, base_url: str = "https://api.datadoghq.com", **kwargs: Any) -> httpx.AsyncClient:
        """An AsyncClient wired to this fake (with the accepted credentials unless headers are given)."""
        kwargs.setdefault("headers", self.credentials.headers())
        return httpx.AsyncClient(transport=self, base_url=base_url, **kwargs)

    # -- dispatch (shared by the transport and the loopback server) --------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, base_url: str) -> Outcome:
        hdrs = {str(k).lower(): str(v) for k, v in headers.items()}
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        log = LoggedRequest(method.upper(), base_url + raw_path, path, params, hdrs, body)
        with self._lock:
            self.requests.append(log)
            self.request_count += 1
            outcome = self._dispatch(log, base_url)
            log.status = outcome.status if outcome.action is None else None
        return outcome

    def _dispatch(self, req: LoggedRequest, base_url: str) -> Outcome:
        is_audit = req.path in (SEARCH_PATH, LIST_PATH)
        fault: Fault | None = None
        if self.faults is not None:
            counted = is_audit or self.faults.endpoints == "all"
            if is_audit:
                self.audit_request_count += 1
            n = self.audit_request_count if self.faults.endpoints != "all" else self.request_count
            if counted:
                fault = self.faults.pick(n)
        elif is_audit:
            self.audit_request_count += 1
        if fault is not None:
            req.fault = fault.kind

        is_ddsql = req.path in DDSQL_PATHS
        bucket = self.rate_limit if is_audit else self.ddsql_rate_limit if is_ddsql else self.other_rate_limit
        # Authentication first (a 403 still carries rate-limit headers on the real API).
        auth = self._authenticate(req)
        if auth is not None:
            status, payload = auth
            return self._respond(status, payload, bucket, consume=False)

        # Transport-level faults: nothing reaches the client.
        if fault is not None and fault.kind in ("timeout", "reset"):
            return Outcome(action=fault.kind, sleep_s=fault.sleep_s)
        if fault is not None and fault.kind == "429":
            return self._too_many(bucket, fault.headers, fault.body == "json", fault.reset_s)
        if fault is not None and fault.kind in ("500", "502", "503"):
            return self._server_error(int(fault.kind), bucket)

        # The real budget.
        if self._exhausted(bucket):
            return self._too_many(bucket, bucket.on_exhausted != "no_headers", bucket.on_exhausted == "json")

        try:
            if is_audit:
                if req.method not in ("GET", "POST") or (req.path == SEARCH_PATH) != (req.method == "POST"):
                    return self._respond(*_error(405, "Method Not Allowed"), bucket)
                status, payload = self._audit(req, base_url, fault)
            elif is_ddsql:
                if self.live is not None:
                    new = self.live.advance(self._now_ms())
                    if new:
                        self.add_events(new)
                status, payload = self.ddsql.handle(req.method, req.path, req.headers, req.body)
            else:
                status, payload = self._other(req)
        except _BadRequest as exc:
            status, payload = _error(400, exc.message)
        outcome = self._respond(status, payload, bucket)
        if fault is not None and fault.kind == "truncated" and status == 200:
            outcome.body = outcome.body[: max(1, len(outcome.body) // 2)]
        if fault is not None and fault.kind == "trickle" and status == 200:
            outcome.action, outcome.sleep_s = "trickle", fault.sleep_s or 1.0
        return outcome

    # -- auth ---------------------------------------------------------------------------------------

    def _authenticate(self, req: LoggedRequest) -> tuple[int, bytes] | None:
        if not self.require_auth:
            return None
        h = req.headers
        api_ok = h.get("dd-api-key") == self.credentials.api_key
        app_ok = h.get("dd-application-key") == self.credentials.app_key
        authz = h.get("authorization", "")
        token_ok = authz.startswith("Bearer ") and authz[7:].strip() in self.credentials.tokens
        if req.path == "/api/v1/validate":
            return None if api_ok or token_ok else _error(403, "API key required")
        if req.path == "/api/v2/validate":
            return None if api_ok or token_ok else _error(403, "Forbidden")
        if token_ok or (api_ok and app_ok):
            need = self._permission_for(req)
            if need is not None and need not in self.permissions:
                return _error(403, "Failed permission authorization checks")
            return None
        if self.auth_echo is not None:
            return self._echo_refusal(req)
        if req.path == "/api/v2/validate_keys":
            return _error(401, "Unauthorized")
        return _error(403, "Forbidden")

    def _echo_refusal(self, req: LoggedRequest) -> tuple[int, bytes]:
        h = req.headers
        key = h.get("dd-api-key") or h.get("dd-application-key") or ""
        if self.auth_echo == "after160":
            text = "The credentials sent with this request were not recognised by the gateway. " * 3
            message = f"{text[:170]} {key} {h.get('dd-application-key', '')} (see the docs)"
        elif self.auth_echo == "prefix":
            message = f"Unknown API key id={key[:12]}, refused"
        elif self.auth_echo == "basic":
            message = f"Unauthorized; request headers: Authorization: {h.get('authorization', '')}"
        else:
            raise ValueError(f"unknown auth_echo {self.auth_echo!r}")
        return _error(401, message)

    @staticmethod
    def _permission_for(req: LoggedRequest) -> str | None:
        if req.path in (SEARCH_PATH, LIST_PATH):
            return AUDIT_PERMISSION
        if req.path in DDSQL_PATHS:
            return DDSQL_PERMISSION  # the data source's own permission is checked by fake_ddsql
        if req.path.startswith(KEYS_PATH):
            return {"DELETE": "api_keys_delete", "GET": "api_keys_read"}.get(req.method, "api_keys_write")
        return None

    # -- rate limits ---------------------------------------------------------------------------------

    def _window(self, bucket: RateLimit) -> tuple[int, int, float]:
        now = self.clock()
        index = int(now // bucket.period_s)
        win, used = self._rl_window.get(bucket.name, (index, 0))
        if win != index:
            used = 0
        self._rl_window[bucket.name] = (index, used)
        reset = bucket.period_s - (now % bucket.period_s)
        return index, used, reset

    def _exhausted(self, bucket: RateLimit) -> bool:
        _, used, _ = self._window(bucket)
        return used >= bucket.limit

    def _rl_headers(
        self, bucket: RateLimit, consume: bool, reset_s: int | None = None
    ) -> list[tuple[str, str]]:
        index, used, reset = self._window(bucket)
        if consume:
            used += 1
            self._rl_window[bucket.name] = (index, used)
        return [
            ("X-RateLimit-Limit", str(bucket.limit)),
            ("X-RateLimit-Period", str(bucket.period_s)),
            ("X-RateLimit-Remaining", str(max(0, bucket.limit - used))),
            ("X-RateLimit-Reset", str(reset_s if reset_s is not None else max(1, math.ceil(reset)))),
            ("X-RateLimit-Name", bucket.name),
        ]

    def _too_many(
        self, bucket: RateLimit, headers: bool, json_body: bool, reset_s: int | None = None
    ) -> Outcome:
        hdrs = [("Content-Type", "application/json")]
        if headers:
            rl = self._rl_headers(bucket, consume=False, reset_s=reset_s)
            if reset_s is not None:  # a scripted 429: the budget looks spent
                rl = [(k, "0") if k == "X-RateLimit-Remaining" else (k, v) for k, v in rl]
            hdrs += rl
        body = _enc.encode({"errors": ["Too many requests"]}) if json_body else b""
        return Outcome(429, hdrs, body)

    def _server_error(self, status: int, bucket: RateLimit) -> Outcome:
        if status == 502:  # gateways answer in HTML
            body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return Outcome(status, [("Content-Type", "text/html"), *self._rl_headers(bucket, True)], body)
        message = "Internal Server Error" if status == 500 else "Service Unavailable"
        return Outcome(
            status,
            [("Content-Type", "application/json"), *self._rl_headers(bucket, True)],
            _error(status, message)[1],
        )

    def _respond(self, status: int, payload: bytes, bucket: RateLimit, consume: bool = True) -> Outcome:
        headers = self._rl_headers(bucket, consume)
        if status != 204:
            headers.insert(0, ("Content-Type", "application/json"))
        return Outcome(status, headers, payload if status != 204 else b"")

    # -- audit search -------------------------------------------------------------------------------

    def _audit(self, req: LoggedRequest, base_url: str, fault: Fault | None) -> tuple[int, bytes]:
        now = self._now_ms()
        if self.live is not None:
            new = self.live.advance(now)
            if new:
                self.add_events(new)
        if req.method == "POST":
            try:
                body = _dec.decode(req.body) if req.body.strip() else {}
            except msgspec.DecodeError:
                raise _BadRequest("Invalid JSON body") from None
            if not isinstance(body, dict):
                raise _BadRequest("Invalid request body")
            flt = body.get("filter") or {}
            page = body.get("page") or {}
            if not isinstance(flt, dict) or not isinstance(page, dict):
                raise _BadRequest("Invalid request body")
            query = flt.get("query", "*")
            frm, to = flt.get("from", "now-15m"), flt.get("to", "now")
            sort = body.get("sort", self.default_sort)
            limit = page.get("limit", 10)
            cursor = page.get("cursor")
        else:
            p = req.params
            query = p.get("filter[query]", "*")
            frm, to = p.get("filter[from]", "now-15m"), p.get("filter[to]", "now")
            sort = p.get("sort", self.default_sort)
            limit = p.get("page[limit]", 10)
            cursor = p.get("page[cursor]")
        if not isinstance(query, str):
            raise _BadRequest("Invalid query: expected a string")
        if sort not in ("timestamp", "-timestamp"):
            raise _BadRequest(f"Invalid sort {sort!r}: expected timestamp or -timestamp")
        limit = _as_int(limit)
        if limit is None or limit < 1 or limit > self.page_limit_max:
            raise _BadRequest(f"Invalid page limit: must be an integer between 1 and {self.page_limit_max}")
        start, end = parse_api_time(frm, now), parse_api_time(to, now)
        if end < start:
            raise _BadRequest("Invalid time range: 'from' must be before 'to'")
        position: tuple[int, str] | None = None
        if cursor:
            if fault is not None and fault.kind == "bad_cursor":
                raise _BadRequest("Invalid cursor")
            position = decode_cursor(str(cursor))
        matched = self._match(query, start, end)
        kind = fault.kind if fault is not None else None
        if kind == "empty_cursor":
            # Where the page would have started (first page: the window's end), as a new cursor.
            self._request_seq += 1
            at = position or ((end, "") if sort != "timestamp" else (start - 1, ""))
            here = encode_cursor(*at, nonce=self._request_seq)
            meta_only = _enc.encode({"page": {"after": here}})
            return 200, b'{"data":[],"meta":' + meta_only + b"}"
        if kind == "stuck":
            position = None  # the first page, whatever the cursor says

        ascending = sort == "timestamp"
        total = len(matched)
        # `chosen`: indices of the page's events, in page order — a slice of `matched` (a range for `*`).
        if ascending:
            pos = 0 if position is None else self._bisect(matched, position, right=True)
            if position is not None and fault is not None and fault.kind == "duplicate":
                pos = max(0, pos - fault.overlap)
            chosen = matched[pos : pos + limit]
        else:
            pos = total if position is None else self._bisect(matched, position, right=False)
            if position is not None and fault is not None and fault.kind == "duplicate":
                pos = min(total, pos + fault.overlap)
            chosen = matched[max(0, pos - limit) : pos][::-1]
        if fault is not None and fault.kind in ("short_page", "partial") and len(chosen) > 1:
            chosen = chosen[: max(1, int(len(chosen) * fault.keep))]
        if not chosen:
            return 200, b'{"data":[]}'  # the recorded terminal page, exactly

        last = self._key_of(chosen[-1])
        after = encode_cursor(*last)
        if kind == "stuck":
            self._request_seq += 1
            after = encode_cursor(*last, nonce=self._request_seq)  # new, and going nowhere
        meta: dict[str, Any] = {"page": {"after": after}}
        if self.meta_style == "full":
            self._request_seq += 1
            meta["elapsed"] = int(self.latency_s * 1000) + 3 + len(chosen) // 40
            meta["request_id"] = base64.urlsafe_b64encode(f"fake-{self._request_seq:08d}".encode()).decode()
            meta["status"] = "done"
        if fault is not None and fault.kind == "partial":
            meta["status"] = "timeout"
            meta["warnings"] = [
                {
                    "code": "query_timeout",
                    "detail": "the query timed out before all indexes answered",
                    "title": "Partial results: the query took too long",
                }
            ]
        links = {"next": self._next_link(base_url, query, frm, to, sort, limit, after)}
        if kind == "links_only":
            del meta["page"]
        # The page body is joined from the stored bytes: no event is re-encoded.
        raw_of = self._raw_of if isinstance(matched, _Merged) else self._raws.__getitem__
        data = b",".join(map(raw_of, chosen))
        return 200, b"".join(
            (b'{"data":[', data, b'],"meta":', _enc.encode(meta), b',"links":', _enc.encode(links), b"}")
        )

    def _bisect(self, matched: Any, position: tuple[int, str], right: bool) -> int:
        keys = self._keys
        if isinstance(matched, _Merged):
            by = bisect.bisect_right if right else bisect.bisect_left
            return by(matched, position, key=self._key_of)
        if isinstance(matched, range):
            fn = bisect.bisect_right if right else bisect.bisect_left
            return fn(keys, position, matched.start, matched.stop) - matched.start
        fn = bisect.bisect_right if right else bisect.bisect_left
        return fn(matched, position, key=keys.__getitem__)

    def _match(self, query: str, start: int, end: int) -> Any:
        """Indices of the stored events in [start, end) matching `query`, ascending (cached per version)."""
        cache_key = (query, start, end)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        lo = bisect.bisect_left(self._keys, (start,))
        hi = bisect.bisect_left(self._keys, (end,))
        matched: Any
        if query.strip() in ("", "*"):
            matched = range(lo, hi)
        else:
            from ddaudit_tui.events.query import QuerySyntaxError, parse_query

            try:
                q = parse_query(query)
            except QuerySyntaxError as exc:
                raise _BadRequest(f"Invalid query: {exc}") from None
            if q.is_match_all:
                matched = range(lo, hi)
            else:
                matched = [i for i, ev in enumerate(self._decoded(lo, hi), lo) if q.matches(ev)]
            if self.heavy is not None and self.heavy.names(query):
                rows = self.heavy.match(q, start, end)
                if len(rows):
                    matched = _Merged(matched, rows, self._keys, self.heavy)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[cache_key] = (self._version, matched)
        return matched

    @staticmethod
    def _next_link(base_url: str, query: str, frm: Any, to: Any, sort: str, limit: int, cursor: str) -> str:
        # Like the real one: the GET endpoint, whatever endpoint was called, with the same parameters.
        params = {
            "sort": sort,
            "filter[query]": query,
            "filter[to]": str(to),
            "page[cursor]": cursor,
            "page[limit]": str(limit),
            "filter[from]": str(frm),
        }
        return f"{base_url}{LIST_PATH}?{urlencode(params)}"

    # -- other endpoints ------------------------------------------------------------------------------

    def _other(self, req: LoggedRequest) -> tuple[int, bytes]:
        path, method = req.path, req.method
        if path == "/api/v2/validate_keys" and method == "GET":
            return 200, b'{"status":"ok"}'
        if path == "/api/v1/validate" and method == "GET":
            return 200, b'{"valid":true}'
        if path == "/api/v2/validate" and method == "GET":
            key_id = self.credentials.api_key_id
            doc = {
                "data": {
                    "id": self.org_uuid,
                    "type": "validate_v2",
                    "attributes": {
                        "api_key_id": key_id,
                        "api_key_scopes": sorted(self.permissions),
                        "valid": True,
                    },
                }
            }
            return 200, _enc.encode(doc)
        if path == KEYS_PATH and method == "GET":
            p = req.params
            try:
                size = min(100, max(1, int(p.get("page[size]", 10))))
                number = max(0, int(p.get("page[number]", 0)))
            except ValueError:
                raise _BadRequest("Invalid page parameters") from None
            include = set(filter(None, p.get("include", "").split(",")))
            doc = self.key_table.list_document(
                self._now_ms(), p.get("filter", ""), size, number, p.get("sort", "name"), include
            )
            return 200, _enc.encode(doc)
        if path.startswith(KEYS_PATH + "/"):
            key_id = path[len(KEYS_PATH) + 1 :]
            if method == "GET":
                key = self.key_table.get(key_id)
                if key is None:
                    return _error(404, "API key not found")
                include = set(filter(None, req.params.get("include", "").split(",")))
                return 200, _enc.encode(self.key_table.document(key, include, self._now_ms()))
            if method == "DELETE":
                if not self.key_table.delete(key_id):
                    return _error(404, "API key not found")
                return 204, b""
            return _error(405, "Method Not Allowed")
        return _error(404, "Not found")


class _Merged:
    """The matches of a search over the stored events (`org`: indices, ascending) and the heavy key's rows
    (`rows`: ascending), merged in (ts, id) order without being copied: item `i` is a ref (a stored
    index >= 0, or `-(row + 1)`). Few stored events ever match a filter that names the heavy key, so each
    one's merged position is worked out up front; every other position is a heavy row."""

    def __init__(self, org: Any, rows: Any, keys: list[tuple[int, str]], heavy: Any) -> None:
        self.org, self.rows = org, rows
        self.pos = [m + bisect.bisect_left(rows, keys[o], key=heavy.key) for m, o in enumerate(org)]

    def __len__(self) -> int:
        return len(self.org) + len(self.rows)

    def _at(self, i: int) -> int:
        m = bisect.bisect_left(self.pos, i)
        if m < len(self.pos) and self.pos[m] == i:
            return self.org[m]
        return -(self.rows[i - m] + 1)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._at(i)

    def __iter__(self) -> Any:
        return (self._at(j) for j in range(len(self)))
