"""Every report format carries the answer's completeness (issue 16, item 1): a `completeness` object in JSON,
a line in text, Markdown and HTML — and a partial answer (the fake API answering `meta.status: timeout`)
is marked partial in each, first thing, never shown as complete."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ddaudit_tui.analysis.ai_investigation import investigate_ai
from ddaudit_tui.analysis.compliance import build_compliance
from ddaudit_tui.analysis.key_investigation import investigate_key
from ddaudit_tui.demo.fake_datadog import DEMO_API_KEY, DEMO_APP_KEY, FakeDatadog, FaultPlan
from ddaudit_tui.report import ai_report, compliance_report, key_report  # noqa: F401  (register renderers)
from ddaudit_tui.report.registry import render
from ddaudit_tui.sources.datadog import Credentials, DatadogClient
from ddaudit_tui.timeutil import Window, iso, parse_instant

KEY = "9f3c2e71-4b8a-4d2e-a6f5-1c7b8e9d0a24"
T0 = parse_instant("2026-07-25T17:00:00Z")
WINDOW = Window(T0, T0 + 7 * 86_400_000)
REASON = "server timeout (meta.status: timeout) on page 1"


def item(n: int) -> dict[str, Any]:
    return {
        "id": f"ev-{n:04d}",
        "type": "audit",
        "attributes": {
            "attributes": {
                # Logins half the time: the compliance report's queries must match something too.
                "evt": {"name": "Authentication" if n % 2 else "Request", "actor": {"type": "SUPPORT_USER"}},
                "action": "login" if n % 2 else "accessed",
                "usr": {"email": "a@example.com", "id": "a@example.com"},
                "metadata": {"api_key": {"id": KEY}},
                "http": {"method": "GET", "url_details": {"path": "/api/v1/monitor"}},
                "network": {"client": {"ip": "34.86.142.19"}},
                "org": {"name": "Example Corp"},
            },
            "message": "m",
            "service": "audit",
            "status": "error" if n % 2 else "info",
            "tags": ["source:audit", "is_mcp_call:true"],
            "timestamp": iso(T0 + n * 3_600_000),
        },
    }


async def _run(kind: str, partial: bool) -> Any:
    faults = FaultPlan(rates={"partial": 1.0}) if partial else None
    fake = FakeDatadog([item(n) for n in range(30)], faults=faults)
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY), transport=fake, retention_days=90
    )
    async with client:
        if kind == "key":
            return await investigate_key(client, KEY, WINDOW)
        if kind == "ai":
            return await investigate_ai(client, WINDOW)
        return await build_compliance(client, "soc2", WINDOW)


@pytest.fixture(scope="module", params=["key", "ai", "compliance"])
def reports(request) -> tuple[str, Any, Any]:
    kind = request.param
    return kind, asyncio.run(_run(kind, False)), asyncio.run(_run(kind, True))


def test_json_carries_a_completeness_object(reports) -> None:
    kind, complete, partial = reports
    good = json.loads(render(kind, "json", complete))["completeness"]
    bad = json.loads(render(kind, "json", partial))["completeness"]
    assert (good["partial"], good["complete"], good["engine"]) == (False, True, "search")
    assert good["requests"] >= 1 and good["events_fetched"] >= 1 and good["reasons"] == []
    assert good["rate_limit"]["limit"] == 1000 and good["rate_limit"]["remaining"] < 1000
    # The window is in July 2026, long before now − 90 days: the retention cut-off is said.
    assert good["retention_days"] == 90 and "are outside retention (90 days)" in good["retention_note"]
    assert good["elapsed_ms"] >= 0
    assert (bad["partial"], bad["complete"]) == (True, False)
    assert any(REASON in r for r in bad["reasons"])


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_text_formats_carry_a_completeness_line_and_a_partial_banner_first(reports, fmt: str) -> None:
    kind, complete, partial = reports
    good = render(kind, fmt, complete)
    bad = render(kind, fmt, partial)
    assert "Completeness: complete: engine search" in good
    assert "outside retention" in good
    assert "PARTIAL" not in good
    assert "Completeness: PARTIAL: engine search" in bad
    assert REASON in bad
    # The banner comes before anything else the report says (a reader stopping early still knows).
    banner = bad.index("PARTIAL ANSWER")
    body_start = {"key": "Key ID", "ai": "MCP", "compliance": "Framework"}[kind]
    if fmt == "text":  # the first line, or the second after the compliance template's title
        assert any(line.startswith("PARTIAL ANSWER: ") for line in bad.splitlines()[:2])
    assert banner < bad.index(body_start)
