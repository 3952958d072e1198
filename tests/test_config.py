"""Settings precedence: flags > environment > config file (profile, then top level) > defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ddaudit_tui.config import ConfigError, load_settings, mask

API_KEY = "0123456789abcdef0123456789abcdef"
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_defaults_without_file(tmp_path):
    s = load_settings({}, env={}, path=tmp_path / "missing.toml")
    assert s.site == "datadoghq.com" and s.api_url is None and not s.has_credentials()
    assert s.origins.get("site") is None


def test_precedence_flag_env_file_default(tmp_path):
    cfg = write(tmp_path / "c.toml", 'site = "us3.datadoghq.com"\ntimeout = 12\nconcurrency = 2\n')
    env = {"DD_SITE": "datadoghq.eu", "DDAUDIT_CONCURRENCY": "6"}
    s = load_settings({"site": "us5.datadoghq.com"}, env=env, path=cfg)
    assert s.site == "us5.datadoghq.com" and s.origins["site"] == "flag"
    assert s.concurrency == 6 and s.origins["concurrency"] == "env DDAUDIT_CONCURRENCY"
    assert s.timeout == 12 and s.origins["timeout"] == "file"
    assert s.max_events is None


def test_datadog_env_names(tmp_path):
    env = {"DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY, "DDAUDIT_API_URL": "https://gw.corp/dd"}
    s = load_settings({}, env=env, path=tmp_path / "none.toml")
    assert s.api_key == API_KEY and s.app_key == APP_KEY and s.api_url == "https://gw.corp/dd"
    assert s.has_credentials()
    assert load_settings({}, env={"DD_ACCESS_TOKEN": "tok"}, path=tmp_path / "n").has_credentials()


def test_profiles_with_credentials_from_env_and_command(tmp_path):
    cfg = write(
        tmp_path / "c.toml",
        """
default_profile = "us"
[profiles.us]
site = "datadoghq.com"
api_key_env = "US_KEY"
app_key_env = "US_APP"
[profiles.eu]
site = "datadoghq.eu"
api_url = "https://gateway.example.net/datadog"
api_key_cmd = "echo eu-api-key-from-command-000000"
app_key_cmd = "printf eu-app"
""",
    )
    us = load_settings({}, env={"US_KEY": "k1", "US_APP": "a1"}, path=cfg)
    assert (us.profile, us.site, us.api_key, us.app_key) == ("us", "datadoghq.com", "k1", "a1")
    eu = load_settings({"profile": "eu"}, env={}, path=cfg)
    assert eu.site == "datadoghq.eu" and eu.api_url == "https://gateway.example.net/datadog"
    assert eu.api_key == "eu-api-key-from-command-000000" and eu.app_key == "eu-app"
    assert eu.origins["api_key"] == "file [profiles.eu]"
    # the environment still beats the profile
    assert (
        load_settings({"profile": "eu"}, env={"DD_SITE": "ap1.datadoghq.com"}, path=cfg).site
        == "ap1.datadoghq.com"
    )


def test_unknown_profile_and_unknown_key_and_bad_values_name_the_file(tmp_path):
    cfg = write(tmp_path / "c.toml", '[profiles.a]\nsitee = "x"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: profiles\.a\.sitee: unknown setting"):
        load_settings({}, env={}, path=cfg)
    cfg = write(tmp_path / "d.toml", "timeout = -1\n")
    with pytest.raises(ConfigError, match=r"d\.toml: timeout"):
        load_settings({}, env={}, path=cfg)
    cfg = write(tmp_path / "e.toml", "site = \n")
    with pytest.raises(ConfigError, match=r"e\.toml: invalid TOML"):
        load_settings({}, env={}, path=cfg)
    cfg = write(tmp_path / "f.toml", "[profiles.a]\n")
    with pytest.raises(ConfigError, match="no profile named 'b'"):
        load_settings({"profile": "b"}, env={}, path=cfg)
    with pytest.raises(ConfigError, match="expected a number"):
        load_settings({}, env={"DDAUDIT_TIMEOUT": "soon"}, path=tmp_path / "n")


def test_secret_file_readable_by_others_is_refused(tmp_path):
    cfg = write(tmp_path / "c.toml", f'api_key = "{API_KEY}"\n', mode=0o644)
    with pytest.raises(ConfigError) as info:
        load_settings({}, env={}, path=cfg)
    assert "chmod 600" in str(info.value) and API_KEY not in str(info.value)
    os.chmod(cfg, 0o600)
    assert load_settings({}, env={}, path=cfg).api_key == API_KEY


def test_describe_masks_secrets(tmp_path):
    env = {"DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY, "DDAUDIT_PROXY": "http://user:pw@proxy:3128"}
    rows = load_settings({}, env=env, path=tmp_path / "n").describe()
    text = "\n".join(" ".join(r) for r in rows)
    assert API_KEY not in text and APP_KEY not in text and "pw" not in text
    assert "****cdef" in text and "http://****@proxy:3128" in text
    assert mask("short") == "set (****)"
