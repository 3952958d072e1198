"""`ddaudit ai --engine` (issue 16): the flag reaches the investigation, the report's completeness record says
which engine answered, and the demo's summary and flags are those of paging."""

from __future__ import annotations

import json
from pathlib import Path

from ddaudit_tui import cli


def report(tmp_path: Path, *argv: str) -> dict:
    out = tmp_path / f"ai-{len(list(tmp_path.iterdir()))}.json"
    assert cli.main(["ai", "--demo", "-f", "json", "-o", str(out), *argv]) == cli.EXIT_OK
    return json.loads(out.read_text())


def test_engine_ddsql_on_the_demo_says_so_and_equals_paging(tmp_path: Path) -> None:
    aggregated = report(tmp_path, "--engine", "ddsql")
    searched = report(tmp_path, "--engine", "search")
    assert aggregated["completeness"]["engine"] == "search+ddsql"
    assert searched["completeness"]["engine"] == "search"
    assert aggregated["completeness"]["events_matched"] == searched["counts"]["ai_events"]
    assert aggregated["completeness"]["events_fetched"] < searched["completeness"]["events_fetched"]
    for key in ("total_tool_calls", "unique_users", "top_users", "actions_breakdown", "resource_types"):
        assert aggregated[key] == searched[key]
    assert aggregated["counts"] == searched["counts"]
    assert [(f["signal"], f["subject"]) for f in aggregated["flags"]] == [
        (f["signal"], f["subject"]) for f in searched["flags"]
    ]


def test_auto_is_the_default_and_max_pages_is_checked(tmp_path: Path, capsys) -> None:
    args = cli.build_parser("ai").parse_args(["ai", "--demo"])
    assert args.engine == "auto" and args.max_pages is None
    assert cli.main(["ai", "--demo", "--max-pages", "0"]) == cli.EXIT_USAGE
    assert "--max-pages 0" in capsys.readouterr().err
    # The demo's AI events fit one page: auto pages (after one count).
    assert report(tmp_path)["completeness"]["engine"] == "search"
