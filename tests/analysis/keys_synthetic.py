"""Synthetic audit events for the key-lookup tests: API items in the real shape (audit-events.md §4.1),
a few places/networks, and the demo org generated once per test process."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import msgspec

from ddaudit_tui.analysis.keys import analyze_key
from ddaudit_tui.analysis.signals import Flag
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, parse_instant

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

KEY = "11111111-2222-4333-8444-555555555555"
OTHER_KEY = "99999999-8888-4777-8666-555555555555"
T0 = parse_instant("2026-06-01T00:00:00Z")  # a Monday
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000

# Places: geoip + network as Datadog enriches them (coordinates and ASNs are the real public ones).
NYC_VERIZON = {
    "ip": "198.51.100.214", "country": "United States", "iso": "US", "city": "New York",
    "lat": 40.71427, "lon": -74.00597, "tz": "America/New_York", "asn": 701, "asn_name": "Verizon Business",
    "asn_type": "isp",
}  # fmt: skip
ASHBURN_AWS = {
    "ip": "3.230.117.42", "country": "United States", "iso": "US", "city": "Ashburn",
    "lat": 39.04372, "lon": -77.48749, "tz": "America/New_York", "asn": 16509, "asn_name": "Amazon.com, Inc.",
    "asn_type": "hosting",
}  # fmt: skip
BUCHAREST_VPN = {
    "ip": "192.0.2.147", "country": "Romania", "iso": "RO", "city": "Bucharest",
    "lat": 44.43225, "lon": 26.10626, "tz": "Europe/Bucharest", "asn": 9009, "asn_name": "M247 Europe SRL",
    "asn_type": "hosting", "tunnel": ("VPN", "NORD_VPN"),
}  # fmt: skip
BUCHAREST_HOME = {
    "ip": "192.0.2.66", "country": "Romania", "iso": "RO", "city": "Bucharest",
    "lat": 44.43225, "lon": 26.10626, "tz": "Europe/Bucharest", "asn": 8708, "asn_name": "RCS & RDS SA",
    "asn_type": "isp",
}  # fmt: skip
LONDON_BT = {
    "ip": "203.0.113.9", "country": "United Kingdom", "iso": "GB", "city": "London",
    "lat": 51.50853, "lon": -0.12574, "tz": "Europe/London", "asn": 2856,
    "asn_name": "British Telecommunications PLC", "asn_type": "isp",
}  # fmt: skip
NEWARK_VERIZON = {  # 15 km from New York: GeoIP jitter distance
    "ip": "198.51.100.77", "country": "United States", "iso": "US", "city": "Newark",
    "lat": 40.73566, "lon": -74.17237, "tz": "America/New_York", "asn": 7922,
    "asn_name": "Comcast Cable Communications, LLC", "asn_type": "isp",
}  # fmt: skip
NO_GEO: dict[str, Any] = {}

_counter = iter(range(1, 10**9))


def item(
    ts: int,
    place: dict[str, Any] | None = None,
    *,
    key: str | None = KEY,
    method: str | None = "GET",
    path: str | None = "/api/v1/dashboard",
    route: str | None = None,
    action: str = "accessed",
    evt: str = "Request",
    asset_type: str | None = None,
    asset_id: str | None = None,
    asset_name: str | None = None,
    ua: str | None = "python-requests/2.31.0",
    status: int = 200,
    usr_email: str | None = "svc@example.com",
    event_id: str | None = None,
    message: str | None = None,
    new_value: dict[str, Any] | None = None,
    ti_category: str | None = None,
) -> dict[str, Any]:
    """One Audit Logs API item (`data[i]`)."""
    place = NYC_VERIZON if place is None else place
    inner: dict[str, Any] = {
        "evt": {"name": evt, "actor": {"type": "SERVICE_ACCOUNT"}},
        "action": action,
        "status": "info" if status < 400 else "warn",
        "usr": {"id": usr_email, "email": usr_email} if usr_email else None,
    }
    if key is not None:
        inner["metadata"] = {"api_key": {"id": key}}
        inner["auth_method"] = "API_AND_APP_KEY"
    if method is not None or path is not None:
        inner["http"] = {
            "method": method,
            "status_code": status,
            "url_details": {"path": path},
            "useragent": ua,
        }
    if route is not None:
        inner["route"] = {"path": route}
    if asset_type is not None or asset_id is not None:
        inner["asset"] = {"type": asset_type, "id": asset_id, "name": asset_name}
        if new_value is not None:
            inner["asset"]["new_value"] = new_value
    if place:
        geo: dict[str, Any] = {
            "country": {"name": place["country"], "iso_code": place["iso"]},
            "city": {"name": place["city"]},
            "timezone": place["tz"],
            "location": {"latitude": place["lat"], "longitude": place["lon"]},
            "as": {"number": f"AS{place['asn']}", "name": place["asn_name"], "type": place["asn_type"]},
        }
        inner["network"] = {"client": {"ip": place["ip"], "geoip": geo}}
        if place.get("tunnel"):
            ttype, operator = place["tunnel"]
            inner["threat_intel"] = {
                "results": [
                    {
                        "indicator": place["ip"],
                        "category": ti_category or "consumer_vpn",
                        "additional_data": {
                            "tunnels": [{"type": ttype, "operator": operator, "anonymous": True}]
                        },
                    }
                ]
            }
    eid = event_id or f"ev-{next(_counter):06d}"
    return {
        "id": eid,
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": message or f"{method} request made to {path}",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": _iso(ts),
        },
    }


def _iso(ms: int) -> str:
    from ddaudit_tui.timeutil import iso

    return iso(ms)


def page_bytes(items: list[dict[str, Any]]) -> bytes:
    return msgspec.json.encode({"data": items})


def events(items: list[dict[str, Any]]) -> list[Event]:
    return list(iter_decode(page_bytes(items), "synthetic"))


def file_source(items: list[dict[str, Any]], label: str = "synthetic") -> FileSource:
    return FileSource(EventStore(events(items)), label)


def weekday_runs(
    start: int,
    days: int,
    hours: tuple[int, ...],
    place: dict[str, Any],
    tz_offset_h: int = -4,
    per_run: int = 2,
) -> list[dict[str, Any]]:
    """A CI-like key: `per_run` calls at :10 of each local hour on weekdays (local = UTC + tz_offset_h)."""
    out = []
    for d in range(days):
        day = start + d * DAY
        if ((day // DAY) + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
            continue
        for h in hours:
            t = day + (h - tz_offset_h) * HOUR + 10 * MIN
            for i in range(per_run):
                out.append(item(t + i * 30_000, place, method="POST", path="/api/v2/series"))
    return out


# -- the demo org, generated once per test process ------------------------------------------------------

DEMO_END = parse_instant("2026-08-01T16:00:00Z")
DEMO_EVENTS = 4000


@functools.lru_cache(maxsize=4)
def demo_items(end_ms: int = DEMO_END, n: int = DEMO_EVENTS) -> tuple[dict[str, Any], ...]:
    from ddaudit_tui.demo.org import generate

    return tuple(generate(seed=7, events=n, end_ms=end_ms))


@functools.lru_cache(maxsize=4)
def demo_page(end_ms: int = DEMO_END, n: int = DEMO_EVENTS) -> bytes:
    return page_bytes(list(demo_items(end_ms, n)))


@functools.lru_cache(maxsize=4)
def demo_events(end_ms: int = DEMO_END, n: int = DEMO_EVENTS) -> tuple[Event, ...]:
    return tuple(iter_decode(demo_page(end_ms, n), "demo"))


def demo_source(end_ms: int = DEMO_END, n: int = DEMO_EVENTS) -> FileSource:
    return FileSource(EventStore(demo_events(end_ms, n)), "demo")


# -- a scripted Datadog API (httpx.MockTransport) ------------------------------------------------------


class FakeApi:
    """Audit search (query evaluated locally, cursor paging) and the API Keys endpoints."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        api_keys: dict[str, dict[str, Any]] | None = None,
        *,
        key_status: int | None = None,
        revoke_status: int = 204,
        fail_queries: tuple[str, ...] = (),
    ) -> None:
        self.items = items
        self.events = events(items)
        self.raw = {e.id: it for e, it in zip(self.events, items, strict=True)}
        self.api_keys = api_keys or {}
        self.key_status = key_status
        self.revoke_status = revoke_status
        self.fail_queries = fail_queries
        self.requests: list[tuple[str, str, Any]] = []

    def client(self, **kw: Any) -> Any:
        import httpx

        from ddaudit_tui.sources.datadog import Credentials, DatadogClient

        async def no_sleep(_s: float) -> None:
            return None

        creds = Credentials(api_key="0123456789abcdef0123456789abcdef", app_key="f" * 40)
        return DatadogClient(creds, transport=httpx.MockTransport(self.handle), sleep=no_sleep, **kw)

    def handle(self, request: Any) -> Any:
        import json

        import httpx

        from ddaudit_tui.events.decode import parse_timestamp
        from ddaudit_tui.events.query import parse_query

        path = request.url.path
        if path == "/api/v2/audit/events/search":
            body = json.loads(request.content)
            q = body["filter"]["query"]
            self.requests.append(("search", q, body["page"]))
            if any(f in q for f in self.fail_queries):
                return httpx.Response(400, json={"errors": ["invalid query"]})
            start, end = parse_timestamp(body["filter"]["from"]), parse_timestamp(body["filter"]["to"])
            query = parse_query(q)
            hits = [e for e in self.events if start <= e.ts < end and query.matches(e)]
            hits.sort(key=lambda e: (e.ts, e.id), reverse=body.get("sort") != "timestamp")
            offset = int(body["page"].get("cursor") or 0)
            limit = body["page"]["limit"]
            page = hits[offset : offset + limit]
            meta: dict[str, Any] = {"status": "done"}
            if offset + limit < len(hits):
                meta["page"] = {"after": str(offset + limit)}
            return httpx.Response(200, json={"data": [self.raw[e.id] for e in page], "meta": meta})
        if path.startswith("/api/v2/api_keys/"):
            key_id = path.rsplit("/", 1)[1]
            self.requests.append((request.method, path, None))
            if request.method == "DELETE":
                if self.revoke_status == 204:
                    return httpx.Response(204)
                return httpx.Response(
                    self.revoke_status,
                    json={"errors": ["API key not found" if self.revoke_status == 404 else "Forbidden"]},
                )
            if self.key_status is not None:
                return httpx.Response(self.key_status, json={"errors": ["Forbidden"]})
            doc = self.api_keys.get(key_id)
            if doc is None:
                return httpx.Response(404, json={"errors": ["API key not found"]})
            return httpx.Response(200, json=doc)
        return httpx.Response(404, json={"errors": ["not found"]})


