"""`token_leaked`: Datadog itself reported the key as leaked (a Security Notification, or the API Keys
endpoint's leak fields). Critical: the key should be revoked whatever else the lookup finds."""

from __future__ import annotations

from typing import Any

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.key_context import KeyContext, ts
from ddaudit_tui.analysis.signals import Flag, Severity

TOKEN_LEAKED = "token_leaked"


def detect(ctx: KeyContext) -> list[Flag]:
    notes, api_key = ctx.notifications, ctx.api_key
    if notes:
        n = notes[0]
        src = f", source: {n.leak_source}" if n.leak_source else ""
        more = f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""
        reason = f"Datadog Security Notification on {ts(n.ts)}: this key was leaked{src}{more}; it should be revoked"
        details: dict[str, Any] = {"notifications": len(notes)}
        if n.url:
            details["url"] = n.url
        if api_key is not None and api_key.leaked:
            details["api_leak_date"] = api_key.leak_date
        return [
            Flag(
                TOKEN_LEAKED, Severity.CRITICAL, reason, tuple(x.event_id for x in notes), ctx.key_id, details
            )
        ]
    if api_key is not None and api_key.leaked:
        when = f" on {api_key.leak_date}" if api_key.leak_date else ""
        src = f" (source: {api_key.leak_source})" if api_key.leak_source else ""
        reason = f"the API Keys endpoint reports this key as leaked{when}{src}; it should be revoked"
        return [
            Flag(TOKEN_LEAKED, Severity.CRITICAL, reason, (), ctx.key_id, {"source": "API Keys endpoint"})
        ]
    return []


DETECTION = Detection(
    name=TOKEN_LEAKED,
    title="Datadog reported the key as leaked",
    analysis="key",
    severity="critical, always",
    reference="detections.md §6.3 A1 (Security Notification, leaked key); API Keys endpoint leak fields",
    detect=detect,
    rank=10,
)
