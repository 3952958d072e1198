"""Compliance evidence (dd-audit-compliance-report): the catalogue, each control on the demo's planted events,
retention status, gaps, partial fetches, pushdown (one fetch per query, bounded concurrency)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from typing import Any

import msgspec
import pytest

from ddaudit_tui.analysis import compliance as cm
from ddaudit_tui.analysis.compliance import (
    CONCURRENCY,
    Q_AUDIT_SETTINGS,
    Q_LOGINS,
    Q_ORG_MANAGEMENT,
    Q_RETENTION_CHECK,
    Q_SUPPORT,
    ComplianceReport,
    build_compliance,
    catalogue,
    normalise_framework,
)
from ddaudit_tui.demo.org import PLANTED as P
from ddaudit_tui.demo.org import generate
from ddaudit_tui.demo.shapes import ORG_NAME
from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.record import Event
from ddaudit_tui.events.store import EventStore
from ddaudit_tui.sources.base import FetchResult, Progress
from ddaudit_tui.sources.files import FileSource
from ddaudit_tui.timeutil import Window, iso, parse_instant

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
END = parse_instant("2026-08-01T16:00:00Z")
NOW = END / 1000
DEMO_EVENTS = 3000


@functools.lru_cache(maxsize=1)
def demo_events() -> tuple[Event, ...]:
    items = generate(seed=7, events=DEMO_EVENTS, end_ms=END)
    return tuple(iter_decode(msgspec.json.encode({"data": items}), "demo"))


def demo_source() -> FileSource:
    return FileSource(EventStore(demo_events()), "demo")


def build(framework: str, window: Window, source: Any = None, **kw: Any) -> ComplianceReport:
    return asyncio.run(build_compliance(source or demo_source(), framework, window, now=NOW, **kw))


@functools.lru_cache(maxsize=4)
def demo_report(framework: str, days: int = 90) -> ComplianceReport:
    return build(framework, Window(END - days * D, END))


# -- synthetic events ----------------------------------------------------------------------------------------

_ids = iter(range(10**9))


def item(ts: int, **inner: Any) -> dict[str, Any]:
    n = next(_ids)
    inner.setdefault("org", {"uuid": "00000000-0000-4000-8000-000000000001"})
    return {
        "id": f"AQAAAZ{n:020d}",
        "type": "audit",
        "attributes": {
            "timestamp": iso(ts),
            "attributes": inner,
            "service": "audit",
            "tags": ["source:audit"],
        },
    }


def file_source(items: list[dict[str, Any]]) -> FileSource:
    return FileSource(EventStore(iter_decode(msgspec.json.encode({"data": items}), "t")), "t")


def failed_login(ts: int, email: str, ip: str) -> dict[str, Any]:
    return item(
        ts,
        evt={"name": "Authentication", "actor": {"type": "USER"}},
        action="login",
        status="error",
        auth_method="PASSWORD",
        usr={"email": email},
        network={"client": {"ip": ip, "geoip": {"country": {"name": "Netherlands"}}}},
    )


# -- the catalogue -------------------------------------------------------------------------------------------


def test_catalogue_holds_the_recipe_queries_and_jq_names_verbatim():
    soc2 = {c.id: c for c in catalogue("soc2")}
    assert list(soc2) == ["CC6.2", "CC6.3", "CC6.6", "CC7.2"]
    assert soc2["CC6.2"].name == "User registration and deprovisioning"
    assert soc2["CC6.2"].query == (
        '@evt.name:"Access Management" @asset.type:user @action:(created OR deleted OR modified)'
    )
    assert soc2["CC6.2"].columns == ("timestamp", "actor", "action", "affected_user")
    assert soc2["CC6.3"].query == '@evt.name:"Access Management" @asset.type:role'
    assert soc2["CC6.3"].columns == ("timestamp", "actor", "action", "role_id")
    assert soc2["CC6.6"].query == "@evt.name:Authentication @action:login @status:error"
    assert soc2["CC6.6"].columns == ("timestamp", "user", "ip", "country")
    assert soc2["CC7.2"].query == "@evt.actor.type:SUPPORT_USER"
    assert soc2["CC7.2"].columns == ("timestamp", "support_actor", "action", "resource_type", "resource_id")

    pci = {c.id: c for c in catalogue("pci")}
    assert list(pci) == ["10.2.2", "10.2.3", "10.2.4", "10.2.5", "10.2.6", "10.2.7"]
    assert pci["10.2.2"].queries == ("@evt.actor.type:SUPPORT_USER", '@evt.name:"Organization Management"')
    assert pci["10.2.3"].queries == ('@evt.name:"Audit Trail"',)
    assert pci["10.2.4"].queries == soc2["CC6.6"].queries
    assert pci["10.2.5"].query == "@evt.name:Authentication @action:login"
    assert pci["10.2.5"].columns == ("timestamp", "user", "auth_method", "result", "ip", "country")
    # Both: the recipe's retention check and where settings changes are really logged (§4.2 caveat).
    assert pci["10.2.6"].queries == (
        '@evt.name:"Audit Trail" @action:modified',
        '@evt.name:"Organization Management" @asset.type:audit_logs_settings',
    )
    assert pci["10.2.7"].query == "@action:(created OR deleted)"
    assert pci["10.2.7"].columns == ("timestamp", "user", "action", "resource_type", "resource_id", "ip")
    assert [c.id for c in cm.field_checks("pci")] == [
        "10.3.1",
        "10.3.2",
        "10.3.3",
        "10.3.4",
        "10.3.5",
        "10.3.6",
    ]
    assert cm.field_checks("soc2") == ()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("soc2", "soc2"), ("SOC 2", "soc2"), ("soc-2", "soc2"), ("PCI-DSS", "pci"), ("pci", "pci")],
)
def test_framework_names(given, expected):
    assert normalise_framework(given) == expected


def test_unknown_framework_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'hipaa'"):
        normalise_framework("hipaa")


# -- each control returns the demo's planted events ------------------------------------------------------------


def test_cc6_2_user_lifecycle_includes_support_and_admin_changes():
    c = demo_report("soc2").control("CC6.2")
    actions = {(r.actor, r.action) for r in c.rows}
    assert (P.support_user, "created") in actions and (P.support_user, "modified") in actions
    assert (P.role_grant_user, "created") in actions  # dave invited tom, 76 days before the end
    assert all(r.resource_type == "user" for r in c.rows)
    assert all(r.extra["affected_user"] == r.resource_id and r.resource_id for r in c.rows)


def test_cc6_3_role_changes_hold_daves_four_grants():
    c = demo_report("soc2").control("CC6.3")
    start = P.times(END)["role_grants_start"]
    daves = [r for r in c.rows if r.actor == P.role_grant_user and r.ts >= start]
    assert len(daves) == P.role_grants
    assert all(r.action == "modified" and r.resource_type == "role" and r.extra["role_id"] for r in daves)
    assert sum(r.actor == P.role_grant_near_miss_user and r.ts >= start - 7 * H for r in c.rows) == 2


def test_cc6_6_failed_logins_hold_the_brute_force():
    report = demo_report("soc2")
    c = report.control("CC6.6")
    brute = [r for r in c.rows if r.ip == P.brute_force_ip]
    assert len(brute) == P.brute_force_failures
    assert all(r.status == "error" and r.action == "login" for r in c.rows)
    assert [r.ts for r in c.rows] == sorted(r.ts for r in c.rows)  # chronological evidence
    pci = demo_report("pci").control("10.2.4")
    assert {r.event_id for r in pci.rows} == {r.event_id for r in c.rows}


def test_cc7_2_support_actions():
    c = demo_report("soc2").control("CC7.2")
    assert c.rows and all(r.actor == P.support_user for r in c.rows)
    assert all(r.extra["support_actor"] == P.support_user for r in c.rows)
    start = P.times(END)["support_actions_start"]
    planted = {(r.action, r.resource_type) for r in c.rows if start <= r.ts < start + H}
    assert planted == {
        ("modified", "user"),
        ("created", "user"),
        ("modified", "role"),
        ("modified", "ip_allowlist"),
    }


def test_pci_10_2_2_privileged_is_support_plus_org_management_each_event_once():
    c = demo_report("pci").control("10.2.2")
    ids = [r.event_id for r in c.rows]
    assert len(ids) == len(set(ids))
    assert {r.actor for r in c.rows} >= {P.support_user, P.audit_settings_user}
    assert c.query_counts[Q_SUPPORT] + c.query_counts[Q_ORG_MANAGEMENT] >= len(ids)


def test_pci_10_2_3_audit_trail_access_is_rachels_queries_and_export():
    c = demo_report("pci").control("10.2.3")
    assert {r.actor for r in c.rows} == {P.audit_settings_user}  # rachel, the security engineer
    assert {r.resource_type for r in c.rows} == {"query", "audit_events_csv"}


def test_pci_10_2_5_all_logins_with_method_and_result():
    c = demo_report("pci").control("10.2.5")
    ryan = [r for r in c.rows if r.actor == P.unusual_login_user and r.ip == P.unusual_login_ip]
    assert len(ryan) == 1 and ryan[0].extra == {"auth_method": "PASSWORD", "result": "info"} | ryan[0].extra
    assert ryan[0].value("result") == "info" and ryan[0].value("auth_method") == "PASSWORD"
    failed = {r.event_id for r in c.rows if r.value("result") == "error"}
    assert failed == {r.event_id for r in demo_report("pci").control("10.2.4").rows}


def test_pci_10_2_6_finds_rachels_settings_change_that_the_recipe_query_misses():
    report = demo_report("pci")
    c = report.control("10.2.6")
    assert c.query_counts == {Q_RETENTION_CHECK: 0, Q_AUDIT_SETTINGS: 1}
    (row,) = c.rows
    assert row.actor == P.audit_settings_user and row.resource_type == "audit_logs_settings"
    assert abs(row.ts - P.times(END)["audit_settings_change"]) < M  # shapes add sub-second jitter
    (change,) = report.retention.settings_changes
    assert change.extra["retention_prev"] == 90 and change.extra["retention_new"] == 3
    assert any("retention 90 → 3 days" in line for line in report.retention.lines)


def test_pci_10_2_7_creations_and_deletions():
    c = demo_report("pci").control("10.2.7")
    created = {r.resource_id for r in c.rows if r.action == "created" and r.actor == P.key_minting_user}
    assert set(P.minted_keys) | {P.minted_app_key} <= created
    start = P.times(END)["bulk_deletion_start"]
    matt = [r for r in c.rows if r.actor == P.bulk_deletion_user and r.action == "deleted" and r.ts >= start]
    assert len(matt) == P.bulk_deleted_dashboards and {r.resource_type for r in matt} == {"dashboard"}
    deleted = {r.resource_id for r in c.rows if r.action == "deleted"}
    assert set(P.deleted_monitors) <= deleted and P.monitor_deleted in deleted
    assert {r.action for r in c.rows} == {"created", "deleted"}


def test_organization_comes_from_the_events():
    assert demo_report("soc2").organization == ORG_NAME
    r = build(
        "soc2",
        Window(END - D, END),
        source=file_source([failed_login(END - H, "a@example.com", "192.0.2.1")]),
    )
    assert r.organization == "unknown" and r.org_uuid == "00000000-0000-4000-8000-000000000001"


def test_field_presence_checks_find_events_without_an_ip():
    report = demo_report("pci")
    checks = {c.id: c for c in report.checks}
    assert checks["10.3.3"].missing == 0 and checks["10.3.3"].checked == report.total_events
    ip = checks["10.3.5"]
    assert ip.missing > 0 and ip.missing_by_actor_type.get("SUPPORT_USER", 0) > 0
    gaps = [g for g in report.gaps if g.control == "10.3.5"]
    assert len(gaps) == 1 and gaps[0].kind == "field" and "@network.client.ip" in gaps[0].reason
    assert not [g for g in report.gaps if g.control == "10.3.3"]


def test_the_report_is_plain_json_able_data():
    report = demo_report("pci")
    data = json.loads(json.dumps(dataclasses.asdict(report)))
    assert data["framework"] == "pci" and data["controls"][0]["id"] == "10.2.2"


# -- retention ------------------------------------------------------------------------------------------------


def test_retention_30_days_is_covered():
    ret = demo_report("soc2", 30).retention
    assert ret.covered and ret.start_has_events is True and ret.issues == []
    assert ret.lines[0] == "✓ Full period covered by Audit Trail retention"
    assert not any("exceeds" in line for line in ret.lines)
    assert not [g for g in demo_report("soc2", 30).gaps if g.kind == "retention"]


def test_retention_365_days_exceeds_the_default_and_the_data_starts_later():
    report = demo_report("pci", 365)
    ret = report.retention
    assert not ret.covered and ret.required_days == 365
    assert (
        ret.lines[0]
        == "⚠ Requested period exceeds 90-day default. Archive config required for complete coverage."
    )
    assert ret.start_has_events is False
    assert ret.data_from is not None and abs(ret.data_from - (END - 90 * D)) <= 2 * D
    assert any("possibly outside Audit Trail retention" in line for line in ret.lines)
    kinds = {(g.control, g.kind) for g in report.gaps}
    assert ("retention", "retention") in kinds and ("10.7", "retention") in kinds


def test_pci_always_lists_the_12_month_requirement_and_the_recipe_caveat():
    report = demo_report("pci", 30)
    assert [g for g in report.gaps if g.control == "10.7" and "12 months" in g.reason]
    caveat = [g for g in report.gaps if g.kind == "caveat" and g.control == "retention"]
    assert len(caveat) == 1 and Q_AUDIT_SETTINGS in caveat[0].reason and Q_RETENTION_CHECK in caveat[0].reason


# -- gaps ------------------------------------------------------------------------------------------------------


def test_a_control_with_no_events_is_a_gap_saying_why():
    # 30 days ending 60 days before the demo's end: the org has data then, but no support actions.
    report = build("soc2", Window(END - 90 * D + 2 * D, END - 60 * D))
    c = report.control("CC7.2")
    assert c.count == 0
    (gap,) = [g for g in report.gaps if g.control == "CC7.2"]
    assert gap.kind == "no_events" and "none happened" in gap.reason
    with_events = {c.id for c in report.controls if c.count}
    assert with_events and not [g for g in report.gaps if g.kind == "no_events" and g.control in with_events]


def test_no_events_in_a_period_possibly_outside_retention():
    # Failed logins only in the last 10 days of a 30-day period: the first 20 days hold nothing at all.
    items = [failed_login(END - (9 - i) * D, "a@example.com", "192.0.2.1") for i in range(9)]
    report = build("soc2", Window(END - 30 * D, END), source=file_source(items))
    ret = report.retention
    assert not ret.covered and ret.data_from is not None and ret.data_from >= END - 11 * D
    (gap,) = [g for g in report.gaps if g.control == "CC7.2"]
    assert "possibly outside retention" in gap.reason
    assert report.control("CC6.6").count == 9


def test_no_audit_data_at_all():
    report = build("pci", Window(END - 400 * D, END - 300 * D))
    assert report.total_events == 0 and not report.retention.covered
    no_events = [g for g in report.gaps if g.kind == "no_events"]
    assert len(no_events) == 6 and all("no audit events at all" in g.reason for g in no_events)


class _Recording:
    """Wraps a source: counts fetches per query, tracks how many run at once, can degrade one query."""

    def __init__(
        self, inner: Any, partial: str | None = None, fail: str | None = None, exc: Exception | None = None
    ):
        self.inner = inner
        self.label = "recording"
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.partial, self.fail, self.exc = partial, fail, exc

    async def fetch(self, query: str, window: Window, progress: Any = None) -> FetchResult:
        self.calls[query] = self.calls.get(query, 0) + 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)  # let the other fetches start
            if query == self.fail:
                raise self.exc or RuntimeError("boom")
            result = await self.inner.fetch(query, window, progress)
            if query == self.partial:
                result.complete = False
                result.warnings.append("page 3 timed out server-side (meta.status: timeout)")
            return result
        finally:
            self.in_flight -= 1

    async def exists(self, query: str, window: Window) -> bool:
        return await self.inner.exists(query, window)

    def default_window(self) -> Window | None:
        return None

    async def aclose(self) -> None:
        return None


def test_one_fetch_per_distinct_query_a_few_at_a_time_with_one_progress():
    src = _Recording(demo_source())
    seen: list[Progress] = []
    build("pci", Window(END - 30 * D, END), source=src, progress=seen.append)
    expected = {q for c in catalogue("pci") for q in c.queries} | {Q_RETENTION_CHECK, Q_AUDIT_SETTINGS}
    assert src.calls == dict.fromkeys(expected, 1)
    assert 1 < src.max_in_flight <= CONCURRENCY
    assert seen[-1].slices_done == seen[-1].slices_total == len(expected)


def test_a_partial_fetch_is_warned_and_listed_in_gaps():
    src = _Recording(demo_source(), partial=Q_LOGINS)
    report = build("pci", Window(END - 30 * D, END), source=src)
    c = report.control("10.2.5")
    assert not c.complete and c.count > 0 and not report.complete
    assert report.control("10.2.4").complete
    (gap,) = [g for g in report.gaps if g.kind == "partial"]
    assert gap.control == "10.2.5" and "timed out" in gap.reason
    assert report.warnings == [f"10.2.5: {Q_LOGINS}: page 3 timed out server-side (meta.status: timeout)"]


def test_a_failed_query_is_a_gap_but_an_auth_error_stops_the_report():
    from ddaudit_tui.sources.datadog_errors import AuthError, ServerError

    src = _Recording(demo_source(), fail=Q_SUPPORT, exc=ServerError("HTTP 503 from the API"))
    report = build("soc2", Window(END - 30 * D, END), source=src)
    c = report.control("CC7.2")
    assert c.failed and "503" in c.failed[0] and c.count == 0
    assert [g.kind for g in report.gaps if g.control == "CC7.2"] == ["failed"]
    with pytest.raises(AuthError):
        build(
            "soc2",
            Window(END - 30 * D, END),
            source=_Recording(demo_source(), fail=Q_SUPPORT, exc=AuthError("403")),
        )


def test_events_found_by_two_queries_of_a_control_count_once():
    both = item(
        END - H,
        evt={"name": "Organization Management", "actor": {"type": "SUPPORT_USER"}},
        action="modified",
        status="info",
        usr={"email": "support@datadoghq.com"},
        asset={"type": "organization", "id": "org-1"},
    )
    report = build("pci", Window(END - D, END), source=file_source([both]))
    c = report.control("10.2.2")
    assert c.query_counts == {Q_SUPPORT: 1, Q_ORG_MANAGEMENT: 1} and c.count == 1
    assert c.rows[0].extra["support_actor"] == "support@datadoghq.com" and c.rows[0].value("actor") == (
        "support@datadoghq.com"
    )


def test_through_the_demo_api_the_counts_equal_local_evaluation():
    """Pushdown: the real client against the fake API answers each control like local evaluation does."""
    from ddaudit_tui.demo.source import open_demo

    async def go() -> ComplianceReport:
        source = open_demo(seed=7, events=DEMO_EVENTS, end_ms=END)
        try:
            return await build_compliance(source, "soc2", Window(END - 90 * D, END), now=NOW)
        finally:
            await source.aclose()

    via_api = asyncio.run(go())
    local = demo_report("soc2")
    assert [(c.id, c.count) for c in via_api.controls] == [(c.id, c.count) for c in local.controls]
    assert via_api.retention.covered == local.retention.covered
