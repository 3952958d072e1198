"""One folder with the whole investigation, for the people who receive it:

    ddaudit-case-<name>-<UTC time>/      mode 0700, files 0600
        report.md  report.html           the story: summary, timeline, key lookups, alerts, AI findings,
                                         marked evidence with notes, how to reproduce every query
        case.json                        the machine-readable case (journal, marks, notes, findings)
        evidence.ndjson.gz               the raw audit events behind every mark and finding, each once
        SHA256SUMS                       `sha256sum -c SHA256SUMS` checks the four files above

The folder is written under a temporary name and renamed when complete: it is there whole or not at all.
Event text is attacker-controlled: Markdown escapes its syntax, HTML escapes everything and loads nothing
(no scripts, styles inline, a Content-Security-Policy that forbids fetching). Secrets are never in a case:
sources are named by site and profile, and the report sections are the renderers' own redacted output.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from ddaudit_tui.case.model import (
    KIND_AI,
    KIND_COMPLIANCE,
    KIND_EXPORT,
    KIND_KEY,
    KIND_MARK,
    KIND_QUERY,
    KIND_WATCH,
    Case,
    JournalEntry,
    Mark,
)
from ddaudit_tui.case.store import CaseStore, _fsync_dir, atomic_write, make_private_dir, now_ms
from ddaudit_tui.events.record import Event
from ddaudit_tui.report import html as h
from ddaudit_tui.report.events_output import write_ndjson
from ddaudit_tui.safetext import clean
from ddaudit_tui.timeutil import Window, fmt_ts

__all__ = [
    "ExportResult",
    "export_case",
    "folder_name",
    "render_html",
    "render_md",
    "render_md_for",
    "timeline",
]

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CASE_JSON = "case.json"
EVIDENCE = "evidence.ndjson.gz"
SUMS = "SHA256SUMS"
FILES = (REPORT_MD, REPORT_HTML, CASE_JSON, EVIDENCE)


@dataclass
class ExportResult:
    path: Path  # the folder, absolute
    evidence: int  # events written to evidence.ndjson.gz
    missing: list[str] = field(default_factory=list)  # cited event ids whose raw event the case lacks
    problems: list[str] = field(default_factory=list)  # unreadable case lines (also in the report)


@dataclass
class _Doc:
    """Everything a report needs, gathered once."""

    case: Case
    store: CaseStore
    events: dict[str, Event]  # evidence, by id
    missing: list[str]
    exported: int
    problems: list[str]


def folder_name(name: str, at_ms: int) -> str:
    stamp = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"ddaudit-case-{name}-{stamp}"


# -- shared wording --------------------------------------------------------------------------------------


def _t(value: Any, max_len: int = 300) -> str:
    return clean(value, max_len=max_len) if value is not None else ""


def _window(w: tuple[int, int] | None) -> str:
    return f"{fmt_ts(w[0])} to {fmt_ts(w[1])}" if w else ""


def _what(e: JournalEntry) -> str:
    return {
        KIND_QUERY: "query",
        KIND_KEY: "key lookup",
        KIND_AI: "AI activity",
        KIND_WATCH: "spike watch",
        KIND_COMPLIANCE: "compliance",
    }.get(e.kind, e.kind)


def _reproduce(e: JournalEntry) -> list[tuple[str, str]]:
    """(label, text) ways to run this work again: the ddaudit command, and for a query the pup command,
    the explorer URL and the DDSQL query over the same absolute window."""
    out: list[tuple[str, str]] = []
    if e.command:
        out.append(("ddaudit", e.command))
    if e.kind == KIND_QUERY and e.query is not None and e.window is not None:
        from ddaudit_tui.report.copy_as import ddsql, explorer_url, pup_command

        site = e.source.site if e.source is not None and e.source.kind == "datadog" else None
        w = Window(*e.window)
        columns = e.extra.get("columns") if isinstance(e.extra.get("columns"), list) else None
        out += [
            ("pup", pup_command(e.query, w, site)),
            ("explorer URL", explorer_url(e.query, w, site)),
            ("DDSQL", ddsql(e.query, w, columns)),
        ]
    return out


def _counts(e: JournalEntry) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in e.counts.items())


def _complete(e: JournalEntry) -> str:
    if e.complete is None:
        return ""
    return "complete" if e.complete else "INCOMPLETE (see warnings)"


def _event_row(e: Event) -> list[Any]:
    what = " ".join(x for x in (e.evt_name, e.action) if x)
    asset = " ".join(x for x in (e.asset_type, e.asset_name or e.asset_id) if x)
    return [fmt_ts(e.ts), e.actor, what, asset, e.client_ip, e.country, e.id]


EVENT_HEADERS = ["Time (UTC)", "Actor", "Event", "Resource", "IP", "Country", "Event id"]


def _sorted_events(events: dict[str, Event], ids: Sequence[str]) -> list[Event]:
    return sorted((events[i] for i in dict.fromkeys(ids) if i in events), key=lambda e: (e.ts, e.id))


BATCH = 3  # this many marks in a row, of one kind from one query, are shown as one batch


def _batch_key(m: Mark) -> tuple[str, str, str | None]:
    return (m.pane, m.kind, m.ref.get("query"))


def timeline(entries: Sequence[JournalEntry]) -> list[tuple[str, int, str, str]]:
    """(seq, time, action, what) rows; a run of marks made together (`--mark-all`, a multi-select) is one row."""
    rows: list[tuple[str, int, str, str]] = []
    run: list[JournalEntry] = []

    def flush() -> None:
        if len(run) >= BATCH:
            m = run[0].mark
            assert m is not None
            query = m.ref.get("query")
            what = f"marked {len(run)} {m.kind}s" + (f" from the query {query}" if query else "")
            rows.append((f"{run[0].seq}–{run[-1].seq}", run[0].ts, "mark", what))
        else:
            rows.extend((str(e.seq), e.ts, _what(e), e.summary) for e in run)
        run.clear()

    for e in entries:
        batchable = e.kind == KIND_MARK and e.mark is not None
        if not (
            batchable and run and run[-1].mark is not None and _batch_key(run[-1].mark) == _batch_key(e.mark)
        ):  # type: ignore[arg-type]
            flush()
        if batchable:
            run.append(e)
        else:
            rows.append((str(e.seq), e.ts, _what(e), e.summary))
    flush()
    return rows


def _mark_groups(case: Case) -> list[list[Mark]]:
    """Marks in order; a run of noteless marks of one kind from one query is one group (one table)."""
    groups: list[list[Mark]] = []
    for m in case.marks.values():
        last = groups[-1] if groups else None
        if (
            last is not None
            and m.id not in case.notes
            and last[-1].id not in case.notes
            and _batch_key(last[-1]) == _batch_key(m)
        ):
            last.append(m)
        else:
            groups.append([m])
    out: list[list[Mark]] = []
    for g in groups:  # small runs read better one by one
        out.extend([g] if len(g) >= BATCH else [[m] for m in g])
    return out


def _group_title(g: list[Mark]) -> str:
    if len(g) == 1:
        return f"{g[0].id} — {g[0].kind}: {g[0].label}"
    query = g[0].ref.get("query")
    return f"{g[0].id}–{g[-1].id} — {len(g)} {g[0].kind}s marked" + (
        f" from the query {query}" if query else ""
    )


def _group_events(d: _Doc, g: list[Mark]) -> list[tuple[str, Event]]:
    """(mark id, event) rows, oldest first."""
    rows = [(m.id, e) for m in g for e in _sorted_events(d.events, m.event_ids)]
    return sorted(rows, key=lambda r: (r[1].ts, r[1].id))


# -- Markdown ---------------------------------------------------------------------------------------------


def _demote(md_text: str, levels: int = 2) -> str:
    """A nested report's headings, `levels` down (its `#` title becomes `###`)."""
    out = []
    fence = False
    for line in md_text.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def render_md(d: _Doc) -> str:
    from ddaudit_tui.report.key_report import md, md_cell, md_code

    c = d.case
    out: list[str] = []
    w = out.append
    w(f"# Case {md(c.name)}")
    w("")
    w(f"- **Analyst:** {md(c.analyst)}")
    w(f"- **Opened:** {fmt_ts(c.created)}")
    w(f"- **Exported:** {fmt_ts(d.exported)}")
    for s in c.sources() or []:
        w(f"- **Source:** {md(s.describe())}")
    work = c.work()
    w(
        f"- **Journal:** {len(c.entries)} actions · {len(c.key_lookups())} key lookups · "
        f"{sum(e.kind == KIND_QUERY for e in work)} queries · {len(c.marks)} marks · {len(c.findings())} findings · "
        f"{len(d.events)} evidence events"
    )
    note = c.case_note()
    if note is not None:
        w("")
        w("> " + md(note.text).replace("\n", "\n> "))
    w("")
    w("## Summary")
    w("")
    for e in work:
        done = "" if e.complete in (None, True) else " — **incomplete**"
        w(f"- {fmt_ts(e.ts)} — {md(e.summary)}{done}")
    if not work:
        w("- (no queries or lookups)")
    w("")
    w("## Timeline")
    w("")
    w("| # | Time (UTC) | Action | What |")
    w("|---|---|---|---|")
    for seq, ts, what, summary in timeline(c.entries):
        w(f"| {seq} | {fmt_ts(ts)} | {md_cell(what)} | {md_cell(summary)} |")
    w("")
    for kind, title in ((KIND_KEY, "Key lookups"), (KIND_AI, "AI activity"), (KIND_COMPLIANCE, "Compliance")):
        entries = [e for e in c.entries if e.kind == kind]
        if not entries:
            continue
        w(f"## {title}")
        w("")
        for e in entries:
            section = d.store.section(e.section, "md") if e.section else None
            w(
                f"*Journal entry {e.seq}, {fmt_ts(e.ts)}"
                + (f", window {_window(e.window)}*" if e.window else "*")
            )
            w("")
            w(_demote(section) if section else md(e.summary))
            w("")
    alerts = [(e, f) for e, f in c.findings() if f.kind == "alert"]
    if alerts:
        w("## Alerts")
        w("")
        for e, f in alerts:
            sev = f"**{md(f.severity.upper())}** " if f.severity else ""
            w(f"- {sev}{md(f.title)} (entry {e.seq}; {len(f.event_ids)} events)")
        w("")
    ai = [(e, f) for e, f in c.findings() if f.kind == "ai_flag"]
    if ai:
        w("## AI findings")
        w("")
        for e, f in ai:
            w(
                f"- **{md((f.severity or '').upper())}** {md(f.title)} (entry {e.seq}; {len(f.event_ids)} events)"
            )
        w("")
    w("## Marked evidence")
    w("")
    if not c.marks:
        w("(no marks)")
        w("")
    for g in _mark_groups(c):
        w(f"### {md(_group_title(g))}")
        w("")
        n_events = len({i for m in g for i in m.event_ids})
        w(f"Marked {fmt_ts(g[0].ts)} in {md(g[0].pane)}; {n_events} event(s).")
        n = c.notes.get(g[0].id) if len(g) == 1 else None
        if n is not None:
            w("")
            w("> **Note:** " + md(n.text).replace("\n", "\n> "))
        rows = _group_events(d, g)
        if rows:
            w("")
            w("| Mark | " + " | ".join(EVENT_HEADERS) + " |")
            w("|---|" + "---|" * len(EVENT_HEADERS))
            for mid, ev in rows:
                w(
                    f"| {mid} | "
                    + " | ".join(md_cell(x) if x is not None else " " for x in _event_row(ev))
                    + " |"
                )
        w("")
    findings = c.findings()
    if findings:
        w("## Findings and their events")
        w("")
        w("| Entry | Kind | Severity | Finding | Events |")
        w("|---|---|---|---|---|")
        for e, f in findings:
            ids = ", ".join(f.event_ids[:5]) + (
                f" … (+{len(f.event_ids) - 5})" if len(f.event_ids) > 5 else ""
            )
            w(
                f"| {e.seq} | {md_cell(f.kind)} | {md_cell(f.severity or '')} | {md_cell(f.title)} | {md_cell(ids)} |"
            )
        w("")
    w("## Reproduce")
    w("")
    for e in work:
        ways = _reproduce(e)
        if not ways:
            continue
        w(f"### {e.seq}. {md(_what(e))} — {md(e.summary)}")
        w("")
        if e.window:
            w(f"Window: {_window(e.window)}. {md(_counts(e))}. {_complete(e)}".rstrip())
            w("")
        for label, text in ways:
            w(f"{label}:")
            w("")
            w("```")
            w(clean(text, single_line=False).replace("```", "`\u200b``"))
            w("```")
            w("")
        for warning in e.warnings:
            w(f"- warning: {md(warning)}")
    w("## Evidence")
    w("")
    w(
        f"`{EVIDENCE}` holds the {len(d.events)} raw audit events behind the marks and findings, each once, "
        "oldest first, one JSON item per line as it was read. Open them again with "
        f"{md_code(f'ddaudit --input {EVIDENCE}')} (or `ddaudit search '*' --input {EVIDENCE}`)."
    )
    if d.missing:
        w("")
        w(f"Cited but not stored in the case (not in the evidence file): {md(', '.join(d.missing))}")
    w("")
    w(f"`{SUMS}` lists the sha256 of every other file: check the folder with `sha256sum -c {SUMS}`.")
    if d.problems:
        w("")
        w("## Unreadable case lines")
        w("")
        w("These lines of the stored case could not be read and are not in this report:")
        w("")
        for p in d.problems:
            w(f"- {md(p)}")
    return "\n".join(out).rstrip() + "\n"


