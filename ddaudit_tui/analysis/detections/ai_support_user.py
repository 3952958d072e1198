"""`ai_support_user`: Datadog support (a SUPPORT_USER actor) used AI in the org."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.ai_calls import AiCall, _lower
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext
from ddaudit_tui.analysis.signals import Flag, Severity

AI_SUPPORT_USER = "ai_support_user"


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "AI acting as SUPPORT_USER": Datadog support using AI in the org."""
    groups: dict[str, list[AiCall]] = defaultdict(list)
    for c in ctx.calls:
        if _lower(c.event.actor_type) == "support_user":
            groups[c.human.lower()].append(c)
    flags = []
    for cs in groups.values():
        user = cs[0].human
        tools = sorted({c.tool for c in cs if c.tool})
        n = sum(1 for c in cs if c.counted)
        flags.append(
            Flag(
                signal=AI_SUPPORT_USER,
                severity=Severity.HIGH,
                reason=(
                    f"Datadog support ({user}) used AI in the org as SUPPORT_USER: {n} calls"
                    + (f" ({', '.join(tools[:5])}{' …' if len(tools) > 5 else ''})" if tools else "")
                    + f" via {', '.join(sorted({c.client for c in cs}))}"
                ),
                event_ids=tuple(c.id for c in cs),
                subject=user,
                details={"user": user, "calls": n, "tools": tools},
            )
        )
    return flags


DETECTION = Detection(
    name=AI_SUPPORT_USER,
    title="AI acting as SUPPORT_USER (Datadog support)",
    analysis="ai",
    severity="high, one flag per support user",
    reference="detections.md §4.3 (ai-activity recipe flags), §6.3 C2",
    detect=detect,
    rank=20,
)
