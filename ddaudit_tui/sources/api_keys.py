"""What the API Keys API says about one key (datadog-api.md §3), minus the secret.

`GET /api/v2/api_keys/{id}?include=created_by` returns the full key (`attributes.key`, the 32-character
secret). It is dropped while parsing and can never reach a model, a report or the screen. The models
ignore unknown fields: real responses carry attributes the published schema does not (§3.3).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from ddaudit_tui.events.decode import parse_timestamp

_SECRET_FIELDS = ("key",)


class UserRef(BaseModel):
    """A user a key points at (creator, last modifier), with what `included` says about them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = None
    email: str | None = None
    name: str | None = None
    handle: str | None = None
    disabled: bool | None = None
    service_account: bool | None = None

    @property
    def display(self) -> str:
        return self.email or self.name or self.handle or self.id or "(unknown)"


class ApiKeyInfo(BaseModel):
    """One API key's metadata. There is deliberately no field for the secret."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str | None = None
    category: str | None = None
    last4: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    remote_config_read_enabled: bool | None = None
    date_last_used: str | None = None
    used_in_last_24_hours: bool | None = None
    last_used_timestamp: str | None = None  # attributes.last_used_date.timestamp (last 90 days)
    created_by: UserRef | None = None
    modified_by: UserRef | None = None
    leaked: bool | None = None  # None: the response said nothing about leaks
    leak_date: str | None = None
    leak_source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_secret(cls, data: Any) -> Any:
        # Defence in depth: even a caller validating a raw attributes dict never keeps the secret.
        if isinstance(data, dict) and any(f in data for f in _SECRET_FIELDS):
            data = {k: v for k, v in data.items() if k not in _SECRET_FIELDS}
        return data

    @property
    def created_at_ms(self) -> int | None:
        return parse_timestamp(self.created_at)

    @property
    def last_used_ms(self) -> int | None:
        """The most recent use the API reports (either of its two fields), epoch ms."""
        stamps = [parse_timestamp(v) for v in (self.date_last_used, self.last_used_timestamp)]
        known = [s for s in stamps if s is not None]
        return max(known) if known else None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    return str(value)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _rel_id(relationships: dict[str, Any], name: str) -> str | None:
    rel = relationships.get(name)
    data = rel.get("data") if isinstance(rel, dict) else None
    return _str(data.get("id")) if isinstance(data, dict) else None


def _user(user_id: str | None, included: dict[tuple[str, str], dict[str, Any]]) -> UserRef | None:
    if user_id is None:
        return None
    attrs = included.get(("users", user_id), {})
    return UserRef(
        id=user_id,
        email=_str(attrs.get("email")),
        name=_str(attrs.get("name")),
        handle=_str(attrs.get("handle")),
        disabled=_bool(attrs.get("disabled")),
        service_account=_bool(attrs.get("service_account")),
    )


def parse_api_key(doc: Any) -> ApiKeyInfo | None:
    """An `APIKeyResponse` document → ApiKeyInfo (None if it holds no key). Tolerates missing parts."""
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("id") is None:
        return None
    attrs = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
    rels = data.get("relationships") if isinstance(data.get("relationships"), dict) else {}
    included: dict[tuple[str, str], dict[str, Any]] = {}
    for item in doc.get("included") or []:
        if isinstance(item, dict) and item.get("id") is not None:
            a = item.get("attributes")
            included[(str(item.get("type")), str(item["id"]))] = a if isinstance(a, dict) else {}

    last_used = attrs.get("last_used_date")
    leaked: bool | None = None
    leak_date = leak_source = None
    leak_rel = rels.get("leak_information")
    if isinstance(leak_rel, dict) and "data" in leak_rel:
        leak_data = leak_rel.get("data")
        leaked = bool(leak_data)
        if isinstance(leak_data, dict):
            leak_id = _str(leak_data.get("id"))
            leak_attrs = included.get((str(leak_data.get("type") or "leaked_keys"), leak_id or ""), {})
            leak_date = _str(leak_attrs.get("date"))
            leak_source = _str(leak_attrs.get("leak_source"))

    return ApiKeyInfo(
        id=str(data["id"]),
        name=_str(attrs.get("name")),
        category=_str(attrs.get("category")),
        last4=_str(attrs.get("last4")),
        created_at=_str(attrs.get("created_at")),
        modified_at=_str(attrs.get("modified_at")),
        remote_config_read_enabled=_bool(attrs.get("remote_config_read_enabled")),
        date_last_used=_str(attrs.get("date_last_used")),
        used_in_last_24_hours=_bool(attrs.get("used_in_last_24_hours")),
        last_used_timestamp=_str(last_used.get("timestamp")) if isinstance(last_used, dict) else None,
        created_by=_user(_rel_id(rels, "created_by"), included),
        modified_by=_user(_rel_id(rels, "modified_by"), included),
        leaked=leaked,
        leak_date=leak_date,
        leak_source=leak_source,
    )
