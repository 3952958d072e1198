"""The compliance evidence report renderers: the recipe's template in order, hostile text inert, JSON names."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import msgspec
import pytest

from ddaudit_tui.analysis.compliance import ComplianceReport, build_compliance, catalogue
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.report import compliance_report  # noqa: F401  (registers the renderers)
from ddaudit_tui.report.registry import formats, render
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso, parse_instant

H = 3_600_000
D = 24 * H
END = parse_instant("2026-08-01T16:00:00Z")
WINDOW = Window(END - 30 * D, END)

HOSTILE = (
    "evil[bold red]X[/]|pipe\x1b]52;c;ZXZpbA==\x07\x1b[31m<script>alert(1)</script>\nnext *em* `c` | end"
)
HOSTILE_IP = "10.0.0.1|\x1b[2J"

_ids = iter(range(10**9))


def item(ts: int, **inner: Any) -> dict[str, Any]:
    inner.setdefault("org", {"name": "Example Corp", "uuid": "00000000-0000-4000-8000-000000000001"})
    inner.setdefault("status", "info")
    return {
        "id": f"AQAAAZ{next(_ids):020d}",
        "type": "audit",
        "attributes": {
            "timestamp": iso(ts),
            "attributes": inner,
            "service": "audit",
            "tags": ["source:audit"],
        },
    }


def items() -> list[dict[str, Any]]:
    am = {"name": "Access Management", "actor": {"type": "USER"}}
    net = {"client": {"ip": "198.51.100.7", "geoip": {"country": {"name": "United States"}}}}
    return [
        # CC6.2: a hostile affected user id and actor, from a hostile IP.
        item(END - 3 * D, evt=am, action="created", usr={"email": HOSTILE}, asset={"type": "user", "id": HOSTILE},
             network={"client": {"ip": HOSTILE_IP, "geoip": {"country": {"name": HOSTILE}}}}),
        item(END - 2 * D, evt=am, action="deleted", usr={"email": "admin@example.com"},
             asset={"type": "user", "id": "u-2"}, network=net),
        # CC6.3
        item(END - 1 * D, evt=am, action="modified", usr={"email": "admin@example.com"},
             asset={"type": "role", "id": "role-1"}, network=net),
        # CC6.6 and 10.2.5
        item(END - 5 * H, evt={"name": "Authentication", "actor": {"type": "USER"}}, action="login",
             status="error", auth_method="PASSWORD", usr={"email": "bob@example.com"}, network=net),
        item(END - 4 * H, evt={"name": "Authentication", "actor": {"type": "USER"}}, action="login",
             auth_method="SAML", usr={"email": "bob@example.com"}, network=net),
        # background so the period is "covered"
        item(END - 30 * D + H, evt={"name": "Request", "actor": {"type": "USER"}}, action="accessed",
             usr={"email": "bob@example.com"}, network=net),
    ]  # fmt: skip


def build(framework: str) -> ComplianceReport:
    store = EventStore(iter_decode(msgspec.json.encode({"data": items()}), "t"))
    return asyncio.run(build_compliance(FileSource(store, "t"), framework, WINDOW, now=END / 1000))


@pytest.fixture(scope="module")
def soc2() -> ComplianceReport:
    return build("soc2")


@pytest.fixture(scope="module")
def pci() -> ComplianceReport:
    return build("pci")


def test_every_format_is_registered():
    assert sorted(formats("compliance")) == ["html", "json", "md", "text"]


@pytest.mark.parametrize("fmt", ["md", "text"])
def test_the_template_in_order(soc2, fmt):
    out = render("compliance", fmt, soc2)
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[:5] == [
        "# Datadog Audit Trail — Compliance Evidence Report",
        "Framework: SOC 2",
        "Organization: Example Corp",
        "Period: 2026-07-02 16:00:00Z to 2026-08-01 16:00:00Z",
        "Generated: 2026-08-01 16:00:00Z",
    ]
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [
        "## Scope Boundary",
        "## Retention Status",
        "## CC6.2 — User registration and deprovisioning",
        "## CC6.3 — Role-based access",
        "## CC6.6 — Logical access boundaries",
        "## CC7.2 — System monitoring — anomaly detection",
        "## Gaps",
    ]
    i = lines.index("## Scope Boundary")
    assert lines[i + 1 : i + 3] == [
        "This report covers administrative actions within the Datadog platform.",
        "It does not cover actions taken within systems that Datadog monitors.",
    ]
    assert lines[lines.index("## Retention Status") + 1] == "✓ Full period covered by Audit Trail retention"
    for c in soc2.controls:
        j = lines.index(f"## {c.id} — {c.name}")
        assert lines[j + 1] == f"Events found: {c.count}"
        header = next(k for k in range(j, len(lines)) if lines[k].startswith("| Timestamp"))
        assert lines[header] == "| Timestamp | Actor | Action | Resource Type | Resource ID | IP | Country |"
        body = []
        for line in lines[header + 2 :]:
            if not line.startswith("|"):
                break
            body.append(line)
        assert len(body) == c.count  # one line per event: every event is listed
    assert lines.index("---") < lines.index("## CC6.2 — User registration and deprovisioning")
    # The zero-event control (no support actions) is in the Gaps, with why.
    gaps = lines[lines.index("## Gaps") + 1 :]
    assert any(g.startswith("- CC7.2 (no events): No events matched.") for g in gaps)


def test_pci_sections_and_extra_columns(pci):
    md = render("compliance", "md", pci)
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[2:] == [
        *(f"## {c.id} — {c.name}" for c in catalogue("pci")),
        "## 10.3 — Audit log content (10.3.1–10.3.6)",
        "## 10.7 — Retain audit logs ≥12 months",
        "## Gaps",
    ]
    assert (
        "| Timestamp | Actor | Action | Resource Type | Resource ID | IP | Country | Auth Method | Result |"
        in md
    )
    assert "| bob@example.com | login | — | — | 198.51.100.7 | United States | SAML | info |" in md
    assert 'Query: `@evt.name:"Organization Management" @asset.type:audit_logs_settings`' in md


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.mark.parametrize("fmt", ["md", "text"])
def test_hostile_fields_are_inert_in_md_and_text(soc2, fmt):
    out = render("compliance", fmt, soc2)
    assert "\x1b" not in out and "\x07" not in out
    rows = [line for line in out.splitlines() if line.startswith("| 2026-07-29")]
    assert len(rows) == 1  # the newline in the value did not start a new line
    # Seven columns: the `|` inside values are escaped and do not make cells.
    assert len(_UNESCAPED_PIPE.split(rows[0])) == 7 + 2
    assert "52;c;" not in out  # the OSC 52 payload is removed with its sequence
    if fmt == "md":
        assert "<script>" not in out and "\\<script\\>" in out
        assert "\\[bold red\\]X\\[/\\]" in out and "\\*em\\*" in out and "\\`c\\`" in out
    else:
        assert "evil[bold red]X[/]\\|pipe" in out


def test_hostile_fields_are_escaped_in_html(soc2):
    out = render("compliance", "html", soc2)
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "\x1b" not in out and "52;c;" not in out
    assert "Content-Security-Policy" in out
    for c in soc2.controls:
        assert f"{c.id} — {c.name}" in out
    assert "Events found: 2" in out and "No events found." in out


def test_json_uses_the_recipe_field_names(pci, soc2):
    data = json.loads(render("compliance", "json", soc2))
    assert data["report"] == "compliance" and data["framework"] == "soc2"
    assert data["organization"] == "Example Corp"
    assert data["period"] == {"from": "2026-07-02T16:00:00.000Z", "to": "2026-08-01T16:00:00.000Z"}
    controls = {c["id"]: c for c in data["controls"]}
    cc62 = controls["CC6.2"]
    assert cc62["columns"] == ["timestamp", "actor", "action", "affected_user"]
    assert cc62["events_found"] == 2 == len(cc62["events"])
    first = cc62["events"][0]
    assert list(first)[:4] == ["timestamp", "actor", "action", "affected_user"]
    assert first["affected_user"] == HOSTILE and first["actor"] == HOSTILE  # data, kept whole
    assert first["timestamp"].endswith("Z") and first["ip"] == HOSTILE_IP
    assert controls["CC6.3"]["events"][0]["role_id"] == "role-1"
    assert (
        controls["CC6.6"]["events"][0] | {"user": "bob@example.com", "ip": "198.51.100.7"}
        == controls["CC6.6"]["events"][0]
    )
    assert controls["CC7.2"]["events"] == [] and controls["CC7.2"]["events_found"] == 0
    assert {"control": "CC7.2", "kind": "no_events"}.items() <= next(
        g for g in data["gaps"] if g["control"] == "CC7.2"
    ).items()
    assert data["retention"]["covered"] is True
    p = json.loads(render("compliance", "json", pci))
    logins = next(c for c in p["controls"] if c["id"] == "10.2.5")["events"]
    assert [(e["user"], e["auth_method"], e["result"]) for e in logins] == [
        ("bob@example.com", "PASSWORD", "error"),
        ("bob@example.com", "SAML", "info"),
    ]
    assert [c["id"] for c in p["checks"]] == ["10.3.1", "10.3.2", "10.3.3", "10.3.4", "10.3.5", "10.3.6"]


def test_long_tables_list_every_event(soc2):
    """Evidence is never truncated: a control with thousands of events lists them all."""
    from dataclasses import replace

    c = soc2.control("CC6.3")
    many = replace(c, rows=[replace(c.rows[0], event_id=f"e{i}", ts=c.rows[0].ts + i) for i in range(5000)])
    report = replace(soc2, controls=[many])
    md = render("compliance", "md", report)
    assert "Events found: 5000" in md
    assert sum(line.startswith("| 2026-") for line in md.splitlines()) == 5000
    assert len(json.loads(render("compliance", "json", report))["controls"][0]["events"]) == 5000
