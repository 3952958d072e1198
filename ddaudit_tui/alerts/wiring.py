"""Wiring shared by the headless `ddaudit watch` and the TUI's Spike watch pane: where the routing key,
the PagerDuty URL and the state come from, and how the pane builds its poller.

No Textual here (the pane imports this; the headless command must not import Textual).

The pane's choices (documented in docs/watch.md "The Spike watch pane"):

- **Paging is off unless a routing key is configured** (`--pagerduty-routing-key` is a headless flag;
  the pane takes `DDAUDIT_PAGERDUTY_ROUTING_KEY` / `PAGERDUTY_ROUTING_KEY` or the config file). The demo
  never pages: it uses a dry run, so the pane shows what *would* have been sent.
- **State is in memory unless paging is on.** A pane that only looks must not move the mark of a
  headless watcher of the same org, nor leave files behind. When it pages, it uses the same state
  database and scope as `ddaudit watch`, so "pages sent" is shared and a burst is never paged twice by
  the two of them; if a headless watcher holds that state (its lock), the pane leaves paging to it.
- **Files** (`--input`) are evaluated as of the app window's end (the input's last event by default),
  from the window's start: every burst in the file shows, as `watch --replay` would list them.
- **The demo** looks back 24 hours on its first poll (its planted bursts), as `watch --demo` does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddaudit_tui.alerts.pagerduty import (
    URL_ENV,
    DryRunPager,
    Pager,
    PagerDutyClient,
    enqueue_url,
    routing_key_from_env,
)
from ddaudit_tui.alerts.poller import (
    DEFAULT_OVERLAP_S,
    DEFAULT_WINDOW_S,
    TUI_INTERVAL_S,
    Poller,
    WatchSnapshot,
)
from ddaudit_tui.alerts.rules import RuleSet, default_rules_path, load_rules
from ddaudit_tui.alerts.state import StateError, StateLocked, WatchState, default_state_dir
from ddaudit_tui.analysis.spikes import (
    PageStatus,
)
from ddaudit_tui.config import Settings
from ddaudit_tui.sources.base import ProgressCallback, Source
from ddaudit_tui.sources.files import ProvisionalWindow
from ddaudit_tui.timeutil import Window

__all__ = [
    "DEMO_FIRST_LOOKBACK_S",
    "PAGE_WORDS",
    "PAGING_DRY_RUN",
    "PAGING_OFF",
    "PAGING_ON",
    "TuiWatch",
    "WatchOptions",
    "is_demo_label",
    "legacy_state_scope",
    "open_tui_watch",
    "pagerduty_url",
    "routing_key",
    "state_dir",
    "state_scope",
    "tui_watch_options",
]

DEMO_FIRST_LOOKBACK_S = 86_400.0  # the demo's planted bursts are spread over its last 24 hours

# How an alert's page status reads, in lines and reports.
PAGE_WORDS: dict[str, str] = {
    PageStatus.SENT: "paged",
    PageStatus.DRY_RUN: "dry-run (not sent)",
    PageStatus.OFF: "not paged",
    PageStatus.DISABLED: "not paged (rule: page = false)",
    PageStatus.PENDING: "page pending",
    PageStatus.FAILED: "page refused",
    PageStatus.NEW: "page pending",
}

PAGING_OFF = "off"
PAGING_DRY_RUN = "dry-run"
PAGING_ON = "on"

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


# -- shared with the headless command ----------------------------------------------------------------


def routing_key(flag: str | None, settings: Settings | None) -> str | None:
    """The PagerDuty routing key: flag, environment, then config. Never printed."""
    key = flag or routing_key_from_env() or (settings.pagerduty_routing_key if settings else None)
    return key.strip() if isinstance(key, str) and key.strip() else None


def pagerduty_url(flag: str | None, settings: Settings | None) -> str:
    """The Events API enqueue URL (raises ValueError on a malformed one)."""
    url = flag or os.environ.get(URL_ENV) or (settings.pagerduty_url if settings else None)
    return enqueue_url(url)


def state_dir(flag: str | None, settings: Settings | None) -> Path:
    chosen = flag or (settings.state_dir if settings else None)
    return Path(chosen).expanduser() if chosen else default_state_dir()


def state_scope(args: argparse.Namespace, settings: Settings) -> str:
    """Which watched source a state belongs to: polls of one never move another's mark.

    An API scope is a hash of what says which org is watched — the site, or the gateway URL's scheme,
    host, port and path, and the profile — and never of the URL's user-info: the scope names the lock
    file and sits in the database, and a gateway URL may carry a password."""
    if getattr(args, "input", None):
        names = sorted("stdin" if p == "-" else str(Path(p).expanduser().resolve()) for p in args.input)
        return "input:" + "|".join(names)
    if getattr(args, "demo", False):
        return f"demo:{args.seed}"
    import hashlib
    import json
    from urllib.parse import urlsplit

    where: list[object] = ["site", settings.site]
    if settings.api_url:
        try:
            parts = urlsplit(settings.api_url.strip())
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is not None:
            host = (parts.hostname or "").lower()
            where = ["url", parts.scheme.lower(), host, port, parts.path.rstrip("/")]
    ident = json.dumps([*where, settings.profile or ""], separators=(",", ":"))
    return "api:" + hashlib.sha256(ident.encode()).hexdigest()[:16]


def legacy_state_scope(args: argparse.Namespace, settings: Settings) -> str:
    """The scope name of versions before the hash (`api:<URL or site>:<profile>`): its state is carried
    over to `state_scope` (and the name, which may hold a password, removed)."""
    if getattr(args, "input", None) or getattr(args, "demo", False):
        return state_scope(args, settings)
    return f"api:{settings.api_url or settings.site}:{settings.profile or ''}"


def is_demo_label(label: str) -> bool:
    """The demo source's label ("demo", "demo (live)"): the fallback when no options say so."""
    return label == "demo" or label.startswith("demo ")


