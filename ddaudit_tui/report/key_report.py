"""Renderers of the key lookup (`analysis.keys.KeyReport`): text, Markdown, JSON and HTML.

Text and Markdown follow the recipe's *Investigation Output Format* (`detections.md` §3.3) — the same
labels in the same order (Key ID, Created, Active period, Total events, Origins, Endpoints called (top 5),
Destructive actions, Recommended actions) — then the verdict, the flags, creation details, baselines and
the most recent events. JSON uses the recipe's jq field names (`origins[].country/count/asns/ips`,
`endpoints[].path/methods/count`, `destructive[]`, `created{}`, `timeline[]`), with extra fields beside
them. Renderers only format what the analysis found; they never recompute it.

Event text is attacker-controlled: text output drops terminal control sequences, Markdown escapes its
syntax characters, HTML escapes everything (`report/html.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from ddaudit_tui.analysis.keys import (
    SIGNAL_TITLES,
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    KeyReport,
    OriginGroup,
    severity_counts,
    timeline_row,
)
from ddaudit_tui.analysis.signals import Flag
from ddaudit_tui.outcome import look
from ddaudit_tui.outcome import verdict_label as outcome_verdict_label
from ddaudit_tui.report import completeness as done
from ddaudit_tui.report import html as h
from ddaudit_tui.report.registry import register
from ddaudit_tui.safetext import clean, json_safe
from ddaudit_tui.timeutil import fmt_ts, iso

TOP_ENDPOINTS = 5
TEXT_TIMELINE = 20  # most recent events shown in text/Markdown (every event is in the JSON)
HTML_TIMELINE = 500
EVIDENCE_SHOWN = 5  # event ids listed per flag in text/Markdown


# -- shared wording ---------------------------------------------------------------------------------


def _t(value: Any) -> str:
    """Terminal-safe single-line text."""
    return clean(value) if value is not None else ""


def _ts(ms: int | None) -> str:
    return fmt_ts(ms) if ms is not None else "unknown"


def verdict_label(verdict: str) -> str:
    """`✖ LIKELY COMPROMISED`, `▲ SUSPICIOUS`, `✓ NO EVIDENCE`: the outcome map's glyph and word, as the
    TUI's card shows them."""
    return outcome_verdict_label(verdict)


def _created_line(r: KeyReport) -> str:
    c = r.created
    if c is None:
        return "unknown (no creation event found and no API key metadata)"
    by = c.created_by or "unknown user"
    return f"{_ts(c.created_at)} by {by}"


def _origin_line(o: OriginGroup) -> tuple[str, str, str]:
    """(country, ASN names, flag) for `<Country> (<ASN>): <N> events — [NORMAL / FLAG: first-time origin]`."""
    country = o.country or "(unknown country)"
    asns = ", ".join(a for a in o.asns if a) or "unknown ASN"
    return country, asns, o.flag


def _calls(n: int) -> str:
    return "1 call" if n == 1 else f"{n} calls"


def _methods(methods: Iterable[str | None]) -> str:
    return "/".join(m or "?" for m in methods)


def _destructive_summary(r: KeyReport) -> str:
    n = len(r.destructive)
    if not n:
        return "0 deletions"
    types: list[str] = []
    for d in r.destructive:
        t = d.resource_type or "unknown"
        if t not in types:
            types.append(t)
    return f"{n} deletion{'s' if n != 1 else ''} — {', '.join(types)}"


def _flag_title(f: Flag) -> str:
    return SIGNAL_TITLES.get(f.signal, f.signal)


def _evidence(f: Flag) -> str:
    ids = list(f.event_ids)
    total = f.details.get("events") if isinstance(f.details.get("events"), int) else None
    shown = ", ".join(ids[:EVIDENCE_SHOWN])
    more = len(ids) - EVIDENCE_SHOWN
    text = shown + (f", … (+{more})" if more > 0 else "")
    if total is not None and total > len(ids):
        text += f" [{total} events, {len(ids)} ids kept]"
    return text or "—"


