"""The demo's heavy key (issue 16): a busy CI key with over a million events in 90 days, built lazily.

"Build Fleet" CI runners call the API around the clock, at a steady cadence, from three AWS NAT addresses in
Ashburn on a handful of endpoints: ~11,000 calls a day,
~9,000 pages of 1,000 over 90 days, hours of paging. Two real findings hide in that volume, deterministic
from the seed: a runaway job (a burst of ~2,400 calls in 6 minutes, part of them rate-limited), and, in the
last days, the key used from a hosting provider in Singapore (a country the org never saw, a network the
key never used) that enumerates the org and deletes three dashboards and two monitors.

Nothing is generated when this object is made: `FakeDatadog` asks for the columns only when a request's
filter names the key (`names`). The events are columns — their times (`ts`, strictly increasing), their
template (`tmpl`: origin, endpoint, method, status) and their ids (one base64 buffer) — and an event's JSON
is built only when a page holds it. DDSQL reads the same columns from SQLite (`attach`), loaded once.
"""

from __future__ import annotations

import bisect
import heapq
import random
import sqlite3
import struct
import threading
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ddaudit_tui.demo.catalog import Origin, ServiceAccount
from ddaudit_tui.demo.shapes import Shapes, sa_usr
from ddaudit_tui.events.decode import decode_item
from ddaudit_tui.events.record import KIND_API, Event

__all__ = ["HEAVY_EVENTS", "HEAVY_KEY", "HeavyKey", "Template"]

HEAVY_KEY = "6b0d2f94-3c7e-4a15-9e8b-2d4f7a1c5e93"
HEAVY_APP_KEY = "d27c4e81-9a3f-4b60-8c15-7e2a9f0b4d36"
HEAVY_KEY_NAME = "build-fleet (CI runners)"
HEAVY_KEY_CREATOR = "marcus.reed@example.com"
HEAVY_EVENTS = 1_000_000  # steady calls over 90 days (the findings come on top)

S, M, H, D = 1000, 60_000, 3_600_000, 86_400_000

RUNNER = ServiceAccount(
    "build_fleet", "Build Fleet", "build-fleet@example.com", "2841277",
    str(uuid.uuid5(uuid.NAMESPACE_URL, "ddaudit-demo-heavy-runner")), "ci_clean",
    "datadog-ci/2.48.0 (node v20.11.1; os linux; arch x64)",
)  # fmt: skip
ATTACKER_UA = "python-requests/2.31.0"
NAT = (
    Origin("3.231.88.17", "ashburn", "aws"),
    Origin("3.231.92.140", "ashburn", "aws"),
    Origin("3.236.14.205", "ashburn", "aws"),
)
ATTACKER = Origin("192.0.2.233", "singapore", "vultr")

# The CI's endpoints: (method, path, route, weight); the status is 2xx, or 429 for ~1 % of the calls.
STEADY = (
    ("POST", "/api/v2/series", "/api/v2/series", 40),
    ("POST", "/api/v1/events", "/api/v1/events", 15),
    ("POST", "/api/v1/check_run", "/api/v1/check_run", 10),
    ("GET", "/api/v1/validate", "/api/v1/validate", 15),
    ("GET", "/api/v1/monitor/19123001", "/api/v1/monitor/{monitor_id}", 10),
    ("POST", "/api/v1/synthetics/tests/trigger/ci", "/api/v1/synthetics/tests/trigger/ci", 10),
)
RECON = (
    ("GET", "/api/v2/users", "/api/v2/users", 40),
    ("GET", "/api/v1/dashboard", "/api/v1/dashboard", 60),
    ("GET", "/api/v1/monitor", "/api/v1/monitor", 60),
    ("GET", "/api/v2/api_keys", "/api/v2/api_keys", 20),
    ("GET", "/api/v1/org", "/api/v1/org", 10),
)
DELETED = (
    ("DELETE", "/api/v1/dashboard/q8m-2xk-7rd", "/api/v1/dashboard/{dashboard_id}"),
    ("DELETE", "/api/v1/dashboard/z3c-9vn-4tp", "/api/v1/dashboard/{dashboard_id}"),
    ("DELETE", "/api/v1/dashboard/h5w-1bq-8ey", "/api/v1/dashboard/{dashboard_id}"),
    ("DELETE", "/api/v1/monitor/19123044", "/api/v1/monitor/{monitor_id}"),
    ("DELETE", "/api/v1/monitor/19123087", "/api/v1/monitor/{monitor_id}"),
)
BURST_EVENTS = 2_400
BURST_MS = 6 * M
RECON_EVENTS = 380

