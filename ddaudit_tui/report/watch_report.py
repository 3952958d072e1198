"""The spike watch's alert report: text, Markdown, JSON and HTML renderings of a `WatchSnapshot`.

What the pane's export key writes: the alerts (open and recently closed) with their events, the counts
per actor and rule in the current window, the window and the last poll. JSON carries the headless
command's alert shape (`alerts[]{rule,actor,count,first_seen,last_seen,severity,event_ids,dedup_key,
paged}`, plus context) so a report can be read by the same scripts as `ddaudit watch --format json`.

Renderers take a `WatchReport` (a snapshot plus what the pane knows about it: source, paging, when) or
a bare `WatchSnapshot`. They only format: every number comes from the engine. Actor names, rule names
and asset names are attacker- or user-controlled: control sequences are dropped in text, Markdown
syntax is escaped, HTML escapes everything (`report/html.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ddaudit_tui.alerts.poller import WatchSnapshot
from ddaudit_tui.alerts.rules import RULE_LABEL
from ddaudit_tui.alerts.wiring import PAGE_WORDS
from ddaudit_tui.analysis.spikes import Alert, Rule
from ddaudit_tui.report import completeness as comp
from ddaudit_tui.report import html as hp
from ddaudit_tui.report.html import Markup
from ddaudit_tui.report.registry import register
from ddaudit_tui.safetext import clean, json_safe
from ddaudit_tui.timeutil import fmt_ts, human_duration, iso

__all__ = ["WatchReport", "render_html", "render_json", "render_md", "render_text", "watch_json"]

MAX_ACTORS = 200  # rows of the counts table in text / Markdown / HTML (JSON has every one)


@dataclass(frozen=True)
class WatchReport:
    """A snapshot and its context. `generated_ms` is the pane's clock at export time."""

    snapshot: WatchSnapshot
    source: str = ""
    paging: str = ""  # "off" | "dry-run" | "on", with the reason: "off (no routing key configured)"
    generated_ms: int | None = None


def _report(r: WatchReport | WatchSnapshot) -> WatchReport:
    return r if isinstance(r, WatchReport) else WatchReport(r)


# -- shared pieces -------------------------------------------------------------------------------------


def _rules(s: WatchSnapshot) -> dict[str, Rule]:
    return {r.name: r for r in s.rules}


def _window_ms(s: WatchSnapshot) -> int:
    return int(s.window_s * 1000)


def _window_bounds(s: WatchSnapshot) -> tuple[int, int] | None:
    if s.watermark_ms is None:
        return None
    return s.watermark_ms - _window_ms(s), s.watermark_ms


