"""`ddaudit search`: audit events as a table, CSV, JSON or NDJSON — by query, or by investigation preset.

    ddaudit search QUERY [SOURCE] [--from] [--to] [--columns …] [--format table|csv|json|ndjson] [-o FILE]
    ddaudit search --preset NAME [--user EMAIL | --ip IP | --resource ID] [QUERY] …
    ddaudit search … --copy-as pup|url|ddsql      # print the equivalent pup command / explorer URL / DDSQL
    ddaudit search --list-presets

A preset is one of the dd-audit-security-investigation questions (`analysis/presets.py`); it brings its
query, its window (unless --from is given) and its columns (unless --columns is given). A QUERY given
with a preset narrows it. The query actually run is printed on stderr, so it can be edited and re-run.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ddaudit_tui.cliutil import (
    EXIT_OK,
    UsageError,
    add_fail_on,
    add_source_args,
    completeness_to_stderr,
    err,
    open_output,
    partial_exit,
    progress_printer,
    settings_from,
)

HELP = "search audit events (free query or investigation preset); table, CSV, JSON, NDJSON, or copy-as"

FORMATS = ("table", "csv", "json", "ndjson")
COPY_FORMATS = ("pup", "url", "ddsql")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query",
        nargs="?",
        help="audit search query, e.g. '@evt.name:Authentication @action:login' (with --preset: narrows it)",
    )
    add_source_args(parser)
    parser.add_argument("--columns", help="comma-separated field paths, e.g. timestamp,@usr.email,@evt.name")
    parser.add_argument("--format", "-f", default="table", choices=FORMATS)
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE (mode 0600) instead of stdout")
    parser.add_argument("--local-time", action="store_true", default=None, help="table/csv: local timestamps")
    add_fail_on(
        parser, ("partial",), "exit 7 when the answer is partial (the events fetched are still written)"
    )
    p = parser.add_argument_group("presets (the security-investigation recipe's questions)")
    p.add_argument("--preset", metavar="NAME", help="run a named investigation; see --list-presets")
    p.add_argument("--list-presets", action="store_true", help="list the presets with their queries and exit")
    p.add_argument("--user", metavar="EMAIL", help="preset 'user': whose activity (incl. AI on their behalf)")
    p.add_argument("--ip", metavar="IP", help="preset 'ip': the client IP")
    p.add_argument("--resource", metavar="ID", help="preset 'resource': the resource (asset) id")
    from ddaudit_tui.commands.case import add_case_argument  # issue 15

    add_case_argument(parser, mark_all=True)
    from ddaudit_tui.commands.orgs import add_orgs_argument  # issue 16: every org at once

    add_orgs_argument(parser)
    parser.add_argument(
        "--copy-as",
        choices=COPY_FORMATS,
        help="print the equivalent pup command, Audit Trail explorer URL, or DDSQL query instead of searching",
    )


def _list_presets() -> int:
    from ddaudit_tui.analysis.presets import PARAMS, PRESETS

    for p in PRESETS:
        needs = " ".join(f"--{n} {PARAMS[n].example}" for n in p.params)
        print(
            f"{p.name:<15} {p.title}  [default --from {p.default_from}]{'  needs ' + needs if needs else ''}"
        )
        print(f"{'':<15} {p.template}")
    return EXIT_OK


def _preset_values(args: argparse.Namespace) -> dict[str, str]:
    return {k: v for k in ("user", "ip", "resource") if (v := getattr(args, k, None)) is not None}


def run(args: argparse.Namespace) -> int:
    from ddaudit_tui.analysis.explore import add_term
    from ddaudit_tui.analysis.presets import PresetError, expand_user, get_preset
    from ddaudit_tui.events.query import parse_query
    from ddaudit_tui.report.events_output import parse_columns

    if args.list_presets:
        return _list_presets()
    from ddaudit_tui.commands.case import check_case_args

    check_case_args(args)
    if getattr(args, "case", None) and args.copy_as:
        raise UsageError("--case journals a search that runs; --copy-as runs none")
    preset = None
    values = _preset_values(args)
    if args.preset:
        try:
            preset = get_preset(args.preset)
            unused = sorted(set(values) - set(preset.params))
            if unused:
                raise PresetError(f"preset {preset.name!r} takes no --{unused[0]}")
            query = preset.build(values)
        except PresetError as exc:
            raise UsageError(str(exc)) from None
        if args.query:
            parse_query(args.query)
            query = add_term(query, args.query.strip())
        if not args.frm:
            args.default_from = preset.default_from
    elif args.query is None:
        raise UsageError("a QUERY or --preset NAME is required (see --list-presets)")
    elif values:
        raise UsageError(f"--{next(iter(values))} goes with --preset (see --list-presets)")
    else:
        query = args.query
    parse_query(query)  # fail fast on a malformed query, before any I/O
    try:
        columns = parse_columns(args.columns) if args.columns or preset is None else list(preset.columns)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from ddaudit_tui.commands import orgs  # issue 16: `--profile a,b` / `--all-profiles`

    if (profiles := orgs.requested_profiles(args)) is not None:
        return orgs.run_search(args, profiles, preset, query, columns)
    settings = settings_from(args)

    if args.copy_as and not args.input and not args.demo and (preset is None or preset.name != "user"):
        # Nothing to fetch: a copy string needs no credentials.
        from ddaudit_tui.timeutil import resolve_window

        window = resolve_window(args.frm or args.default_from, args.to or "now")
        return _print_copy(args.copy_as, query, window, settings.site, columns)
    return _search(args, settings, preset, query, columns, expand_user)


def _print_copy(fmt: str, query: str, window: Any, site: str | None, columns: list[str]) -> int:
    from ddaudit_tui.report.copy_as import copy_as

    print(copy_as(fmt, query, window, site, columns))
    return EXIT_OK


def _search(
    args: argparse.Namespace, settings: Any, preset: Any, query: str, columns: list[str], expand: Any
) -> int:
    from ddaudit_tui.analysis.explore import add_term
    from ddaudit_tui.report.events_output import write_events, write_ndjson
    from ddaudit_tui.source_select import open_source, resolve_source_window

    async def go() -> tuple[Any, Any, str]:
        source = open_source(args, settings)
        try:
            window = resolve_source_window(args, source)
            q = query
            if preset is not None and preset.name == "user":
                q = await expand(source, window, args.user)
                if args.query:
                    q = add_term(q, args.query.strip())
            if args.copy_as:
                return None, window, q
            if preset is not None:
                err(f"preset {preset.name}: {q}")
            return await source.fetch(q, window, progress_printer()), window, q
        finally:
            await source.aclose()

    result, window, q = asyncio.run(go())
    if args.copy_as:
        return _print_copy(args.copy_as, q, window, settings.site, columns)
    for warning in result.warnings:
        err(f"warning: {warning}")
    completeness_to_stderr(result.completeness)
    local = bool(settings.local_time)
    if args.format == "ndjson":
        with open_output(args.output, binary=True) as out:
            write_ndjson(result.events, out)
    else:
        with open_output(args.output) as out:
            write_events(result.events, out, args.format, columns, local=local)
    if args.output:
        err(f"wrote {len(result.events)} events to {Path(args.output).expanduser().resolve()}")
    if getattr(
        args, "case", None
    ):  # issue 15: the search (and with --mark-all its results) lands in the case
        from ddaudit_tui.commands.case import journal_search

        journal_search(args, settings, result, q, columns)
    return partial_exit(getattr(args, "fail_on", None), result.completeness) or EXIT_OK