# Event ids: base64url of 36 bytes (0x01, the time, 4 random bytes, 4 zero bytes, a 19-character tail),
# like the real ids' layout (`shapes.Shapes.new_id`); 36 bytes make 48 characters, so one base64 call over
# every record at once gives every id.
_ID_BYTES, _ID_CHARS = 36, 48
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TAIL = bytes(_ALPHABET[i % 64] for i in range(256))
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_enc = msgspec.json.Encoder()


@dataclass(frozen=True)
class Template:
    """What one group of events shares: everything but the time and the id."""

    origin: Origin
    useragent: str
    method: str
    path: str
    route: str
    code: int


def _ok(method: str, path: str) -> int:
    return 202 if method == "POST" and path != "/api/v1/synthetics/tests/trigger/ci" else 200


def templates() -> list[Template]:
    out = [
        Template(o, RUNNER.useragent, m, p, r, code)
        for o in NAT
        for m, p, r, _ in STEADY
        for code in (_ok(m, p), 429)
    ]
    out += [Template(ATTACKER, ATTACKER_UA, m, p, r, 200) for m, p, r, _ in RECON]
    out += [Template(ATTACKER, ATTACKER_UA, m, p, r, 200) for m, p, r in DELETED]
    return out


# Per-event fields: a filter that reads them cannot be judged per template (`template_safe`).
_PER_EVENT_FIELDS = ("timestamp",)


class _IdShapes(Shapes):
    """`Shapes` whose next id is given (the heavy key's ids are columns, not random draws)."""

    next_id = ""

    def new_id(self, ts: int) -> str:
        return self.next_id


