"""What each piece of work leaves in a case: a journal entry, the raw events its findings cite, and its
report section. Called by the headless commands (`--case NAME`) and, later, by the TUI's panes.

    record_query(store, result, query=…, source=…, command=…, mark_all=…)   Explore / `ddaudit search`
    record_key(store, report, source=…, command=…)                          Key lookup / `ddaudit key`
    record_ai(store, activity, …)  record_watch(store, alerts, …)  record_compliance(store, report, …)

No Textual, no network: results in, durable lines out.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ddaudit_tui.case.model import (
    KIND_AI,
    KIND_COMPLIANCE,
    KIND_KEY,
    KIND_QUERY,
    KIND_WATCH,
    FileRef,
    Finding,
    JournalEntry,
    SourceInfo,
)
from ddaudit_tui.case.store import CaseStore
from ddaudit_tui.events.record import Event
from ddaudit_tui.safetext import clean
from ddaudit_tui.timeutil import Window, iso

__all__ = [
    "alert_finding",
    "command_line",
    "event_label",
    "html_body",
    "record_ai",
    "record_compliance",
    "record_key",
    "record_query",
    "record_watch",
    "source_info",
]

MAX_LABEL = 160


def _sha256(path: str) -> tuple[str | None, int | None]:
    try:
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
        return h.hexdigest(), size
    except OSError:
        return None, None


def source_info(args: argparse.Namespace, settings: Any, events: Iterable[Event] = ()) -> SourceInfo:
    """The source the arguments name: site and profile (never a key, never a URL that may carry a
    password), the demo's seed, or the input files with their sha256."""
    org = next((e.org_name for e in events if e.org_name), None)
    if getattr(args, "input", None):
        files = []
        for p in args.input:
            if p == "-":
                files.append(FileRef(path="<stdin>"))
                continue
            digest, size = _sha256(p)
            files.append(FileRef(path=str(Path(p).expanduser().resolve()), sha256=digest, size=size))
        return SourceInfo(kind="files", files=tuple(files), org=org)
    if getattr(args, "demo", False):
        return SourceInfo(kind="demo", seed=getattr(args, "seed", 7), org=org)
    return SourceInfo(
        kind="datadog",
        site=getattr(settings, "site", None),
        profile=getattr(settings, "profile", None),
        org=org,
    )


def command_line(
    command: str,
    args: argparse.Namespace,
    window: Window | None,
    *,
    positional: Sequence[str] = (),
    options: Sequence[str] = (),
) -> str:
    """The `ddaudit` command that does this work again, over the same absolute window and the same source.
    `options`: the command's own option names (dest), copied when set. Connection settings that may hold
    a secret (API URL, proxy) are left out: the profile names them."""
    parts = ["ddaudit", *command.split(), *positional]
    for dest in options:
        value = getattr(args, dest, None)
        if value in (None, False, "", []):
            continue
        flag = "--" + dest.replace("_", "-")
        if value is True:
            parts.append(flag)
        else:
            parts += [flag, str(value)]
    if getattr(args, "demo", False):
        parts.append("--demo")
        if getattr(args, "seed", 7) != 7:
            parts += ["--seed", str(args.seed)]
    for p in getattr(args, "input", None) or []:
        parts += ["--input", p]
    for dest, flag in (("profile", "--profile"), ("site", "--site")):
        if getattr(args, dest, None):
            parts += [flag, getattr(args, dest)]
    if window is not None:
        parts += ["--from", iso(window.start), "--to", iso(window.end)]
    return shlex.join(parts)


def event_label(e: Event) -> str:
    """One line for a marked event: time, actor, what, on what, from where (terminal-safe)."""
    what = e.evt_name or ""
    if e.action:
        what = f"{what} {e.action}".strip()
    target = " ".join(x for x in (e.asset_type, e.asset_name or e.asset_id) if x)
    bits = [iso(e.ts), e.actor, what, target, e.client_ip or ""]
    return clean(" · ".join(b for b in bits if b), max_len=MAX_LABEL)


