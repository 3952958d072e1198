"""A fake PagerDuty Events API v2 on 127.0.0.1, for tests and demos: never a real page.

It validates bodies the way the real endpoint documents (datadog-api.md §4.2–4.3): a 32-character
`routing_key`, `event_action`, and for a trigger `payload.summary` (≤ 1024), `payload.source`,
`payload.severity` (critical | error | warning | info); `dedup_key` ≤ 255; answers 202 with
`{"status":"success","message":"Event processed","dedup_key":…}` or 400 with PagerDuty's error shape.
It keeps incidents by dedup key like PagerDuty does (a trigger on an open key coalesces; a resolve
closes it; a trigger after a resolve opens a new one).

Scripted faults: `fail_next(429, 500, …)` answers the next requests with those statuses first.
Runs in a thread (`ThreadingHTTPServer`), so it serves both async tests and the synchronous CLI.

    with FakePagerDuty() as pd:
        client = PagerDutyClient(ROUTING_KEY, pd.url)
        ...
        assert pd.triggers == 1
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakePagerDuty", "validate_event"]

_SEVERITIES = {"critical", "error", "warning", "info"}
_ACTIONS = {"trigger", "acknowledge", "resolve"}


def validate_event(body: Any) -> list[str]:
    """PagerDuty's documented checks, as error strings (empty when the event is valid)."""
    if not isinstance(body, dict):
        return ["Event object format is unrecognized"]
    errors: list[str] = []
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = body.get("event_action")
    if action not in _ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "'payload' is missing or not an object"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary:
            errors.append("'payload.summary' is missing or blank")
        elif len(summary) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload.get("source"):
            errors.append("'payload.source' is missing or blank")
        if payload.get("severity") not in _SEVERITIES:
            errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict | str):
            errors.append("'payload.custom_details' must be an object")
        for link in body.get("links") or []:
            if not isinstance(link, dict) or not isinstance(link.get("href"), str):
                errors.append("'links' items need an 'href'")
    return errors


class FakePagerDuty:
    """A loopback Events v2 endpoint. `url` is the base; the client appends `/v2/enqueue`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # every body received, valid or not, in order
        self.statuses: list[int] = []  # the status answered to each request
        self.incidents: dict[str, dict[str, Any]] = {}  # dedup_key -> {"status", "triggers", "opened"}
        self.opened = 0  # incidents opened (a coalesced trigger does not open one)
        # Routing keys PagerDuty does not know: every event sent with one is refused with a 400, as the
        # real Events API answers a wrong integration key.
        self.refused_routing_keys: set[str] = set()
        self._faults: deque[int] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakePagerDuty:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body = fake._handle(self.path, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # quiet tests

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-pagerduty", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePagerDuty:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting and inspection ------------------------------------------------------------------

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (e.g. 429, 500) before behaving normally."""
        with self._lock:
            self._faults.extend(statuses)

    @property
    def triggers(self) -> int:
        """Trigger events accepted (202)."""
        return sum(
            1
            for body, status in zip(self.requests, self.statuses, strict=True)
            if status == 202 and isinstance(body, dict) and body.get("event_action") == "trigger"
        )

    def accepted(self, action: str | None = None) -> list[dict[str, Any]]:
        return [
            body
            for body, status in zip(self.requests, self.statuses, strict=True)
            if status == 202 and (action is None or body.get("event_action") == action)
        ]

    # -- the endpoint ------------------------------------------------------------------------------

    def _handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = None
            self.requests.append(body if isinstance(body, dict) else {"_raw": raw.decode("utf-8", "replace")})
            if path.rstrip("/") != "/v2/enqueue":
                return self._answer(404, {"status": "Not found", "message": "Not found", "errors": [path]})
            if self._faults:
                status = self._faults.popleft()
                if status == 429:
                    return self._answer(
                        429,
                        {
                            "status": "throttle event",
                            "message": "Requests for this service are arriving too quickly",
                        },
                    )
                return self._answer(status, {"status": "error", "message": "Internal Server Error"})
            if body is None:
                return self._answer(
                    400,
                    {
                        "status": "Unrecognized object",
                        "message": "Event object format is unrecognized",
                        "errors": ["JSON parse error"],
                    },
                )
            if body.get("routing_key") in self.refused_routing_keys:
                return self._answer(
                    400,
                    {
                        "status": "invalid event",
                        "message": "Event object is invalid",
                        "errors": ["Invalid routing key"],
                    },
                )
            errors = validate_event(body)
            if errors:
                return self._answer(
                    400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
                )
            dedup = body.get("dedup_key") or f"generated-{len(self.requests)}"
            incident = self.incidents.get(dedup)
            if body["event_action"] == "trigger":
                if incident is None or incident["status"] == "resolved":
                    self.opened += 1
                    self.incidents[dedup] = {"status": "triggered", "triggers": 1, "opened": self.opened}
                else:
                    incident["triggers"] += 1  # coalesced into the open incident
            elif incident is not None and incident["status"] != "resolved":
                incident["status"] = "resolved" if body["event_action"] == "resolve" else "acknowledged"
            return self._answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})

    def _answer(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.statuses.append(status)
        return status, body
