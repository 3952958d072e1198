"""`ddaudit watch` headless: replay and --once over files, JSON/text output, dry run, exit codes,
no second page on a re-run, the routing key never shown, usage errors. The parser is built from the
command's own `add_arguments` (the command is plugged into cli.py separately)."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from watch_helpers import KEY, T0, FakeClock, M, api_item, planted_items, write_items  # noqa: E402

from ddaudit_tui.alerts.pagerduty import PagerDutyClient  # noqa: E402
from ddaudit_tui.alerts.poller import PollOutcome  # noqa: E402
from ddaudit_tui.cli import classify_error  # noqa: E402
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_INPUT, EXIT_OK, EXIT_USAGE  # noqa: E402
from ddaudit_tui.commands import watch  # noqa: E402
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty  # noqa: E402
from ddaudit_tui.sources.datadog_errors import AuthError  # noqa: E402
from ddaudit_tui.timeutil import iso  # noqa: E402

EXIT_FIRED = 5
ALERT_KEYS = {
    "rule",
    "actor",
    "count",
    "first_seen",
    "last_seen",
    "severity",
    "event_ids",
    "dedup_key",
    "paged",
}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user config, rules, credentials or routing key from the machine running the tests."""
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    for name in (
        "DDAUDIT_RULES", "DDAUDIT_STATE_DIR", "DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY",
        "DDAUDIT_PAGERDUTY_URL", "DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    # PagerDuty retries must not wait in tests: give the client a sleep that only records.
    monkeypatch.setattr(watch, "PagerDutyClient", functools.partial(PagerDutyClient, sleep=FakeClock().sleep))


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="ddaudit watch")
    watch.add_arguments(parser)
    try:
        args = parser.parse_args(list(argv))
        code = watch.run(args)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    except Exception as exc:  # the CLI's own mapping of expected failures
        code, message = classify_error(exc)
        if code is None:
            raise
        sys.stderr.write(f"ddaudit: {message}\n")
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def planted(tmp_path) -> Path:
    return write_items(tmp_path / "export.json", planted_items())


def burst_at_end(tmp_path: Path) -> Path:
    """A file whose last 15 minutes hold a role-grant burst (and older history)."""
    items = planted_items()
    items += [
        api_item(m, "eve@example.com", "Access Management", "role", "modified") for m in (200, 204, 209)
    ]
    return write_items(tmp_path / "recent.json", items)


# -- replay -------------------------------------------------------------------------------------


def test_replay_json_lists_what_would_have_fired(capsys, planted, tmp_path):
    code, out, err = invoke(capsys, "--input", str(planted), "--replay", "--format", "json")
    assert code == EXIT_FIRED, err
    doc = json.loads(out)
    assert doc["mode"] == "replay" and doc["rules_label"].startswith("ddaudit rules")
    fired = sorted((a["rule"], a["actor"]) for a in doc["alerts"])
    assert fired == [
        ("bulk_deletion", "matt@example.com"),
        ("monitor_deletion", "sara@example.com"),
        ("role_changes", "dave@example.com"),
    ]
    for a in doc["alerts"]:
        assert set(a) >= ALERT_KEYS and a["paged"] is False and a["event_ids"]
    role = next(a for a in doc["alerts"] if a["rule"] == "role_changes")
    assert role["count"] == 4 and role["severity"] == "high"
    assert role["first_seen"] == iso(T0 + 10 * M) and role["last_seen"] == iso(T0 + 19 * M)
    assert role["dedup_key"] == f"ddaudit:role_changes:dave@example.com:{T0 + 10 * M}"
    assert "replayed" in err
    assert not (tmp_path / "state").exists()  # a replay touches no state


def test_replay_text_one_line_per_alert(capsys, planted):
    code, out, _ = invoke(capsys, "--input", str(planted), "--replay", "--interval", "1m")
    assert code == EXIT_FIRED
    lines = out.splitlines()
    assert len(lines) == 3
    assert any("role_changes  dave@example.com  4 events  [role modified ×4]" in line for line in lines)
    assert any(line.startswith("! HIGH") and "12 distinct asset.id" in line for line in lines)


