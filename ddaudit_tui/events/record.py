"""The compact, typed, read-only audit event record.

One `Event` per audit event, with the fields the analyses need flattened out of the nested JSON, and the
original item kept as raw bytes for the detail view and raw export. Decoding is in `decode.py`.
"""

from __future__ import annotations

from typing import Any

import msgspec

# Which wrapper the raw bytes are in: an Audit Logs API item (`data[i]`) or a log-archive line.
KIND_API = "api"
KIND_ARCHIVE = "archive"


class Event(msgspec.Struct, frozen=True, gc=False):
    """One audit event. Every field but `id`, `ts` and `raw` may be None: audit events are heterogeneous.

    Build it with keywords. The decoder alone passes positional arguments (msgspec matches 53 keywords
    by name at ~2 µs an event, more than the JSON decode): it checks this field order when it loads, so
    a field added or moved here must be added to `decode._FIELDS` and `decode._event` too.
    """

    id: str
    ts: int  # event time, epoch milliseconds UTC (outer timestamp / archive `date`)
    raw: bytes  # the original item, exactly as it was read (API item or archive line)
    kind: str = KIND_API
    message: str | None = None
    service: str | None = None
    status: str | None = None  # inner `status` (info/warn/error), falling back to the outer one
    tags: tuple[str, ...] = ()  # outer tags: source:audit, is_mcp_call:true, ...
    inner_tags: tuple[str, ...] = ()
    evt_name: str | None = None
    action: str | None = None
    actor_type: str | None = None
    actor_mode: str | None = None
    usr_id: str | None = None
    usr_email: str | None = None
    usr_uuid: str | None = None
    usr_name: str | None = None
    delegator_id: str | None = None
    delegator_name: str | None = None
    auth_method: str | None = None
    api_key_id: str | None = None
    app_key_id: str | None = None
    asset_type: str | None = None
    asset_id: str | None = None
    asset_name: str | None = None
    http_method: str | None = None
    http_path: str | None = None
    http_host: str | None = None
    http_status: int | None = None
    route_path: str | None = None
    useragent: str | None = None
    client_ip: str | None = None
    country: str | None = None
    country_iso: str | None = None
    subdivision: str | None = None
    city: str | None = None
    geo_timezone: str | None = None
    lat: float | None = None
    lon: float | None = None
    asn: int | None = None
    asn_name: str | None = None
    asn_type: str | None = None
    asn_domain: str | None = None
    ti_tunnel: str | None = None  # e.g. "PROXY EXAMPLE_PROXY" from threat_intel tunnels
    ti_infrastructure: str | None = None
    ti_category: str | None = None
    ti_risks: tuple[str, ...] = ()
    is_mcp_call: bool | None = None
    tool_name: str | None = None
    oauth_client: str | None = None
    mcp_client: str | None = None
    org_uuid: str | None = None
    org_name: str | None = None

    # -- derived views -------------------------------------------------------------------------

    @property
    def actor(self) -> str:
        """The best human-readable actor name (quirk 5: email, then name, then id)."""
        return self.usr_email or self.usr_name or self.usr_id or self.delegator_name or "(unknown)"

    @property
    def endpoint(self) -> str | None:
        """The endpoint path without its query string (quirk 14: prefer `route.path`)."""
        if self.route_path:
            return self.route_path
        if self.http_path:
            return self.http_path.split("?", 1)[0]
        return None

    def item(self) -> dict[str, Any]:
        """The original item decoded to plain JSON values (for the detail view and unknown fields)."""
        return msgspec.json.decode(self.raw)

    def inner(self) -> dict[str, Any]:
        """The inner event object: what `@field.path` query facets address."""
        item = self.item()
        if self.kind == KIND_ARCHIVE:
            inner = item.get("attributes")
        else:
            outer = item.get("attributes")
            inner = outer.get("attributes") if isinstance(outer, dict) else None
        return inner if isinstance(inner, dict) else {}

    def api_item(self) -> dict[str, Any]:
        """The event in the Audit Logs API item shape, whatever shape it was read in."""
        item = self.item()
        if self.kind == KIND_API:
            return item
        return {
            "id": self.id,
            "type": "audit",
            "attributes": {
                "attributes": item.get("attributes") or {},
                "message": item.get("message"),
                "service": item.get("service") or "audit",
                "tags": item.get("tags") or [],
                "timestamp": item.get("date"),
            },
        }

    def has_tag(self, key: str, value: str | None = None) -> bool:
        prefix = key + ":"
        for tag in self.tags:
            if value is None and (tag == key or tag.startswith(prefix)):
                return True
            if value is not None and tag == prefix + value:
                return True
        return False
