"""`ddaudit watch`: the headless spike watch — bursts of sensitive admin actions, paged to PagerDuty.

    ddaudit watch [SOURCE] [--interval 5m] [--window 15m] [--rules FILE] [--once | --replay]
                  [--pagerduty-routing-key KEY] [--pagerduty-url URL] [--dry-run] [--resolve]
                  [--format text|json] [--state-dir DIR] [--no-state] [--list-rules]

Modes:
- default: poll every `--interval` until stopped (Ctrl-C / SIGTERM); one line (or one JSON object)
  per alert as it opens.
- `--once`: one poll, for cron and systemd timers. It fetches from the last poll (state) or the last
  `--window`, pages what is new, and exits. With `--input FILE` it evaluates the window that ends at
  the input's last event, as if the export had just been fetched.
- `--replay` (with `--input`): the whole file through the watch as if live, one simulated poll per
  interval; lists every alert that would have fired. Never pages (add `--dry-run` to see payloads).

Exit codes: 0 ran and nothing fired; 5 something fired (a new alert, or a page that had failed
before went out); 6 an alert is not delivered: PagerDuty did not accept its page (unreachable, 5xx,
429: retried next run; refused with a 400, e.g. a wrong routing key: retried once the routing key or
URL changes) — alerts are still printed, nothing is lost, nothing is sent twice; 1 the poll failed,
or the state could not be read or written (`No space left on device: <path>`; a corrupt value names
the file and the field: `--reset-state` continues from the last --window); 2 usage (flags, rules
file); 3 authentication or permission; 4 unreadable input; 130 interrupted. A poll that fetched only
part of its window (a warning says why) is not an error: the next poll fetches it again — unless
`--fail-on partial` asks for exit 7 (when nothing fired). Every report states the poll's completeness
(engine, requests, events, partial reasons, rate limit): a `completeness` object in JSON, a line on stderr
in text (always when partial, else only to a terminal).

A live poll (`--once`, or each poll of the default mode) ends by half the interval at the latest
(or the `deadline` setting if shorter): what was fetched by then is used, and the next poll catches
up. The state's lock is released on every exit.

The routing key comes from `--pagerduty-routing-key`, `DDAUDIT_PAGERDUTY_ROUTING_KEY`,
`PAGERDUTY_ROUTING_KEY` or the config file; it is never printed, logged or stored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import IO, Any

from ddaudit_tui.alerts.hook import HookError, parse_command, run_hook
from ddaudit_tui.alerts.pagerduty import DryRunPager, Pager, PagerDutyClient
from ddaudit_tui.alerts.poller import Poller, PollOutcome, replay
from ddaudit_tui.alerts.rules import RULE_LABEL, RuleSet, default_rules_path, describe_rules, load_rules
from ddaudit_tui.alerts.state import WatchState
from ddaudit_tui.alerts.wiring import (
    DEMO_FIRST_LOOKBACK_S,
    PAGE_WORDS,
    legacy_state_scope,
    pagerduty_url,
    routing_key,
    state_dir,
    state_scope,
)
from ddaudit_tui.analysis.spikes import Alert, PageStatus
from ddaudit_tui.cliutil import (
    EXIT_AUTH,
    EXIT_ERROR,
    EXIT_OK,
    UsageError,
    add_fail_on,
    add_source_args,
    completeness_to_stderr,
    err,
    partial_exit,
    progress_printer,
    settings_from,
)
from ddaudit_tui.config import Settings
from ddaudit_tui.safetext import clean, json_safe
from ddaudit_tui.timeutil import TimeParseError, fmt_ts, human_duration, iso, parse_duration, parse_instant

HELP = "watch for bursts of sensitive admin actions (role grants, key minting, deletions…); page PagerDuty"

EXIT_FIRED = 5  # `--once` / `--replay`: at least one alert fired
EXIT_UNDELIVERED = 6  # `--once`: an alert's page was not accepted by PagerDuty (queued, retried)
EXIT_TERMINATED = 143  # `--once` stopped by SIGTERM before it finished (128 + SIGTERM)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Watch the Datadog Audit Trail for bursts of sensitive admin actions by one actor and page "
        f"PagerDuty. Rules are {RULE_LABEL}s (not Datadog detections): see --list-rules and --rules. "
        f"Exit codes: 0 nothing fired, {EXIT_FIRED} an alert fired, {EXIT_UNDELIVERED} a page was not "
        "accepted by PagerDuty (queued, retried), 7 the poll was partial (--fail-on partial), 1 the poll or "
        "the state failed, 2 usage, 3 auth, 4 input, 130 interrupted."
    )
    add_source_args(p, default_from="the last --window")
    from ddaudit_tui.commands.case import add_case_argument  # issue 15: `--once --case NAME`

    add_case_argument(p)
    w = p.add_argument_group("watch")
    mode = w.add_mutually_exclusive_group()
    mode.add_argument(
        "--once",
        action="store_true",
        help=f"poll once and exit (cron, systemd timers): exit {EXIT_FIRED} if an alert fired, 0 if not",
    )
    mode.add_argument(
        "--replay",
        action="store_true",
        help="with --input: run the file through the watch as if live and list every alert that would have fired",
    )
    w.add_argument("--interval", default="5m", help="time between polls (default 5m)")
    w.add_argument(
        "--window",
        default="15m",
        help="sliding window of rules that set none, and of the counts (default 15m)",
    )
    w.add_argument(
        "--overlap",
        default="2m",
        help="re-fetch this much before the last poll, for late events (default 2m)",
    )
    w.add_argument(
        "--rules", metavar="FILE", help="TOML rules file: tune, disable or add rules (env DDAUDIT_RULES)"
    )
    w.add_argument("--list-rules", action="store_true", help="print the effective rules and exit")
    w.add_argument("--format", "-f", default="text", choices=["text", "json"])
    add_fail_on(
        w,
        ("partial",),
        "with --once or --replay: exit 7 when the poll fetched only part of its window (an alert that fired, "
        "5, or a page not delivered, 6, outranks it)",
    )
    w.add_argument(
        "--state-dir", metavar="DIR", help="where the watch remembers polls and pages (env DDAUDIT_STATE_DIR)"
    )
    w.add_argument(
        "--on-alert",
        metavar="CMD",
        help="run CMD for every new alert, the alert as JSON on its stdin (notify-send, a webhook script); "
        "10 s timeout, no secret in its environment",
    )
    st = p.add_argument_group("status line (tmux status bar; reads the state only, no API call)")
    st.add_argument(
        "--status", action="store_true", help="print one line: open alerts, last poll, stale warning; exit"
    )
    st.add_argument("--tmux", action="store_true", help="with --status: tmux colour syntax (#[fg=red]…)")
    st.add_argument(
        "--stale-after", metavar="DURATION", default="15m", help="with --status: stale after (15m)"
    )
    w.add_argument(
        "--reset-state",
        action="store_true",
        help="forget this source's polls and alerts (a corrupt state) and start from the last --window; "
        "pages already sent are kept, so none is sent twice",
    )
    w.add_argument(
        "--no-state",
        action="store_true",
        help="neither read nor write the state (every run starts afresh; pages may repeat)",
    )
    pd = p.add_argument_group("PagerDuty")
    pd.add_argument(
        "--pagerduty-routing-key",
        metavar="KEY",
        help="Events v2 integration key (prefer env DDAUDIT_PAGERDUTY_ROUTING_KEY or PAGERDUTY_ROUTING_KEY: flags show in ps)",
    )
    pd.add_argument(
        "--pagerduty-url",
        metavar="URL",
        help="Events API URL, e.g. https://events.eu.pagerduty.com or a test endpoint (env DDAUDIT_PAGERDUTY_URL)",
    )
    pd.add_argument(
        "--dry-run", action="store_true", help="print the PagerDuty payloads instead of sending them"
    )
    pd.add_argument("--resolve", action="store_true", help="resolve the PagerDuty incident when a burst ends")


def _seconds(value: str, flag: str, allow_zero: bool = False) -> float:
    try:
        seconds = parse_duration(value)
    except TimeParseError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    if seconds <= 0 and not allow_zero:
        raise UsageError(f"{flag}: must be more than 0 seconds")
    return float(seconds)


class _Output:
    """Alert lines (text) or JSON to stdout; messages go to stderr through `err`."""

    def __init__(self, fmt: str, rules: RuleSet, window_ms: int, out: IO[str] | None = None) -> None:
        self.fmt = fmt
        self.rules = rules
        self.window_ms = window_ms
        self.out = out or sys.stdout
        self.payloads: dict[str, list[dict[str, Any]]] = {}

    def payload(self, body: dict[str, Any]) -> None:
        self.payloads.setdefault(str(body.get("dedup_key")), []).append(body)

    def alert_json(self, a: Alert) -> dict[str, Any]:
        d = a.to_json(self.rules.get(a.rule), self.window_ms)
        bodies = self.payloads.get(a.dedup_key)
        if bodies:
            d["pagerduty_payloads"] = bodies
        return d

    def line(self, a: Alert) -> str:
        rule = self.rules.get(a.rule)
        n = f"{a.count} event{'s' if a.count != 1 else ''}"
        if a.distinct_values and rule is not None and rule.distinct:
            n += f" ({a.distinct_count} distinct {rule.distinct})"
        status = "open" if a.is_open else "closed"
        return (
            f"{a.severity.label:<11} {a.rule}  {clean(a.group, max_len=120)}  {n}  [{clean(a.actions_text())}]  "
            f"{fmt_ts(a.first_seen)} → {fmt_ts(a.last_seen)}  {status}  {PAGE_WORDS.get(a.page_status, a.page_status)}"
            f"  {a.dedup_key}"
        )

    def alerts_text(self, alerts: list[Alert]) -> None:
        for a in alerts:
            self.out.write(self.line(a) + "\n")
            for body in self.payloads.get(a.dedup_key, []):
                self.out.write(json_safe(json.dumps(body, indent=2, ensure_ascii=False)) + "\n")
        self.out.flush()

    def ndjson(self, alerts: list[Alert]) -> None:
        for a in alerts:
            self.out.write(json_safe(json.dumps(self.alert_json(a), ensure_ascii=False)) + "\n")
        self.out.flush()

    def document(self, alerts: list[Alert], extra: dict[str, Any]) -> None:
        doc = {
            "alerts": [self.alert_json(a) for a in alerts],
            **extra,
            "rules_label": f"{RULE_LABEL}s (not Datadog detections)",
        }
        self.out.write(json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")
        self.out.flush()

    def report(self, alerts: list[Alert], extra: dict[str, Any], completeness: Any = None) -> None:
        if self.fmt == "json":
            self.document(alerts, extra)
        else:
            self.alerts_text(alerts)
            # stdout stays one line per alert (cron mails any output): the completeness line goes to
            # stderr, always when the poll was partial, else only to a terminal.
            completeness_to_stderr(completeness)


def _scope(args: argparse.Namespace, settings: Settings) -> str:
    return state_scope(args, settings)


def _routing_key(args: argparse.Namespace, settings: Settings) -> str | None:
    return routing_key(args.pagerduty_routing_key, settings)


def _pagerduty_url(args: argparse.Namespace, settings: Settings) -> str:
    try:
        return pagerduty_url(args.pagerduty_url, settings)
    except ValueError as exc:
        raise UsageError(f"--pagerduty-url: {exc}") from None


def _state_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return state_dir(args.state_dir, settings)


def run(args: argparse.Namespace) -> int:
    if args.status:  # `ddaudit watch --status` normally never gets here: ddaudit_tui.entry sends it on first
        from ddaudit_tui.alerts import status_line

        argv = ["--tmux"] if args.tmux else []
        argv += ["--stale-after", args.stale_after, "--recent", args.recent]
        return status_line.main(argv + (["--state-dir", args.state_dir] if args.state_dir else []))
    interval_s = _seconds(args.interval, "--interval")
    window_s = _seconds(args.window, "--window")
    overlap_s = 0.0 if args.overlap.strip() == "0" else _seconds(args.overlap, "--overlap", allow_zero=True)
    settings = settings_from(args)
    rules_path = args.rules or getattr(settings, "rules_file", None) or default_rules_path()
    rules = load_rules(rules_path)
    if args.list_rules:
        print(f"# {RULE_LABEL}s from {rules.origin} (not Datadog detections)")
        for line in describe_rules(rules.rules, int(window_s * 1000)):
            print(line)
        return EXIT_OK
    if not rules.enabled:
        raise UsageError(f"no rule is enabled ({rules.origin})")
    has_input = bool(getattr(args, "input", None))
    if args.replay and not has_input:
        raise UsageError("--replay needs --input FILE (a saved export to run through the watch)")
    if has_input and not (args.once or args.replay):
        raise UsageError(
            "with --input, use --once (the window ending at the last event) or --replay (the whole file)"
        )
    if args.to and not has_input:
        raise UsageError("--to applies to --input only: a live watch always runs up to now")
    if args.reset_state and args.no_state:
        raise UsageError("--reset-state and --no-state: choose one")
    if getattr(args, "fail_on", None) and not (args.once or args.replay):
        raise UsageError("--fail-on applies to a run that ends: use it with --once or --replay")
    if getattr(args, "case", None):  # issue 15
        from ddaudit_tui.commands.case import check_case_args

        check_case_args(args)
        if not args.once:
            raise UsageError("--case journals one poll: use it with --once")
    if not has_input and not args.replay:
        # A live poll must end well inside its interval (or the next cron run finds the lock held).
        limit = interval_s / 2
        settings.deadline = min(settings.deadline, limit) if settings.deadline else limit
    routing_key = _routing_key(args, settings)
    pd_url = _pagerduty_url(args, settings)
    main = _main(args, settings, rules, routing_key, pd_url, interval_s, window_s, overlap_s)
    return asyncio.run(_until_terminated(main, once=bool(args.once or args.replay)))


async def _until_terminated(main: Coroutine[Any, Any, int], *, once: bool) -> int:
    """Run `main`; SIGTERM (`systemctl stop`, `kill`) cancels it wherever it is — the first poll included —
    so the state is saved and its lock released on the way out. A live watch stopped that way ends in
    success (0); a one-shot run that was stopped before it finished exits 143 (128 + SIGTERM)."""
    task = asyncio.ensure_future(main)
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await task
    except asyncio.CancelledError:
        if not terminated:
            raise  # Ctrl-C: the CLI reports "interrupted" (130)
        return EXIT_TERMINATED if once else EXIT_OK
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def _make_pager(
    args: argparse.Namespace, settings: Settings, output: _Output, routing_key: str | None, pd_url: str
) -> Pager | None:
    if args.dry_run or args.replay:
        return DryRunPager(output.payload, routing_key_set=routing_key is not None) if args.dry_run else None
    if routing_key is None:
        return None
    # Not the Datadog connection settings: --ca-bundle/--proxy may be a gateway's own. PagerDuty requests
    # honour the standard HTTPS_PROXY / SSL_CERT_FILE environment (httpx trust_env).
    return PagerDutyClient(routing_key, pd_url)


async def _main(
    args: argparse.Namespace,
    settings: Settings,
    rules: RuleSet,
    routing_key: str | None,
    pd_url: str,
    interval_s: float,
    window_s: float,
    overlap_s: float,
) -> int:
    from ddaudit_tui.source_select import open_source, resolve_source_window

    output = _Output(args.format, rules, int(window_s * 1000))
    try:
        hook = parse_command(args.on_alert) if args.on_alert and not args.replay else None
    except HookError as exc:
        raise UsageError(str(exc)) from None
    pager = _make_pager(args, settings, output, routing_key, pd_url)
    source = open_source(args, settings)
    state: WatchState | None = None
    try:
        if args.replay:
            if routing_key and not args.dry_run:
                err("--replay never pages: alerts are listed only (add --dry-run to see the payloads)")
            window = resolve_source_window(args, source)
            result = await replay(
                source,
                rules.enabled,
                interval_s=interval_s,
                window_s=window_s,
                start_ms=window.start,
                end_ms=window.end,
                pager=pager,
                site=settings.site,
                progress=progress_printer(),
            )
            for w in result.warnings:
                err(f"warning: {w}")
            output.report(
                result.alerts,
                {
                    "mode": "replay",
                    "source": source.label,
                    "window": {"from": iso(window.start), "to": iso(window.end)},
                    "events": result.events,
                    "polls": result.polls,
                    "completeness": result.completeness.to_json() if result.completeness else None,
                },
                result.completeness,
            )
            err(
                f"replayed {result.events} matching events over {window.describe()} in {result.polls} polls "
                f"of {human_duration(int(interval_s * 1000))}: {len(result.alerts)} alert(s)"
            )
            if result.alerts:
                return EXIT_FIRED
            return partial_exit(getattr(args, "fail_on", None), result.completeness) or EXIT_OK

        if not args.no_state:
            state = WatchState(
                _state_dir(args, settings),
                _scope(args, settings),
                legacy_scopes=(legacy_state_scope(args, settings),),
            )
            if args.reset_state:
                state.reset()
                err(
                    f"watch state reset ({state.path}): starting from the last {args.window}; pages sent are kept"
                )
        first_start_ms: int | None = None
        poller_kwargs: dict[str, Any] = {}
        if getattr(args, "input", None):
            # A saved export is evaluated as if it had just been fetched: "now" is its last event.
            span = source.default_window()
            end_ms = parse_instant(args.to) if args.to else (span.end if span else 0)
            poller_kwargs["clock"] = _fixed_clock(end_ms)
            if args.frm:
                first_start_ms = parse_instant(args.frm, now=end_ms / 1000)
        elif args.frm:
            first_start_ms = parse_instant(args.frm)
        first_lookback_s = None
        if args.demo and not args.frm and (state is None or state.last_polled is None):
            first_lookback_s = DEMO_FIRST_LOOKBACK_S
        poller = Poller(
            source,
            rules.enabled,
            interval_s=interval_s,
            window_s=window_s,
            overlap_s=overlap_s,
            first_start_ms=first_start_ms,
            first_lookback_s=first_lookback_s,
            state=state,
            save_state=not args.dry_run,  # a dry run changes nothing, not even the state
            pager=pager,
            resolve=args.resolve,
            site=settings.site,
            progress=progress_printer() if args.once else None,
            **poller_kwargs,
        )
        if args.dry_run and state is not None:
            err("dry run: nothing is sent and the state is not updated")
        if args.once:
            outcome = await poller.poll_now()
            code = _report_once(outcome, output, source.label, hook, getattr(args, "fail_on", None))
            if getattr(args, "case", None) and outcome.error is None:  # issue 15: the poll lands in the case
                await _journal_poll(args, settings, source, outcome)
            return code
        return await _watch_forever(poller, output, args, hook)
    finally:
        await source.aclose()
        if pager is not None:
            await pager.aclose()
        if state is not None:
            state.close()


async def _journal_poll(
    args: argparse.Namespace, settings: Settings, source: Any, outcome: PollOutcome
) -> None:
    """`--once --case NAME`: the alerts reported, with their events' raw items (from the loaded file, or
    fetched again over the poll's window)."""
    from ddaudit_tui.commands.case import journal_watch

    alerts = _reported(outcome)
    events: list[Any] = []
    if alerts:
        store = getattr(source, "store", None)
        if store is not None:
            events = list(store.events)
        elif outcome.window is not None:
            wanted = {i for a in alerts for i in a.event_ids}
            lo = min(a.first_seen for a in alerts)
            window = type(outcome.window)(min(lo, outcome.window.start), outcome.window.end)
            events = [e for e in (await source.fetch("*", window)).events if e.id in wanted]
    journal_watch(args, settings, alerts, events, outcome.window, outcome.complete)


