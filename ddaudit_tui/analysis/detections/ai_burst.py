"""`ai_burst`: one person made many AI calls in a short window (automated or batch AI use). The bursts
themselves are found once (`ai_model.find_bursts`): the timeline marks them too."""

from __future__ import annotations

from ddaudit_tui.analysis.detections import Detection
from ddaudit_tui.analysis.detections.ai_context import AiContext, ai_param
from ddaudit_tui.analysis.signals import Flag, Severity
from ddaudit_tui.timeutil import fmt_ts, human_duration, iso

AI_BURST = "ai_burst"


def detect(ctx: AiContext) -> list[Flag]:
    """The recipe's "High volume of tool calls in short window" (H3; automated / batch AI usage)."""
    cfg = ctx.cfg
    window = human_duration(cfg.burst_window_ms)
    return [
        Flag(
            signal=AI_BURST,
            severity=Severity.MEDIUM,
            reason=(
                f"{b.user} made {b.calls} AI calls between {fmt_ts(b.start)} and {fmt_ts(b.end)} "
                f"({b.peak} within {window}; threshold {cfg.burst_calls})"
            ),
            event_ids=b.event_ids,
            subject=b.user,
            details={
                "user": b.user,
                "start": iso(b.start),
                "end": iso(b.end),
                "calls": b.calls,
                "peak": b.peak,
            },
        )
        for b in ctx.bursts
    ]


DETECTION = Detection(
    name=AI_BURST,
    title="High volume of tool calls in short window",
    analysis="ai",
    severity="medium, one flag per burst (overlapping windows merge)",
    reference="detections.md §4.3 (ai-activity recipe flags), §6.3 H3, §7.1",
    params=(
        ai_param("burst_calls", "calls", "at least this many calls by one person …", "ai --burst-calls"),
        ai_param("burst_window_ms", "ms", "… within this sliding window", "ai --burst-window"),
    ),
    detect=detect,
    rank=50,
)