def html_body(page: str) -> str:
    """The body of one of our own HTML report pages, to nest in the case's report. (Our renderers escape
    every value: `<body>` cannot come from an event.)"""
    return page.split("<body>", 1)[-1].rsplit("</body>", 1)[0]


def _flag_findings(flags: Iterable[Any], kind: str) -> list[Finding]:
    from ddaudit_tui.analysis.keys import SIGNAL_TITLES

    return [
        Finding(
            kind=kind,
            title=clean(f"{SIGNAL_TITLES.get(f.signal, f.signal)}: {f.reason}", max_len=300),
            severity=f.severity.word,
            subject=clean(f.subject, max_len=200) if f.subject else None,
            event_ids=tuple(f.event_ids),
        )
        for f in flags
    ]


def _cited(events: Iterable[Event], findings: Iterable[Finding]) -> list[Event]:
    ids = {i for f in findings for i in f.event_ids}
    return [e for e in events if e.id in ids]


def record_query(
    store: CaseStore,
    result: Any,
    *,
    query: str,
    source: SourceInfo,
    command: str | None = None,
    pane: str = "explore",
    mark_all: bool = False,
    columns: Sequence[str] | None = None,
    preset: str | None = None,
    pane_window: bool = False,
) -> JournalEntry:
    """A search: query, window, count, completeness. `mark_all`: every result becomes a mark.
    `preset`: the preset it came from; `pane_window`: the window was Explore's own (a preset's), not the
    app's — reopening the case gives it back to Explore."""
    n = len(result.events)
    extra: dict[str, Any] = {"columns": list(columns)} if columns else {}
    if preset:
        extra["preset"] = preset
    if pane_window:
        extra["pane_window"] = True
    done = "" if result.complete else " (incomplete)"
    entry = store.record(
        KIND_QUERY,
        clean(f"searched {query} — {n} events{done}", max_len=300),
        pane=pane,
        source=source,
        query=query,
        window=(result.window.start, result.window.end),
        counts={"events": n},
        complete=bool(result.complete),
        warnings=tuple(clean(w, max_len=300) for w in result.warnings),
        command=command,
        extra=extra,
    )
    if mark_all and result.events:
        store.mark_many(
            [("event", event_label(e), [e], {"query": query, "event_id": e.id}) for e in result.events],
            pane=pane,
        )
    return entry


def record_key(
    store: CaseStore, report: Any, *, source: SourceInfo, command: str | None = None, pane: str = "lookup"
) -> JournalEntry:
    """A key lookup: verdict, flag counts, its findings (flags, destructive actions) with their events,
    and its report section (the Markdown and HTML renderers' own output)."""
    from ddaudit_tui.analysis.keys import severity_counts
    from ddaudit_tui.report import key_report

    findings = _flag_findings(report.flags, "flag")
    for d in report.destructive:
        what = (
            " ".join(str(x) for x in (d.resource_type, d.resource_name or d.resource_id) if x) or "resource"
        )
        findings.append(
            Finding(
                kind="destructive",
                title=clean(f"{d.kind}: {what} at {iso(d.ts)}", max_len=300),
                subject=clean(d.resource_id, max_len=200) if d.resource_id else None,
                event_ids=tuple(dict.fromkeys((d.event_id, *d.related_ids))),
            )
        )
    store.add_events(_cited([*report.events, *getattr(report, "related", ())], findings))
    section = f"key-{store.load().next_seq}"
    store.write_section(
        section, md=key_report.render_md(report), html=html_body(key_report.render_html(report))
    )
    counts = {f"flags_{sev.lower()}": n for sev, n in severity_counts(report.flags).items()}
    counts.update(events=report.total_events, flags=len(report.flags), destructive=len(report.destructive))
    sev = ", ".join(f"{n} {s}" for s, n in severity_counts(report.flags).items() if n)
    return store.record(
        KIND_KEY,
        clean(
            f"key {report.key_id}: {key_report.verdict_label(report.verdict)}" + (f" — {sev}" if sev else ""),
            max_len=300,
        ),
        pane=pane,
        source=source,
        key_id=report.key_id,
        verdict=report.verdict,
        window=(report.window.start, report.window.end),
        counts=counts,
        complete=not any("incomplete" in w for w in report.warnings),
        warnings=tuple(clean(w, max_len=300) for w in report.warnings),
        findings=tuple(findings),
        section=section,
        command=command,
    )