def _api_key_rows(r: KeyReport) -> list[tuple[str, str]]:
    k = r.api_key
    if k is None:
        return [("API Keys endpoint", r.api_key_status)]
    leaked = "unknown" if k.leaked is None else (look("leaked").label if k.leaked else "no")
    if k.leaked and (k.leak_date or k.leak_source):
        leaked += f" ({', '.join(x for x in (k.leak_date, k.leak_source) if x)})"
    rows = [
        ("Name", k.name or ""),
        ("Last 4", k.last4 or ""),
        ("Created at (API)", k.created_at or ""),
        ("Created by (API)", k.created_by.display if k.created_by else ""),
        ("Last used", k.date_last_used or k.last_used_timestamp or "never / unknown"),
        (
            "Used in last 24 hours",
            "unknown" if k.used_in_last_24_hours is None else str(k.used_in_last_24_hours).lower(),
        ),
        ("Leaked", leaked),
    ]
    return rows


def summary_line(r: KeyReport) -> str:
    """One paragraph for the clipboard or a chat message: verdict, counts, origins, deletions."""
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(r.flags).items() if n) or "no flags"
    origins = ", ".join(
        f"{o.country or 'unknown'} {o.count}" + (" (first-time)" if o.status == "new" else "")
        for o in r.origins[:4]
    )
    parts = [
        f"API key {r.key_id}: {verdict_label(r.verdict)} ({counts})",
        f"{r.total_events} events {_ts(r.first_seen)} → {_ts(r.last_seen)}"
        if r.events
        else "no events in the window",
    ]
    if origins:
        parts.append(f"origins: {origins}")
    parts.append(_destructive_summary(r))
    if r.created is not None:
        parts.append(f"created {_created_line(r)}")
    return _t("; ".join(parts) + ".")


# -- JSON ------------------------------------------------------------------------------------------------


def key_report_json(r: KeyReport) -> dict[str, Any]:
    """The report as JSON-ready data, with the recipe's jq field names."""
    c = r.created
    created = (
        None
        if c is None
        else {
            "created_at": iso(c.created_at) if c.created_at is not None else None,
            "created_by": c.created_by,
            "creator_ip": c.creator_ip,
            "creator_country": c.creator_country,
            "source": c.source,
            "event_id": c.event_id,
        }
    )
    timeline = []
    for e in r.events:
        row = timeline_row(e)
        row["id"] = e.id
        row["route"] = e.endpoint
        row["signals"] = list(r.event_signals.get(e.id, ()))
        timeline.append(row)
    origins = [
        {
            "country": o.country,
            "count": o.count,
            "asns": list(o.asns),
            "ips": list(o.ips),
            "flag": o.flag,
            "country_iso": o.country_iso,
            "networks": [
                {
                    "asn": n.asn,
                    "asn_name": n.asn_name,
                    "class": n.origin.kind,
                    "classified_by": n.origin.source or None,
                    "label": n.origin.label,
                    "count": n.count,
                    "ips": list(n.ips),
                }
                for n in o.networks
            ],
        }
        for o in r.origins
    ]
    k = r.api_key
    api_key = None
    if k is not None:
        api_key = {
            "id": k.id,
            "name": k.name,
            "last4": k.last4,
            "category": k.category,
            "created_at": k.created_at,
            "created_by": k.created_by.display if k.created_by else None,
            "modified_at": k.modified_at,
            "date_last_used": k.date_last_used,
            "last_used_timestamp": k.last_used_timestamp,
            "used_in_last_24_hours": k.used_in_last_24_hours,
            "leaked": k.leaked,
            "leak_date": k.leak_date,
            "leak_source": k.leak_source,
        }
    flags = []
    for f in r.flags:
        fj = f.to_json()
        fj["title"] = _flag_title(f)
        flags.append(fj)
    return {
        "key_id": r.key_id,
        "window": {"from": iso(r.window.start), "to": iso(r.window.end)},
        "source": r.source_label,
        "generated_at": iso(r.generated_at),
        "created": created,
        "first_seen": iso(r.first_seen) if r.first_seen is not None else None,
        "last_seen": iso(r.last_seen) if r.last_seen is not None else None,
        "total_events": r.total_events,
        "timeline": timeline,
        "origins": origins,
        "endpoints": [{"path": g.path, "methods": list(g.methods), "count": g.count} for g in r.endpoints],
        "routes": [{"path": g.path, "methods": list(g.methods), "count": g.count} for g in r.routes],
        "destructive": [
            {
                "timestamp": iso(d.ts),
                "resource_type": d.resource_type,
                "resource_id": d.resource_id,
                "ip": d.ip,
                "country": d.country,
                "resource_name": d.resource_name,
                "kind": d.kind,
                "method": d.method,
                "path": d.path,
                "status": d.status,
                "event_id": d.event_id,
                "related_event_ids": list(d.related_ids),
            }
            for d in r.destructive
        ],
        "flags": flags,
        "severity_counts": severity_counts(r.flags),
        "verdict": r.verdict,
        "verdict_reasons": list(r.verdict_reasons),
        "recommended_actions": list(r.recommended_actions),
        "affected_resources": [
            {
                "resource_type": a.resource_type,
                "resource_id": a.resource_id,
                "name": a.name,
                "actions": list(a.actions),
                "count": a.count,
                "last_seen": iso(a.last_ts),
            }
            for a in r.affected
        ],
        "api_key": api_key,
        "api_key_status": r.api_key_status,
        "key_changes": [
            {
                "timestamp": iso(c.ts),
                "action": c.action,
                "actor": c.actor,
                "ip": c.ip,
                "country": c.country,
                "event_id": c.event_id,
            }
            for c in r.key_changes
        ],
        "notifications": [
            {
                "timestamp": iso(n.ts),
                "event_id": n.event_id,
                "message": n.message,
                "leak_source": n.leak_source,
                "url": n.url,
            }
            for n in r.notifications
        ],
        "baselines": dict(r.baselines),
        "warnings": list(r.warnings),
        "completeness": done.json_object(done.of(r)),
    }


