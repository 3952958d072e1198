"""`ddaudit ai`: the plugged command, over files (the reference samples, a synthetic week, the demo org)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ddaudit_tui import cli
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_INPUT, EXIT_OK, EXIT_USAGE
from ddaudit_tui.commands import ai as ai_command
from ddaudit_tui.timeutil import iso

REF = Path(__file__).parent.parent / "fixtures" / "reference"
JQ = shutil.which("jq") or "/usr/bin/jq"
needs_jq = pytest.mark.skipif(not Path(JQ).exists(), reason="jq not installed")

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
END = 1_785_500_000_000 - 1_785_500_000_000 % H

RECIPE_JQ = """{
      total_tool_calls: (.data | length),
      unique_users: ([.data[] | .attributes.attributes.usr.email] | unique | length),
      top_users: (
        [.data[] | .attributes.attributes.usr.email]
        | group_by(.)
        | map({user: .[0], calls: length})
        | sort_by(-.calls)
        | .[:5]
      ),
      actions_breakdown: (
        [.data[] | .attributes.attributes.action]
        | group_by(.)
        | map({action: .[0], count: length})
        | sort_by(-.count)
      ),
      resource_types: (
        [.data[] | .attributes.attributes.asset.type]
        | group_by(.)
        | map({type: .[0], count: length})
        | sort_by(-.count)
      )
    }"""
RECIPE_KEYS = ("total_tool_calls", "unique_users", "top_users", "actions_breakdown", "resource_types")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ddaudit ai", description=ai_command.HELP)
    ai_command.add_arguments(p)
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Parse and run as `cli.main` does for a plugged command, mapping failures to exit codes."""
    args = parser().parse_args(list(argv))
    try:
        code = ai_command.run(args)
    except Exception as exc:
        code, message = cli.classify_error(exc)
        if code is None:
            raise
        cli.err(message)
    out, err = capsys.readouterr()
    return code, out, err


_n = iter(range(10**9))


def tool(
    ts: int, email: str, name: str, args: dict[str, Any] | None = None, actor: str = "USER"
) -> dict[str, Any]:
    return {
        "id": f"c-{next(_n):06d}",
        "type": "audit",
        "attributes": {
            "attributes": {
                "evt": {"actor": {"type": actor}, "name": "MCP Server"},
                "metadata": {
                    "oauth_client": {"name": "Cursor"},
                    "tool": {"name": name, "arguments": args or {}},
                },
                "usr": {"id": email, "email": email},
                "action": "executed",
                "asset": {"type": "mcp"},
                "org": {"name": "Example Corp"},
            },
            "message": f"{email} successfully called tool '{name}'",
            "tags": ["source:audit", "is_mcp_call:true"],
            "timestamp": iso(ts),
        },
    }


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """A synthetic org: regular AI use over 5 weeks, and in the last one a deletion and a support session."""
    items = []
    for day in range(35, 0, -2):
        items.append(tool(END - day * D, "alice@example.com", "search_datadog_logs"))
    items.append(tool(END - 2 * D, "alice@example.com", "delete_monitor", {"monitor_id": 7}))
    items.append(tool(END - D, "support@datadoghq.com", "get_datadog_metric", actor="SUPPORT_USER"))
    path = tmp_path / "week.json"
    path.write_bytes(msgspec.json.encode({"data": items}))
    return path


def window_args() -> list[str]:
    return ["--from", iso(END - 7 * D), "--to", iso(END)]


def test_parser_contract():
    p = parser()
    args = p.parse_args([])
    assert args.default_from == "7d" and args.format == "text" and args.output is None and args.user is None
    assert args.baseline == "30d" and args.burst_calls == 100 and args.burst_window == "5m"
    with pytest.raises(SystemExit):
        p.parse_args(["--format", "csv"])
    assert isinstance(ai_command.HELP, str) and ai_command.HELP


def test_text_report_over_a_file(capsys, week):
    code, out, err = run(capsys, "--input", str(week), *window_args())
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].startswith("AI Activity Audit — Example Corp — ")
    assert "Total MCP tool calls: 6" in lines  # days 7 (the window's start), 5, 3, 1, the deletion, support
    assert "Unique users: 2" in lines
    anomalies = out.split("Anomalies:\n", 1)[1]
    assert "ai_destructive" in anomalies and "ai_support_user" in anomalies
    assert err == ""


