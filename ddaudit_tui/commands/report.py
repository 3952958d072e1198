"""`ddaudit report KIND`: written reports for others; today `compliance`.

    ddaudit report compliance --framework soc2|pci [SOURCE] [--from 90d] [--to now]
                              [--format text|md|json|html] [-o FILE]

The recipe is dd-audit-compliance-report (`detections.md` §4.2): its SOC 2 (CC6.2, CC6.3, CC6.6, CC7.2) or
PCI DSS (10.2.2–10.2.7, 10.3.x, 10.7) control queries, its retention check and its Evidence Report
template; `--format json` carries its jq field names.

Exit codes: 0 — the report was written (gaps and partial fetches are content, listed under Gaps and warned
on stderr); 2 usage (no or unknown framework, bad times or flags); 3 authentication/permission; 4
unreadable input; 1 other errors.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ddaudit_tui.cliutil import (
    EXIT_OK,
    UsageError,
    add_fail_on,
    add_source_args,
    err,
    partial_exit,
    progress_printer,
    run_with_progress,
    settings_from,
    write_report,
)

if TYPE_CHECKING:
    from ddaudit_tui.analysis.compliance import ComplianceReport

HELP = "write a report for others: compliance evidence (SOC 2, PCI DSS) from the audit trail"
COMPLIANCE_HELP = "SOC 2 / PCI DSS evidence: the recipe's control queries, retention check and gaps"

FORMATS = ("text", "md", "json", "html")
KINDS = ("compliance",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="report_kind", metavar="KIND")
    c = kinds.add_parser("compliance", help=COMPLIANCE_HELP, description=COMPLIANCE_HELP)
    # Checked in `run`, not by argparse choices: a mistake is one line and exit 2, like every other usage error.
    c.add_argument(
        "--framework", metavar="soc2|pci", help="the framework whose controls to evidence (required)"
    )
    add_source_args(c, default_from="90d")
    c.add_argument("--format", "-f", default="text", choices=FORMATS)
    c.add_argument("--output", "-o", metavar="FILE", help="write to FILE (mode 0600) instead of stdout")
    from ddaudit_tui.commands.case import add_case_argument  # issue 15

    add_case_argument(c)
    add_fail_on(c, ("partial",), "exit 7 when the answer is partial (the report is still written)")


def run(args: argparse.Namespace) -> int:
    kind = getattr(args, "report_kind", None)
    if kind is None:
        raise UsageError(f"report needs a kind: ddaudit report {'|'.join(KINDS)} … (see --help)")
    return _run_compliance(args)


def _run_compliance(args: argparse.Namespace) -> int:
    from ddaudit_tui.analysis.compliance import build_compliance, normalise_framework
    from ddaudit_tui.report import compliance_report  # noqa: F401  (registers the "compliance" renderers)
    from ddaudit_tui.source_select import open_source, resolve_source_window

    if not args.framework:
        raise UsageError("report compliance needs --framework soc2 or --framework pci")
    try:
        framework = normalise_framework(args.framework)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from ddaudit_tui.commands.case import check_case_args

    check_case_args(args)
    settings = settings_from(args)
    progress = progress_printer()

    async def go() -> ComplianceReport:
        source = open_source(args, settings)
        try:
            window = resolve_source_window(args, source)
            return await build_compliance(source, framework, window, progress=progress)
        finally:
            await source.aclose()

    report = run_with_progress(go(), progress)
    path = write_report("compliance", args.format, report, args.output)
    if path is not None:
        err(
            f"wrote the {report.framework_name} evidence report ({report.total_events} events, "
            f"{len(report.gaps)} gaps) to {path}"
        )
    if getattr(args, "case", None):  # issue 15: the report lands in the case
        from ddaudit_tui.commands.case import journal_compliance

        journal_compliance(args, settings, report)
    return partial_exit(getattr(args, "fail_on", None), report.completeness or report) or EXIT_OK
