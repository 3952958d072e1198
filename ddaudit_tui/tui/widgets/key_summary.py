"""The Key lookup summary card: verdict, LEAKED / REVOKED, key, creation, the why-line, totals, flags.

Laid out as "chips" that flow onto as few lines as the width allows (80×24 and half a tmux window
alike). The facts a responder acts on — the verdict, LEAKED, REVOKED, who created the key and why the
verdict — are never cut: they wrap, word by word. Only the secondary lines (totals, flag counts; their
numbers are in the sections below) are cut with `…` on short terminals. The verdict, LEAKED and REVOKED
are badges from the one outcome map (ddaudit_tui/outcome.py): glyph and word, readable without colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from ddaudit_tui.analysis.keys import KeyReport, severity_counts
from ddaudit_tui.outcome import STATIC_STYLES, look, rich_style
from ddaudit_tui.timeutil import fmt_ts, human_duration
from ddaudit_tui.tui.safe_text import clean

# outcome name → Rich style (the card's resolver knows the app's theme and NO_COLOR).
Styler = Callable[[str], str]


def _static(outcome: str) -> str:
    return STATIC_STYLES.get(outcome) or rich_style(outcome)


def verdict_text(verdict: str, styler: Styler = _static) -> Text:
    label = look(verdict).label if look(verdict).glyph != "?" else f"? {clean(verdict).upper()}"
    return Text(f" {label} ", style=styler(verdict), no_wrap=True, end="")


def badge(outcome: str, detail: str, styler: Styler) -> Text:
    """`✖ REVOKED` as a badge, then its plain detail."""
    text = Text(end="")
    text.append(look(outcome).label, style=styler(outcome))
    if detail:
        text.append(" " + detail)
    return text


@dataclass(frozen=True)
class Revocation:
    """A revocation done from this pane (the audit trail will only show it after ingestion)."""

    at_ms: int
    source_label: str


@dataclass
class Group:
    """Chips on as few lines as possible. `wrap`: never cut (a chip wider than the line wraps at its
    words); otherwise, when `tight`, the group is one line cut with `…`. When `tight`, the chips from
    index `must` on are extras: they follow on the last line if there is room, cut with `…` if not."""

    chips: list[Text]
    wrap: bool = True
    must: int | None = None


def _t(value: object, max_len: int | None = None) -> str:
    return clean(value, max_len=max_len) if value is not None else ""


def wrap_text(text: Text, width: int) -> list[Text]:
    """`text` broken at spaces into lines of at most `width` cells (a longer word is split)."""
    plain = text.plain
    offsets: list[int] = []
    line_start, last_space, col = 0, -1, 0
    i = 0
    while i < len(plain):
        ch = plain[i]
        if ch == " ":
            last_space = i
        col += cell_len(ch)
        if col > width:
            cut = last_space + 1 if last_space >= line_start and last_space + 1 > line_start else i
            if cut <= line_start:
                cut = i
            offsets.append(cut)
            line_start, last_space = cut, -1
            col = cell_len(plain[cut : i + 1])
        i += 1
    lines = text.divide(offsets) if offsets else [text.copy()]
    for line in lines:
        line.rstrip()
        line.end = ""
    return [line for line in lines if line.plain] or [Text(end="")]


def flow(groups: list[Group], width: int, sep: str = " · ", tight: bool = False) -> list[Text]:
    """Lay out each group's chips on as few lines as `width` allows; every group starts on a new line.
    Wrapping groups never lose a character; with `tight` the others are one line, cut with `…`."""
    lines: list[Text] = []
    width = max(8, width)
    for group in groups:
        one_line = tight and not group.wrap
        out: list[Text] = []
        line: Text | None = None
        for i, chip in enumerate(group.chips):
            if not chip.plain:
                continue
            extra = tight and group.must is not None and i >= group.must
            if line is not None:
                fits = cell_len(line.plain) + cell_len(sep) + cell_len(chip.plain) <= width
                if fits or one_line or extra:
                    line.append(sep, style="dim")
                    line.append_text(chip)
                    continue
                out.append(line)
            # A fresh line: the chip's own style must stay on the chip, not become the line's base style.
            pieces = [chip] if one_line or cell_len(chip.plain) <= width else wrap_text(chip, width)
            out.extend(Text(end="").append_text(p) for p in pieces[:-1])
            line = Text(end="")
            line.append_text(pieces[-1])
        if line is not None:
            out.append(line)
        lines.extend(out)
    for line in lines:
        line.no_wrap = True
        line.end = ""
        line.truncate(width, overflow="ellipsis")
    return lines


def summary_groups(
    report: KeyReport,
    local: bool,
    revocation: Revocation | None = None,
    compact: bool = False,
    styler: Styler = _static,
) -> list[Group]:
    """The card's content as groups of chips, most important first. `compact` (short terminals) drops
    seconds; the verdict, LEAKED, REVOKED, the creator and the why-line are always there in full."""
    seconds = not compact
    r = report
    k = r.api_key
    verdict = [verdict_text(r.verdict, styler)]
    if revocation is not None:
        verdict.append(badge("revoked", f"from this pane {fmt_ts(revocation.at_ms, local)}", styler))
    elif r.revoked is not None:
        c = r.revoked
        by = f" by {_t(c.actor, 60)}" if c.actor else ""
        verdict.append(badge("revoked", f"{fmt_ts(c.ts, local)}{by}", styler))
    if k is not None and k.leaked:
        leak = Text(end="")
        source = f" ({_t(k.leak_source, 40)})" if k.leak_source else ""
        leak.append(f"{look('leaked').label}{source}", style=styler("leaked"))
        verdict.append(leak)

    # Short terminals: the key id is in the input right above the card; its name follows the verdict.
    key: list[Text] = [] if compact else [Text(f"key {r.key_id}", style="bold")]
    if k is not None and k.name:
        key.append(Text(f'"{_t(k.name, 60)}"'))
    if k is not None and k.last4:
        key.append(Text(f"secret …{_t(k.last4, 4)}", style="dim"))

    totals: list[Text] = []
    n = r.total_events
    totals.append(Text(f"{n:,} event{'s' if n != 1 else ''}", style="bold"))
    d = len(r.destructive)
    totals.append(Text(f"{d} deletion{'s' if d != 1 else ''}", style="bold" if d else ""))
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
        flags.append(Text(api))
    else:
        flags.append(Text(f"API key: {_t(r.api_key_status, 80)}", style="dim"))

    # The key's id, name and secret follow the verdict when they fit (short terminals: or are cut).
    groups = [Group(verdict + key, must=len(verdict)), Group(created, must=1)]
    if r.verdict_reasons:
        groups.append(Group([Text("why: " + _t(r.verdict_reasons[0]), style="italic")]))
    groups += [Group(totals, wrap=False), Group(flags, wrap=False)]
    if r.warnings:
        more = f" (+{len(r.warnings) - 1} more)" if len(r.warnings) > 1 else ""
        groups.append(Group([Text(f"⚠ {_t(r.warnings[0])}{more}", style=styler("partial"))]))
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
    compact: reactive[bool] = reactive(False)  # short terminals: secondary lines cut, not wrapped

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

    def _styler(self) -> Styler:
        app = self.app
        bg = self.background_colors[1]
        return lambda outcome: rich_style(
            outcome, app.theme_variables, no_color=app.no_color, background=bg.hex6
        )

    def _lines(self, width: int) -> list[Text]:
        if self.report is None:
            return flow([Group([self.placeholder])], width)
        groups = summary_groups(
            self.report, self.local_time, self.revocation, compact=self.compact, styler=self._styler()
        )
        # Short terminals: the secondary groups keep one line each, so the tables below keep their rows.
        return flow(groups, width, tight=self.compact)

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