def test_json_over_a_file_and_flags(capsys, week):
    code, out, _ = run(capsys, "--input", str(week), *window_args(), "--format", "json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert list(data)[:5] == list(RECIPE_KEYS)
    assert {f["signal"] for f in data["flags"]} == {"ai_destructive", "ai_support_user", "ai_first_time_user"}
    assert data["modified_resources"][0]["resource_id"] == "7"
    assert data["window"] == {"from": iso(END - 7 * D), "to": iso(END)}


def test_output_file_is_private(capsys, week, tmp_path):
    target = tmp_path / "ai.md"
    code, out, err = run(capsys, "--input", str(week), *window_args(), "--format", "md", "-o", str(target))
    assert code == EXIT_OK and out == ""
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_text().startswith("# AI Activity Audit — ")
    assert "wrote the AI activity report" in err


def test_user_drill_down(capsys, week):
    code, out, _ = run(
        capsys, "--input", str(week), *window_args(), "--user", "alice@example.com", "-f", "json"
    )
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["user"] == "alice@example.com" and data["unique_users"] == 1
    assert "delete_monitor" in [c["tool"] for c in data["user_detail"]["calls"]]
    assert {f["signal"] for f in data["flags"]} == {"ai_destructive"}


def test_unknown_user_says_so_on_stderr(capsys, week):
    code, out, err = run(capsys, "--input", str(week), *window_args(), "--user", "nobody@example.com")
    assert code == EXIT_OK
    assert "no AI activity for nobody@example.com" in err
    assert "Total MCP tool calls: 0" in out


def test_html_format(capsys, week):
    code, out, _ = run(capsys, "--input", str(week), *window_args(), "-f", "html")
    assert code == EXIT_OK and out.startswith("<!DOCTYPE html>") and "<script" not in out


def test_reference_samples_default_window(capsys):
    # With --input and no --from/--to, the window is the input's span (the real MCP / Bits AI SRE shapes).
    code, out, err = run(capsys, "--input", str(REF / "elastic_archive.ndjson"), "-f", "json")
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert data["total_tool_calls"] == 2 and data["counts"]["tool_calls"] == 1
    assert data["counts"]["bits_events"] == 3
    assert data["flags"] == []
    assert any("baseline" in n for n in data["notes"])


def test_custom_query_and_baseline_off(capsys, week):
    code, out, _ = run(
        capsys,
        "--input",
        str(week),
        *window_args(),
        "-q",
        "@evt.actor.type:SUPPORT_USER",
        "--baseline",
        "0",
        "-f",
        "json",
    )
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["query"] == "@evt.actor.type:SUPPORT_USER" and data["baseline"] is None
    assert [u["user"] for u in data["users"]] == ["support@datadoghq.com"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--burst-calls", "0"], "--burst-calls"),
        (["--baseline", "5m"], "--baseline"),
        (["--burst-window", "soon"], "soon"),
        (["-q", '@evt.name:"MCP'], "query error"),
        (["--from", "yesterday"], "'yesterday'"),
        (["--user", " "], "--user"),
        (["--demo"], "--demo and --input"),
    ],
)
def test_usage_errors(capsys, week, argv, needle):
    code, out, err = run(capsys, "--input", str(week), *argv)
    assert code == EXIT_USAGE and needle in err and out == ""


