"""The Datadog search syntax evaluated locally: every reference query, each operator, and the error positions.

The fixture set is the real recorded samples (2022 API pages, 2026 Elastic archive lines) plus synthetic API
items, one per audit category the reference queries name, so each query selects a known, exact subset.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddaudit_tui.events.decode import iter_decode
from ddaudit_tui.events.query import Query, QuerySyntaxError, parse_query, referenced_fields
from ddaudit_tui.events.record import Event

REF = Path(__file__).parent.parent / "fixtures" / "reference"
TS = "2026-07-31T19:23:18.758Z"

# -- real samples ------------------------------------------------------------------------------------

P0A = "AQAAAYAiOhYWi7EZ-QAAAABBWUFpT2hvT0FBRGJLTGZoSU50TEVRQUE"  # 2022 Request, GET, "200"
P0B = "AQAAAYAiOhYWRqxX3QAAAABBWUFpT2hvTUFBQks5Nkl0TVJTV2pBQUE"  # 2022 Request, /api/v2/query/timeseries
P1 = "AQAAAYAiOhgURpZX3QAAAABBWUFpT2hudkFBQks5Nkl0TVJTV2RnQUE"  # 2022 Request, /series/batch_query
REQ_2022 = {P0A, P0B, P1}
AGENT_2022 = {  # no evt.name, action update_config, actor type "Other", auth "API + App Key"
    "AQAAAYAiQhnY3SfuUQAAAABBWUFpUWhxSEFBQ0s2aHc2Mkh4cnZRQUE",
    "AQAAAYAiQhnY3SHuUQAAAABBWUFpUWhxRkFBQ0s2aHc2Mkh4cnR3QUE",
    "AQAAAYAiQhnY3RvuUQAAAABBWUFpUWhwekFBQ0s2aHc2Mkh4cnNRQUE",
}
KEY_REQ = "id-000113"  # Request with api_key id-000111 + application_key id-000112, AS396982
MCP_TOOL = "id-000122"  # MCP Server executed, is_mcp_call:true, AS64496, threat_intel corp_vpn
MCP_INIT = "id-000084"  # MCP Server executed (connection init), cursor-vscode
MCP_HTTP = "id-000117"  # raw Request to /api/unstable/mcp-server/mcp, no is_mcp_call tag
BITS_START, BITS_TOOL, BITS_TASK = "id-000110", "id-000094", "id-000099"  # share metadata.dd.request_id
BITS = {BITS_START, BITS_TOOL, BITS_TASK}
ARCHIVE = {KEY_REQ, MCP_TOOL, MCP_INIT, MCP_HTTP, *BITS}
REAL = REQ_2022 | AGENT_2022 | ARCHIVE


# -- synthetic API items -------------------------------------------------------------------------------


def api_item(id_: str, inner: dict[str, Any], tags: tuple[str, ...] = (), message: str | None = None) -> dict:
    return {
        "id": id_,
        "type": "audit",
        "attributes": {
            "timestamp": TS,
            "message": message,
            "service": "audit",
            "tags": ["source:audit", *tags],
            "attributes": inner,
        },
    }


def std(
    id_: str,
    name: str | None,
    asset_type: str | None,
    action: str,
    *,
    actor: str = "USER",
    email: str | None = "alice@example.com",
    status: str = "info",
    tags: tuple[str, ...] = (),
    message: str | None = None,
    **extra: Any,
) -> dict:
    """An API item; `extra` sub-objects are merged one level deep into the defaults."""
    inner: dict[str, Any] = {"evt": {"actor": {"type": actor}}, "action": action, "status": status}
    if name is not None:
        inner["evt"]["name"] = name
    if asset_type is not None:
        inner["asset"] = {"type": asset_type, "id": f"{id_}-asset"}
    if email is not None:
        inner["usr"] = {"id": email, "email": email}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(inner.get(key), dict):
            inner[key] = {**inner[key], **value}
        else:
            inner[key] = value
    if message is None:
        message = f"{email or 'Datadog'} successfully {action} {asset_type or name}"
    return api_item(id_, inner, tags, message)


SYNTHETIC = [
    std(
        "login-ok",
        "Authentication",
        None,
        "login",
        tags=("host:web-1", "status:error"),  # a `status` TAG: `status:` must read the record instead
        usr={"id": "alice-id"},
        auth_method="SESSION",
        http={"status_code": 200, "method": "POST"},
        network={"client": {"ip": "203.0.113.7"}},
        message="alice@example.com logged in with SESSION",
    ),
    std(
        "login-fail",
        "Authentication",
        None,
        "login",
        email="bob@corp.example",
        status="error",
        auth_method="SESSION",
        http={"status_code": 401, "method": "POST"},
        network={"client": {"ip": "1.2.3.4"}},
        message="bob@corp.example failed to log in: invalid password and expired token",
    ),
    std(
        "apikey-created",
        "Authentication",
        "api_key",
        "created",
        email="carol@example.com",
        asset={"id": "KEY1"},
    ),
    std(
        "apikey-deleted",
        "Authentication",
        "api_key",
        "deleted",
        email="mallory@evil.example",
        asset={"id": "KEY2"},
    ),
    std(
        "appkey-created",
        "Authentication",
        "application_key",
        "created",
        actor="SERVICE_ACCOUNT",
        email="svc@example.com",
    ),
    std(
        "am-role-modified",
        "Access Management",
        "role",
        "modified",
        actor="SUPPORT_USER",
        email="support@datadoghq.com",
    ),
    std("am-role-created", "Access Management", "role", "created"),
    std(
        "am-user-created",
        "Access Management",
        "user",
        "created",
        actor="Support_User",
        email="support@datadoghq.com",
    ),
    std("am-restriction-deleted", "Access Management", "restriction_policy", "deleted"),
    std("am-idp-modified", "Access Management", "identity_provider", "modified"),
    std("am-appkey-deleted", "Access Management", "application_key", "deleted", email="carol@example.com"),
    std(
        "am-ip-allowlist",
        "Access Management",
        "ip_allowlist",
        "modified",
        actor="SUPPORT_USER",
        email="support@datadoghq.com",
    ),
    std("sn-leak", "Security Notification", "api_key", "notification", actor="SYSTEM", email=None),
    std("sn-unusual", "Security Notification", "unusual_login", "notification", actor="SYSTEM", email=None),
    std("sn-invite", "Security Notification", "user_invite", "notification", actor="SYSTEM", email=None),
    std(
        "org-audit-settings",
        "Organization Management",
        "audit_logs_settings",
        "modified",
        email="mallory@evil.example",
    ),
    std("org-child", "Organization Management", "organization", "created"),
    std(
        "at-csv",
        "Audit Trail",
        "audit_events_csv",
        "created",
        email="mallory@evil.example",
        message="mallory@evil.example exported Audit Trail events as CSV",
    ),
    std(
        "at-query",
        "Audit Trail",
        "query",
        "queried",
        email="carol@example.com",
        asset={"new_value": {"query": {"search": "@evt.name:Authentication"}, "query_source": "monitor_ui"}},
    ),
    std(
        "monitor-deleted",
        "Monitor",
        "monitor",
        "deleted",
        email="mallory@evil.example",
        tags=("is_notable_event:false",),
        asset={"name": "[Sandboxes] Canary Success Rate is Low"},
    ),
    std("monitor-modified", "Monitor", "monitor", "modified", asset={"name": "team:payments latency"}),
    std("lm-exclusion", "Log Management", "exclusion filter", "modified", tags=("is_notable_event:true",)),
    std("lm-pipeline", "Log Management", "pipeline", "deleted", email="mallory@evil.example"),
    std("lm-metrics", "Log Management", "custom_metrics", "created", tags=("is_notable_event:true",)),
    std("csp-rule", "Cloud Security Platform", "security_rule", "deleted", email="mallory@evil.example"),
    std("oauth-client", "OAuth", "oauth_client", "created"),
    std(
        "dash-404",
        "Request",
        "dashboard",
        "accessed",
        status="warn",
        tags=("is_mcp_call:false", "is_notable_event:false"),
        http={
            "status_code": "404",  # the 2022 string shape
            "method": "GET",
            "url_details": {"path": "/api/v1/dashboard/abc-123", "host": "api.datadoghq.com"},
        },
        network={"client": {"ip": "1.2.3.45"}},
        message="GET request made to /api/v1/dashboard/abc-123 by alice@example.com with response 404",
    ),
    std(
        "req-500",
        "Request",
        None,
        "accessed",
        actor="SERVICE_ACCOUNT",
        email="svc@example.com",
        status="error",
        auth_method="API_AND_APP_KEY",
        metadata={"api_key": {"id": "KEY1"}, "app_key": {"id": "APP9"}},  # the skills' `app_key` spelling
        http={
            "status_code": 500,
            "method": "POST",
            "url_details": {"path": "/api/v2/query/scalar?from=now-1h"},
        },
        network={"client": {"ip": "198.51.100.9", "geoip": {"as": {"number": "AS64496"}}}},
        message="POST request made to /api/v2/query/scalar by svc@example.com with response 500",
    ),
    std(
        "bits-chat",
        "Dashboard",
        "dashboard",
        "modified",
        email=None,
        evt={"actor": {"type": "USER", "mode": "interactive"}},
        usr={"id": "bits-agent", "name": "Bits Chat"},
        delegator={"id": "alice-id", "name": "Alice Example"},
    ),
    std("metrics-tag", "Metrics", "metric", "modified", tags=("is_notable_event:true",)),
    std(
        "rum-app",
        "Real User Monitoring",
        "real_user_monitoring_application",
        "deleted",
        email="carol@example.com",
    ),
    std("synth", "Synthetics Monitoring", "synthetics_test", "created", email="carol@example.com"),
    std("ai-guard", "AI Guard", "AI Guard Service Configuration", "modified", email="carol@example.com"),
    std("product-analytics", "Product Analytics", "product_analytics", "enabled", email="carol@example.com"),
    std(
        "sds",
        "Sensitive Data Scanner",
        "sensitive_data_scanner_scanning_group",
        "modified",
        email="carol@example.com",
    ),
    std("apm-retention", "APM", "retention_filter", "created", email="carol@example.com"),
    std("integration", "Integration", "integration", "modified", email="carol@example.com"),
    std(
        "agent-upgrade",
        "Datadog Agent",
        None,
        "modified",
        actor="SYSTEM",
        email=None,
        metadata={"event_name": "Agent Upgrade Failed"},
    ),
    std(
        "wf-step",
        "Workflows",
        "step",
        "completed",
        actor="SYSTEM",
        email=None,
        metadata={"run_as_user": {"is_service_account": True, "name": "ops-bot"}},
    ),
]

SYNTH = {item["id"] for item in SYNTHETIC}
ALICE = {
    "login-ok",
    "am-role-created",
    "am-restriction-deleted",
    "am-idp-modified",
    "org-child",
    "monitor-modified",
    "lm-exclusion",
    "lm-metrics",
    "oauth-client",
    "dash-404",
    "metrics-tag",
}
CAROL = {
    "apikey-created",
    "am-appkey-deleted",
    "at-query",
    "rum-app",
    "synth",
    "ai-guard",
    "product-analytics",
    "sds",
    "apm-retention",
    "integration",
}
MALLORY = {"apikey-deleted", "org-audit-settings", "at-csv", "monitor-deleted", "lm-pipeline", "csp-rule"}
SUPPORT = {"am-role-modified", "am-user-created", "am-ip-allowlist"}
NO_USR_EMAIL = {"sn-leak", "sn-unusual", "sn-invite", "bits-chat", "agent-upgrade", "wf-step", BITS_TASK}
ACCESS_MGMT = {
    "am-role-modified",
    "am-role-created",
    "am-user-created",
    "am-restriction-deleted",
    "am-idp-modified",
    "am-appkey-deleted",
    "am-ip-allowlist",
}
CREATED = {
    "apikey-created",
    "appkey-created",
    "am-role-created",
    "am-user-created",
    "org-child",
    "at-csv",
    "lm-metrics",
    "oauth-client",
    "synth",
    "apm-retention",
    BITS_TOOL,
}
DELETED = {
    "apikey-deleted",
    "am-restriction-deleted",
    "am-appkey-deleted",
    "monitor-deleted",
    "lm-pipeline",
    "csp-rule",
    "rum-app",
}
MODIFIED = {
    "am-role-modified",
    "am-idp-modified",
    "am-ip-allowlist",
    "org-audit-settings",
    "monitor-modified",
    "lm-exclusion",
    "bits-chat",
    "metrics-tag",
    "ai-guard",
    "sds",
    "integration",
    "agent-upgrade",
}
REQUESTS = REQ_2022 | {KEY_REQ, MCP_HTTP, "dash-404", "req-500"}
STATUS_200 = REQ_2022 | {"login-ok", KEY_REQ, MCP_TOOL, MCP_INIT, MCP_HTTP}
NOTABLE = {"lm-exclusion", "lm-metrics", "metrics-tag"}
WATCH = {  # audit-events.md §7
    "am-role-modified",
    "am-role-created",
    "am-restriction-deleted",
    "am-idp-modified",
    "am-appkey-deleted",
    "am-ip-allowlist",
    "am-user-created",  # via the SUPPORT_USER clause
    "apikey-created",
    "apikey-deleted",
    "appkey-created",
    "sn-leak",
    "sn-unusual",
    "sn-invite",
    "org-audit-settings",
    "org-child",
    "oauth-client",
    *NOTABLE,
}


def _load() -> list[Event]:
    events = list(iter_decode(json.dumps({"data": SYNTHETIC}).encode(), "synthetic"))
    events += list(iter_decode((REF / "elastic_archive.ndjson").read_bytes()))
    for n in range(6):
        events += list(iter_decode((REF / f"api_page_{n}.json").read_bytes()))
    return events


EVENTS = _load()
ALL = {e.id for e in EVENTS}


def select(query: str, events: list[Event] | None = None) -> set[str]:
    return {e.id for e in parse_query(query).filter(EVENTS if events is None else events)}


def test_fixture_set_is_what_the_expectations_assume():
    assert len(EVENTS) == len(ALL) == len(SYNTHETIC) + len(REAL)
    assert ALL == SYNTH | REAL


# -- every query quoted in the reference material ---------------------------------------------------

WATCH_QUERY = """(@evt.name:"Access Management" @asset.type:(role OR role_request OR identity_provider OR restriction_policy OR ip_allowlist OR application_key))
OR (@evt.name:Authentication @asset.type:(api_key OR application_key) @action:(created OR deleted))
OR (@evt.name:"Security Notification")
OR (@evt.name:"Organization Management" @asset.type:(audit_logs_settings OR organization))
OR (@evt.name:OAuth @asset.type:oauth_client)
OR (@evt.actor.type:SUPPORT_USER)
OR is_notable_event:true"""

AI_BASE_QUERY = 'is_mcp_call:true OR @evt.actor.mode:* OR @evt.name:("MCP Server" OR "Bits AI SRE")'

REFERENCE_QUERIES: list[tuple[str, set[str]]] = [
    # audit-events.md §2 catalogue
    ('@evt.name:"Access Management"', ACCESS_MGMT),
    ("@asset.type:application_key", {"appkey-created", "am-appkey-deleted"}),
    ("@asset.type:identity_provider", {"am-idp-modified"}),
    ("@asset.type:user", {"am-user-created"}),
    ("@asset.type:password @action:modified", set()),
    ("@asset.type:role @action:modified", {"am-role-modified"}),
    ("@asset.type:role @action:(created OR deleted)", {"am-role-created"}),
    ("@asset.type:role_request", set()),
    ("@asset.type:restriction_policy @action:(modified OR deleted)", {"am-restriction-deleted"}),
    ("@evt.actor.type:SUPPORT_USER @asset.type:user @action:modified", set()),
    ("@evt.actor.type:SUPPORT_USER @asset.type:user @action:created", {"am-user-created"}),
    ("@evt.actor.type:SUPPORT_USER @asset.type:role @action:modified", {"am-role-modified"}),
    ("@evt.actor.type:SUPPORT_USER @asset.type:ip_allowlist @action:modified", {"am-ip-allowlist"}),
    ("@action:modified", MODIFIED),
    ("@action:created", CREATED),
    ("@action:created @asset.type:agent_flare", set()),
    ('@metadata.event_name:"Agent API Key Updated"', set()),
    ('@metadata.event_name:"Agent Upgrade Succeeded"', set()),
    ('@metadata.event_name:"Agent Upgrade Failed"', {"agent-upgrade"}),
    ("@evt.name:Request @action:accessed", REQUESTS),
    ("@action:authorized", set()),
    ("@asset.type:api_key", {"apikey-created", "apikey-deleted", "sn-leak"}),
    ("@asset.type:public_api_key", set()),
    ("@action:login", {"login-ok", "login-fail"}),
    ("@action:notification", {"sn-leak", "sn-unusual", "sn-invite"}),
    (
        "@asset.type:(api_key OR application_key)",
        {"apikey-created", "apikey-deleted", "sn-leak", "appkey-created", "am-appkey-deleted"},
    ),
    ("@asset.type:unusual_login", {"sn-unusual"}),
    ("@asset.type:user_invite", {"sn-invite"}),
    ("@asset.type:audit_logs_settings", {"org-audit-settings"}),
    ("@asset.type:organization @action:created", {"org-child"}),
    ("@action:queried @asset.type:query", {"at-query"}),
    ("@asset.type:dashboard", {"dash-404", "bits-chat"}),
    ("@asset.type:embed @action:accessed", set()),
    ("@asset.type:monitor", {"monitor-deleted", "monitor-modified"}),
    ("@asset.type:oauth_client", {"oauth-client"}),
    ("@asset.type:integration", {"integration"}),
    ("@action:(created OR deleted OR modified)", CREATED | DELETED | MODIFIED),
    ("@asset.type:mcp", {MCP_TOOL, MCP_INIT}),
    ("@action:executed", {MCP_TOOL, MCP_INIT}),
    ("@action:started", {BITS_START}),
    (
        '@evt.name:"AI Guard" @asset.type:"AI Guard Service Configuration" @action:(modified OR deleted)',
        {"ai-guard"},
    ),
    # §3 / §4.2 AI activity
    ("@evt.actor.mode:*", {"bits-chat"}),
    ("(@usr.id:alice-id OR @delegator.id:alice-id)", {"login-ok", "bits-chat"}),
    ("is_mcp_call:true", {MCP_TOOL, MCP_INIT}),
    ("is_mcp_call:false", {"dash-404"}),
    ("is_notable_event:true", NOTABLE),
    ("is_notable_event:false", {"monitor-deleted", "dash-404"}),
    ("source:audit", ALL),
    (AI_BASE_QUERY, {MCP_TOOL, MCP_INIT, "bits-chat", *BITS}),
    ('@route.path:"/api/unstable/mcp-server/mcp"', {MCP_HTTP}),
    # §5 Security Notification
    (
        '@evt.name:"Security Notification" @asset.type:(api_key OR application_key) @action:notification',
        {"sn-leak"},
    ),
    ('@evt.name:"Security Notification" @asset.type:unusual_login @action:notification', {"sn-unusual"}),
    ('@evt.name:"Security Notification" @asset.type:user @action:notification', set()),
    ('@evt.name:"Security Notification" @asset.type:user_invite @action:notification', {"sn-invite"}),
    # §6 notable events
    ('@evt.name:"Log Management" @asset.type:"custom_metrics"', {"lm-metrics"}),
    ('@evt.name:"Log Management" @asset.type:"exclusion_filter"', set()),  # the data says "exclusion filter"
    ('@evt.name:"Log Management" @asset.type:index', set()),
    ("@evt.name:APM @asset.type:retention_filter", {"apm-retention"}),
    ("@evt.name:APM @asset.type:custom_metrics", set()),
    ("@evt.name:Metrics @asset.type:metric @action:(created OR modified)", {"metrics-tag"}),
    (
        '@evt.name:"Real User Monitoring" @asset.type:real_user_monitoring_application @action:(created OR deleted)',
        {"rum-app"},
    ),
    ('@evt.name:"Sensitive Data Scanner" @asset.type:sensitive_data_scanner_scanning_group', {"sds"}),
    ('@evt.name:"Synthetics Monitoring" @asset.type:synthetics_test @action:(created OR deleted)', {"synth"}),
    (
        '@evt.name:"Product Analytics" @asset.type:product_analytics @action:(enabled OR disabled OR modified)',
        {"product-analytics"},
    ),
    # §7 composed watch query, and its suggested additions
    (WATCH_QUERY, WATCH),
    (
        f'{WATCH_QUERY}\nOR (@evt.name:Monitor @action:deleted) OR (@evt.name:"Audit Trail" @asset.type:audit_events_csv)',
        WATCH | {"monitor-deleted", "at-csv"},
    ),
    # detections.md: the dd-audit skills' queries
    ("@action:deleted", DELETED),
    ("@asset.id:KEY2", {"apikey-deleted"}),
    ("@usr.email:alice@example.com", ALICE),
    ("@evt.name:Authentication @action:login", {"login-ok", "login-fail"}),
    ("@evt.name:Authentication @action:login @status:error", {"login-fail"}),
    ("@network.client.ip:1.2.3.4", {"login-fail"}),  # not 1.2.3.45: whole-value match
    ("@evt.name:Authentication @asset.type:api_key", {"apikey-created", "apikey-deleted"}),
    ("@evt.name:Dashboard", {"bits-chat"}),
    ("@evt.name:Monitor AND @action:modified", {"monitor-modified"}),
    ("@usr.email:*", ALL - NO_USR_EMAIL),
    ("@metadata.api_key.id:KEY1", {"req-500"}),
    ("@metadata.api_key.id:id-000111", {KEY_REQ}),
    ("@metadata.api_key.id:KEY1 @action:deleted", set()),
    ("@asset.type:api_key @asset.id:KEY1 @action:created", {"apikey-created"}),
    ("@action:(created OR deleted)", CREATED | DELETED),
    ("@action:(created OR modified OR deleted)", CREATED | DELETED | MODIFIED),
    (
        '@evt.name:(Integration OR APM OR "Log Management")',
        {"integration", "apm-retention", "lm-exclusion", "lm-pipeline", "lm-metrics"},
    ),
    ('@evt.name:"Log Management" @asset.type:(pipeline OR index OR exclusion_filter)', {"lm-pipeline"}),
    ("@evt.name:APM @asset.type:(retention_filter OR sampling_rate)", {"apm-retention"}),
    ("@evt.name:RUM", set()),  # the category is "Real User Monitoring"
    ("@evt.name:Metrics", {"metrics-tag"}),
    (
        '@evt.name:(Integration OR APM OR "Log Management") @action:(created OR modified)',
        {"integration", "apm-retention", "lm-exclusion", "lm-metrics"},
    ),
    ('@evt.name:"Audit Trail" @action:modified', set()),
    (
        '@evt.name:"Access Management" @asset.type:user @action:(created OR deleted OR modified)',
        {"am-user-created"},
    ),
    ('@evt.name:"Access Management" @asset.type:user @action:(created OR deleted)', {"am-user-created"}),
    ('@evt.name:"Access Management" @asset.type:role', {"am-role-modified", "am-role-created"}),
    ("@evt.actor.type:SUPPORT_USER", SUPPORT),
    ('@evt.name:"Organization Management"', {"org-audit-settings", "org-child"}),
    ('@evt.name:"Audit Trail"', {"at-csv", "at-query"}),
    ("@http.method:GET @asset.type:dashboard", {"dash-404"}),
    ("@evt.name:Authentication @status:error", {"login-fail"}),
    ('@evt.name:"MCP Server"', {MCP_TOOL, MCP_INIT}),
    ('@evt.name:"MCP Server" @action:(created OR modified OR deleted)', set()),  # tool calls are `executed`
    ('@evt.name:"MCP Server" @usr.email:user06@example.com', {MCP_TOOL, MCP_INIT}),
    ('@evt.name:"MCP Server" @action:executed', {MCP_TOOL, MCP_INIT}),
    # detections.md §6 rule table
    ('@evt.name:"Security Notification" @asset.type:(api_key OR application_key)', {"sn-leak"}),
    ('@evt.name:"Security Notification" @asset.type:unusual_login', {"sn-unusual"}),
    ('@evt.name:"Security Notification" @asset.type:(user_invite OR user)', {"sn-invite"}),
    ("@evt.name:Authentication @asset.type:api_key @action:created", {"apikey-created"}),
    (
        "@evt.name:Authentication @asset.type:(api_key OR application_key) @action:created",
        {"apikey-created", "appkey-created"},
    ),
    ('@evt.name:"Access Management" @asset.type:application_key', {"am-appkey-deleted"}),
    ('@evt.name:"Access Management" @asset.type:role @action:modified', {"am-role-modified"}),
    ('@evt.actor.type:SUPPORT_USER @evt.name:"Access Management"', SUPPORT),
    (
        '@evt.name:"Access Management" @asset.type:(restriction_policy OR identity_provider)',
        {"am-restriction-deleted", "am-idp-modified"},
    ),
    ('@evt.name:"Organization Management" @asset.type:audit_logs_settings', {"org-audit-settings"}),
    ('@evt.name:"Audit Trail" @asset.type:audit_events_csv', {"at-csv"}),
    ('@evt.name:"Organization Management" @asset.type:organization @action:created', {"org-child"}),
    ("@evt.name:Monitor @asset.type:monitor @action:deleted", {"monitor-deleted"}),
    (
        '@evt.name:"Log Management" @asset.type:(pipeline OR index OR archive OR "exclusion filter" OR log_forwarding)',
        {"lm-exclusion", "lm-pipeline"},
    ),
    (
        '@evt.name:"Cloud Security Platform" @asset.type:(security_rule OR notification_profile) @action:(modified OR deleted)',
        {"csp-rule"},
    ),
    ("@metadata.api_key.id:*", {"req-500", KEY_REQ}),
    ("@evt.name:Request @metadata.api_key.id:*", {"req-500", KEY_REQ}),
    ("is_mcp_call:true @action:(deleted OR modified)", set()),
    # seeds: the Datadog DDSQL `dd.audit` filter examples
    ("@metadata.api_key.id:* AND @evt.name:api_key", set()),
    ("@status:error AND @auth_method:*", {"login-fail", "req-500"}),
    ("@usr.email:alice@example.com AND @evt.name:request", {"dash-404"}),
]


@pytest.mark.parametrize(("query", "expected"), REFERENCE_QUERIES, ids=[q[:60] for q, _ in REFERENCE_QUERIES])
def test_reference_queries_select_exact_events(query: str, expected: set[str]):
    assert select(query) == expected


def test_docs_unquoted_audit_trail_query_parses_but_selects_nothing():
    # audit-events.md §2.1 prints `@evt.name:Audit Trail …` without quotes. Like Datadog, that is
    # `@evt.name:Audit` AND free text `Trail` AND the asset type: no event is named just "Audit".
    query = "@evt.name:Audit Trail @asset.type:audit_events_csv"
    assert select(query) == set()
    assert select('@evt.name:"Audit Trail" @asset.type:audit_events_csv') == {"at-csv"}
    # The pieces, to show how it was read: the free text `Trail` alone does find the export's message.
    assert select("Trail @asset.type:audit_events_csv") == {"at-csv"}
    assert select("@evt.name:Audit") == set()


# -- boolean operators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@evt.name:Monitor @action:deleted", {"monitor-deleted"}),  # juxtaposition = AND
        ("@evt.name:Monitor AND @action:deleted", {"monitor-deleted"}),
        ("@evt.name:Monitor && @action:deleted", {"monitor-deleted"}),
        ("@action:started OR @action:executed", {BITS_START, MCP_TOOL, MCP_INIT}),
        ("@action:started || @action:executed", {BITS_START, MCP_TOOL, MCP_INIT}),
        # AND binds tighter than OR
        ("@evt.name:Monitor AND @action:deleted OR @action:started", {"monitor-deleted", BITS_START}),
        ("@action:started OR @evt.name:Monitor @action:deleted", {"monitor-deleted", BITS_START}),
        (
            "@action:login OR @action:executed @usr.email:user06@example.com",
            {"login-ok", "login-fail", MCP_TOOL, MCP_INIT},
        ),
        ("(@action:login OR @action:executed) @usr.email:user06@example.com", {MCP_TOOL, MCP_INIT}),
        # NOT binds tighter than AND
        (
            "NOT @action:login @evt.name:Authentication",
            {"apikey-created", "apikey-deleted", "appkey-created"},
        ),
        ("-@action:login @evt.name:Authentication", {"apikey-created", "apikey-deleted", "appkey-created"}),
        ("@evt.name:Authentication -@action:login", {"apikey-created", "apikey-deleted", "appkey-created"}),
        ("NOT (@evt.name:Authentication OR @evt.name:Request) @status:(error OR warn)", set()),
        ("@status:(error OR warn) -@evt.name:Authentication", {"dash-404", "req-500"}),
        ("NOT NOT @action:started", {BITS_START}),
        ("--@action:started", {BITS_START}),
        ("-(-@action:started)", {BITS_START}),
        ("((@action:started))", {BITS_START}),
        (
            "@evt.name:Monitor (@action:deleted OR (@action:modified @usr.email:alice@example.com))",
            {"monitor-deleted", "monitor-modified"},
        ),
        # operators are case-sensitive: lower-case ones are free-text words that must be in the message
        ("password AND token", {"login-fail"}),
        ("password and token", {"login-fail"}),  # "and" occurs in that message
        ("password OR nothing-here", {"login-fail"}),
        ("password or nothing-here", set()),
        ("NOT password", ALL - {"login-fail"}),
        ("not password", set()),
    ],
)
def test_boolean_operators(query: str, expected: set[str]):
    assert select(query) == expected


# -- values: wildcards, quotes, escapes, case ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@usr.email:*@evil.example", MALLORY),
        ("@usr.email:mallory@*", MALLORY),
        (
            "@usr.email:*@example.com",
            ALICE | CAROL | {"appkey-created", "req-500"} | REQ_2022 | ARCHIVE - {BITS_TASK},
        ),
        ("@http.url_details.path:/api/v1/dashboard*", {"dash-404"}),
        ("@http.url_details.path:/api/v2/query/*", {"req-500", KEY_REQ, P0B}),
        ("@http.url_details.path:/api/unstable/mcp-server/mcp*", {MCP_TOOL, MCP_HTTP}),
        ("@evt.name:Log*", {"lm-exclusion", "lm-pipeline", "lm-metrics"}),
        (
            "@evt.name:*Management",
            ACCESS_MGMT | {"org-audit-settings", "org-child", "lm-exclusion", "lm-pipeline", "lm-metrics"},
        ),
        (
            "@evt.name:*u*i*y*",
            {"sn-leak", "sn-unusual", "sn-invite", "csp-rule"},
        ),  # Security Notification, …Security…
        ("@asset.type:rol?", {"am-role-modified", "am-role-created"}),  # not role_request
        ("@usr.email:bo?@corp.example", {"login-fail"}),
        ("@evt.name:Log\\*", set()),  # escaped: a literal star
        ('@evt.name:"Log*"', set()),  # quoted: a literal star
        ("@evt.name:Access\\ Management", ACCESS_MGMT),
        ('@evt.name:"access management"', ACCESS_MGMT),
        ("@asset.name:team\\:payments\\ latency", {"monitor-modified"}),
        ('@asset.name:"team:payments latency"', {"monitor-modified"}),
        ("@asset.name:team:payments*", {"monitor-modified"}),  # a colon inside a value needs no escape
        ('@asset.name:"[Sandboxes] Canary Success Rate is Low"', {"monitor-deleted"}),
        ("@evt.actor.type:support_user", SUPPORT),  # includes the mixed-case "Support_User"
        ("@evt.actor.type:other", AGENT_2022),  # recorded as "Other"
        ("@evt.actor.type:OTHER", AGENT_2022),
        ('@auth_method:"api + app key"', AGENT_2022),
        ("@usr.email:ALICE@EXAMPLE.COM", ALICE),
    ],
)
def test_value_matching(query: str, expected: set[str]):
    assert select(query) == expected


def test_literal_wildcards_and_escaped_quotes_match_literally():
    items = [
        std("star", "X", None, "a", asset={"name": "p99*2"}, message='say "hi" to p99*2'),
        std("nostar", "X", None, "a", asset={"name": "p99x2"}, message="say hi to p99x2"),
    ]
    events = list(iter_decode(json.dumps({"data": items}).encode()))
    assert select("@asset.name:p99*2", events) == {"star", "nostar"}
    assert select("@asset.name:p99\\*2", events) == {"star"}
    assert select('@asset.name:"p99*2"', events) == {"star"}
    assert select('"say \\"hi\\""', events) == {"star"}
    assert select("p99\\*", events) == {"star"}
    assert select("p99*", events) == {"star", "nostar"}


# -- existence and negation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@evt.name:*", ALL - AGENT_2022),
        ("-@evt.name:*", AGENT_2022),
        ("NOT @evt.name:*", AGENT_2022),
        ("-@usr.email:*", NO_USR_EMAIL),
        ("@asset.new_value:*", {"at-query", BITS_START, BITS_TOOL}),  # an object value exists too
        ("@asset.new_value.query.search:*", {"at-query"}),
        ("@delegator.name:*", {"bits-chat"}),
        ("-@http.status_code:* @evt.name:Request", set()),
        ("@network.client.geoip.as.number:* -@metadata.api_key.id:*", {MCP_TOOL}),
    ],
)
def test_existence_and_negation(query: str, expected: set[str]):
    assert select(query) == expected


# -- numbers, booleans, comparisons and ranges -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@http.status_code:200", STATUS_200),  # int 200 (2026) and string "200" (2022)
        ('@http.status_code:"200"', STATUS_200),
        ("@http.status_code:404", {"dash-404"}),  # recorded as the string "404"
        ("@http.status_code:4*", {"login-fail", "dash-404"}),
        ("@http.status_code:>=400", {"login-fail", "dash-404", "req-500"}),
        ("@http.status_code:>401", {"dash-404", "req-500"}),
        ("@http.status_code:<400", STATUS_200),
        ("@http.status_code:<=401", STATUS_200 | {"login-fail"}),
        ("@http.status_code:[400 TO 499]", {"login-fail", "dash-404"}),
        ("@http.status_code:{401 TO 500}", {"dash-404"}),
        ("@http.status_code:{401 TO 500]", {"dash-404", "req-500"}),
        ("@http.status_code:[401 TO 500}", {"login-fail", "dash-404"}),
        ("@http.status_code:[500 TO *]", {"req-500"}),
        ("@http.status_code:[* TO 200]", STATUS_200),
        ("@http.status_code:[* TO *]", STATUS_200 | {"login-fail", "dash-404", "req-500"}),
        ("@http.status_code:(>=500 OR 401)", {"req-500", "login-fail"}),
        ("@http.status_code:([400 TO 404] -401)", {"dash-404"}),
        ("@network.client.geoip.location.latitude:>40", {KEY_REQ}),
        ("@network.client.geoip.location.longitude:<-100", {MCP_TOOL}),
        ("@network.client.geoip.as.number:AS64496", {MCP_TOOL, "req-500"}),  # record holds 64496
        ("@network.client.geoip.as.number:64496", {MCP_TOOL, "req-500"}),
        ("@network.client.geoip.as.number:as396982", {KEY_REQ}),
        ("@network.client.geoip.as.number:[60000 TO 70000]", {MCP_TOOL, "req-500"}),
        ("@metadata.mcp.request_id:100082", {MCP_INIT}),  # a number in one event…
        ("@metadata.mcp.request_id:mcp-id-000120", {MCP_TOOL}),  # …a string in the other
        ("@metadata.mcp.request_id:>100000", {MCP_INIT}),
        ("@metadata.usage.duration:>700000000", {MCP_TOOL}),
        ("@metadata.tool.arguments.detailed_output:false", {MCP_TOOL}),
        ("@metadata.tool.arguments.detailed_output:true", set()),
        ("@metadata.run_as_user.is_service_account:TRUE", {"wf-step"}),
        (
            "@usr.created:>=2024-08-01",
            {MCP_TOOL, MCP_INIT, BITS_START, BITS_TOOL},
        ),  # ISO strings compare as text
        ("@usr.created:<2024-01-01", set()),
    ],
)
def test_numbers_booleans_and_ranges(query: str, expected: set[str]):
    assert select(query) == expected


# -- field kinds: facets, aliases, unmapped paths, reserved attributes, tags, free text ------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # quirk 6: the skills' `app_key` spelling and the real `application_key` find each other
        ("@metadata.app_key.id:id-000112", {KEY_REQ}),
        ("@metadata.application_key.id:id-000112", {KEY_REQ}),
        ("@metadata.application_key.id:APP9", {"req-500"}),
        ("@metadata.app_key.id:*", {KEY_REQ, "req-500"}),
        # unmapped paths are read from the raw JSON, arrays fanned out
        ("@metadata.dd.request_id:id-000092", BITS),
        ('@asset.new_value.query.search:"@evt.name:Authentication"', {"at-query"}),
        ("@threat_intel.results.category:corp_vpn", {MCP_TOOL}),
        ("@threat_intel.results.additional_data.tunnels.type:proxy", {MCP_TOOL}),
        ("@emitted_source:edge", {KEY_REQ, MCP_HTTP}),
        ("@metadata.no.such.path:*", set()),
        # reserved attributes read the record, not the tags (login-ok carries a `status:error` TAG)
        ("status:error", {"login-fail", "req-500"}),
        ("@status:error", {"login-fail", "req-500"}),
        ("status:warn", {"dash-404"}),
        ("service:audit", SYNTH),
        ("-service:*", REAL),
        ("message:exported", {"at-csv"}),
        ('message:"with response 404"', {"dash-404"}),
        # any other key:value without @ is a tag search on the outer tags
        ("host:web-1", {"login-ok"}),
        ("HOST:WEB-1", {"login-ok"}),
        ("host:web-*", {"login-ok"}),
        ("is_mcp_call:t*", {MCP_TOOL, MCP_INIT}),
        ("is_mcp_call:*", {MCP_TOOL, MCP_INIT, "dash-404"}),
        ("source:aud?t", ALL),
        ("source:other", set()),
        ("agent_version:7.35.0", set()),  # an INNER tag of the 2022 Agent events: not a tag search
        # free text: case-insensitive substring of the message
        ("exported", {"at-csv"}),
        ("EXPORTED", {"at-csv"}),
        ('"with response 404"', {"dash-404"}),
        ("response", REQ_2022 | {KEY_REQ, MCP_HTTP, "dash-404", "req-500"}),
        ("fail*", {"login-fail"}),
        ("log?in", {"login-fail"}),
        ('"log in" bob', {"login-fail"}),
        ("*", ALL),
        ("*:cursor", {MCP_INIT, MCP_HTTP}),  # any attribute, whole value: the OAuth client "Cursor"
        ("*:cursor-vscode", {MCP_INIT}),
        ("*:ops-bot", {"wf-step"}),
    ],
)
def test_field_kinds(query: str, expected: set[str]):
    assert select(query) == expected


# -- the Query object ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "*", " * ", "(*)", "* OR @action:login", "NOT -*"])
def test_match_all(text: str):
    q = parse_query(text)
    assert q.is_match_all
    assert {e.id for e in q.filter(EVENTS)} == ALL


@pytest.mark.parametrize("text", ["@action:login", "-*", "* @action:login", "x"])
def test_not_match_all(text: str):
    assert not parse_query(text).is_match_all


def test_not_star_matches_nothing():
    assert select("-*") == set()


def test_query_object_semantics():
    q = parse_query("@action:login")
    assert isinstance(q, Query) and q.text == "@action:login"
    assert q == Query("@action:login") and hash(q) == hash(Query("@action:login"))
    assert parse_query("@action:login") is q  # cached
    by_id = {e.id: e for e in EVENTS}
    assert q.matches(by_id["login-ok"]) and not q.matches(by_id[P0A])
    # filter keeps input order and accepts any iterable
    assert [e.id for e in q.filter(iter(EVENTS))] == [
        e.id for e in EVENTS if e.id in {"login-ok", "login-fail"}
    ]
    with pytest.raises(QuerySyntaxError):
        Query("(")


def test_referenced_fields():
    q = parse_query(
        '@evt.name:x status:error (source:audit OR -@metadata.app_key.id:*) message:foo free "text"'
    )
    assert referenced_fields(q) == {"evt.name", "status", "metadata.app_key.id", "message"}
    assert referenced_fields(parse_query(WATCH_QUERY)) == {
        "evt.name",
        "asset.type",
        "action",
        "evt.actor.type",
    }
    assert referenced_fields(parse_query("*")) == set()


# -- syntax errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("(a", 2, 'expected ")" to close the "(" at column 1'),
        ("a (b OR c", 9, 'expected ")" to close the "(" at column 3'),
        ("a)", 1, 'unexpected ")"'),
        ('"abc', 0, "unterminated quoted string"),
        ('@evt.name:"Access Management', 10, "unterminated quoted string"),
        ("a AND", 5, "expected a search term after AND"),
        ("a OR", 4, "expected a search term after OR"),
        ("a NOT", 5, "expected a search term after NOT"),
        ("OR a", 0, "OR needs a search term before it"),
        ("AND a", 0, "AND needs a search term before it"),
        ("a OR OR b", 5, "found OR"),
        ("a AND OR b", 6, "found OR"),
        ("(a OR) b", 5, 'found ")"'),
        ("()", 1, "empty parentheses"),
        ("-", 0, 'right after "-"'),
        ("a - b", 2, 'right after "-"'),
        ("@", 1, 'expected an attribute name after "@"'),
        ("@ x", 1, 'expected an attribute name after "@"'),
        ("@:x", 1, 'expected an attribute name after "@"'),
        ("@evt.name", 9, 'expected ":" and a value after "@evt.name"'),
        ("@evt.name:", 10, 'expected a value after "@evt.name:"'),
        ("@evt.name: Request", 10, 'expected a value after "@evt.name:"'),
        ("is_mcp_call:", 12, 'expected a value after "is_mcp_call:"'),
        ("@evt.name:)", 10, "expected a value"),
        (":x", 0, 'expected an attribute name before ":"'),
        ("@evt.*:x", 0, "wildcards are not supported in attribute names"),
        ("@evt..name:x", 0, "empty segment"),
        ("@action:()", 9, "empty parentheses"),
        ("@action:(created OR", 19, "expected a search term after OR"),
        ("@action:(created OR deleted", 27, 'expected ")" to close the "(" at column 9'),
        ("@action:(-)", 9, 'right after "-"'),
        ("@action:(OR x)", 9, "OR needs a value before it"),
        ("@http.status_code:[1 TO]", 23, 'expected an upper bound after "TO"'),
        ("@http.status_code:[1 2]", 21, 'expected "TO"'),
        ("@http.status_code:[]", 19, "expected a lower bound"),
        ("@http.status_code:[1 TO 2", 25, "close the range opened at column 19"),
        ("@http.status_code:[1 TO 5*]", 24, "wildcards are not allowed"),
        ("@http.status_code:>", 19, 'expected a value after ">"'),
        ("@http.status_code:>= 4", 20, 'expected a value after ">="'),
        ("@http.status_code:>*", 19, "needs a value"),
        ("a \\", 2, 'nothing to escape after "\\"'),
        ("(" * 100 + "a" + ")" * 100, 65, "nested too deeply"),
        ("NOT " * 100 + "a", 260, "nested too deeply"),
    ],
)
def test_syntax_errors_point_at_the_problem(query: str, position: int, fragment: str):
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    err = info.value
    assert (err.position, err.query) == (position, query)
    assert fragment in str(err)
    assert str(err).startswith(f"query error at column {position + 1}: ")
    assert "\n" not in str(err)


def test_error_caret_lines_up_and_stays_two_lines():
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("@action:(created OR")
    err = info.value
    assert str(err) == "query error at column 20: expected a search term after OR"
    assert err.caret() == "@action:(created OR\n" + " " * 19 + "^"
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("a\n\t(b")
    assert info.value.caret() == "a  (b\n     ^"
    assert "\n" not in str(info.value)


def test_query_error_is_a_value_error():
    assert issubclass(QuerySyntaxError, ValueError)


_SYNTAX_CHARS = st.sampled_from(
    ['@', ':', '(', ')', '"', '\\', '*', '?', '-', '[', ']', '{', '}', '<', '>', '=', ' ', '\t', '\n', 'a', 'Z', '0', '5',
     '.', ',', 'AND ', 'OR ', 'NOT ', ' TO ', '&&', '||', 'é', '\x00', '@evt.name', '@http.status_code', 'status',
     'is_mcp_call', '*:', 'true']
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_SYNTAX_CHARS, max_size=25).map("".join)))
def test_any_text_parses_or_raises_query_syntax_error(text: str):
    try:
        q = parse_query(text)
    except QuerySyntaxError as err:
        assert 0 <= err.position <= len(text)
        assert "\n" not in str(err)
        assert len(err.caret().split("\n")) == 2
        return
    q.filter(EVENTS[::7])  # evaluating never raises either


# -- speed -------------------------------------------------------------------------------------------------


def test_evaluating_200k_events_is_fast():
    events = (EVENTS * (200_000 // len(EVENTS) + 1))[:200_000]
    q = parse_query("@evt.name:Authentication @action:login")
    start = time.perf_counter()
    selected = q.filter(events)
    elapsed = time.perf_counter() - start
    assert {e.id for e in selected} == {"login-ok", "login-fail"}
    assert elapsed < 1.0, f"{elapsed:.2f}s"