def _fixed_clock(end_ms: int) -> Any:
    def clock() -> float:
        return end_ms / 1000

    return clock


def _reported(outcome: PollOutcome) -> list[Alert]:
    """New alerts, and older ones paged only now (a page that had failed before): each once."""
    seen: dict[str, Alert] = {}
    for a in [*outcome.opened, *outcome.paged]:
        seen.setdefault(a.dedup_key, a)
    return sorted(seen.values(), key=lambda a: (a.opened_at, a.dedup_key))


def _run_hooks(hook: list[str] | None, outcome: PollOutcome, output: _Output) -> None:
    """`--on-alert`: once per new alert (a re-page of an older one is not news to the person)."""
    if hook is None:
        return
    for alert in sorted(outcome.opened, key=lambda a: (a.opened_at, a.dedup_key)):
        problem = run_hook(hook, output.alert_json(alert))
        if problem is not None:
            err(f"on-alert: {alert.dedup_key}: {problem}")


def _report_once(
    outcome: PollOutcome,
    output: _Output,
    label: str,
    hook: list[str] | None = None,
    fail_on: str | None = None,
) -> int:
    for w in outcome.warnings:
        err(f"warning: {w}")
    if outcome.error is not None:
        err(f"poll failed: {outcome.error}")
        from ddaudit_tui.sources.datadog_errors import AuthError

        return EXIT_AUTH if isinstance(outcome.exception, AuthError) else EXIT_ERROR
    alerts = _reported(outcome)
    window = outcome.window
    _run_hooks(hook, outcome, output)
    output.report(
        alerts,
        {
            "mode": "once",
            "source": label,
            "window": {"from": iso(window.start), "to": iso(window.end)} if window else None,
            "events": outcome.new_events,
            "complete": outcome.complete,
            # As in every report: engine, requests, events, partial reasons, rate limit, retention, time.
            "completeness": outcome.completeness.to_json() if outcome.completeness else None,
        },
        outcome.completeness,
    )
    failed = {a.dedup_key for a, _ in outcome.page_failures}
    for alert, message in outcome.page_failures:
        err(f"PagerDuty: {alert.dedup_key}: {message}")
    for alert in outcome.undelivered:
        if alert.dedup_key in failed:
            continue
        why = f" ({alert.page_error})" if alert.page_error else ""
        if alert.page_status == PageStatus.FAILED:
            err(
                f"PagerDuty: {alert.dedup_key}: refused{why}; queued until the PagerDuty routing key or URL "
                "changes"
            )
        else:
            err(f"PagerDuty: {alert.dedup_key}: page pending{why}; retried next run")
    if outcome.state_error is not None:
        err(f"watch state: {outcome.state_error}")
        return EXIT_ERROR
    if outcome.undelivered:
        return EXIT_UNDELIVERED  # queued in the state and retried next run: nothing is lost
    if outcome.opened or outcome.paged:
        return EXIT_FIRED
    return partial_exit(fail_on, outcome.completeness) or EXIT_OK