# -- the pane ----------------------------------------------------------------------------------------


@dataclass
class WatchOptions:
    """What the pane needs from the command line (`tui_watch_options`), or from a test."""

    settings: Settings | None = None  # None: environment and config file, default profile
    demo: bool | None = None  # None: guessed from the source label
    scope: str | None = None  # the state scope, as `ddaudit watch` computes it
    rules_path: str | Path | None = None  # None: settings / DDAUDIT_RULES / rules.toml by the config
    interval_s: float = TUI_INTERVAL_S
    window_s: float = DEFAULT_WINDOW_S
    overlap_s: float = DEFAULT_OVERLAP_S
    # Test seams: a pager (paging "on" without PagerDuty), a clock and a sleep that never wait.
    pager: Pager | None = None
    clock: Clock | None = None
    sleep: Sleep | None = None


def tui_watch_options(args: argparse.Namespace, settings: Settings) -> WatchOptions:
    """The pane's options from the TUI's command line (same profile, source and scope as `watch`)."""
    return WatchOptions(
        settings=settings,
        demo=bool(getattr(args, "demo", False)),
        scope=state_scope(args, settings),
    )


@dataclass
class TuiWatch:
    """A poller ready to start, and what the pane says about it."""

    poller: Poller
    rules: RuleSet
    paging: str  # PAGING_OFF | PAGING_DRY_RUN | PAGING_ON
    paging_note: str  # why, in a few words
    fixed_now_ms: int | None  # files: the moment the input is evaluated at (no live polling)
    clock: Clock = time.time  # the poller's clock (the pane's countdown reads it)
    state: WatchState | None = None
    pager: Pager | None = None
    warnings: list[str] = field(default_factory=list)
    dry_run_payloads: list[dict[str, Any]] = field(default_factory=list)

    async def aclose(self) -> None:
        """Stop polling, close the pager and the state. Safe to call twice."""
        await self.poller.stop()
        pager, self.pager = self.pager, None
        if pager is not None:
            # Closing must never keep the user from quitting.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pager.aclose(), timeout=2)
        state, self.state = self.state, None
        if state is not None:
            state.close()


