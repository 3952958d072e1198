"""Decoding every input shape into `Event` records.

Shapes accepted (see `reference/audit-events.md` §1 and `datadog-api.md` §5.5):
- an Audit Logs API response page `{"data": [...], "meta": ..., "links": ...}` (also `pup -o json`, keys sorted);
- pup's agent-mode envelope `{"status": "success", "data": [...]}`;
- a JSON array of API items, or a single API item;
- NDJSON of API items and/or Datadog archive lines `{"date", "attributes", "_id", "source", "message", ...}`.

Speed: typed msgspec structs decode only the fields the analyses need (whole dashboards in
`asset.prev_value` are skipped, not built); each item's raw bytes are kept zero-copy as `msgspec.Raw`
until the record is built. An item whose fields have unexpected types falls back to a tolerant
walk over plain JSON, so one odd event never fails a whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import Raw, Struct

from ddaudit_tui.events.record import KIND_API, KIND_ARCHIVE, Event


class DecodeError(ValueError):
    """Input that is not audit data. `str()` is a one-line message naming the source and position."""

    def __init__(self, source: str, message: str, line: int | None = None, column: int | None = None):
        self.source = source
        self.message = message
        self.line = line
        self.column = column
        where = source
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


# -- typed shapes (fast path) -------------------------------------------------------------------
# Every field optional; unions where real data disagrees on the type (audit-events.md §8).

Scalar = str | int | float | bool | None


class _Named(Struct, gc=False):
    name: str | None = None
    iso_code: str | None = None


class _Actor(Struct, gc=False):
    type: str | None = None
    mode: str | None = None


class _Evt(Struct, gc=False):
    name: str | None = None
    actor: _Actor | None = None


class _Usr(Struct, gc=False):
    id: str | int | None = None
    email: str | None = None
    uuid: str | None = None
    name: str | None = None


class _Delegator(Struct, gc=False):
    id: str | int | None = None
    name: str | None = None


class _Asset(Struct, gc=False):
    type: str | None = None
    id: str | int | None = None
    name: str | None = None


class _UrlDetails(Struct, gc=False):
    path: str | None = None
    host: str | None = None


class _Http(Struct, gc=False):
    method: str | None = None
    status_code: int | str | None = None
    url_details: _UrlDetails | None = None
    useragent: str | None = None


class _Route(Struct, gc=False):
    path: str | None = None


class _Location(Struct, gc=False):
    latitude: float | str | None = None
    longitude: float | str | None = None


class _As(Struct, gc=False):
    number: str | int | None = None
    name: str | None = None
    type: str | None = None
    domain: str | None = None


class _GeoIp(Struct, gc=False):
    country: _Named | None = None
    subdivision: _Named | None = None
    city: _Named | None = None
    timezone: str | None = None
    location: _Location | None = None
    as_: _As | None = msgspec.field(default=None, name="as")


class _Client(Struct, gc=False):
    ip: str | None = None
    geoip: _GeoIp | None = None


class _Network(Struct, gc=False):
    client: _Client | None = None


class _Id(Struct, gc=False):
    id: str | int | None = None


class _Name(Struct, gc=False):
    name: str | None = None


class _Metadata(Struct, gc=False):
    api_key: _Id | None = None
    application_key: _Id | None = None
    app_key: _Id | None = None
    tool: _Name | None = None
    oauth_client: _Name | None = None
    client: _Name | None = None


class _Tunnel(Struct, gc=False):
    type: str | None = None
    operator: str | None = None


class _TiData(Struct, gc=False):
    tunnels: list[_Tunnel] | None = None
    infrastructure: str | None = None
    risks: list[str] | None = None


class _TiResult(Struct, gc=False):
    additional_data: _TiData | None = None
    category: str | None = None


class _ThreatIntel(Struct, gc=False):
    results: list[_TiResult] | None = None


class _Org(Struct, gc=False):
    uuid: str | None = None
    name: str | None = None


class _Inner(Struct, gc=False):
    evt: _Evt | None = None
    action: str | None = None
    status: str | None = None
    auth_method: str | None = None
    usr: _Usr | None = None
    delegator: _Delegator | None = None
    asset: _Asset | None = None
    http: _Http | None = None
    route: _Route | None = None
    network: _Network | None = None
    metadata: _Metadata | None = None
    threat_intel: _ThreatIntel | None = None
    org: _Org | None = None
    tags: tuple[str, ...] | None = None  # other scalars (rare) are read on the tolerant path


class _ApiAttributes(Struct, gc=False):
    attributes: _Inner | None = None
    message: str | None = None
    service: str | None = None
    tags: tuple[str, ...] | None = None  # other scalars (rare) are read on the tolerant path
    timestamp: str | int | None = None


class _ApiItem(Struct, gc=False):
    id: str | int | None = None
    type: str | None = None
    attributes: _ApiAttributes | None = None


class _ArchiveItem(Struct, gc=False):
    date: str | int | None = None
    attributes: _Inner | None = None
    id: str | int | None = msgspec.field(default=None, name="_id")
    message: str | None = None
    status: str | None = None
    service: str | None = None
    tags: tuple[str, ...] | None = None  # other scalars (rare) are read on the tolerant path


class _Page(Struct, gc=False):
    # Raw: the shape is probed without building the (possibly 200 MB) data array as Python objects.
    data: Raw = msgspec.UNSET
    status: Any = None


_api_decoder = msgspec.json.Decoder(_ApiItem)
_archive_decoder = msgspec.json.Decoder(_ArchiveItem)
_page_decoder = msgspec.json.Decoder(_Page)
_raw_list_decoder = msgspec.json.Decoder(list[Raw])
_any_decoder = msgspec.json.Decoder()


# -- small tolerant helpers -------------------------------------------------------------------

_hour_cache: dict[str, int] = {}
_MAX_TS = 253_370_764_800_000  # 9999-01-01T00:00:00Z in epoch ms


# "00".."99" and "000".."999": a dict lookup reads the minutes, seconds and milliseconds of the API's own
# timestamps at a third of the cost of int() (which parses any text); anything else misses and is read below.
_D2 = {f"{i:02d}": i for i in range(100)}
_D3 = {f"{i:03d}": i for i in range(1000)}


def parse_timestamp(value: Any) -> int | None:
    """Epoch milliseconds from an ISO-8601 string (zone optional: UTC assumed) or an epoch number."""
    if type(value) is str and len(value) == 24 and value[23] == "Z" and value[19] == ".":
        base = _hour_cache.get(value[:13])
        if base is not None:
            try:
                ms = base + _D2[value[14:16]] * 60_000 + _D2[value[17:19]] * 1000 + _D3[value[20:23]]
                return ms if 0 <= ms < _MAX_TS else None
            except KeyError:
                pass
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        # Epoch seconds vs milliseconds: anything below 1e11 cannot be milliseconds after 1973.
        ms = int(value * 1000) if abs(value) < 1e11 else int(value)
        # Outside 1970..9998 no clock wrote it, and datetime arithmetic downstream would overflow.
        return ms if 0 <= ms < _MAX_TS else None
    if not isinstance(value, str):
        return None
    s = value.strip()
    # Fast path for the API's own shape, 2026-07-31T19:23:18.758Z: cache the hour, add the rest.
    if len(s) == 24 and s[23] == "Z" and s[19] == "." and s[10] == "T":
        base = _hour_cache.get(s[:13])
        if base is None:
            try:
                base = int(datetime.fromisoformat(s[:13] + ":00:00+00:00").timestamp()) * 1000
            except ValueError:
                return None
            if len(_hour_cache) > 100_000:
                _hour_cache.clear()
            _hour_cache[s[:13]] = base
        try:
            ms = base + int(s[14:16]) * 60_000 + int(s[17:19]) * 1000 + int(s[20:23])
            return ms if 0 <= ms < _MAX_TS else None
        except ValueError:
            pass
    if s.isdigit():
        return parse_timestamp(int(s))
    try:
        dt = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = int(dt.timestamp() * 1000)
    return ms if 0 <= ms < _MAX_TS else None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_asn(value: Any) -> int | None:
    """`"AS396982"` (geoip) and `64496` (threat_intel) both become 396982 / 64496 (quirk 2)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    s = str(value).strip()
    if s[:2].upper() == "AS":
        s = s[2:]
    return int(s) if s.isdigit() else None


