"""`ai_first_time_user`: a person used AI for the first time in the baseline period."""

from __future__ import annotations

from collections import defaultdict

from ddaudit_tui.analysis.ai_calls import DAY_MS, AiCall
from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext, ai_param
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.timeutil import fmt_ts, iso

AI_FIRST_TIME_USER = "ai_first_time_user"


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "First-time user invoking AI tools" (H2: new value on usr, §7.2)."""
    baseline, cfg = ctx.baseline, ctx.cfg
    if baseline is None or not baseline.known:
        return []
    days = max(1, baseline.period.duration_ms // DAY_MS)
    flags = []
    by_user: dict[str, list[AiCall]] = defaultdict(list)
    for c in ctx.calls:
        if c.human not in ("(system)", "(unknown)"):
            by_user[c.human.lower()].append(c)
    for key, cs in by_user.items():
        if baseline.had_ai(key) is not False:
            continue
        user = cs[0].human
        history = baseline.scope_of(key)
        known = "" if history is None else f" (they had {history.events} events of their own in that period)"
        n = sum(1 for c in cs if c.counted)
        flags.append(
            Flag(
                signal=AI_FIRST_TIME_USER,
                severity=Severity.LOW,
                reason=(
                    f"{user} used AI for the first time in {days} days: first call {fmt_ts(cs[0].ts)}, "
                    f"{n} calls via {', '.join(sorted({c.client for c in cs}))}{known}"
                ),
                event_ids=tuple(c.id for c in cs[: cfg.anomaly_events]),
                subject=user,
                details={"user": user, "first_seen": iso(cs[0].ts), "calls": n, "baseline_days": days},
            )
        )
    return flags


DETECTION = Detection(
    name=AI_FIRST_TIME_USER,
    title="First-time user invoking AI tools",
    analysis="ai",
    severity="low, one flag per person; skipped without baseline data",
    reference="detections.md §4.3 (ai-activity recipe flags), §6.3 H2, §7.2",
    params=(
        ai_param(
            "baseline_days",
            "days",
            "history before the window that is the baseline (0: skip)",
            "ai --baseline",
        ),
    ),
    detect=detect,
    rank=30,
)