@register("key", "json")
def render_json(r: KeyReport) -> str:
    # msgspec, not json.dumps: a busy key's timeline has 100k rows (json.dumps(indent=2) takes seconds).
    text = msgspec.json.format(msgspec.json.encode(key_report_json(r)), indent=2).decode("utf-8")
    return json_safe(text) + "\n"  # C1 / bidi as \uXXXX escapes: msgspec writes them raw


# -- text -------------------------------------------------------------------------------------------------


@register("key", "text")
def render_text(r: KeyReport) -> str:
    out: list[str] = done.text_lines(done.of(r), top=True)
    w = out.append
    w(f"Key ID: {_t(r.key_id)}")
    w(f"Created: {_t(_created_line(r))}")
    w(f"Active period: {_ts(r.first_seen)} to {_ts(r.last_seen)}")
    w(f"Total events: {r.total_events}")
    w("")
    w("Origins:")
    for o in r.origins:
        country, asns, flag = _origin_line(o)
        w(f"  - {_t(country)} ({_t(asns)}): {o.count} events — {flag}")
    if not r.origins:
        w("  (none)")
    w("")
    w(f"Endpoints called (top {TOP_ENDPOINTS}):")
    for g in r.routes[:TOP_ENDPOINTS]:
        w(f"  - {_t(_methods(g.methods))} {_t(g.path or '(no path)')}: {_calls(g.count)}")
    if not r.routes:
        w("  (none)")
    w("")
    w(f"Destructive actions: {_t(_destructive_summary(r))}")
    w("")
    w("Recommended actions:")
    for i, a in enumerate(r.recommended_actions, 1):
        w(f"  {i}. {_t(a)}")
    w("")
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(r.flags).items() if n)
    w(f"Verdict: {verdict_label(r.verdict)}" + (f" ({counts})" if counts else ""))
    for reason in r.verdict_reasons:
        w(f"  - {_t(reason)}")
    w("")
    w(f"Flags ({len(r.flags)}, most severe first):")
    for f in r.flags:
        w(f"  {f.severity.label:<10} {f.signal} — {_flag_title(f)}")
        w(f"      {_t(f.reason)}")
        w(f"      events: {_t(_evidence(f))}")
    if not r.flags:
        w("  (none)")
    w("")
    w("Creation and key metadata:")
    c = r.created
    if c is not None:
        origin = ", ".join(x for x in (c.creator_ip, c.creator_country) if x)
        w(
            f"  Created: {_ts(c.created_at)} by {_t(c.created_by or 'unknown')}"
            + (f" from {_t(origin)}" if origin else "")
            + f" [{c.source}]"
        )
    for label, value in _api_key_rows(r):
        w(f"  {label}: {_t(value)}")
    for ch in r.key_changes:
        if ch.action != "created":
            w(f"  Key {_t(ch.action)}: {_ts(ch.ts)} by {_t(ch.actor or 'unknown')}")
    for n in r.notifications:
        w(f"  Security Notification: {_ts(n.ts)} — {_t(n.message)}" + (f" ({_t(n.url)})" if n.url else ""))
    if r.destructive:
        w("")
        w("Deletions:")
        for d in r.destructive:
            name = f' "{_t(d.resource_name)}"' if d.resource_name else ""
            where = ", ".join(x for x in (d.ip, d.country) if x)
            w(
                f"  - {_ts(d.ts)} {_t(d.resource_type or 'unknown')} {_t(d.resource_id or '')}{name} from {_t(where or 'unknown')} [{d.kind}]"
            )
    w("")
    w("Baselines:")
    for name, text in r.baselines.items():
        w(f"  {name.replace('_', ' ').capitalize()}: {_t(text)}")
    if r.events:
        w("")
        shown = r.events[-TEXT_TIMELINE:]
        w(f"Timeline (last {len(shown)} of {r.total_events} events; every event is in --format json):")
        for e in shown:
            marks = ",".join(r.event_signals.get(e.id, ()))
            place = ", ".join(x for x in (e.city, e.country) if x)
            w(
                f"  {fmt_ts(e.ts)} {_t(e.http_method or '-'):<6} {_t(e.endpoint or e.evt_name or '-')} "
                f"{_t(e.action or '')} {_t(e.client_ip or '-')} {_t(place)}"
                + (f"  [{marks}]" if marks else "")
            )
    w("")
    w(
        f"Window: {_ts(r.window.start)} → {_ts(r.window.end)}; source: {_t(r.source_label)}; generated {_ts(r.generated_at)}"
    )
    out.extend(done.text_lines(done.of(r)))
    for warning in r.warnings:
        w(f"Warning: {_t(warning)}")
    return "\n".join(out) + "\n"