_asn_cache: dict[str, int | None] = {}


def _asn(value: str | int | None) -> int | None:
    """`parse_asn`, remembered per string: a page holds a few networks a thousand times."""
    if type(value) is not str:
        return parse_asn(value)
    try:
        return _asn_cache[value]
    except KeyError:
        if len(_asn_cache) > 10_000:  # hostile data must not grow it without bound
            _asn_cache.clear()
        n = _asn_cache[value] = parse_asn(value)
        return n


def _int_status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _tags(values: Any) -> tuple[str, ...]:
    if not values or not isinstance(values, list):
        return ()
    for v in values:
        if type(v) is not str:
            return tuple(str(v) for v in values if v is not None and not isinstance(v, dict | list))
    return tuple(values)


def _mcp_flag(tags: tuple[str, ...]) -> bool | None:
    for tag in tags:
        if tag[:12] == "is_mcp_call:":
            return tag[12:].lower() == "true"
    return None


# -- building records from the typed shapes --------------------------------------------------
# Straight-line code and a positional `Event(...)`: msgspec matches keyword arguments by name, which for
# 53 fields costs ~2 µs an event — more than the JSON decode itself; positional arguments cost ~0.15 µs.
# `_FIELDS` pins the order those arguments follow (checked against `Event` when this module loads).

