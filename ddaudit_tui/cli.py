"""The `ddaudit` command line: the TUI (default) and headless commands.

Data goes to stdout (or `-o FILE`), messages and progress to stderr. Exit codes (stable, in docs/cli.md):
0 ok, 1 other errors (API failures, I/O), 2 usage (bad flags, query, time or config), 3 authentication or
permission, 4 input that is not audit data or cannot be read, 130 interrupted.
The headless paths never import Textual.

Commands beyond the foundation live in `ddaudit_tui/commands/<name>.py`, each with `HELP`,
`add_arguments(parser)` and `run(args) -> int`; they are listed in `PLUGGED_COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ddaudit_tui import __version__
from ddaudit_tui.cliutil import (
    EXIT_AUTH,
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_engine_arguments,
    add_source_args,
    err,
    max_pages_setting,
    open_output,
    settings_from,
)
from ddaudit_tui.config import ConfigError, config_path

if TYPE_CHECKING:
    from ddaudit_tui.orgs import OrgSource
    from ddaudit_tui.tui.app import DdauditApp  # Textual only on the TUI's path

# command name -> module under ddaudit_tui.commands (imported when the parser is built: keep them light)
PLUGGED_COMMANDS: dict[str, str] = {
    "search": "search",
    "key": "key",
    "revoke": "revoke",
    "watch": "watch",
    "ai": "ai",
    "report": "report",
    "serve": "serve",
    "case": "case",  # issue 15: cases (list/show/export); `--case NAME` lives in each work command
    "detections": "detections",
}
COMMANDS = ("tui", "demo-data", "config", *PLUGGED_COMMANDS)

# The TUI's panes by mode (the names `--pane` takes; kept here so the parser never imports Textual).
TUI_PANES = ("lookup", "watch", "ai", "explore")

__all__ = ["main", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_AUTH", "EXIT_INPUT", "UsageError"]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command` (the one about to run), the other plugged commands are left out: their
    modules are imported to add their options, and the TUI's launch must not wait for them (issue 12)."""
    parser = argparse.ArgumentParser(
        prog="ddaudit",
        description="Investigate the Datadog Audit Trail: key lookup, spike watch, AI activity, explore.",
        epilog="Run 'ddaudit COMMAND --help' for a command's options. Without a command, the TUI starts.",
    )
    parser.add_argument("--version", action="version", version=f"ddaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    tui = sub.add_parser("tui", help="the full-screen terminal UI (the default command)")
    add_source_args(tui)
    tui.add_argument("--query", "-q", default="*", help="initial Explore query (default '*')")
    tui.add_argument("--local-time", action="store_true", default=None, help="show local time instead of UTC")
    tui.add_argument("--export-dir", help="where the export key writes files (default: current directory)")
    tui.add_argument(
        "--pane",
        choices=TUI_PANES,
        help="the pane to open on: lookup (Key lookup), watch (Spike watch), ai (AI activity), explore "
        "(default: Key lookup when the data has API keys, else Explore)",
    )
    tui.add_argument(
        "--key", metavar="KEY_ID", help="open Key lookup on this API key id (@metadata.api_key.id)"
    )
    add_engine_arguments(
        tui,
        "how Key lookup and AI activity read events on the Datadog API, as `ddaudit key/ai --engine`: page the "
        "search (search), let Datadog's SQL engine aggregate (ddsql), or page unless it would exceed "
        "max_pages (auto, the default); files are always read whole",
    )
    tui.add_argument(
        "--case",
        metavar="NAME",
        help="work in case NAME (made on first use; reopening restores its marks, "
        "last query and key lookup). Default: an unnamed case, saved on the first mark or note",
    )
    from ddaudit_tui.orgs import add_orgs_argument  # no command module: the TUI's first paint

    add_orgs_argument(tui)  # every pane asks every org (tui/orgs.py, org_explore/org_ai/org_watch.py)

    demo = sub.add_parser(
        "demo-data", help="write the demo org's events to a file (for benchmarks and tests)"
    )
    demo.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    demo.add_argument("--events", type=int, help="exactly this many events (default: the demo's own size)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--format", "-f", default="json", choices=["json", "ndjson"])

    cfg = sub.add_parser(
        "config", help="print the resolved settings (secrets masked) and the config file path"
    )
    cfg.add_argument("--profile", help="named profile from the config file")
    for name, module in PLUGGED_COMMANDS.items():
        if command is not None and command != name:
            continue
        mod = importlib.import_module(f"ddaudit_tui.commands.{module}")
        mod.add_arguments(sub.add_parser(name, help=mod.HELP, description=mod.HELP))
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """`ddaudit --demo` means `ddaudit tui --demo`: the TUI is the default command."""
    if not argv or argv[0] in ("-h", "--help", "--version"):
        return argv if argv else ["tui"]
    if argv[0] in COMMANDS:
        return argv
    return ["tui", *argv]


def _looks_like_negation(token: str) -> bool:
    """`-@action:accessed`, `-status:error`, `-(…)`: the search syntax's negation, not an option."""
    return (
        token.startswith("-")
        and not token.startswith("--")
        and len(token) > 1
        and (token[1] in '@("*' or ":" in token)
    )


def _shield_negations(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str]]:
    """(argv, negations): a query that starts with `-` (the documented negation) is taken for an option by
    argparse — `-org.name:x` would even become `-o rg.name:x`. An option's value that starts with `-` is
    passed as `--query=-…`; a positional negation is taken out, to be put back as the query after parsing."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = sub.choices.get(argv[0]) if sub is not None and argv else None
    if command is None:
        return argv, []
    options = command._option_string_actions
    has_query = any(a.dest == "query" and not a.option_strings for a in command._actions)
    out: list[str] = [argv[0]]
    negations: list[str] = []
    rest = iter(argv[1:])
    for token in rest:
        if token == "--":
            out += [token, *rest]
            break
        action = options.get(token)
        if action is not None and action.nargs is None:  # an option that takes one value
            value = next(rest, None)
            if value is None:
                out.append(token)
            elif value.startswith("-") and value not in options:  # `--from -5d`, `--query -@x`
                out.append(f"{token}={value}")
            else:
                out += [token, value]
            continue
        if has_query and token not in options and _looks_like_negation(token):
            negations.append(token)
            continue
        out.append(token)
    return out, negations


def _run_demo_data(args: argparse.Namespace) -> int:
    from ddaudit_tui.source_select import write_demo_data

    if args.events is not None and args.events < 1:
        raise UsageError("--events must be at least 1")
    with open_output(args.output, binary=True) as out:
        n = write_demo_data(out, events=args.events, seed=args.seed, fmt=args.format)
    if args.output:
        err(f"wrote {n} demo events to {Path(args.output).expanduser().resolve()}")
    return EXIT_OK


def _run_config(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = settings.config_path or config_path()
    exists = "" if path.exists() else " (does not exist)"
    print(f"config file: {path}{exists}")
    for name, value, origin in settings.describe():
        print(f"  {name:<22} {value:<40} [{origin}]")
    return EXIT_OK


def tui_start(args: argparse.Namespace) -> tuple[str, str | None]:
    """(start pane, key id) from `--pane` / `--key`: "auto" unless asked (Key lookup when the data has
    API keys, else Explore: decided by the app once the source answers). Raises UsageError."""
    key = getattr(args, "key", None)
    pane = getattr(args, "pane", None)
    if key is not None:
        from ddaudit_tui.analysis.key_investigation import validate_key_id

        try:
            key = validate_key_id(key)
        except ValueError as exc:
            raise UsageError(f"--key: {exc}") from None
        if pane not in (None, "lookup"):
            raise UsageError(f"--key opens Key lookup: it cannot be combined with --pane {pane}")
        return "lookup", key
    return pane or "auto", None


def _run_tui(args: argparse.Namespace) -> int:
    app = tui_app(args)
    app.run()
    load_error = getattr(app.source, "load_error", None)
    if load_error is not None:
        raise load_error  # the input was not audit data: one line on stderr, exit code 4
    return app.return_code or EXIT_OK


def tui_app(args: argparse.Namespace) -> DdauditApp:
    """The TUI the arguments ask for, ready to run (tests run it with Textual's Pilot)."""
    from ddaudit_tui.source_select import open_source, resolve_source_window

    # A bad query is a usage error before anything opens; `*` (the default) needs no parser (issue 12).
    if (args.query or "").strip() not in ("", "*"):
        from ddaudit_tui.events.query import parse_query

        parse_query(args.query)
    if (case_name := getattr(args, "case", None)) is not None:
        # A bad case name is a usage error before anything opens (the case package only: the commands'
        # modules are not imported by the TUI before its first frame).
        from ddaudit_tui.case.store import CaseNameError, validate_name

        try:
            validate_name(case_name)
        except CaseNameError as exc:
            raise UsageError(f"--case: {exc}") from None
    start_pane, start_key = tui_start(args)
    orgs = _tui_orgs(args)
    if orgs:
        # Several orgs (issue 16 item 5): every pane asks each; `source` is the first that opened (the case,
        # the pane bar's label and the one-org paths read it).
        from ddaudit_tui.orgs import org_namespace

        first = next(o for o in orgs if o.source is not None)
        settings, source = first.settings, first.source
        args = org_namespace(args, first.profile)  # the case and the Spike watch's state: that org's
    else:
        settings = settings_from(args)
        # Files are read by the source's thread once the TUI has painted its first frame (tui/loading.py).
        source = open_source(args, settings, streaming=True, stdin=_stdin_for_tui(args))
    max_pages = max_pages_setting(args, settings)
    window = resolve_source_window(args, source)
    from ddaudit_tui.case.record import source_info
    from ddaudit_tui.case.store import default_analyst
    from ddaudit_tui.tui.app import DdauditApp  # Textual only on this path
    from ddaudit_tui.tui.case_session import CaseSession

    case = CaseSession(
        default_analyst(getattr(settings, "analyst", None)),
        name=args.case,
        # Hashes the input files: done after the first frame, in a thread (issue 12).
        source=functools.partial(source_info, args, settings),
    )

    app = DdauditApp(
        source,
        window,
        query=args.query,
        local_time=bool(settings.local_time),
        export_dir=Path(settings.export_dir) if settings.export_dir else None,
        start_pane=start_pane,
        start_key=start_key,
        case=case,
    )
    # The Spike watch pane pages with this profile's routing key and shares `ddaudit watch`'s state. Made
    # when the pane first opens: the alerts modules (rules, poller, PagerDuty; tomllib) are not needed
    # for the first frame (issue 12).
    app.watch_options = functools.partial(_tui_watch_options, args, settings)  # type: ignore[attr-defined]
    app.read_only = bool(settings.read_only)  # type: ignore[attr-defined]  # Key lookup refuses revocation
    app.site = settings.site  # "Copy as" explorer URLs and DD_SITE for this profile's site
    # Key lookup's engine (issue 16), the choice `ddaudit key --engine` makes: the pane builds its options.
    app.key_engine = getattr(args, "engine", None) or "auto"  # type: ignore[attr-defined]
    app.key_max_pages = max_pages  # type: ignore[attr-defined]
    app.orgs = orgs  # several orgs: each its own source (tui/orgs.py); [] for one
    return app


def _tui_orgs(args: argparse.Namespace) -> list[OrgSource]:
    """`--profile a,b` / `--all-profiles`: each org's source ([] for one org). Every org failing to open
    (no credentials anywhere) fails the launch with the first org's error, as one org would."""
    from ddaudit_tui.orgs import asks_several

    if not asks_several(args):
        return []
    from ddaudit_tui.orgs import open_orgs, requested_profiles

    profiles = requested_profiles(args) or []
    orgs = open_orgs(args, profiles)
    if all(o.source is None for o in orgs):
        raise orgs[0].error  # type: ignore[misc]
    return orgs


def _tui_watch_options(args: argparse.Namespace, settings: Any) -> Any:
    from ddaudit_tui.alerts.wiring import tui_watch_options

    return tui_watch_options(args, settings)


def _stdin_for_tui(args: argparse.Namespace) -> BinaryIO | None:
    """`cat x.json | ddaudit --input -`: the events come on stdin, the keys from the terminal.

    The pipe moves to a new descriptor for the source, and the terminal takes its place as stdin, where
    Textual reads keys. Without a terminal to open, stdin stays as it is (None: the source reads it)."""
    if "-" not in (getattr(args, "input", None) or []):
        return None
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return None
    except (AttributeError, ValueError, OSError):  # closed or replaced stdin
        return None
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return None
    events = os.dup(0)
    os.dup2(tty, 0)
    os.close(tty)
    return os.fdopen(events, "rb")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _normalise_argv(argv)
    parser = build_parser(argv[0] if argv[0] in COMMANDS else None)
    shielded, negations = _shield_negations(parser, argv)
    args = parser.parse_args(shielded)
    if negations:  # AND is commutative: the negated terms first, as they were typed
        args.query = " ".join([*negations, *([args.query] if args.query else [])])
    # (Typographic quotes are not ASCII: an ASCII query needs no change, nor the syntax's module.)
    if isinstance(getattr(args, "query", None), str) and not args.query.isascii():
        from ddaudit_tui.events.query import straighten_quotes

        # Pasted from Datadog's docs: the API, too, must get quotes it knows (“x” matches nothing there).
        args.query = straighten_quotes(args.query)
    if args.command != "tui":
        gc.enable()  # paused by the entry point for the TUI's first frame only
    handlers = {"tui": _run_tui, "demo-data": _run_demo_data, "config": _run_config}
    try:
        if args.command in PLUGGED_COMMANDS:
            return importlib.import_module(f"ddaudit_tui.commands.{PLUGGED_COMMANDS[args.command]}").run(args)
        return handlers[args.command](args)
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `ddaudit search … | head`: the reader left; not an error worth a traceback.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except Exception as exc:  # map every expected failure to one line and a stable exit code
        code, message = classify_error(exc)
        if code is None:
            raise
        err(message)
        return code
    finally:
        gc.enable()  # paused by the entry point until the TUI's first frame: resumed on whatever the way out


def classify_error(exc: BaseException) -> tuple[int | None, str]:
    """(exit code, one-line message) for an expected failure; (None, '') for a bug (re-raised)."""
    from ddaudit_tui.events.decode import DecodeError
    from ddaudit_tui.events.query import QuerySyntaxError
    from ddaudit_tui.sources.files import InputError
    from ddaudit_tui.timeutil import TimeParseError

    if isinstance(exc, QuerySyntaxError):
        return EXIT_USAGE, f"{exc}\n{exc.caret()}"
    from ddaudit_tui.case.store import CaseError, CaseNameError, CaseWriteError, NoSuchCase

    if isinstance(exc, CaseNameError | NoSuchCase):  # a case name typed wrong: usage
        return EXIT_USAGE, str(exc)
    if isinstance(exc, CaseWriteError):
        return EXIT_ERROR, str(exc)
    if isinstance(exc, CaseError):  # a case on disk that cannot be read or written
        return EXIT_INPUT, str(exc)
    if isinstance(exc, UsageError | TimeParseError | ConfigError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, InputError | DecodeError):
        return EXIT_INPUT, str(exc)
    from ddaudit_tui.source_select import NoCredentials

    if isinstance(exc, NoCredentials):
        return EXIT_AUTH, str(exc)
    from ddaudit_tui.sources.datadog import AuthError, ConfigurationError, DatadogError

    if isinstance(exc, AuthError):
        return EXIT_AUTH, str(exc)
    if isinstance(exc, ConfigurationError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, DatadogError):
        return EXIT_ERROR, str(exc)
    if isinstance(exc, OSError):
        return EXIT_ERROR, str(exc)
    return None, ""


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
