"""PagerDuty Events v2 client against a loopback fake: payload schema, dedup, retries (429, 5xx,
network) with PagerDuty's backoff, no retry on 400, dry run, and the routing key never shown."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from ddaudit_tui.alerts.pagerduty import (
    DEFAULT_URL,
    EU_URL,
    DryRunPager,
    PagerDutyClient,
    build_resolve,
    build_trigger,
    enqueue_url,
    explorer_url,
    redacted,
    routing_key_from_env,
    summarize,
)
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import Alert, Rule, SpikeEngine
from ddaudit_tui.demo.fake_pagerduty import FakePagerDuty, validate_event
from ddaudit_tui.events.record import Event

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters, like a real integration key
M = 60_000
T0 = 1_785_000_000_000

ROLE = Rule(
    name="role_changes",
    query='@evt.name:"Access Management" @asset.type:role @action:modified',
    threshold=3,
    severity=Severity.HIGH,
    description="Burst of role grants",
)


def make_alert(actor: str = "dave@example.com", n: int = 4, rule: Rule = ROLE) -> Alert:
    eng = SpikeEngine([rule])
    events = [
        Event(
            id=f"id-{actor}-{i}",
            ts=T0 + i * M,
            raw=b"{}",
            evt_name="Access Management",
            asset_type="role",
            action="modified",
            asset_name=f"Admin {i}",
            asset_id=f"role-{i}",
            usr_email=actor,
        )
        for i in range(n)
    ]
    eng.ingest(events)
    [alert] = eng.alerts()
    return alert


class Sleeps:
    """An injected sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def pd():
    with FakePagerDuty() as fake:
        yield fake


def client(pd: FakePagerDuty, sleeps: Sleeps | None = None, **kw) -> PagerDutyClient:
    return PagerDutyClient(KEY, pd.url, sleep=sleeps or Sleeps(), jitter=False, **kw)


# -- payload ------------------------------------------------------------------------------------


def test_trigger_payload_schema():
    alert = make_alert()
    body = build_trigger(alert, ROLE, source="datadoghq.eu", site="datadoghq.eu")
    assert "routing_key" not in body  # the client adds it at the last moment
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == alert.dedup_key == f"ddaudit:role_changes:dave@example.com:{T0}"
    p = body["payload"]
    assert p["severity"] == "error"  # high → error
    assert p["source"] == "datadoghq.eu" and p["timestamp"].endswith("Z")
    assert "dave@example.com" in p["summary"] and "role modified ×4" in p["summary"]
    assert "ddaudit rule role_changes" in p["summary"] and "threshold ≥ 3 in 15m" in p["summary"]
    d = p["custom_details"]
    assert d["count"] == 4 and d["action_counts"] == {"role modified": 4}
    assert d["first_seen"] < d["last_seen"] and len(d["top_events"]) == 4
    assert d["top_events"][0] == {
        "timestamp": "2026-07-25T17:20:00.000Z", "id": "id-dave@example.com-0", "action": "role modified", "asset": "Admin 0",
    }  # fmt: skip
    assert d["label"] == "ddaudit rule (not a Datadog detection)"
    [link] = body["links"]
    url = urlsplit(link["href"])
    assert url.netloc == "app.datadoghq.eu" and url.path == "/audit-trail"
    q = parse_qs(url.query)
    assert q["query"] == [f'({ROLE.query}) @usr.email:"dave@example.com"']
    assert int(q["from_ts"][0]) < alert.first_seen and int(q["to_ts"][0]) > alert.last_seen
    assert validate_event({"routing_key": KEY, **body}) == []


@pytest.mark.parametrize(
    ("severity", "expected"),
    [(Severity.INFO, "info"), (Severity.LOW, "info"), (Severity.MEDIUM, "warning"), (Severity.HIGH, "error"),
     (Severity.CRITICAL, "critical")],
)  # fmt: skip
def test_severity_mapping(severity, expected):
    rule = Rule(name="r", query=ROLE.query, threshold=3, severity=severity)
    assert build_trigger(make_alert(rule=rule), rule)["payload"]["severity"] == expected


def test_summary_is_bounded_and_clean():
    alert = make_alert(actor="x" * 3000 + "\x1b[31m@evil", n=3)
    for i in range(40):
        alert.actions[f"{'y' * 100}{i} deleted"] = 1
    text = summarize(alert, ROLE)
    assert len(text) <= 1024 and "\x1b" not in text
    body = build_trigger(alert, ROLE)
    assert len(body["dedup_key"]) <= 255
    assert validate_event({"routing_key": KEY, **body}) == []


def test_distinct_summary_and_unknown_site_link():
    rule = Rule(name="bulk", query="@action:modified", threshold=3, distinct="asset.id")
    alert = make_alert(rule=rule)
    assert "4 distinct asset.id" in summarize(alert, rule)
    assert build_trigger(alert, rule)["payload"]["custom_details"]["distinct_count"] == 4
    assert explorer_url("*", 1, 2, "not-a-site").startswith("https://app.datadoghq.com/audit-trail?")


