"""Field paths: how query facets (`@usr.email`) and output columns map onto the event record.

Paths are written as in the Datadog search syntax, relative to the inner event object, without the `@`.
Paths not listed here are still readable: `field_values` falls back to walking the raw JSON.
"""

from __future__ import annotations

from typing import Any

from ddaudit_tui.events.record import Event

# facet path -> Event attribute
FIELD_ATTRS: dict[str, str] = {
    "evt.name": "evt_name",
    "action": "action",
    "evt.actor.type": "actor_type",
    "evt.actor.mode": "actor_mode",
    "usr.id": "usr_id",
    "usr.email": "usr_email",
    "usr.uuid": "usr_uuid",
    "usr.name": "usr_name",
    "delegator.id": "delegator_id",
    "delegator.name": "delegator_name",
    "auth_method": "auth_method",
    "metadata.api_key.id": "api_key_id",
    "metadata.application_key.id": "app_key_id",
    "metadata.app_key.id": "app_key_id",  # quirk 6: the skills' spelling, accepted as an alias
    "asset.type": "asset_type",
    "asset.id": "asset_id",
    "asset.name": "asset_name",
    "http.method": "http_method",
    "http.url_details.path": "http_path",
    "http.url_details.host": "http_host",
    "http.status_code": "http_status",
    "http.useragent": "useragent",
    "route.path": "route_path",
    "network.client.ip": "client_ip",
    "network.client.geoip.country.name": "country",
    "network.client.geoip.country.iso_code": "country_iso",
    "network.client.geoip.subdivision.name": "subdivision",
    "network.client.geoip.city.name": "city",
    "network.client.geoip.timezone": "geo_timezone",
    "network.client.geoip.location.latitude": "lat",
    "network.client.geoip.location.longitude": "lon",
    "network.client.geoip.as.number": "asn",
    "network.client.geoip.as.name": "asn_name",
    "network.client.geoip.as.type": "asn_type",
    "network.client.geoip.as.domain": "asn_domain",
    "metadata.tool.name": "tool_name",
    "metadata.oauth_client.name": "oauth_client",
    "metadata.client.name": "mcp_client",
    "org.uuid": "org_uuid",
    "org.name": "org_name",
    "status": "status",
}

# Reserved attributes addressed without `@` (Datadog log search): they read the record, not the tags.
RESERVED: dict[str, str] = {
    "status": "status",
    "service": "service",
    "message": "message",
}

# Pseudo-columns for output (not facets).
COLUMN_ATTRS: dict[str, str] = {
    "timestamp": "ts",
    "id": "id",
    "message": "message",
    "service": "service",
    "actor": "actor",
    "endpoint": "endpoint",
    "tags": "tags",
}

_MISSING = object()


def normalise_path(path: str) -> str:
    return path[1:] if path.startswith("@") else path


def _walk(obj: Any, parts: list[str]) -> list[Any]:
    """All values at a dotted path; lists along the way fan out (like Datadog facets on arrays)."""
    current = [obj]
    for part in parts:
        nxt: list[Any] = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        current = nxt
        if not current:
            return []
    out: list[Any] = []
    for value in current:
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


def field_values(event: Event, path: str) -> list[Any]:
    """Every value the event holds at a facet path (`@usr.email` or `usr.email`); [] when absent.

    `tags` (no `@`) is the outer tags (`source:audit`); `@tags` is the event's own `attributes.tags`
    (`agent_version:7.35.0`), as in Datadog's explorer.
    """
    if path == "tags":
        return list(event.tags)
    path = normalise_path(path)
    if path == "tags":
        return list(event.inner_tags)
    attr = FIELD_ATTRS.get(path)
    if attr == "asn":
        # The record keeps the number (396982) for matching; output what the event holds ("AS396982").
        return _walk(event.inner(), path.split("."))
    if attr is not None:
        value = getattr(event, attr)
        return [] if value is None else [value]
    return _walk(event.inner(), path.split("."))


def field_value(event: Event, path: str) -> Any:
    """The first value at a path, or None."""
    values = field_values(event, path)
    return values[0] if values else None


def column_value(event: Event, column: str) -> Any:
    """A value for an output column: a pseudo-column (`timestamp`, `actor`…) or a facet path."""
    attr = COLUMN_ATTRS.get(column)
    if attr is not None:
        return getattr(event, attr)
    if column == "@tags":  # a list, like the outer `tags`: every tag, not the first
        return tuple(event.inner_tags)
    return field_value(event, column)