def _sec(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _iso_s(seconds: float | None) -> str | None:
    return None if seconds is None else iso(round(seconds * 1000))


def _count_text(a: Alert, rule: Rule | None) -> str:
    n = f"{a.count} event{'s' if a.count != 1 else ''}"
    if a.distinct_values and rule is not None and rule.distinct:
        n += f" ({a.distinct_count} distinct {rule.distinct})"
    return n


def _status(a: Alert) -> str:
    return "open" if a.is_open else "closed"


def _paged(a: Alert) -> str:
    return PAGE_WORDS.get(a.page_status, a.page_status)


def _title(r: WatchReport) -> str:
    s = r.snapshot
    open_n = len(s.open_alerts)
    where = f" — {r.source}" if r.source else ""
    return f"Spike watch{where}: {len(s.alerts)} alert(s), {open_n} open"


def _context_lines(r: WatchReport) -> list[tuple[str, str]]:
    s = r.snapshot
    bounds = _window_bounds(s)
    rows: list[tuple[str, str]] = []
    if r.generated_ms is not None:
        rows.append(("Generated", fmt_ts(r.generated_ms)))
    if r.source:
        rows.append(("Source", r.source))
    window = f"{human_duration(_window_ms(s))} (rules without their own window)"
    if bounds is not None:
        window += f": {fmt_ts(bounds[0])} → {fmt_ts(bounds[1])}"
    rows.append(("Window", window))
    rows.append(("Poll interval", human_duration(int(s.interval_s * 1000))))
    last = fmt_ts(_sec(s.last_success)) if s.last_success is not None else "never"
    rows.append(("Last successful poll", last))
    if s.stale:
        rows.append(("Data", f"STALE{': ' + s.error if s.error else ''}"))
    rows.append(("Matched events", f"{s.events_total:,} in {s.polls} poll(s)"))
    if r.paging:
        rows.append(("Paging", r.paging))
    rows.append(("Rules", f"{len(s.rules)} {RULE_LABEL}s (not Datadog detections)"))
    return rows


def _event_lines(a: Alert) -> list[tuple[str, str, str, str]]:
    """(time, id, action, asset) of the alert's first events (the engine keeps the earliest ten)."""
    return [(fmt_ts(e.ts), e.id, e.what, e.asset or "") for e in a.samples]


def _rule_columns(s: WatchSnapshot) -> list[str]:
    """Rules with a count for some actor, in rule order."""
    present = {name for row in s.rows for name in row.counts}
    return [r.name for r in s.rules if r.name in present]


# -- JSON ------------------------------------------------------------------------------------------------


def watch_json(r: WatchReport | WatchSnapshot) -> dict[str, Any]:
    rep = _report(r)
    s = rep.snapshot
    rules = _rules(s)
    window_ms = _window_ms(s)
    bounds = _window_bounds(s)
    alerts = []
    for a in s.alerts:
        d = a.to_json(rules.get(a.rule), window_ms)
        d["events"] = [
            {"timestamp": iso(e.ts), "id": e.id, "action": e.what, "asset": e.asset} for e in a.samples
        ]
        alerts.append(d)
    return {
        "report": "watch",
        "source": rep.source or None,
        "generated_at": iso(rep.generated_ms) if rep.generated_ms is not None else None,
        "alerts": alerts,
        "actors": [
            {
                "actor": row.actor,
                "total": row.total,
                "hot": sorted(row.hot),
                "counts": dict(row.counts),
            }
            for row in s.rows
        ],
        "window": {
            "minutes": s.window_s / 60,
            "from": iso(bounds[0]) if bounds else None,
            "to": iso(bounds[1]) if bounds else None,
        },
        "interval_s": s.interval_s,
        "last_poll": _iso_s(s.last_attempt),
        "last_success": _iso_s(s.last_success),
        "stale": s.stale,
        "error": s.error,
        "warnings": list(s.warnings),
        "paging": rep.paging or None,
        "events": s.events_total,
        "polls": s.polls,
        "rules": [
            {
                "name": rule.name,
                "severity": rule.severity.word,
                "threshold": rule.threshold_text(window_ms),
                "query": rule.query,
                "description": rule.description,
                "page": rule.page,
            }
            for rule in s.rules
        ],
        "rules_label": f"{RULE_LABEL}s (not Datadog detections)",
        # The last poll's: engine, requests, events, partial reasons, rate limit, retention, time.
        "completeness": comp.json_object(s.completeness),
    }


@register("watch", "json")
def render_json(r: WatchReport | WatchSnapshot) -> str:
    return json_safe(json.dumps(watch_json(r), indent=2, ensure_ascii=False)) + "\n"


# -- text ------------------------------------------------------------------------------------------------


def _t(value: object, max_len: int = 200) -> str:
    return clean(value, max_len=max_len)


@register("watch", "text")
def render_text(r: WatchReport | WatchSnapshot) -> str:
    rep = _report(r)
    s = rep.snapshot
    rules = _rules(s)
    out = [_t(_title(rep)), ""]
    out += comp.text_lines(s.completeness, top=True)
    out += [f"{k}: {_t(v, 400)}" for k, v in _context_lines(rep)]
    out += comp.text_lines(s.completeness)
    out += ["", "Alerts:"]
    if not s.alerts:
        out.append("  none")
    for a in s.alerts:
        rule = rules.get(a.rule)
        out.append(
            f"  {a.severity.label}  {_t(a.rule)}  {_t(a.group)}  {_count_text(a, rule)}  "
            f"{fmt_ts(a.first_seen)} → {fmt_ts(a.last_seen)}  {_status(a)}  {_paged(a)}"
        )
        if a.actions:
            out.append(f"    actions: {_t(a.actions_text(), 400)}")
        if rule is not None:
            out.append(f"    rule: {rule.threshold_text(_window_ms(s))} — {_t(rule.description, 300)}")
        out.append(f"    dedup key: {_t(a.dedup_key, 300)}")
        for ts, eid, what, asset in _event_lines(a):
            out.append(f"    {ts}  {_t(what)}  {_t(asset) or '—'}  {_t(eid)}")
        if a.count > len(a.samples):
            out.append(f"    … {a.count - len(a.samples)} more (every id is in the JSON report)")
    out += ["", f"Counts per actor and rule (window {human_duration(_window_ms(s))}):"]
    if not s.rows:
        out.append("  none")
    for row in s.rows[:MAX_ACTORS]:
        flag = "! HOT" if row.hot else "     "
        counts = ", ".join(f"{_t(k)} {v}{'!' if k in row.hot else ''}" for k, v in _sorted_counts(row.counts))
        out.append(f"  {flag}  {_t(row.actor)}  total {row.total}: {counts}")
    if len(s.rows) > MAX_ACTORS:
        out.append(f"  … and {len(s.rows) - MAX_ACTORS} more (see the JSON report)")
    for w in s.warnings:
        out.append(f"Warning: {_t(w, 400)}")
    return "\n".join(out) + "\n"


def _sorted_counts(counts: dict[str, int] | Any) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# -- Markdown --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def _m(value: object, max_len: int = 200) -> str:
    """Literal Markdown: controls removed, one line, inline syntax characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", clean(value, max_len=max_len))


def _m_long(value: object) -> str:
    return _m(value, 2000)  # a completeness line with its reasons: whole, not cut at 200


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return out


@register("watch", "md")
def render_md(r: WatchReport | WatchSnapshot) -> str:
    rep = _report(r)
    s = rep.snapshot
    rules = _rules(s)
    out = [f"# {_m(_title(rep))}", ""]
    out += comp.md_lines(s.completeness, _m_long, top=True)
    out += [f"- **{k}:** {_m(v, 400)}" for k, v in _context_lines(rep)]
    out += ["", *comp.md_lines(s.completeness, _m_long)] if s.completeness is not None else []
    out += ["", "## Alerts", ""]
    if not s.alerts:
        out.append("None.")
    else:
        out += _md_table(
            ("severity", "rule", "actor", "count", "first", "last", "status", "paged"),
            (
                (f"**{a.severity.label}**", _m(a.rule), _m(a.group), _count_text(a, rules.get(a.rule)),
                 fmt_ts(a.first_seen), fmt_ts(a.last_seen), _status(a), _paged(a))
                for a in s.alerts
            ),
        )  # fmt: skip
    for a in s.alerts:
        rule = rules.get(a.rule)
        out += ["", f"### {_m(a.severity.label)} {_m(a.rule)} — {_m(a.group)}", ""]
        if rule is not None:
            out.append(f"- rule: {_m(rule.threshold_text(_window_ms(s)))} — {_m(rule.description, 300)}")
        if a.actions:
            out.append(f"- actions: {_m(a.actions_text(), 400)}")
        out.append(f"- dedup key: `{clean(a.dedup_key, max_len=300).replace('`', '')}`")
        out.append(f"- {_status(a)}; {_paged(a)}")
        if a.samples:
            out += [""]
            out += _md_table(
                ("time", "action", "asset", "event id"),
                ((ts, _m(what), _m(asset) or "—", _m(eid)) for ts, eid, what, asset in _event_lines(a)),
            )
        if a.count > len(a.samples):
            out.append(f"\n… {a.count - len(a.samples)} more (every id is in the JSON report)")
    out += ["", f"## Counts per actor and rule (window {human_duration(_window_ms(s))})", ""]
    cols = _rule_columns(s)
    if not s.rows:
        out.append("None.")
    else:
        out += _md_table(
            ("flag", "actor", "total", *(_m(c) for c in cols)),
            (
                ("**! HOT**" if row.hot else "", _m(row.actor), row.total,
                 *(_cell(row.counts.get(c), c in row.hot) for c in cols))
                for row in s.rows[:MAX_ACTORS]
            ),
        )  # fmt: skip
        if len(s.rows) > MAX_ACTORS:
            out.append(f"\n… and {len(s.rows) - MAX_ACTORS} more (see the JSON report)")
    if s.warnings:
        out += [""] + [f"Warning: {_m(w, 400)}  " for w in s.warnings]
    return "\n".join(out).rstrip() + "\n"


def _cell(n: int | None, hot: bool) -> str:
    if n is None:
        return ""
    return f"{n} !" if hot else str(n)


# -- HTML ------------------------------------------------------------------------------------------------


@register("watch", "html")
def render_html(r: WatchReport | WatchSnapshot) -> str:
    rep = _report(r)
    s = rep.snapshot
    rules = _rules(s)
    body: list[Markup] = [
        comp.html_part(s.completeness, top=True),
        hp.dl(_context_lines(rep)),
        comp.html_part(s.completeness),
    ]
    body.append(
        hp.section(
            "Alerts",
            hp.table(
                ("severity", "rule", "actor", "count", "first", "last", "status", "paged"),
                (
                    (hp.severity_badge(a.severity), a.rule, a.group, _count_text(a, rules.get(a.rule)),
                     fmt_ts(a.first_seen), fmt_ts(a.last_seen), _status(a), _paged(a))
                    for a in s.alerts
                ),
                row_classes=("flagged" if a.is_open else None for a in s.alerts),
                empty="no alerts",
            ),
        )
    )  # fmt: skip
    for a in s.alerts:
        rule = rules.get(a.rule)
        facts: list[tuple[str, Any]] = []
        if rule is not None:
            facts.append(("rule", f"{rule.threshold_text(_window_ms(s))} — {rule.description}"))
        if a.actions:
            facts.append(("actions", a.actions_text()))
        facts.append(("dedup key", hp.code(a.dedup_key)))
        facts.append(("status", f"{_status(a)}; {_paged(a)}"))
        events = hp.table(("time", "action", "asset", "event id"), _event_lines_html(a), empty="no events")
        more = (
            hp.paragraph(f"… {a.count - len(a.samples)} more (every id is in the JSON report)", "muted")
            if a.count > len(a.samples)
            else Markup("")
        )
        title = f"{a.severity.label} {a.rule} — {a.group}"
        body.append(hp.section(title, Markup(hp.dl(facts) + events + more), level=3))
    cols = _rule_columns(s)
    rows = s.rows[:MAX_ACTORS]
    body.append(
        hp.section(
            f"Counts per actor and rule (window {human_duration(_window_ms(s))})",
            hp.table(
                ("flag", "actor", "total", *cols),
                (
                    (hp.badge("! HOT", "high") if row.hot else "", row.actor, row.total,
                     *(_cell(row.counts.get(c), c in row.hot) for c in cols))
                    for row in rows
                ),
                row_classes=("flagged" if row.hot else None for row in rows),
                empty="no matching events in the window",
            ),
        )
    )  # fmt: skip
    if s.warnings:
        body.append(hp.section("Warnings", hp.ul(s.warnings)))
    return hp.page(_title(rep), Markup("".join(body)), subtitle=f"{RULE_LABEL}s (not Datadog detections)")


def _event_lines_html(a: Alert) -> list[tuple[str, str, str, Markup]]:
    return [(ts, what, asset or "—", hp.code(eid)) for ts, eid, what, asset in _event_lines(a)]
