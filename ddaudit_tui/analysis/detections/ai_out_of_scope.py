"""`ai_out_of_scope`: AI touched resources outside the person's own (non-AI) scope (an over-permissioned
session)."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.ai_calls import AI_INTERNAL_TYPES, CHANGE_VERBS, DELETED, MODIFIED, AiCall
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext, ai_param
from ddaudit_tui.analysis.signals import Flag, Severity

AI_OUT_OF_SCOPE = "ai_out_of_scope"


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "AI accessing resources outside user's normal scope" (over-permissioned session).

    Scope = the resource families (and resources) the person touched themselves, not through AI, in
    the baseline period. A family outside it counts when AI changed something there, or when it is
    sensitive (identity, access, security); routine reads of telemetry (logs, metrics, traces) outside
    a person's usual screens are normal assistant use and are not flagged. Changes to a specific
    resource the person never touched, in a family they do work on, are a weaker (low) signal.
    People with no non-AI history are skipped (nothing to compare with; §7.2 "prior history").
    """
    baseline, cfg = ctx.baseline, ctx.cfg
    if baseline is None or not baseline.known:
        return []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    for c in ctx.calls:
        if c.resource_type and c.resource_type not in AI_INTERNAL_TYPES:
            by_user[c.human.lower()].append(c)
    flags = []
    for key, cs in by_user.items():
        scope = baseline.scope_of(key)
        if scope is None:
            continue
        user = cs[0].human
        outside = sorted(
            {
                c.resource_type
                for c in cs
                if c.resource_type not in scope.types
                and (c.verb in CHANGE_VERBS or c.resource_type in cfg.sensitive_types)
            }
        )
        evidence = [c for c in cs if c.resource_type in outside]
        new_resources = sorted(
            {
                (c.resource_type, rid)
                for c in cs
                if c.verb in (MODIFIED, DELETED) and c.resource_type in scope.types
                for rid in c.resource_ids
                if (c.resource_type, rid) not in scope.resources
            }
        )
        if not outside and not new_resources:
            continue
        evidence += [
            c
            for c in cs
            if c.verb in (MODIFIED, DELETED)
            and any((c.resource_type, r) in new_resources for r in c.resource_ids)
        ]
        evidence.sort(key=lambda c: (c.ts, c.id))
        usual = ", ".join(sorted(scope.types)) or "nothing"
        if outside:
            reason = (
                f"AI touched {', '.join(outside)} for {user}, outside their own (non-AI) scope in the "
                f"baseline period ({usual})"
            )
            if new_resources:
                reason += f"; and changed {len(new_resources)} resource(s) they never touched"
        else:
            reason = (
                f"AI changed {len(new_resources)} resource(s) for {user} that they never touched themselves "
                f"in the baseline period: " + ", ".join(f"{t} {r}" for t, r in new_resources[:3])
            )
        flags.append(
            Flag(
                signal=AI_OUT_OF_SCOPE,
                severity=Severity.MEDIUM if outside else Severity.LOW,
                reason=reason,
                event_ids=tuple(dict.fromkeys(c.id for c in evidence[: cfg.anomaly_events])),
                subject=user,
                details={
                    "user": user,
                    "outside_types": outside,
                    "scope_types": sorted(scope.types),
                    "new_resources": [{"type": t, "id": r} for t, r in new_resources],
                },
            )
        )
    return flags


DETECTION = Detection(
    name=AI_OUT_OF_SCOPE,
    title="AI accessing resources outside user's normal scope",
    analysis="ai",
    severity="medium when AI changed something in, or read a sensitive, resource family the person never "
    "touched themselves; low for changes to resources they never touched in families they work on",
    reference="detections.md §4.3 (ai-activity recipe flags), §7.2 (prior history)",
    params=(
        ai_param(
            "baseline_days",
            "days",
            "history before the window that is the baseline (0: skip)",
            "ai --baseline",
        ),
        ai_param(
            "sensitive_types", "resource types", "families where even a read outside the scope is flagged"
        ),
        ai_param("anomaly_events", "events", "sample event ids kept per flag"),
    ),
    detect=detect,
    rank=60,
)
