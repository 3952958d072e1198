"""The fake Datadog API's key table: API Keys API records derived from the audit events it serves.

Shapes follow the recorded responses (datadog-api.md §3.3–3.4): `FullAPIKey` with the un-modelled
`used_in_last_24_hours`, `last_used_date` and `relationships.leak_information`, `included` users, and
`leaked_keys` for keys named in a token-leaked Security Notification. The secret is never real: `key`
is 32 `x`, as in the recordings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ddaudit_tui.demo.catalog import API_KEYS, PEOPLE, SERVICE_ACCOUNTS
from ddaudit_tui.events.decode import parse_timestamp
from ddaudit_tui.events.record import Event

SCRUBBED_SECRET = "x" * 32
LAST_USED_DESCRIPTION = (
    "Timestamp of when this key was last used in the past ninety (90) days, null if no recent usage"
)
DAY_MS = 86_400_000


def key_time(ms: int) -> str:
    """`2025-09-08T09:24:42.999351+00:00` — the API Keys API's own time format."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}{(ms * 37) % 1000:03d}+00:00"


@dataclass
class FakeUser:
    uuid: str
    email: str
    name: str
    created_ms: int = 0
    service_account: bool = False

    def resource(self) -> dict[str, Any]:
        created = key_time(self.created_ms)
        return {
            "type": "users",
            "id": self.uuid,
            "attributes": {
                "name": self.name,
                "handle": self.email,
                "created_at": created,
                "modified_at": created,
                "email": self.email,
                "icon": "https://secure.gravatar.com/avatar/"
                + hashlib.md5(self.email.encode(), usedforsecurity=False).hexdigest()
                + "?s=48&d=retro",
                "title": None,
                "verified": True,
                "service_account": self.service_account,
                "disabled": False,
                "allowed_login_methods": [],
                "status": "Active",
                "mfa_enabled": not self.service_account,
                "last_login_time": None,
            },
        }


@dataclass
class FakeKey:
    id: str
    name: str
    created_ms: int
    created_by: str | None = None  # user uuid
    last_used_ms: int | None = None
    leaked_ms: int | None = None
    leak_source: str | None = None
    category: str = "default"
    remote_config_read_enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def last4(self) -> str:
        # Real last4 are the secret's last characters; there is no secret here, so derive them from the id.
        return hashlib.sha256(self.id.encode()).hexdigest()[-4:]

    def resource(self, now_ms: int, full: bool = True) -> dict[str, Any]:
        created = key_time(self.created_ms)
        attrs: dict[str, Any] = {"created_at": created}
        if full:
            attrs["key"] = SCRUBBED_SECRET
        last_used = key_time(self.last_used_ms) if self.last_used_ms is not None else None
        recent = self.last_used_ms is not None and now_ms - self.last_used_ms < 90 * DAY_MS
        attrs.update(
            {
                "last4": self.last4,
                "modified_at": created,
                "remote_config_read_enabled": self.remote_config_read_enabled,
                "category": self.category,
                "name": self.name,
                "date_last_used": last_used,
                "used_in_last_24_hours": self.last_used_ms is not None
                and now_ms - self.last_used_ms < DAY_MS,
                "last_used_date": {
                    "timestamp": last_used if recent else None,
                    "description": LAST_USED_DESCRIPTION,
                },
            }
        )
        attrs.update(self.extra)
        user = {"data": {"type": "users", "id": self.created_by}} if self.created_by else {"data": None}
        leak = (
            {"data": {"type": "leaked_keys", "id": self.leak_id}}
            if self.leaked_ms is not None
            else {"data": None}
        )
        return {
            "type": "api_keys",
            "attributes": attrs,
            "relationships": {"created_by": user, "modified_by": dict(user), "leak_information": leak},
            "id": self.id,
        }

    @property
    def leak_id(self) -> str:
        return "leak-" + hashlib.sha256(("leak" + self.id).encode()).hexdigest()[:24]

    def leak_resource(self) -> dict[str, Any] | None:
        if self.leaked_ms is None:
            return None
        return {
            "id": self.leak_id,
            "type": "leaked_keys",
            "attributes": {"date": key_time(self.leaked_ms), "leak_source": self.leak_source or "unknown"},
        }


