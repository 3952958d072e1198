"""Choosing the source from the command line: `--demo`, `--input FILE…`, or the Datadog API.

The one module outside `ddaudit_tui/demo/` that imports it (tests/demo/test_boundary.py checks): the
rest of the package reaches the demo only as the `Source` chosen here, or through `write_demo_data`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, BinaryIO

from ddaudit_tui.config import Settings, UsageError
from ddaudit_tui.sources.base import Source
from ddaudit_tui.timeutil import Window, parse_bound, resolve_window

DEFAULT_MAX_EVENTS = 200_000


class NoCredentials(Exception):
    """No way to authenticate to Datadog; exit code 3."""


def open_source(
    args: argparse.Namespace, settings: Settings, *, streaming: bool = False, stdin: BinaryIO | None = None
) -> Source:
    """The source the arguments name. `streaming`: files are read later, page by page, by the source's
    own thread (the TUI) once the TUI calls the source's `after_first_paint()`, as the demo builds its org
    then; otherwise they are decoded here. `stdin`: where `--input -` reads from."""
    if getattr(args, "demo", False) and getattr(args, "input", None):
        raise UsageError("--demo and --input are two different sources: choose one")
    if getattr(args, "input", None):
        from ddaudit_tui.sources.files import FileSource

        if streaming:
            frm, to = getattr(args, "frm", None), getattr(args, "to", None)
            return FileSource.open_streaming(
                args.input,
                start_ms=parse_bound("--from", frm) if frm else None,
                end_ms=parse_bound("--to", to) if to else None,
                stdin=stdin,
                held=True,
            )
        return FileSource.open(args.input)
    if getattr(args, "demo", False):
        from ddaudit_tui.demo.source import open_demo

        return open_demo(
            seed=args.seed, live=getattr(args, "live", False), max_events=settings.max_events, held=streaming
        )
    if not settings.has_credentials():
        raise NoCredentials(
            "no Datadog credentials: set DD_API_KEY and DD_APP_KEY (or DD_ACCESS_TOKEN), choose a --profile, "
            "use --no-dd-auth behind a gateway that holds them, or use --demo / --input FILE"
        )
    from ddaudit_tui.sources.datadog import Credentials, DatadogClient

    if settings.auth == "none":
        # A gateway holds the Datadog keys: none is sent, whatever the environment holds; a bearer token
        # (DD_ACCESS_TOKEN / access_token_cmd) is the gateway's own and still goes.
        credentials = Credentials(access_token=settings.access_token)
    else:
        credentials = Credentials(
            api_key=settings.api_key, app_key=settings.app_key, access_token=settings.access_token
        )
    return DatadogClient(
        credentials,
        site=settings.site,
        base_url=settings.api_url,
        proxy=settings.proxy,
        verify=settings.ca_bundle or True,
        timeout_s=settings.timeout,
        deadline_s=settings.deadline,
        no_dd_auth=settings.auth == "none",
        concurrency=settings.concurrency,
        max_events=settings.max_events or DEFAULT_MAX_EVENTS,
        retention_days=settings.audit_retention_days,
    )


def write_demo_data(out: str | Path | IO[bytes], *, events: int | None, seed: int, fmt: str) -> int:
    """`ddaudit demo-data`: the demo org's events written as a file the `--input` source reads
    (a JSON document or NDJSON). Returns how many were written."""
    from ddaudit_tui.demo.org import write_demo_data as write

    return write(out, events=events, seed=seed, fmt=fmt)


def resolve_source_window(args: argparse.Namespace, source: Source) -> Window:
    """The absolute window, resolved once. With files, missing bounds default to the input's span."""
    frm, to = getattr(args, "frm", None), getattr(args, "to", None)
    current = getattr(source, "current_window", None)
    if current is not None and getattr(source, "loading", False):
        return current()  # a file still to be read: the span so far (a ProvisionalWindow)
    span = source.default_window()
    if span is not None:
        start = parse_bound("--from", frm) if frm else span.start
        end = parse_bound("--to", to) if to else span.end
        return Window(start, end)
    return resolve_window(frm or getattr(args, "default_from", "90d"), to or "now")
