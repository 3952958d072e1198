"""Synthetic Audit Logs API items with varied fields and fixed timestamps, for TUI tests and snapshots."""

from __future__ import annotations

import json
import random
from typing import Any

from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso, parse_instant

T0 = parse_instant("2026-07-01T00:00:00Z")
SPAN_MS = 3 * 24 * 3600 * 1000  # three days
WINDOW = Window(T0, T0 + SPAN_MS)

USERS = [
    ("alice@example.com", "Alice Example"),
    ("bob@example.com", "Bob Example"),
    ("carol@example.com", "Carol Example"),
    ("svc-deploy@example.com", "Deploy Bot"),
    ("mallory@example.net", "Mallory"),
]
ORIGINS = [  # (country, iso, asn, asn name, ip prefix)
    ("United States", "US", 64496, "Example Cloud", "198.51.100."),
    ("Germany", "DE", 64497, "Example ISP", "203.0.113."),
    ("France", "FR", 64498, "Exemple Télécom", "192.0.2."),
    ("Romania", "RO", 64499, "Hosting SRL", "100.64.0."),
]
KINDS = [  # (evt.name, action, asset type, method, path, weight)
    ("Request", "accessed", None, "GET", "/api/v1/monitor", 30),
    ("Request", "accessed", None, "POST", "/api/v2/query/scalar", 20),
    ("Authentication", "login", "user", None, None, 10),
    ("Authentication", "created", "api_key", "POST", "/api/v2/api_keys", 4),
    ("Access Management", "modified", "role", "PATCH", "/api/v2/roles/abc", 4),
    ("Monitor", "deleted", "monitor", "DELETE", "/api/v1/monitor/123", 6),
    ("Dashboard", "modified", "dashboard", "PUT", "/api/v1/dashboard/xyz", 6),
    ("MCP Server", "executed", "mcp", "POST", "/api/unstable/mcp-server/mcp", 5),
]


def make_item(i: int, ts: int, rng: random.Random, **overrides: Any) -> dict[str, Any]:
    evt, action, asset_type, method, path, _w = rng.choices(KINDS, weights=[k[5] for k in KINDS])[0]
    email, name = rng.choice(USERS)
    country, iso_code, asn, asn_name, prefix = rng.choice(ORIGINS)
    status = rng.choice([200, 200, 200, 200, 201, 204, 403, 404, 500])
    inner: dict[str, Any] = {
        "evt": {"name": evt, "actor": {"type": "USER"}},
        "action": action,
        "usr": {"email": email, "name": name, "id": email},
        "status": "error" if status >= 500 else "warn" if status >= 400 else "info",
        "network": {
            "client": {
                "ip": f"{prefix}{i % 250 + 1}",
                "geoip": {
                    "country": {"name": country, "iso_code": iso_code},
                    "as": {"number": f"AS{asn}", "name": asn_name},
                },
            }
        },
    }
    if asset_type:
        inner["asset"] = {"type": asset_type, "id": f"asset-{i % 17:03d}", "name": f"{asset_type} #{i % 17}"}
    if method:
        inner["http"] = {"method": method, "status_code": status, "url_details": {"path": path}}
        inner["http"]["useragent"] = rng.choice(
            ["Go-http-client/2.0", "Cursor/3.14.7 (darwin arm64)", "curl/8.5"]
        )
    for key, value in overrides.items():
        inner[key] = value
    message = f"{evt} {action} by {email}"
    return {
        "id": f"evt-{i:06d}",
        "type": "audit",
        "attributes": {
            "attributes": inner,
            "message": message,
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def make_items(n: int = 200, seed: int = 7) -> list[dict[str, Any]]:
    """`n` items, ids evt-000000…, timestamps spread over WINDOW (ids increase with time)."""
    rng = random.Random(seed)
    step = SPAN_MS // (n + 1)
    return [make_item(i, T0 + (i + 1) * step - rng.randrange(0, step // 2), rng) for i in range(n)]


def decode_items(items: list[dict[str, Any]]) -> list[Event]:
    data = "\n".join(json.dumps(item) for item in items).encode()
    return list(iter_decode(data, "<synthetic>"))


def make_source(items: list[dict[str, Any]] | None = None, label: str = "synthetic.ndjson") -> FileSource:
    items = make_items() if items is None else items
    return FileSource(EventStore(decode_items(items)), label)
