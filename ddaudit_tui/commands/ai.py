"""`ddaudit ai`: what the Datadog AI assistant / MCP server did, for whom, to what; and what worries.

    ddaudit ai [SOURCE] [--from 7d] [--to now] [--user EMAIL] [--engine auto|search|ddsql]
               [--format text|md|json|html] [-o FILE]

The recipe is dd-audit-ai-activity (`detections.md` §4.3); `--format json` carries its jq field names,
and its summary keys equal what the recipe's jq computes over the same `@evt.name:"MCP Server"` events.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from ddaudit_tui.cliutil import (
    EXIT_OK,
    MAX_PAGES_DEFAULT,
    UsageError,
    add_engine_arguments,
    add_fail_on,
    add_source_args,
    err,
    max_pages_setting,
    partial_exit,
    progress_printer,
    settings_from,
    write_report,
)

if TYPE_CHECKING:
    from ddaudit_tui.analysis.ai import AiActivity, AiConfig

HELP = "audit AI assistant / MCP activity: tool calls by user, tools, clients, changes, anomaly flags"

FORMATS = ("text", "md", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_args(parser, default_from="7d")
    parser.add_argument(
        "--user",
        metavar="EMAIL",
        help="drill down on one person: their own AI calls and agents acting on their behalf (delegator)",
    )
    parser.add_argument("--format", "-f", default="text", choices=FORMATS)
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE (mode 0600) instead of stdout")
    from ddaudit_tui.commands.case import add_case_argument  # issue 15

    add_case_argument(parser)
    add_fail_on(parser, ("partial",), "exit 7 when the answer is partial (the report is still written)")
    add_engine_arguments(
        parser,
        "how the AI events are read: page the search API (search), let Datadog's SQL engine count the "
        "MCP Server reads and connections and fetch the rest (ddsql), or page unless it would exceed "
        "max_pages and aggregate then (auto, the default); files are always read whole",
    )
    from ddaudit_tui.commands.orgs import add_orgs_argument  # issue 16: every org at once

    add_orgs_argument(parser)
    a = parser.add_argument_group("analysis")
    a.add_argument(
        "--query",
        "-q",
        metavar="QUERY",
        help="base query selecting AI activity (default: is_mcp_call:true OR @evt.actor.mode:* "
        'OR @evt.name:("MCP Server" OR "Bits AI SRE"))',
    )
    a.add_argument(
        "--baseline",
        metavar="DURATION",
        default="30d",
        help="history before the window for first-time users and scope (default 30d; 0 to skip)",
    )
    a.add_argument(
        "--burst-calls",
        type=int,
        default=100,
        metavar="N",
        help="flag a person making at least N AI calls within --burst-window (default 100)",
    )
    a.add_argument("--burst-window", default="5m", metavar="DURATION", help="burst window (default 5m)")


def _config(args: argparse.Namespace) -> AiConfig:
    # Imported here, not at the top: building the parser must stay light (cli.py imports every command).
    from ddaudit_tui.analysis.ai import AiConfig
    from ddaudit_tui.timeutil import parse_duration

    baseline = str(args.baseline).strip()
    baseline_days = 0 if baseline in ("0", "0d", "none", "off") else parse_duration(baseline) // 86_400
    if baseline not in ("0", "0d", "none", "off") and baseline_days < 1:
        raise UsageError(f"--baseline {args.baseline!r}: expected whole days, e.g. 30d (or 0 to skip)")
    if args.burst_calls < 1:
        raise UsageError("--burst-calls must be at least 1")
    window_s = parse_duration(args.burst_window)
    if window_s < 1:
        raise UsageError("--burst-window must be at least 1s")
    return AiConfig(
        baseline_days=baseline_days, burst_calls=args.burst_calls, burst_window_ms=window_s * 1000
    )


def run(args: argparse.Namespace) -> int:
    from ddaudit_tui.analysis.ai_investigation import investigate_ai
    from ddaudit_tui.events.query import parse_query
    from ddaudit_tui.report import ai_report  # noqa: F401  (registers the "ai" renderers)
    from ddaudit_tui.source_select import open_source, resolve_source_window

    if args.query:
        parse_query(args.query)  # fail fast on a malformed query, before any I/O
    if args.user is not None and not args.user.strip():
        raise UsageError("--user needs an email (or user id)")
    config = _config(args)
    from ddaudit_tui.commands.case import check_case_args

    check_case_args(args)
    from ddaudit_tui.commands import orgs  # issue 16: `--profile a,b` / `--all-profiles`

    if (profiles := orgs.requested_profiles(args)) is not None:
        return orgs.run_ai(args, profiles, config)
    settings = settings_from(args)
    max_pages = max_pages_setting(args, settings) or MAX_PAGES_DEFAULT

    async def go() -> AiActivity:
        source = open_source(args, settings)
        try:
            window = resolve_source_window(args, source)
            return await investigate_ai(
                source,
                window,
                query=args.query,
                config=config,
                user=args.user,
                progress=progress_printer(),
                baseline=config.baseline_days > 0,
                engine=getattr(args, "engine", None) or "auto",
                max_pages=max_pages,
            )
        finally:
            await source.aclose()

    result = asyncio.run(go())
    if args.user and not result.calls:
        err(f"no AI activity for {args.user} in {result.window.describe()}")
    path = write_report("ai", args.format, result, args.output)
    if path is not None:
        err(f"wrote the AI activity report to {path}")
    if getattr(args, "case", None):  # issue 15: the report and its flags land in the case
        from ddaudit_tui.commands.case import journal_ai

        journal_ai(args, settings, result)
    return partial_exit(getattr(args, "fail_on", None), result.completeness or result) or EXIT_OK
