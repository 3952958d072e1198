"""Flags of the AI analysis, most severe first, and the pane's summary counters.

A flag reads the same with and without colour: the severity's glyph and word (`! HIGH`, `◆ MEDIUM`,
`○ LOW`) lead every line, in the severity's style. The reason quotes event values (user names,
resource names): it is cleaned and never parsed as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ddaudit_tui.analysis import glossary as G
from ddaudit_tui.analysis.ai import AiActivity
from ddaudit_tui.analysis.signals import SEVERITY_STYLE, Flag, Severity
from ddaudit_tui.tui.marks import MARK_GLYPH, is_marked, mark_sets
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.item_list import ItemList, nav_bindings

_SEVERITY_WIDTH = max(cell_len(s.label) for s in Severity) + 1
_SIGNAL_WIDTH = 16


def severity_text(severity: Severity | None, count: int | None = None) -> Text:
    """`! HIGH` in the severity's style (or `—` for none); with `count`, `! 2 HIGH`."""
    if severity is None:
        return Text("—", style="dim", end="")
    label = severity.label if count is None else f"{severity.glyph} {count} {severity.name}"
    return Text(label, style=SEVERITY_STYLE[severity], end="")


def flag_counts_text(flags: Sequence[Flag]) -> Text:
    """`! 2 HIGH  ◆ 5 MEDIUM  ○ 3 LOW`, most severe first; `none` without flags."""
    counts = Counter(f.severity for f in flags)
    text = Text(end="")
    if not counts:
        text.append("none", style="dim")
        return text
    for i, sev in enumerate(sorted(counts, reverse=True)):
        if i:
            text.append(" ")
        text.append_text(severity_text(sev, counts[sev]))
    return text


def signal_name(flag: Flag) -> str:
    return flag.signal.removeprefix("ai_")


def flag_text(flag: Flag, width: int | None = None) -> Text:
    """One flag: severity, signal, reason. With `width`, one line cut to it; without, the full reason.
    Below 100 columns the signal is not padded into a column: the reason needs the room."""
    text = Text(no_wrap=width is not None, end="")
    sev = flag.severity.label
    text.append(sev + " " * max(1, _SEVERITY_WIDTH - cell_len(sev)), style=SEVERITY_STYLE[flag.severity])
    name = signal_name(flag)
    pad = _SIGNAL_WIDTH if width is None or width >= 100 else 0
    text.append(name + " " * max(1, pad - cell_len(name)), style="bold")
    text.append(clean(flag.reason))
    if width is not None:
        text.truncate(max(1, width), overflow="ellipsis")
    return text


def _with_mark(text: Text, marked: bool) -> Text:
    """The flag's line, led by the mark glyph when its events are marked in the case (issue 15)."""
    if not marked:
        return text
    out = Text(MARK_GLYPH + " ", style="bold", no_wrap=text.no_wrap, end="") + text
    return out


def plural(n: int, word: str) -> str:
    """`1 connection`, `2 connections`; abbreviations and participles stay as they are."""
    return word if n == 1 or word.endswith((".", "ed")) else word + "s"


def append_counts(text: Text, items: Sequence[tuple[int, str]]) -> None:
    """`12 AI calls · 1 connection · …`: numbers bold, separators dim."""
    for i, (value, word) in enumerate(items):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{value:,}", style="bold")
        text.append(f" {plural(value, word)}")


def counter_items(result: AiActivity, level: int = 0) -> list[tuple[int, str]]:
    """(value, glossary name) of the summary line. Names are never abbreviated (one name per quantity,
    `analysis.glossary`): narrower levels drop items instead — 1 the recipe's two figures, 2 also the
    delegated count."""
    s = result.summary
    n = result.counts
    items = [
        (n["ai_events"], G.AI_EVENTS),
        (n["calls"], G.AI_CALLS),
        (n["tool_calls"], G.TOOL_CALLS),
        (n["connections"], G.CONNECTIONS),
        (n["changes"], G.CHANGES),
        (n["delegated"], G.DELEGATED),
        (n["users"], G.USERS),
        (s["total_tool_calls"], G.MCP_SERVER_EVENTS),
        (s["unique_users"], G.MCP_USERS),
    ]
    if level >= 1:
        items = items[:-2]
    if level >= 2:
        items = [i for i in items if i[1] != G.DELEGATED]
    return items