_FIELDS = (
    "id", "ts", "raw", "kind", "message", "service", "status", "tags", "inner_tags",
    "evt_name", "action", "actor_type", "actor_mode",
    "usr_id", "usr_email", "usr_uuid", "usr_name", "delegator_id", "delegator_name", "auth_method",
    "api_key_id", "app_key_id", "asset_type", "asset_id", "asset_name",
    "http_method", "http_path", "http_host", "http_status", "route_path", "useragent",
    "client_ip", "country", "country_iso", "subdivision", "city", "geo_timezone", "lat", "lon",
    "asn", "asn_name", "asn_type", "asn_domain",
    "ti_tunnel", "ti_infrastructure", "ti_category", "ti_risks",
    "is_mcp_call", "tool_name", "oauth_client", "mcp_client", "org_uuid", "org_name",
)  # fmt: skip
if Event.__struct_fields__ != _FIELDS:  # pragma: no cover - a reordered record must not shift values
    raise ImportError("events.decode: Event's fields changed; update _FIELDS and _event")


def _id_str(value: str | int | None) -> str | None:
    # The typed shapes allow str | int | None only (a bool or an object went to the tolerant path).
    return value if value is None or type(value) is str else str(value)


def _event(
    raw: bytes,
    id_: str,
    ts: int,
    kind: str,
    message: str | None,
    service: str | None,
    status: str | None,
    tags: tuple[str, ...],
    inner: _Inner | None,
) -> Event:
    """The record, from the outer fields and the typed inner event (the inner `status` wins)."""
    mcp = _mcp_flag(tags) if tags else None
    if inner is None:
        return Event(id_, ts, raw, kind, message, service, status, tags, (), is_mcp_call=mcp)
    if inner.status is not None:
        status = inner.status
    evt_name = actor_type = actor_mode = None
    if (evt := inner.evt) is not None:
        evt_name = evt.name
        if (actor := evt.actor) is not None:
            actor_type, actor_mode = actor.type, actor.mode
    usr_id = usr_email = usr_uuid = usr_name = None
    if (usr := inner.usr) is not None:
        usr_id, usr_email, usr_uuid, usr_name = usr.id, usr.email, usr.uuid, usr.name
        if usr_id is not None and type(usr_id) is not str:
            usr_id = str(usr_id)
    dlg_id = dlg_name = None
    if (dlg := inner.delegator) is not None:
        dlg_id, dlg_name = _id_str(dlg.id), dlg.name
    asset_type = asset_id = asset_name = None
    if (asset := inner.asset) is not None:
        asset_type, asset_id, asset_name = asset.type, _id_str(asset.id), asset.name
    method = path = host = code = useragent = None
    if (http := inner.http) is not None:
        method, useragent = http.method, http.useragent
        code = http.status_code
        if code is not None and type(code) is not int:
            code = _int_status(code)
        if (url := http.url_details) is not None:
            path, host = url.path, url.host
    route_path = inner.route.path if inner.route is not None else None
    ip = country = country_iso = subdivision = city = tz = lat = lon = None
    asn = asn_name = asn_type = asn_domain = None
    if (net := inner.network) is not None and (client := net.client) is not None:
        ip = client.ip
        if (geo := client.geoip) is not None:
            if (c := geo.country) is not None:
                country, country_iso = c.name, c.iso_code
            if geo.subdivision is not None:
                subdivision = geo.subdivision.name
            if geo.city is not None:
                city = geo.city.name
            tz = geo.timezone
            if (loc := geo.location) is not None:
                lat, lon = loc.latitude, loc.longitude
                if type(lat) is not float:
                    lat = _float(lat)
                if type(lon) is not float:
                    lon = _float(lon)
            if (as_ := geo.as_) is not None:
                asn, asn_name, asn_type, asn_domain = _asn(as_.number), as_.name, as_.type, as_.domain
    api_key = app_key = tool = oauth = mcp_client = None
    if (md := inner.metadata) is not None:
        if md.api_key is not None and (api_key := md.api_key.id) is not None and type(api_key) is not str:
            api_key = str(api_key)
        if (app := md.application_key or md.app_key) is not None:
            app_key = _id_str(app.id)
        if md.tool is not None:
            tool = md.tool.name
        if md.oauth_client is not None:
            oauth = md.oauth_client.name
        if md.client is not None:
            mcp_client = md.client.name
    tunnel = infra = category = None
    risks: tuple[str, ...] = ()
    if (ti := inner.threat_intel) is not None and ti.results:
        found: list[str] = []
        for result in ti.results:
            if category is None:
                category = result.category
            if (data := result.additional_data) is None:
                continue
            if data.tunnels and tunnel is None:
                t = data.tunnels[0]
                tunnel = " ".join(p for p in (t.type or "TUNNEL", t.operator) if p)
            if data.infrastructure and infra is None:
                infra = data.infrastructure
            if data.risks:
                found.extend(data.risks)
        risks = tuple(found)
    org_uuid = org_name = None
    if (org := inner.org) is not None:
        org_uuid, org_name = org.uuid, org.name
    return Event(
        id_, ts, raw, kind, message, service, status, tags, inner.tags or (),
        evt_name, inner.action, actor_type, actor_mode,
        usr_id, usr_email, usr_uuid, usr_name, dlg_id, dlg_name, inner.auth_method,
        api_key, app_key, asset_type, asset_id, asset_name,
        method, path, host, code, route_path, useragent,
        ip, country, country_iso, subdivision, city, tz, lat, lon,
        asn, asn_name, asn_type, asn_domain,
        tunnel, infra, category, risks,
        mcp, tool, oauth, mcp_client, org_uuid, org_name,
    )  # fmt: skip