# -- HTML -------------------------------------------------------------------------------------------------


def _pre(text: str) -> h.Markup:
    return h.tag("pre", h.esc(text, single_line=False))


def _demote_html(body: str) -> str:
    """A nested report's headings under the case's own `h2` sections: h1/h2 → h3, h3 → h4. (Its values
    were escaped when it was rendered: a `<h` in it is one of its own tags.)"""
    for old, new in (("h3", "h4"), ("h2", "h3"), ("h1", "h3")):
        body = (
            body.replace(f"<{old}>", f"<{new}>")
            .replace(f"<{old} ", f"<{new} ")
            .replace(f"</{old}>", f"</{new}>")
        )
    return body


def render_html(d: _Doc) -> str:
    c = d.case
    parts: list[Any] = []
    add = parts.append
    work = c.work()
    add(
        h.dl(
            [
                ("Analyst", c.analyst),
                ("Opened", fmt_ts(c.created)),
                ("Exported", fmt_ts(d.exported)),
                *(("Source", s.describe()) for s in c.sources()),
                (
                    "Journal",
                    f"{len(c.entries)} actions · {len(c.key_lookups())} key lookups · "
                    f"{sum(e.kind == KIND_QUERY for e in work)} queries · {len(c.marks)} marks · "
                    f"{len(c.findings())} findings · {len(d.events)} evidence events",
                ),
            ]
        )
    )
    note = c.case_note()
    if note is not None:
        add(h.tag("blockquote", h.esc(note.text, single_line=False)))
    add(h.section("Summary", h.ul(f"{fmt_ts(e.ts)} — {e.summary}" for e in work) if work else "(no work)"))
    add(
        h.section(
            "Timeline",
            h.table(
                ["#", "Time (UTC)", "Action", "What"],
                [[seq, fmt_ts(ts), what, summary] for seq, ts, what, summary in timeline(c.entries)],
            ),
        )
    )
    for kind, title in ((KIND_KEY, "Key lookups"), (KIND_AI, "AI activity"), (KIND_COMPLIANCE, "Compliance")):
        entries = [e for e in c.entries if e.kind == kind]
        if not entries:
            continue
        body = []
        for e in entries:
            section = d.store.section(e.section, "html") if e.section else None
            when = f"Journal entry {e.seq}, {fmt_ts(e.ts)}" + (
                f", window {_window(e.window)}" if e.window else ""
            )
            body.append(h.paragraph(when, "muted small"))
            # Our own renderer's output, every value escaped when it was rendered.
            body.append(
                h.tag("section", h.Markup(_demote_html(section))) if section else h.paragraph(e.summary)
            )
        add(h.section(title, h.join(body)))
    findings = c.findings()
    alerts = [(e, f) for e, f in findings if f.kind == "alert"]
    if alerts:
        add(
            h.section(
                "Alerts",
                h.table(
                    ["Entry", "Severity", "Alert", "Events"],
                    [[e.seq, f.severity or "", f.title, len(f.event_ids)] for e, f in alerts],
                ),
            )
        )
    mark_parts: list[Any] = []
    for g in _mark_groups(c):
        mark_parts.append(h.tag("h3", _group_title(g)))
        n_events = len({i for m in g for i in m.event_ids})
        mark_parts.append(
            h.paragraph(f"Marked {fmt_ts(g[0].ts)} in {g[0].pane}; {n_events} event(s).", "muted")
        )
        n = c.notes.get(g[0].id) if len(g) == 1 else None
        if n is not None:
            mark_parts.append(
                h.tag("blockquote", h.Markup(h.tag("strong", "Note: ") + h.esc(n.text, single_line=False)))
            )
        rows = _group_events(d, g)
        if rows:
            mark_parts.append(h.table(["Mark", *EVENT_HEADERS], [[mid, *_event_row(ev)] for mid, ev in rows]))
    add(h.section("Marked evidence", h.join(mark_parts) if mark_parts else "(no marks)"))
    if findings:
        add(
            h.section(
                "Findings and their events",
                h.table(
                    ["Entry", "Kind", "Severity", "Finding", "Event ids"],
                    [[e.seq, f.kind, f.severity or "", f.title, ", ".join(f.event_ids)] for e, f in findings],
                ),
            )
        )
    repro: list[Any] = []
    for e in work:
        ways = _reproduce(e)
        if not ways:
            continue
        repro.append(h.tag("h3", f"{e.seq}. {_what(e)} — {e.summary}"))
        if e.window:
            repro.append(h.paragraph(f"Window: {_window(e.window)}. {_counts(e)}. {_complete(e)}"))
        for label, text in ways:
            repro.append(h.paragraph(h.tag("strong", label)))
            repro.append(_pre(text))
        if e.warnings:
            repro.append(h.ul(f"warning: {x}" for x in e.warnings))
    add(h.section("Reproduce", h.join(repro) if repro else "(nothing to reproduce)"))
    ev_text = [
        h.paragraph(
            f"{EVIDENCE} holds the {len(d.events)} raw audit events behind the marks and findings, each once, "
            f"oldest first. Open them again with: ddaudit --input {EVIDENCE}"
        ),
        h.paragraph(f"{SUMS} lists the sha256 of every other file: sha256sum -c {SUMS}"),
    ]
    if d.missing:
        ev_text.append(h.paragraph(f"Cited but not stored in the case: {', '.join(d.missing)}"))
    add(h.section("Evidence", h.join(ev_text)))
    if d.problems:
        add(h.section("Unreadable case lines", h.ul(d.problems)))
    return h.page(f"Case {c.name}", h.join(parts), subtitle="ddaudit investigation report")


