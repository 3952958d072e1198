"""`ddaudit case`: the investigation as one case — list, show, export; and `--case NAME` on the work commands.

    ddaudit case list
    ddaudit case show NAME [--format text|md|json]
    ddaudit case export NAME [-o DIR]          # prints the folder's absolute path on stdout

`ddaudit key K --case NAME`, `search … --case NAME [--mark-all]`, `ai --case NAME`, `watch --once --case
NAME` and `report compliance --case NAME` journal what they did into the case (made on first use): the
query, window, counts and completeness; a key lookup's verdict, flag counts and report section; the
events behind every finding. Cases live under `DDAUDIT_CASES_DIR`, else the platform data directory
(`ddaudit/cases/NAME/`); see docs/cases.md.

Exit codes: 0 ok (unreadable case lines are warned about on stderr, one line each, and skipped); 2 usage
(a bad or unknown case name); 4 a case header that cannot be read; 1 other errors (I/O).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ddaudit_tui.cliutil import EXIT_OK, UsageError, err, settings_from

if TYPE_CHECKING:
    from ddaudit_tui.case.store import CaseStore

HELP = "the investigation as one case: list, show and export cases made with --case NAME"
FORMATS = ("text", "md", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="case_action", metavar="ACTION")
    actions.add_parser("list", help="the cases, newest activity first")
    show = actions.add_parser("show", help="a case's journal, marks and notes")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--format", "-f", default="text", choices=FORMATS)
    export = actions.add_parser(
        "export", help="write the case's folder: report.md/html, case.json, evidence.ndjson.gz, SHA256SUMS"
    )
    export.add_argument("name", metavar="NAME")
    export.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="where the folder goes (default: export_dir, else the current directory)",
    )
    export.add_argument("--profile", help="named profile from the config file (for its export_dir)")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "case_action", None)
    if action is None:
        raise UsageError("case needs an action: ddaudit case list|show NAME|export NAME (see --help)")
    if action == "list":
        return _list()
    if action == "show":
        return _show(args)
    return _export(args)


def _warn(problems: list[str]) -> None:
    for p in problems:
        err(f"warning: {p}")


def _list() -> int:
    from ddaudit_tui.case.store import cases_dir, list_cases
    from ddaudit_tui.safetext import clean
    from ddaudit_tui.timeutil import fmt_ts

    cases, problems = list_cases()
    _warn(problems)
    if not cases:
        err(f"no cases in {cases_dir()} (start one with --case NAME on key, search, ai, watch --once)")
        return EXIT_OK
    cases.sort(key=lambda c: c.updated, reverse=True)
    width = max(len(c.name) for c in cases)
    print(f"{'NAME':<{width}}  {'ANALYST':<12}  {'OPENED':<20}  {'LAST ACTION':<20}  ACTIONS  MARKS")
    for c in cases:
        print(
            f"{c.name:<{width}}  {clean(c.analyst, max_len=12):<12}  {fmt_ts(c.created):<20}  {fmt_ts(c.updated):<20}  "
            f"{c.entries:>7}  {c.marks:>5}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    import msgspec

    from ddaudit_tui.case.export import render_md_for, timeline
    from ddaudit_tui.case.store import CaseStore
    from ddaudit_tui.safetext import clean
    from ddaudit_tui.timeutil import fmt_ts

    store = CaseStore.open(args.name)
    case = store.load()
    _warn(case.problems)
    if args.format == "json":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(case.to_json()), indent=2).decode() + "\n")
        return EXIT_OK
    if args.format == "md":
        sys.stdout.write(render_md_for(store, case))
        return EXIT_OK
    out = [f"case {case.name} — analyst {clean(case.analyst)}, opened {fmt_ts(case.created)}"]
    out += [f"  source: {clean(s.describe())}" for s in case.sources()]
    note = case.case_note()
    if note is not None:
        out.append(f"  note: {clean(note.text)}")
    out.append("")
    out.append(f"journal ({len(case.entries)} actions):")
    out += [
        f"  {seq:>7}  {fmt_ts(ts)}  {what:<11}  {clean(text, max_len=160)}"
        for seq, ts, what, text in timeline(case.entries)
    ]
    out.append("")
    out.append(f"marks ({len(case.marks)}):")
    for m in case.marks.values():
        out.append(f"  {m.id:<5} {m.kind:<10} {clean(m.label, max_len=140)}  [{len(m.event_ids)} events]")
        n = case.notes.get(m.id)
        if n is not None:
            out.append(f"        note: {clean(n.text, max_len=200)}")
    findings = case.findings()
    out.append("")
    out.append(f"findings ({len(findings)}), evidence events: {len(case.evidence_ids())}")
    print("\n".join(out))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from ddaudit_tui.case.export import export_case
    from ddaudit_tui.case.store import CaseStore

    store = CaseStore.open(args.name)
    out_dir = args.output or settings_from(args).export_dir
    res = export_case(store, out_dir)
    _warn(res.problems)
    if res.missing:
        err(f"warning: {len(res.missing)} cited event(s) are not stored in the case and not in the evidence")
    err(f"exported case {store.name} ({res.evidence} evidence events) to {res.path}")
    print(res.path)
    return EXIT_OK


# -- `--case NAME` on the work commands ------------------------------------------------------------------


def add_case_argument(parser: argparse.ArgumentParser, *, mark_all: bool = False) -> None:
    g = parser.add_argument_group("case (see 'ddaudit case --help')")
    g.add_argument("--case", metavar="NAME", help="journal this work into case NAME (made on first use)")
    if mark_all:
        g.add_argument("--mark-all", action="store_true", help="with --case: mark every result as evidence")


def check_case_args(args: argparse.Namespace) -> None:
    """Before any I/O: a bad case name or `--mark-all` without `--case` is a usage error (exit 2)."""
    from ddaudit_tui.case.store import CaseNameError, validate_name

    name = getattr(args, "case", None)
    if getattr(args, "mark_all", False) and not name:
        raise UsageError("--mark-all marks the results in a case: add --case NAME")
    if name is not None:
        try:
            validate_name(name)
        except CaseNameError as exc:
            raise UsageError(f"--case: {exc}") from None


def case_store(args: argparse.Namespace, settings: Any) -> CaseStore:
    from ddaudit_tui.case.store import CaseStore, default_analyst

    store = CaseStore.open_or_create(args.case, default_analyst(getattr(settings, "analyst", None)))
    _warn(store.load().problems)
    return store


def _done(store: CaseStore, what: str) -> None:
    err(f"case {store.name}: journaled {what} ({store.path})")


def journal_key(args: argparse.Namespace, settings: Any, report: Any) -> None:
    from ddaudit_tui.case.record import command_line, record_key, source_info

    store = case_store(args, settings)
    cmd = command_line(
        "key", args, report.window, positional=[report.key_id],
        options=["business_hours", "business_days", "business_timezone", "country_allowlist", "no_org_baseline"],
    )  # fmt: skip
    record_key(store, report, source=source_info(args, settings, report.events), command=cmd, pane="cli")
    _done(store, f"the lookup of key {report.key_id}")


def journal_search(
    args: argparse.Namespace, settings: Any, result: Any, query: str, columns: list[str]
) -> None:
    from ddaudit_tui.case.record import command_line, record_query, source_info

    store = case_store(args, settings)
    cmd = command_line(
        "search", args, result.window, positional=[args.query] if args.query else [],
        options=["preset", "user", "ip", "resource", "columns"],
    )  # fmt: skip
    record_query(
        store, result, query=query, source=source_info(args, settings, result.events), command=cmd, pane="cli",
        mark_all=bool(getattr(args, "mark_all", False)), columns=columns,
    )  # fmt: skip
    marked = f", {len(result.events)} marked" if getattr(args, "mark_all", False) else ""
    _done(store, f"the search ({len(result.events)} events{marked})")


def journal_ai(args: argparse.Namespace, settings: Any, activity: Any) -> None:
    from ddaudit_tui.case.record import command_line, record_ai, source_info

    store = case_store(args, settings)
    cmd = command_line(
        "ai", args, activity.window, options=["user", "query", "baseline", "burst_calls", "burst_window"]
    )
    events = [c.event for c in activity.calls]
    record_ai(
        store, activity, source=source_info(args, settings, events), command=cmd, pane="cli",
        user=args.user, query=args.query,
    )  # fmt: skip
    _done(store, "the AI activity report")


def journal_compliance(args: argparse.Namespace, settings: Any, report: Any) -> None:
    from ddaudit_tui.case.record import command_line, record_compliance, source_info

    store = case_store(args, settings)
    cmd = command_line("report compliance", args, report.window, options=["framework"])
    record_compliance(store, report, source=source_info(args, settings), command=cmd)
    _done(store, f"the {report.framework_name} evidence report")


def journal_watch(
    args: argparse.Namespace, settings: Any, alerts: list[Any], events: list[Any], window: Any, complete: bool
) -> None:
    from ddaudit_tui.case.record import command_line, record_watch, source_info

    store = case_store(args, settings)
    cmd = command_line("watch --once", args, None, options=["rules", "window"])
    record_watch(
        store, alerts, events, source=source_info(args, settings, events), window=window, complete=complete,
        command=cmd, pane="cli",
    )  # fmt: skip
    _done(store, f"the spike watch poll ({len(alerts)} alerts)")
