"""Findings shared by every analysis: severities and flags.

A flag is plain data — a signal name, a severity, a one-line reason and the ids of the events that prove
it. Views and reports render flags; they never recompute them. Every severity has a word and a glyph as
well as a colour, so flags stay distinguishable with NO_COLOR and on monochrome terminals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from ddaudit_tui.outcome import OUTCOMES, STATIC_STYLES

T = TypeVar("T", bound=Hashable)


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def word(self) -> str:
        return self.name.lower()

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def label(self) -> str:
        """`‼ CRITICAL`, `! HIGH`, … — word and glyph, readable without colour."""
        return f"{self.glyph} {self.name}"

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.word for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


# Glyphs and styles come from the one outcome map (ddaudit_tui/outcome.py).
_GLYPHS = {s: OUTCOMES[s.name.lower()].glyph for s in Severity}

# Rich styles per severity for TUI code without a theme at hand (textual-dark's colours; every salient
# one has its own background, so it stays ≥ 4.5:1 on any row). Widgets that know the app use
# `outcome.rich_style(severity.word, app.theme_variables, no_color=app.no_color)`.
SEVERITY_STYLE = {s: STATIC_STYLES[s.name.lower()] for s in Severity}


@dataclass(frozen=True)
class Flag:
    """One anomaly: what, how bad, why (one line), and which events prove it."""

    signal: str  # stable machine name, e.g. "new_country", "impossible_travel"
    severity: Severity
    reason: str  # one line, human-readable, may quote event values (render it safely)
    event_ids: tuple[str, ...] = ()
    subject: str | None = None  # what the flag is about: a country, an IP, a user…
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "signal": self.signal,
            "severity": self.severity.word,
            "reason": self.reason,
            "event_ids": list(self.event_ids),
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.details:
            out["details"] = self.details
        return out


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Most severe first; stable within a severity."""
    return sorted(flags, key=lambda f: -int(f.severity))


def max_severity(flags: Iterable[Flag]) -> Severity | None:
    sev = [f.severity for f in flags]
    return max(sev) if sev else None


def top_counts(
    values: Iterable[T | None], n: int | None = None, missing: T | None = None
) -> list[tuple[T, int]]:
    """(value, count), most frequent first, ties by value for stable output; None → `missing` or dropped."""
    counts: Counter = Counter(v if v is not None else missing for v in values)
    counts.pop(None, None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return ranked if n is None else ranked[:n]


def group_by(items: Iterable[Any], key: Callable[[Any], Hashable]) -> dict[Hashable, list[Any]]:
    out: dict[Hashable, list[Any]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out
