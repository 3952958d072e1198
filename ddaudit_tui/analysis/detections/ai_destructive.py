"""`ai_destructive`: AI deleted or modified monitors or dashboards (the recipe's "AI performing deleted
actions on monitors or dashboards", read from actions, tool names and tool arguments)."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.ai_calls import DELETED, MODIFIED
from ddaudit_tui.analysis.ai_model import ModifiedResource
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext, ai_param
from ddaudit_tui.analysis.signals import Flag, Severity

AI_DESTRUCTIVE = "ai_destructive"


def _resource_label(m: ModifiedResource) -> str:
    parts = [m.resource_type or "resource"]
    if m.resource_id:
        parts.append(m.resource_id)
    if m.resource_name:
        parts.append(f"“{m.resource_name}”")
    return " ".join(parts)


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "AI performing deleted actions on monitors or dashboards", plus modifications
    (detections.md H1: by action and by destructive tool names), one flag per person and verb."""
    modified, cfg = ctx.modified, ctx.cfg
    groups: dict[tuple[str, str], list[ModifiedResource]] = defaultdict(list)
    for m in modified:
        if m.action in (DELETED, MODIFIED) and m.resource_type in cfg.destructive_types:
            groups[(m.user.lower(), m.action)].append(m)
    flags = []
    for (_key, verb), ms in groups.items():
        user = ms[0].user
        types = sorted({m.resource_type or "" for m in ms})
        tools = sorted({m.tool for m in ms if m.tool})
        clients = sorted({m.client for m in ms})
        # One label per distinct resource (a tool call and an agent action on the same monitor are two
        # events but one monitor).
        labels: dict[tuple[str | None, str | None], str] = {}
        for m in ms:
            key = (m.resource_type, m.resource_id or m.event_id)
            if key not in labels or m.resource_name:
                labels[key] = _resource_label(m)
        k = len(labels)
        what = "/".join(f"{t}s" if k > 1 else t for t in types)
        events = f" in {len(ms)} events" if len(ms) != k else ""
        how = f" with {', '.join(tools)}" if tools else ""
        delegated = " (an agent on their behalf)" if any(m.delegated for m in ms) else ""
        sample = ", ".join(list(labels.values())[:3]) + (" …" if k > 3 else "")
        flags.append(
            Flag(
                signal=AI_DESTRUCTIVE,
                severity=Severity.HIGH if verb == DELETED else Severity.MEDIUM,
                reason=(
                    f"{user} {verb} {k} {what} through AI{events}{delegated}{how} "
                    f"via {', '.join(clients)}: {sample}"
                ),
                event_ids=tuple(dict.fromkeys(m.event_id for m in ms)),
                subject=user,
                details={
                    "user": user,
                    "action": verb,
                    "resource_types": types,
                    "tools": tools,
                    "clients": clients,
                    "resources": [
                        {"type": m.resource_type, "id": m.resource_id, "name": m.resource_name} for m in ms
                    ],
                },
            )
        )
    return flags


DETECTION = Detection(
    name=AI_DESTRUCTIVE,
    title="AI deleted or modified monitors or dashboards",
    analysis="ai",
    severity="high for deletions, medium for modifications; one flag per person and verb",
    reference="detections.md §4.3 (ai-activity recipe flags), §6.3 H1",
    params=(ai_param("destructive_types", "resource types", "the resource types whose changes are flagged"),),
    detect=detect,
    rank=10,
)