async def _watch_forever(
    poller: Poller, output: _Output, args: argparse.Namespace, hook: list[str] | None = None
) -> int:
    """Poll until interrupted. Each poll prints its new alerts; failures are reported and retried."""
    failing = [False]

    def on_poll(outcome: PollOutcome) -> None:
        for w in outcome.warnings:
            err(f"warning: {w}")
        if outcome.error is not None:
            delay = human_duration(int(poller._delay() * 1000))
            err(f"poll failed: {outcome.error} (data stale; retrying in {delay})")
            failing[0] = True
            return
        if failing[0]:
            err("polling again: caught up")
            failing[0] = False
        alerts = _reported(outcome)
        if output.fmt == "json":
            output.ndjson(alerts)
        else:
            output.alerts_text(alerts)
        _run_hooks(hook, outcome, output)
        for alert, message in outcome.page_failures:
            err(f"PagerDuty: {alert.dedup_key}: {message} (will retry)")
        if outcome.state_error is not None:
            err(f"watch state: {outcome.state_error}")

    poller.on_poll = on_poll
    first = await poller.poll_now()
    from ddaudit_tui.sources.datadog_errors import AuthError

    if isinstance(first.exception, AuthError):
        return EXIT_AUTH  # wrong credentials will not fix themselves: fail where systemd shows it
    err(
        f"watching {poller.source.label} every {human_duration(int(poller.interval_s * 1000))} "
        f"with {len(poller.rules)} {RULE_LABEL}s; Ctrl-C to stop"
    )
    # SIGTERM (systemd stop) cancels this whole coroutine (`_until_terminated`): a clean exit, state saved.
    await poller.run(wait_first=True)
    return EXIT_OK