def test_replay_never_pages_but_dry_run_shows_payloads(capsys, planted):
    with FakePagerDuty() as pd:
        code, out, err = invoke(
            capsys, "--input", str(planted), "--replay", "--format", "json", "--dry-run",
            "--pagerduty-routing-key", KEY, "--pagerduty-url", pd.url,
        )  # fmt: skip
        assert pd.requests == []
    assert code == EXIT_FIRED
    doc = json.loads(out)
    payloads = [p for a in doc["alerts"] for p in a["pagerduty_payloads"]]
    assert len(payloads) == 3 and all(p["routing_key"] == "****" for p in payloads)
    assert all(p["payload"]["severity"] in ("warning", "error") for p in payloads)
    assert KEY not in out and KEY not in err


# -- once ---------------------------------------------------------------------------------------


def test_once_evaluates_the_window_ending_at_the_last_event(capsys, tmp_path):
    path = burst_at_end(tmp_path)
    state = tmp_path / "state"
    code, out, err = invoke(
        capsys, "--input", str(path), "--once", "--format", "json", "--state-dir", str(state)
    )
    assert code == EXIT_FIRED, err
    doc = json.loads(out)
    assert doc["window"]["to"] == iso(T0 + 209 * M + 1)  # the last event, inclusive
    assert doc["window"]["from"] == iso(T0 + 209 * M + 1 - 17 * M)  # the window and the overlap
    assert [(a["rule"], a["actor"], a["count"]) for a in doc["alerts"]] == [
        ("role_changes", "eve@example.com", 3)
    ]
    assert doc["alerts"][0]["page_status"] == "off"  # no routing key: reported, not paged


def test_once_on_quiet_data_exits_0(capsys, planted, tmp_path):
    code, out, err = invoke(capsys, "--input", str(planted), "--once", "--state-dir", str(tmp_path / "s"))
    assert (code, out) == (EXIT_OK, ""), err  # the planted bursts are older than the last 15 minutes


def test_rerunning_once_sends_no_second_page(capsys, tmp_path, monkeypatch):
    path = burst_at_end(tmp_path)
    state = str(tmp_path / "state")
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", KEY)
    with FakePagerDuty() as pd:
        args = ("--input", str(path), "--once", "--state-dir", state, "--pagerduty-url", pd.url)
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_FIRED, err
        assert "paged" in out and pd.triggers == 1
        for _ in range(2):
            code, out, err = invoke(capsys, *args)
            assert (code, out) == (EXIT_OK, ""), err
        assert pd.triggers == 1 and len(pd.requests) == 1
        body = pd.requests[0]
        assert body["routing_key"] == KEY and body["payload"]["custom_details"]["actor"] == "eve@example.com"
    assert KEY.encode() not in (tmp_path / "state" / "watch.sqlite3").read_bytes()
    assert KEY not in out + err


def test_failed_page_exits_6_and_is_sent_on_the_next_run(capsys, tmp_path, monkeypatch):
    path = burst_at_end(tmp_path)
    state = str(tmp_path / "state")
    monkeypatch.setenv("DDAUDIT_PAGERDUTY_ROUTING_KEY", KEY)
    with FakePagerDuty() as pd:
        pd.fail_next(*[503] * 20)
        args = ("--input", str(path), "--once", "--state-dir", state, "--pagerduty-url", pd.url)
        code, out, err = invoke(capsys, *args)
        assert code == watch.EXIT_UNDELIVERED == 6
        assert "page pending" in out and "PagerDuty:" in err and "503" in err
        pd._faults.clear()
        code, out, err = invoke(capsys, *args)
        assert code == EXIT_FIRED and "paged" in out, err  # the queued page went out
        assert pd.triggers == 1
        code, out, _ = invoke(capsys, *args)
        assert (code, out) == (EXIT_OK, "")
    assert KEY not in err


def test_dry_run_prints_payloads_and_changes_nothing(capsys, tmp_path):
    path = burst_at_end(tmp_path)
    state = str(tmp_path / "state")
    for _ in range(2):  # nothing is remembered: the same payload again
        code, out, err = invoke(
            capsys, "--input", str(path), "--once", "--dry-run", "--state-dir", state,
            "--pagerduty-routing-key", KEY,
        )  # fmt: skip
        assert code == EXIT_FIRED
        line, payload_text = out.split("\n", 1)
        assert "role_changes  eve@example.com" in line and "dry-run" in line
        payload = json.loads(payload_text)
        assert payload["routing_key"] == "****" and payload["event_action"] == "trigger"
        assert len(payload["payload"]["summary"]) <= 1024
        assert payload["links"][0]["href"].startswith("https://app.datadoghq.com/audit-trail?query=")
        assert KEY not in out and KEY not in err