# -- Markdown -----------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~!])")


def md(value: Any) -> str:
    """Markdown-safe inline text: control sequences removed, syntax characters backslash-escaped."""
    if value is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", clean(value))


def md_code(value: Any) -> str:
    """An inline code span, falling back to escaped text when the value contains a backtick."""
    text = clean(value) if value is not None else ""
    if "`" in text or not text:
        return md(text)
    return f"`{text}`"


def md_cell(value: Any) -> str:
    return md(value).replace("\n", " ") or " "


@register("key", "md")
def render_md(r: KeyReport) -> str:
    out: list[str] = []
    w = out.append
    w(f"# API key investigation: {md_code(r.key_id)}")
    w("")
    out.extend(done.md_lines(done.of(r), md, top=True))
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(r.flags).items() if n)
    w(f"**Verdict: {verdict_label(r.verdict)}**" + (f" — flags: {counts}" if counts else ""))
    w("")
    w(f"- **Key ID:** {md_code(r.key_id)}")
    w(f"- **Created:** {md(_created_line(r))}")
    w(f"- **Active period:** {_ts(r.first_seen)} to {_ts(r.last_seen)}")
    w(f"- **Total events:** {r.total_events}")
    w("")
    w("## Origins")
    w("")
    for o in r.origins:
        country, asns, flag = _origin_line(o)
        flag_md = f"**{md(flag)}**" if o.status == "new" else md(flag)
        w(f"- {md(country)} ({md(asns)}): {o.count} events — {flag_md}")
    if not r.origins:
        w("- (none)")
    w("")
    w(f"## Endpoints called (top {TOP_ENDPOINTS})")
    w("")
    for g in r.routes[:TOP_ENDPOINTS]:
        w(f"- {md_code(_methods(g.methods) + ' ' + (g.path or '(no path)'))}: {_calls(g.count)}")
    if not r.routes:
        w("- (none)")
    w("")
    w("## Destructive actions")
    w("")
    w(f"Destructive actions: {md(_destructive_summary(r))}")
    if r.destructive:
        w("")
        w("| Timestamp | Resource type | Resource id | Name | IP | Country | Kind |")
        w("|---|---|---|---|---|---|---|")
        for d in r.destructive:
            w(
                f"| {_ts(d.ts)} | {md_cell(d.resource_type)} | {md_cell(d.resource_id)} | {md_cell(d.resource_name)} "
                f"| {md_cell(d.ip)} | {md_cell(d.country)} | {md_cell(d.kind)} |"
            )
    w("")
    w("## Recommended actions")
    w("")
    for i, a in enumerate(r.recommended_actions, 1):
        w(f"{i}. {md(a)}")
    w("")
    w("## Verdict")
    w("")
    w(f"**{verdict_label(r.verdict)}**")
    w("")
    for reason in r.verdict_reasons:
        w(f"- {md(reason)}")
    w("")
    w("## Flags")
    w("")
    if r.flags:
        w("| Severity | Signal | Reason | Evidence (event ids) |")
        w("|---|---|---|---|")
        for f in r.flags:
            w(f"| {f.severity.label} | {md_cell(f.signal)} | {md_cell(f.reason)} | {md_cell(_evidence(f))} |")
    else:
        w("No flags.")
    w("")
    w("## Creation and key metadata")
    w("")
    c = r.created
    if c is not None:
        origin = ", ".join(x for x in (c.creator_ip, c.creator_country) if x)
        w(
            f"- **Created:** {_ts(c.created_at)} by {md(c.created_by or 'unknown')}"
            + (f" from {md(origin)}" if origin else "")
            + f" ({md(c.source)})"
        )
    for label, value in _api_key_rows(r):
        w(f"- **{md(label)}:** {md(value)}")
    for ch in r.key_changes:
        if ch.action != "created":
            w(f"- **Key {md(ch.action)}:** {_ts(ch.ts)} by {md(ch.actor or 'unknown')}")
    for n in r.notifications:
        w(
            f"- **Security Notification:** {_ts(n.ts)} — {md(n.message)}"
            + (f" ({md(n.url)})" if n.url else "")
        )
    w("")
    w("## Baselines")
    w("")
    for name, text in r.baselines.items():
        w(f"- **{md(name.replace('_', ' ').capitalize())}:** {md(text)}")
    if r.events:
        shown = r.events[-TEXT_TIMELINE:]
        w("")
        w(f"## Timeline (last {len(shown)} of {r.total_events} events)")
        w("")
        w("| Timestamp | Method | Endpoint | Action | IP | Place | ASN | Flags |")
        w("|---|---|---|---|---|---|---|---|")
        for e in shown:
            place = ", ".join(x for x in (e.city, e.country) if x)
            w(
                f"| {fmt_ts(e.ts)} | {md_cell(e.http_method)} | {md_cell(e.endpoint or e.evt_name)} | {md_cell(e.action)} "
                f"| {md_cell(e.client_ip)} | {md_cell(place)} | {md_cell(e.asn_name)} | {md_cell(','.join(r.event_signals.get(e.id, ())))} |"
            )
    w("")
    w(
        f"_Window: {_ts(r.window.start)} → {_ts(r.window.end)}; source: {md(r.source_label)}; generated {_ts(r.generated_at)}._"
    )
    for line in done.md_lines(done.of(r), md):
        w("")
        w(line)
    if r.warnings:
        w("")
        for warning in r.warnings:
            w(f"> Warning: {md(warning)}")
    return "\n".join(out) + "\n"


