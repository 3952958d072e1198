"""The `ddaudit` command line: the TUI (default) and headless commands.

Data goes to stdout (or `-o FILE`), messages and progress to stderr. Exit codes (stable, in the README):
0 ok, 1 other errors (API failures, I/O), 2 usage (bad flags, query, time or config), 3 authentication or
permission, 4 input that is not audit data or cannot be read, 130 interrupted.
The headless paths never import Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ddaudit_tui import __version__
from ddaudit_tui.config import ConfigError, Settings, config_path, load_settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INPUT = 4
EXIT_INTERRUPTED = 130

COMMANDS = ("tui", "search", "demo-data", "config")


class UsageError(Exception):
    """A mistake in what the user typed; exit code 2."""


def _add_source_args(p: argparse.ArgumentParser, default_from: str = "90d") -> None:
    g = p.add_argument_group("source (default: the Datadog API)")
    g.add_argument("--demo", action="store_true", help="use the built-in demo org (no credentials needed)")
    g.add_argument(
        "--input",
        "-i",
        action="append",
        metavar="FILE",
        help="read audit events from FILE (API pages, pup -o json, NDJSON, archive lines; '-' = stdin); repeatable",
    )
    g.add_argument("--seed", type=int, default=7, help="demo: random seed of the synthetic org (default 7)")
    g.add_argument("--live", action="store_true", help="demo: keep producing new events over wall-clock time")
    t = p.add_argument_group("time window")
    t.add_argument(
        "--from",
        dest="frm",
        metavar="TIME",
        help=f"start: 90d, 15m, now-2h, ISO-8601 or epoch ms (default {default_from}; with --input, the input's span)",
    )
    t.add_argument("--to", metavar="TIME", help="end (default now; with --input, the input's last event)")
    c = p.add_argument_group("connection")
    c.add_argument("--profile", help="named profile from the config file")
    c.add_argument("--site", help="Datadog site, e.g. datadoghq.eu (env DD_SITE)")
    c.add_argument(
        "--api-url", help="base URL override, e.g. an identity-aware gateway (env DDAUDIT_API_URL)"
    )
    c.add_argument("--proxy", help="HTTPS proxy URL (env DDAUDIT_PROXY; HTTPS_PROXY is honoured too)")
    c.add_argument("--ca-bundle", help="CA bundle for TLS verification (env DDAUDIT_CA_BUNDLE)")
    c.add_argument("--max-events", type=int, help="stop fetching after this many events (default 200000)")
    p.set_defaults(default_from=default_from)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddaudit",
        description="Investigate the Datadog Audit Trail: key lookup, spike watch, AI activity, explore.",
        epilog="Run 'ddaudit COMMAND --help' for a command's options. Without a command, the TUI starts.",
    )
    parser.add_argument("--version", action="version", version=f"ddaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    tui = sub.add_parser("tui", help="the full-screen terminal UI (the default command)")
    _add_source_args(tui)
    tui.add_argument("--query", "-q", default="*", help="initial Explore query (default '*')")
    tui.add_argument("--local-time", action="store_true", default=None, help="show local time instead of UTC")
    tui.add_argument("--export-dir", help="where the export key writes files (default: current directory)")

    search = sub.add_parser("search", help="search audit events; print them as a table, CSV, JSON or NDJSON")
    search.add_argument("query", help="audit search query, e.g. '@evt.name:Authentication @action:login'")
    _add_source_args(search)
    search.add_argument("--columns", help="comma-separated field paths, e.g. timestamp,@usr.email,@evt.name")
    search.add_argument("--format", "-f", default="table", choices=["table", "csv", "json", "ndjson"])
    search.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    search.add_argument("--local-time", action="store_true", default=None, help="table/csv: local timestamps")

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
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """`ddaudit --demo` means `ddaudit tui --demo`: the TUI is the default command."""
    if not argv or argv[0] in ("-h", "--help", "--version"):
        return argv if argv else ["tui"]
    if argv[0] in COMMANDS:
        return argv
    return ["tui", *argv]


def _settings_from(args: argparse.Namespace) -> Settings:
    flags = {
        "profile": getattr(args, "profile", None),
        "site": getattr(args, "site", None),
        "api_url": getattr(args, "api_url", None),
        "proxy": getattr(args, "proxy", None),
        "ca_bundle": getattr(args, "ca_bundle", None),
        "max_events": getattr(args, "max_events", None),
        "export_dir": getattr(args, "export_dir", None),
        "local_time": getattr(args, "local_time", None),
    }
    return load_settings(flags)


def _err(message: str) -> None:
    sys.stderr.write(f"ddaudit: {message}\n")


@contextlib.contextmanager
def _open_output(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or a file created with mode 0600 (audit data is sensitive)."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path).expanduser()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise OSError(f"{target}: cannot write ({exc.strerror or exc})") from None
    with os.fdopen(
        fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})
    ) as f:
        yield f


def _run_search(args: argparse.Namespace) -> int:
    from ddaudit_tui.events.query import parse_query
    from ddaudit_tui.report.events_output import parse_columns, write_events, write_ndjson
    from ddaudit_tui.sources.select import open_source, resolve_source_window

    parse_query(args.query)  # fail fast on a malformed query, before any I/O
    try:
        columns = parse_columns(args.columns)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = _settings_from(args)

    async def run() -> tuple[Any, Any]:
        source = open_source(args, settings)
        try:
            window = resolve_source_window(args, source)
            return await source.fetch(args.query, window, _progress_printer()), window
        finally:
            await source.aclose()

    result, _window = asyncio.run(run())
    for warning in result.warnings:
        _err(f"warning: {warning}")
    local = bool(settings.local_time)
    if args.format == "ndjson":
        with _open_output(args.output, binary=True) as out:
            write_ndjson(result.events, out)
    else:
        with _open_output(args.output) as out:
            write_events(result.events, out, args.format, columns, local=local)
    if args.output:
        _err(f"wrote {len(result.events)} events to {Path(args.output).expanduser().resolve()}")
    return EXIT_OK


def _progress_printer() -> Callable[[Any], None] | None:
    """Progress on stderr only when it is a terminal (never pollutes pipes or CI logs)."""
    if not sys.stderr.isatty():
        return None

    def show(p: Any) -> None:
        msg = f"\r\x1b[Kfetching… {p.events:,} events, {p.pages} pages"
        if p.slices_total > 1:
            msg += f", {p.slices_done}/{p.slices_total} slices"
        if p.message:
            msg += f" — {p.message}"
        sys.stderr.write(msg)
        sys.stderr.flush()

    return show


def _run_demo_data(args: argparse.Namespace) -> int:
    from ddaudit_tui.sources.demo_org import write_demo_data

    if args.events is not None and args.events < 1:
        raise UsageError("--events must be at least 1")
    with _open_output(args.output, binary=True) as out:
        n = write_demo_data(out, events=args.events, seed=args.seed, fmt=args.format)
    if args.output:
        _err(f"wrote {n} demo events to {Path(args.output).expanduser().resolve()}")
    return EXIT_OK


def _run_config(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    path = settings.config_path or config_path()
    exists = "" if path.exists() else " (does not exist)"
    print(f"config file: {path}{exists}")
    for name, value, origin in settings.describe():
        print(f"  {name:<13} {value:<44} [{origin}]")
    return EXIT_OK


def _run_tui(args: argparse.Namespace) -> int:
    from ddaudit_tui.events.query import parse_query
    from ddaudit_tui.sources.select import open_source, resolve_source_window

    parse_query(args.query)
    settings = _settings_from(args)
    source = open_source(args, settings)
    window = resolve_source_window(args, source)
    from ddaudit_tui.tui.app import DdauditApp  # Textual only on this path

    app = DdauditApp(
        source,
        window,
        query=args.query,
        local_time=bool(settings.local_time),
        export_dir=Path(settings.export_dir) if settings.export_dir else None,
    )
    app.run()
    return app.return_code or EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(argv))
    handlers = {"tui": _run_tui, "search": _run_search, "demo-data": _run_demo_data, "config": _run_config}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
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
        _err(message)
        return code


def classify_error(exc: BaseException) -> tuple[int | None, str]:
    """(exit code, one-line message) for an expected failure; (None, '') for a bug (re-raised)."""
    from ddaudit_tui.events.decode import DecodeError
    from ddaudit_tui.events.query import QuerySyntaxError
    from ddaudit_tui.sources.files import InputError
    from ddaudit_tui.timeutil import TimeParseError

    if isinstance(exc, QuerySyntaxError):
        return EXIT_USAGE, f"{exc}\n{exc.caret()}"
    if isinstance(exc, UsageError | TimeParseError | ConfigError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, InputError | DecodeError):
        return EXIT_INPUT, str(exc)
    from ddaudit_tui.sources.select import NoCredentials

    if isinstance(exc, NoCredentials):
        return EXIT_AUTH, str(exc)
    try:
        from ddaudit_tui.sources.datadog import AuthError, DatadogError
    except ImportError:  # pragma: no cover - the client is part of the package
        AuthError = DatadogError = ()  # type: ignore[assignment,misc]
    if AuthError and isinstance(exc, AuthError):
        return EXIT_AUTH, str(exc)
    if DatadogError and isinstance(exc, DatadogError):
        return EXIT_ERROR, str(exc)
    if isinstance(exc, OSError):
        return EXIT_ERROR, str(exc)
    return None, ""


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