def _typed_api(raw: bytes, source: str) -> Event:
    item = _api_decoder.decode(raw)
    attrs = item.attributes
    if attrs is None or item.id is None:
        raise _NotAudit("an API item needs `id` and `attributes`")
    ts = parse_timestamp(attrs.timestamp)
    if ts is None:
        raise _NotAudit("an API item needs `attributes.timestamp`")
    item_id = item.id if type(item.id) is str else str(item.id)
    return _event(
        raw, item_id, ts, KIND_API, attrs.message, attrs.service, None, attrs.tags or (), attrs.attributes
    )


def _typed_archive(raw: bytes, source: str) -> Event:
    item = _archive_decoder.decode(raw)
    ts = parse_timestamp(item.date)
    if ts is None or item.attributes is None:
        raise _NotAudit("an archive line needs `date` and `attributes`")
    item_id = str(item.id) if item.id is not None else f"archive-{ts}-{hash(raw) & 0xFFFFFFFF:08x}"
    tags = item.tags or ()
    return _event(
        raw, item_id, ts, KIND_ARCHIVE, item.message, item.service, item.status, tags, item.attributes
    )


class _NotAudit(Exception):
    pass


# -- tolerant path (an item whose field types surprise the typed shapes) ----------------------


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _tolerant_inner(inner: Any, fields: dict[str, Any]) -> None:
    if not isinstance(inner, dict):
        return
    s = _str
    fields["action"] = s(inner.get("action"))
    fields["auth_method"] = s(inner.get("auth_method"))
    if inner.get("status") is not None:
        fields["status"] = s(inner.get("status"))
    fields["evt_name"] = s(_get(inner, "evt", "name"))
    fields["actor_type"] = s(_get(inner, "evt", "actor", "type"))
    fields["actor_mode"] = s(_get(inner, "evt", "actor", "mode"))
    for key in ("id", "email", "uuid", "name"):
        fields[f"usr_{key}"] = s(_get(inner, "usr", key))
    fields["delegator_id"] = s(_get(inner, "delegator", "id"))
    fields["delegator_name"] = s(_get(inner, "delegator", "name"))
    for key in ("type", "id", "name"):
        fields[f"asset_{key}"] = s(_get(inner, "asset", key))
    fields["http_method"] = s(_get(inner, "http", "method"))
    fields["http_status"] = _int_status(_get(inner, "http", "status_code"))
    fields["useragent"] = s(_get(inner, "http", "useragent"))
    fields["http_path"] = s(_get(inner, "http", "url_details", "path"))
    fields["http_host"] = s(_get(inner, "http", "url_details", "host"))
    fields["route_path"] = s(_get(inner, "route", "path"))
    fields["client_ip"] = s(_get(inner, "network", "client", "ip"))
    geo = _get(inner, "network", "client", "geoip")
    fields["country"] = s(_get(geo, "country", "name"))
    fields["country_iso"] = s(_get(geo, "country", "iso_code"))
    fields["subdivision"] = s(_get(geo, "subdivision", "name"))
    fields["city"] = s(_get(geo, "city", "name"))
    fields["geo_timezone"] = s(_get(geo, "timezone"))
    fields["lat"] = _float(_get(geo, "location", "latitude"))
    fields["lon"] = _float(_get(geo, "location", "longitude"))
    fields["asn"] = parse_asn(_get(geo, "as", "number"))
    fields["asn_name"] = s(_get(geo, "as", "name"))
    fields["asn_type"] = s(_get(geo, "as", "type"))
    fields["asn_domain"] = s(_get(geo, "as", "domain"))
    fields["api_key_id"] = s(_get(inner, "metadata", "api_key", "id"))
    fields["app_key_id"] = s(
        _get(inner, "metadata", "application_key", "id") or _get(inner, "metadata", "app_key", "id")
    )
    fields["tool_name"] = s(_get(inner, "metadata", "tool", "name"))
    fields["oauth_client"] = s(_get(inner, "metadata", "oauth_client", "name"))
    fields["mcp_client"] = s(_get(inner, "metadata", "client", "name"))
    results = _get(inner, "threat_intel", "results")
    if isinstance(results, list):
        risks: list[str] = []
        for result in results:
            if not isinstance(result, dict):
                continue
            if fields.get("ti_category") is None:
                fields["ti_category"] = s(result.get("category"))
            data = result.get("additional_data")
            tunnels = _get(data, "tunnels")
            if isinstance(tunnels, list) and tunnels and fields.get("ti_tunnel") is None:
                t = tunnels[0] if isinstance(tunnels[0], dict) else {}
                parts = (s(t.get("type")) or "TUNNEL", s(t.get("operator")))
                fields["ti_tunnel"] = " ".join(p for p in parts if p)
            infra = s(_get(data, "infrastructure"))
            if infra and fields.get("ti_infrastructure") is None:
                fields["ti_infrastructure"] = infra
            r = _get(data, "risks")
            if isinstance(r, list):
                risks.extend(str(x) for x in r if isinstance(x, str))
        if risks:
            fields["ti_risks"] = tuple(risks)
    fields["org_uuid"] = s(_get(inner, "org", "uuid"))
    fields["org_name"] = s(_get(inner, "org", "name"))
    fields["inner_tags"] = _tags(inner.get("tags"))


