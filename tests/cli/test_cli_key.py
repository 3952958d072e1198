"""`ddaudit key` and `ddaudit revoke` as plugged commands (run through their own parsers)."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))

from keys_synthetic import DAY, KEY, NYC_VERIZON, T0, FakeApi, api_key_doc, demo_page, file_source, item  # noqa: E402

from ddaudit_tui import source_select as select  # noqa: E402
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError  # noqa: E402
from ddaudit_tui.commands import key as key_cmd  # noqa: E402
from ddaudit_tui.commands import revoke as revoke_cmd  # noqa: E402
from ddaudit_tui.demo.org import PLANTED  # noqa: E402
from ddaudit_tui.sources.files import InputError  # noqa: E402


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def parse(module, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"ddaudit {module.__name__.rsplit('.', 1)[1]}")
    module.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.json"
    path.write_bytes(demo_page())
    return path


def test_help_and_arguments():
    assert key_cmd.HELP and revoke_cmd.HELP
    args = parse(key_cmd, KEY, "--input", "x.json", "--format", "md", "-o", "r.md", "--fail-on", "suspicious")
    assert (args.key_id, args.input, args.format, args.output, args.fail_on) == (
        KEY,
        ["x.json"],
        "md",
        "r.md",
        "suspicious",
    )
    with pytest.raises(SystemExit):
        parse(key_cmd, KEY, "--format", "csv")


def test_key_text_report_from_a_file(demo_file, capsys):
    code = key_cmd.run(parse(key_cmd, PLANTED.compromised_key, "--input", str(demo_file)))
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert out.startswith(f"Key ID: {PLANTED.compromised_key}\nCreated: ")
    assert "  - Romania (M247 Europe SRL, RCS & RDS SA): 180 events — FLAG: first-time origin\n" in out
    assert "Verdict: ✖ LIKELY COMPROMISED" in out
    assert err == ""


def test_key_json_lists_every_planted_signal(demo_file, capsys):
    code = key_cmd.run(parse(key_cmd, PLANTED.compromised_key, "--input", str(demo_file), "--format", "json"))
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert data["verdict"] == "likely compromised"
    assert {f["signal"] for f in data["flags"]} >= {
        "token_leaked", "new_country", "vpn_asn", "destructive_action", "burst", "off_hours", "concurrent_ips",
        "impossible_travel", "first_seen_asn",
    }  # fmt: skip
    assert data["created"]["created_by"] == PLANTED.compromised_key_creator
    assert {(d["resource_type"], d["resource_id"]) for d in data["destructive"]} >= {
        ("monitor", m) for m in PLANTED.deleted_monitors
    }
    assert [o["country"] for o in data["origins"]] == ["United States", "Romania"]


def test_key_writes_a_private_file_and_fail_on(demo_file, tmp_path, capsys):
    out_path = tmp_path / "report.html"
    args = parse(
        key_cmd,
        PLANTED.compromised_key,
        "-i",
        str(demo_file),
        "-f",
        "html",
        "-o",
        str(out_path),
        "--fail-on",
        "compromised",
    )
    assert key_cmd.run(args) == key_cmd.EXIT_FINDINGS == 5
    assert stat.S_IMODE(os.stat(out_path).st_mode) == 0o600
    assert out_path.read_text().startswith("<!DOCTYPE html>")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"ddaudit: wrote the html report of key {PLANTED.compromised_key} to {out_path.resolve()}\n"
    clean = parse(key_cmd, PLANTED.clean_key, "-i", str(demo_file), "-f", "json", "--fail-on", "suspicious")
    assert key_cmd.run(clean) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["verdict"] == "no evidence"


@pytest.mark.parametrize(
    ("verdict", "fail_on", "code"),
    [
        ("likely compromised", None, 0),
        ("likely compromised", "compromised", 5),
        ("suspicious", "compromised", 0),
        ("suspicious", "suspicious", 5),
        ("no evidence", "suspicious", 0),
    ],
)
def test_exit_codes(verdict, fail_on, code):
    assert key_cmd.exit_code(verdict, fail_on) == code


def test_business_hours_and_allowlist_flags(demo_file, capsys):
    args = parse(
        key_cmd, PLANTED.ci_key, "-i", str(demo_file), "-f", "json", "--business-hours", "09:00-18:00",
        "--business-days", "mon-fri", "--business-timezone", "America/New_York", "--country-allowlist", "us,gb",
    )  # fmt: skip
    assert key_cmd.run(args) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["baselines"]["hours"] == "configured business hours Mon–Fri 09:00–18:00 (America/New_York)"
    assert data["baselines"]["countries"] == (
        "configured allowlist GB, US + countries in the input (demo.json) outside this key (the whole input is the "
        "learning period)"
    )
    assert data["verdict"] == "no evidence"


def test_config_fields_are_read_when_present(demo_file, capsys, monkeypatch):
    real = key_cmd.settings_from

    def with_business(args):
        s = real(args)
        s.business_hours = "10:00-16:00"  # type: ignore[attr-defined]  (the field is proposed for Settings)
        s.business_timezone = "Europe/London"  # type: ignore[attr-defined]
        return s

    monkeypatch.setattr(key_cmd, "settings_from", with_business)
    assert key_cmd.run(parse(key_cmd, PLANTED.clean_key, "-i", str(demo_file), "-f", "json")) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["baselines"]["hours"] == "configured business hours Mon–Fri 10:00–16:00 (Europe/London)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["0123456789abcdef0123456789abcdef"], "looks like an API key itself"),
        (["bad key"], "invalid API key id"),
        ([KEY, "--business-hours", "9am"], "invalid business hours"),
        ([KEY, "--business-days", "mon-fri"], "need --business-hours"),
        ([KEY, "--business-hours", "9-17", "--business-timezone", "Mars/Olympus"], "unknown time zone"),
        ([KEY, "--country-allowlist", "USA"], "invalid country code"),
        ([KEY, "--no-org-baseline"], "--no-org-baseline needs --country-allowlist"),
        ([KEY, "--demo", "--input", "x.json"], "two different sources"),
    ],
)
def test_usage_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        key_cmd.run(parse(key_cmd, *argv))


def test_unreadable_input(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        key_cmd.run(parse(key_cmd, KEY, "--input", str(tmp_path / "nope.json")))


def test_key_through_the_api_with_key_metadata(monkeypatch, capsys):
    api = FakeApi([item(T0 + DAY, NYC_VERIZON)], {KEY: api_key_doc(KEY, name="ci-deploy")})
    monkeypatch.setattr(select, "open_source", lambda args, settings: api.client())
    args = parse(key_cmd, KEY, "--from", "2026-06-01T00:00:00Z", "--to", "2026-06-10T00:00:00Z", "-f", "json")
    assert key_cmd.run(args) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["api_key"]["name"] == "ci-deploy" and data["api_key_status"] == "found"
    assert data["window"] == {"from": "2026-06-01T00:00:00.000Z", "to": "2026-06-10T00:00:00.000Z"}
    assert "0123456789abcdef0123456789abcdef" not in json.dumps(data)  # the secret the API sent
    assert data["total_events"] == 1


def test_key_with_the_demo_source(capsys):
    pytest.importorskip("ddaudit_tui.demo.source")
    assert key_cmd.run(parse(key_cmd, PLANTED.compromised_key, "--demo", "-f", "json")) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "likely compromised"


# -- revoke ------------------------------------------------------------------------------------------------


def _tty(monkeypatch, answer: str) -> None:
    monkeypatch.setattr(revoke_cmd, "_stdin_is_tty", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))


def test_revoke_needs_yes_without_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(revoke_cmd, "_stdin_is_tty", lambda: False)
    assert revoke_cmd.run(parse(revoke_cmd, KEY)) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"ddaudit: refusing to revoke API key {KEY} without confirmation: stdin is not a terminal; pass --yes\n"
    )


def test_revoke_refuses_files_bad_ids_and_read_only(monkeypatch, capsys):
    with pytest.raises(UsageError, match="input files cannot revoke keys"):
        revoke_cmd.run(parse(revoke_cmd, KEY, "--input", "x.json", "--yes"))
    with pytest.raises(UsageError, match="looks like an API key itself"):
        revoke_cmd.run(parse(revoke_cmd, "0123456789abcdef0123456789abcdef", "--yes"))
    monkeypatch.setattr(revoke_cmd, "settings_from", lambda args: SimpleNamespace(read_only=True))
    assert revoke_cmd.run(parse(revoke_cmd, KEY, "--yes")) == EXIT_USAGE
    assert "read-only mode is on" in capsys.readouterr().err


def test_revoke_with_yes(monkeypatch, capsys):
    api = FakeApi([], {KEY: api_key_doc(KEY, name="ci-deploy")})
    monkeypatch.setattr(select, "open_source", lambda args, settings: api.client())
    assert revoke_cmd.run(parse(revoke_cmd, KEY, "--yes")) == EXIT_OK
    assert ("DELETE", f"/api/v2/api_keys/{KEY}", None) in api.requests
    assert capsys.readouterr().err == f"ddaudit: revoked API key {KEY} (ci-deploy) on datadoghq.com\n"


def test_revoke_asks_for_the_last_four_characters(monkeypatch, capsys):
    api = FakeApi([], {KEY: api_key_doc(KEY, name="ci-deploy")})
    monkeypatch.setattr(select, "open_source", lambda args, settings: api.client())
    _tty(monkeypatch, "nope\n")
    assert revoke_cmd.run(parse(revoke_cmd, KEY)) == EXIT_ERROR
    err = capsys.readouterr().err
    assert (
        f"About to revoke API key {KEY} on datadoghq.com.\n  name 'ci-deploy', secret ending …cdef, created by marcus@example.com"
        in err
    )
    assert err.endswith(f"ddaudit: not confirmed: API key {KEY} was not revoked\n")
    assert not any(r[0] == "DELETE" for r in api.requests)
    _tty(monkeypatch, "5555\n")
    assert revoke_cmd.run(parse(revoke_cmd, KEY)) == EXIT_OK
    assert ("DELETE", f"/api/v2/api_keys/{KEY}", None) in api.requests


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [(404, EXIT_ERROR, "not found (already revoked?)"), (403, EXIT_AUTH, "api_keys_delete")],
)
def test_revoke_errors(monkeypatch, capsys, status, code, text):
    api = FakeApi([], {}, revoke_status=status)
    monkeypatch.setattr(select, "open_source", lambda args, settings: api.client())
    assert revoke_cmd.run(parse(revoke_cmd, KEY, "--yes")) == code
    err = capsys.readouterr().err
    assert err.startswith("ddaudit: not revoked: ") and text in err


def test_revoke_source_without_revocation(monkeypatch):
    monkeypatch.setattr(select, "open_source", lambda args, settings: file_source([]))
    with pytest.raises(UsageError, match="cannot revoke keys"):
        revoke_cmd.run(parse(revoke_cmd, KEY, "--yes"))


def test_confirmation_accepts_the_whole_id():
    assert revoke_cmd.confirmed(f" {KEY.upper()} \n", KEY)
    assert revoke_cmd.confirmed("5555", KEY)
    assert not revoke_cmd.confirmed("", KEY) and not revoke_cmd.confirmed("555", KEY)


# -- through `ddaudit` itself (the commands plugged in as cli.PLUGGED_COMMANDS will list them) ----------


@pytest.fixture
def plugged(monkeypatch):
    from ddaudit_tui import cli

    monkeypatch.setitem(cli.PLUGGED_COMMANDS, "key", "key")
    monkeypatch.setitem(cli.PLUGGED_COMMANDS, "revoke", "revoke")
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "key", "revoke"))
    return cli.main


def test_through_main(plugged, demo_file, tmp_path, capsys, monkeypatch):
    assert (
        plugged(
            [
                "key",
                PLANTED.compromised_key,
                "--input",
                str(demo_file),
                "-f",
                "json",
                "--fail-on",
                "compromised",
            ]
        )
        == 5
    )
    assert json.loads(capsys.readouterr().out)["verdict"] == "likely compromised"
    assert plugged(["key", "not a key id"]) == EXIT_USAGE
    assert "invalid API key id" in capsys.readouterr().err
    assert plugged(["key", KEY, "--input", str(tmp_path / "missing.json")]) == 4
    assert "no such file" in capsys.readouterr().err
    assert plugged(["key", KEY]) == EXIT_AUTH  # no credentials, no --demo/--input
    monkeypatch.setattr(revoke_cmd, "_stdin_is_tty", lambda: False)
    assert plugged(["revoke", KEY]) == EXIT_USAGE
    assert plugged(["revoke", KEY, "--input", "x.json", "--yes"]) == EXIT_USAGE


def test_engine_flag_and_max_pages(capsys, monkeypatch):
    """Issue 16: `--engine auto|search|ddsql` (default auto) and the `max_pages` budget (config, flag)."""
    pytest.importorskip("ddaudit_tui.demo.source")
    from ddaudit_tui.demo import org

    # The demo org ends at the wall clock's minute: two runs straddling a minute would differ by it.
    end = org._now_minute_ms()
    monkeypatch.setattr(org, "_now_minute_ms", lambda: end)
    assert parse(key_cmd, KEY).engine == "auto"
    with pytest.raises(SystemExit):
        parse(key_cmd, KEY, "--engine", "sql")
    with pytest.raises(UsageError, match="--max-pages 0: expected 1 or more"):
        key_cmd.run(parse(key_cmd, KEY, "--demo", "--max-pages", "0"))
    outputs = {}
    for engine in ("search", "ddsql"):
        assert (
            key_cmd.run(parse(key_cmd, PLANTED.compromised_key, "--demo", "-f", "json", "--engine", engine))
            == 0
        )
        data = json.loads(capsys.readouterr().out)
        outputs[engine] = {k: data[k] for k in ("total_events", "verdict", "origins", "endpoints", "flags")}
    assert outputs["ddsql"] == outputs["search"]
    # The budget from the environment (config max_pages): one page of 1,000 holds the key's 380 events.
    monkeypatch.setenv("DDAUDIT_MAX_PAGES", "1")
    assert key_cmd.run(parse(key_cmd, PLANTED.compromised_key, "--demo", "-f", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_events"] == outputs["search"]["total_events"]