def test_urls():
    assert enqueue_url(None) == DEFAULT_URL
    assert enqueue_url("https://events.eu.pagerduty.com") == EU_URL
    assert enqueue_url("https://events.eu.pagerduty.com/v2/") == EU_URL
    assert enqueue_url("http://127.0.0.1:9/custom/path") == "http://127.0.0.1:9/custom/path"
    with pytest.raises(ValueError, match="invalid PagerDuty URL"):
        enqueue_url("events.pagerduty.com")


def test_routing_key_from_env():
    assert routing_key_from_env({"PAGERDUTY_ROUTING_KEY": " k2 "}) == "k2"
    assert (
        routing_key_from_env({"DDAUDIT_PAGERDUTY_ROUTING_KEY": "k1", "PAGERDUTY_ROUTING_KEY": "k2"}) == "k1"
    )
    assert routing_key_from_env({}) is None


# -- sending ------------------------------------------------------------------------------------


async def test_trigger_is_accepted_and_dedup_coalesces(pd):
    c = client(pd)
    alert = make_alert()
    first = await c.trigger(alert, ROLE)
    again = await c.send(build_trigger(alert, ROLE))
    await c.aclose()
    assert first.ok and first.status == 202 and first.attempts == 1 and first.dedup_key == alert.dedup_key
    assert again.ok
    assert pd.opened == 1 and pd.incidents[alert.dedup_key]["triggers"] == 2  # one incident
    assert pd.requests[0]["routing_key"] == KEY  # the key travels in the body, and only there


async def test_429_then_success_backs_off_like_pagerduty(pd):
    sleeps = Sleeps()
    c = client(pd, sleeps)
    pd.fail_next(429, 500, 503)
    result = await c.trigger(make_alert(), ROLE)
    await c.aclose()
    assert result.ok and result.attempts == 4
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert pd.statuses == [429, 500, 503, 202] and pd.triggers == 1


async def test_backoff_is_capped_at_30s_and_bounded(pd):
    sleeps = Sleeps()
    c = client(pd, sleeps, max_retries=7)
    pd.fail_next(*[500] * 20)
    result = await c.trigger(make_alert(), ROLE)
    await c.aclose()
    assert not result.ok and result.retryable and result.status == 500
    assert result.attempts == 8 and len(pd.requests) == 8
    assert sleeps.delays == [1, 2, 4, 8, 16, 30, 30]


async def test_400_is_never_retried(pd):
    sleeps = Sleeps()
    bad = PagerDutyClient("short-key", pd.url, sleep=sleeps)
    result = await bad.trigger(make_alert(), ROLE)
    await bad.aclose()
    assert not result.ok and result.status == 400 and not result.retryable
    assert result.attempts == 1 and len(pd.requests) == 1 and sleeps.delays == []
    assert "routing_key" in result.message and "short-key" not in result.message


async def test_network_errors_are_retried_then_reported():
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    c = PagerDutyClient(KEY, f"http://127.0.0.1:{port}", sleep=sleeps, max_retries=3, jitter=False)
    result = await c.trigger(make_alert(), ROLE)
    await c.aclose()
    assert not result.ok and result.retryable and result.status is None
    assert result.attempts == 4 and sleeps.delays == [1, 2, 4]
    assert result.message.startswith("network error")


async def test_resolve(pd):
    c = client(pd)
    alert = make_alert()
    await c.trigger(alert, ROLE)
    result = await c.resolve(alert.dedup_key)
    await c.aclose()
    assert result.ok and pd.incidents[alert.dedup_key]["status"] == "resolved"
    assert pd.accepted("resolve") == [{"routing_key": KEY, **build_resolve(alert.dedup_key)}]


async def test_dry_run_never_sends_and_redacts():
    shown = []
    dry = DryRunPager(shown.append, routing_key_set=True)
    result = await dry.send(build_trigger(make_alert(), ROLE))
    assert result.ok and result.dry_run
    assert shown[0]["routing_key"] == "****" and shown == dry.sent
    assert redacted({"routing_key": KEY, "x": 1}) == {"routing_key": "****", "x": 1}
    assert json.dumps(redacted({"routing_key": KEY}, routing_key_set=False)).find(KEY) == -1


def test_routing_key_never_in_repr():
    c = PagerDutyClient(KEY)
    assert KEY not in repr(c) and KEY not in str(c.__dict__.get("url"))
    with pytest.raises(ValueError):
        PagerDutyClient("  ")


def test_fake_validates_like_pagerduty():
    good = {"routing_key": KEY, **build_trigger(make_alert(), ROLE)}
    assert validate_event(good) == []
    assert validate_event({**good, "event_action": "page"})
    assert validate_event({"routing_key": KEY, "event_action": "resolve"})  # needs a dedup_key
    broken = {**good, "payload": {**good["payload"], "severity": "high", "summary": "x" * 1025}}
    errors = validate_event(broken)
    assert any("severity" in e for e in errors) and any("1024" in e for e in errors)