def test_not_audit_data_is_an_input_error(capsys, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    code, _, err = run(capsys, "--input", str(bad))
    assert code == EXIT_INPUT and "x.csv" in err


def test_no_credentials_is_auth_error(capsys, monkeypatch, tmp_path):
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    code, _, err = run(capsys)
    assert code == EXIT_AUTH and "DD_API_KEY" in err


@pytest.mark.skipif("ai" not in cli.PLUGGED_COMMANDS, reason="`ai` not yet listed in cli.PLUGGED_COMMANDS")
def test_through_main(capsys, week):
    code = cli.main(["ai", "--input", str(week), *window_args(), "-f", "json"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert json.loads(out)["total_tool_calls"] == 6


# -- the demo org: every planted AI signal, and the recipe's jq over the same events ----------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        from ddaudit_tui.demo.org import write_demo_data
    except ImportError:
        pytest.skip("the demo org is not available")
    path = tmp_path_factory.mktemp("demo") / "demo.json"
    write_demo_data(path, seed=7, end_ms=END)
    return path


@needs_jq
def test_demo_json_equals_the_recipe_jq(capsys, demo_file):
    code, out, err = run(capsys, "--input", str(demo_file), *window_args(), "--format", "json")
    assert code == EXIT_OK, err
    data = json.loads(out)
    select = (
        '{data: [.data[] | select(.attributes.attributes.evt.name == "MCP Server" '
        "and .attributes.timestamp >= $f and .attributes.timestamp < $t)]} | " + RECIPE_JQ
    )
    proc = subprocess.run(
        [JQ, "--arg", "f", iso(END - 7 * D), "--arg", "t", iso(END), select, str(demo_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {k: data[k] for k in RECIPE_KEYS} == json.loads(proc.stdout)


def test_demo_flags_every_planted_signal(capsys, demo_file):
    from ddaudit_tui.demo.org import PLANTED as P

    code, out, _ = run(capsys, "--input", str(demo_file), *window_args(), "--format", "json")
    assert code == EXIT_OK
    flags = json.loads(out)["flags"]

    def users(signal: str) -> set[str]:
        return {f["details"].get("user") for f in flags if f["signal"] == signal}

    assert P.ai_destructive_user in users("ai_destructive")
    assert P.ai_support_user in users("ai_support_user")
    assert P.ai_first_time_user in users("ai_first_time_user")
    assert P.ai_burst_user in users("ai_burst")
    assert P.ai_out_of_scope_user in users("ai_out_of_scope")
    assert P.ai_quiet_user not in {f["details"].get("user") for f in flags}
    md_code, md, _ = run(capsys, "--input", str(demo_file), *window_args(), "--format", "md")
    assert md_code == EXIT_OK
    assert [line for line in md.splitlines() if line.startswith("## ")][:4] == [
        "## Top users",
        "## Actions breakdown",
        "## Resource types affected",
        "## Anomalies",
    ]


@needs_jq
def test_demo_source_json_equals_jq_and_flags_every_planted_signal():
    """What `ddaudit ai --demo --format json` does — the real client against the fake API serving the demo
    org — with jq run over the MCP Server events that the same source returns for the same window."""
    import asyncio

    try:
        from ddaudit_tui.demo.org import PLANTED as P
        from ddaudit_tui.demo.source import open_demo
    except ImportError:
        pytest.skip("the demo source is not available")
    from ddaudit_tui.analysis.ai import SUMMARY_QUERY
    from ddaudit_tui.analysis.ai_investigation import investigate_ai
    from ddaudit_tui.report import ai_report  # noqa: F401
    from ddaudit_tui.report.registry import render
    from ddaudit_tui.timeutil import resolve_window

    async def go() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        source = open_demo(seed=7)
        try:
            window = resolve_window("7d", "now")
            result = await investigate_ai(source, window)
            mcp = await source.fetch(SUMMARY_QUERY, window)
            return json.loads(render("ai", "json", result)), [e.api_item() for e in mcp.events]
        finally:
            await source.aclose()

    data, mcp_items = asyncio.run(go())
    proc = subprocess.run(
        [JQ, RECIPE_JQ], input=json.dumps({"data": mcp_items}), capture_output=True, text=True, check=True
    )
    assert {k: data[k] for k in RECIPE_KEYS} == json.loads(proc.stdout)
    users = {(f["signal"], f["details"].get("user")) for f in data["flags"]}
    assert ("ai_destructive", P.ai_destructive_user) in users
    assert ("ai_support_user", P.ai_support_user) in users
    assert ("ai_first_time_user", P.ai_first_time_user) in users
    assert ("ai_burst", P.ai_burst_user) in users
    assert ("ai_out_of_scope", P.ai_out_of_scope_user) in users
    assert P.ai_quiet_user not in {u for _s, u in users}
