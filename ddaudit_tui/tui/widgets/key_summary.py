"""The Key lookup summary card: verdict, key, creation, active period, totals, flag counts.

Laid out as "chips" that flow onto as few lines as the width allows (80×24 and half a tmux window
alike), each line cut with `…` rather than wrapped mid-word. The verdict has a glyph and a word as
well as a colour, so it reads the same under NO_COLOR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from ddaudit_tui.analysis.keys import (
    VERDICT_COMPROMISED,
    VERDICT_NONE,
    VERDICT_SUSPICIOUS,
    KeyReport,
    severity_counts,
)
from ddaudit_tui.timeutil import fmt_ts, human_duration
from ddaudit_tui.tui.safe_text import clean


@dataclass(frozen=True)
class VerdictLook:
    glyph: str
    word: str
    style: str


VERDICT_LOOKS: dict[str, VerdictLook] = {
    VERDICT_COMPROMISED: VerdictLook("✖", "LIKELY COMPROMISED", "bold reverse red"),
    VERDICT_SUSPICIOUS: VerdictLook("▲", "SUSPICIOUS", "bold reverse yellow"),
    VERDICT_NONE: VerdictLook("✓", "NO EVIDENCE", "bold green"),
}


def verdict_text(verdict: str) -> Text:
    look = VERDICT_LOOKS.get(verdict) or VerdictLook("?", clean(verdict).upper(), "bold")
    return Text(f" {look.glyph} {look.word} ", style=look.style, no_wrap=True, end="")


@dataclass(frozen=True)
class Revocation:
    """A revocation done from this pane (the audit trail will only show it after ingestion)."""

    at_ms: int
    source_label: str


def _t(value: object, max_len: int | None = None) -> str:
    return clean(value, max_len=max_len) if value is not None else ""


def flow(groups: list[list[Text]], width: int, sep: str = " · ", one_line: bool = False) -> list[Text]:
    """Lay out each group of chips on as few lines as `width` allows (`one_line`: exactly one line per
    group); a line wider than `width` is cut with `…`. Every group starts on a new line."""
    lines: list[Text] = []
    width = max(8, width)
    for chips in groups:
        line: Text | None = None
        for chip in chips:
            if not chip.plain:
                continue
            fits = line is not None and cell_len(line.plain) + cell_len(sep) + cell_len(chip.plain) <= width
            if line is not None and (fits or one_line):
                line.append(sep, style="dim")
                line.append_text(chip)
                continue
            if line is not None:
                lines.append(line)
            # A fresh line: the chip's own style must stay on the chip, not become the line's base style.
            line = Text(end="")
            line.append_text(chip)
        if line is not None:
            lines.append(line)
    for line in lines:
        line.no_wrap = True
        line.end = ""
        line.truncate(width, overflow="ellipsis")
    return lines


def summary_groups(
    report: KeyReport, local: bool, revocation: Revocation | None = None, compact: bool = False
) -> list[list[Text]]:
    """The card's content as groups of chips, most important first within each group. `compact`
    (short terminals) drops seconds and the "why" line."""
    seconds = not compact
    r = report
    head = [verdict_text(r.verdict), Text(f"key {r.key_id}", style="bold")]
    k = r.api_key
    if k is not None and k.name:
        head.append(Text(f'"{_t(k.name, 60)}"'))
    if k is not None and k.last4:
        head.append(Text(f"secret …{_t(k.last4, 4)}", style="dim"))
    if revocation is not None:
        head.append(
            Text(
                f"✖ REVOKED from this pane {fmt_ts(revocation.at_ms, local)}",
                style="bold reverse",
            )
        )
    elif r.revoked is not None:
        c = r.revoked
        by = f" by {_t(c.actor, 60)}" if c.actor else ""
        head.append(Text(f"✖ REVOKED {fmt_ts(c.ts, local)}{by}", style="bold reverse"))

    totals: list[Text] = []
    n = r.total_events
    totals.append(Text(f"{n:,} event{'s' if n != 1 else ''}", style="bold"))
    d = len(r.destructive)
    totals.append(Text(f"{d} deletion{'s' if d != 1 else ''}", style="bold red" if d else ""))
    totals.append(Text(f"{len(r.origins)} countr{'y' if len(r.origins) == 1 else 'ies'}"))
    nets = sum(len(o.networks) for o in r.origins)
    totals.append(Text(f"{nets} network{'s' if nets != 1 else ''}"))
    if r.first_seen is not None and r.last_seen is not None:
        span = human_duration(r.last_seen - r.first_seen)
        first, last = fmt_ts(r.first_seen, local, seconds), fmt_ts(r.last_seen, local, seconds)
        totals.append(Text(f"active {first} → {last} ({span})"))
    else:
        totals.append(Text("no activity in the window", style="bold"))

    created: list[Text] = []
    c = r.created
    if c is None:
        created.append(Text("created: unknown (no creation event, no API key metadata)", style="dim"))
    else:
        when = fmt_ts(c.created_at, local, seconds) if c.created_at is not None else "unknown time"
        created.append(Text(f"created {when} by {_t(c.created_by or 'unknown user', 80)}"))
        where = ", ".join(x for x in (_t(c.creator_ip), _t(c.creator_country)) if x)
        if where:
            created.append(Text(f"from {where}"))
        if c.source != "audit trail":
            created.append(Text(f"per the {_t(c.source)}", style="dim"))

    flags: list[Text] = []
    counts = [(s, n) for s, n in severity_counts(r.flags).items() if n]
    flags.append(
        Text("flags: " + ", ".join(f"{n} {s}" for s, n in counts)) if counts else Text("flags: none")
    )
    if k is not None:
        api = "API key: found"
        if k.last_used_ms is not None:
            api += f", last used {fmt_ts(k.last_used_ms, local, seconds)}"
        if k.leaked:
            api += ", LEAKED" + (f" ({_t(k.leak_source, 40)})" if k.leak_source else "")
        flags.append(Text(api, style="bold red" if k.leaked else ""))
    else:
        flags.append(Text(f"API key: {_t(r.api_key_status, 80)}", style="dim"))

    groups = [head, totals, created, flags]
    if not compact and r.verdict_reasons:
        groups.append([Text("why: " + _t(r.verdict_reasons[0]), style="italic")])
    if r.warnings:
        more = f" (+{len(r.warnings) - 1} more)" if len(r.warnings) > 1 else ""
        groups.append([Text(f"⚠ {_t(r.warnings[0])}{more}", style="bold yellow")])
    return groups


class KeySummary(Widget):
    """The card. `report` None shows `placeholder` (what the pane is doing)."""

    DEFAULT_CSS = """
    KeySummary {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set()

    local_time: reactive[bool] = reactive(False)
    compact: reactive[bool] = reactive(False)  # short terminals: no "why" line

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.report: KeyReport | None = None
        self.revocation: Revocation | None = None
        self.placeholder: Text = Text("")

    def show(self, report: KeyReport | None, placeholder: Text | None = None) -> None:
        self.report = report
        if report is None:
            self.revocation = None
        if placeholder is not None:
            self.placeholder = placeholder
        self.refresh(layout=True)

    def set_revoked(self, revocation: Revocation) -> None:
        self.revocation = revocation
        self.refresh(layout=True)

    def watch_local_time(self) -> None:
        self.refresh(layout=True)

    def watch_compact(self) -> None:
        self.refresh(layout=True)

    def _lines(self, width: int) -> list[Text]:
        if self.report is None:
            return flow([[self.placeholder]], width)
        groups = summary_groups(self.report, self.local_time, self.revocation, compact=self.compact)
        # Short terminals: one line per group, so the tables below keep their rows.
        return flow(groups, width, one_line=self.compact)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._lines(width)))

    @property
    def plain(self) -> str:
        return "\n".join(t.plain for t in self._lines(self.content_size.width or 200))

    def render(self) -> Text:
        text = Text(end="", no_wrap=True)
        for i, line in enumerate(self._lines(self.content_size.width)):
            if i:
                text.append("\n")
            text.append_text(line)
        return text
