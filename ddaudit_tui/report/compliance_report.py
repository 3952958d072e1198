"""The compliance evidence report: text, Markdown, JSON and HTML renderings of a `ComplianceReport`.

Text and Markdown follow the recipe's Evidence Report template (`detections.md` §4.2) verbatim — title,
Framework, Organization, Period, Generated, Scope Boundary, Retention Status, one section per control with
"Events found: N" and the template's table, then Gaps — with the query behind each control under its
count. Every event is listed (it is evidence), oldest first, in one linear pass. JSON carries the recipe's
jq field names (`timestamp`, `actor`, `affected_user`, `role_id`, `support_actor`, `auth_method`,
`result`, …) on every event.

Event text is attacker-controlled: terminal controls are stripped everywhere, `|` is escaped in table
cells (text and Markdown), Markdown's inline markup is escaped, HTML is escaped by `report/html.py`.
Timestamps carry their zone (`Z`). Nothing of ddaudit's own settings is rendered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ddaudit_tui.analysis.compliance import (
    BASE_COLUMNS,
    ComplianceReport,
    ControlResult,
    EvidenceRow,
    FieldCheck,
)
from ddaudit_tui.outcome import look
from ddaudit_tui.report import completeness as done
from ddaudit_tui.report import html as hp
from ddaudit_tui.report.html import Markup
from ddaudit_tui.report.registry import register
from ddaudit_tui.safetext import clean, json_safe
from ddaudit_tui.timeutil import fmt_ts, iso

__all__ = ["compliance_json", "render_text", "render_md", "render_json", "render_html", "TITLE"]

TITLE = "Datadog Audit Trail — Compliance Evidence Report"
SCOPE_BOUNDARY = (
    "This report covers administrative actions within the Datadog platform.",
    "It does not cover actions taken within systems that Datadog monitors.",
)
TABLE_HEADERS = ("Timestamp", "Actor", "Action", "Resource Type", "Resource ID", "IP", "Country")
# Recipe fields that are not one of the template's columns: shown as extra columns.
_EXTRA_HEADERS = {"auth_method": "Auth Method", "result": "Result"}
# Recipe fields that are another name for a template column (said under the count, not repeated).
_ALIASES = {
    "user": "Actor",
    "support_actor": "Actor",
    "affected_user": "Resource ID",
    "role_id": "Resource ID",
    "resource": "Resource Type",
}
CELL_MAX = 300  # characters per table cell in text/Markdown/HTML (JSON has every value whole)


# -- shared pieces -----------------------------------------------------------------------------------------


def _org_line(r: ComplianceReport) -> str:
    if r.organization == "unknown" and r.org_uuid:
        return f"unknown (org uuid {r.org_uuid})"
    return r.organization


def _header(r: ComplianceReport) -> list[tuple[str, str]]:
    return [
        ("Framework", r.framework_name),
        ("Organization", _org_line(r)),
        ("Period", f"{fmt_ts(r.window.start)} to {fmt_ts(r.window.end)}"),
        ("Generated", fmt_ts(r.generated)),
    ]


def _extra_columns(c: ControlResult) -> list[str]:
    return [col for col in c.columns if col in _EXTRA_HEADERS]


def _fields_line(c: ControlResult) -> str:
    parts = [f"{col} = {_ALIASES[col]}" if col in _ALIASES else col for col in c.columns]
    return "Recipe fields: " + ", ".join(parts)


def _cells(row: EvidenceRow, extras: Sequence[str]) -> list[Any]:
    return [
        fmt_ts(row.ts),
        row.actor,
        row.action,
        row.resource_type,
        row.resource_id,
        row.ip,
        row.country,
        *(row.value(col) for col in extras),
    ]


def _setting_line(row: EvidenceRow) -> str:
    prev, new = row.extra.get("retention_prev"), row.extra.get("retention_new")
    change = f" (retention {prev} → {new} days)" if prev is not None and new is not None else ""
    what = " ".join(p for p in (row.evt_name, row.resource_type) if p)
    return f"{fmt_ts(row.ts)} {row.actor or 'unknown'} {row.action or '?'} {what}{change}"


def _check_rows(checks: Iterable[FieldCheck]) -> list[list[Any]]:
    return [
        [c.id, c.name, ", ".join(c.fields), c.expectation, c.checked, c.present, c.missing] for c in checks
    ]


CHECK_HEADERS = (
    "Requirement",
    "Description",
    "Fields",
    "Expected",
    "Events checked",
    "With field",
    "Without",
)


def _retention_facts(r: ComplianceReport) -> list[str]:
    ret = r.retention
    required = "12 months" if ret.required_days else "auditor's discretion (typically 12 months)"
    return [
        f"Required retention: {required}. Datadog default: {ret.default_days} days "
        "(documentation revisions differ: 3–90 days configurable; 7 days when Audit Trail is disabled).",
        f"Requested period: {ret.period_days:g} days.",
        "⚠ Archives (S3/GCS/Azure Blob) cannot be queried through the API: confirm one is configured "
        "(Datadog UI > Security > Audit Trail > Configure > Archive) and kept 12 months.",
    ]


def _gap_kind(kind: str) -> str:
    return {
        "no_events": "no events",
        "partial": "partial fetch",
        "failed": "query failed",
        "field": "missing field",
        "retention": "retention",
        "caveat": "caveat",
    }.get(kind, kind)


# -- text and Markdown (one builder: they differ only in escaping and line breaks) ----------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def _text_cell(value: Any) -> str:
    """One table cell as plain text: controls stripped, one line, `|` escaped so columns stay put."""
    if value is None or value == "":
        return "—"
    return clean(value, max_len=CELL_MAX).replace("|", "\\|")


def _md_cell(value: Any) -> str:
    """One table cell as literal Markdown: inline markup and `|` escaped (no link, HTML or code can form)."""
    if value is None or value == "":
        return "—"
    return _MD_SPECIAL.sub(r"\\\1", clean(value, max_len=CELL_MAX))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], cell: Callable[[Any], str]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def _document(r: ComplianceReport, md: bool) -> str:
    esc = _md_cell if md else _text_cell
    br = "  " if md else ""  # a Markdown hard line break keeps the template's lines as lines

    def line(text: str) -> str:
        return (_md_cell(text) if md else clean(text)) + br

    out: list[str] = [f"# {TITLE}"]
    c_ = done.of(r)
    out += done.md_lines(c_, _md_cell, top=True) if md else done.text_lines(c_, top=True)
    out += [line(f"{k}: {v}") for k, v in _header(r)]
    if c_ is not None:
        out.append(line(f"Completeness: {c_.line()}"))
    out += ["", "## Scope Boundary", *(s + br for s in SCOPE_BOUNDARY)]
    out += ["", "## Retention Status", *(line(x) for x in r.retention.lines)]
    if r.retention.settings_changes:
        out += ["", "Audit Trail settings changes in the period:"]
        out += [f"- {line(_setting_line(row)).rstrip()}" for row in r.retention.settings_changes]
    out += ["", "---"]
    for c in r.controls:
        extras = _extra_columns(c)
        out += ["", f"## {c.id} — {c.name}", f"Events found: {c.count}{br}"]
        for q in c.queries:
            out.append(f"Query: `{q}`{br}" if md else f"Query: {q}")
        out.append(line(_fields_line(c)).rstrip())
        if not c.complete:
            out.append(line("⚠ Incomplete: see Gaps. The events listed are a lower bound.").rstrip())
        out.append("")
        out += _table(
            [*TABLE_HEADERS, *(_EXTRA_HEADERS[x] for x in extras)],
            (_cells(row, extras) for row in c.rows),
            esc,
        )
        if not c.rows:
            out += ["", "No events found in the period (see Gaps)."]
    if r.checks:
        out += ["", "## 10.3 — Audit log content (10.3.1–10.3.6)"]
        out.append(f"Events checked: {r.total_events} (every event gathered for this report){br}")
        out.append("")
        out += _table(CHECK_HEADERS, _check_rows(r.checks), esc)
    if r.retention.required_days:
        out += ["", "## 10.7 — Retain audit logs ≥12 months"]
        out += [line(x) for x in _retention_facts(r)]
    out += ["", "---", "", "## Gaps"]
    if not r.gaps:
        out.append("None.")
    for g in r.gaps:
        text = f"{g.control} ({_gap_kind(g.kind)}): {g.reason}"
        out.append(f"- {_md_cell(text) if md else clean(text)}")
    return "\n".join(out) + "\n"


@register("compliance", "text")
def render_text(r: ComplianceReport) -> str:
    return _document(r, md=False)


@register("compliance", "md")
def render_md(r: ComplianceReport) -> str:
    return _document(r, md=True)


# -- JSON ------------------------------------------------------------------------------------------------------


def _row_json(row: EvidenceRow, columns: Sequence[str]) -> dict[str, Any]:
    """The recipe's jq projection first (its names, its order), then the template's columns and ids."""
    out: dict[str, Any] = {}
    for col in (*columns, *BASE_COLUMNS):
        if col not in out:
            value = row.value(col)
            out[col] = iso(value) if col == "timestamp" else value
    out.update(
        {
            "resource_name": row.resource_name,
            "actor_type": row.actor_type,
            "evt_name": row.evt_name,
            "status": row.status,
            "event_id": row.event_id,
        }
    )
    return out


def compliance_json(r: ComplianceReport) -> dict[str, Any]:
    ret = r.retention
    settings_cols = ("timestamp", "user", "action", "resource")
    return {
        "report": "compliance",
        "framework": r.framework,
        "framework_name": r.framework_name,
        "organization": r.organization,
        "org_uuid": r.org_uuid,
        "period": {"from": iso(r.window.start), "to": iso(r.window.end)},
        "generated": iso(r.generated),
        "source": r.source,
        "scope_boundary": " ".join(SCOPE_BOUNDARY),
        "retention": {
            "covered": ret.covered,
            "status": list(ret.lines),
            "issues": list(ret.issues),
            "period_days": ret.period_days,
            "default_days": ret.default_days,
            "required_days": ret.required_days,
            "start_has_events": ret.start_has_events,
            "oldest_event": iso(ret.oldest_event) if ret.oldest_event is not None else None,
            "checks": [{"query": q, "events": n} for q, n in ret.check_counts.items()],
            "settings_changes": [
                {
                    **_row_json(row, settings_cols),
                    "retention_prev": row.extra.get("retention_prev"),
                    "retention_new": row.extra.get("retention_new"),
                }
                for row in ret.settings_changes
            ],
        },
        "controls": [
            {
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "queries": list(c.queries),
                "columns": list(c.columns),
                "events_found": c.count,
                "complete": c.complete,
                "warnings": list(c.warnings),
                "failed": list(c.failed),
                "query_counts": dict(c.query_counts),
                "events": [_row_json(row, c.columns) for row in c.rows],
            }
            for c in r.controls
        ],
        "checks": [
            {
                "id": k.id,
                "name": k.name,
                "fields": list(k.fields),
                "scope": k.scope,
                "expectation": k.expectation,
                "checked": k.checked,
                "present": k.present,
                "missing": k.missing,
                "missing_by_actor_type": dict(k.missing_by_actor_type),
                "missing_examples": list(k.missing_examples),
            }
            for k in r.checks
        ],
        "gaps": [{"control": g.control, "kind": g.kind, "reason": g.reason} for g in r.gaps],
        "warnings": list(r.warnings),
        "total_events": r.total_events,
        "complete": r.complete,
        "completeness": done.json_object(done.of(r)),
    }


@register("compliance", "json")
def render_json(r: ComplianceReport) -> str:
    return json_safe(json.dumps(compliance_json(r), indent=2, ensure_ascii=False)) + "\n"


# -- HTML --------------------------------------------------------------------------------------------------------


def _html_cell(value: Any) -> Any:
    if value is None or value == "":
        return "—"
    return clean(value, max_len=CELL_MAX)


def _status_line(text: str) -> Markup:
    # The glyphs are the outcome map's (ddaudit_tui/outcome.py): ✓ only for success.
    ok, partial = look("success").glyph, look("partial").glyph
    if text.startswith(ok):
        return Markup(hp.badge(f"{ok} OK", "ok") + " " + hp.esc(text[len(ok) :].strip()))
    if text.startswith(partial):
        return Markup(hp.badge(f"{partial} WARNING", "medium") + " " + hp.esc(text[len(partial) :].strip()))
    return hp.esc(text)


@register("compliance", "html")
def render_html(r: ComplianceReport) -> str:
    body: list[Markup] = [done.html_part(done.of(r), top=True), hp.dl(_header(r)), done.html_part(done.of(r))]
    body.append(hp.section("Scope Boundary", hp.paragraph(" ".join(SCOPE_BOUNDARY))))
    retention: list[Markup] = [hp.ul(_status_line(x) for x in r.retention.lines)]
    if r.retention.settings_changes:
        retention.append(hp.paragraph("Audit Trail settings changes in the period:"))
        retention.append(hp.ul(_setting_line(row) for row in r.retention.settings_changes))
    body.append(hp.section("Retention Status", Markup("".join(retention))))
    for c in r.controls:
        extras = _extra_columns(c)
        parts: list[Markup] = [
            hp.paragraph(f"Events found: {c.count}"),
            hp.paragraph(Markup(Markup("<br>").join(Markup("Query: " + hp.code(q)) for q in c.queries))),
            hp.paragraph(_fields_line(c), "muted small"),
        ]
        if not c.complete:
            parts.append(
                hp.paragraph(Markup(hp.badge("⚠ INCOMPLETE", "medium") + hp.esc(" see Gaps; a lower bound")))
            )
        parts.append(
            hp.table(
                [*TABLE_HEADERS, *(_EXTRA_HEADERS[x] for x in extras)],
                ([_html_cell(v) for v in _cells(row, extras)] for row in c.rows),
                empty="No events found.",
            )
        )
        body.append(hp.section(f"{c.id} — {c.name}", Markup("".join(parts))))
    if r.checks:
        body.append(
            hp.section(
                "10.3 — Audit log content (10.3.1–10.3.6)",
                Markup(
                    hp.paragraph(f"Events checked: {r.total_events} (every event gathered for this report)")
                    + hp.table(CHECK_HEADERS, _check_rows(r.checks))
                ),
            )
        )
    if r.retention.required_days:
        body.append(
            hp.section(
                "10.7 — Retain audit logs ≥12 months", hp.ul(_status_line(x) for x in _retention_facts(r))
            )
        )
    gaps = [
        Markup(hp.tag("strong", g.control) + hp.esc(f" ({_gap_kind(g.kind)}): {g.reason}")) for g in r.gaps
    ]
    body.append(hp.section("Gaps", hp.ul(gaps) if gaps else hp.paragraph("None.")))
    return hp.page(TITLE, Markup("".join(body)))