class HeavyKey:
    """The heavy key's events as columns, built on first use (`ensure`), deterministic from the seed."""

    key_id = HEAVY_KEY

    def __init__(self, seed: int, end_ms: int, *, days: int = 90, events: int = HEAVY_EVENTS) -> None:
        self.seed, self.end_ms, self.days, self.events = seed, int(end_ms), days, events
        self.start_ms = self.end_ms - days * D
        self.templates = templates()
        self._lock = threading.RLock()
        self.ts: array[int] | None = None
        self.tmpl: array[int] | None = None
        self._ids = b""
        self._reps: list[Event] | None = None
        self._counts: list[int] | None = None
        self._db: sqlite3.Connection | None = None
        self._uri = f"file:ddaudit-heavy-{id(self):x}?mode=memory&cache=shared"
        self.burst_at = 0  # the findings' times, known once built
        self.attack_at = 0
        self.build_s = 0.0
        self.load_s = 0.0

    # -- what the fake asks first -----------------------------------------------------------------

    @property
    def built(self) -> bool:
        return self.ts is not None

    def names(self, query: str) -> bool:
        """Does the filter mention the key? Only then can its events be part of the answer."""
        return self.key_id in query.lower()

    def key_spec(self) -> dict[str, Any]:
        """The key as the API Keys API lists it (no build needed: the times come from the window)."""
        return {
            "name": HEAVY_KEY_NAME,
            "created_at": self.start_ms - 40 * D,
            "created_by": HEAVY_KEY_CREATOR,
            "last_used": self.end_ms - 2 * M,
        }

    # -- building the columns -----------------------------------------------------------------------

    def ensure(self) -> HeavyKey:
        with self._lock:
            if self.ts is None:
                import time

                t0 = time.perf_counter()
                self._build()
                self.build_s = time.perf_counter() - t0
        return self

    def _build(self) -> None:
        rng = random.Random(f"ddaudit-heavy-{self.seed}")
        steady_ids = [i for i, t in enumerate(self.templates) if t.origin in NAT]
        cum: list[float] = []
        acc = 0.0
        for t in (self.templates[i] for i in steady_ids):
            w = next(w for m, p, _, w in STEADY if (m, p) == (t.method, t.path))
            acc += w * (0.01 if t.code == 429 else 0.99)
            cum.append(acc)
        # The fleet's cadence: one call every `period` ms, give or take a second, around the clock. A regular
        # key is what CI looks like, and it keeps `burst` quiet where nothing happened (Poisson traffic this
        # busy crosses a robust z of 3 every day by chance).
        n = self.events
        period = self.days * D / n
        jitter = min(1000.0, period / 2)
        rnd = rng.random
        steady = zip(
            [self.start_ms + int(k * period + rnd() * jitter) for k in range(n)],
            rng.choices(steady_ids, cum_weights=cum, k=n),
            strict=True,
        )
        specials = sorted((t, k) for t, k in self._findings(rng) if self.start_ms <= t < self.end_ms)
        ts = array("q")
        tm = array("B")
        prev = self.start_ms - 1
        for t, k in heapq.merge(steady, specials):
            if t <= prev:  # one event per millisecond: the key's order is its times'
                t = prev + 1
            ts.append(t)
            tm.append(k)
            prev = t
        self._ids = self._make_ids(rng, ts)
        self.tmpl = tm
        self.ts = ts  # last: `built` is true once everything is there

    def _findings(self, rng: random.Random) -> list[tuple[int, int]]:
        index = {(t.origin.ip, t.method, t.path, t.code): i for i, t in enumerate(self.templates)}
        out: list[tuple[int, int]] = []
        # A runaway job: one runner posts events in a loop for 6 minutes; the API refuses part of them.
        day = rng.randrange(25, 65)
        self.burst_at = self.end_ms - day * D + rng.randrange(13, 20) * H + rng.randrange(60) * M
        ip = NAT[0].ip
        for _ in range(BURST_EVENTS):
            code = 202 if rng.random() < 0.7 else 429
            out.append((self.burst_at + rng.randrange(BURST_MS), index[(ip, "POST", "/api/v1/events", code)]))
        # The leak: someone else uses the key from Singapore, looks around, and deletes.
        self.attack_at = self.end_ms - 2 * D - rng.randrange(0, 20) * H - rng.randrange(60) * M
        t = self.attack_at
        recon = [(m, p) for m, p, _, w in RECON for _ in range(w)]
        for _ in range(RECON_EVENTS):
            m, p = rng.choice(recon)
            out.append((t, index[(ATTACKER.ip, m, p, 200)]))
            t += rng.randrange(5, 20) * S
        for m, p, _ in DELETED:
            t += rng.randrange(20, 90) * S
            out.append((t, index[(ATTACKER.ip, m, p, 200)]))
        return out

    @staticmethod
    def _make_ids(rng: random.Random, ts: array[int]) -> bytes:
        n = len(ts)
        rec = bytearray(n * _ID_BYTES)
        rec[0::_ID_BYTES] = b"\x01" * n
        be = array("q", ts)
        if struct.pack("=q", 1) != struct.pack(">q", 1):
            be.byteswap()
        raw = be.tobytes()
        for k in range(8):
            rec[1 + k :: _ID_BYTES] = raw[k::8]
        rand = rng.randbytes(4 * n)
        for k in range(4):
            rec[9 + k :: _ID_BYTES] = rand[k::4]
        tail = rng.randbytes(19 * n).translate(_TAIL)
        for k in range(19):
            rec[17 + k :: _ID_BYTES] = tail[k::19]
        import binascii

        return binascii.b2a_base64(bytes(rec), newline=False).translate(_URLSAFE)

    # -- reading -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        self.ensure()
        return len(self.ts)  # type: ignore[arg-type]

    def event_id(self, i: int) -> str:
        return self._ids[i * _ID_CHARS : (i + 1) * _ID_CHARS].decode()

    def key(self, i: int) -> tuple[int, str]:
        return self.ts[i], self.event_id(i)  # type: ignore[index]

    def item(self, i: int) -> dict[str, Any]:
        """Event `i` as an API item, in the demo's request shape."""
        assert self.ts is not None and self.tmpl is not None
        return self._item(self.ts[i], self.event_id(i), self.templates[self.tmpl[i]])

    def _item(self, ts: int, event_id: str, t: Template) -> dict[str, Any]:
        sh = _IdShapes(random.Random(0))
        sh.next_id = event_id
        return sh.request(
            ts, sa_usr(RUNNER), "SERVICE_ACCOUNT", RUNNER.email, t.origin, t.method, t.path, t.route, t.code,
            t.useragent, api_key=HEAVY_KEY, app_key=HEAVY_APP_KEY,
        )  # fmt: skip

    def raw(self, i: int) -> bytes:
        return _enc.encode(self.item(i))

    def event(self, i: int) -> Event:
        return decode_item(self.raw(i), "<fake>", KIND_API)

    def window(self, start: int, end: int) -> range:
        """Rows with a time in [start, end)."""
        self.ensure()
        return range(bisect.bisect_left(self.ts, start), bisect.bisect_left(self.ts, end))  # type: ignore[arg-type]

    def template_counts(self) -> list[int]:
        """Rows per template (counted once)."""
        if self._counts is None:
            self.ensure()
            counts = [0] * len(self.templates)
            for k in self.tmpl:  # type: ignore[union-attr]
                counts[k] += 1
            self._counts = counts
        return self._counts

    def representatives(self) -> list[Event]:
        """One event per template (any time, any id): what a filter is judged on."""
        if self._reps is None:
            self._reps = [
                decode_item(_enc.encode(self._item(self.end_ms, "heavy-template", t)), "<fake>", KIND_API)
                for t in self.templates
            ]
        return self._reps

    # -- matching a search query -----------------------------------------------------------------------

    @staticmethod
    def template_safe(query: Any) -> bool:
        """Whether the query reads only what templates fix (not the time, not `*:` every attribute)."""
        from ddaudit_tui.events.query import referenced_fields

        text = query.text
        if "*:" in text.replace(" ", ""):
            return False
        return not any(f.split(".")[0] in _PER_EVENT_FIELDS for f in referenced_fields(query))

    def matching_templates(self, query: Any) -> list[int]:
        return [k for k, ev in enumerate(self.representatives()) if query.matches(ev)]

    def match(self, query: Any, start: int, end: int) -> Sequence[int]:
        """Rows in [start, end) matching `query` (parsed), ascending. A filter read per template is
        judged once per template; any other is judged on each event, built (`match_generic`)."""
        if not self.template_safe(query):
            return self.match_generic(query, start, end)
        wanted = self.matching_templates(query)
        if not wanted:
            return range(0)
        rows = self.window(start, end)
        if len(wanted) == len(self.templates):
            return rows
        keep = bytes(1 if k in set(wanted) else 0 for k in range(256))
        tm = self.tmpl
        assert tm is not None
        return array("i", (i for i in rows if keep[tm[i]]))

    def match_generic(self, query: Any, start: int, end: int) -> list[int]:
        """The reference: every event in the window built, decoded and matched (slow; tests compare)."""
        return [i for i in self.window(start, end) if query.matches(self.event(i))]

    # -- SQLite, for DDSQL ----------------------------------------------------------------------------

    def attach(self, db: sqlite3.Connection, schema: str = "heavy") -> None:
        """Attach the heavy rows (`rows(ts INTEGER PRIMARY KEY, tmpl, id)`), loaded on first use."""
        self.load()
        db.execute(f"ATTACH DATABASE ? AS {schema}", (self._uri,))

    def load(self) -> None:
        """The rows into SQLite (once): done by the first DDSQL statement that reads them."""
        with self._lock:
            if self._db is not None:
                return
            import time

            self.ensure()
            t0 = time.perf_counter()
            db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            db.execute("CREATE TABLE rows (ts INTEGER PRIMARY KEY, tmpl INTEGER NOT NULL, id TEXT NOT NULL)")
            ids = self._ids
            db.executemany(
                "INSERT INTO rows VALUES (?, ?, ?)",
                (
                    (t, k, ids[i * _ID_CHARS : (i + 1) * _ID_CHARS].decode())
                    for i, (t, k) in enumerate(zip(self.ts, self.tmpl, strict=True))  # type: ignore[arg-type]
                ),
            )
            db.execute("CREATE INDEX rows_tmpl ON rows (tmpl)")  # (tmpl, ts): ts is the rowid
            db.commit()
            self._db = db  # kept open: the shared in-memory database lives as long as one connection does
            self.load_s = time.perf_counter() - t0

    def cell_function(self, cell: Any, field_of: Any) -> Any:
        """A SQL function `(ts, field, type) -> value` for per-event columns other than the time and the id:
        the event is built from its row (slow, and rare: `ingest_size_in_bytes`, `@timestamp`, …)."""

        def heavy_cell(ts: int, field: str, typ: str) -> Any:
            i = bisect.bisect_left(self.ts, ts)  # type: ignore[arg-type]
            return cell(field_of(self.event(i), field), typ)

        return heavy_cell

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- for tests and the docs ------------------------------------------------------------------------

    def per_day(self) -> dict[int, int]:
        """Events per UTC day (day number = ts // 86,400,000)."""
        self.ensure()
        out: dict[int, int] = {}
        for t in self.ts:  # type: ignore[union-attr]
            out[t // D] = out.get(t // D, 0) + 1
        return out