def record_ai(
    store: CaseStore, activity: Any, *, source: SourceInfo, command: str | None = None, pane: str = "ai",
    user: str | None = None, query: str | None = None,
) -> JournalEntry:  # fmt: skip
    from ddaudit_tui.report import ai_report

    findings = _flag_findings(activity.flags, "ai_flag")
    store.add_events(_cited((c.event for c in activity.calls), findings))
    section = f"ai-{store.load().next_seq}"
    store.write_section(
        section, md=ai_report.render_md(activity), html=html_body(ai_report.render_html(activity))
    )
    who = f" for {user}" if user else ""
    # Counted, not listed: under DDSQL `activity.calls` holds only the events fetched whole.
    n = activity.counts.get("ai_events", len(activity.calls))
    return store.record(
        KIND_AI,
        clean(f"AI activity{who}: {n} AI events, {len(activity.flags)} flags", max_len=300),
        pane=pane,
        source=source,
        query=query,
        window=(activity.window.start, activity.window.end),
        counts={"calls": n, "flags": len(activity.flags)},
        complete=bool(activity.complete),
        warnings=tuple(clean(w, max_len=300) for w in activity.warnings),
        findings=tuple(findings),
        section=section,
        command=command,
        extra={"user": user} if user else {},
    )


def alert_finding(alert: Any) -> Finding:
    """An alert as a finding, with its burst's events: the same from `watch --once` and the TUI's opened
    alert, so a headless case and a TUI one agree (docs/cases.md)."""
    return Finding(
        kind="alert",
        title=clean(
            f"{alert.rule} {alert.group}: {alert.count} events from {iso(alert.first_seen)}", max_len=300
        ),
        severity=alert.severity.word,
        subject=clean(alert.group, max_len=200),
        event_ids=tuple(alert.event_ids),
    )


def record_watch(
    store: CaseStore,
    alerts: Sequence[Any],
    events: Iterable[Event],
    *,
    source: SourceInfo,
    window: Window | None,
    complete: bool,
    command: str | None = None,
    pane: str = "watch",
) -> JournalEntry:
    """A Spike watch poll: each alert it reported is a finding, with the events of its burst."""
    findings = [alert_finding(a) for a in alerts]
    store.add_events(_cited(events, findings))
    return store.record(
        KIND_WATCH,
        f"spike watch poll: {len(alerts)} alert(s)",
        pane=pane,
        source=source,
        window=(window.start, window.end) if window else None,
        counts={"alerts": len(alerts)},
        complete=complete,
        findings=tuple(findings),
        command=command,
    )


def record_compliance(
    store: CaseStore, report: Any, *, source: SourceInfo, command: str | None = None
) -> JournalEntry:
    from ddaudit_tui.report import compliance_report

    section = f"compliance-{store.load().next_seq}"
    store.write_section(
        section,
        md=compliance_report.render_md(report),
        html=html_body(compliance_report.render_html(report)),
    )
    findings = [
        Finding(kind="gap", title=clean(f"{g.control}: {g.reason}", max_len=300), subject=g.control)
        for g in report.gaps
    ]
    return store.record(
        KIND_COMPLIANCE,
        f"{report.framework_name} evidence report: {report.total_events} events, {len(report.gaps)} gaps",
        pane="cli",
        source=source,
        window=(report.window.start, report.window.end),
        counts={"events": report.total_events, "gaps": len(report.gaps)},
        complete=bool(report.complete),
        warnings=tuple(clean(w, max_len=300) for w in report.warnings),
        findings=tuple(findings),
        section=section,
        command=command,
    )
