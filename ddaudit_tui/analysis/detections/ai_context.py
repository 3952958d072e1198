"""What every AI detection reads: the window's attributed calls, the baseline from before it, the
resources changed through AI, the bursts and the parameters. `ai.analyze_calls` builds one `AiContext`
and hands it to each AI detection in rank order (flags of one severity keep that order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ddaudit_tui.analysis.ai_baseline import Baseline
from ddaudit_tui.analysis.ai_calls import AiCall
from ddaudit_tui.analysis.ai_model import AiConfig, Burst, ModifiedResource
from ddaudit_tui.analysis.detections import Param

_DEFAULTS = AiConfig()


@dataclass(frozen=True)
class AiContext:
    calls: Sequence[AiCall]  # oldest first
    baseline: Baseline | None
    cfg: AiConfig
    modified: Sequence[ModifiedResource]
    bursts: Sequence[Burst]


def ai_param(name: str, unit: str, description: str, config_key: str | None = None) -> Param:
    """An `AiConfig` field as a parameter; its default is read from the config itself."""
    return Param(name, getattr(_DEFAULTS, name), unit, config_key, description)


def baseline_known(ctx: AiContext) -> bool:
    """Whether the baseline period holds data (else first-time and scope checks are skipped, with a note)."""
    return ctx.baseline is not None and ctx.baseline.known