def _doc(store: CaseStore, case: Case | None = None) -> _Doc:
    case = store.load() if case is None else case
    problems = list(case.problems)
    stored = store.events(problems)
    ids = case.evidence_ids()
    events = {i: stored[i] for i in ids if i in stored}
    missing = [i for i in ids if i not in stored]
    return _Doc(case, store, events, missing, now_ms(), problems)


def render_md_for(store: CaseStore, case: Case | None = None) -> str:
    """The case's report.md, as it would be exported now (`ddaudit case show --format md`)."""
    return render_md(_doc(store, case))


# -- writing ----------------------------------------------------------------------------------------------


def _evidence_bytes(events: Sequence[Event]) -> bytes:
    raw = io.BytesIO()
    write_ndjson(events, raw)
    out = io.BytesIO()
    # No name and no time in the gzip header: the same evidence gives the same bytes (and sha256).
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def export_case(store: CaseStore, out_dir: str | Path | None = None, *, journal: bool = True) -> ExportResult:
    """Write the case's folder under `out_dir` (default: the current directory) and journal the export.
    Returns the folder's absolute path and what was (not) included."""
    doc = _doc(store)
    case, events, exported = doc.case, doc.events, doc.exported

    base = Path(out_dir).expanduser() if out_dir is not None else Path.cwd()
    base = base.resolve()
    name = folder_name(case.name, exported)
    final = base / name
    n = 2
    while final.exists():
        final = base / f"{name}-{n}"
        n += 1
    tmp = base / f".{final.name}.partial-{os.getpid()}"
    files = {
        REPORT_MD: render_md(doc).encode("utf-8"),
        REPORT_HTML: render_html(doc).encode("utf-8"),
        CASE_JSON: msgspec.json.format(msgspec.json.encode(case.to_json()), indent=2) + b"\n",
        EVIDENCE: _evidence_bytes(sorted(events.values(), key=lambda e: (e.ts, e.id))),
    }
    files[SUMS] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {fn}\n" for fn, data in files.items()
    ).encode()
    try:
        base.mkdir(parents=True, exist_ok=True)
        make_private_dir(tmp)
        for fn, data in files.items():
            atomic_write(tmp / fn, data)
        os.rename(tmp, final)
        _fsync_dir(base)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise OSError(f"{final}: cannot write the case export ({exc.strerror or exc})") from None
    if journal:
        store.record(
            KIND_EXPORT,
            f"exported to {final} ({len(events)} evidence events)",
            path=str(final),
            counts={"evidence": len(events), "marks": len(case.marks), "findings": len(case.findings())},
        )
    return ExportResult(final, len(events), doc.missing, doc.problems)
