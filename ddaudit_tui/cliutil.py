"""Shared pieces of the command line: exit codes, source/time arguments, output files, progress.

Each command lives in `ddaudit_tui/commands/<name>.py` (or in `cli.py` for the foundation ones) and
uses these helpers, so every command reads sources, windows and outputs the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ddaudit_tui.config import Settings, load_settings

# Re-exported: commands import it from here; it lives in config.py, the bottom layer, so that
# source_select.py can raise it too.
from ddaudit_tui.config import UsageError as UsageError
from ddaudit_tui.safetext import clean

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INPUT = 4
EXIT_FINDINGS = 5  # key --fail-on matched; watch --once: alerts fired
EXIT_PARTIAL = 7  # --fail-on partial: the answer is partial (what was fetched is still written)
EXIT_INTERRUPTED = 130


def add_source_args(p: argparse.ArgumentParser, default_from: str = "90d") -> None:
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
    c.add_argument(
        "--no-dd-auth",
        action="store_true",
        help="send no Datadog API/application key: a gateway at --api-url holds them (env DDAUDIT_DD_AUTH=none; "
        'config auth = "none")',
    )
    c.add_argument("--proxy", help="HTTPS proxy URL (env DDAUDIT_PROXY; HTTPS_PROXY is honoured too)")
    c.add_argument("--ca-bundle", help="CA bundle for TLS verification (env DDAUDIT_CA_BUNDLE)")
    c.add_argument("--max-events", type=int, help="stop fetching after this many events (default 200000)")
    p.set_defaults(default_from=default_from)


def settings_from(args: argparse.Namespace) -> Settings:
    flags = {
        "profile": getattr(args, "profile", None),
        "site": getattr(args, "site", None),
        "api_url": getattr(args, "api_url", None),
        "proxy": getattr(args, "proxy", None),
        "ca_bundle": getattr(args, "ca_bundle", None),
        "max_events": getattr(args, "max_events", None),
        "auth": "none" if getattr(args, "no_dd_auth", False) else None,
        "export_dir": getattr(args, "export_dir", None),
        "local_time": getattr(args, "local_time", None),
    }
    return load_settings(flags)


def err(message: str) -> None:
    # Messages quote event text, key names and server replies: never a terminal control sequence.
    sys.stderr.write(f"ddaudit: {clean(message, single_line=False)}\n")


@contextlib.contextmanager
def open_output(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or a file created with mode 0600 (audit data is sensitive)."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path).expanduser()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # The mode above applies only to a new file: one that was there (0644) must not stay readable.
        # Only a regular file: `-o /dev/null` or a FIFO is not ours to chmod.
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    except OSError as exc:
        raise OSError(f"{target}: cannot write ({exc.strerror or exc})") from None
    with os.fdopen(
        fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})
    ) as f:
        yield f


def progress_printer() -> Callable[[Any], None] | None:
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


def run_with_progress(coro: Any, progress: Callable[[Any], None] | None) -> Any:
    """`asyncio.run(coro)`, then clear the progress line on stderr (if one was drawn), whatever happened."""
    import asyncio

    try:
        return asyncio.run(coro)
    finally:
        if progress is not None:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def write_report(kind: str, fmt: str, result: Any, output: str | None) -> Path | None:
    """Warnings to stderr, then the report rendered through the registry to stdout or `output` (0600).

    Returns the absolute path written, or None for stdout."""
    from ddaudit_tui.report.registry import render

    for warning in getattr(result, "warnings", ()):
        err(f"warning: {warning}")
    text = render(kind, fmt, result)
    with open_output(output) as out:
        out.write(text)
    return Path(output).expanduser().resolve() if output and output != "-" else None


# -- --engine / --max-pages (issue 16) ---------------------------------------------------------------

MAX_PAGES_DEFAULT = 50
MAX_PAGES_HELP = (
    "pages of the search API --engine auto reads before aggregating (config max_pages, default 50)"
)


def add_engine_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    engine_help: str,
    max_pages_help: str = MAX_PAGES_HELP,
) -> None:
    """`--engine auto|search|ddsql` and `--max-pages N`, the same on `key`, `ai` and the TUI; only what the
    engine reads differs, so each command says it in its own help."""
    parser.add_argument("--engine", choices=("auto", "search", "ddsql"), default="auto", help=engine_help)
    parser.add_argument("--max-pages", type=int, metavar="N", help=max_pages_help)


def max_pages_setting(args: argparse.Namespace, settings: Any) -> int | None:
    """`--max-pages`, else the config's `max_pages`; None when neither is set (the engine's default applies).
    Checked here, before any org is asked, so one org or several refuse 0 alike (across orgs a `0 or 50`
    reading once made `--max-pages 0` 50 pages)."""
    value = getattr(args, "max_pages", None)
    if value is None:
        value = getattr(settings, "max_pages", None)
    if value is None:
        return None
    if int(value) < 1:
        raise UsageError(f"--max-pages {value}: expected 1 or more")
    return int(value)


# -- --fail-on ------------------------------------------------------------------------------------------


def add_fail_on(parser: argparse.ArgumentParser, choices: tuple[str, ...], help_text: str) -> None:
    """`--fail-on A[,B]`: each of `choices`; kept as the comma-joined string (one value reads as before)."""

    def parse(value: str) -> str:
        items = [v.strip().lower() for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in choices] or ([] if items else [value])
        if bad:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {bad[0]!r} (choose from {', '.join(choices)}; several with commas)"
            )
        return ",".join(dict.fromkeys(items))

    parser.add_argument("--fail-on", type=parse, metavar="{" + ",".join(choices) + "}", help=help_text)


def fail_on_set(value: str | None) -> frozenset[str]:
    return frozenset(v for v in (value or "").split(",") if v)


def completeness_to_stderr(completeness: Any) -> None:
    """`search` keeps stdout pure data (CSV, NDJSON that `--input` reads back): its completeness line
    goes to stderr — always when the answer is partial, else only to a terminal (no noise in CI logs)."""
    if completeness is None:
        return
    if getattr(completeness, "partial", False) or sys.stderr.isatty():
        err(f"completeness: {completeness.line()}")


def partial_exit(fail_on: str | None, completeness: Any) -> int | None:
    """EXIT_PARTIAL (and one line on stderr saying why) when `--fail-on partial` and the answer is
    partial; None otherwise. A result without a completeness record counts as partial only if it says
    so (`complete` False)."""
    if "partial" not in fail_on_set(fail_on):
        return None
    partial = getattr(completeness, "partial", None)
    if partial is None:
        partial = completeness is not None and getattr(completeness, "complete", True) is False
    if not partial:
        return None
    reasons = "; ".join(getattr(completeness, "reasons", ()) or ()) or "some events could not be fetched"
    err(f"the answer is partial (--fail-on partial, exit {EXIT_PARTIAL}): {reasons}")
    return EXIT_PARTIAL