# -- HTML -------------------------------------------------------------------------------------------------

_VERDICT_CLASS = {VERDICT_COMPROMISED: "compromised", VERDICT_SUSPICIOUS: "suspicious", VERDICT_NONE: "none"}


@register("key", "html")
def render_html(r: KeyReport) -> str:
    parts: list[str] = []
    add = parts.append
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(r.flags).items() if n)
    add(done.html_part(done.of(r), top=True))
    add(
        h.tag(
            "div",
            h.Markup(
                h.tag("strong", f"Verdict: {verdict_label(r.verdict)}")
                + h.esc(f" — flags: {counts}" if counts else "")
            ),
            f"verdict verdict-{_VERDICT_CLASS.get(r.verdict, 'none')}",
        )
    )
    add(h.ul(r.verdict_reasons))
    add(
        h.dl(
            [
                ("Key ID", h.code(r.key_id)),
                ("Created", _created_line(r)),
                ("Active period", f"{_ts(r.first_seen)} to {_ts(r.last_seen)}"),
                ("Total events", r.total_events),
            ]
        )
    )
    origin_rows = []
    origin_classes = []
    for o in r.origins:
        country, asns, flag = _origin_line(o)
        flag_cell = h.badge(flag, "high") if o.status == "new" else h.esc(flag)
        nets = h.join(
            (
                f"{n.asn_name or '?'} (AS{n.asn}) — {n.origin.label}"
                if n.asn is not None
                else f"{n.asn_name or '?'} — {n.origin.label}"
                for n in o.networks
            ),
            "; ",
        )
        origin_rows.append([country, asns, o.count, ", ".join(ip for ip in o.ips if ip), flag_cell, nets])
        origin_classes.append("flagged" if o.status == "new" else None)
    add(
        h.section(
            "Origins",
            h.table(
                ["Country", "ASN", "Events", "IPs", "Flag", "Networks"],
                origin_rows,
                row_classes=origin_classes,
            ),
        )
    )
    add(
        h.section(
            f"Endpoints called (top {TOP_ENDPOINTS})",
            h.table(
                ["Method", "Path", "Calls"],
                [
                    [_methods(g.methods), h.code(g.path or "(no path)"), g.count]
                    for g in r.routes[:TOP_ENDPOINTS]
                ],
            ),
        )
    )
    add(
        h.section(
            "Destructive actions",
            h.Markup(
                h.paragraph(f"Destructive actions: {_destructive_summary(r)}")
                + (
                    h.table(
                        ["Timestamp", "Resource type", "Resource id", "Name", "IP", "Country", "Kind"],
                        [
                            [
                                _ts(d.ts),
                                d.resource_type,
                                d.resource_id,
                                d.resource_name,
                                d.ip,
                                d.country,
                                d.kind,
                            ]
                            for d in r.destructive
                        ],
                    )
                    if r.destructive
                    else ""
                )
            ),
        )
    )
    add(h.section("Recommended actions", h.ul(r.recommended_actions, ordered=True)))
    flag_rows = [
        [
            h.severity_badge(f.severity),
            h.Markup(h.tag("strong", f.signal) + h.tag("div", _flag_title(f), "small muted")),
            f.reason,
            h.tag("span", _evidence(f), "small"),
        ]
        for f in r.flags
    ]
    add(
        h.section(
            "Flags",
            h.table(["Severity", "Signal", "Reason", "Evidence (event ids)"], flag_rows, empty="no flags"),
        )
    )
    meta: list[tuple[Any, Any]] = []
    c = r.created
    if c is not None:
        meta += [
            ("Created at", _ts(c.created_at)),
            ("Created by", c.created_by or "unknown"),
            ("Creator IP", c.creator_ip or ""),
            ("Creator country", c.creator_country or ""),
            ("Creation source", c.source),
        ]
    meta += _api_key_rows(r)
    for ch in r.key_changes:
        if ch.action != "created":
            meta.append((f"Key {ch.action}", f"{_ts(ch.ts)} by {ch.actor or 'unknown'}"))
    for n in r.notifications:
        meta.append(
            ("Security Notification", f"{_ts(n.ts)} — {n.message or ''}" + (f" ({n.url})" if n.url else ""))
        )
    add(h.section("Creation and key metadata", h.dl(meta)))
    add(h.section("Baselines", h.dl([(k.replace("_", " ").capitalize(), v) for k, v in r.baselines.items()])))
    shown = r.events[-HTML_TIMELINE:]
    rows = []
    row_classes = []
    for e in reversed(shown):
        sig = r.event_signals.get(e.id, ())
        rows.append(
            [fmt_ts(e.ts), e.http_method, h.code(e.endpoint) if e.endpoint else e.evt_name, e.action, e.asset_type, e.asset_id,
             e.client_ip, ", ".join(x for x in (e.city, e.country) if x), e.asn_name, ", ".join(sig)]
        )  # fmt: skip
        row_classes.append("flagged" if sig else None)
    title = f"Timeline (most recent {len(shown)} of {r.total_events} events)"
    add(
        h.section(
            title,
            h.table(
                [
                    "Timestamp",
                    "Method",
                    "Endpoint",
                    "Action",
                    "Resource type",
                    "Resource id",
                    "IP",
                    "Place",
                    "ASN",
                    "Flags",
                ],
                rows,
                row_classes=row_classes,
            ),
        )
    )
    footer = f"Window {_ts(r.window.start)} → {_ts(r.window.end)}; source: {r.source_label}; generated {_ts(r.generated_at)} by ddaudit."
    add(h.paragraph(footer, "muted small"))
    add(done.html_part(done.of(r)))
    for warning in r.warnings:
        add(h.paragraph(f"Warning: {warning}", "small"))
    return h.page(
        f"API key investigation: {r.key_id}",
        h.Markup("".join(parts)),
        subtitle=f"Verdict: {verdict_label(r.verdict)}",
    )


__all__ = [
    "key_report_json", "md", "md_code", "render_html", "render_json", "render_md", "render_text", "summary_line",
]  # fmt: skip
