"""`ddaudit key`: was API key K compromised? What did it do, from where, what did it destroy, who made it.

    ddaudit key KEY_ID [SOURCE] [--from 90d] [--to now] [--format text|md|json|html] [-o FILE]
                [--fail-on compromised|suspicious|partial[,…]]

The recipe is dd-audit-key-compromise (`detections.md` §3); `--format md`/`text` follow its output
format, `--format json` carries its jq field names. With `--input`, only the items mentioning the key are
decoded (a 200 MB export costs one scan) and the whole input, outside the key, is the org's country
baseline.

Exit codes: 0 — the report was written, whatever the verdict (a data command; scripts read `verdict` in
the JSON); 5 — with `--fail-on compromised` the verdict is "likely compromised", with `--fail-on
suspicious` it is "suspicious" or worse (the report is still written first); 7 — with `--fail-on partial`
the answer is partial (a finding's 5 comes first); 2 usage (bad key id, flags,
times, config); 3 authentication/permission; 4 unreadable input; 1 other errors.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ddaudit_tui.cliutil import (
    EXIT_FINDINGS,
    EXIT_OK,
    MAX_PAGES_DEFAULT,
    UsageError,
    add_engine_arguments,
    add_fail_on,
    add_source_args,
    err,
    fail_on_set,
    max_pages_setting,
    partial_exit,
    progress_printer,
    run_with_progress,
    settings_from,
    write_report,
)

if TYPE_CHECKING:
    from ddaudit_tui.analysis.key_investigation import InvestigationOptions
    from ddaudit_tui.analysis.keys import KeyAnalysisConfig

HELP = "investigate an API key: timeline, origins, endpoints, deletions, creator, anomaly flags, verdict"

FORMATS = ("text", "md", "json", "html")

FAIL_ON = ("compromised", "suspicious", "partial")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "key_id", metavar="KEY_ID", help="the API key's id (a UUID, @metadata.api_key.id), never the key"
    )
    add_source_args(parser, default_from="90d")
    parser.add_argument("--format", "-f", default="text", choices=FORMATS)
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE (mode 0600) instead of stdout")
    add_fail_on(
        parser,
        FAIL_ON,
        "exit 5 when the verdict is 'likely compromised' (compromised) or at least 'suspicious' (suspicious); "
        "exit 7 when the answer is partial (partial); several with commas, e.g. suspicious,partial",
    )
    add_engine_arguments(
        parser,
        "how the key's events are read: page the search API (search), let Datadog's SQL engine "
        "aggregate (ddsql), or page unless it would exceed max_pages and aggregate then (auto, the default)",
        "pages of the search API --engine auto reads before aggregating, and a refused DDSQL falls "
        "back to (config max_pages, default 50)",
    )
    from ddaudit_tui.commands.case import add_case_argument  # issue 15

    add_case_argument(parser)
    from ddaudit_tui.commands.orgs import add_orgs_argument  # issue 16: every org at once

    add_orgs_argument(parser)
    b = parser.add_argument_group("baselines (default: config file, else learned from the data)")
    b.add_argument(
        "--business-hours",
        metavar="HH:MM-HH:MM",
        help="the org's business hours, e.g. 09:00-18:00 (config business_hours); default: learned per key",
    )
    b.add_argument(
        "--business-days", metavar="DAYS", help="business days, e.g. mon-fri (config business_days)"
    )
    b.add_argument(
        "--business-timezone",
        metavar="ZONE",
        help="IANA zone of the business hours, e.g. America/New_York (config business_timezone); "
        "default: the key's own home zone from GeoIP",
    )
    b.add_argument(
        "--country-allowlist",
        metavar="CC,CC",
        help="ISO country codes always considered normal, e.g. US,CA,GB (config country_allowlist)",
    )
    b.add_argument(
        "--no-org-baseline",
        action="store_true",
        help="do not ask the source which countries the org is reached from (allowlist only)",
    )


def _setting(args: argparse.Namespace, settings: Any, name: str) -> Any:
    """A flag, else the config field of the same name (read defensively until Settings has it)."""
    value = getattr(args, name, None)
    return value if value not in (None, "") else getattr(settings, name, None)


def build_config(args: argparse.Namespace, settings: Any) -> tuple[KeyAnalysisConfig, InvestigationOptions]:
    """Analysis parameters and investigation options from flags and settings; UsageError when invalid."""
    from ddaudit_tui.analysis.baseline import WEEKDAYS, BusinessHours, parse_days, parse_hours, zone
    from ddaudit_tui.analysis.key_investigation import InvestigationOptions
    from ddaudit_tui.analysis.keys import KeyAnalysisConfig

    hours = _setting(args, settings, "business_hours")
    days = _setting(args, settings, "business_days")
    tz = _setting(args, settings, "business_timezone")
    bh = None
    try:
        if tz and zone(str(tz)) is None:
            raise ValueError(f"unknown time zone {tz!r}: expected an IANA name such as America/New_York")
        if hours:
            start, end = parse_hours(str(hours))
            bh = BusinessHours(start, end, parse_days(days) if days else WEEKDAYS, str(tz) if tz else None)
        elif days or tz:
            raise ValueError(
                "--business-days/--business-timezone need --business-hours (or business_hours in the config)"
            )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    allow_raw = _setting(args, settings, "country_allowlist")
    if isinstance(allow_raw, str):
        allow_items = [c for c in allow_raw.replace(" ", ",").split(",") if c]
    else:
        allow_items = [str(c) for c in (allow_raw or [])]
    for c in allow_items:
        if len(c.strip()) != 2 or not c.strip().isalpha():
            raise UsageError(
                f"invalid country code {c!r} in the country allowlist: expected ISO codes such as US,CA"
            )
    learn = not getattr(args, "no_org_baseline", False)
    if not learn and not allow_items:
        raise UsageError("--no-org-baseline needs --country-allowlist (or country_allowlist in the config)")
    max_pages = max_pages_setting(args, settings) or MAX_PAGES_DEFAULT
    try:
        options = InvestigationOptions(
            country_allowlist=frozenset(c.strip().upper() for c in allow_items),
            learn_org_countries=learn,
            engine=getattr(args, "engine", None) or "auto",
            max_pages=max_pages,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return KeyAnalysisConfig(business_hours=bh), options


def run(args: argparse.Namespace) -> int:
    from ddaudit_tui.analysis.key_investigation import investigate_key, load_files_for_key, validate_key_id
    from ddaudit_tui.commands.case import check_case_args, journal_key
    from ddaudit_tui.report import key_report  # noqa: F401  (registers the "key" renderers)
    from ddaudit_tui.source_select import open_source, resolve_source_window

    try:
        key_id = validate_key_id(args.key_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_case_args(args)
    if getattr(args, "demo", False) and getattr(args, "input", None):
        raise UsageError("--demo and --input are two different sources: choose one")
    from ddaudit_tui.commands import orgs  # issue 16: `--profile a,b` / `--all-profiles`

    if (profiles := orgs.requested_profiles(args)) is not None:
        return orgs.run_key(args, profiles, key_id, build_config, exit_code)
    settings = settings_from(args)
    config, options = build_config(args, settings)

    progress = progress_printer()

    async def go() -> Any:
        if getattr(args, "input", None):
            source: Any = load_files_for_key(args.input, key_id)  # decodes only what mentions the key
        else:
            source = open_source(args, settings)
        try:
            window = resolve_source_window(args, source)
            return await investigate_key(
                source, key_id, window, config=config, options=options, progress=progress
            )
        finally:
            await source.aclose()

    report = run_with_progress(go(), progress)
    path = write_report("key", args.format, report, args.output)
    if path is not None:
        err(f"wrote the {args.format} report of key {key_id} to {path}")
    if getattr(args, "case", None):  # issue 15: the lookup lands in the case
        journal_key(args, settings, report)
    fail_on = getattr(args, "fail_on", None)
    code = exit_code(report.verdict, fail_on)
    if code == EXIT_OK:
        code = partial_exit(fail_on, report.completeness) or EXIT_OK
    return code


def exit_code(verdict: str, fail_on: str | None) -> int:
    """EXIT_OK, or EXIT_FINDINGS when `--fail-on` is met by the verdict (a finding outranks `partial`)."""
    from ddaudit_tui.analysis.keys import VERDICT_COMPROMISED, VERDICT_SUSPICIOUS

    wanted = fail_on_set(fail_on)
    if "compromised" in wanted and verdict == VERDICT_COMPROMISED:
        return EXIT_FINDINGS
    if "suspicious" in wanted and verdict in (VERDICT_COMPROMISED, VERDICT_SUSPICIOUS):
        return EXIT_FINDINGS
    return EXIT_OK
