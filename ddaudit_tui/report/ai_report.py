"""The AI activity report: text, Markdown, JSON and HTML renderings of an `AiActivity`.

Text and Markdown follow the recipe's *Output format* (`detections.md` §4.3) — its title, lines and
headings, filled in — then add ddaudit's own sections (users with delegated calls, tools, clients,
resources changed, activity, baseline). JSON carries the recipe's jq field names at the top level
(`total_tool_calls`, `unique_users`, `top_users[]{user,calls}`, `actions_breakdown[]{action,count}`,
`resource_types[]{type,count}`), so it can be checked against the recipe, plus `tools[]`, `clients[]`,
`modified_resources[]`, `flags[]` and the window.

Renderers only render: every number comes from the analysis. Event text is attacker-controlled
(user names, tool arguments, asset names): it is stripped of terminal controls in text, escaped in
Markdown, and HTML-escaped in HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ddaudit_tui.analysis.ai import CONNECTION, AiActivity, AiCall, Timeline
from ddaudit_tui.analysis.signals import Flag
from ddaudit_tui.report import completeness as done
from ddaudit_tui.report import html as hp
from ddaudit_tui.report.html import Markup
from ddaudit_tui.report.registry import register
from ddaudit_tui.safetext import clean, json_safe
from ddaudit_tui.timeutil import fmt_ts, human_duration, iso

__all__ = ["ai_json", "render_text", "render_md", "render_json", "render_html"]

EVENTS_PER_FLAG = 5  # flagged events listed under each anomaly (all ids are in JSON)
MAX_LISTED = 200  # rows per section in text / Markdown / HTML (JSON has everything)
_SPARK = "▁▂▃▄▅▆▇█"


# -- shared pieces -------------------------------------------------------------------------------------


def _title(r: AiActivity) -> str:
    org = r.org or "(org unknown)"
    title = f"AI Activity Audit — {org} — {fmt_ts(r.window.start)} → {fmt_ts(r.window.end)}"
    if r.user:
        title += f" — user {r.user}"
    return title


def _jq_text(value: Any) -> str:
    """A recipe value (any JSON) as the recipe's output would show it."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _resource(c: AiCall) -> str:
    if c.kind == CONNECTION:
        return "—"
    rtype = c.resource_type or c.event.asset_type
    ids = list(c.resource_ids) or ([c.event.asset_id] if c.event.asset_id else [])
    name = c.resource_name or (c.event.asset_name if not c.resource_type else None)
    parts = [p for p in (rtype, ", ".join(ids) if ids else None) if p]
    if name:
        parts.append(f"“{name}”")
    return " ".join(parts) or "—"


def _action(c: AiCall) -> str:
    """The recipe's "action" column: the tool (what the AI did), with the derived verb when it changed
    something."""
    if c.kind == CONNECTION:
        return (
            f"connection initialised ({c.event.mcp_client})"
            if c.event.mcp_client
            else "connection initialised"
        )
    label = c.tool or c.event.action or c.kind
    if c.verb in ("created", "modified", "deleted") and c.verb != c.event.action:
        label += f" ({c.verb})"
    return label


def _via(c: AiCall) -> str:
    """The client, and who acted when it was not the person themselves."""
    if c.delegated and c.actor and c.actor != c.human:
        who = f"{c.actor} on their behalf"
        return who if c.actor == c.client else f"{c.client}; {who}"
    return c.client


def _user(c: AiCall) -> str:
    if c.delegated and c.actor and c.actor != c.human:
        return f"{c.human} (via {c.actor})"
    return c.human


def _flag_rows(r: AiActivity, flag: Flag) -> tuple[list[AiCall], int]:
    calls = [c for i in flag.event_ids if (c := r.call(i)) is not None]
    return calls[:EVENTS_PER_FLAG], max(0, len(flag.event_ids) - EVENTS_PER_FLAG)


