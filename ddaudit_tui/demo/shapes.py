"""Building Audit Logs API items in the exact shapes of real events (`audit-events.md` §4, `datadog-api.md` §2).

Each builder returns one API item `{"id", "type": "audit", "attributes": {"attributes": inner, ...}}`.
The shapes keep the real data's quirks on purpose (§8): string `"200"` status codes on 2022-style requests
and numbers on 2026-style ones, `AS`-prefixed geoip ASNs next to integer threat_intel ASNs, Agent events
with no `evt.name`, inner timestamps in three different formats while the outer one is always `…Z` ms.

Speed matters (`--demo` builds 30,000 events before it can show anything; the benchmark input is 200,000):
constant sub-objects (geoip/threat_intel blocks per origin, `usr` per person, `evt` per actor type, key
metadata per key, routes) are built once and shared between items — items are only ever serialised, never
mutated, so treat them as read-only. Timestamps come from small lookup tables rather than `strftime`.
"""

from __future__ import annotations

import binascii
import gc
import random
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddaudit_tui.demo.catalog import (
    AGENT_USR_UUID,
    ASNS,
    CITIES,
    INTERNAL_HOST,
    ORG_NAME,
    ORG_UUID,
    ORIGINS,
    SITE_API_HOST,
    SITE_APP_HOST,
    SITE_MCP_HOST,
    Origin,
    Person,
    ServiceAccount,
)

