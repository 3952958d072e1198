"""Settings: CLI flags > environment > the TOML config file (a named profile) > defaults.

Environment names are those of Datadog's own tools (`DD_API_KEY`, `DD_APP_KEY`, `DD_ACCESS_TOKEN`,
`DD_SITE`) and `DDAUDIT_*` for the rest. The config file lives in the platform config directory
(`ddaudit config` prints its path) and may define named profiles for responders working on several
orgs; a profile says where its credentials come from (environment variable names or a command such as
`pass show dd/eu-api-key`), so the file itself need not hold a secret.

Secrets are never printed, logged or written: `describe()` masks them.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from ddaudit_tui.config_file import FileModel, FileSettings

APP_NAME = "ddaudit"
SECRET_FIELDS = ("api_key", "app_key", "access_token", "pagerduty_routing_key")


class ConfigError(Exception):
    """A config problem, one line, naming the file and the field."""


class UsageError(Exception):
    """A mistake in what the user typed; exit code 2. (Here, at the bottom, so that any layer may raise
    it — e.g. `source_select.py`; commands import it from `cliutil`.)"""


@dataclass
class Settings:
    """Resolved settings. `origins` says where each value came from (flag / env / file / default)."""

    site: str = "datadoghq.com"
    api_url: str | None = None
    api_key: str | None = None
    app_key: str | None = None
    access_token: str | None = None
    pagerduty_routing_key: str | None = None
    pagerduty_url: str | None = None
    state_dir: str | None = None
    rules_file: str | None = None
    business_hours: str | None = None  # "09:00-18:00"
    business_days: str | None = None  # "mon-fri"
    business_timezone: str | None = None  # IANA zone
    country_allowlist: str | list[str] | None = None  # ISO codes: ["US", "CA"] or "US,CA"
    read_only: bool = False  # refuse revocation
    proxy: str | None = None
    ca_bundle: str | None = None
    timeout: float = 30.0  # seconds per read; a request as a whole gets twice that
    deadline: float | None = None  # seconds per fetch (retries and waits included); None: no bound
    # "auto": send the Datadog keys or token found; "none": send no DD-API-KEY / DD-APPLICATION-KEY (a
    # gateway holds them) — only a bearer token, if one is set, for the gateway itself.
    auth: str = "auto"
    concurrency: int = 8
    max_events: int | None = None
    # The org's Audit Trail retention: 90 days with Audit Trail enabled, 7 without. Answers over a window
    # that starts earlier say "events before <date> are outside retention".
    audit_retention_days: int = 90
    # Issue 16: pages of the search API a key lookup may read before `--engine auto` lets DDSQL aggregate
    # (and what a refused DDSQL falls back to).
    max_pages: int = 50
    export_dir: str | None = None
    local_time: bool = False
    analyst: str | None = None  # the case journal's analyst (default: $USER)
    profile: str | None = None
    config_path: Path | None = None
    origins: dict[str, str] = field(default_factory=dict)

    def has_credentials(self) -> bool:
        """Whether the Datadog API can be called: keys or a token — or `auth = "none"` (a gateway holds
        them)."""
        return self.auth == "none" or bool(self.access_token or (self.api_key and self.app_key))

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, display value, origin) for `ddaudit config`; secrets masked."""
        rows: list[tuple[str, str, str]] = []
        for name in (
            "profile", "site", "api_url", "auth", "api_key", "app_key", "access_token", "proxy", "ca_bundle",
            "timeout", "deadline", "concurrency", "max_events", "audit_retention_days", "max_pages", "export_dir", "local_time",
            "pagerduty_routing_key", "pagerduty_url", "state_dir", "rules_file",
            "business_hours", "business_days", "business_timezone", "country_allowlist", "read_only", "analyst",
        ):  # fmt: skip
            value = getattr(self, name)
            # URLs may carry credentials (`https://user:password@gateway/`): masked like the proxy's.
            shown = mask(value) if name in SECRET_FIELDS or name in ("proxy", "api_url") else _show(value)
            rows.append((name, shown, self.origins.get(name, "default")))
        return rows


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mask(value: str | None) -> str:
    """Never reveal a secret; the last four characters only for long keys (as Datadog's UI does)."""
    if not value:
        return "(not set)"
    if "://" in value and "@" in value:  # a proxy URL with credentials
        scheme, rest = value.split("://", 1)
        return f"{scheme}://****@{rest.rsplit('@', 1)[1]}"
    if "://" in value:
        return value
    return f"set (****{value[-4:]})" if len(value) >= 20 else "set (****)"


def config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get("DDAUDIT_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _load_file(path: Path) -> FileModel | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    import tomllib  # (here: most launches have no config file to parse)

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    # pydantic (~0.1 s to import and build the models) only when there is a file to check: a launch
    # without one paints its first frame sooner.
    from pydantic import ValidationError

    from ddaudit_tui.config_file import FileModel

    try:
        model = FileModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{path}: {loc}: {msg}") from None
    _check_secret_permissions(path, model)
    return model


def _check_secret_permissions(path: Path, model: FileModel) -> None:
    """A file holding secrets must not be readable by group or others (like ssh's private keys)."""
    sections = [model, *model.profiles.values()]
    if not any(getattr(s, f) for s in sections for f in SECRET_FIELDS):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: holds secrets but is readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {shlex.quote(str(path))}"
        )


def _run_cmd(cmd: str, what: str) -> str:
    try:
        out = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{what}: command failed to run ({type(exc).__name__})") from None
    if out.returncode != 0:
        raise ConfigError(f"{what}: command exited with status {out.returncode}")
    return out.stdout.strip()