def _sparkline(t: Timeline) -> tuple[str, str]:
    """(bars, burst marks): one character per bucket; `^` under buckets that hold a burst."""
    peak = t.peak
    bars = "".join(
        " " if b.calls == 0 else _SPARK[min(7, (b.calls * 8 - 1) // peak)] if peak else " " for b in t.buckets
    )
    marks = "".join("^" if b.burst else " " for b in t.buckets).rstrip()
    return bars, marks


def _counting_note(r: AiActivity) -> str:
    n = r.counts
    return (
        f"“Total MCP tool calls” counts every MCP Server event, as the recipe's jq does: "
        f"{n['tool_calls']} tool calls with a tool name and {n['connections']} connection initialisations."
    )


def _baseline_line(r: AiActivity) -> str | None:
    b = r.baseline
    if b is None:
        return None
    days = b.period.duration_ms // 86_400_000
    state = "" if b.known else " (no audit events there)"
    return (
        f"Baseline: {fmt_ts(b.period.start)} → {fmt_ts(b.period.end)} ({days} days before the window){state}"
    )


# -- text ------------------------------------------------------------------------------------------------


def _t(value: object, max_len: int = 200) -> str:
    return clean(value, max_len=max_len)


def _n(count: int, word: str) -> str:
    """`1 call`, `2 calls`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@register("ai", "text")
def render_text(r: AiActivity) -> str:
    s = r.summary
    out: list[str] = [*done.text_lines(done.of(r), top=True), _t(_title(r)), ""]
    out.append(f"Total MCP tool calls: {s['total_tool_calls']}")
    out.append(f"Unique users: {s['unique_users']}")
    out += ["", "Top users:"]
    out += [f"  {_t(_jq_text(u['user']))}: {u['calls']} calls" for u in s["top_users"]] or ["  (none)"]
    out += ["", "Actions breakdown:"]
    out += [f"  {_t(_jq_text(a['action']))}: {a['count']}" for a in s["actions_breakdown"]] or ["  (none)"]
    out += ["", "Resource types affected:"]
    out += [f"  {_t(_jq_text(t['type']))}: {t['count']}" for t in s["resource_types"]] or ["  (none)"]
    out += ["", "Anomalies:"]
    if not r.flags:
        out.append("  none")
    for f in r.flags:
        out.append(f"  {f.severity.label}  {f.signal}: {_t(f.reason, 600)}")
        rows, more = _flag_rows(r, f)
        for c in rows:
            out.append(f"    {fmt_ts(c.ts)}  {_t(_user(c))}  {_t(_action(c))}  {_t(_resource(c))}")
        if more:
            out.append(f"    … and {_n(more, 'more event')}")

    out += ["", _counting_note(r)]
    out += ["", "AI calls by user (their own calls and agents acting on their behalf):"]
    for u in r.users[:MAX_LISTED]:
        extra = [_n(u.tool_calls, "tool call")]
        if u.connections:
            extra.append(_n(u.connections, "connection"))
        if u.delegated:
            extra.append(f"{u.delegated} delegated")
        if u.changes:
            extra.append(_n(u.changes, "change"))
        if u.flags and u.max_severity is not None:
            extra.append(f"{_n(u.flags, 'flag')}, worst {u.max_severity.word}")
        out.append(
            f"  {_t(u.user)}: {_n(u.calls, 'call')} ({', '.join(extra)}); clients {_t(', '.join(u.clients))}"
        )
    out += _more(len(r.users))
    out += ["", "Tools:"]
    out += [
        f"  {_t(t.tool)}: {_n(t.calls, 'call')}, {_n(t.users, 'user')}"
        + (f" [{t.verb}]" if t.verb not in (None, "accessed") else "")
        for t in r.tools[:MAX_LISTED]
    ] or ["  (none)"]
    out += _more(len(r.tools))
    out += ["", "Clients:"]
    for cl in r.clients[:MAX_LISTED]:
        via = f" (MCP clients: {', '.join(cl.mcp_clients)})" if cl.mcp_clients else ""
        out.append(
            f"  {_t(cl.client)}: {_n(cl.calls, 'call')}, {_n(cl.connections, 'connection')}, "
            f"{_n(cl.users, 'user')}{_t(via)}"
        )
    if not r.clients:
        out.append("  (none)")
    out += _more(len(r.clients))
    out += ["", "Resources created / modified / deleted through AI:"]
    for m in r.modified_resources[:MAX_LISTED]:
        target = " ".join(p for p in (m.resource_type, m.resource_id) if p) or "resource"
        name = f" “{m.resource_name}”" if m.resource_name else ""
        who = f"{m.user} (via {m.actor})" if m.delegated else m.user
        how = f"{m.tool} via {m.client}" if m.tool else f"via {m.client}"
        out.append(f"  {fmt_ts(m.ts)}  {_t(who)}  {m.action}  {_t(target + name)}  ({_t(how)})")
    if not r.modified_resources:
        out.append("  none")
    out += _more(len(r.modified_resources))
    bars, marks = _sparkline(r.timeline)
    out += ["", f"Activity (AI calls per {human_duration(r.timeline.bucket_ms)}, peak {r.timeline.peak}):"]
    out += [f"  |{bars}|", f"   {marks}"] if marks else [f"  |{bars}|"]
    for b in r.bursts:
        out.append(
            f"  burst: {_t(b.user)} {b.calls} calls {fmt_ts(b.start)} → {fmt_ts(b.end)} (peak {b.peak} in window)"
        )
    if r.user_detail is not None:
        out += _text_user(r)
    if (line := _baseline_line(r)) is not None:
        out += ["", line]
    for note in r.notes:
        out.append(f"Note: {_t(note)}")
    for w in r.warnings:
        out.append(f"Warning: {_t(w)}")
    out += done.text_lines(done.of(r))
    return "\n".join(out) + "\n"


def _more(n: int) -> list[str]:
    return [f"  … and {n - MAX_LISTED} more (see --format json)"] if n > MAX_LISTED else []


def _text_user(r: AiActivity) -> list[str]:
    d = r.user_detail
    assert d is not None
    before = {True: "yes", False: "no (first time)", None: "unknown"}[d.had_ai_before]
    scope = ", ".join(d.scope_types) if d.scope_types is not None else "unknown (no events of their own)"
    out = ["", f"User: {_t(d.user)}"]
    out.append(f"  identities: {_t(', '.join(d.identities)) or '—'}")
    out.append(f"  first / last AI event: {fmt_ts(d.first_seen)} / {fmt_ts(d.last_seen)}")
    out.append(f"  used AI in the baseline period: {before}")
    out.append(f"  own (non-AI) scope in the baseline period: {_t(scope)}")
    out += ["", "Calls:"]
    for c in d.calls[: MAX_LISTED * 5]:
        out.append(f"  {fmt_ts(c.ts)}  {c.kind:<11} {_t(_action(c))}  {_t(_resource(c))}  ({_t(_via(c))})")
    if len(d.calls) > MAX_LISTED * 5:
        out.append(f"  … and {len(d.calls) - MAX_LISTED * 5} more (see --format json)")
    return out


# -- Markdown --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def _m(value: object, max_len: int = 200) -> str:
    """Event text as literal Markdown: controls removed, one line, inline markup characters escaped
    (`[`/`]` escaped means no link can form, so parentheses need not be; values never start a line)."""
    return _MD_SPECIAL.sub(r"\\\1", clean(value, max_len=max_len))


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return out


@register("ai", "md")
def render_md(r: AiActivity) -> str:
    s = r.summary
    out: list[str] = [f"# {_m(_title(r))}", "", *done.md_lines(done.of(r), _m, top=True)]
    out += [f"Total MCP tool calls: {s['total_tool_calls']}  ", f"Unique users: {s['unique_users']}", ""]
    out += ["## Top users", ""]
    out += [f"- {_m(_jq_text(u['user']))}: {u['calls']} calls" for u in s["top_users"]] or ["- (none)"]
    out += ["", "## Actions breakdown", ""]
    out += [f"- {_m(_jq_text(a['action']))}: {a['count']}" for a in s["actions_breakdown"]] or ["- (none)"]
    out += ["", "## Resource types affected", ""]
    out += [f"- {_m(_jq_text(t['type']))}: {t['count']}" for t in s["resource_types"]] or ["- (none)"]
    out += ["", "## Anomalies", ""]
    if not r.flags:
        out.append("None.")
    for f in r.flags:
        out.append(f"- **{f.severity.label}** `{f.signal}`: {_m(f.reason, 600)}")
        rows, more = _flag_rows(r, f)
        for c in rows:
            out.append(f"  - {fmt_ts(c.ts)} — {_m(_user(c))} — {_m(_action(c))} — {_m(_resource(c))}")
        if more:
            out.append(f"  - … and {_n(more, 'more event')}")
    out += ["", _m(_counting_note(r)), ""]
    out += ["## AI calls by user", ""]
    out += _md_table(
        ("user", "calls", "tool calls", "connections", "delegated", "changes", "clients", "flags"),
        (
            (_m(u.user), u.calls, u.tool_calls, u.connections, u.delegated, u.changes, _m(", ".join(u.clients)),
             f"{u.flags} ({u.max_severity.word})" if u.max_severity is not None else "0")
            for u in r.users[:MAX_LISTED]
        ),
    )  # fmt: skip
    out += _more(len(r.users))
    out += ["", "## Tools", ""]
    out += _md_table(
        ("tool", "calls", "users", "intent", "resource type"),
        (
            (_m(t.tool), t.calls, t.users, t.verb or "—", _m(t.resource_type or "—"))
            for t in r.tools[:MAX_LISTED]
        ),
    )
    out += _more(len(r.tools))
    out += ["", "## Clients", ""]
    out += _md_table(
        ("client", "calls", "connections", "users", "MCP clients"),
        (
            (_m(c.client), c.calls, c.connections, c.users, _m(", ".join(c.mcp_clients)) or "—")
            for c in r.clients[:MAX_LISTED]
        ),
    )
    out += _more(len(r.clients))
    out += ["", "## Resources created / modified / deleted through AI", ""]
    if r.modified_resources:
        out += _md_table(
            ("time", "user", "action", "resource type", "resource", "tool", "client"),
            (
                (fmt_ts(m.ts), _m(f"{m.user} (via {m.actor})" if m.delegated else m.user), m.action,
                 _m(m.resource_type or "—"), _m(" ".join(p for p in (m.resource_id, m.resource_name) if p) or "—"),
                 _m(m.tool or "—"), _m(m.client))
                for m in r.modified_resources[:MAX_LISTED]
            ),
        )  # fmt: skip
        out += _more(len(r.modified_resources))
    else:
        out.append("None.")
    bars, marks = _sparkline(r.timeline)
    out += [
        "",
        "## Activity",
        "",
        f"AI calls per {human_duration(r.timeline.bucket_ms)}, peak {r.timeline.peak}",
    ]
    out += ["", "```text", f"|{bars}|"] + ([f" {marks}"] if marks else []) + ["```"]
    for b in r.bursts:
        out.append(
            f"- burst: {_m(b.user)} {b.calls} calls {fmt_ts(b.start)} → {fmt_ts(b.end)} (peak {b.peak})"
        )
    if r.user_detail is not None:
        d = r.user_detail
        before = {True: "yes", False: "no (first time)", None: "unknown"}[d.had_ai_before]
        scope = ", ".join(d.scope_types) if d.scope_types is not None else "unknown"
        out += ["", f"## User {_m(d.user)}", ""]
        out += [
            f"- identities: {_m(', '.join(d.identities)) or '—'}",
            f"- first / last AI event: {fmt_ts(d.first_seen)} / {fmt_ts(d.last_seen)}",
            f"- used AI in the baseline period: {before}",
            f"- own (non-AI) scope in the baseline period: {_m(scope)}",
            "",
        ]
        out += _md_table(
            ("time", "kind", "action", "resource", "via"),
            (
                (
                    fmt_ts(c.ts),
                    c.kind,
                    _m(_action(c)),
                    _m(_resource(c)),
                    _m(_via(c)),
                )
                for c in d.calls[: MAX_LISTED * 5]
            ),
        )
    tail = (
        [x for x in (_baseline_line(r),) if x]
        + [f"Note: {n}" for n in r.notes]
        + [f"Warning: {w}" for w in r.warnings]
    )
    if tail:
        out += [""] + [f"{_m(x)}  " for x in tail]
    out += ["", *done.md_lines(done.of(r), _m)]
    return "\n".join(out).rstrip() + "\n"


# -- JSON ------------------------------------------------------------------------------------------------


def _call_json(c: AiCall) -> dict[str, Any]:
    return {
        "timestamp": iso(c.ts),
        "event_id": c.id,
        "kind": c.kind,
        "user": c.human,
        "actor": c.actor,
        "delegated": c.delegated,
        "client": c.client,
        "tool": c.tool,
        "investigation": c.investigation,
        "action": c.event.action,
        "intent": c.verb,
        "resource_type": c.resource_type,
        "resource_ids": list(c.resource_ids),
        "resource_name": c.resource_name,
        "evt_name": c.event.evt_name,
        "actor_type": c.event.actor_type,
        "actor_mode": c.event.actor_mode,
    }


def ai_json(r: AiActivity) -> dict[str, Any]:
    """The report as plain JSON values; the recipe's five keys first and unchanged."""
    out: dict[str, Any] = dict(r.summary)
    out.update(
        {
            "report": "ai",
            "org": r.org,
            "window": {"from": iso(r.window.start), "to": iso(r.window.end)},
            "query": r.query,
            "user": r.user,
            "counts": dict(r.counts),
            "users": [
                {
                    "user": u.user,
                    "calls": u.calls,
                    "tool_calls": u.tool_calls,
                    "connections": u.connections,
                    "bits": u.bits,
                    "agent_actions": u.agent_actions,
                    "delegated": u.delegated,
                    "changes": u.changes,
                    "tools": u.tools,
                    "clients": list(u.clients),
                    "first_seen": iso(u.first_seen),
                    "last_seen": iso(u.last_seen),
                    "flags": u.flags,
                    "max_severity": u.max_severity.word if u.max_severity is not None else None,
                }
                for u in r.users
            ],
            "tools": [
                {
                    "tool": t.tool,
                    "calls": t.calls,
                    "users": t.users,
                    "intent": t.verb,
                    "resource_type": t.resource_type,
                    "first_seen": iso(t.first_seen),
                    "last_seen": iso(t.last_seen),
                }
                for t in r.tools
            ],
            "clients": [
                {
                    "client": c.client,
                    "calls": c.calls,
                    "connections": c.connections,
                    "users": c.users,
                    "mcp_clients": list(c.mcp_clients),
                }
                for c in r.clients
            ],
            "modified_resources": [
                {
                    "timestamp": iso(m.ts),
                    "event_id": m.event_id,
                    "user": m.user,
                    "actor": m.actor,
                    "delegated": m.delegated,
                    "client": m.client,
                    "action": m.action,
                    "resource_type": m.resource_type,
                    "resource_id": m.resource_id,
                    "resource_name": m.resource_name,
                    "tool": m.tool,
                    "via": m.via,
                }
                for m in r.modified_resources
            ],
            "timeline": {
                "bucket_ms": r.timeline.bucket_ms,
                "buckets": [
                    {
                        "start": iso(b.start),
                        "calls": b.calls,
                        "tool_calls": b.tool_calls,
                        "users": b.users,
                        "burst": b.burst,
                    }
                    for b in r.timeline.buckets
                ],
            },
            "bursts": [
                {
                    "user": b.user,
                    "start": iso(b.start),
                    "end": iso(b.end),
                    "calls": b.calls,
                    "peak": b.peak,
                    "event_ids": list(b.event_ids),
                }
                for b in r.bursts
            ],
            "flags": [f.to_json() for f in r.flags],
            "baseline": None
            if r.baseline is None
            else {
                "from": iso(r.baseline.period.start),
                "to": iso(r.baseline.period.end),
                "known": r.baseline.known,
            },
            "notes": list(r.notes),
            "warnings": list(r.warnings),
            "complete": r.complete,
            "completeness": done.json_object(done.of(r)),
        }
    )
    if r.user_detail is not None:
        d = r.user_detail
        out["user_detail"] = {
            "user": d.user,
            "identities": list(d.identities),
            "first_seen": iso(d.first_seen) if d.first_seen is not None else None,
            "last_seen": iso(d.last_seen) if d.last_seen is not None else None,
            "had_ai_before": d.had_ai_before,
            "scope_types": list(d.scope_types) if d.scope_types is not None else None,
            "calls": [_call_json(c) for c in d.calls],
        }
    return out


@register("ai", "json")
def render_json(r: AiActivity) -> str:
    return json_safe(json.dumps(ai_json(r), indent=2, ensure_ascii=False)) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------
# Built with the shared safe page helper (`report/html.py`): every value escaped, nothing fetched.


def _spark_html(t: Timeline) -> Markup:
    peak = t.peak
    cells = []
    for b in t.buckets:
        bar = " " if b.calls == 0 or not peak else _SPARK[min(7, (b.calls * 8 - 1) // peak)]
        style = "background:#ffd8d3" if b.burst else None
        cells.append(hp.tag("span", bar, title=f"{fmt_ts(b.start)}: {_n(b.calls, 'call')}", style=style))
    box = "font-family:monospace;white-space:pre;font-size:18px;line-height:1;border-bottom:1px solid #d0d7de"
    return hp.tag("div", Markup("".join(cells)), style=box)


def _summary_list(rows: Sequence[dict[str, Any]], key: str, value: str, suffix: str = "") -> Markup:
    if not rows:
        return hp.paragraph("(none)", "muted")
    return hp.ul(f"{_jq_text(row[key])}: {row[value]}{suffix}" for row in rows)


@register("ai", "html")
def render_html(r: AiActivity) -> str:
    s = r.summary
    body: list[Markup] = [
        done.html_part(done.of(r), top=True),
        hp.paragraph(
            Markup(
                hp.esc(f"Total MCP tool calls: {s['total_tool_calls']}")
                + Markup("<br>")
                + hp.esc(f"Unique users: {s['unique_users']}")
            )
        ),
        hp.section("Top users", _summary_list(s["top_users"], "user", "calls", " calls")),
        hp.section("Actions breakdown", _summary_list(s["actions_breakdown"], "action", "count")),
        hp.section("Resource types affected", _summary_list(s["resource_types"], "type", "count")),
    ]
    items = []
    for f in r.flags:
        rows, more = _flag_rows(r, f)
        evs = [f"{fmt_ts(c.ts)} — {_user(c)} — {_action(c)} — {_resource(c)}" for c in rows]
        if more:
            evs.append(f"… and {_n(more, 'more event')}")
        items.append(
            Markup(
                hp.severity_badge(f.severity)
                + " "
                + hp.code(f.signal)
                + hp.esc(": ")
                + hp.esc(f.reason)
                + hp.ul(evs)
            )
        )
    body.append(hp.section("Anomalies", hp.ul(items) if items else hp.paragraph("None.")))
    body.append(hp.paragraph(_counting_note(r), "muted small"))
    body.append(
        hp.section(
            "AI calls by user",
            hp.table(
                ("user", "calls", "tool calls", "connections", "delegated", "changes", "clients", "flags"),
                (
                    (u.user, u.calls, u.tool_calls, u.connections, u.delegated, u.changes, ", ".join(u.clients),
                     hp.severity_badge(u.max_severity) if u.max_severity is not None else "0")
                    for u in r.users[:MAX_LISTED]
                ),
                row_classes=("flagged" if u.flags else None for u in r.users[:MAX_LISTED]),
            ),
        )
    )  # fmt: skip
    body.append(
        hp.section(
            "Tools",
            hp.table(
                ("tool", "calls", "users", "intent", "resource type"),
                (
                    (t.tool, t.calls, t.users, t.verb or "—", t.resource_type or "—")
                    for t in r.tools[:MAX_LISTED]
                ),
            ),
        )
    )
    body.append(
        hp.section(
            "Clients",
            hp.table(
                ("client", "calls", "connections", "users", "MCP clients"),
                (
                    (c.client, c.calls, c.connections, c.users, ", ".join(c.mcp_clients) or "—")
                    for c in r.clients[:MAX_LISTED]
                ),
            ),
        )
    )
    body.append(
        hp.section(
            "Resources created / modified / deleted through AI",
            hp.table(
                ("time", "user", "action", "resource type", "resource id", "resource name", "tool", "client"),
                (
                    (fmt_ts(m.ts), f"{m.user} (via {m.actor})" if m.delegated else m.user, m.action,
                     m.resource_type or "—", m.resource_id or "—", m.resource_name or "—", m.tool or "—", m.client)
                    for m in r.modified_resources[:MAX_LISTED]
                ),
                empty="None.",
            ),
        )
    )  # fmt: skip
    t = r.timeline
    activity = [
        hp.paragraph(f"AI calls per {human_duration(t.bucket_ms)}, peak {t.peak}; bursts shaded.", "muted"),
        _spark_html(t),
    ]
    if r.bursts:
        activity.append(
            hp.ul(
                f"burst: {b.user} {_n(b.calls, 'call')} {fmt_ts(b.start)} → {fmt_ts(b.end)} (peak {b.peak})"
                for b in r.bursts
            )
        )
    body.append(hp.section("Activity", Markup("".join(activity))))
    if r.user_detail is not None:
        d = r.user_detail
        before = {True: "yes", False: "no (first time)", None: "unknown"}[d.had_ai_before]
        scope = ", ".join(d.scope_types) if d.scope_types is not None else "unknown"
        detail = hp.dl(
            [
                ("identities", ", ".join(d.identities) or "—"),
                ("first / last AI event", f"{fmt_ts(d.first_seen)} / {fmt_ts(d.last_seen)}"),
                ("used AI in the baseline period", before),
                ("own (non-AI) scope in the baseline period", scope),
            ]
        )
        calls = hp.table(
            ("time", "kind", "action", "resource", "via"),
            ((fmt_ts(c.ts), c.kind, _action(c), _resource(c), _via(c)) for c in d.calls[: MAX_LISTED * 5]),
        )
        body.append(hp.section(f"User {d.user}", Markup(detail + calls)))
    tail = [x for x in (_baseline_line(r),) if x] + [f"Note: {n}" for n in r.notes]
    tail += [f"Warning: {w}" for w in r.warnings]
    if tail:
        body.append(hp.paragraph(Markup(Markup("<br>").join(hp.esc(x) for x in tail)), "muted small"))
    body.append(done.html_part(done.of(r)))
    return hp.page(_title(r), Markup("".join(body)))