def _tolerant(raw: bytes, obj: Any) -> Event:
    if not isinstance(obj, dict):
        raise _NotAudit(f"expected an audit event object, found {_json_type(obj)}")
    if "date" in obj and "attributes" in obj and "_id" in obj or ("date" in obj and "attributes" in obj):
        ts = parse_timestamp(obj.get("date"))
        if ts is None:
            # Real archive lines (Elastic's Datadog fixtures) hold `"date":"not-a-date"` beside a valid
            # `attributes.timestamp`: the event's own time is as good, and odd values never fail a file.
            ts = parse_timestamp(_get(obj, "attributes", "timestamp"))
        if ts is None:
            raise _NotAudit("an archive line needs a parseable `date` (or `attributes.timestamp`)")
        tags = _tags(obj.get("tags"))
        fields: dict[str, Any] = {
            "id": _str(obj.get("_id")) or f"archive-{ts}-{hash(raw) & 0xFFFFFFFF:08x}",
            "ts": ts,
            "raw": raw,
            "kind": KIND_ARCHIVE,
            "message": _str(obj.get("message")),
            "service": _str(obj.get("service")),
            "status": _str(obj.get("status")),
            "tags": tags,
            "is_mcp_call": _mcp_flag(tags),
        }
        _tolerant_inner(obj.get("attributes"), fields)
        return Event(**fields)
    attrs = obj.get("attributes")
    if _str(obj.get("id")) is None or not isinstance(attrs, dict):
        raise _NotAudit("expected an audit event (`id` + `attributes`, or an archive line with `date`)")
    ts = parse_timestamp(attrs.get("timestamp"))
    if ts is None:
        raise _NotAudit("an API item needs a parseable `attributes.timestamp`")
    tags = _tags(attrs.get("tags"))
    fields = {
        "id": _str(obj["id"]),
        "ts": ts,
        "raw": raw,
        "kind": KIND_API,
        "message": _str(attrs.get("message")),
        "service": _str(attrs.get("service")),
        "tags": tags,
        "is_mcp_call": _mcp_flag(tags),
    }
    _tolerant_inner(attrs.get("attributes"), fields)
    return Event(**fields)


def _json_type(obj: Any) -> str:
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, int | float):
        return "a number"
    if isinstance(obj, list):
        return "an array"
    if obj is None:
        return "null"
    return "an object"


def _is_archive(raw: bytes) -> bool:
    # Archive lines carry `date` and `_id` at the top; API items carry `type` and `id`. A cheap byte probe
    # avoids decoding twice; the tolerant path settles anything ambiguous.
    head = raw[:4096]
    return b'"date"' in head and b'"_id"' in head or (b'"date"' in head and b'"type"' not in head)