def api_key_doc(key_id: str, name: str = "ci", leaked: bool = False) -> dict[str, Any]:
    """A GET /api/v2/api_keys/{id}?include=created_by response, secret included (it must be dropped)."""
    rel: dict[str, Any] = {
        "created_by": {"data": {"type": "users", "id": "u-1"}},
        "leak_information": {"data": {"type": "leaked_keys", "id": "leak-1"} if leaked else None},
    }
    included: list[dict[str, Any]] = [
        {"type": "users", "id": "u-1", "attributes": {"email": "marcus@example.com", "name": "Marcus"}}
    ]
    if leaked:
        included.append(
            {
                "type": "leaked_keys",
                "id": "leak-1",
                "attributes": {"date": "2026-06-20T00:00:00Z", "leak_source": "github"},
            }
        )
    return {
        "data": {
            "type": "api_keys",
            "id": key_id,
            "attributes": {
                "created_at": "2026-05-01T10:00:00.000000+00:00",
                "key": "0123456789abcdef0123456789abcdef",
                "last4": "cdef",
                "name": name,
                "date_last_used": "2026-06-30T12:00:00+00:00",
                "used_in_last_24_hours": True,
            },
            "relationships": rel,
        },
        "included": included,
    }


# -- running the analysis (tests/analysis/test_keys.py and the key detections' tests) ------------------

NYC_2 = dict(NYC_VERIZON, ip="198.51.100.215")
WIDE = Window(T0 - 400 * DAY, T0 + 400 * DAY)


def run(items, **kw):
    kw.setdefault("window", WIDE)
    kw.setdefault("now_ms", T0)
    evs = events(items)
    related = kw.pop("related_items", None)
    if related is not None:
        kw["related"] = events(related)
    return analyze_key(KEY, evs, **kw)


def by_signal(report, signal: str) -> list[Flag]:
    return [f for f in report.flags if f.signal == signal]