def _section_value(section: FileSettings, name: str, env: dict[str, str], where: str) -> Any:
    """A setting from a file section, following `*_env` / `*_cmd` indirections for secrets."""
    if name in SECRET_FIELDS:
        env_name = getattr(section, f"{name}_env")
        if env_name:
            return env.get(env_name) or None
        cmd = getattr(section, f"{name}_cmd")
        if cmd:
            return _run_cmd(cmd, f"{where}.{name}_cmd") or None
    return getattr(section, name)


_ENV: dict[str, tuple[str, ...]] = {
    "site": ("DD_SITE",),
    "api_url": ("DDAUDIT_API_URL",),
    "api_key": ("DD_API_KEY",),
    "app_key": ("DD_APP_KEY", "DD_APPLICATION_KEY"),
    "access_token": ("DD_ACCESS_TOKEN",),
    "proxy": ("DDAUDIT_PROXY",),
    "ca_bundle": ("DDAUDIT_CA_BUNDLE",),
    "timeout": ("DDAUDIT_TIMEOUT",),
    "deadline": ("DDAUDIT_DEADLINE",),
    "auth": ("DDAUDIT_DD_AUTH",),
    "concurrency": ("DDAUDIT_CONCURRENCY",),
    "max_events": ("DDAUDIT_MAX_EVENTS",),
    "audit_retention_days": ("DDAUDIT_AUDIT_RETENTION_DAYS",),
    "max_pages": ("DDAUDIT_MAX_PAGES",),
    "export_dir": ("DDAUDIT_EXPORT_DIR",),
    "local_time": ("DDAUDIT_LOCAL_TIME",),
    "pagerduty_routing_key": ("DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY"),
    "pagerduty_url": ("DDAUDIT_PAGERDUTY_URL",),
    "state_dir": ("DDAUDIT_STATE_DIR",),
    "rules_file": ("DDAUDIT_RULES",),
    "business_hours": ("DDAUDIT_BUSINESS_HOURS",),
    "business_days": ("DDAUDIT_BUSINESS_DAYS",),
    "business_timezone": ("DDAUDIT_BUSINESS_TIMEZONE",),
    "country_allowlist": ("DDAUDIT_COUNTRY_ALLOWLIST",),
    "read_only": ("DDAUDIT_READ_ONLY",),
    "analyst": ("DDAUDIT_ANALYST",),
}

_CONVERT = {
    "timeout": float,
    "deadline": float,
    "concurrency": int,
    "max_events": int,
    "audit_retention_days": int,
    "max_pages": int,
}
AUTH_MODES = ("auto", "none")


def _convert(name: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if name in ("local_time", "read_only") and isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if name == "auth":
        mode = str(value).strip().lower()
        if mode not in AUTH_MODES:
            raise ConfigError(f"{where}: expected auto or none, got {value!r}")
        return mode
    conv = _CONVERT.get(name)
    if conv is not None and isinstance(value, str):
        try:
            value = conv(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    positive = ("timeout", "deadline", "concurrency", "max_events", "audit_retention_days", "max_pages")
    if name in positive and value is not None and value <= 0:
        raise ConfigError(f"{where}: must be greater than 0")
    return value


def profile_names(path: Path | None = None) -> list[str]:
    """The profiles the config file defines, in the file's order ([] without a file)."""
    model = _load_file(config_path() if path is None else path)
    return list(model.profiles) if model is not None else []


def load_settings(
    flags: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """Resolve settings with precedence flags > environment > config file (profile, then top level) >
    defaults. `flags` holds only what the user actually passed (None values are ignored)."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = dict(os.environ) if env is None else env
    path = config_path(env) if path is None else path
    model = _load_file(path)

    profile = flags.get("profile") or env.get("DDAUDIT_PROFILE") or (model.default_profile if model else None)
    profile_origin = "flag" if flags.get("profile") else "env" if env.get("DDAUDIT_PROFILE") else "file"
    section: FileSettings | None = None
    if profile and "," in profile:  # `--profile a,b`: the commands that ask several orgs never get here
        raise ConfigError(
            f"profile {profile!r} names several profiles: only key, search and ai (and the TUI's Key lookup) "
            "ask several orgs at once (--profile a,b or --all-profiles); this command works on one org"
        )
    if profile:
        if model is None or profile not in model.profiles:
            known = ", ".join(sorted(model.profiles)) if model and model.profiles else "none defined"
            raise ConfigError(f"{path}: no profile named {profile!r} (profiles: {known})")
        section = model.profiles[profile]

    settings = Settings(config_path=path, profile=profile)
    settings.origins["profile"] = profile_origin if profile else "default"
    for name in _ENV:
        value: Any = None
        origin = "default"
        if name in flags:
            value, origin = flags[name], "flag"
        else:
            for env_name in _ENV[name]:
                if env.get(env_name):
                    value, origin = env[env_name], f"env {env_name}"
                    break
        if value is None and section is not None:
            value = _section_value(section, name, env, f"{path}: profiles.{profile}")
            origin = f"file [profiles.{profile}]" if value is not None else origin
        if value is None and model is not None:
            value = _section_value(model, name, env, f"{path}")
            origin = "file" if value is not None else origin
        value = _convert(name, value, f"{origin} {name}" if origin != "file" else f"{path}: {name}")
        if value is not None:
            setattr(settings, name, value)
            settings.origins[name] = origin
    for name in ("export_dir", "state_dir", "rules_file"):
        if getattr(settings, name):
            setattr(settings, name, str(Path(getattr(settings, name)).expanduser()))
    return settings
