"""`ai_new_client`: an AI client (OAuth / MCP client) not seen in the baseline period."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.ai_calls import DAY_MS, AiCall
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext, ai_param
from ddaudit_tui.analysis.signals import Flag, Severity

AI_NEW_CLIENT = "ai_new_client"


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "First-time user invoking AI tools", for clients (H2: new value on the OAuth client)."""
    baseline, cfg = ctx.baseline, ctx.cfg
    if baseline is None or not baseline.known:
        return []
    days = max(1, baseline.period.duration_ms // DAY_MS)
    flags = []
    by_client: dict[str, list[AiCall]] = defaultdict(list)
    for c in ctx.calls:
        if c.client != "(unknown)" and (c.event.oauth_client or c.event.mcp_client):
            by_client[c.client.lower()].append(c)
    for key, cs in by_client.items():
        if baseline.client_seen(key) is not False:
            continue
        client = cs[0].client
        users = sorted({c.human for c in cs})
        flags.append(
            Flag(
                signal=AI_NEW_CLIENT,
                severity=Severity.LOW,
                reason=(
                    f"AI client {client} first seen in {days} days: {len(cs)} events by "
                    f"{', '.join(users[:5])}{' …' if len(users) > 5 else ''}"
                ),
                event_ids=tuple(c.id for c in cs[: cfg.anomaly_events]),
                subject=client,
                details={"client": client, "users": users},
            )
        )
    return flags


DETECTION = Detection(
    name=AI_NEW_CLIENT,
    title="New AI client (OAuth / MCP client first seen)",
    analysis="ai",
    severity="low, one flag per client; skipped without baseline data",
    reference="detections.md §6.3 H2 (new OAuth client), §7.2",
    params=(
        ai_param(
            "baseline_days",
            "days",
            "history before the window that is the baseline (0: skip)",
            "ai --baseline",
        ),
    ),
    detect=detect,
    rank=40,
)
