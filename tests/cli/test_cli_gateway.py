"""Behind an identity-aware gateway that holds the Datadog credentials (issue 13, item 4): credential-less
mode sends no DD-API-KEY / DD-APPLICATION-KEY, whatever the environment holds — selected by
`--no-dd-auth`, `DDAUDIT_DD_AUTH=none` or `auth = "none"` in a profile. A gateway bearer token still goes.
Also the `deadline` setting reaching the client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_OK
from ddaudit_tui.config import ConfigError, load_settings
from ddaudit_tui.demo.fake_datadog import FakeDatadog
from ddaudit_tui.demo.loopback import loopback
from ddaudit_tui.timeutil import iso, parse_instant

T0 = parse_instant("2026-07-25T17:00:00Z")
ENV_KEY = "5ec7e7a91b0c4d2e8f3a6b5c4d3e2f1a"
ENV_APP = "a99c0ffee5ec7e7b10b5a1d2c3e4f5061728394a"


def items() -> list[dict]:
    return [
        {
            "id": f"ev-{i}",
            "type": "audit",
            "attributes": {
                "attributes": {"evt": {"name": "Request"}, "usr": {"email": "a@example.com"}},
                "service": "audit",
                "timestamp": iso(T0 + i * 1000),
            },
        }
        for i in range(5)
    ]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROXY",
                 "DDAUDIT_DD_AUTH", "DDAUDIT_DEADLINE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    # Keys in the environment (a developer's shell): credential-less mode must not send them.
    monkeypatch.setenv("DD_API_KEY", ENV_KEY)
    monkeypatch.setenv("DD_APP_KEY", ENV_APP)


def search(capsys: pytest.CaptureFixture[str], base_url: str, *extra: str) -> tuple[int, str, str]:
    argv = ["search", "*", "--api-url", base_url, "--from", str(T0), "--to", str(T0 + 60_000), *extra]
    code = main([*argv, "--format", "ndjson"])
    out, err = capsys.readouterr()
    return code, out, err


def dd_headers(fake: FakeDatadog) -> list[str]:
    return [k for r in fake.requests for k in r.headers if k in ("dd-api-key", "dd-application-key")]


@pytest.mark.parametrize("how", ["flag", "env", "profile"])
def test_credential_less_mode_sends_no_datadog_keys(capsys, monkeypatch, tmp_path, how: str) -> None:
    extra: tuple[str, ...] = ()
    if how == "flag":
        extra = ("--no-dd-auth",)
    elif how == "env":
        monkeypatch.setenv("DDAUDIT_DD_AUTH", "none")
    else:
        config = tmp_path / "config.toml"
        config.write_text('[profiles.gw]\nauth = "none"\n')
        monkeypatch.setenv("DDAUDIT_CONFIG", str(config))
        extra = ("--profile", "gw")
    monkeypatch.delenv("DD_APP_KEY")  # no usable key pair at all: today "no Datadog credentials", exit 3
    fake = FakeDatadog(items(), require_auth=False)  # the gateway adds the keys itself
    with loopback(fake) as base_url:
        code, out, err = search(capsys, base_url, *extra)
    assert code == EXIT_OK, err
    assert len(out.splitlines()) == 5
    assert fake.requests and dd_headers(fake) == []


def test_credential_less_mode_still_sends_the_gateway_bearer_token(capsys, monkeypatch) -> None:
    monkeypatch.setenv("DD_ACCESS_TOKEN", "gw-oidc-token-0123456789")
    fake = FakeDatadog(items(), require_auth=False)
    with loopback(fake) as base_url:
        code, _, err = search(capsys, base_url, "--no-dd-auth")
    assert code == EXIT_OK, err
    assert dd_headers(fake) == []
    assert {r.headers.get("authorization") for r in fake.requests} == {"Bearer gw-oidc-token-0123456789"}


def test_credential_less_mode_refused_by_the_gateway_says_what_was_sent(capsys) -> None:
    fake = FakeDatadog(items())  # a gateway that does not add the keys: the API refuses
    with loopback(fake) as base_url:
        code, out, err = search(capsys, base_url, "--no-dd-auth")
    assert (code, out) == (EXIT_AUTH, "")
    assert "no Datadog keys were sent (auth = none: the gateway must add them)" in err
    assert dd_headers(fake) == []


def test_auth_and_deadline_settings(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('deadline = 90\n[profiles.gw]\nauth = "none"\ndeadline = 45.5\n')
    s = load_settings({}, env={}, path=config)
    assert (s.auth, s.deadline) == ("auto", 90.0)
    s = load_settings({"profile": "gw"}, env={}, path=config)
    assert (s.auth, s.deadline) == ("none", 45.5) and s.has_credentials()
    s = load_settings({}, env={"DDAUDIT_DEADLINE": "12", "DDAUDIT_DD_AUTH": "NONE"}, path=config)
    assert (s.auth, s.deadline) == ("none", 12.0)
    with pytest.raises(ConfigError, match="expected auto or none"):
        load_settings({}, env={"DDAUDIT_DD_AUTH": "off"}, path=config)
    with pytest.raises(ConfigError, match="greater than 0"):
        load_settings({}, env={"DDAUDIT_DEADLINE": "0"}, path=config)


def test_the_deadline_reaches_the_client(monkeypatch) -> None:
    import argparse

    from ddaudit_tui.source_select import open_source

    s = load_settings({"api_url": "http://gw.example"}, env={"DDAUDIT_DEADLINE": "7", "DD_API_KEY": "k" * 32,
                      "DD_APP_KEY": "a" * 40}, path=Path("/nonexistent.toml"))  # fmt: skip
    client = open_source(argparse.Namespace(), s)
    assert client.deadline_s == 7.0  # type: ignore[attr-defined]
    json.dumps(s.describe())  # every row printable
