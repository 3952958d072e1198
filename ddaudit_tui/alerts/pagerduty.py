"""PagerDuty Events API v2: trigger (and optionally resolve) an incident per spike-watch alert.

Reference: datadog-api.md §4. `POST {url}/v2/enqueue`, the routing key in the body, 202 on success.
Retries 429, 5xx and network errors with PagerDuty's own agent policy (2^n s, capped at 30 s, bounded);
never retries a 400 (the payload is wrong: sending it again cannot help) nor another 4xx.

The routing key is a secret: it lives only inside `PagerDutyClient` and is added to the body at the
moment of sending. Payloads built here never contain it; `redacted()` shows it as `****` for
`--dry-run`; error messages scrub it in case a proxy echoes the request back.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ddaudit_tui import __version__
from ddaudit_tui.analysis.signals import Severity
from ddaudit_tui.analysis.spikes import DEFAULT_WINDOW_MS, Alert, Rule
from ddaudit_tui.safetext import Redactor, clean
from ddaudit_tui.sources.sites import audit_trail_url
from ddaudit_tui.timeutil import fmt_ts, human_duration, iso

if TYPE_CHECKING:  # httpx is imported on use: the TUI imports this module before its first frame
    import httpx

__all__ = [
    "DEFAULT_URL",
    "EU_URL",
    "DryRunPager",
    "PageResult",
    "Pager",
    "PagerDutyClient",
    "build_resolve",
    "build_trigger",
    "enqueue_url",
    "explorer_url",
    "redacted",
    "routing_key_from_env",
]

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
EU_URL = "https://events.eu.pagerduty.com/v2/enqueue"
ROUTING_KEY_ENVS = ("DDAUDIT_PAGERDUTY_ROUTING_KEY", "PAGERDUTY_ROUTING_KEY")
URL_ENV = "DDAUDIT_PAGERDUTY_URL"
REDACTED = "****"

SUMMARY_MAX = 1024  # PagerDuty's limit for payload.summary
DEDUP_MAX = 255
MAX_BACKOFF_S = 30.0  # PD-AGENT defaultMaxInterval
DEFAULT_MAX_RETRIES = 8  # bounded: 1+2+4+8+16+30+30+30 s ≈ 2 min, then the poller retries next poll

# Rule severity → PagerDuty severity (critical | error | warning | info).
PD_SEVERITY = {
    Severity.INFO: "info",
    Severity.LOW: "info",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "error",
    Severity.CRITICAL: "critical",
}

Sleep = Callable[[float], Awaitable[None]]


def routing_key_from_env(env: dict[str, str] | None = None) -> str | None:
    import os

    env = dict(os.environ) if env is None else env
    for name in ROUTING_KEY_ENVS:
        if env.get(name, "").strip():
            return env[name].strip()
    return None


def enqueue_url(url: str | None) -> str:
    """The enqueue endpoint for `--pagerduty-url`: a full URL is kept; a bare host (the EU region,
    a test server) gets `/v2/enqueue`; `…/v2` gets `/enqueue`."""
    if not url:
        return DEFAULT_URL
    u = url.strip()
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"invalid PagerDuty URL {u!r}: expected e.g. {EU_URL}")
    path = parts.path.rstrip("/")
    if not path:
        return u.rstrip("/") + "/v2/enqueue"
    if path.endswith("/v2"):
        return u.rstrip("/") + "/enqueue"
    return u


def explorer_url(query: str, start_ms: int, end_ms: int, site: str | None = None) -> str:
    """A link to the Datadog Audit Trail explorer showing `query` over [start, end] on `site`."""
    return audit_trail_url(query, start_ms, end_ms, site)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alert_query(alert: Alert, rule: Rule | None) -> str:
    """The rule's query narrowed to the alert's group: what the explorer link opens."""
    base = rule.query if rule is not None else "*"
    if not alert.group_field:
        return base
    return f"({base}) @{alert.group_field}:{_quote(alert.group)}"


def summarize(alert: Alert, rule: Rule | None, window_ms: int = DEFAULT_WINDOW_MS) -> str:
    """≤ 1024 characters: the actor, the action counts and the window."""
    actor = clean(alert.group, max_len=200)
    if len(actor) > 200:
        actor = actor[:199] + "…"
    if alert.distinct_values:
        what = f"{alert.distinct_count} distinct {rule.distinct if rule and rule.distinct else 'values'}"
    else:
        what = f"{alert.count} event{'s' if alert.count != 1 else ''}"
    span = human_duration(max(alert.last_seen - alert.first_seen, 0)) if alert.count > 1 else "a single event"
    window = rule.threshold_text(window_ms) if rule else ""
    text = (
        f"[ddaudit rule {alert.rule}] {actor}: {what} ({clean(alert.actions_text())}) "
        f"from {fmt_ts(alert.first_seen)} to {fmt_ts(alert.last_seen)} ({span}; threshold {window})"
    )
    if len(text) > SUMMARY_MAX:
        text = text[: SUMMARY_MAX - 1] + "…"
    return text


def build_trigger(
    alert: Alert,
    rule: Rule | None,
    *,
    source: str = "ddaudit",
    site: str | None = None,
    window_ms: int = DEFAULT_WINDOW_MS,
) -> dict[str, Any]:
    """The Events v2 trigger body for an alert, WITHOUT the routing key (the client adds it)."""
    w = rule.window(window_ms) if rule else window_ms
    query = alert_query(alert, rule)
    link = explorer_url(query, alert.first_seen - w, alert.last_seen + w, site)
    top = [
        {
            "timestamp": iso(e.ts),
            "id": e.id,
            "action": e.what,
            **({"asset": clean(e.asset, max_len=200)} if e.asset else {}),
        }
        for e in alert.samples
    ]
    details: dict[str, Any] = {
        "label": "ddaudit rule (not a Datadog detection)",
        "rule": alert.rule,
        "description": rule.description if rule else "",
        "actor": alert.group,
        "group_by": alert.group_field or None,
        "count": alert.count,
        "action_counts": dict(sorted(alert.actions.items(), key=lambda kv: (-kv[1], kv[0]))),
        "first_seen": iso(alert.first_seen),
        "last_seen": iso(alert.last_seen),
        "burst_start": iso(alert.started),
        "threshold": rule.threshold_text(window_ms) if rule else None,
        "query": query,
        "top_events": top,
        "event_ids": alert.event_ids[:25],
        "source": source,
    }
    if alert.distinct_values:
        details["distinct_count"] = alert.distinct_count
    return {
        "event_action": "trigger",
        "dedup_key": alert.dedup_key[:DEDUP_MAX],
        "payload": {
            "summary": summarize(alert, rule, window_ms),
            "source": source,
            "severity": PD_SEVERITY[alert.severity],
            "timestamp": iso(alert.opened_at),
            "component": "datadog-audit-trail",
            "group": alert.rule,
            "class": "ddaudit rule",
            "custom_details": details,
        },
        "client": f"ddaudit {__version__}",
        "links": [
            {"href": link, "text": f"Datadog Audit Trail: {alert.rule} by {clean(alert.group, max_len=200)}"}
        ],
    }


def build_resolve(dedup_key: str) -> dict[str, Any]:
    return {"event_action": "resolve", "dedup_key": dedup_key[:DEDUP_MAX]}


def redacted(body: dict[str, Any], routing_key_set: bool = True) -> dict[str, Any]:
    """The body as `--dry-run` prints it: the routing key shown as `****` (or absent when none is set)."""
    out = {"routing_key": REDACTED if routing_key_set else "(not set)"}
    out.update({k: v for k, v in body.items() if k != "routing_key"})
    return out


@dataclass
class PageResult:
    ok: bool
    status: int | None = None  # HTTP status of the last attempt (None: network error / dry run)
    attempts: int = 0
    message: str = ""
    dedup_key: str | None = None
    retryable: bool = False  # False for a 400: sending it again cannot help
    dry_run: bool = False


class Pager(Protocol):
    """What the poller pages through: the real client or the dry run."""

    async def send(self, body: dict[str, Any]) -> PageResult: ...

    async def aclose(self) -> None: ...


class DryRunPager:
    """`--dry-run`: hands each payload (routing key redacted) to `emit` instead of sending it."""

    def __init__(
        self, emit: Callable[[dict[str, Any]], None] | None = None, routing_key_set: bool = False
    ) -> None:
        self.emit = emit
        self.routing_key_set = routing_key_set
        self.sent: list[dict[str, Any]] = []

    async def send(self, body: dict[str, Any]) -> PageResult:
        shown = redacted(body, self.routing_key_set)
        self.sent.append(shown)
        if self.emit is not None:
            self.emit(shown)
        return PageResult(ok=True, dry_run=True, dedup_key=body.get("dedup_key"), message="dry run")

    async def aclose(self) -> None:
        return None


class PagerDutyClient:
    """Sends Events v2 bodies with retries. Safe to share; one httpx client per instance."""

    def __init__(
        self,
        routing_key: str,
        url: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_backoff_s: float = MAX_BACKOFF_S,
        sleep: Sleep = asyncio.sleep,
        timeout_s: float = 10.0,
        proxy: str | None = None,
        verify: Any = True,
        jitter: bool = True,
    ) -> None:
        if not routing_key or not routing_key.strip():
            raise ValueError("empty PagerDuty routing key")
        self._routing_key = routing_key.strip()
        self.url = enqueue_url(url)
        self._redact = Redactor([routing_key, self._routing_key])
        self.max_retries = max_retries
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._jitter = jitter
        self._own_http = http is None
        import httpx

        self._http = http or httpx.AsyncClient(
            timeout=timeout_s,
            proxy=proxy,
            verify=verify,
            headers={"User-Agent": f"ddaudit/{__version__}"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show the key, even in a traceback's locals
        return f"PagerDutyClient(url={self.url!r}, routing_key={REDACTED!r})"

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    def _scrub(self, text: str) -> str:
        return self._redact.cut(text, 300)

    @property
    def fingerprint(self) -> str:
        """Which configuration sends (URL and routing key), as a hash that cannot give the key back:
        a page refused by one configuration is retried by another (`state.refusals`)."""
        import hashlib

        return hashlib.sha256(f"{self.url}\0{self._routing_key}".encode()).hexdigest()[:16]

    def backoff_s(self, attempt: int) -> float:
        """2^attempt seconds (1, 2, 4, …) capped at 30 s, as PagerDuty's agent does."""
        return min(float(2**attempt), self.max_backoff_s)

    async def send(self, body: dict[str, Any]) -> PageResult:
        payload = {"routing_key": self._routing_key, **{k: v for k, v in body.items() if k != "routing_key"}}
        dedup_key = body.get("dedup_key")
        import httpx

        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            try:
                response = await self._http.post(self.url, json=payload)
                status = response.status_code
            except httpx.HTTPError as exc:
                message = f"network error: {type(exc).__name__}"
                retryable = True
            else:
                if 200 <= status < 300:
                    return PageResult(
                        ok=True,
                        status=status,
                        attempts=attempt,
                        message="accepted",
                        dedup_key=_response_dedup(response) or dedup_key,
                    )
                message = f"{status} {_error_text(response)}"
                retryable = status == 429 or status >= 500
            if not retryable or attempt > self.max_retries:
                return PageResult(
                    ok=False,
                    status=status,
                    attempts=attempt,
                    message=self._scrub(message),
                    dedup_key=dedup_key,
                    retryable=retryable,
                )
            delay = self.backoff_s(attempt - 1)
            if self._jitter:
                delay = min(self.max_backoff_s, delay * (1 + random.random() * 0.1))
            await self._sleep(delay)

    async def trigger(self, alert: Alert, rule: Rule | None, **kwargs: Any) -> PageResult:
        return await self.send(build_trigger(alert, rule, **kwargs))

    async def resolve(self, dedup_key: str) -> PageResult:
        return await self.send(build_resolve(dedup_key))


def _response_dedup(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("dedup_key") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _error_text(response: httpx.Response) -> str:
    """PagerDuty's `{"status","message","errors":[…]}` in one line; tolerant of any other body."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(data, dict):
        return response.reason_phrase or "error"
    parts = [str(data.get("message") or data.get("status") or response.reason_phrase or "error")]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts.append("; ".join(str(e) for e in errors[:3]))
    return ": ".join(parts)
