"""The detection pack: one module per detection, each with its definition (`DETECTION`) and its code.

A `Detection` says what a signal means, how its severity is chosen, which parameters tune it (with their
defaults and units, and where a user changes them) and which part of `detections.md` it follows. The
registry finds every module of this package that defines `DETECTION` (or `DETECTIONS`), so adding a
detection is one new file (and its test under `tests/analysis/detections/`), named `ai_*` for AI activity,
`watch_*` for Spike watch, anything else for Key lookup: each analysis (`keys.py`, `ai.py`) imports only
its own pack and runs it in `rank` order. `ddaudit detections` lists them and
`docs/detections.md` is generated from the same records.

Pure data and pure functions: no I/O, no Textual.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddaudit_tui.analysis.signals import Flag

ANALYSES = ("key", "ai", "watch")
ANALYSIS_TITLES = {
    "key": "Key lookup (`ddaudit key`)",
    "ai": "AI activity (`ddaudit ai`)",
    "watch": "Spike watch (`ddaudit watch`)",
}

__all__ = ["ANALYSES", "ANALYSIS_TITLES", "Detection", "Param", "for_analysis", "get", "registry"]


@dataclass(frozen=True)
class Param:
    """One tunable parameter: its default, unit, and where a user changes it (None: fixed in code)."""

    name: str  # the field of the analysis config (`KeyAnalysisConfig`, `AiConfig`) or of a watch rule
    default: Any
    unit: str  # "s", "events", "days", "km", "km/h", "" (a plain number or a name)…
    config_key: str | None  # a config-file key and/or flag, e.g. "ai --burst-calls"; None: not tunable
    description: str


@dataclass(frozen=True)
class Detection:
    """One signal an analysis can raise (`Flag.signal == name`)."""

    name: str  # the stable machine name flags carry
    title: str  # what it means, shown next to the flag in reports
    analysis: str  # "key", "ai" or "watch"
    severity: str  # the severity rule, in words
    reference: str  # the part of detections.md (or the recipe) it follows
    params: tuple[Param, ...] = ()
    # The detection itself: the analysis's context in, flags out (None: the engine runs it, e.g. watch
    # rules, which `analysis/spikes.py` evaluates).
    detect: Callable[[Any], list[Flag]] | None = None
    # Flags of one severity are listed in this order across detections of the same analysis (most
    # telling first); the analysis also runs its detections in this order.
    rank: int = 100


def _collect(module: Any) -> list[Detection]:
    found = list(getattr(module, "DETECTIONS", ()))
    one = getattr(module, "DETECTION", None)
    if one is not None:
        found.append(one)
    return found


def _pack(module_name: str) -> str:
    """The analysis a module's detections belong to, by its name: `ai_*` AI activity, `watch_*` Spike
    watch, the rest Key lookup. An analysis imports only its own pack (Key lookup, the usual start pane,
    does not pay for the AI detections before the first frame); `_load` checks the convention."""
    for analysis in ANALYSES:
        if analysis != "key" and module_name.startswith(f"{analysis}_"):
            return analysis
    return "key"


@functools.cache
def _load(analysis: str) -> tuple[Detection, ...]:
    """The detections of one analysis's pack, in rank then name order."""
    found: list[Detection] = []
    for info in pkgutil.iter_modules(__path__):
        if _pack(info.name) != analysis:
            continue
        module_detections = _collect(importlib.import_module(f"{__name__}.{info.name}"))
        for d in module_detections:
            if d.analysis != analysis:
                raise RuntimeError(
                    f"detection {d.name} ({d.analysis}) is in the {analysis} pack: {info.name}"
                )
        found += module_detections
    return tuple(sorted(found, key=lambda d: (d.rank, d.name)))


@functools.cache
def registry() -> tuple[Detection, ...]:
    """Every detection of this package, by analysis (`ANALYSES` order), then rank, then name."""
    found = [d for analysis in ANALYSES for d in _load(analysis)]
    names = [d.name for d in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"detections defined twice: {', '.join(dupes)}")
    return tuple(found)


def for_analysis(analysis: str) -> tuple[Detection, ...]:
    """The detections one analysis runs, in rank order (only its own pack's modules are imported)."""
    return _load(analysis)


def get(name: str) -> Detection:
    for d in registry():
        if d.name == name:
            return d
    raise KeyError(name)
