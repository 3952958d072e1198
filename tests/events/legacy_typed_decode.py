"""The record builder of the decoder before issue 16 (a frozen copy, for the equivalence test only).

`events/decode.py` now builds `Event`s with straight-line code and positional arguments; these are the
former `_from_inner`, `_typed_api` and `_typed_archive` as they were (commit 973eaf5), over the typed wire
shapes as they were, so that `test_decode_equivalence.py` can check that both give equal records.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from ddaudit_tui.events.decode import (
    _float,
    _int_status,
    _mcp_flag,
    _NotAudit,
    _str,
    _tags,
    parse_asn,
    parse_timestamp,
)
from ddaudit_tui.events.record import KIND_API, KIND_ARCHIVE, Event

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
    tags: list[Scalar] | None = None


class _ApiAttributes(Struct, gc=False):
    attributes: _Inner | None = None
    message: str | None = None
    service: str | None = None
    tags: list[Scalar] | None = None
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
    tags: list[Scalar] | None = None


_api_decoder = msgspec.json.Decoder(_ApiItem)
_archive_decoder = msgspec.json.Decoder(_ArchiveItem)


def _from_inner(inner: _Inner | None, fields: dict[str, Any]) -> None:
    if inner is None:
        return
    fields["action"] = inner.action
    fields["auth_method"] = inner.auth_method
    if inner.status is not None:
        fields["status"] = inner.status
    if (evt := inner.evt) is not None:
        fields["evt_name"] = evt.name
        if (actor := evt.actor) is not None:
            fields["actor_type"] = actor.type
            fields["actor_mode"] = actor.mode
    if (usr := inner.usr) is not None:
        fields["usr_id"] = _str(usr.id)
        fields["usr_email"] = usr.email
        fields["usr_uuid"] = usr.uuid
        fields["usr_name"] = usr.name
    if (dlg := inner.delegator) is not None:
        fields["delegator_id"] = _str(dlg.id)
        fields["delegator_name"] = dlg.name
    if (asset := inner.asset) is not None:
        fields["asset_type"] = asset.type
        fields["asset_id"] = _str(asset.id)
        fields["asset_name"] = asset.name
    if (http := inner.http) is not None:
        fields["http_method"] = http.method
        fields["http_status"] = _int_status(http.status_code)
        fields["useragent"] = http.useragent
        if (url := http.url_details) is not None:
            fields["http_path"] = url.path
            fields["http_host"] = url.host
    if inner.route is not None:
        fields["route_path"] = inner.route.path
    if (net := inner.network) is not None and (client := net.client) is not None:
        fields["client_ip"] = client.ip
        if (geo := client.geoip) is not None:
            if geo.country is not None:
                fields["country"] = geo.country.name
                fields["country_iso"] = geo.country.iso_code
            if geo.subdivision is not None:
                fields["subdivision"] = geo.subdivision.name
            if geo.city is not None:
                fields["city"] = geo.city.name
            fields["geo_timezone"] = geo.timezone
            if (loc := geo.location) is not None:
                fields["lat"] = _float(loc.latitude)
                fields["lon"] = _float(loc.longitude)
            if (asn := geo.as_) is not None:
                fields["asn"] = parse_asn(asn.number)
                fields["asn_name"] = asn.name
                fields["asn_type"] = asn.type
                fields["asn_domain"] = asn.domain
    if (md := inner.metadata) is not None:
        if md.api_key is not None:
            fields["api_key_id"] = _str(md.api_key.id)
        app = md.application_key or md.app_key
        if app is not None:
            fields["app_key_id"] = _str(app.id)
        if md.tool is not None:
            fields["tool_name"] = md.tool.name
        if md.oauth_client is not None:
            fields["oauth_client"] = md.oauth_client.name
        if md.client is not None:
            fields["mcp_client"] = md.client.name
    if (ti := inner.threat_intel) is not None and ti.results:
        risks: list[str] = []
        for result in ti.results:
            if fields.get("ti_category") is None:
                fields["ti_category"] = result.category
            data = result.additional_data
            if data is None:
                continue
            if data.tunnels and fields.get("ti_tunnel") is None:
                t = data.tunnels[0]
                fields["ti_tunnel"] = " ".join(p for p in (t.type or "TUNNEL", t.operator) if p)
            if data.infrastructure and fields.get("ti_infrastructure") is None:
                fields["ti_infrastructure"] = data.infrastructure
            if data.risks:
                risks.extend(r for r in data.risks if isinstance(r, str))
        if risks:
            fields["ti_risks"] = tuple(risks)
    if (org := inner.org) is not None:
        fields["org_uuid"] = org.uuid
        fields["org_name"] = org.name
    fields["inner_tags"] = _tags(inner.tags)


def _typed_api(raw: bytes, source: str) -> Event:
    item = _api_decoder.decode(raw)
    attrs = item.attributes
    if attrs is None or item.id is None:
        raise _NotAudit("an API item needs `id` and `attributes`")
    ts = parse_timestamp(attrs.timestamp)
    if ts is None and attrs.attributes is not None:
        ts = None
    if ts is None:
        raise _NotAudit("an API item needs `attributes.timestamp`")
    tags = _tags(attrs.tags)
    fields: dict[str, Any] = {
        "id": str(item.id),
        "ts": ts,
        "raw": raw,
        "kind": KIND_API,
        "message": attrs.message,
        "service": attrs.service,
        "tags": tags,
        "is_mcp_call": _mcp_flag(tags),
    }
    _from_inner(attrs.attributes, fields)
    return Event(**fields)


def _typed_archive(raw: bytes, source: str) -> Event:
    item = _archive_decoder.decode(raw)
    ts = parse_timestamp(item.date)
    if ts is None or item.attributes is None:
        raise _NotAudit("an archive line needs `date` and `attributes`")
    tags = _tags(item.tags)
    fields: dict[str, Any] = {
        "id": str(item.id) if item.id is not None else f"archive-{ts}-{hash(raw) & 0xFFFFFFFF:08x}",
        "ts": ts,
        "raw": raw,
        "kind": KIND_ARCHIVE,
        "message": item.message,
        "service": item.service,
        "status": item.status,
        "tags": tags,
        "is_mcp_call": _mcp_flag(tags),
    }
    _from_inner(item.attributes, fields)
    return Event(**fields)