class KeyTable:
    """API keys and users known to the fake: from the events, the demo catalogue, and explicit entries."""

    def __init__(self) -> None:
        self.keys: dict[str, FakeKey] = {}
        self.users: dict[str, FakeUser] = {}
        self.deleted: set[str] = set()
        self._created_days_ago: dict[str, float] = {}  # catalogue keys: creation relative to the data

    @classmethod
    def build(cls, events: list[Event], overrides: dict[str, dict[str, Any]] | None = None) -> KeyTable:
        table = cls()
        table._from_catalogue()
        table._from_events(events)
        for key_id, spec in (overrides or {}).items():
            table.put(key_id, spec)
        return table

    def _user(
        self, uuid: str | None, email: str | None, name: str | None, sa: bool = False, created_ms: int = 0
    ) -> str | None:
        if not uuid:
            return None
        if uuid not in self.users:
            self.users[uuid] = FakeUser(uuid, email or uuid, name or (email or uuid), created_ms, sa)
        return uuid

    def _from_catalogue(self) -> None:
        # Keys created before any window still have names and creators (demo org only).
        for p in PEOPLE.values():
            self._user(p.uuid, p.email, p.name, created_ms=parse_timestamp(p.created) or 0)
        for sa in SERVICE_ACCOUNTS.values():
            self._user(sa.uuid, sa.email, sa.name, sa=True)
        for key in API_KEYS.values():
            self.keys[key.id] = FakeKey(key.id, key.name, 0, PEOPLE[key.creator].uuid)
            self._created_days_ago[key.id] = key.created_days_ago

    def _from_events(self, events: list[Event]) -> None:
        latest = max((e.ts for e in events), default=0)
        for key_id, days in self._created_days_ago.items():
            self.keys[key_id].created_ms = int(latest - days * DAY_MS)
        for e in events:  # oldest first
            if e.evt_name == "Authentication" and e.asset_type == "api_key" and e.asset_id:
                if e.action == "created":
                    creator = self._user(e.usr_uuid, e.usr_email, e.usr_name)
                    k = self.keys.get(e.asset_id)
                    if k is None:
                        self.keys[e.asset_id] = FakeKey(e.asset_id, e.asset_name or e.asset_id, e.ts, creator)
                    else:
                        k.created_ms, k.created_by = e.ts, creator or k.created_by
                        k.name = e.asset_name or k.name
                    self.deleted.discard(e.asset_id)
                elif e.action == "deleted":
                    self.deleted.add(e.asset_id)
            if (
                e.evt_name == "Security Notification"
                and e.asset_type == "api_key"
                and e.action == "notification"
                and e.asset_id
            ):
                k = self.keys.get(e.asset_id)
                if k is not None:
                    k.leaked_ms = e.ts
                    k.leak_source = "github" if b"github" in e.raw else "unknown"
            if e.api_key_id:
                k = self.keys.get(e.api_key_id)
                if k is None:
                    k = FakeKey(e.api_key_id, f"key-{e.api_key_id[:8]}", e.ts - 30 * DAY_MS)
                    self.keys[e.api_key_id] = k
                k.last_used_ms = e.ts
                if e.usr_uuid and e.actor_type == "SERVICE_ACCOUNT":
                    self._user(e.usr_uuid, e.usr_email, e.usr_name, sa=True)

    def put(self, key_id: str, spec: dict[str, Any]) -> FakeKey:
        """Add or override a key: name, created_at (ms), created_by (user uuid or email), last_used, …"""
        k = self.keys.get(key_id) or FakeKey(key_id, key_id, 0)
        for attr in ("name", "category", "remote_config_read_enabled", "leak_source"):
            if attr in spec:
                setattr(k, attr, spec[attr])
        for attr, name in (
            ("created_ms", "created_at"),
            ("last_used_ms", "last_used"),
            ("leaked_ms", "leaked_at"),
        ):
            if spec.get(name) is not None:
                setattr(k, attr, parse_timestamp(spec[name]))
        by = spec.get("created_by")
        if by:
            match = next((u for u in self.users.values() if by in (u.uuid, u.email)), None)
            k.created_by = match.uuid if match else self._user(by, by, by)
        self.keys[key_id] = k
        self.deleted.discard(key_id)
        return k

    def get(self, key_id: str) -> FakeKey | None:
        if key_id in self.deleted:
            return None
        return self.keys.get(key_id)

    def delete(self, key_id: str) -> bool:
        if self.get(key_id) is None:
            return False
        self.deleted.add(key_id)
        return True

    def live_keys(self) -> list[FakeKey]:
        return [k for kid, k in self.keys.items() if kid not in self.deleted]

    def document(self, key: FakeKey, include: set[str], now_ms: int) -> dict[str, Any]:
        doc: dict[str, Any] = {"data": key.resource(now_ms)}
        included = self._included([key], include)
        if included:
            doc["included"] = included
        return doc

    def _included(self, keys: list[FakeKey], include: set[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        if include & {"created_by", "modified_by"}:
            for k in keys:
                if k.created_by and k.created_by not in seen and k.created_by in self.users:
                    seen.add(k.created_by)
                    out.append(self.users[k.created_by].resource())
        for k in keys:
            leak = k.leak_resource()
            if leak is not None:
                out.append(leak)
        return out

    def list_document(
        self, now_ms: int, name_filter: str, size: int, number: int, sort: str, include: set[str]
    ) -> dict[str, Any]:
        keys = [k for k in self.live_keys() if name_filter.lower() in k.name.lower()]
        field_name = sort.lstrip("-")
        keyfunc = {
            "name": lambda k: k.name.lower(),
            "created_at": lambda k: k.created_ms,
            "modified_at": lambda k: k.created_ms,
            "last4": lambda k: k.last4,
        }.get(field_name, lambda k: k.name.lower())
        keys.sort(key=keyfunc, reverse=sort.startswith("-"))
        page = keys[number * size : (number + 1) * size]
        doc: dict[str, Any] = {
            "data": [k.resource(now_ms, full=False) for k in page],
            "meta": {"page": {"total_filtered_count": len(keys)}, "max_allowed": 200},
        }
        included = self._included(page, include)
        if included:
            doc["included"] = included
        return doc