def decode_item(raw: bytes, source: str = "<input>", kind: str | None = None) -> Event:
    """One API item or archive line (raw JSON bytes) → Event. Raises `_NotAudit` for non-audit JSON.

    `kind` skips the shape probe when the container already says what the items are (API pages).
    """
    try:
        if kind == KIND_ARCHIVE or (kind is None and _is_archive(raw)):
            return _typed_archive(raw, source)
        return _typed_api(raw, source)
    except (msgspec.DecodeError, _NotAudit, UnicodeDecodeError, RecursionError):
        pass  # includes ValidationError: settle it on the tolerant path, which says what is wrong
    try:
        obj = _any_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise _NotAudit(f"invalid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise _NotAudit("a string is not valid UTF-8 text") from None
    except RecursionError:
        raise _NotAudit(_TOO_DEEP) from None
    return _tolerant(raw, obj)


# -- documents and streams ----------------------------------------------------------------------


_TOO_DEEP = "JSON nested too deeply (about 1000 levels) to be audit data"
_UTF8_BOM = b"\xef\xbb\xbf"
_YAML_KEY = re.compile(rb"^\s*(-\s+)?[A-Za-z_][\w.-]*:(\s|$)")


def _not_json(source: str, text: bytes) -> DecodeError:
    """The error for input that does not start like JSON, saying what it looks like instead."""
    head = text[:512]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return DecodeError(
            source, "UTF-16 text: ddaudit reads UTF-8; convert it first (iconv -f UTF-16 -t UTF-8)", 1, 1
        )
    if head[:2] == b"\x1f\x8b":
        return DecodeError(source, "gzip-compressed data: decompress it first (gunzip)", 1, 1)
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        head_text = "" if exc.start < len(head) - 4 else head[: exc.start].decode("utf-8")
        if not head_text:
            return DecodeError(source, "not UTF-8 text (binary data?), expected JSON audit events", 1, 1)
    if "\x00" in head_text:
        return DecodeError(source, "not UTF-8 text (binary data?), expected JSON audit events", 1, 1)
    first_line = head_text.split("\n", 1)[0]
    if head[:1] == b"<":
        hint = " (looks like an HTML or XML page, e.g. an error or login page saved by mistake)"
    elif head[:1] in b'"-0123456789tfn' and (scalar := _json_scalar(text)) is not None:
        return DecodeError(source, f"found {scalar}, expected an object or an array of audit events", 1, 1)
    elif _looks_like_yaml(text):
        hint = " (looks like YAML)"
    elif "," in first_line:
        hint = " (looks like CSV)"
    else:
        hint = ""
    return DecodeError(source, f"not JSON audit data{hint}: expected '{{' or '['", 1, 1)


def _looks_like_yaml(text: bytes) -> bool:
    lines = [ln for ln in text[:4096].splitlines()[:30] if ln.strip() and not ln.lstrip().startswith(b"#")]
    if lines and lines[0].rstrip() == b"---":
        return True
    # Two `key:` lines, so that a one-line "Error: bad gateway" is not called YAML.
    return sum(1 for ln in lines if _YAML_KEY.match(ln)) >= 2


def _json_scalar(text: bytes) -> str | None:
    """'JSON null', 'a JSON number', … when the whole input is one JSON scalar; otherwise None."""
    if len(text) > 1_000_000:
        return None  # a scalar that large is not what anyone saved by mistake; skip the decode
    try:
        obj = _any_decoder.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    kind = _json_type(obj)
    return "JSON null" if kind == "null" else kind.replace("a ", "a JSON ", 1)


def _position(buf: bytes, offset: int) -> tuple[int, int]:
    line = buf.count(b"\n", 0, offset) + 1
    col = offset - (buf.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _byte_offset(exc: Exception) -> int | None:
    text = str(exc)
    marker = "(byte "
    i = text.rfind(marker)
    if i < 0:
        return None
    j = text.find(")", i)
    digits = text[i + len(marker) : j]
    return int(digits) if digits.isdigit() else None


def _decode_error(source: str, buf: bytes, exc: Exception, base_line: int = 0) -> DecodeError:
    offset = _byte_offset(exc)
    message = str(exc).split(" (byte ")[0]
    if "truncated" in message.lower() or "unexpected end" in message.lower():
        message = "truncated JSON (the document ends before it is complete)"
        # Name the last line: that is where a reader looks for the cut (msgspec gives no offset here).
        offset = len(buf.rstrip()) if offset is None else offset
    elif message.startswith("JSON is malformed: "):
        message = "malformed JSON: " + message[len("JSON is malformed: ") :]
    if offset is None:
        return DecodeError(source, message)
    line, col = _position(buf, min(offset, len(buf)))
    return DecodeError(source, message, line + base_line, col if base_line == 0 else col)


_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def iter_decode(
    buf: bytes,
    source: str = "<input>",
    needle: bytes | None = None,
    on_count: Callable[[int], None] | None = None,
    notes: list[str] | None = None,
) -> Iterator[Event]:
    """Decode a whole input (bytes) in whichever shape it has. Raises DecodeError with a position.

    `needle`: only items whose raw JSON contains these bytes are decoded (a pushdown for files: a key
    lookup over a 200 MB export decodes the key's events only). The shape is still checked.
    `on_count`: told how many items a JSON array or `data` holds, once it is split into items (before
    they are decoded one by one): a progress bar for a file read page by page.
    `notes`: where to say what was repaired on the way (one line each), e.g. lone surrogates.
    """
    yielded = 0
    try:
        for event in _iter_decode(buf, source, needle, on_count):
            yielded += 1
            yield event
        return
    except DecodeError:
        # One lone UTF-16 surrogate escape (`\ud800`, which strict decoders refuse) must not lose the
        # whole file: only on failure (a 200 MB file is not scanned otherwise), replace them by U+FFFD
        # and read again, skipping what was already given.
        repaired, count = _LONE_SURROGATE.subn(rb"\\ufffd", buf)
        if count == 0:
            raise
    if notes is not None:
        notes.append(f"{source}: {count} lone UTF-16 surrogate escape(s) replaced by U+FFFD")
    for i, event in enumerate(_iter_decode(repaired, source, needle)):  # counted already
        if i >= yielded:
            yield event


def _iter_decode(
    buf: bytes, source: str, needle: bytes | None, on_count: Callable[[int], None] | None = None
) -> Iterator[Event]:
    if buf.startswith(_UTF8_BOM):
        # Windows tools (PowerShell's Out-File, Notepad) write a BOM; it is not part of the JSON, and
        # the user saved audit data, so read it. Positions on line 1 then count from after the BOM.
        buf = buf[len(_UTF8_BOM) :]
    text = buf.lstrip()
    if not text:
        raise DecodeError(source, "empty input: expected audit events (JSON or NDJSON)")
    first = text[:1]
    if first not in (b"{", b"[") or text[1:2] == b"\x00":
        raise _not_json(source, text)
    if first == b"[":
        try:
            raws = _raw_list_decoder.decode(buf)
        except msgspec.ValidationError as exc:
            raise DecodeError(source, "expected a JSON array of audit event objects") from exc
        except msgspec.DecodeError as exc:
            raise _decode_error(source, buf, exc) from None
        except RecursionError:
            raise DecodeError(source, _TOO_DEEP) from None
        if on_count is not None:
            on_count(len(raws))
        yield from _items(raws, source, "[{i}]", None, needle)
        return
    # A single JSON document (API page, pup envelope, one item) or NDJSON (several documents). One pass:
    # `data` is read as a list of raw items, so a 200 MB page is scanned once.
    try:
        page = _page_list_decoder.decode(buf)
    except msgspec.ValidationError:
        page = None  # `data` is there but not an array: say what it is below
    except msgspec.DecodeError as exc:
        if "trailing characters" in str(exc):
            if _first_line_is_a_document(buf):
                yield from iter_ndjson(buf, source, needle=needle)
            else:  # pretty-printed documents one after another (`pup … -o json >> file`), as jq reads them
                yield from _concatenated(buf, source, needle)
            return
        raise _decode_error(source, buf, exc) from None
    except RecursionError:
        raise DecodeError(source, _TOO_DEEP) from None
    if page is None:
        nested = _nested_page(buf)
        if nested is not None:  # pup <= v0.22 agent mode: the API response wrapped, not hoisted
            if on_count is not None:
                on_count(len(nested))
            yield from _items(nested, source, "data.data[{i}]", KIND_API, needle)
            return
        status = _envelope_status(buf)
        if isinstance(status, str) and status not in ("success", "ok"):
            raise DecodeError(
                source, f"pup reported status {_short(status)!r}: no audit events in the envelope"
            )
        raise DecodeError(source, "`data` is not an array of audit events")
    if page.data is not msgspec.UNSET:
        if on_count is not None:
            on_count(len(page.data))
        yield from _items(page.data, source, "data[{i}]", KIND_API, needle)
        return
    # The whole input is one JSON object: a single item or archive line, maybe pretty-printed over
    # many lines (so not NDJSON). It is decoded even when it misses the needle: the shape is checked.
    try:
        event = decode_item(buf.strip(), source)
    except _NotAudit as exc:
        raise DecodeError(source, str(exc), 1) from None
    if needle is None or needle in event.raw:
        yield event


def _nested_page(buf: bytes) -> list[Raw] | None:
    try:
        return _nested_decoder.decode(buf).data.data
    except (msgspec.DecodeError, RecursionError):
        return None


def _first_line_is_a_document(buf: bytes) -> bool:
    for line in buf.splitlines():
        if line.strip():
            try:
                _any_decoder.decode(line)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                return False
            return True
    return False


def _concatenated(buf: bytes, source: str, needle: bytes | None) -> Iterator[Event]:
    """JSON documents one after another, each decoded as a whole input would be."""
    start, line = 0, 0
    while True:
        while start < len(buf) and buf[start : start + 1].isspace():
            start += 1
        if start >= len(buf):
            return
        try:
            _any_decoder.decode(buf[start:])
            end = len(buf)
        except msgspec.DecodeError as exc:
            offset = _byte_offset(exc)
            if "trailing characters" not in str(exc) or offset is None:
                raise _decode_error(source, buf[start:], exc, base_line=line) from None
            end = start + offset - 1  # msgspec counts the first trailing character from 1
        except RecursionError:
            raise DecodeError(source, _TOO_DEEP) from None
        try:
            yield from _iter_decode(buf[start:end], source, needle)
        except DecodeError as exc:
            raise DecodeError(source, exc.message, (exc.line or 1) + line, exc.column) from None
        line += buf.count(b"\n", start, end)
        start = end


def _envelope_status(buf: bytes) -> Any:
    try:
        return _page_decoder.decode(buf).status
    except (msgspec.DecodeError, RecursionError):
        return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _DataList(Struct, gc=False):
    data: list[Raw]


class _PageList(Struct, gc=False):
    data: list[Raw] = msgspec.UNSET  # type: ignore[assignment]
    status: Any = None


_page_list_decoder = msgspec.json.Decoder(_PageList)


class _Nested(Struct, gc=False):
    data: _DataList


_nested_decoder = msgspec.json.Decoder(_Nested)


def _items(
    raws: list[Raw], source: str, label: str, kind: str | None = None, needle: bytes | None = None
) -> Iterator[Event]:
    # re searches the Raw buffer in place: no copy of items that do not match.
    find = re.compile(re.escape(needle)).search if needle is not None else None
    for i, raw in enumerate(raws):
        # With a needle the first item is still decoded: a file that is not audit data at all must fail
        # the same way with and without the pushdown, not look like "no events".
        skip = find is not None and find(raw) is None
        if skip and i > 0:
            continue
        try:
            event = decode_item(bytes(raw), source, kind)
        except _NotAudit as exc:
            raise DecodeError(source, f"{label.format(i=i)}: {exc}") from None
        if not skip:
            yield event


def iter_ndjson(
    buf: bytes, source: str = "<input>", first_line: int = 1, needle: bytes | None = None
) -> Iterator[Event]:
    """One item or archive line per line; blank lines are skipped."""
    checked = False
    for lineno, line in enumerate(buf.splitlines(), start=first_line):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith(b"{"):
            raise DecodeError(source, "expected a JSON object on this line (NDJSON)", lineno, 1)
        # As in `_items`: the first object is checked even when it misses the needle.
        skip = needle is not None and needle not in stripped
        if skip and checked:
            continue
        checked = True
        try:
            event = decode_item(stripped, source)
        except _NotAudit as exc:
            text = str(exc)
            if text.startswith("invalid JSON"):
                inner = text[len("invalid JSON (") : -1]
                offset = _byte_offset(Exception(inner))
                msg = inner.split(" (byte ")[0]
                if "truncated" in msg.lower():
                    msg = "truncated JSON (the line ends before the object is complete)"
                elif msg.startswith("JSON is malformed: "):
                    msg = "malformed JSON: " + msg[len("JSON is malformed: ") :]
                raise DecodeError(source, msg, lineno, (offset or 0) + 1) from None
            raise DecodeError(source, text, lineno) from None
        if not skip:
            yield event


class _ApiPage(Struct, gc=False):
    data: list[Raw] = []
    meta: dict[str, Any] | None = None


_api_page_decoder = msgspec.json.Decoder(_ApiPage)


def decode_page(payload: bytes, source: str = "<api>") -> tuple[list[Event], dict[str, Any]]:
    """An Audit Logs API response body → (events, meta). Used by the API client.

    Raises DecodeError when the body is not a complete JSON page (e.g. truncated by a proxy).
    """
    try:
        page = _api_page_decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise DecodeError(source, f"unexpected response shape ({exc})") from None
    except msgspec.DecodeError as exc:
        raise _decode_error(source, payload, exc) from None
    except RecursionError:
        raise DecodeError(source, _TOO_DEEP) from None
    return list(_items(page.data, source, "data[{i}]", KIND_API)), page.meta or {}


def dedupe(events: Iterable[Event]) -> list[Event]:
    """Drop repeated ids, keeping the first occurrence."""
    seen: set[str] = set()
    out: list[Event] = []
    for ev in events:
        if ev.id in seen:
            continue
        seen.add(ev.id)
        out.append(ev)
    return out
