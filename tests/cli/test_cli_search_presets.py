"""`ddaudit search --preset` / `--copy-as` / `--list-presets` on the demo and without credentials."""

from __future__ import annotations

import json
import shlex
from urllib.parse import parse_qs, urlsplit

import pytest

from ddaudit_tui.analysis.presets import PRESETS
from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_OK, EXIT_USAGE
from ddaudit_tui.demo.incidents import PLANTED


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch, tmp_path):
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE", "DDAUDIT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_presets_names_each_with_its_query(capsys):
    code, out, _ = run(capsys, "search", "--list-presets")
    assert code == EXIT_OK
    for p in PRESETS:
        assert f"{p.name} " in out and p.template in out


def test_preset_runs_its_query_window_and_columns_on_the_demo(capsys):
    code, out, err = run(capsys, "search", "--demo", "--preset", "failed-logins", "--format", "json")
    assert code == EXIT_OK, err
    assert "preset failed-logins: @evt.name:Authentication @action:login @status:error" in err
    rows = json.loads(out)
    assert set(rows[0]) == {
        "timestamp",
        "usr.email",
        "network.client.ip",
        "network.client.geoip.country.name",
    }
    brute = [r for r in rows if r["network.client.ip"] == PLANTED.brute_force_ip]
    assert len(brute) == PLANTED.brute_force_failures


def test_a_query_narrows_a_preset(capsys):
    code, out, err = run(
        capsys,
        "search",
        "--demo",
        "--preset",
        "ip",
        "--ip",
        PLANTED.brute_force_ip,
        "@usr.email:alice*",
        "-f",
        "json",
    )
    assert code == EXIT_OK, err
    rows = json.loads(out)
    assert rows and {r["usr.email"] for r in rows} == {"alice.nguyen@example.com"}
    assert f'preset ip: @network.client.ip:"{PLANTED.brute_force_ip}" @usr.email:alice*' in err


def test_user_preset_includes_delegated_actions(capsys):
    user = PLANTED.ai_out_of_scope_user
    code, out, err = run(capsys, "search", "--demo", "--preset", "user", "--user", user, "-f", "json")
    assert code == EXIT_OK, err
    rows = json.loads(out)
    assert any(r["usr.email"] != user and r["delegator.name"] for r in rows)
    assert "@delegator.name:" in err


def test_copy_as_needs_no_credentials(capsys):
    code, out, err = run(
        capsys, "search", "--preset", "roles", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z",
        "--copy-as", "pup", "--site", "datadoghq.eu",
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert shlex.split(out) == [
        "DD_SITE=datadoghq.eu", "pup", "audit-logs", "search", "--query", '@evt.name:"Access Management"',
        "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z", "--limit", "1000", "-o", "json",
    ]  # fmt: skip


def test_copy_as_url_and_ddsql_for_a_free_query(capsys):
    args = ("search", "@action:deleted", "--from", "1795132800000", "--to", "1795219200000")
    code, out, _ = run(capsys, *args, "--copy-as", "url", "--site", "us5.datadoghq.com")
    assert code == EXIT_OK
    parts = urlsplit(out.strip())
    assert parts.netloc == "us5.datadoghq.com"
    assert parse_qs(parts.query)["query"] == ["@action:deleted"]
    assert parse_qs(parts.query)["from_ts"] == ["1795132800000"]
    code, out, _ = run(capsys, *args, "--copy-as", "ddsql", "--columns", "timestamp,@usr.email")
    assert code == EXIT_OK
    assert "filter => '@action:deleted'," in out and "usr_email VARCHAR" in out


def test_copy_as_on_the_demo_resolves_the_user_preset(capsys):
    user = PLANTED.ai_out_of_scope_user
    code, out, _ = run(capsys, "search", "--demo", "--preset", "user", "--user", user, "--copy-as", "url")
    assert code == EXIT_OK
    query = parse_qs(urlsplit(out.strip()).query)["query"][0]
    assert query.startswith(f'@usr.email:"{user}" OR @delegator.id:')
    assert "@delegator.name:" in query


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "nope"], "unknown preset 'nope' (known: deletions"),
        (["--preset", "ip"], "preset 'ip' needs --ip"),
        (["--preset", "ip", "--ip", "not an ip"], "--ip 'not an ip': expected client ip"),
        (["--preset", "roles", "--user", "a@b.c"], "preset 'roles' takes no --user"),
        (["--user", "a@b.c", "*"], "--user goes with --preset"),
        ([], "a QUERY or --preset NAME is required"),
        (["--preset", "roles", "@usr.email:("], 'expected ")" to close'),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, message):
    code, out, err = run(capsys, "search", "--demo", *argv)
    assert code == EXIT_USAGE
    assert out == ""
    assert message in err
    assert "Traceback" not in err