def counters_text(result: AiActivity, level: int = 0) -> Text:
    """The summary line: ddaudit's counts, the recipe's totals, then the flags by severity. `level` 1
    and 2 show fewer items, for narrow terminals."""
    text = Text(end="")
    append_counts(text, [(v, singular(v, name)) for v, name in counter_items(result, level)])
    text.append(" · ", style="dim")
    if level < 2:
        text.append("flags ", style="bold")
    text.append_text(flag_counts_text(result.flags))
    return text


def singular(n: int, name: str) -> str:
    """The glossary name as `append_counts` wants it: singular (it adds the `s`), invariant words kept."""
    if name in (G.DELEGATED,):
        return name
    return name[:-1] if name.endswith("s") else name


class AiCounters(Static):
    """The counters line: the long wording when it fits the width, else the compact one (wrapped)."""

    DEFAULT_CSS = """
    AiCounters { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("loading…"), id=id)
        self._result: AiActivity | None = None

    def set_result(self, result: AiActivity | None, message: Text | None = None) -> None:
        self._result = result
        if result is None:
            self.update(message or Text(""))
        else:
            self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        if self._result is None:
            return
        self.tooltip = G.define(G.AI_GLOSSARY, [name for _v, name in counter_items(self._result)])
        width = max(1, self.size.width - 2)
        for level in range(3):
            text = counters_text(self._result, level)
            if cell_len(text.plain) <= width:
                break
        self.update(text)  # the shortest wording wraps when even it does not fit

    @property
    def plain(self) -> str:
        return str(self.render())


class AiFlagList(ItemList[Flag]):
    """Flags, one option each. `wrap=False`: one line per flag, cut to the width (the pane's overview);
    `wrap=True`: full reasons (the drill-down, where there are few)."""

    HELP_GROUP: ClassVar[str] = "Flags"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select",
            "Open flag",
            id="ai-flags.open",
            tooltip="Drill into the flagged user (or open the flagged events)",
        ),
        *nav_bindings("ai-flags", "flag"),
    ]

    DEFAULT_CSS = """
    AiFlagList {
        height: auto;
        max-height: 6;
        border: none;
        padding: 0 0 0 1;  /* lines up with the section titles and the tables' first column */
        background: $surface;
        scrollbar-size-vertical: 1;
        &:focus { border: none; background-tint: $foreground 4%; }
        & > .option-list--option { padding: 0; }
    }
    """

    class Chosen(Message):
        def __init__(self, flags: AiFlagList, flag: Flag) -> None:
            super().__init__()
            self.flags = flags
            self.flag = flag

        @property
        def control(self) -> AiFlagList:
            return self.flags

    def __init__(self, *, wrap: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.wrap = wrap
        self._flags: list[Flag] = []

    @property
    def flags(self) -> Sequence[Flag]:
        return self._flags

    @property
    def lines(self) -> list[str]:
        """The options as plain text (for tests and the tmux check)."""
        return [str(getattr(o.prompt, "plain", o.prompt)) for o in self.options]

    def set_flags(self, flags: Sequence[Flag]) -> None:
        self._flags = list(flags)
        self._rebuild()

    def fits_width(self) -> bool:
        return not self.wrap  # wrapped reasons fit any width

    def _rebuild(self) -> None:
        highlighted = self.highlighted
        width = None if self.wrap else max(12, (self.scrollable_content_region.width or 80) - 1)
        marked = mark_sets(self)
        entries: list[tuple[Option, Flag | None]] = [
            (Option(_with_mark(flag_text(f, width), is_marked(f, marked)), id=f"flag-{i}"), f)
            for i, f in enumerate(self._flags)
        ]
        self._show(entries or [(Option(Text("No flags.", style="dim"), id="none", disabled=True), None)])
        if self._flags:
            self.highlighted = min(highlighted or 0, len(self._flags) - 1)

    def refresh_marks(self) -> None:
        self._rebuild()

    def _chosen(self, item: Flag) -> Message:
        return self.Chosen(self, item)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()


def flag_user(flag: Flag) -> str | None:
    """The person a flag is about, when it is about one."""
    user: Any = flag.details.get("user")
    return user if isinstance(user, str) and user else None