def open_tui_watch(
    source: Source,
    options: WatchOptions,
    *,
    app_window: Window | None,
    clock: Clock = time.time,
    on_snapshot: Callable[[WatchSnapshot], None] | None = None,
    progress: ProgressCallback | None = None,
) -> TuiWatch:
    """Rules, pager, state and poller for the pane (see the module docstring for the choices).
    Raises `RulesError` (a malformed rules file) — the pane shows it and does not start."""
    settings = options.settings
    rules_path = options.rules_path or (settings.rules_file if settings else None) or default_rules_path()
    rules = load_rules(rules_path)
    label = str(getattr(source, "label", "") or "")
    demo = options.demo if options.demo is not None else is_demo_label(label)
    warnings: list[str] = []
    if not rules.enabled:
        warnings.append(f"no rule is enabled ({rules.origin})")

    # Files: a fixed "now" at the window's end, and the whole window on the first poll.
    fixed_now_ms: int | None = None
    first_start_ms: int | None = None
    first_lookback_s: float | None = None
    poll_clock = options.clock or clock
    span = source.default_window()
    if isinstance(app_window, ProvisionalWindow):
        app_window = None  # the span read so far, from before the file was read: the whole span counts
    if span is not None:
        end = app_window.end if app_window is not None else span.end
        fixed_now_ms = end
        first_start_ms = app_window.start if app_window is not None else span.start

        def fixed_clock() -> float:
            return end / 1000

        poll_clock = fixed_clock
    elif demo:
        first_lookback_s = DEMO_FIRST_LOOKBACK_S

    tui = TuiWatch(
        poller=None,  # type: ignore[arg-type]  # set below, once the pager and state are chosen
        rules=rules,
        paging=PAGING_OFF,
        paging_note="",
        fixed_now_ms=fixed_now_ms,
        clock=poll_clock,
        warnings=warnings,
    )
    state: WatchState | None = None
    pager: Pager | None = options.pager
    if pager is not None:
        tui.paging, tui.paging_note = PAGING_ON, "test pager"
    elif demo:
        # A demo must never page a real on-call, whatever the environment holds.
        pager = DryRunPager(tui.dry_run_payloads.append, routing_key_set=False)
        tui.paging, tui.paging_note = PAGING_DRY_RUN, "demo: payloads are never sent"
    elif fixed_now_ms is not None:
        tui.paging, tui.paging_note = PAGING_OFF, "a file is history: not paged"
    else:
        key = routing_key(None, settings)
        if key is None:
            tui.paging, tui.paging_note = PAGING_OFF, "no PagerDuty routing key configured"
        else:
            try:
                url = pagerduty_url(None, settings)
            except ValueError as exc:
                warnings.append(f"PagerDuty URL: {exc}")
                tui.paging, tui.paging_note = PAGING_OFF, "invalid PagerDuty URL"
            else:
                if options.scope is not None:
                    try:
                        state = WatchState(state_dir(None, settings), options.scope)
                    except StateLocked:
                        tui.paging_note = "a headless 'ddaudit watch' pages this org"
                    except StateError as exc:
                        warnings.append(f"watch state: {exc}; pages are remembered in memory only")
                        state = None
                        pager = PagerDutyClient(key, url)
                    else:
                        pager = PagerDutyClient(key, url)
                else:
                    pager = PagerDutyClient(key, url)
                if pager is not None:
                    tui.paging, tui.paging_note = PAGING_ON, "PagerDuty routing key configured"
    if state is not None:
        try:
            state.load()
            _ = state.last_polled
        except StateError as exc:  # a corrupt value: the pane still watches, from memory
            warnings.append(f"watch state: {exc}; pages are remembered in memory only")
            state.close()
            state = None
    tui.pager, tui.state = pager, state
    tui.poller = Poller(
        source,
        rules.enabled,
        interval_s=options.interval_s,
        window_s=options.window_s,
        overlap_s=options.overlap_s,
        first_start_ms=first_start_ms,
        first_lookback_s=first_lookback_s,
        state=state,
        pager=pager,
        site=settings.site if settings else None,
        clock=poll_clock,
        sleep=options.sleep or asyncio.sleep,
        on_snapshot=on_snapshot,
        progress=progress,
    )
    return tui