def test_list_rules(capsys, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules.monitor_deletion]\nenabled = false\n[rules.role_changes]\nthreshold = 5\n")
    code, out, _ = invoke(capsys, "--list-rules", "--rules", str(rules))
    assert code == EXIT_OK
    assert out.startswith(f"# ddaudit rules from defaults + {rules}")
    assert "(disabled)" in next(line for line in out.splitlines() if "monitor_deletion" in line)
    assert "≥ 5 in 15m" in next(line for line in out.splitlines() if "role_changes" in line)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--replay"], "--replay needs --input"),
        (["--input", "FILE"], "use --once"),
        (["--once", "--to", "now"], "--to applies to --input only"),
        (["--interval", "soon"], "--interval: invalid duration"),
        (["--once", "--replay"], "not allowed with argument"),
        (["--pagerduty-url", "pagerduty.com", "--list-rules"], ""),
    ],
)
def test_usage_errors(capsys, planted, argv, fragment):
    argv = [str(planted) if a == "FILE" else a for a in argv]
    code, _, err = invoke(capsys, *argv)
    if argv[0] == "--pagerduty-url":
        assert code == EXIT_OK  # --list-rules does not need PagerDuty
        return
    assert code == EXIT_USAGE and fragment in err


def test_bad_pagerduty_url_is_a_usage_error(capsys, planted):
    code, _, err = invoke(capsys, "--input", str(planted), "--once", "--pagerduty-url", "pagerduty.com")
    assert code == EXIT_USAGE and "--pagerduty-url" in err


def test_malformed_rules_file_is_exit_2_with_one_line(capsys, planted, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[rules.role_changes]\nthreshold = "lots"\n')
    code, out, err = invoke(capsys, "--input", str(planted), "--replay", "--rules", str(rules))
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and "rule 'role_changes': field 'threshold'" in err


def test_unreadable_input_is_exit_4(capsys, tmp_path):
    code, _, err = invoke(capsys, "--input", str(tmp_path / "missing.json"), "--once", "--no-state")
    assert code == EXIT_INPUT and "no such file" in err


def test_auth_failure_on_once_is_exit_3(capsys):
    outcome = PollOutcome(error="403 Forbidden from api.datadoghq.com", exception=AuthError("403 Forbidden"))
    assert watch._report_once(outcome, watch._Output("text", None, 0), "api") == EXIT_AUTH  # type: ignore[arg-type]
    assert "poll failed: 403 Forbidden" in capsys.readouterr().err


# -- continuous ---------------------------------------------------------------------------------


def test_continuous_watch_prints_alerts_as_they_open(capsys, tmp_path, monkeypatch):
    """The default mode against a live source, on a simulated clock: nothing waits for real."""
    from watch_helpers import FakeSource, event

    from ddaudit_tui import source_select as select
    from ddaudit_tui.alerts.poller import Poller

    # A burst that happens 7-9 minutes after the watch starts, and a failed poll in between.
    source = FakeSource([event(7, "eve@x"), event(8, "eve@x"), event(9, "eve@x")])
    source.failures = [None, ConnectionError("network down")]
    monkeypatch.setattr(select, "open_source", lambda args, settings: source)
    clock = FakeClock(T0)
    pollers: list[Poller] = []

    async def sleep(seconds: float) -> None:
        await clock.sleep(seconds)
        if len(clock.sleeps) >= 5:
            pollers[0]._stopping = True  # as if stopped after five waits

    def make_poller(*args, **kwargs):
        pollers.append(Poller(*args, clock=clock, sleep=sleep, **kwargs))
        return pollers[0]

    monkeypatch.setattr(watch, "Poller", make_poller)
    code, out, err = invoke(
        capsys,
        "--interval",
        "5m",
        "--format",
        "json",
        "--state-dir",
        str(tmp_path / "s"),
        "--site",
        "datadoghq.eu",
    )
    assert code == EXIT_OK, err
    [line] = out.splitlines()  # NDJSON: one alert per line, printed by the poll that saw it
    alert = json.loads(line)
    assert (alert["rule"], alert["actor"], alert["count"]) == ("role_changes", "eve@x", 3)
    assert "watching fake-org every 5m" in err
    assert "poll failed: network down (data stale; retrying in 5m)" in err and "caught up" in err
    assert clock.sleeps == [300, 300, 300, 300, 300]
    starts = [w.start for _, w in source.calls]
    assert starts[2] == T0 - 2 * M  # after the failure it catches up from the last good poll
