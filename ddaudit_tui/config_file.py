"""The config file's schema (pydantic), apart from `config` so that it is imported only when a config
file exists: pydantic and the models cost ~0.1 s of a launch (issue 12: first paint ≤ 0.5 s)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FileSettings(BaseModel):
    """One section of the TOML file (top level or `[profiles.NAME]`). Unknown keys are errors: typos
    in a config file should be caught, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    site: str | None = None
    api_url: str | None = None
    api_key: str | None = None
    app_key: str | None = None
    access_token: str | None = None
    api_key_env: str | None = None
    app_key_env: str | None = None
    access_token_env: str | None = None
    api_key_cmd: str | None = None
    app_key_cmd: str | None = None
    access_token_cmd: str | None = None
    pagerduty_routing_key: str | None = None
    pagerduty_routing_key_env: str | None = None
    pagerduty_routing_key_cmd: str | None = None
    pagerduty_url: str | None = None
    state_dir: str | None = None
    rules_file: str | None = None
    business_hours: str | None = None
    business_days: str | None = None
    business_timezone: str | None = None
    country_allowlist: str | list[str] | None = None
    read_only: bool | None = None
    proxy: str | None = None
    ca_bundle: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    deadline: float | None = Field(default=None, gt=0)
    auth: str | None = None
    concurrency: int | None = Field(default=None, ge=1, le=32)
    max_events: int | None = Field(default=None, ge=1)
    audit_retention_days: int | None = Field(default=None, ge=1)
    max_pages: int | None = Field(default=None, ge=1)
    export_dir: str | None = None
    local_time: bool | None = None
    analyst: str | None = None  # who works the cases (default $USER)
    default_profile: str | None = None


class FileModel(FileSettings):
    profiles: dict[str, FileSettings] = {}