ORG_BLOCK = {"uuid": ORG_UUID, "name": ORG_NAME}
ORG_UUID_ONLY = {"uuid": ORG_UUID}
TAGS_AUDIT = ["source:audit"]
TAGS_MCP = ["is_mcp_call:true", "source:audit"]
TAGS_NOTABLE = ["is_notable_event:true", "is_previewable_event:true", "source:audit"]
TAGS_PREVIEW = ["is_previewable_event:true", "source:audit"]
TAGS_AUTHORIZED = [
    "is_previewable_event:false",
    "is_notable_event:false",
    "is_mcp_call:false",
    "source:audit",
]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building (or indexing) items.

    Items are trees of small dicts with no reference cycles (reference counting frees them), but every
    700 new containers trigger a collection that walks the young ones, and the older generations get
    walked again and again as the list grows: about a third of the generation time, for nothing.
    The previous state is restored on exit (a pause inside a pause leaves the collector off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Timestamps are assembled from parts: a cached `YYYY-MM-DDT` per day, then table lookups for the
# hour/minute, seconds and milliseconds (formatting dates was the generator's hot spot).
_DAYS: dict[int, str] = {}
_HOUR_MINUTE = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_2D = [f"{n:02d}" for n in range(60)]
_3D = [f"{n:03d}" for n in range(1000)]
_3D_TRIMMED = [f"{n:03d}".rstrip("0") for n in range(1000)]  # ".52Z" style: trailing zeros dropped


def _second_prefix(ms: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` for the second of `ms`."""
    day, second_of_day = divmod(ms // 1000, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = f"{datetime.fromtimestamp(day * 86400, tz=UTC):%Y-%m-%dT}"
    minute, second = divmod(second_of_day, 60)
    return prefix + _HOUR_MINUTE[minute] + _2D[second]


def iso_ms(ms: int) -> str:
    """Outer timestamp: always `YYYY-MM-DDTHH:MM:SS.mmmZ` (the API's own format)."""
    return f"{_second_prefix(ms)}.{_3D[ms % 1000]}Z"


def inner_ts(ms: int, style: int) -> str:
    """Inner timestamp in one of the three real formats (quirk 4)."""
    return _inner_ts(_second_prefix(ms), ms, style)


def _inner_ts(base: str, ms: int, style: int) -> str:
    if style == 0:  # 2022 request events: microseconds, no zone
        return f"{base}.{_3D[ms % 1000]}{_3D[(ms * 7) % 1000]}"
    if style == 1:  # seconds, Z
        return base + "Z"
    # 2026 events: milliseconds with trailing zeros trimmed (".52Z"), or none at all
    f = _3D_TRIMMED[ms % 1000]
    return f"{base}.{f}Z" if f else base + "Z"


def status_for(code: int) -> str:
    # Seen: 2xx → info, 4xx → warn, 5xx and 0 (a UI request that never completed) → error.
    if 200 <= code < 400:
        return "info"
    if 400 <= code < 500:
        return "warn"
    return "error"


def _geoip(origin: Origin) -> dict[str, Any]:
    c = CITIES[origin.city]
    a = ASNS[origin.asn]
    return {
        "continent": {"code": c.continent_code, "name": c.continent},
        "country": {"name": c.country, "iso_code": c.iso},
        "subdivision": {"name": c.subdivision, "iso_code": c.subdivision_iso},
        "as": {
            "number": f"AS{a.number}",  # quirk 2: a string with the AS prefix here...
            "route": a.route,
            "domain": a.domain,
            "name": a.name,
            "type": a.type,
        },
        "city": {"name": c.name},
        "timezone": c.tz,
        "ipAddress": origin.ip,
        "location": {"latitude": c.lat, "longitude": c.lon},
    }


def _threat_intel(origin: Origin) -> dict[str, Any] | None:
    if origin.tunnel is None and not origin.ti_risks:
        return None
    c = CITIES[origin.city]
    a = ASNS[origin.asn]
    data: dict[str, Any] = {}
    if origin.tunnel is not None:
        ttype, operator, anonymous = origin.tunnel
        data["tunnels"] = [{"anonymous": anonymous, "type": ttype, "operator": operator}]
    data["as"] = {"number": a.number, "organization": a.name}  # ...and an integer here
    if origin.ti_risks:
        data["risks"] = list(origin.ti_risks)
    if a.type == "hosting":
        data["infrastructure"] = "DATACENTER"
    data["organization"] = a.name
    data["client"] = {
        "types": ["DESKTOP"],
        "count": 3 if origin.tunnel is None else 41,
        "concentration": {"country": c.iso, "density": 1, "city": c.name, "skew": 12},
        "countries": 1 if origin.tunnel is None else 9,
    }
    data["location"] = {"country": c.iso, "city": c.name, "state": c.subdivision}
    result: dict[str, Any] = {
        "indicator": origin.ip,
        "additional_data": data,
        "source": {"name": "spur", "type": "managed", "url": "https://spur.us"},
        "type": "IP",
    }
    if origin.ti_category:
        result["category"] = origin.ti_category
    if origin.ti_intention:
        result["intention"] = origin.ti_intention
    return {"indicators_matched": ["IP"], "results": [result]}


@dataclass(frozen=True)
class Net:
    """Pre-built network (and threat_intel) blocks for one origin."""

    origin: Origin
    network: dict[str, Any]
    threat_intel: dict[str, Any] | None

    @property
    def ip(self) -> str:
        return self.origin.ip


_NETS: dict[str, Net] = {}


def net(origin: Origin | str) -> Net:
    if isinstance(origin, str):
        origin = ORIGINS[origin]
    n = _NETS.get(origin.ip)
    if n is None:
        n = Net(origin, {"client": {"geoip": _geoip(origin), "ip": origin.ip}}, _threat_intel(origin))
        _NETS[origin.ip] = n
    return n


# Constant sub-objects of request events, built once and shared (see the module docstring).
_REQUEST_EVTS: dict[str, dict[str, Any]] = {}
_KEY_METADATA: dict[tuple[str, str | None], dict[str, Any]] = {}
_ROUTES: dict[str, dict[str, str]] = {}


def _request_evt(actor_type: str) -> dict[str, Any]:
    evt = _REQUEST_EVTS.get(actor_type)
    if evt is None:
        evt = _REQUEST_EVTS[actor_type] = {"actor": {"type": actor_type}, "name": "Request"}
    return evt


def _key_metadata(api_key: str, app_key: str | None) -> dict[str, Any]:
    md = _KEY_METADATA.get((api_key, app_key))
    if md is None:
        md = {"api_key": {"id": api_key}}
        if app_key is not None:
            md["application_key"] = {"id": app_key}
        _KEY_METADATA[(api_key, app_key)] = md
    return md


def _route(route: str) -> dict[str, str]:
    r = _ROUTES.get(route)
    if r is None:
        r = _ROUTES[route] = {"path": route}
    return r


def person_origin(p: Person) -> Origin:
    return Origin(p.ip, p.city, p.isp)


def person_usr(p: Person, full: bool = False) -> dict[str, Any]:
    if full:
        return {"created": p.created, "name": p.name, "id": p.email, "uuid": p.uuid, "email": p.email}
    return {"id": p.email, "uuid": p.uuid, "email": p.email}


def sa_usr(sa: ServiceAccount) -> dict[str, Any]:
    return {"id": sa.usr_id, "uuid": sa.uuid, "email": sa.email}


# Event ids: binascii directly (`base64.b64encode` / `urlsafe_b64encode` are the same, with more calls),
# and one struct for 0x01, the 8-byte time, 4 random bytes, 4 zero bytes, an 18-character tail.
_b64 = binascii.b2a_base64
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_ID_LAYOUT = struct.Struct(">BQ4s4x18s")


class Shapes:
    """Item builders sharing one RNG (ids and small random details) so output is reproducible."""

    def __init__(self, rng: random.Random, jitter: bool = False) -> None:
        self.rng = rng
        # Planted scenes are scripted in whole seconds; real events carry milliseconds, so with `jitter`
        # a whole-second time gets a random fraction (< 1 s: orders and windows are unchanged).
        self.jitter = jitter
        self.last_ts = 0  # time of the last item built (callers sort by it without re-parsing)

    # -- envelope ----------------------------------------------------------------------------

    def new_id(self, ts: int) -> str:
        # Real ids are base64url of: 0x01, the event time, random bytes, then an ASCII base64 tail
        # (`_ID_LAYOUT` keeps the first 4 of 20 random bytes, and 18 characters of the rest's base64).
        r = self.rng.getrandbits(160).to_bytes(20, "big")
        raw = _ID_LAYOUT.pack(1, ts, r, _b64(r[4:], newline=False))
        return _b64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    def item(
        self,
        ts: int,
        inner: dict[str, Any],
        message: str,
        tags: list[str] = TAGS_AUDIT,
        service: bool = True,
        style: int = 2,
    ) -> dict[str, Any]:
        if self.jitter and style == 2 and ts % 1000 == 0:
            ts += 1 + self.rng.randrange(999)
        self.last_ts = ts
        base = _second_prefix(ts)  # shared by the inner and the outer timestamp
        inner["timestamp"] = _inner_ts(base, ts, style)
        attrs: dict[str, Any] = {"attributes": inner, "message": message}
        if service:
            attrs["service"] = "audit"
        attrs["tags"] = tags
        attrs["timestamp"] = f"{base}.{_3D[ts % 1000]}Z"
        return {"id": self.new_id(ts), "type": "audit", "attributes": attrs}

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        ts: int,
        usr: dict[str, Any],
        actor_type: str,
        email: str,
        origin: Origin | str,
        method: str,
        path: str,
        route: str | None,
        code: int,
        useragent: str,
        *,
        api_key: str | None = None,
        app_key: str | None = None,
        oauth: tuple[str, str] | None = None,
        host: str = SITE_API_HOST,
        auth: str | None = None,
    ) -> dict[str, Any]:
        """A 2026-style `Request` event (audit-events.md §4.1): numeric status code, geoip, route."""
        n = net(origin)
        status = status_for(code)
        inner: dict[str, Any] = {"evt": _request_evt(actor_type)}
        if api_key is not None:
            inner["metadata"] = _key_metadata(api_key, app_key)
            inner["auth_method"] = auth or "API_AND_APP_KEY"
        elif oauth is not None:
            inner["metadata"] = {"oauth_client": {"name": oauth[0], "uuid": oauth[1]}}
            inner["auth_method"] = auth or "OAUTH_TOKEN"
        else:
            inner["auth_method"] = auth or "SESSION"
        if route is not None:
            inner["route"] = _route(route)
        inner["org"] = ORG_UUID_ONLY
        inner["usr"] = usr
        inner["action"] = "accessed"
        inner["http"] = {
            "status_code": code,
            "url_details": {"path": path, "host": host},
            "method": method,
            "useragent": useragent,
        }
        inner["network"] = n.network
        if n.threat_intel is not None:
            inner["threat_intel"] = n.threat_intel
        inner["status"] = status
        inner["emitted_source"] = "edge"
        message = f"{method} request made to {path} by {email} with response {code}"
        return self.item(ts, inner, message)

    def request_2022(
        self, ts: int, usr: dict[str, Any], email: str, ip: str, method: str, path: str, code: int, ua: str
    ) -> dict[str, Any]:
        """The recorded 2022 shape (datadog-api.md §2.1): string status code, bytes, no geoip, no service."""
        rng = self.rng
        inner: dict[str, Any] = {
            "status": status_for(code),
            "http": {
                "status_code": str(code),  # quirk 1: a string in 2022 data
                "url_details": {"path": path, "host": INTERNAL_HOST},
                "method": method,
                "useragent": ua,
            },
            "network": {
                "bytes_read": 0 if method == "GET" else rng.randrange(200, 2000),
                "client": {"ip": ip},
                "bytes_written": rng.randrange(100, 120_000),
            },
        }
        inner["timestamp"] = ""
        inner["usr"] = usr
        inner["action"] = "accessed"
        inner["org"] = ORG_UUID_ONLY
        inner["evt"] = {"name": "Request", "actor": {"type": "USER"}}
        inner["auth_method"] = "SESSION"
        message = f"{method} request made to {path} by {email} with response {code}"
        return self.item(ts, inner, message, service=False, style=0)

    def request_authorized(
        self, ts: int, p: Person, resource: str, resource_id: str, origin: Origin | str
    ) -> dict[str, Any]:
        n = net(origin)
        inner: dict[str, Any] = {
            "evt": {"actor": {"type": "USER"}, "name": "Request"},
            "auth_method": "SESSION",
            "org": ORG_UUID_ONLY,
            "usr": person_usr(p),
            "action": "authorized",
            "network": n.network,
            "status": "info",
        }
        message = f"{p.email} was authorized to perform view on resource {resource} ({resource_id})"
        return self.item(ts, inner, message, TAGS_AUTHORIZED)

    # -- product events ----------------------------------------------------------------------

    def change(
        self,
        ts: int,
        evt_name: str,
        asset_type: str,
        action: str,
        asset_id: str | None,
        asset_name: str | None,
        *,
        usr: dict[str, Any] | None,
        actor_type: str = "USER",
        email: str | None = None,
        origin: Origin | str | None = None,
        auth: str = "SESSION",
        tags: list[str] = TAGS_AUDIT,
        inner_tags: list[str] | None = None,
        prev: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        http: tuple[str, str, int] | None = None,
        metadata: dict[str, Any] | None = None,
        mode: str | None = None,
        delegator: dict[str, Any] | None = None,
        useragent: str | None = None,
        message: str | None = None,
        status: str = "info",
        extra_asset: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A product-specific event: `<evt.name>` / `<asset.type>` / `<action>` (audit-events.md §2)."""
        actor: dict[str, Any] = {"type": actor_type}
        if mode is not None:
            actor["mode"] = mode
        inner: dict[str, Any] = {"evt": {"actor": actor, "name": evt_name}}
        if metadata is not None:
            inner["metadata"] = metadata
        inner["auth_method"] = auth
        inner["org"] = ORG_BLOCK
        if usr is not None:
            inner["usr"] = usr
        if delegator is not None:
            inner["delegator"] = delegator
        inner["action"] = action
        asset: dict[str, Any] = {}
        if asset_name is not None:
            asset["name"] = asset_name
        if asset_id is not None:
            asset["id"] = asset_id
        asset["type"] = asset_type
        if prev is not None:
            asset["prev_value"] = prev
        if new is not None:
            asset["new_value"] = new
        if extra_asset:
            asset.update(extra_asset)
        inner["asset"] = asset
        if http is not None:
            method, path, code = http
            h: dict[str, Any] = {
                "status_code": code,
                "url_details": {"path": path, "host": SITE_API_HOST},
                "method": method,
                "level": "info" if code < 400 else "error",
            }
            if useragent is not None:
                h["useragent"] = useragent
            inner["http"] = h
        if origin is not None:
            n = net(origin)
            inner["network"] = n.network
            if n.threat_intel is not None:
                inner["threat_intel"] = n.threat_intel
        if inner_tags is not None:
            inner["tags"] = inner_tags
        inner["uuid"] = self.uuid()
        inner["status"] = status
        if message is None:
            who = email or (usr or {}).get("email") or (usr or {}).get("name") or "Datadog"
            label = f' "{asset_name}"' if asset_name is not None else ""
            message = f"{who} successfully {action} {asset_type}{label}"
        return self.item(ts, inner, message, tags)

    def login(
        self, ts: int, usr: dict[str, Any], email: str, origin: Origin | str, ok: bool, method: str, ua: str
    ) -> dict[str, Any]:
        n = net(origin)
        inner: dict[str, Any] = {
            "evt": {"actor": {"type": "USER"}, "name": "Authentication"},
            "auth_method": method,
            "org": ORG_BLOCK,
            "usr": usr,
            "action": "login",
            "http": {
                "status_code": 200 if ok else 401,
                "url_details": {"path": "/account/login", "host": SITE_APP_HOST},
                "method": "POST",
                "useragent": ua,
            },
            "network": n.network,
        }
        if n.threat_intel is not None:
            inner["threat_intel"] = n.threat_intel
        inner["uuid"] = self.uuid()
        inner["status"] = "info" if ok else "error"
        how = {"SAML": "SAML", "GOOGLE": "Google SSO", "PASSWORD": "password"}.get(method, method)
        message = (
            f"{email} successfully logged in using {how}" if ok else f"{email} failed to log in using {how}"
        )
        return self.item(ts, inner, message)

    # -- AI ----------------------------------------------------------------------------------

    def mcp_tool(
        self,
        ts: int,
        usr: dict[str, Any],
        email: str,
        origin: Origin | str | None,
        client: tuple[str, str, str, str],
        tool: str,
        arguments: dict[str, Any],
        *,
        actor_type: str = "USER",
        code: int = 200,
    ) -> dict[str, Any]:
        """An MCP tool call (audit-events.md §4.3): action `executed`, asset.type `mcp`, tag is_mcp_call."""
        rng = self.rng
        inner: dict[str, Any] = {
            "evt": {"actor": {"type": actor_type}, "name": "MCP Server"},
            "metadata": {
                "dd": {"request_id": self.uuid()},
                "usage": {"duration": rng.randrange(20_000_000, 2_000_000_000)},
                # quirk 11: mcp.request_id is sometimes a string, sometimes a number
                "mcp": {
                    "request_id": f"mcp-{rng.getrandbits(40):010x}"
                    if rng.random() < 0.5
                    else rng.randrange(1, 10**6)
                },
                "oauth_client": {"name": client[0], "uuid": client[1]},
                "tool": {"name": tool, "arguments": arguments},
            },
            "org": ORG_BLOCK,
        }
        if origin is not None:
            n = net(origin)
            if n.threat_intel is not None:
                inner["threat_intel"] = n.threat_intel
            inner["network"] = n.network
        inner["uuid"] = self.uuid()
        inner["auth_method"] = "OAUTH_TOKEN"
        inner["usr"] = usr
        inner["action"] = "executed"
        inner["http"] = {
            "status_code": code,
            "url_details": {"path": "/api/unstable/mcp-server/mcp?toolsets=all"},
            "method": "POST",
            "level": "info" if code < 400 else "error",
        }
        inner["asset"] = {"type": "mcp"}
        inner["status"] = status_for(code)
        verb = "successfully called" if code < 400 else "failed to call"
        return self.item(ts, inner, f"{email} {verb} tool '{tool}'", TAGS_MCP)

    def mcp_init(
        self,
        ts: int,
        usr: dict[str, Any],
        email: str,
        origin: Origin | str | None,
        client: tuple[str, str, str, str],
        actor_type: str = "USER",
    ) -> dict[str, Any]:
        inner: dict[str, Any] = {
            "evt": {"actor": {"type": actor_type}, "name": "MCP Server"},
            "metadata": {
                "dd": {"request_id": self.uuid()},
                "client": {"name": client[2], "version": "1.0.0"},
                "mcp": {"request_id": self.rng.randrange(1, 10**6)},
                "oauth_client": {"name": client[0], "uuid": client[1]},
            },
            "uuid": self.uuid(),
            "auth_method": "OAUTH_TOKEN",
            "usr": usr,
            "action": "executed",
            "http": {
                "status_code": 200,
                "url_details": {"path": "/v1/mcp?toolsets=core,visualizations"},
                "method": "POST",
                "level": "info",
                "useragent": client[3],
            },
            "asset": {"type": "mcp"},
            "status": "info",
        }
        if origin is not None:
            inner["network"] = net(origin).network
        return self.item(ts, inner, f"{email} initialized a connection", TAGS_MCP)

    def mcp_http(
        self, ts: int, p: Person, origin: Origin | str, client: tuple[str, str, str, str]
    ) -> dict[str, Any]:
        """The raw HTTP request to the MCP endpoint: a plain `Request` with no is_mcp_call tag."""
        return self.request(
            ts,
            person_usr(p),
            "USER",
            p.email,
            origin,
            "POST",
            "/api/unstable/mcp-server/mcp",
            "/api/unstable/mcp-server/mcp",
            200,
            client[3],
            oauth=(client[0], client[1]),
            host=SITE_MCP_HOST,
        )

    def bits_investigation(
        self, ts: int, p: Person, monitor_id: int
    ) -> tuple[list[dict[str, Any]], dict[str, int | str]]:
        """The three correlated Bits AI SRE events (audit-events.md §4.4): started, tool_call, task."""
        rng = self.rng
        request_id = self.uuid()
        inv_uuid = self.uuid()
        inv_id = self.uuid()
        usr = person_usr(p, full=True)
        md = {"dd": {"request_id": request_id}}
        started = self.change(
            ts,
            "Bits AI SRE",
            "investigation",
            "started",
            inv_id,
            f"investigation:{inv_uuid}",
            usr=usr,
            email=p.email,
            metadata=md,
            new={
                "executor_uuid": p.uuid,
                "event_id": self.uuid(),
                "monitor_id": monitor_id,
                "investigation_uuid": inv_uuid,
                "event_ts": inner_ts(ts - rng.randrange(60_000, 900_000), 1),
                "initiator_uuid": p.uuid,
            },
        )
        t2 = ts + rng.randrange(60_000, 300_000)
        tool = rng.choice(["submit_remediations", "query_logs", "query_metrics", "summarize_findings"])
        tool_call = self.change(
            t2,
            "Bits AI SRE",
            "tool_call",
            "created",
            f"tool:{tool}@{inner_ts(t2, 1)}",
            tool,
            usr=usr,
            email=p.email,
            metadata=md,
            new={
                "duration_ms": rng.randrange(0, 4000),
                "tool_name": tool,
                "executor_uuid": p.uuid,
                "run_origin": "execution_source_regular",
                "datadog_product_name": "",
                "result_status": "success",
                "started_at": inner_ts(t2, 1),
                "source": "bits-copilot",
                "initiator_uuid": p.uuid,
            },
        )
        t3 = t2 + rng.randrange(5_000, 60_000)
        fqn = rng.choice(["com.datadoghq.slack.listWorkspaces", "com.datadoghq.github.getPullRequest"])
        task = self.change(
            t3,
            "Bits AI SRE",
            "action_platform_task",
            "completed",
            self.uuid(),
            f"action task {fqn}",
            usr=None,
            actor_type="SYSTEM",
            auth="SYSTEM",
            metadata={
                "dd": {"request_id": request_id},
                "fqn": fqn,
                "actions_client": "BITS_SRE",
                "action_name": fqn.rsplit(".", 1)[1],
                "bundle_id": self.uuid(),
                "result_hash": f"{rng.getrandbits(256):064x}",
                "session_id": inv_id,  # joins the task to the investigation's asset.id
                "action_client": "BITS_SRE",
            },
            message=f"successfully completed action task {fqn} {self.uuid()}",
        )
        return [started, tool_call, task], {"request_id": request_id, "investigation_id": inv_id}

    # -- system ------------------------------------------------------------------------------

    def agent_update_config(self, ts: int, hostname: str) -> dict[str, Any]:
        """The recorded 2022 Agent remote-config event (datadog-api.md §2.4): no evt.name at all."""
        snap = 1419839 + (ts // 3_600_000) % 5000
        inner: dict[str, Any] = {
            "status": "info",
            "tags": [
                f"agent_hostname:{hostname}",
                "agent_version:7.35.0",
                "root_config_version:4",
                f"old_snapshot_version:{snap}",
                f"last_snapshot_version:{snap + 6}",
            ],
            "timestamp": "",
            "usr": {"id": AGENT_USR_UUID, "email": AGENT_USR_UUID},
            "action": "update_config",
            "org": ORG_UUID_ONLY,
            "evt": {"actor": {"type": "Other"}},
            "auth_method": "API + App Key",
        }
        # 2022 events carry whole seconds (…:59.000Z outside, …:59Z inside).
        return self.item(
            ts - ts % 1000, inner, "Agent configuration successfuly updated", service=False, style=1
        )

    def workflow_run(self, ts: int, workflow: tuple[str, str], sa: ServiceAccount) -> dict[str, Any]:
        wid, wname = workflow
        return self.change(
            ts,
            "Workflows",
            "workflow",
            "executed",
            wid,
            wname,
            usr=None,
            actor_type="SYSTEM",
            auth="SYSTEM",
            metadata={
                "run_as_user": {"is_service_account": True, "name": sa.name, "id": sa.uuid},
                "run_as_user_mode": "service_account",
                "source": {"source_type": "schedule", "schedule_id": wid[:8]},
                "workflow_id": wid,
                "workflow_name": wname,
                "instance_id": self.uuid(),
            },
            message=f'successfully executed workflow "{wname}"',
        )

    def security_notification(
        self,
        ts: int,
        asset_type: str,
        asset_id: str,
        asset_name: str,
        message: str,
        usr: dict[str, Any] | None = None,
        origin: Origin | str | None = None,
        new: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Datadog's own detections written to the trail (audit-events.md §5)."""
        return self.change(
            ts,
            "Security Notification",
            asset_type,
            "notification",
            asset_id,
            asset_name,
            usr=usr,
            actor_type="SYSTEM",
            auth="SYSTEM",
            origin=origin,
            new=new,
            message=message,
            status="warn",
        )
